#include "broker/remoting/client_headers.h"

#include "broker/remoting/ext_fields.h"
#include "broker/remoting/int_limits.h"
#include "broker/remoting/json_util.h"

namespace dledger::remoting {

Result<UnregisterClientRequest> parse_unregister_client_request(const RemotingCommand& cmd) {
  if (Status s = expect_request_code(cmd, {request_code::kUnregisterClient}); !s.ok())
    return s.error();
  ExtFieldReader r(cmd);
  UnregisterClientRequest req;
  req.client_id = r.required_string("clientID");
  req.producer_group = r.optional_string("producerGroup");
  req.consumer_group = r.optional_string("consumerGroup");
  if (!r.ok()) return r.error();
  return req;
}

Result<GetConsumerListByGroupRequest> parse_get_consumer_list_by_group_request(
    const RemotingCommand& cmd) {
  if (Status s = expect_request_code(
          cmd, {request_code::kGetConsumerListByGroup, request_code::kGetConsumerConnectionList});
      !s.ok()) {
    return s.error();
  }
  ExtFieldReader r(cmd);
  GetConsumerListByGroupRequest req;
  req.consumer_group = r.required_string("consumerGroup");
  if (!r.ok()) return r.error();
  return req;
}

std::string write_consumer_list_body(const std::vector<std::string>& consumer_ids) {
  nlohmann::json body = nlohmann::json::object();
  body["consumerIdList"] = consumer_ids;
  return dump_json(body);
}

Result<ConsumerSendMsgBackRequest> parse_consumer_send_msg_back_request(
    const RemotingCommand& cmd) {
  if (Status s = expect_request_code(cmd, {request_code::kConsumerSendMsgBack}); !s.ok())
    return s.error();
  ExtFieldReader r(cmd);
  ConsumerSendMsgBackRequest req;
  req.offset = r.required_int("offset", 0, kI64Max);
  req.group = r.required_string("group");
  req.delay_level = r.required_int32("delayLevel", kI32Min, kI32Max);
  req.origin_msg_id = r.optional_string("originMsgId");
  req.origin_topic = r.optional_string("originTopic");
  req.unit_mode = r.optional_bool("unitMode", false);
  if (auto max = r.optional_int("maxReconsumeTimes", -1, kI32Max)) {
    req.max_reconsume_times = static_cast<int32_t>(*max);
  }
  if (!r.ok()) return r.error();
  return req;
}

Result<ViewMessageRequest> parse_view_message_request(const RemotingCommand& cmd) {
  if (Status s = expect_request_code(cmd, {request_code::kViewMessageById}); !s.ok())
    return s.error();
  ExtFieldReader r(cmd);
  ViewMessageRequest req;
  req.offset = r.required_int("offset", 0, kI64Max);
  if (!r.ok()) return r.error();
  return req;
}

Result<QueryMessageRequest> parse_query_message_request(const RemotingCommand& cmd) {
  if (Status s = expect_request_code(cmd, {request_code::kQueryMessage}); !s.ok()) return s.error();
  ExtFieldReader r(cmd);
  QueryMessageRequest req;
  req.topic = r.required_string("topic");
  req.key = r.required_string("key");
  req.max_num = r.required_int32("maxNum", 0, kI32Max);
  req.begin_ms = r.required_int("beginTimestamp", 0, kI64Max);
  req.end_ms = r.required_int("endTimestamp", 0, kI64Max);
  req.unique_key = r.optional_bool(kUniqueKeyQueryField, false);
  if (!r.ok()) return r.error();
  if (req.key.empty()) return make_error(ErrorCode::kInvalidArgument, "key: empty");
  return req;
}

RemotingCommand make_query_message_request(const QueryMessageRequest& request) {
  RemotingCommand cmd = make_request(request_code::kQueryMessage, 0);
  cmd.ext_fields["topic"] = request.topic;
  cmd.ext_fields["key"] = request.key;
  cmd.ext_fields["maxNum"] = std::to_string(request.max_num);
  cmd.ext_fields["beginTimestamp"] = std::to_string(request.begin_ms);
  cmd.ext_fields["endTimestamp"] = std::to_string(request.end_ms);
  if (request.unique_key) cmd.ext_fields[kUniqueKeyQueryField] = "true";
  return cmd;
}

void write_query_message_response(int64_t index_last_update_timestamp_ms,
                                  int64_t index_last_update_phyoffset, RemotingCommand* cmd) {
  cmd->ext_fields["indexLastUpdateTimestamp"] = std::to_string(index_last_update_timestamp_ms);
  cmd->ext_fields["indexLastUpdatePhyoffset"] = std::to_string(index_last_update_phyoffset);
}

Result<GetProducerConnectionListRequest> parse_get_producer_connection_list_request(
    const RemotingCommand& cmd) {
  if (Status s = expect_request_code(cmd, {request_code::kGetProducerConnectionList}); !s.ok())
    return s.error();
  ExtFieldReader r(cmd);
  GetProducerConnectionListRequest req;
  req.producer_group = r.required_string("producerGroup");
  if (!r.ok()) return r.error();
  return req;
}

Result<GetRouteInfoRequest> parse_get_route_info_request(const RemotingCommand& cmd) {
  if (Status s = expect_request_code(cmd, {request_code::kGetRouteinfoByTopic}); !s.ok())
    return s.error();
  ExtFieldReader r(cmd);
  GetRouteInfoRequest req;
  req.topic = r.required_string("topic");
  if (!r.ok()) return r.error();
  return req;
}

}  // namespace dledger::remoting
