// HEART_BEAT (34), UNREGISTER_CLIENT (35), GET_CONSUMER_LIST_BY_GROUP (38): consumer-group
// membership, the same wherever a client connected. GET_PRODUCER_CONNECTION_LIST (204): the
// producer clients connected to this replica (each replica answers for its own connections).
//
// The leader's ConsumerRegistry is the group's membership. A follower records a heartbeat or an
// unregistration in its own registry too (its pulls use the subscriptions) and forwards it to the
// leader; when a client's connection to a follower closes, the follower sends the leader an
// UNREGISTER_CLIENT for each (group, client) it forgot. GET_CONSUMER_LIST_BY_GROUP is answered by
// the leader (forwarded, see leader_only in broker_handlers.cpp).
//
// As RocketMQ brokers do, the leader creates a consumer group's %RETRY%<group> topic (one queue,
// read-write) on the group's first heartbeat, so consumers find its route (they subscribe to it
// at start) before the first send-back. The heartbeat is answered once the creation is applied
// (without blocking the io thread: the answer comes from the store's thread), once per group; a
// failure is logged and retried on the next heartbeat (a send-back also creates it).
#include <spdlog/spdlog.h>

#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include "broker/broker/broker_handlers.h"
#include "broker/broker/retry_topic.h"
#include "broker/remoting/client_headers.h"
#include "broker/remoting/codes.h"
#include "broker/remoting/heartbeat.h"
#include "broker/store/store_command.h"

