// Request headers of client bookkeeping requests.
//
//   code  request                     fields
//   35    UNREGISTER_CLIENT           clientID (required), producerGroup, consumerGroup (optional)
//   38    GET_CONSUMER_LIST_BY_GROUP  consumerGroup (required); reply body {"consumerIdList":[...]}
//   203   GET_CONSUMER_CONNECTION_LIST  consumerGroup (required; the same header as 38); reply body
//                                     ConsumerConnection (heartbeat.h)
//   36    CONSUMER_SEND_MSG_BACK      offset [0, INT64_MAX] (commit log offset of the message),
//                                     group, delayLevel (any int32; 0 = broker decides by
//                                     reconsume times, < 0 = straight to the dead-letter queue)
//                                     required; originMsgId, originTopic, unitMode (false),
//                                     maxReconsumeTimes ([-1, INT32_MAX]) optional
//   105   GET_ROUTEINFO_BY_TOPIC      topic (required)
//   12    QUERY_MESSAGE               topic, key (non-empty), maxNum [0, INT32_MAX],
//                                     beginTimestamp, endTimestamp [0, INT64_MAX] required;
//                                     ext "_UNIQUE_KEY_QUERY" = "true" makes key a UNIQ_KEY
//                                     (the msgId a producer's SendResult reports) instead of one
//                                     of the KEYS; reply ext indexLastUpdateTimestamp,
//                                     indexLastUpdatePhyoffset, body = stored records
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "broker/base/result.h"
#include "broker/remoting/remoting_command.h"

namespace dledger::remoting {

struct UnregisterClientRequest {
  std::string client_id;
  std::optional<std::string> producer_group;
  std::optional<std::string> consumer_group;
};
Result<UnregisterClientRequest> parse_unregister_client_request(const RemotingCommand& cmd);

struct GetConsumerListByGroupRequest {
  std::string consumer_group;
};
Result<GetConsumerListByGroupRequest> parse_get_consumer_list_by_group_request(
    const RemotingCommand& cmd);
// {"consumerIdList":["id1","id2"]}
std::string write_consumer_list_body(const std::vector<std::string>& consumer_ids);

struct ConsumerSendMsgBackRequest {
  int64_t offset = 0;
  std::string group;
  int32_t delay_level = 0;
  std::optional<std::string> origin_msg_id;
  std::optional<std::string> origin_topic;
  bool unit_mode = false;
  std::optional<int32_t> max_reconsume_times;
};
Result<ConsumerSendMsgBackRequest> parse_consumer_send_msg_back_request(const RemotingCommand& cmd);

// VIEW_MESSAGE_BY_ID (33): the physical offset a message's offset msgId carries.
struct ViewMessageRequest {
  int64_t offset = 0;
};
Result<ViewMessageRequest> parse_view_message_request(const RemotingCommand& cmd);

// QUERY_MESSAGE (12): messages of `topic` stored in [begin_ms, end_ms] whose KEYS (space
// separated) include `key`, or, for a unique-key query, whose UNIQ_KEY is `key`.
struct QueryMessageRequest {
  std::string topic;
  std::string key;
  int32_t max_num = 0;
  int64_t begin_ms = 0;
  int64_t end_ms = 0;
  bool unique_key = false;
  bool operator==(const QueryMessageRequest&) const = default;
};
inline constexpr const char* kUniqueKeyQueryField = "_UNIQUE_KEY_QUERY";
Result<QueryMessageRequest> parse_query_message_request(const RemotingCommand& cmd);
RemotingCommand make_query_message_request(const QueryMessageRequest& request);
// The reply's two header fields (RocketMQ's index position; see the handler for their meaning).
void write_query_message_response(int64_t index_last_update_timestamp_ms,
                                  int64_t index_last_update_phyoffset, RemotingCommand* cmd);

// GET_PRODUCER_CONNECTION_LIST (204): producerGroup (required); reply body ProducerConnection
// (heartbeat.h).
struct GetProducerConnectionListRequest {
  std::string producer_group;
};
Result<GetProducerConnectionListRequest> parse_get_producer_connection_list_request(
    const RemotingCommand& cmd);

struct GetRouteInfoRequest {
  std::string topic;
};
Result<GetRouteInfoRequest> parse_get_route_info_request(const RemotingCommand& cmd);

}  // namespace dledger::remoting
