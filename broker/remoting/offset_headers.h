// Request headers about queue offsets, and their one-field replies.
//
//   code  request                      fields (all required)                  reply ext field
//   14    QUERY_CONSUMER_OFFSET        consumerGroup, topic, queueId          offset (or 22)
//   15    UPDATE_CONSUMER_OFFSET       consumerGroup, topic, queueId,         -
//                                      commitOffset [-1, INT64_MAX]
//   30    GET_MAX_OFFSET               topic, queueId                         offset
//   31    GET_MIN_OFFSET               topic, queueId                         offset
//   32    GET_EARLIEST_MSG_STORETIME   topic, queueId                         timestamp
//   29    SEARCH_OFFSET_BY_TIMESTAMP   topic, queueId, timestamp [0, ...]     offset
//
// queueId is in [0, INT32_MAX]. Each parser refuses a command with another code.
#pragma once

#include <cstdint>
#include <string>

#include "broker/base/result.h"
#include "broker/remoting/remoting_command.h"

namespace dledger::remoting {

struct QueryConsumerOffsetRequest {
  std::string consumer_group;
  std::string topic;
  int32_t queue_id = 0;
};
Result<QueryConsumerOffsetRequest> parse_query_consumer_offset_request(const RemotingCommand& cmd);

struct UpdateConsumerOffsetRequest {
  std::string consumer_group;
  std::string topic;
  int32_t queue_id = 0;
  int64_t commit_offset = 0;
};
Result<UpdateConsumerOffsetRequest> parse_update_consumer_offset_request(
    const RemotingCommand& cmd);

// GET_MAX_OFFSET, GET_MIN_OFFSET and GET_EARLIEST_MSG_STORETIME share this header.
struct QueueRequest {
  std::string topic;
  int32_t queue_id = 0;
};
Result<QueueRequest> parse_queue_request(const RemotingCommand& cmd);

struct SearchOffsetRequest {
  std::string topic;
  int32_t queue_id = 0;
  int64_t timestamp_ms = 0;
};
Result<SearchOffsetRequest> parse_search_offset_request(const RemotingCommand& cmd);

// Reply writers: ext "offset" (codes 14, 29, 30, 31) and "timestamp" (code 32).
void write_offset_response(int64_t offset, RemotingCommand* cmd);
void write_timestamp_response(int64_t timestamp_ms, RemotingCommand* cmd);

}  // namespace dledger::remoting
