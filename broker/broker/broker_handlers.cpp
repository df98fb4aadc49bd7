#include "broker/broker/broker_handlers.h"

#include "broker/remoting/codes.h"
#include "broker/remoting/pull_header.h"

namespace dledger::broker {

namespace rc = remoting::request_code;
namespace resp = remoting::response_code;

BrokerHandlers::BrokerHandlers(store::MessageStore& store, Options options)
    : context_(std::make_unique<BrokerContext>()) {
  context_->store = &store;
  context_->max_pull_bytes = options.max_pull_bytes;
  context_->max_query_scan = options.max_query_scan;
  context_->metrics = options.metrics;
  context_->broker_name = options.broker_name;
  context_->suspender = std::make_unique<PullSuspender>(store, options.max_suspended_pulls);
  store::MessageStore* s = &store;
  context_->forwarder = std::make_unique<LeaderForwarder>(
      std::move(options.forwarding), LeaderForwarder::RoleSource{[s] { return s->is_leader(); },
                                                                 [s] { return s->leader_hint(); }});
  replayer_ = std::make_unique<MembershipReplayer>(*context_, options.membership_replay_interval);
}

BrokerHandlers::~BrokerHandlers() {
  stop();
}

void BrokerHandlers::stop() {
  context_->suspender->stop();
  replayer_->stop();
  context_->forwarder->stop();
}

frontend::Handler leader_only(BrokerContext& context, frontend::Handler handler) {
  return [&context, handler = std::move(handler)](const remoting::RemotingCommand& request,
                                                  frontend::Connection& conn,
                                                  frontend::Responder respond) {
    if (context.forwarder->maybe_forward(request, respond, conn.remote_address())) return;
    handler(request, conn, std::move(respond));
  };
}

frontend::Handler with_pull_commit_forwarding(BrokerContext& context, frontend::Handler pull) {
  return
      [&context, pull = std::move(pull)](const remoting::RemotingCommand& request,
                                         frontend::Connection& conn, frontend::Responder respond) {
        if (!context.store->is_leader()) {
          auto header = remoting::parse_pull_message_request(request);
          if (header.ok() && header->has_commit_offset() && header->commit_offset >= 0) {
            remoting::RemotingCommand commit = remoting::make_request(rc::kUpdateConsumerOffset, 0);
            commit.ext_fields = {{"consumerGroup", header->consumer_group},
                                 {"topic", header->topic},
                                 {"queueId", std::to_string(header->queue_id)},
                                 {"commitOffset", std::to_string(header->commit_offset)}};
            commit.flag |= remoting::kFlagOneway;
            context.forwarder->send_to_leader(std::move(commit), {});
          }
        }
        pull(request, conn, std::move(respond));
      };
}

void BrokerHandlers::register_with(frontend::RemotingServer& server) {
  BrokerContext& c = *context_;
  auto send = leader_only(c, make_send_handler(c));
  server.register_handler(rc::kSendMessage, send);
  server.register_handler(rc::kSendMessageV2, send);
  server.register_handler(rc::kSendBatchMessage, send);
  server.register_handler(rc::kPullMessage, with_pull_commit_forwarding(c, make_pull_handler(c)));
  server.register_handler(rc::kHeartBeat, make_heartbeat_handler(c));
  server.register_handler(rc::kUnregisterClient, make_unregister_client_handler(c));
  server.register_handler(rc::kGetConsumerListByGroup,
                          leader_only(c, make_consumer_list_handler(c)));
  server.register_handler(rc::kQueryConsumerOffset, make_query_consumer_offset_handler(c));
  server.register_handler(rc::kUpdateConsumerOffset,
                          leader_only(c, make_update_consumer_offset_handler(c)));
  auto queue = make_queue_offset_handler(c);
  server.register_handler(rc::kGetMaxOffset, queue);
  server.register_handler(rc::kGetMinOffset, queue);
  server.register_handler(rc::kSearchOffsetByTimestamp, queue);
  server.register_handler(rc::kGetEarliestMsgStoretime, queue);
  server.register_handler(rc::kUpdateAndCreateTopic, leader_only(c, make_update_topic_handler(c)));
  server.register_handler(rc::kGetAllTopicConfig, make_all_topic_config_handler(c));
  server.register_handler(rc::kConsumerSendMsgBack, leader_only(c, make_send_back_handler(c)));
  server.register_handler(rc::kViewMessageById, make_view_message_handler(c));
  server.register_handler(rc::kQueryMessage, make_query_message_handler(c));
  server.register_handler(rc::kLockBatchMq, leader_only(c, make_lock_batch_handler(c)));
  server.register_handler(rc::kUnlockBatchMq, leader_only(c, make_unlock_batch_handler(c)));
  server.register_handler(rc::kGetTopicStatsInfo, make_topic_stats_handler(c));
  // Which topics count depends on the group's live subscriptions, which the leader knows.
  server.register_handler(rc::kGetConsumeStats, leader_only(c, make_consume_stats_handler(c)));
  server.register_handler(rc::kGetConsumerConnectionList,
                          leader_only(c, make_consumer_connection_handler(c)));
  // Producer connections are each replica's own (consumer_registry.h): answered locally.
  server.register_handler(rc::kGetProducerConnectionList, make_producer_connection_handler(c));
  server.on_connection_closed(
      [&c](const frontend::ConnectionInfo& info) { client_connection_closed(c, info.id); });
}

std::int32_t response_code_for(const Error& error) {
  switch (error.code) {
    case ErrorCode::kNotLeader:
    case ErrorCode::kTransferring:
    case ErrorCode::kStopped:
    case ErrorCode::kDiskFull:
      return resp::kServiceNotAvailable;
    case ErrorCode::kOverloaded:
      return resp::kSystemBusy;
    case ErrorCode::kNotFound:
      return resp::kTopicNotExist;
    case ErrorCode::kInvalidArgument:
      return resp::kMessageIllegal;
    default:
      return resp::kSystemError;
  }
}

std::string remark_for(const Error& error) {
  if (error.code == ErrorCode::kNotLeader) {
    return "this broker is a slave of its group, send to the master: " + error.message;
  }
  return error.to_string();
}

}  // namespace dledger::broker
