// LeaderForwarder: lets any replica accept requests that only the leader may serve. A follower
// sends such a request, unchanged but for one marker ext field, to the leader's remoting address
// and answers its client with the leader's reply.
//
//   client ──req(opaque 7)──▶ follower ──req + dledgerForwardedFrom=n1──▶ leader
//   client ◀──reply(opaque 7)── follower ◀──────────── reply ─────────── leader
//
// Where the leader is: the ledger's LeaderHint names the leader's node id; its remoting address
// comes from `client_addresses` (broker.conf key brokerPeers, "n0-host:listenPort;..."), or, for a
// node not listed there, is derived as "<leader's peer host>:<this broker's listenPort>" (every
// replica of a group normally listens on the same port, e.g. in Kubernetes).
//
// Guarantees:
//   - the client gets the leader's reply (code, remark, ext fields, body) under its own opaque
//     and header encoding; oneway requests are forwarded oneway.
//   - no loops: a request that carries the marker is never forwarded again; a replica that is
//     not the leader answers it SERVICE_NOT_AVAILABLE (14) naming the leader it knows.
//   - failures are answered 14 with a remark saying why: no leader known, no address for it,
//     connection refused, timeout, connection lost. A write may then have been applied by the
//     leader anyway (as for any client timeout): clients retry, RocketMQ sends are at least once.
//
// Threads: maybe_forward() runs on the server's io threads. Connecting to a new leader address
// blocks the calling io thread for at most `connect_timeout`; after a failed connect the address
// is not retried for `reconnect_backoff` (requests are answered 14 at once meanwhile).
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "broker/base/result.h"
#include "broker/frontend/remoting_client.h"
#include "broker/frontend/remoting_server.h"
#include "broker/ledger/raft/types.h"
#include "broker/ledger/server/ledger_server.h"
#include "broker/remoting/remoting_command.h"

namespace dledger::broker {

// The ext field marking a forwarded request; its value is the forwarding replica's node name.
inline constexpr const char* kForwardedFromField = "dledgerForwardedFrom";
// The ext field carrying the original client's "ip:port" on a forwarded request (the leader
// writes it into sent messages as their born host, as if the client had connected to it).
inline constexpr const char* kForwardedClientField = "dledgerClientAddress";

class LeaderForwarder {
 public:
  struct Options {
    std::string self_name;                                 // "n1", written into the marker
    std::map<raft::NodeId, std::string> client_addresses;  // node -> "host:listenPort"
    std::uint16_t self_listen_port = 10911;                // for derived addresses
    std::chrono::milliseconds request_timeout{5000};
    std::chrono::milliseconds connect_timeout{1000};
    std::chrono::milliseconds reconnect_backoff{500};
  };
  // Role source: true when this replica leads; the leader it knows otherwise.
  struct RoleSource {
    std::function<bool()> is_leader;
    std::function<ledger::LeaderHint()> leader_hint;
  };

  LeaderForwarder(Options options, RoleSource role);
  ~LeaderForwarder();
  LeaderForwarder(const LeaderForwarder&) = delete;
  LeaderForwarder& operator=(const LeaderForwarder&) = delete;

  // False when this replica leads: the caller serves the request itself. Otherwise the request is
  // forwarded (or refused with 14) and `respond` is called exactly once, later, from any thread;
  // the caller must not answer it. `client_address` (the request's connection peer) travels in
  // kForwardedClientField when not empty.
  bool maybe_forward(const remoting::RemotingCommand& request, const frontend::Responder& respond,
                     const std::string& client_address = {});

  // Sends `request` to the leader regardless of the local role (used by followers to pass on
  // what their own clients did, e.g. an UNREGISTER_CLIENT for a closed connection). `done` gets
  // the reply or the error; may be empty.
  void send_to_leader(remoting::RemotingCommand request,
                      std::function<void(Result<remoting::RemotingCommand>)> done);

  // Sets or replaces the remoting address of a node (tests bind port 0 and learn it late).
  void set_client_address(raft::NodeId id, std::string address);
  // The leader's remoting address as resolved now, or an error saying why there is none.
  Result<std::string> leader_address();

  // Closes the connection to the leader; later requests are answered 14. Idempotent.
  void stop();

 private:
  Result<std::shared_ptr<frontend::RemotingClient>> client_for(const std::string& address);

  Options options_;
  RoleSource role_;
  std::mutex mu_;
  bool stopped_ = false;
  std::string client_address_;
  std::shared_ptr<frontend::RemotingClient> client_;
  std::chrono::steady_clock::time_point failed_at_{};
  std::string failed_address_;
  std::string failure_;
};

// Derives "<host of peer_address>:<port>" ("[::1]:7000" keeps its brackets). kInvalidArgument
// for a peer address that is not host:port.
Result<std::string> derive_client_address(const std::string& peer_address, std::uint16_t port);

}  // namespace dledger::broker
