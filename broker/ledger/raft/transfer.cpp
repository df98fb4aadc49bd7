// Leadership transfer (Raft thesis §3.10): catch the target up, then send it TimeoutNow so it
// campaigns at once (its votes bypass the lease). Proposals are refused meanwhile; the transfer
// aborts after an election timeout. The preferred leader, when set and a caught-up voter, is
// given leadership automatically.
#include <utility>

#include "broker/ledger/raft/raft_node.h"

namespace dledger::raft {

Status RaftNode::transfer_leadership(NodeId target) {
  if (role_ != Role::kLeader) {
    return make_error(ErrorCode::kNotLeader, "not the leader (leader: " + node_name(leader_) + ")");
  }
  if (target == config_.id) {
    return make_error(ErrorCode::kInvalidArgument, node_name(target) + " is already the leader");
  }
  if (!membership().is_voter(target)) {
    return make_error(ErrorCode::kInvalidArgument, node_name(target) + " is not a voter");
  }
  if (transfer_target_ != kNoNode) {
    return make_error(ErrorCode::kBusy,
                      "leadership transfer to " + node_name(transfer_target_) + " in progress");
  }
  transfer_target_ = target;
  transfer_elapsed_ = 0;
  timeout_now_sent_ = false;
  maybe_send_timeout_now(target);
  if (!timeout_now_sent_) {
    // Catch it up. The heartbeat's answer also reveals Appends lost on the way (progress.h).
    send_appends_or_commit(target);
    send_heartbeat(target);
  }
  observe_invariants();
  return Status();
}

void RaftNode::maybe_send_timeout_now(NodeId peer) {
  if (peer != transfer_target_ || timeout_now_sent_) return;
  auto it = progress_.find(peer);
  if (it == progress_.end() || it->second.match_index != log_.last_index()) return;
  Message m;
  m.type = MessageType::kTimeoutNow;
  m.to = peer;
  m.term = term();
  send(std::move(m));
  timeout_now_sent_ = true;
}

void RaftNode::tick_transfer() {
  if (transfer_target_ == kNoNode) return;
  if (++transfer_elapsed_ < config_.election_timeout_min_ticks) return;
  if (transfer_target_ == config_.preferred_leader) {
    // Do not retry the preferred leader at once: it may be unable to win right now.
    preferred_cooldown_ = 4 * config_.election_timeout_max_ticks;
  }
  abort_transfer();
}

void RaftNode::abort_transfer() {
  transfer_target_ = kNoNode;
  transfer_elapsed_ = 0;
  timeout_now_sent_ = false;
}

void RaftNode::maybe_transfer_to_preferred() {
  NodeId preferred = config_.preferred_leader;
  if (preferred == kNoNode || preferred == config_.id || transfer_target_ != kNoNode ||
      preferred_cooldown_ > 0 || !membership().is_voter(preferred)) {
    return;
  }
  auto it = progress_.find(preferred);
  if (it == progress_.end()) return;
  const Progress& pr = it->second;
  // Caught up: active and holding everything committed (the rest follows during the transfer).
  if (!pr.recently_active || pr.state != ProgressState::kReplicate || pr.match_index < commit_) {
    return;
  }
  (void)transfer_leadership(preferred);
}

void RaftNode::handle_timeout_now(const Message& m) {
  if (role_ == Role::kLeader || m.term != term()) return;
  if (!promotable()) return;
  (void)m;
  start_election(false, true);
}

}  // namespace dledger::raft
