// SEND_MESSAGE (10, long field names), SEND_MESSAGE_V2 (310) and SEND_BATCH_MESSAGE (320, short
// names a..m) request headers, and the send reply header.
//
//   long name              short  required  range / default
//   producerGroup          a      yes
//   topic                  b      yes       1..127 bytes of [A-Za-z0-9%|_-]
//   defaultTopic           c      yes
//   defaultTopicQueueNums  d      yes       [0, INT32_MAX]
//   queueId                e      yes       [-1, INT32_MAX] (negative: the broker picks a queue)
//   sysFlag                f      yes       [0, INT32_MAX]
//   bornTimestamp          g      yes       [0, INT64_MAX] ms
//   flag                   h      yes       any int32
//   properties             i      no        "" ; at most 32767 bytes, decodable
//   reconsumeTimes         j      no        0 ; [0, INT32_MAX]
//   unitMode               k      no        false
//   maxReconsumeTimes      l      no        none ; [-1, INT32_MAX]
//   batch                  m      no        false (always true for code 320)
//
// Reply ext fields: msgId, queueId, queueOffset (all required by clients), optional transactionId.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "broker/base/result.h"
#include "broker/remoting/remoting_command.h"

namespace dledger::remoting {

struct SendMessageRequest {
  std::string producer_group;
  std::string topic;
  std::string default_topic;
  int32_t default_topic_queue_nums = 0;
  int32_t queue_id = 0;
  int32_t sys_flag = 0;
  int64_t born_timestamp_ms = 0;
  int32_t flag = 0;
  std::string properties;  // encoded (message_properties.h)
  int32_t reconsume_times = 0;
  bool unit_mode = false;
  std::optional<int32_t> max_reconsume_times;
  bool batch = false;

  bool operator==(const SendMessageRequest&) const = default;
};

// Parses the ext fields of a SEND_MESSAGE / SEND_MESSAGE_V2 / SEND_BATCH_MESSAGE request.
// Errors name the field and the value; a command with another code is refused.
Result<SendMessageRequest> parse_send_message_request(const RemotingCommand& cmd);

// Sets cmd->ext_fields from `request` using the long (code 10) or short (310/320) names of
// cmd->code. Used by clients and tests.
void write_send_message_request(const SendMessageRequest& request, RemotingCommand* cmd);

struct SendMessageResponse {
  std::string msg_id;  // offset msgId of the stored message
  int32_t queue_id = 0;
  int64_t queue_offset = 0;
  std::optional<std::string> transaction_id;
};

void write_send_message_response(const SendMessageResponse& response, RemotingCommand* cmd);
// Parses a reply's ext fields (for clients and tests). Errors name the missing/bad field.
Result<SendMessageResponse> parse_send_message_response(const RemotingCommand& cmd);

}  // namespace dledger::remoting
