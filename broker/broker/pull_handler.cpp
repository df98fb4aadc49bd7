// PULL_MESSAGE (11): served by every replica from its applied (committed) state.
//
// Subscription (which messages the consumer wants), as RocketMQ 4.x PullMessageProcessor:
//   sysFlag bit 4 set or `subscription` present  -> that expression (expressionType TAG)
//   otherwise the group's heartbeat subscription for the topic:
//     found, subVersion older than the pull's    -> SUBSCRIPTION_NOT_LATEST (25)
//     the group has live clients but none subscribed the topic
//                                                -> SUBSCRIPTION_NOT_EXIST (24)
//     the group never sent a heartbeat here      -> every message ("*"); RocketMQ answers 24,
//        we serve simple tools (dledgerctl, tests) that pull without heartbeat; Java and ali-ons
//        consumers filter by tag again on their side, so they never see a message they did not
//        subscribe to
//   an expression that does not parse             -> SUBSCRIPTION_PARSE_FAILED (23)
//   expressionType other than TAG (SQL92)         -> NO_PERMISSION (16)
//
// Reply:
//   FOUND (some message matched)        -> SUCCESS, body = stored records of the matching messages
//   messages read but none matched      -> PULL_RETRY_IMMEDIATELY (20), nextBeginOffset past them
//                                          (never held: the consumer must learn the new offset)
//   offset == max / empty / no queue    -> PULL_NOT_FOUND (19); held first when sysFlag has the
//                                          suspend bit (long-poll up to suspendTimeoutMillis)
//   offset < min or offset > max        -> PULL_OFFSET_MOVED (21) with nextBeginOffset
// Every reply of those four carries suggestWhichBrokerId (0), nextBeginOffset, minOffset and
// maxOffset; nextBeginOffset always moves past the messages the filter skipped. A filtered read
// looks at up to kMaxFilterScan queue entries (RocketMQ: 16000 bytes of consume queue = 800).
// With sysFlag bit 1 the leader also commits the consumer's commitOffset (fire and forget, as
// RocketMQ).
#include <spdlog/spdlog.h>

#include <variant>

#include "broker/broker/broker_handlers.h"
#include "broker/broker/broker_metrics.h"
#include "broker/broker/tag_filter.h"
#include "broker/remoting/codes.h"
#include "broker/remoting/pull_header.h"

