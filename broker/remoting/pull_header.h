// PULL_MESSAGE (11) request header and the pull reply header.
//
//   field                 required  range / default
//   consumerGroup         yes
//   topic                 yes
//   queueId               yes       [0, INT32_MAX]
//   queueOffset           yes       [0, INT64_MAX]
//   maxMsgNums            yes       [1, INT32_MAX]
//   sysFlag               yes       [0, INT32_MAX]; bits: 1 commitOffset, 2 suspend, 4
//   subscription,
//                                   8 class filter
//   commitOffset          yes       [-1, INT64_MAX]
//   suspendTimeoutMillis  yes       [0, INT64_MAX]
//   subscription          no        none (the Java push consumer omits it; use its heartbeat's)
//   subVersion            no        0 (Java always sends it; tolerated when absent)
//   expressionType        no        "TAG"
//
// Reply ext fields (all four required by clients): suggestWhichBrokerId, nextBeginOffset,
// minOffset, maxOffset. Body: stored message records back to back (message_codec.h).
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "broker/base/result.h"
#include "broker/remoting/remoting_command.h"

namespace dledger::remoting {

namespace pull_sys_flag {
inline constexpr int32_t kCommitOffset = 0x1;
inline constexpr int32_t kSuspend = 0x2;
inline constexpr int32_t kSubscription = 0x4;
inline constexpr int32_t kClassFilter = 0x8;
}  // namespace pull_sys_flag

struct PullMessageRequest {
  std::string consumer_group;
  std::string topic;
  int32_t queue_id = 0;
  int64_t queue_offset = 0;
  int32_t max_msg_nums = 0;
  int32_t sys_flag = 0;
  int64_t commit_offset = 0;
  int64_t suspend_timeout_ms = 0;
  std::optional<std::string> subscription;
  int64_t sub_version = 0;
  std::string expression_type = "TAG";

  bool has_commit_offset() const { return (sys_flag & pull_sys_flag::kCommitOffset) != 0; }
  bool suspend() const { return (sys_flag & pull_sys_flag::kSuspend) != 0; }
  bool has_subscription() const { return (sys_flag & pull_sys_flag::kSubscription) != 0; }
  bool class_filter() const { return (sys_flag & pull_sys_flag::kClassFilter) != 0; }

  bool operator==(const PullMessageRequest&) const = default;
};

Result<PullMessageRequest> parse_pull_message_request(const RemotingCommand& cmd);
void write_pull_message_request(const PullMessageRequest& request, RemotingCommand* cmd);

struct PullMessageResponse {
  int64_t suggest_which_broker_id = 0;
  int64_t next_begin_offset = 0;
  int64_t min_offset = 0;
  int64_t max_offset = 0;

  bool operator==(const PullMessageResponse&) const = default;
};

void write_pull_message_response(const PullMessageResponse& response, RemotingCommand* cmd);
Result<PullMessageResponse> parse_pull_message_response(const RemotingCommand& cmd);

}  // namespace dledger::remoting
