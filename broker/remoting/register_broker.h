// Broker <-> name server registration headers.
//
//   REGISTER_BROKER (103) ext fields: brokerName, brokerAddr, clusterName, haServerAddr (required,
//     haServerAddr may be empty), brokerId [0, INT64_MAX] (0 = master), compressed (false),
//     bodyCrc32 (0). Body: RegisterBrokerBody JSON (topic configs); only uncompressed bodies are
//     supported here.
//   UNREGISTER_BROKER (104) ext fields: brokerName, brokerAddr, clusterName, brokerId.
//   Reply of 103: ext haServerAddr, masterAddr (may be empty).
//
//   RegisterBrokerBody:
//   {"topicConfigSerializeWrapper":{"topicConfigTable":{"T":{"topicName":"T","readQueueNums":4,
//        "writeQueueNums":4,"perm":6,"topicFilterType":"SINGLE_TAG","topicSysFlag":0,
//        "order":false}},"dataVersion":{"timestamp":1700000000000,"counter":1}},
//    "filterServerList":[]}
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "broker/base/result.h"
#include "broker/remoting/remoting_command.h"

namespace dledger::remoting {

struct RegisterBrokerRequest {
  std::string broker_name;
  std::string broker_addr;
  std::string cluster_name;
  std::string ha_server_addr;
  int64_t broker_id = 0;
  bool compressed = false;
  int32_t body_crc32 = 0;
  bool operator==(const RegisterBrokerRequest&) const = default;
};
Result<RegisterBrokerRequest> parse_register_broker_request(const RemotingCommand& cmd);
void write_register_broker_request(const RegisterBrokerRequest& request, RemotingCommand* cmd);

struct UnregisterBrokerRequest {
  std::string broker_name;
  std::string broker_addr;
  std::string cluster_name;
  int64_t broker_id = 0;
};
Result<UnregisterBrokerRequest> parse_unregister_broker_request(const RemotingCommand& cmd);

struct RegisterBrokerResponse {
  std::string ha_server_addr;
  std::string master_addr;
};
void write_register_broker_response(const RegisterBrokerResponse& response, RemotingCommand* cmd);

struct TopicConfig {
  std::string topic_name;
  int32_t read_queue_nums = 16;
  int32_t write_queue_nums = 16;
  int32_t perm = 6;
  std::string topic_filter_type = "SINGLE_TAG";
  int32_t topic_sys_flag = 0;
  bool order = false;
  bool operator==(const TopicConfig&) const = default;
};

struct DataVersion {
  int64_t timestamp_ms = 0;
  int64_t counter = 0;
  bool operator==(const DataVersion&) const = default;
};

struct RegisterBrokerBody {
  std::map<std::string, TopicConfig> topic_config_table;
  DataVersion data_version;
  std::vector<std::string> filter_server_list;
  bool operator==(const RegisterBrokerBody&) const = default;
};

Result<RegisterBrokerBody> parse_register_broker_body(std::string_view body);
std::string write_register_broker_body(const RegisterBrokerBody& body);

}  // namespace dledger::remoting
