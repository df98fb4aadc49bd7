// Single-server membership changes with learners.
//
// A configuration takes effect on each member as soon as its kConfig entry is appended to that
// member's log (not when it commits), and reverts if the entry is truncated away. One change at
// a time: a new change is refused until the previous config entry commits, and until the leader
// has committed an entry of its own term (otherwise two single-server changes from different
// terms could overlap without a common quorum).
#include <algorithm>
#include <utility>

#include "broker/ledger/raft/membership.h"
#include "broker/ledger/raft/raft_node.h"

namespace dledger::raft {

Status RaftNode::check_membership_change_allowed() const {
  if (role_ != Role::kLeader) {
    return make_error(ErrorCode::kNotLeader, "not the leader (leader: " + node_name(leader_) + ")");
  }
  if (transfer_target_ != kNoNode) {
    return make_error(ErrorCode::kTransferring,
                      "leadership transfer to " + node_name(transfer_target_) + " in progress");
  }
  if (membership_change_pending()) {
    return make_error(ErrorCode::kBusy, "membership change at index " +
                                            std::to_string(configs_.back().index) +
                                            " is not committed yet");
  }
  if (!log_.matches(commit_, term())) {
    return make_error(ErrorCode::kBusy, "the leader has not committed an entry of term " +
                                            std::to_string(term()) + " yet");
  }
  return Status();
}

Status RaftNode::add_learner(NodeId id, std::string address) {
  Status allowed = check_membership_change_allowed();
  if (!allowed.ok()) return allowed;
  if (id == kNoNode) return make_error(ErrorCode::kInvalidArgument, "add_learner: no id");
  if (address.empty()) {
    return make_error(ErrorCode::kInvalidArgument,
                      "add_learner " + node_name(id) + ": empty address");
  }
  Membership next = membership();
  if (next.contains(id)) {
    return make_error(ErrorCode::kInvalidArgument, node_name(id) + " is already a member");
  }
  for (const Member& m : next.members) {
    if (m.address == address) {
      return make_error(ErrorCode::kInvalidArgument,
                        "address " + address + " is already used by " + node_name(m.id));
    }
  }
  Member learner{id, std::move(address), false};
  auto pos = std::lower_bound(next.members.begin(), next.members.end(), id,
                              [](const Member& m, NodeId value) { return m.id < value; });
  next.members.insert(pos, std::move(learner));
  return propose_membership(std::move(next));
}

Status RaftNode::promote(NodeId id) {
  Status allowed = check_membership_change_allowed();
  if (!allowed.ok()) return allowed;
  Membership next = membership();
  auto it = std::find_if(next.members.begin(), next.members.end(),
                         [id](const Member& m) { return m.id == id; });
  if (it == next.members.end()) {
    return make_error(ErrorCode::kInvalidArgument, node_name(id) + " is not a member");
  }
  if (it->voter)
    return make_error(ErrorCode::kInvalidArgument, node_name(id) + " is already a voter");
  auto pr = progress_.find(id);
  std::uint64_t match = pr == progress_.end() ? 0 : pr->second.match_index;
  std::uint64_t lag = log_.last_index() - std::min(match, log_.last_index());
  if (lag > config_.promote_max_lag_entries) {
    return make_error(ErrorCode::kBusy, "learner " + node_name(id) + " lags by " +
                                            std::to_string(lag) + " entries (max " +
                                            std::to_string(config_.promote_max_lag_entries) + ")");
  }
  it->voter = true;
  return propose_membership(std::move(next));
}

Status RaftNode::remove_member(NodeId id) {
  Status allowed = check_membership_change_allowed();
  if (!allowed.ok()) return allowed;
  Membership next = membership();
  auto it = std::find_if(next.members.begin(), next.members.end(),
                         [id](const Member& m) { return m.id == id; });
  if (it == next.members.end()) {
    return make_error(ErrorCode::kInvalidArgument, node_name(id) + " is not a member");
  }
  if (it->voter && next.voter_count() == 1) {
    return make_error(ErrorCode::kInvalidArgument,
                      "refusing to remove " + node_name(id) + ", the last voter");
  }
  next.members.erase(it);
  return propose_membership(std::move(next));
}

Status RaftNode::propose_membership(Membership next) {
  Entry e;
  e.index = log_.last_index() + 1;
  e.term = term();
  e.type = EntryType::kConfig;
  e.data = encode_membership(next);
  std::vector<Entry> entries;
  entries.push_back(std::move(e));
  (void)append_as_leader(std::move(entries));
  observe_invariants();
  return Status();
}

// Called with entries about to be appended (already validated by step() or built by us).
void RaftNode::record_configs(const std::vector<Entry>& entries) {
  bool changed = false;
  for (const Entry& e : entries) {
    if (e.type != EntryType::kConfig) continue;
    Result<Membership> m = decode_membership(e.data);
    if (!m.ok()) continue;  // step() rejects such messages; our own entries always decode
    configs_.push_back(ConfigEntry{e.index, std::move(*m)});
    changed = true;
  }
  if (changed) on_membership_changed();
}

// Entries from `index` on are being truncated: configurations they carried no longer apply.
void RaftNode::revert_configs_from(std::uint64_t index) {
  bool changed = false;
  while (configs_.size() > 1 && configs_.back().index >= index) {
    configs_.pop_back();
    changed = true;
  }
  if (changed) on_membership_changed();
}

void RaftNode::on_membership_changed() {
  membership_changed_ = true;
  if (role_ != Role::kLeader) return;
  sync_progress_with_membership();
  if (transfer_target_ != kNoNode && !membership().is_voter(transfer_target_)) abort_transfer();
}

void RaftNode::sync_progress_with_membership() {
  const Membership& members = membership();
  for (auto it = progress_.begin(); it != progress_.end();) {
    if (!members.contains(it->first)) {
      it = progress_.erase(it);
    } else {
      ++it;
    }
  }
  for (const Member& m : members.members) {
    if (m.id == config_.id || progress_.count(m.id) != 0) continue;
    Progress pr;
    pr.next_index = log_.last_index() + 1;
    progress_.emplace(m.id, std::move(pr));
  }
}

void RaftNode::on_commit_advanced() {
  // Configurations superseded by a committed one can no longer be reverted to.
  while (configs_.size() >= 2 && configs_[1].index <= commit_) configs_.erase(configs_.begin());
  if (role_ == Role::kLeader && !membership().is_voter(config_.id) &&
      !membership_change_pending()) {
    become_follower(term(), kNoNode);  // our removal committed
  }
}

}  // namespace dledger::raft
