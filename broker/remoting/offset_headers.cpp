#include "broker/remoting/offset_headers.h"

#include "broker/remoting/ext_fields.h"
#include "broker/remoting/int_limits.h"

namespace dledger::remoting {

Result<QueryConsumerOffsetRequest> parse_query_consumer_offset_request(const RemotingCommand& cmd) {
  if (Status s = expect_request_code(cmd, {request_code::kQueryConsumerOffset}); !s.ok())
    return s.error();
  ExtFieldReader r(cmd);
  QueryConsumerOffsetRequest req;
  req.consumer_group = r.required_string("consumerGroup");
  req.topic = r.required_string("topic");
  req.queue_id = r.required_int32("queueId", 0, kI32Max);
  if (!r.ok()) return r.error();
  return req;
}

Result<UpdateConsumerOffsetRequest> parse_update_consumer_offset_request(
    const RemotingCommand& cmd) {
  if (Status s = expect_request_code(cmd, {request_code::kUpdateConsumerOffset}); !s.ok()) {
    return s.error();
  }
  ExtFieldReader r(cmd);
  UpdateConsumerOffsetRequest req;
  req.consumer_group = r.required_string("consumerGroup");
  req.topic = r.required_string("topic");
  req.queue_id = r.required_int32("queueId", 0, kI32Max);
  req.commit_offset = r.required_int("commitOffset", -1, kI64Max);
  if (!r.ok()) return r.error();
  return req;
}

Result<QueueRequest> parse_queue_request(const RemotingCommand& cmd) {
  if (Status s = expect_request_code(cmd, {request_code::kGetMaxOffset, request_code::kGetMinOffset,
                                           request_code::kGetEarliestMsgStoretime});
      !s.ok()) {
    return s.error();
  }
  ExtFieldReader r(cmd);
  QueueRequest req;
  req.topic = r.required_string("topic");
  req.queue_id = r.required_int32("queueId", 0, kI32Max);
  if (!r.ok()) return r.error();
  return req;
}

Result<SearchOffsetRequest> parse_search_offset_request(const RemotingCommand& cmd) {
  if (Status s = expect_request_code(cmd, {request_code::kSearchOffsetByTimestamp}); !s.ok()) {
    return s.error();
  }
  ExtFieldReader r(cmd);
  SearchOffsetRequest req;
  req.topic = r.required_string("topic");
  req.queue_id = r.required_int32("queueId", 0, kI32Max);
  req.timestamp_ms = r.required_int("timestamp", 0, kI64Max);
  if (!r.ok()) return r.error();
  return req;
}

void write_offset_response(int64_t offset, RemotingCommand* cmd) {
  cmd->ext_fields["offset"] = std::to_string(offset);
}

void write_timestamp_response(int64_t timestamp_ms, RemotingCommand* cmd) {
  cmd->ext_fields["timestamp"] = std::to_string(timestamp_ms);
}

}  // namespace dledger::remoting