namespace dledger::broker {

namespace resp = remoting::response_code;
namespace rc = remoting::request_code;
using remoting::RemotingCommand;

namespace {

// A forwarded request reaching a follower is refused by maybe_forward; only what a client sent
// to this replica itself, or what reaches the leader, changes the local registry.
bool should_record(BrokerContext& context, const RemotingCommand& request) {
  return context.store->is_leader() || !request.ext_fields.contains(kForwardedFromField);
}

// Creates the retry topic of every group (those that lack one) and then sends `reply`: after
// the last creation is applied, or at once when none was needed. A failed creation is logged and
// does not fail the heartbeat.
void ensure_retry_topics_then_reply(BrokerContext& context, const std::vector<std::string>& groups,
                                    RemotingCommand reply, const frontend::Responder& respond) {
  auto remaining = std::make_shared<std::atomic<std::size_t>>(groups.size() + 1);
  auto reply_after_last = [remaining, reply = std::move(reply), respond] {
    if (remaining->fetch_sub(1) == 1) respond(reply);
  };
  for (const std::string& group : groups) {
    std::string topic = retry_topic_name(group);
    ensure_group_topic(*context.store, topic, [group, topic, reply_after_last](Status created) {
      if (!created.ok()) {
        spdlog::warn("heartbeat of group '{}': cannot create {}: {}", group, topic,
                     created.error().to_string());
      }
      reply_after_last();
    });
  }
  reply_after_last();  // the +1: no reply before every creation above was started
}

}  // namespace

frontend::Handler make_heartbeat_handler(BrokerContext& context) {
  return [&context](const RemotingCommand& request, frontend::Connection& conn,
                    frontend::Responder respond) {
    auto heartbeat = remoting::parse_heartbeat_body(request.body);
    if (!heartbeat.ok()) {
      respond(remoting::make_response(request, resp::kSystemError, heartbeat.error().message));
      return;
    }
    if (should_record(context, request)) {
      ClientDetails details{conn.remote_address(), request.language, request.version};
      auto forwarded_for = request.ext_fields.find(kForwardedClientField);
      if (forwarded_for != request.ext_fields.end()) details.address = forwarded_for->second;
      context.consumers.heartbeat(*heartbeat, conn.id(),
                                  request.ext_fields.contains(kForwardedFromField), details);
    }
    if (heartbeat->consumers.empty()) {
      // Producers only: membership is about consumer groups, nothing to tell the leader.
      respond(remoting::make_response(request, resp::kSuccess));
      return;
    }
    if (context.forwarder->maybe_forward(request, respond, conn.remote_address())) return;
    std::vector<std::string> groups;
    if (context.store->is_leader()) {
      for (const auto& consumer : heartbeat->consumers) groups.push_back(consumer.group_name);
    }
    ensure_retry_topics_then_reply(context, groups,
                                   remoting::make_response(request, resp::kSuccess), respond);
  };
}

frontend::Handler make_unregister_client_handler(BrokerContext& context) {
  return [&context](const RemotingCommand& request, frontend::Connection&,
                    frontend::Responder respond) {
    auto header = remoting::parse_unregister_client_request(request);
    if (!header.ok()) {
      respond(remoting::make_response(request, resp::kSystemError, header.error().message));
      return;
    }
    if (should_record(context, request)) {
      if (header->consumer_group) {
        context.consumers.unregister(header->client_id, header->consumer_group);
      } else if (!header->producer_group) {
        context.consumers.unregister(header->client_id, std::nullopt);
      }
    }
    if (header->producer_group && !request.ext_fields.contains(kForwardedFromField)) {
      context.consumers.unregister_producer(header->client_id, *header->producer_group);
    }
    if (!header->consumer_group && header->producer_group) {
      respond(remoting::make_response(request, resp::kSuccess));
      return;
    }
    if (context.forwarder->maybe_forward(request, respond)) return;
    respond(remoting::make_response(request, resp::kSuccess));
  };
}

void client_connection_closed(BrokerContext& context, frontend::ConnectionId connection_id) {
  auto forgotten = context.consumers.connection_closed(connection_id);
  if (forgotten.empty() || context.store->is_leader()) return;
  for (const auto& [group, client_id] : forgotten) {
    RemotingCommand unregister = remoting::make_request(rc::kUnregisterClient, 0);
    unregister.ext_fields["clientID"] = client_id;
    unregister.ext_fields["consumerGroup"] = group;
    context.forwarder->send_to_leader(std::move(unregister), [group = group, client_id = client_id](
                                                                 Result<RemotingCommand> reply) {
      if (!reply.ok()) {
        // The leader forgets the client when its heartbeats stop (120 s) or when the
        // forwarding connection closes.
        spdlog::debug("cannot tell the leader that client {} of group {} left: {}", client_id,
                      group, reply.error().to_string());
      }
    });
  }
}

namespace {

// A handler of a request whose header is just consumerGroup (38, 203): SYSTEM_ERROR naming the
// field when it is malformed; otherwise `answer(request, group)` is the reply.
template <typename Answer>
frontend::Handler group_query_handler(Answer answer) {
  return
      [answer](const RemotingCommand& request, frontend::Connection&, frontend::Responder respond) {
        auto header = remoting::parse_get_consumer_list_by_group_request(request);
        if (!header.ok()) {
          respond(remoting::make_response(request, resp::kSystemError, header.error().message));
          return;
        }
        respond(answer(request, header->consumer_group));
      };
}

}  // namespace

frontend::Handler make_consumer_list_handler(BrokerContext& context) {
  return group_query_handler([&context](const RemotingCommand& request, const std::string& group) {
    auto ids = context.consumers.consumers(group);
    if (ids.empty()) {
      return remoting::make_response(request, resp::kSystemError,
                                     "no consumer of group '" + group + "'");
    }
    RemotingCommand response = remoting::make_response(request, resp::kSuccess);
    response.body = remoting::write_consumer_list_body(ids);
    return response;
  });
}

frontend::Handler make_producer_connection_handler(BrokerContext& context) {
  return [&context](const RemotingCommand& request, frontend::Connection&,
                    frontend::Responder respond) {
    auto header = remoting::parse_get_producer_connection_list_request(request);
    if (!header.ok()) {
      respond(remoting::make_response(request, resp::kSystemError, header.error().message));
      return;
    }
    auto connection = context.consumers.producer_connection(header->producer_group);
    if (!connection) {
      respond(
          remoting::make_response(request, resp::kSystemError,
                                  "the producer group[" + header->producer_group + "] not exist"));
      return;
    }
    RemotingCommand response = remoting::make_response(request, resp::kSuccess);
    response.body = remoting::write_producer_connection(*connection);
    respond(std::move(response));
  };
}

frontend::Handler make_consumer_connection_handler(BrokerContext& context) {
  return group_query_handler([&context](const RemotingCommand& request, const std::string& group) {
    auto connection = context.consumers.connection(group);
    if (!connection) {
      return remoting::make_response(request, resp::kConsumerNotOnline,
                                     "the consumer group[" + group + "] not online");
    }
    RemotingCommand response = remoting::make_response(request, resp::kSuccess);
    response.body = remoting::write_consumer_connection(*connection);
    return response;
  });
}

}  // namespace dledger::broker
