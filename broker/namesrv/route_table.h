// RouteTable: the name server's state — which brokers are alive, which topics they serve — and
// the answers to route queries. Pure logic: no sockets, threads or clocks (the clock is injected;
// the caller serialises access, see name_server.h).
//
// Tables (as Java's RouteInfoManager):
//   brokers_     brokerName -> {cluster, brokerAddrs {brokerId: "ip:port"}}
//   clusters_    cluster    -> {brokerName...}
//   live_        brokerAddr -> {last registration time, connection id, haServerAddr}
//   topics_      topic      -> {brokerName -> QueueData}
//
// Rules:
//   - register_broker() adds/refreshes brokerAddrs[brokerId] = brokerAddr. An address appears
//     under ONE brokerId per brokerName: registering an address under a new id (a slave promoted
//     to master after a DLedger failover) removes its old id entry, so a route never lists the
//     same address twice.
//   - Queue data of a brokerName come from the latest registration of its master (brokerId 0);
//     a slave's registration sets them only while the brokerName has no master (a lagging slave
//     must not shrink the master's topic set). Topics absent from that registration lose the
//     brokerName; a topic served by nobody disappears.
//   - A broker address is dropped when it unregisters, when its connection closes
//     (on_connection_closed with the connection id of its latest registration), or when it has not
//     registered for `broker_expire_ms` (expire_silent_brokers, called periodically). When the last
//     address of a brokerName goes, the brokerName, its cluster membership and its queue data go.
//   - There is NO default "TBW102" route (auto-created topics): dledger brokers create topics
//     explicitly, so an unknown topic is TOPIC_NOT_EXIST and Java producers do not auto-create.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "broker/base/result.h"
#include "broker/remoting/register_broker.h"
#include "broker/remoting/route_data.h"

namespace dledger::namesrv {

inline constexpr std::int64_t kDefaultBrokerExpireMs = 120'000;

class RouteTable {
 public:
  // `now_ms`: a monotonic clock in milliseconds (steady_clock in production, a counter in tests).
  RouteTable(std::function<std::int64_t()> now_ms, std::int64_t broker_expire_ms);

  struct RegisterResult {
    std::string master_addr;     // brokerAddrs[0] when the registrant is a slave, else empty
    std::string ha_server_addr;  // the master's haServerAddr when the registrant is a slave
  };
  // Errors (kInvalidArgument): empty clusterName / brokerName / brokerAddr, negative brokerId.
  Result<RegisterResult> register_broker(const remoting::RegisterBrokerRequest& request,
                                         const remoting::RegisterBrokerBody& body,
                                         std::uint64_t connection_id);

  // Removes brokerAddrs[brokerId] of brokerName when it is brokerAddr. Returns whether anything
  // was removed.
  bool unregister_broker(const remoting::UnregisterBrokerRequest& request);

  // Route of a topic; nullopt when no live broker serves it.
  std::optional<remoting::TopicRouteData> route(const std::string& topic) const;
  remoting::ClusterInfo cluster_info() const;
  std::vector<std::string> topics() const;  // sorted

  // Drops brokers whose last registration is older than broker_expire_ms. Returns their addresses.
  std::vector<std::string> expire_silent_brokers();
  // Drops brokers whose latest registration came over this connection. Returns their addresses.
  std::vector<std::string> on_connection_closed(std::uint64_t connection_id);

  // Consistency of the tables (tests and debug builds): every live address is in exactly one
  // brokerAddrs entry and vice versa, every brokerName is in its cluster's set, every queue data
  // brokerName exists, no topic has empty queue data. Returns the first violation, or empty.
  std::string check_invariants() const;

 private:
  struct BrokerEntry {
    std::string cluster;
    std::map<std::int64_t, std::string> addrs;  // brokerId -> addr
  };
  struct LiveBroker {
    std::string broker_name;
    std::int64_t last_update_ms = 0;
    std::uint64_t connection_id = 0;
    std::string ha_server_addr;
  };

  // Removes one address from every table; drops the brokerName when it has no address left.
  void remove_address(const std::string& addr);
  void set_queue_data(const std::string& broker_name, const remoting::RegisterBrokerBody& body);
  void drop_broker_name(const std::string& broker_name);

  std::function<std::int64_t()> now_ms_;
  std::int64_t broker_expire_ms_;
  std::map<std::string, BrokerEntry> brokers_;
  std::map<std::string, std::set<std::string>> clusters_;
  std::map<std::string, LiveBroker> live_;
  std::map<std::string, std::map<std::string, remoting::QueueData>> topics_;
};

}  // namespace dledger::namesrv
