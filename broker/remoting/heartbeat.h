// HEART_BEAT (34) body: HeartbeatData JSON, as the Java client (fastjson) and ali-ons write it.
//
//   {"clientID":"10.0.0.5@1234",
//    "producerDataSet":[{"groupName":"PG"}],
//    "consumerDataSet":[{"groupName":"CG","consumeType":"CONSUME_PASSIVELY",
//                        "messageModel":"CLUSTERING","consumeFromWhere":"CONSUME_FROM_LAST_OFFSET",
//                        "unitMode":false,
//                        "subscriptionDataSet":[{"topic":"T","subString":"TagA || TagB",
//                            "tagsSet":["TagA","TagB"],"codeSet":[2598919,2598920],
//                            "subVersion":1700000000000,"expressionType":"TAG",
//                            "classFilterMode":false}]}]}
//
// Required: clientID, every groupName, every subscription topic. Defaults: messageModel CLUSTERING,
// consumeFromWhere CONSUME_FROM_LAST_OFFSET, subString "*", expressionType "TAG". Unknown
// messageModel / consumeFromWhere values are errors. The deprecated consumeFromWhere values
// (..._AND_FROM_MIN_WHEN_BOOT_FIRST, _MIN_OFFSET, _MAX_OFFSET) behave as LAST_OFFSET in the Java
// client and are mapped to it.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "broker/base/result.h"

namespace dledger::remoting {

enum class MessageModel { kClustering, kBroadcasting };
enum class ConsumeFromWhere { kLastOffset, kFirstOffset, kTimestamp };

std::string_view message_model_name(MessageModel model);
std::string_view consume_from_where_name(ConsumeFromWhere where);

struct SubscriptionData {
  std::string topic;
  std::string sub_string = "*";
  std::vector<std::string> tags_set;
  std::vector<int32_t> code_set;
  int64_t sub_version = 0;
  std::string expression_type = "TAG";
  bool class_filter_mode = false;

  bool operator==(const SubscriptionData&) const = default;
};

struct ConsumerData {
  std::string group_name;
  std::string consume_type = "CONSUME_PASSIVELY";  // or CONSUME_ACTIVELY (pull consumer)
  MessageModel message_model = MessageModel::kClustering;
  ConsumeFromWhere consume_from_where = ConsumeFromWhere::kLastOffset;
  bool unit_mode = false;
  std::vector<SubscriptionData> subscriptions;

  bool operator==(const ConsumerData&) const = default;
};

struct ProducerData {
  std::string group_name;
  bool operator==(const ProducerData&) const = default;
};

struct HeartbeatData {
  std::string client_id;
  std::vector<ProducerData> producers;
  std::vector<ConsumerData> consumers;

  bool operator==(const HeartbeatData&) const = default;
};

// Errors name the JSON path: "HeartbeatData: consumerDataSet[0].subscriptionDataSet[1].topic ...".
Result<HeartbeatData> parse_heartbeat_body(std::string_view body);
std::string write_heartbeat_body(const HeartbeatData& heartbeat);

// GET_CONSUMER_CONNECTION_LIST (203) reply body: the live clients of a consumer group (what
// `mqadmin consumerConnection` prints), as a RocketMQ 4.x broker writes it:
//   {"connectionSet":[{"clientAddr":"10.0.0.5:53211","clientId":"10.0.0.5@1234",
//                      "language":"JAVA","version":373}],
//    "consumeFromWhere":"CONSUME_FROM_LAST_OFFSET","consumeType":"CONSUME_PASSIVELY",
//    "messageModel":"CLUSTERING",
//    "subscriptionTable":{"T":{<SubscriptionData as in HeartbeatData>}}}
// The request header is consumerGroup (required); a group without live clients is answered
// CONSUMER_NOT_ONLINE (206).
struct ClientConnection {
  std::string client_id;
  std::string client_addr;  // "ip:port" the client connects from
  std::string language = "OTHER";
  int32_t version = 0;
  bool operator==(const ClientConnection&) const = default;
};

struct ConsumerConnection {
  std::vector<ClientConnection> connections;  // sorted by client id
  std::string consume_type = "CONSUME_PASSIVELY";
  MessageModel message_model = MessageModel::kClustering;
  ConsumeFromWhere consume_from_where = ConsumeFromWhere::kLastOffset;
  std::vector<SubscriptionData> subscriptions;  // subscriptionTable, by topic
  bool operator==(const ConsumerConnection&) const = default;
};

std::string write_consumer_connection(const ConsumerConnection& connection);
Result<ConsumerConnection> parse_consumer_connection(std::string_view body);

// GET_PRODUCER_CONNECTION_LIST (204) reply body: the clients of a producer group connected to
// the broker asked (`mqadmin producerConnection`), as a RocketMQ 4.x broker writes it:
//   {"connectionSet":[{"clientAddr":"10.0.0.5:53212","clientId":"10.0.0.5@1234",
//                      "language":"JAVA","version":373}]}
// The request header is producerGroup (required); a group with no client there is answered
// SYSTEM_ERROR "the producer group[<group>] not exist".
struct ProducerConnection {
  std::vector<ClientConnection> connections;  // sorted by client id
  bool operator==(const ProducerConnection&) const = default;
};

std::string write_producer_connection(const ProducerConnection& connection);
Result<ProducerConnection> parse_producer_connection(std::string_view body);

}  // namespace dledger::remoting
