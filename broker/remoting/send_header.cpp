#include "broker/remoting/send_header.h"

#include "broker/remoting/ext_fields.h"
#include "broker/remoting/int_limits.h"
#include "broker/remoting/message_codec.h"
#include "broker/remoting/message_properties.h"

namespace dledger::remoting {

namespace {

struct SendFieldNames {
  const char* producer_group;
  const char* topic;
  const char* default_topic;
  const char* default_topic_queue_nums;
  const char* queue_id;
  const char* sys_flag;
  const char* born_timestamp;
  const char* flag;
  const char* properties;
  const char* reconsume_times;
  const char* unit_mode;
  const char* max_reconsume_times;
  const char* batch;
};

constexpr SendFieldNames kLongNames = {
    "producerGroup", "topic",          "defaultTopic",  "defaultTopicQueueNums",
    "queueId",       "sysFlag",        "bornTimestamp", "flag",
    "properties",    "reconsumeTimes", "unitMode",      "maxReconsumeTimes",
    "batch"};
constexpr SendFieldNames kShortNames = {"a", "b", "c", "d", "e", "f", "g",
                                        "h", "i", "j", "k", "l", "m"};

const SendFieldNames* names_for(int32_t code) {
  if (code == request_code::kSendMessage) return &kLongNames;
  if (code == request_code::kSendMessageV2 || code == request_code::kSendBatchMessage) {
    return &kShortNames;
  }
  return nullptr;
}

}  // namespace

Result<SendMessageRequest> parse_send_message_request(const RemotingCommand& cmd) {
  const SendFieldNames* n = names_for(cmd.code);
  if (n == nullptr) {
    return make_error(ErrorCode::kInvalidArgument,
                      "request code " + std::to_string(cmd.code) + " is not a send request");
  }
  const SendFieldNames& l = kLongNames;
  ExtFieldReader r(cmd);
  SendMessageRequest req;
  req.producer_group = r.required_string(n->producer_group, l.producer_group);
  req.topic = r.required_string(n->topic, l.topic);
  req.default_topic = r.required_string(n->default_topic, l.default_topic);
  req.default_topic_queue_nums =
      r.required_int32(n->default_topic_queue_nums, 0, kI32Max, l.default_topic_queue_nums);
  req.queue_id = r.required_int32(n->queue_id, -1, kI32Max, l.queue_id);
  req.sys_flag = r.required_int32(n->sys_flag, 0, kI32Max, l.sys_flag);
  req.born_timestamp_ms = r.required_int(n->born_timestamp, 0, kI64Max, l.born_timestamp);
  req.flag = r.required_int32(n->flag, kI32Min, kI32Max, l.flag);
  req.properties = r.optional_string(n->properties).value_or("");
  req.reconsume_times = static_cast<int32_t>(
      r.optional_int(n->reconsume_times, 0, kI32Max, l.reconsume_times).value_or(0));
  req.unit_mode = r.optional_bool(n->unit_mode, false, l.unit_mode);
  if (auto max = r.optional_int(n->max_reconsume_times, -1, kI32Max, l.max_reconsume_times)) {
    req.max_reconsume_times = static_cast<int32_t>(*max);
  }
  req.batch =
      r.optional_bool(n->batch, false, l.batch) || cmd.code == request_code::kSendBatchMessage;
  if (!r.ok()) return r.error();

  if (!validate_topic_name(req.topic).ok()) {
    // The field description is built only for the error (this runs for every message sent).
    std::string where = std::string(request_code_name(cmd.code)) + " (" + std::to_string(cmd.code) +
                        "): ext field '" + n->topic + "'";
    return validate_topic_name(req.topic, where).error();
  }
  if (req.properties.size() > kMaxPropertiesBytes) {
    return make_error(ErrorCode::kInvalidArgument,
                      std::string(request_code_name(cmd.code)) + ": ext field '" + n->properties +
                          "' (properties) has " + std::to_string(req.properties.size()) +
                          " bytes, more than " + std::to_string(kMaxPropertiesBytes));
  }
  auto props = decode_message_properties(req.properties);
  if (!props.ok()) {
    return make_error(ErrorCode::kInvalidArgument, std::string(request_code_name(cmd.code)) +
                                                       ": ext field '" + n->properties +
                                                       "' (properties): " + props.error().message);
  }
  return req;
}

void write_send_message_request(const SendMessageRequest& req, RemotingCommand* cmd) {
  const SendFieldNames* n = names_for(cmd->code);
  if (n == nullptr) n = &kShortNames;
  auto& f = cmd->ext_fields;
  f[n->producer_group] = req.producer_group;
  f[n->topic] = req.topic;
  f[n->default_topic] = req.default_topic;
  f[n->default_topic_queue_nums] = std::to_string(req.default_topic_queue_nums);
  f[n->queue_id] = std::to_string(req.queue_id);
  f[n->sys_flag] = std::to_string(req.sys_flag);
  f[n->born_timestamp] = std::to_string(req.born_timestamp_ms);
  f[n->flag] = std::to_string(req.flag);
  f[n->properties] = req.properties;
  f[n->reconsume_times] = std::to_string(req.reconsume_times);
  f[n->unit_mode] = req.unit_mode ? "true" : "false";
  if (req.max_reconsume_times) f[n->max_reconsume_times] = std::to_string(*req.max_reconsume_times);
  f[n->batch] = req.batch ? "true" : "false";
}

void write_send_message_response(const SendMessageResponse& response, RemotingCommand* cmd) {
  cmd->ext_fields["msgId"] = response.msg_id;
  cmd->ext_fields["queueId"] = std::to_string(response.queue_id);
  cmd->ext_fields["queueOffset"] = std::to_string(response.queue_offset);
  if (response.transaction_id) cmd->ext_fields["transactionId"] = *response.transaction_id;
}

Result<SendMessageResponse> parse_send_message_response(const RemotingCommand& cmd) {
  ExtFieldReader r(cmd);
  SendMessageResponse response;
  response.msg_id = r.required_string("msgId");
  response.queue_id = r.required_int32("queueId", 0, kI32Max);
  response.queue_offset = r.required_int("queueOffset", 0, kI64Max);
  response.transaction_id = r.optional_string("transactionId");
  if (!r.ok()) return r.error();
  return response;
}

}  // namespace dledger::remoting
