#include "broker/broker/leader_forwarder.h"

#include <spdlog/spdlog.h>

#include "broker/remoting/codes.h"

namespace dledger::broker {

namespace resp = remoting::response_code;
using remoting::RemotingCommand;

namespace {

std::string leader_text(const ledger::LeaderHint& hint) {
  if (hint.leader_id == raft::kNoNode) return "no leader is known";
  return "the leader is " + raft::node_name(hint.leader_id) +
         (hint.leader_address.empty() ? "" : " (peer " + hint.leader_address + ")");
}

}  // namespace

Result<std::string> derive_client_address(const std::string& peer_address, std::uint16_t port) {
  auto split = frontend::split_host_port(peer_address);
  if (!split.ok()) {
    return make_error(ErrorCode::kInvalidArgument,
                      "cannot derive a remoting address from peer address '" + peer_address +
                          "': " + split.error().message);
  }
  const std::string& host = split->first;
  bool ipv6 = host.find(':') != std::string::npos;
  return (ipv6 ? "[" + host + "]" : host) + ":" + std::to_string(port);
}

LeaderForwarder::LeaderForwarder(Options options, RoleSource role)
    : options_(std::move(options)), role_(std::move(role)) {}

LeaderForwarder::~LeaderForwarder() {
  stop();
}

void LeaderForwarder::stop() {
  std::shared_ptr<frontend::RemotingClient> client;
  {
    std::lock_guard lock(mu_);
    stopped_ = true;
    client = std::move(client_);
    client_address_.clear();
  }
  if (client) client->close();
}

void LeaderForwarder::set_client_address(raft::NodeId id, std::string address) {
  std::lock_guard lock(mu_);
  options_.client_addresses[id] = std::move(address);
}

Result<std::string> LeaderForwarder::leader_address() {
  ledger::LeaderHint hint = role_.leader_hint();
  if (hint.leader_id == raft::kNoNode) {
    return make_error(ErrorCode::kUnavailable, "no leader is known (election in progress?)");
  }
  {
    std::lock_guard lock(mu_);
    auto it = options_.client_addresses.find(hint.leader_id);
    if (it != options_.client_addresses.end()) return it->second;
  }
  if (hint.leader_address.empty()) {
    return make_error(ErrorCode::kUnavailable, leader_text(hint) +
                                                   " but its address is unknown (not in "
                                                   "brokerPeers, no peer address)");
  }
  return derive_client_address(hint.leader_address, options_.self_listen_port);
}

Result<std::shared_ptr<frontend::RemotingClient>> LeaderForwarder::client_for(
    const std::string& address) {
  std::shared_ptr<frontend::RemotingClient> old;
  {
    std::lock_guard lock(mu_);
    if (stopped_) return make_error(ErrorCode::kStopped, "the broker is stopping");
    if (client_ && client_address_ == address && client_->is_open()) return client_;
    if (failed_address_ == address &&
        std::chrono::steady_clock::now() - failed_at_ < options_.reconnect_backoff) {
      return make_error(ErrorCode::kUnavailable, failure_);
    }
    old = std::move(client_);
    client_address_.clear();
  }
  // Outside the lock: closing joins the old client's io thread, connecting may take a while.
  if (old) old->close();
  frontend::RemotingClient::Options client_options;
  client_options.connect_timeout = options_.connect_timeout;
  auto connected = frontend::RemotingClient::connect(address, client_options);
  std::lock_guard lock(mu_);
  if (!connected.ok()) {
    failed_address_ = address;
    failed_at_ = std::chrono::steady_clock::now();
    failure_ = "cannot connect to " + address + ": " + connected.error().message;
    return make_error(ErrorCode::kUnavailable, failure_);
  }
  failed_address_.clear();
  std::shared_ptr<frontend::RemotingClient> fresh(std::move(connected).value());
  if (stopped_) {
    fresh->close();
    return make_error(ErrorCode::kStopped, "the broker is stopping");
  }
  if (client_ && client_address_ == address && client_->is_open()) {
    // Another io thread connected meanwhile: keep one connection.
    std::shared_ptr<frontend::RemotingClient> winner = client_;
    fresh->close();
    return winner;
  }
  old = std::move(client_);
  client_ = fresh;
  client_address_ = address;
  if (old) old->close();
  return fresh;
}

void LeaderForwarder::send_to_leader(RemotingCommand request,
                                     std::function<void(Result<RemotingCommand>)> done) {
  auto fail = [&done](Error error) {
    if (done) done(std::move(error));
  };
  auto address = leader_address();
  if (!address.ok()) return fail(address.error());
  std::string target = raft::node_name(role_.leader_hint().leader_id) + " at " + *address;
  auto client = client_for(*address);
  if (!client.ok()) {
    Error error = client.error();
    error.message = "leader " + target + ": " + error.message;
    return fail(std::move(error));
  }
  request.ext_fields[kForwardedFromField] = options_.self_name;
  if (request.is_oneway()) {
    Status sent = (*client)->invoke_oneway(std::move(request));
    if (done) done(sent.ok() ? Result<RemotingCommand>(RemotingCommand{}) : sent.error());
    return;
  }
  (*client)->invoke_async(std::move(request), options_.request_timeout,
                          [done = std::move(done), target](Result<RemotingCommand> reply) {
                            if (!done) return;
                            if (!reply.ok()) {
                              Error error = reply.error();
                              error.message = "leader " + target + ": " + error.message;
                              done(std::move(error));
                              return;
                            }
                            done(std::move(reply));
                          });
}

bool LeaderForwarder::maybe_forward(const RemotingCommand& request,
                                    const frontend::Responder& respond,
                                    const std::string& client_address) {
  if (role_.is_leader()) return false;
  const std::string request_name = std::string(remoting::request_code_name(request.code)) + " (" +
                                   std::to_string(request.code) + ")";
  auto marker = request.ext_fields.find(kForwardedFromField);
  if (marker != request.ext_fields.end()) {
    // Forwarded by a replica that took us for the leader: never forward twice (no loops).
    respond(remoting::make_response(request, resp::kServiceNotAvailable,
                                    request_name + " forwarded by " + marker->second +
                                        " reached a replica that is not the leader; " +
                                        leader_text(role_.leader_hint()) +
                                        "; not forwarding twice, retry"));
    return true;
  }
  RemotingCommand forwarded = request;
  forwarded.flag &= ~remoting::kFlagResponse;
  if (!client_address.empty()) forwarded.ext_fields[kForwardedClientField] = client_address;
  send_to_leader(std::move(forwarded),
                 [request_name, opaque_request = request, respond](Result<RemotingCommand> reply) {
                   if (!reply.ok()) {
                     respond(remoting::make_response(
                         opaque_request, resp::kServiceNotAvailable,
                         "this replica is not the leader and forwarding " + request_name +
                             " to the leader failed: " + reply.error().message));
                     return;
                   }
                   // The server restores the client's opaque and header encoding on the way out.
                   respond(std::move(reply).value());
                 });
  return true;
}

}  // namespace dledger::broker
