// ConsumerRegistry: which clients consume for which group, learned from HEART_BEAT (34), and
// which clients of which producer groups are connected to this replica.
//
// A client is remembered per (group, clientID) with its subscriptions and the connection it last
// heart-beat on. It is forgotten on UNREGISTER_CLIENT (35), when that connection closes, or when
// no heartbeat came for `expiry` (120 s, as RocketMQ's channel expiry). Thread-safe.
//
// Producers are recorded the same way but only from heartbeats a client sent to this replica
// itself (never relayed ones): a producer group's connections are a fact of each replica, which
// GET_PRODUCER_CONNECTION_LIST reports (dledgerctl producerConnection asks every replica).
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "broker/remoting/codes.h"
#include "broker/remoting/heartbeat.h"

namespace dledger::broker {

// Where a client's heartbeat came from (for GET_CONSUMER_CONNECTION_LIST): its own "ip:port" (on a
// relayed heartbeat, the address the forwarding replica saw), and the language and version of
// its request header.
struct ClientDetails {
  std::string address;
  std::uint8_t language = remoting::language_code::kOther;
  std::int32_t version = 0;
  bool operator==(const ClientDetails&) const = default;
};

// A client connected to this replica, as MembershipReplayer replays it to a new leader.
struct DirectClient {
  remoting::HeartbeatData heartbeat;
  ClientDetails details;
};

class ConsumerRegistry {
 public:
  using Clock = std::function<std::chrono::steady_clock::time_point()>;
  explicit ConsumerRegistry(std::chrono::milliseconds expiry = std::chrono::seconds(120),
                            Clock clock = {});

  // Records every consumer group of the heartbeat for its client on `connection_id`. `relayed`:
  // the heartbeat was forwarded by another replica (the client is connected there, not here).
  void heartbeat(const remoting::HeartbeatData& heartbeat, std::uint64_t connection_id,
                 bool relayed = false, ClientDetails details = {});
  // Forgets the client in consumer group `group`, or in every consumer group when nullopt.
  void unregister(const std::string& client_id, const std::optional<std::string>& group);
  // Forgets the client in producer group `group`.
  void unregister_producer(const std::string& client_id, const std::string& group);
  // Forgets every client last seen on that connection (consumers and producers); returns the
  // (consumer group, clientID) pairs of consumers connected here (not relayed) it forgot (a
  // follower tells the leader about them, see client_handlers.cpp).
  std::vector<std::pair<std::string, std::string>> connection_closed(std::uint64_t connection_id);
  // The live clients connected to this replica itself (not relayed), as heartbeats to replay to
  // a new leader. Subscriptions and the consumer data of the last heartbeat are kept.
  std::vector<DirectClient> direct_clients();
  // Live client ids of the group, sorted.
  std::vector<std::string> consumers(const std::string& group);
  // The subscription of `topic` any live client of the group declared, if any.
  std::optional<remoting::SubscriptionData> subscription(const std::string& group,
                                                         const std::string& topic);
  // The live clients of the group with their addresses, and the group's consumer settings and
  // subscriptions (those of its most recent heartbeat; subscriptions of all clients by topic);
  // nullopt when the group has no live client.
  std::optional<remoting::ConsumerConnection> connection(const std::string& group);
  // The live clients of the producer group connected to this replica; nullopt when none.
  std::optional<remoting::ProducerConnection> producer_connection(const std::string& group);

 private:
  struct Client {
    std::uint64_t connection_id = 0;
    bool relayed = false;
    remoting::ConsumerData data;  // group_name + subscriptions of the last heartbeat
    ClientDetails details;
    std::chrono::steady_clock::time_point last_heartbeat;
  };
  struct Producer {
    std::uint64_t connection_id = 0;
    ClientDetails details;
    std::chrono::steady_clock::time_point last_heartbeat;
  };
  void expire_locked();

  std::chrono::milliseconds expiry_;
  Clock clock_;
  std::mutex mu_;
  std::map<std::string, std::map<std::string, Client>> groups_;
  std::map<std::string, std::map<std::string, Producer>> producers_;  // group -> client id
};

}  // namespace dledger::broker
