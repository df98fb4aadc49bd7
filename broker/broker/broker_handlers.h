// The broker's remoting request handlers over the MessageStore, one file per request family:
//
//   send_handler.cpp     SEND_MESSAGE (10), SEND_MESSAGE_V2 (310), SEND_BATCH_MESSAGE (320)
//   pull_handler.cpp     PULL_MESSAGE (11), long-polling through PullSuspender
//   client_handlers.cpp  HEART_BEAT (34), UNREGISTER_CLIENT (35), GET_CONSUMER_LIST_BY_GROUP (38),
//                        GET_CONSUMER_CONNECTION_LIST (203)
//   offset_handlers.cpp  QUERY_CONSUMER_OFFSET (14), UPDATE_CONSUMER_OFFSET (15), GET_MAX_OFFSET
//                        (30), GET_MIN_OFFSET (31), SEARCH_OFFSET_BY_TIMESTAMP (29),
//                        GET_EARLIEST_MSG_STORETIME (32)
//   topic_handlers.cpp   UPDATE_AND_CREATE_TOPIC (17), GET_ALL_TOPIC_CONFIG (21)
//   send_back_handler.cpp  CONSUMER_SEND_MSG_BACK (36)
//   lock_handlers.cpp    LOCK_BATCH_MQ (41), UNLOCK_BATCH_MQ (42)
//   stats_handlers.cpp   GET_TOPIC_STATS_INFO (202), GET_CONSUME_STATS (208): what mqadmin
//                        topicStatus / consumerProgress and dashboards ask
//
// Any replica accepts every request. Writes (sends, send-backs, offset commits, topic updates),
// consumer-group membership (heartbeats, unregistrations, consumer lists) and queue locks are
// the leader's: a follower forwards them to the leader and relays its reply (leader_forwarder.h;
// 14 when that fails). Reads (pulls, offsets) are served by every replica from its applied,
// committed state. Malformed headers are answered with an error code and a remark naming the field.
//
// Lifetime: BrokerHandlers must outlive the RemotingServer's stop(); call stop() (which answers
// held pulls) before stopping the server and the store.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>

#include "broker/broker/consumer_registry.h"
#include "broker/broker/leader_forwarder.h"
#include "broker/broker/membership_replay.h"
#include "broker/broker/pull_suspender.h"
#include "broker/broker/queue_lock_table.h"
#include "broker/frontend/remoting_server.h"
#include "broker/remoting/register_broker.h"
#include "broker/store/message_store.h"

namespace dledger::broker {

class BrokerMetrics;

struct BrokerContext {
  store::MessageStore* store = nullptr;
  ConsumerRegistry consumers;
  std::unique_ptr<PullSuspender> suspender;
  std::atomic<std::uint32_t> next_queue{0};  // round robin for sends with queueId < 0
  std::uint64_t max_pull_bytes = 4u << 20;
  std::uint64_t max_query_scan = 50000;        // messages one QUERY_MESSAGE reads at most
  std::unique_ptr<LeaderForwarder> forwarder;  // follower -> leader (leader_forwarder.h)
  QueueLockTable locks;                        // LOCK_BATCH_MQ, used while leading
  BrokerMetrics* metrics = nullptr;            // optional (broker_metrics.h)
  std::string broker_name;                     // in the MessageQueue keys of 202 / 208 replies
};

class BrokerHandlers {
 public:
  struct Options {
    std::size_t max_suspended_pulls = 10000;
    std::uint64_t max_pull_bytes = 4u << 20;
    // Messages one QUERY_MESSAGE (query by key) reads at most (message_query.h).
    std::uint64_t max_query_scan = 50000;
    // How a follower reaches the leader (self name, brokerPeers addresses, listen port).
    LeaderForwarder::Options forwarding;
    // How often a follower checks for a new leader to replay its clients' heartbeats to.
    std::chrono::milliseconds membership_replay_interval{100};
    // Counts sends and pulls when set; must outlive the handlers.
    BrokerMetrics* metrics = nullptr;
    // brokerName, as the MessageQueue of queue statistics (202, 208) names it.
    std::string broker_name = "broker-a";
  };
  BrokerHandlers(store::MessageStore& store, Options options);
  ~BrokerHandlers();
  // Before server.start().
  void register_with(frontend::RemotingServer& server);
  void stop();
  BrokerContext& context() { return *context_; }

 private:
  std::unique_ptr<BrokerContext> context_;
  std::unique_ptr<MembershipReplayer> replayer_;
};

// Handler factories (each in its own file).
frontend::Handler make_send_handler(BrokerContext& context);
frontend::Handler make_pull_handler(BrokerContext& context);
frontend::Handler make_heartbeat_handler(BrokerContext& context);
frontend::Handler make_unregister_client_handler(BrokerContext& context);
frontend::Handler make_consumer_list_handler(BrokerContext& context);
frontend::Handler make_consumer_connection_handler(BrokerContext& context);  // 203
frontend::Handler make_producer_connection_handler(BrokerContext& context);  // 204
frontend::Handler make_query_consumer_offset_handler(BrokerContext& context);
frontend::Handler make_update_consumer_offset_handler(BrokerContext& context);
frontend::Handler make_queue_offset_handler(BrokerContext& context);  // 29, 30, 31, 32
frontend::Handler make_update_topic_handler(BrokerContext& context);
frontend::Handler make_all_topic_config_handler(BrokerContext& context);
frontend::Handler make_send_back_handler(BrokerContext& context);
frontend::Handler make_view_message_handler(BrokerContext& context);   // 33
frontend::Handler make_query_message_handler(BrokerContext& context);  // 12
frontend::Handler make_lock_batch_handler(BrokerContext& context);
frontend::Handler make_unlock_batch_handler(BrokerContext& context);
frontend::Handler make_topic_stats_handler(BrokerContext& context);    // 202
frontend::Handler make_consume_stats_handler(BrokerContext& context);  // 208
// Connection close: forgets the clients of that connection (and tells the leader, on a follower).
void client_connection_closed(BrokerContext& context, frontend::ConnectionId connection_id);
// Wraps the pull handler: on a follower, a pull's piggy-backed commit offset (sysFlag bit 1) is
// sent to the leader as a oneway UPDATE_CONSUMER_OFFSET before the pull is served locally.
frontend::Handler with_pull_commit_forwarding(BrokerContext& context, frontend::Handler pull);
// Wraps a handler of a leader-only request: on a follower the request is forwarded instead.
frontend::Handler leader_only(BrokerContext& context, frontend::Handler handler);

// The store's topics as RocketMQ topic configs (GET_ALL_TOPIC_CONFIG body, REGISTER_BROKER body).
remoting::RegisterBrokerBody topic_config_body(store::MessageStore& store);

// Response code for a failed store write: kNotLeader/kTransferring/kStopped/kDiskFull -> 14,
// kOverloaded -> 2, kNotFound -> 17, kInvalidArgument -> 13, others -> 1.
std::int32_t response_code_for(const Error& error);
// remark for it: names the leader for kNotLeader.
std::string remark_for(const Error& error);

}  // namespace dledger::broker
