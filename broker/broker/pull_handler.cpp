// PULL_MESSAGE (11): served by every replica from its applied (committed) state.
//
//   FOUND                               -> SUCCESS, body = stored records
//   offset == max / empty / no queue    -> PULL_NOT_FOUND (19); held first when sysFlag has the
//                                          suspend bit (long-poll up to suspendTimeoutMillis)
//   offset < min or offset > max        -> PULL_OFFSET_MOVED (21) with nextBeginOffset
// Every reply carries suggestWhichBrokerId (0), nextBeginOffset, minOffset and maxOffset.
// With sysFlag bit 1 the leader also commits the consumer's commitOffset (fire and forget, as
// RocketMQ). Tag filtering is not applied: every message of the queue is returned.
#include <spdlog/spdlog.h>

#include "broker/broker/broker_handlers.h"
#include "broker/remoting/codes.h"
#include "broker/remoting/pull_header.h"

namespace dledger::broker {

namespace resp = remoting::response_code;
using remoting::RemotingCommand;

namespace {

// Reads and answers; returns false (nothing answered) when the caller may suspend instead.
bool answer_pull(BrokerContext& context, const RemotingCommand& request,
                 const remoting::PullMessageRequest& header, bool may_suspend,
                 const frontend::Responder& respond) {
  auto got = context.store->get_messages(header.topic, header.queue_id, header.queue_offset,
                                         static_cast<std::uint32_t>(header.max_msg_nums),
                                         context.max_pull_bytes);
  if (!got.ok()) {
    respond(remoting::make_response(request, resp::kSystemError, got.error().to_string()));
    return true;
  }
  std::int32_t code = resp::kPullNotFound;
  switch (got->status) {
    case store::GetStatus::kFound:
      code = resp::kSuccess;
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
    if (header->has_commit_offset() && header->commit_offset >= 0 && context.store->is_leader()) {
      context.store->commit_offset(header->consumer_group, header->topic, header->queue_id,
                                   header->commit_offset, [](Status) {});
    }
    bool suspend = header->suspend() && header->suspend_timeout_ms > 0;
    if (answer_pull(context, request, *header, suspend, respond)) return;
    BrokerContext* ctx = &context;
    auto retry = [ctx, request, h = *header, respond] {
      answer_pull(*ctx, request, h, false, respond);
    };
    bool held =
        context.suspender->hold(header->topic, header->queue_id, header->queue_offset,
                                std::chrono::milliseconds(header->suspend_timeout_ms), retry);
    if (!held) retry();
  };
}

}  // namespace dledger::broker
