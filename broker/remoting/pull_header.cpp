#include "broker/remoting/pull_header.h"

#include "broker/remoting/ext_fields.h"
#include "broker/remoting/int_limits.h"

namespace dledger::remoting {

Result<PullMessageRequest> parse_pull_message_request(const RemotingCommand& cmd) {
  if (cmd.code != request_code::kPullMessage) {
    return make_error(ErrorCode::kInvalidArgument,
                      "request code " + std::to_string(cmd.code) + " is not PULL_MESSAGE (11)");
  }
  ExtFieldReader r(cmd);
  PullMessageRequest req;
  req.consumer_group = r.required_string("consumerGroup");
  req.topic = r.required_string("topic");
  req.queue_id = r.required_int32("queueId", 0, kI32Max);
  req.queue_offset = r.required_int("queueOffset", 0, kI64Max);
  req.max_msg_nums = r.required_int32("maxMsgNums", 1, kI32Max);
  req.sys_flag = r.required_int32("sysFlag", 0, kI32Max);
  req.commit_offset = r.required_int("commitOffset", -1, kI64Max);
  req.suspend_timeout_ms = r.required_int("suspendTimeoutMillis", 0, kI64Max);
  req.subscription = r.optional_string("subscription");
  req.sub_version = r.optional_int("subVersion", kI64Min, kI64Max).value_or(0);
  if (auto type = r.optional_string("expressionType"); type && !type->empty()) {
    req.expression_type = *type;
  }
  if (!r.ok()) return r.error();
  return req;
}

void write_pull_message_request(const PullMessageRequest& req, RemotingCommand* cmd) {
  auto& f = cmd->ext_fields;
  f["consumerGroup"] = req.consumer_group;
  f["topic"] = req.topic;
  f["queueId"] = std::to_string(req.queue_id);
  f["queueOffset"] = std::to_string(req.queue_offset);
  f["maxMsgNums"] = std::to_string(req.max_msg_nums);
  f["sysFlag"] = std::to_string(req.sys_flag);
  f["commitOffset"] = std::to_string(req.commit_offset);
  f["suspendTimeoutMillis"] = std::to_string(req.suspend_timeout_ms);
  if (req.subscription) f["subscription"] = *req.subscription;
  f["subVersion"] = std::to_string(req.sub_version);
  f["expressionType"] = req.expression_type;
}

void write_pull_message_response(const PullMessageResponse& response, RemotingCommand* cmd) {
  auto& f = cmd->ext_fields;
  f["suggestWhichBrokerId"] = std::to_string(response.suggest_which_broker_id);
  f["nextBeginOffset"] = std::to_string(response.next_begin_offset);
  f["minOffset"] = std::to_string(response.min_offset);
  f["maxOffset"] = std::to_string(response.max_offset);
}

Result<PullMessageResponse> parse_pull_message_response(const RemotingCommand& cmd) {
  ExtFieldReader r(cmd);
  PullMessageResponse response;
  response.suggest_which_broker_id = r.required_int("suggestWhichBrokerId", 0, kI64Max);
  response.next_begin_offset = r.required_int("nextBeginOffset", 0, kI64Max);
  response.min_offset = r.required_int("minOffset", 0, kI64Max);
  response.max_offset = r.required_int("maxOffset", 0, kI64Max);
  if (!r.ok()) return r.error();
  return response;
}

}  // namespace dledger::remoting
