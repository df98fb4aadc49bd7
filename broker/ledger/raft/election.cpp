// Elections: ticks, pre-vote, vote, the up-to-date rule, check-quorum and the leader lease.
#include <utility>

#include "broker/ledger/raft/raft_node.h"

namespace dledger::raft {

int RaftNode::random_election_timeout() {
  auto span = static_cast<std::uint64_t>(config_.election_timeout_max_ticks -
                                         config_.election_timeout_min_ticks + 1);
  return config_.election_timeout_min_ticks + static_cast<int>(config_.random() % span);
}

// A member may campaign only if its log is not being repaired after corruption (it might lack
// entries it once acknowledged) and it is a voter of the configuration in effect, or was a voter
// of the one before it while the change that removed it is not committed. The latter is a leader
// that removed itself and lost leadership before the change committed: it may hold the only copy
// of that change and of the entries before it, so without it the rest may be unable to elect
// anyone (they need its vote, which it refuses them as their logs are shorter). It counts only
// the voters of its own (new) configuration, as every candidate does (Raft thesis §4.2.2: a leader
// may manage a configuration that excludes it), and steps down once the change commits.
bool RaftNode::promotable() const {
  if (repair_until_ != 0) return false;
  if (membership().is_voter(config_.id)) return true;
  return membership_change_pending() && configs_.size() >= 2 &&
         configs_[configs_.size() - 2].membership.is_voter(config_.id);
}

// With check_quorum on: true while this member has heard from a live leader within the minimum
// election timeout (or is that leader); (pre-)votes from other candidates are then ignored.
// (The lease relies on check-quorum: a leader that lost its quorum steps down within it.)
bool RaftNode::in_lease() const {
  return config_.check_quorum && leader_ != kNoNode &&
         election_elapsed_ < config_.election_timeout_min_ticks;
}

// Raft §5.4.1: the candidate's log is at least as up to date as ours if its last term is higher,
// or equal with a last index at least ours.
bool RaftNode::log_up_to_date(std::uint64_t last_term, std::uint64_t last_index) const {
  std::uint64_t our_term = log_.last_term();
  return last_term > our_term || (last_term == our_term && last_index >= log_.last_index());
}

void RaftNode::tick_follower() {
  ++election_elapsed_;
  if (promotable() && election_elapsed_ >= randomized_election_timeout_) {
    start_election(config_.pre_vote, false);
  }
}

void RaftNode::tick_leader() {
  ++heartbeat_elapsed_;
  ++election_elapsed_;
  if (preferred_cooldown_ > 0) --preferred_cooldown_;

  // Pipelined Appends (or a snapshot) that make no progress for an election timeout were
  // probably lost: fall back to probing from the known match index.
  for (auto& [id, pr] : progress_) {
    bool waiting = (pr.state == ProgressState::kReplicate && !pr.inflights.empty()) ||
                   pr.state == ProgressState::kSnapshot;
    if (!waiting) continue;
    if (++pr.ticks_without_progress >= config_.election_timeout_min_ticks) pr.become_probe();
  }

  if (election_elapsed_ >= config_.election_timeout_min_ticks) {
    election_elapsed_ = 0;
    bool quorum_active = check_quorum_active();  // also starts a new activity round
    if (config_.check_quorum && !quorum_active) {
      become_follower(term(), kNoNode);
      return;
    }
  }

  tick_transfer();

  if (heartbeat_elapsed_ >= config_.heartbeat_interval_ticks) {
    heartbeat_elapsed_ = 0;
    for (const auto& entry : progress_) send_heartbeat(entry.first);
    maybe_transfer_to_preferred();
  }
}

// Counts voters heard from since the last round (self included) and starts a new round.
bool RaftNode::check_quorum_active() {
  const Membership& members = membership();
  std::size_t active = members.is_voter(config_.id) ? 1 : 0;
  for (auto& [id, pr] : progress_) {
    if (pr.recently_active && members.is_voter(id)) ++active;
    pr.recently_active = false;
  }
  return active >= members.quorum();
}

void RaftNode::start_election(bool pre_vote, bool transfer) {
  if (pre_vote) {
    become_pre_candidate();
  } else {
    become_candidate(transfer);
  }
  int result = tally_votes();
  if (result > 0) {  // a single voter wins at once
    if (pre_vote) {
      start_election(false, transfer);
    } else {
      become_leader();
    }
    return;
  }
  MessageType type = pre_vote ? MessageType::kPreVote : MessageType::kVote;
  for (NodeId voter : membership().voters()) {
    if (voter == config_.id) continue;
    Message m;
    m.type = type;
    m.to = voter;
    m.term = pre_vote ? term() + 1 : term();
    m.log_index = log_.last_index();
    m.log_term = log_.last_term();
    m.transfer = transfer;
    if (pre_vote) {
      send(std::move(m));  // promises nothing
    } else {
      send_after_persist(std::move(m));  // our term and self-vote must be durable first
    }
  }
}

void RaftNode::handle_vote_request(const Message& m) {
  bool pre = m.type == MessageType::kPreVote;
  MessageType response = pre ? MessageType::kPreVoteResponse : MessageType::kVoteResponse;
  bool can_vote = hard_.vote == m.from || (hard_.vote == kNoNode && leader_ == kNoNode) ||
                  (pre && m.term > term());
  bool up_to_date =
      config_.test_faults.skip_up_to_date_vote_check || log_up_to_date(m.log_term, m.log_index);
  // A member being repaired may have lost entries it acknowledged: its vote could elect a
  // leader without them. Learners do answer: they may have been promoted by a configuration
  // they have not received yet, and a candidate counts only the voters of its own configuration.
  bool grant = can_vote && up_to_date && repair_until_ == 0;

  Message r = reply_to(m, response);
  r.success = grant;
  if (!grant) {
    send(std::move(r));  // a refusal promises nothing
    return;
  }
  if (pre) {
    r.term = m.term;  // answered as if for the proposed term, without changing state
    send(std::move(r));
    return;
  }
  election_elapsed_ = 0;
  hard_.vote = m.from;
  send_after_persist(std::move(r));  // the vote must be durable before it is announced
}

void RaftNode::handle_vote_response(const Message& m) {
  if (role_ == Role::kPreCandidate && m.type == MessageType::kPreVoteResponse) {
    if (m.success && m.term != term() + 1) return;  // from another round
  } else if (role_ == Role::kCandidate && m.type == MessageType::kVoteResponse) {
    if (m.term != term()) return;
  } else {
    return;
  }
  if (!membership().is_voter(m.from)) return;
  votes_[m.from] = m.success;
  int result = tally_votes();
  if (result > 0) {
    if (role_ == Role::kPreCandidate) {
      start_election(false, false);
    } else {
      become_leader();
    }
  } else if (result < 0) {
    become_follower(term(), kNoNode);
  }
}

int RaftNode::tally_votes() const {
  const Membership& members = membership();
  std::size_t granted = 0;
  std::size_t rejected = 0;
  for (const auto& [id, yes] : votes_) {
    if (!members.is_voter(id)) continue;
    if (yes) {
      ++granted;
    } else {
      ++rejected;
    }
  }
  if (granted >= members.quorum()) return 1;
  if (rejected + members.quorum() > members.voter_count()) return -1;  // quorum unreachable
  return 0;
}

}  // namespace dledger::raft
