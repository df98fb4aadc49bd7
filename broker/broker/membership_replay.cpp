#include "broker/broker/membership_replay.h"

#include <spdlog/spdlog.h>

#include "broker/base/thread_name.h"
#include "broker/broker/broker_handlers.h"
#include "broker/remoting/codes.h"
#include "broker/remoting/heartbeat.h"

namespace dledger::broker {

MembershipReplayer::MembershipReplayer(BrokerContext& context,
                                       std::chrono::milliseconds poll_interval)
    : context_(context), poll_interval_(poll_interval) {
  thread_ = named_thread("member-replay", [this] { run(); });
}

MembershipReplayer::~MembershipReplayer() {
  stop();
}

void MembershipReplayer::stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void MembershipReplayer::replay() {
  for (auto& [heartbeat, details] : context_.consumers.direct_clients()) {
    remoting::RemotingCommand request =
        remoting::make_request(remoting::request_code::kHeartBeat, 0);
    request.body = remoting::write_heartbeat_body(heartbeat);
    // As the client's own heartbeat would be forwarded: its language, version and address.
    request.language = details.language;
    request.version = details.version;
    if (!details.address.empty()) request.ext_fields[kForwardedClientField] = details.address;
    context_.forwarder->send_to_leader(
        std::move(request),
        [client_id = heartbeat.client_id](Result<remoting::RemotingCommand> reply) {
          if (!reply.ok()) {
            spdlog::debug("cannot replay the heartbeat of client {} to the new leader: {}",
                          client_id, reply.error().to_string());
          }
        });
  }
}

void MembershipReplayer::run() {
  raft::NodeId last_leader = raft::kNoNode;
  std::unique_lock lock(mu_);
  while (!stopping_) {
    lock.unlock();
    raft::NodeId leader = context_.store->leader_hint().leader_id;
    if (leader != last_leader && leader != raft::kNoNode && !context_.store->is_leader()) {
      replay();
    }
    if (leader != raft::kNoNode) last_leader = leader;
    lock.lock();
    cv_.wait_for(lock, poll_interval_, [this] { return stopping_; });
  }
}

}  // namespace dledger::broker
