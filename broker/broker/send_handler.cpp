// SEND_MESSAGE (10), SEND_MESSAGE_V2 (310), SEND_BATCH_MESSAGE (320): validate the header, pick
// the queue, put through the store (leader only; replicated and applied before the reply), reply
// msgId / queueId / queueOffset. A batch gets the comma-separated msgIds of its messages.
#include <numeric>

#include "broker/broker/broker_handlers.h"
#include "broker/broker/broker_metrics.h"
#include "broker/remoting/codes.h"
#include "broker/remoting/message_codec.h"
#include "broker/remoting/send_header.h"

namespace dledger::broker {

namespace resp = remoting::response_code;
using remoting::RemotingCommand;

namespace {

// The producer's address: the connection's peer, or for a request a follower forwarded, the
// address of the producer's connection to that follower (leader_forwarder.h).
remoting::HostAddress born_host_of(const RemotingCommand& request,
                                   const frontend::Connection& conn) {
  std::string address = conn.remote_address();
  auto forwarded_for = request.ext_fields.find(kForwardedClientField);
  if (forwarded_for != request.ext_fields.end() &&
      request.ext_fields.contains(kForwardedFromField)) {
    address = forwarded_for->second;
  }
  auto parsed = remoting::HostAddress::parse(address);
  return parsed.ok() ? *parsed : remoting::HostAddress::ipv4(0, 0, 0, 0, 0);
}

}  // namespace

frontend::Handler make_send_handler(BrokerContext& context) {
  return [&context](const RemotingCommand& request, frontend::Connection& conn,
                    frontend::Responder respond) {
    auto header = remoting::parse_send_message_request(request);
    if (!header.ok()) {
      respond(remoting::make_response(request, resp::kMessageIllegal, header.error().message));
      return;
    }
    auto topic = context.store->topic(header->topic);
    if (!topic) {
      if (!context.store->is_leader()) {
        // A follower may not have applied the topic yet; the leader is the authority.
        Error not_leader = make_error(ErrorCode::kNotLeader, "not the leader");
        auto hint = context.store->leader_hint();
        not_leader.message = "leader is " + raft::node_name(hint.leader_id) +
                             (hint.leader_address.empty() ? "" : " at " + hint.leader_address);
        respond(
            remoting::make_response(request, resp::kServiceNotAvailable, remark_for(not_leader)));
        return;
      }
      respond(remoting::make_response(request, resp::kTopicNotExist,
                                      "topic '" + header->topic + "' does not exist on broker"));
      return;
    }
    std::int32_t queue_id = header->queue_id;
    if (topic->write_queue_nums <= 0) {
      respond(remoting::make_response(request, resp::kNoPermission,
                                      "topic '" + header->topic + "' has no write queues"));
      return;
    }
    if (queue_id < 0) {
      queue_id = static_cast<std::int32_t>(context.next_queue.fetch_add(1) %
                                           static_cast<std::uint32_t>(topic->write_queue_nums));
    } else {
      queue_id %= topic->write_queue_nums;
    }

    store::StoredMessage base;
    base.topic = header->topic;
    base.queue_id = queue_id;
    base.flag = header->flag;
    base.sys_flag = header->sys_flag & ~(remoting::message_sys_flag::kBornHostV6 |
                                         remoting::message_sys_flag::kStoreHostV6);
    base.born_timestamp_ms = header->born_timestamp_ms;
    base.born_host = born_host_of(request, conn);
    if (base.born_host.is_ipv6()) base.sys_flag |= remoting::message_sys_flag::kBornHostV6;
    base.reconsume_times = header->reconsume_times;

    BrokerContext* ctx = &context;
    // The reply needs the request's opaque, version and serialize type only (make_response): keep
    // an empty response, not a copy of the request with its body and header fields.
    auto done = [ctx, reply_template = remoting::make_response(request, resp::kSuccess),
                 body_bytes = request.body.size(), respond, topic_name = header->topic,
                 arrived = std::chrono::steady_clock::now()](
                    Result<store::PutResult> result) mutable {  // called once
      if (ctx->metrics) {
        ctx->metrics->on_send_done(
            topic_name, result.ok(),
            result.ok() ? std::max<std::size_t>(1, result->msg_ids.size()) : 0, body_bytes,
            arrived);
      }
      if (!result.ok()) {
        respond(remoting::make_response(reply_template, response_code_for(result.error()),
                                        remark_for(result.error())));
        return;
      }
      RemotingCommand response = std::move(reply_template);
      remoting::SendMessageResponse reply;
      if (result->msg_ids.size() > 1) {
        reply.msg_id = std::accumulate(
            std::next(result->msg_ids.begin()), result->msg_ids.end(), result->msg_ids.front(),
            [](std::string a, const std::string& b) { return std::move(a) + "," + b; });
      } else {
        reply.msg_id = std::move(result->msg_id);
      }
      reply.queue_id = result->queue_id;
      reply.queue_offset = result->queue_offset;
      remoting::write_send_message_response(reply, &response);
      respond(std::move(response));
      // Wakes the long-poll thread only when a pull is held: a wake-up per send would cost a
      // thread switch per message. A pull held just after this check is still served within the
      // suspender's check interval (5 ms), which it rechecks anyway.
      if (ctx->suspender->held() > 0) ctx->suspender->notify();
    };

    if (request.code == remoting::request_code::kSendBatchMessage || header->batch) {
      auto batch = remoting::decode_batch_body(request.body);
      if (!batch.ok()) {
        respond(remoting::make_response(request, resp::kMessageIllegal, batch.error().message));
        return;
      }
      std::vector<store::StoredMessage> messages;
      messages.reserve(batch->size());
      for (auto& item : *batch) {
        store::StoredMessage m = base;
        m.flag = item.flag;
        m.body = std::move(item.body);
        m.properties = std::move(item.properties);
        messages.push_back(std::move(m));
      }
      context.store->put_batch(std::move(messages), std::move(done));
      return;
    }
    base.properties = header->properties;
    base.body = request.body;
    context.store->put_message(std::move(base), std::move(done));
  };
}

}  // namespace dledger::broker