namespace dledger::broker {

namespace resp = remoting::response_code;
using remoting::RemotingCommand;

namespace {

constexpr std::uint32_t kMaxFilterScan = 800;

struct PullError {
  std::int32_t code = 0;
  std::string remark;
};

// The filter the pull asks for, or the error reply (see the table above).
std::variant<TagFilter, PullError> resolve_filter(BrokerContext& context,
                                                  const remoting::PullMessageRequest& header) {
  if (header.has_subscription() || header.subscription) {
    auto parsed = TagFilter::parse(header.subscription.value_or("*"), header.expression_type);
    if (!parsed.ok()) {
      bool tag_type = header.expression_type.empty() || header.expression_type == "TAG";
      return PullError{tag_type ? resp::kSubscriptionParseFailed : resp::kNoPermission,
                       "subscription of group '" + header.consumer_group + "' to topic '" +
                           header.topic + "': " + parsed.error().message};
    }
    return std::move(parsed).value();
  }
  auto registered = context.consumers.subscription(header.consumer_group, header.topic);
  if (!registered) {
    if (context.consumers.consumers(header.consumer_group).empty()) return TagFilter();
    return PullError{resp::kSubscriptionNotExist,
                     "the consumer's subscription not exist: group '" + header.consumer_group +
                         "' has no subscription to topic '" + header.topic + "'"};
  }
  if (registered->sub_version < header.sub_version) {
    return PullError{resp::kSubscriptionNotLatest,
                     "the consumer's subscription not latest: group '" + header.consumer_group +
                         "' topic '" + header.topic + "' subVersion " +
                         std::to_string(registered->sub_version) + " < " +
                         std::to_string(header.sub_version)};
  }
  auto filter = TagFilter::from_subscription(*registered);
  if (!filter.ok()) {
    bool tag_type = registered->expression_type.empty() || registered->expression_type == "TAG";
    return PullError{tag_type ? resp::kSubscriptionParseFailed : resp::kNoPermission,
                     "subscription of group '" + header.consumer_group + "' to topic '" +
                         header.topic + "': " + filter.error().message};
  }
  return std::move(filter).value();
}

// Reads and answers; returns false (nothing answered) when the caller may suspend instead.
bool answer_pull(BrokerContext& context, const RemotingCommand& request,
                 const remoting::PullMessageRequest& header, const TagFilter& filter,
                 bool may_suspend, const frontend::Responder& respond) {
  const auto started = std::chrono::steady_clock::now();
  store::MessageFilter accept;
  if (!filter.matches_all()) {
    accept = [&filter](const store::StoredMessage& message) { return filter.matches(message); };
  }
  auto got = context.store->get_messages(header.topic, header.queue_id, header.queue_offset,
                                         static_cast<std::uint32_t>(header.max_msg_nums),
                                         context.max_pull_bytes, accept, kMaxFilterScan);
  if (!got.ok()) {
    respond(remoting::make_response(request, resp::kSystemError, got.error().to_string()));
    return true;
  }
  std::int32_t code = resp::kPullNotFound;
  switch (got->status) {
    case store::GetStatus::kFound:
      code = got->count > 0 ? resp::kSuccess : resp::kPullRetryImmediately;
      break;
    case store::GetStatus::kOffsetTooSmall:
    case store::GetStatus::kOffsetOverflowBadly:
      code = resp::kPullOffsetMoved;
      break;
    case store::GetStatus::kNoMessageInQueue:
    case store::GetStatus::kOffsetOverflowOne:
    case store::GetStatus::kNoMatchedLogicQueue:
      if (may_suspend) return false;
      code = resp::kPullNotFound;
      break;
  }
  RemotingCommand response = remoting::make_response(request, code);
  remoting::PullMessageResponse reply;
  reply.suggest_which_broker_id = 0;
  reply.next_begin_offset = got->next_begin_offset;
  reply.min_offset = got->min_offset;
  reply.max_offset = got->max_offset;
  remoting::write_pull_message_response(reply, &response);
  if (code == resp::kSuccess) response.body = std::move(got->records);
  if (context.metrics) {
    context.metrics->on_pull_done(header.topic, code == resp::kSuccess ? got->count : 0,
                                  response.body.size(), started);
  }
  respond(std::move(response));
  return true;
}

}  // namespace

frontend::Handler make_pull_handler(BrokerContext& context) {
  return [&context](const RemotingCommand& request, frontend::Connection&,
                    frontend::Responder respond) {
    auto header = remoting::parse_pull_message_request(request);
    if (!header.ok()) {
      respond(remoting::make_response(request, resp::kSystemError, header.error().message));
      return;
    }
    if (!context.store->topic(header->topic)) {
      respond(remoting::make_response(request, resp::kTopicNotExist,
                                      "topic '" + header->topic + "' does not exist on broker"));
      return;
    }
    auto resolved = resolve_filter(context, *header);
    if (auto* error = std::get_if<PullError>(&resolved)) {
      respond(remoting::make_response(request, error->code, error->remark));
      return;
    }
    TagFilter filter = std::get<TagFilter>(std::move(resolved));
    if (header->has_commit_offset() && header->commit_offset >= 0 && context.store->is_leader()) {
      context.store->commit_offset(header->consumer_group, header->topic, header->queue_id,
                                   header->commit_offset, [](Status) {});
    }
    bool suspend = header->suspend() && header->suspend_timeout_ms > 0;
    if (answer_pull(context, request, *header, filter, suspend, respond)) return;
    BrokerContext* ctx = &context;
    auto retry = [ctx, request, h = *header, filter, respond] {
      answer_pull(*ctx, request, h, filter, false, respond);
    };
    bool held =
        context.suspender->hold(header->topic, header->queue_id, header->queue_offset,
                                std::chrono::milliseconds(header->suspend_timeout_ms), retry);
    if (!held) retry();
  };
}

}  // namespace dledger::broker
