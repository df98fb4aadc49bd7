// Name-server JSON bodies: TopicRouteData (reply of GET_ROUTEINFO_BY_TOPIC, 105) and ClusterInfo
// (reply of GET_BROKER_CLUSTER_INFO, 106).
//
//   TopicRouteData:
//   {"brokerDatas":[{"brokerAddrs":{"0":"10.0.0.1:10911","1":"10.0.0.2:10911"},
//                    "brokerName":"broker-a","cluster":"DefaultCluster"}],
//    "filterServerTable":{},
//    "queueDatas":[{"brokerName":"broker-a","perm":6,"readQueueNums":4,"topicSysFlag":0,
//                   "writeQueueNums":4}]}
//
//   ClusterInfo:
//   {"brokerAddrTable":{"broker-a":{"brokerAddrs":{"0":"..."},"brokerName":"broker-a",
//                                   "cluster":"DefaultCluster"}},
//    "clusterAddrTable":{"DefaultCluster":["broker-a"]}}
//
// brokerAddrs keys are brokerIds (0 = master) and are written quoted, which is standard JSON and
// accepted by Java clients and ali-ons. The parser also accepts old fastjson's unquoted integer
// keys
// ({0:"..."}).
#pragma once

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "broker/base/result.h"

namespace dledger::remoting {

namespace perm {
inline constexpr int32_t kInherit = 1;
inline constexpr int32_t kWrite = 2;
inline constexpr int32_t kRead = 4;
inline constexpr int32_t kReadWrite = kRead | kWrite;
}  // namespace perm

inline constexpr int64_t kMasterBrokerId = 0;

struct QueueData {
  std::string broker_name;
  int32_t read_queue_nums = 0;
  int32_t write_queue_nums = 0;
  int32_t perm = perm::kReadWrite;
  int32_t topic_sys_flag = 0;
  bool operator==(const QueueData&) const = default;
};

struct BrokerData {
  std::string cluster;
  std::string broker_name;
  std::map<int64_t, std::string> broker_addrs;  // brokerId -> "ip:port"
  bool operator==(const BrokerData&) const = default;
};

struct TopicRouteData {
  std::vector<QueueData> queue_datas;
  std::vector<BrokerData> broker_datas;
  bool operator==(const TopicRouteData&) const = default;
};

std::string write_topic_route_data(const TopicRouteData& route);
// Errors name the JSON path of the bad field.
Result<TopicRouteData> parse_topic_route_data(std::string_view body);

struct ClusterInfo {
  std::map<std::string, BrokerData> broker_addr_table;              // brokerName -> data
  std::map<std::string, std::set<std::string>> cluster_addr_table;  // cluster -> brokerNames
  bool operator==(const ClusterInfo&) const = default;
};

std::string write_cluster_info(const ClusterInfo& info);

}  // namespace dledger::remoting
