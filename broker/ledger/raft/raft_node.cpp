// RaftNode: construction, input dispatch, role transitions and Ready output.
#include "broker/ledger/raft/raft_node.h"

#include <algorithm>
#include <string>
#include <utility>

namespace dledger::raft {

Status validate_config(const Config& config) {
  auto bad = [](std::string message) { return make_error(ErrorCode::kInvalidArgument, message); };
  if (config.id == kNoNode) return bad("config.id is not set");
  if (!config.random) return bad("config.random is not set");
  if (config.election_timeout_min_ticks <= 0) {
    return bad("election_timeout_min_ticks must be > 0, got " +
               std::to_string(config.election_timeout_min_ticks));
  }
  if (config.election_timeout_max_ticks < config.election_timeout_min_ticks) {
    return bad("election_timeout_max_ticks (" + std::to_string(config.election_timeout_max_ticks) +
               ") must be >= election_timeout_min_ticks (" +
               std::to_string(config.election_timeout_min_ticks) + ")");
  }
  if (config.heartbeat_interval_ticks <= 0 ||
      config.heartbeat_interval_ticks >= config.election_timeout_min_ticks) {
    return bad("heartbeat_interval_ticks must be in [1, election_timeout_min_ticks), got " +
               std::to_string(config.heartbeat_interval_ticks));
  }
  if (config.max_inflight_messages == 0) return bad("max_inflight_messages must be > 0");
  if (config.max_partial_inflight_messages == 0) {
    return bad("max_partial_inflight_messages must be > 0");
  }
  if (config.max_inflight_entries == 0) return bad("max_inflight_entries must be > 0");
  if (config.max_inflight_bytes == 0) return bad("max_inflight_bytes must be > 0");
  if (config.max_message_bytes == 0) return bad("max_message_bytes must be > 0");
  return Status();
}

Result<std::unique_ptr<RaftCore>> RaftCore::create(Config config, const Storage& storage,
                                                   InitialState initial) {
  Status ok = validate_config(config);
  if (!ok.ok()) return ok.error();
  std::uint64_t last = storage.last_index();
  if (initial.commit > last) {
    return make_error(ErrorCode::kInvalidArgument,
                      "initial commit " + std::to_string(initial.commit) +
                          " is above the storage's last index " + std::to_string(last));
  }
  Result<std::uint64_t> last_term = storage.term(last);
  if (!last_term.ok()) {
    return make_error(last_term.error().code,
                      "reading the term of the last index: " + last_term.error().message);
  }
  if (initial.hard_state.term < *last_term) {
    return make_error(ErrorCode::kInvalidArgument,
                      "hard state term " + std::to_string(initial.hard_state.term) +
                          " is below the last log term " + std::to_string(*last_term));
  }
  for (std::size_t k = 1; k < initial.configs.size(); ++k) {
    if (initial.configs[k].index <= initial.configs[k - 1].index) {
      return make_error(ErrorCode::kInvalidArgument, "initial configs not in index order");
    }
  }
  return std::unique_ptr<RaftCore>(
      std::make_unique<RaftNode>(std::move(config), storage, std::move(initial)));
}

RaftNode::RaftNode(Config config, const Storage& storage, InitialState initial)
    : config_(std::move(config)), storage_(storage), log_(storage) {
  hard_ = initial.hard_state;
  SnapshotMeta snapshot = storage.snapshot_meta();
  Membership base =
      snapshot.membership.members.empty() ? std::move(initial.bootstrap) : snapshot.membership;
  configs_.push_back(ConfigEntry{snapshot.index, std::move(base)});
  for (ConfigEntry& c : initial.configs) {
    if (c.index > snapshot.index) configs_.push_back(std::move(c));
  }
  commit_ = std::max(initial.commit, snapshot.index);
  while (configs_.size() >= 2 && configs_[1].index <= commit_) configs_.erase(configs_.begin());
  repair_until_ = initial.repair_until;
  if (repair_until_ != 0 && log_.last_index() >= repair_until_) repair_until_ = 0;

  become_follower(hard_.term, kNoNode);
  emitted_soft_ = soft_state();
  emitted_hard_ = hard_;
  emitted_commit_ = std::min(commit_, log_.durable_index());
  observe_invariants();
}

// ---------------------------------------------------------------------------------------------
// Input

Status RaftNode::step(const Message& m) {
  Status valid = validate_message(m, config_.id);
  if (!valid.ok()) return valid;
  bool response = m.type == MessageType::kPreVoteResponse || m.type == MessageType::kVoteResponse ||
                  m.type == MessageType::kAppendResponse ||
                  m.type == MessageType::kInstallSnapshotResponse;
  if (response && !membership().contains(m.from)) {
    // Requests from unknown members can be legitimate (a leader or candidate from a
    // configuration we have not received yet); answers come only from members we asked.
    return make_error(ErrorCode::kInvalidArgument, std::string(message_type_name(m.type)) +
                                                       " from " + node_name(m.from) +
                                                       ", which is not a member");
  }

  if (m.term > term()) {
    bool vote_request = m.type == MessageType::kVote || m.type == MessageType::kPreVote;
    if (vote_request && !m.transfer && in_lease()) {
      // We hear from a live leader: this candidate is partitioned or stale. Ignoring it (and
      // not adopting its term) is what keeps a rejoining member from deposing the leader.
      return Status();
    }
    if (m.type == MessageType::kPreVote) {
      // A pre-vote never changes state.
    } else if (m.type == MessageType::kPreVoteResponse && m.success) {
      // Granted pre-votes carry the proposed term, not the voter's; handled below.
    } else {
      bool from_leader = m.type == MessageType::kAppend ||
                         m.type == MessageType::kInstallSnapshot ||
                         m.type == MessageType::kTimeoutNow;
      become_follower(m.term, from_leader ? m.from : kNoNode);
    }
  } else if (m.term < term()) {
    if ((config_.check_quorum || config_.pre_vote) &&
        (m.type == MessageType::kAppend || m.type == MessageType::kInstallSnapshot)) {
      // A stale leader (e.g. back from a partition): tell it our term so it steps down.
      Message r =
          reply_to(m, m.type == MessageType::kAppend ? MessageType::kAppendResponse
                                                     : MessageType::kInstallSnapshotResponse);
      r.success = false;
      send(std::move(r));
    } else if (m.type == MessageType::kPreVote || m.type == MessageType::kVote) {
      // Refused with our term (Raft §5.1), so a candidate in a stale term catches up. Ignored
      // instead, a candidate that only ever asks members ahead of it (e.g. its configuration
      // differs from theirs) campaigns in stale terms forever and no leader is elected.
      Message r = reply_to(m, m.type == MessageType::kPreVote ? MessageType::kPreVoteResponse
                                                              : MessageType::kVoteResponse);
      r.success = false;
      send(std::move(r));
    }
    observe_invariants();
    return Status();
  }

  Status result;
  switch (m.type) {
    case MessageType::kPreVote:
    case MessageType::kVote:
      handle_vote_request(m);
      break;
    case MessageType::kPreVoteResponse:
    case MessageType::kVoteResponse:
      handle_vote_response(m);
      break;
    case MessageType::kAppend:
      if (role_ == Role::kLeader) break;  // two leaders in one term cannot happen
      if (role_ != Role::kFollower) become_follower(term(), m.from);
      result = handle_append(m);
      break;
    case MessageType::kInstallSnapshot:
      if (role_ == Role::kLeader) break;
      if (role_ != Role::kFollower) become_follower(term(), m.from);
      handle_install_snapshot(m);
      break;
    case MessageType::kAppendResponse:
      if (role_ == Role::kLeader) handle_append_response(m);
      break;
    case MessageType::kInstallSnapshotResponse:
      if (role_ == Role::kLeader) handle_snapshot_response(m);
      break;
    case MessageType::kTimeoutNow:
      handle_timeout_now(m);
      break;
  }
  observe_invariants();
  return result;
}

void RaftNode::tick() {
  if (role_ == Role::kLeader) {
    tick_leader();
  } else {
    tick_follower();
  }
  observe_invariants();
}

void RaftNode::campaign() {
  if (role_ == Role::kLeader || !promotable()) return;
  start_election(config_.pre_vote, false);
  observe_invariants();
}

void RaftNode::on_persisted(std::uint64_t index, std::uint64_t term_value) {
  if (index == 0) return;
  if (!log_.stable_to(index, term_value)) return;
  if (role_ == Role::kLeader && maybe_commit()) broadcast_append();
  observe_invariants();
}

void RaftNode::report_unreachable(NodeId peer) {
  if (role_ != Role::kLeader) return;
  auto it = progress_.find(peer);
  if (it == progress_.end()) return;
  if (it->second.state != ProgressState::kProbe) it->second.become_probe();
}

// ---------------------------------------------------------------------------------------------
// Role transitions

void RaftNode::reset(std::uint64_t new_term) {
  if (new_term != hard_.term) {
    hard_.term = new_term;
    hard_.vote = kNoNode;
  }
  leader_ = kNoNode;
  election_elapsed_ = 0;
  heartbeat_elapsed_ = 0;
  randomized_election_timeout_ = random_election_timeout();
  votes_.clear();
  progress_.clear();
  leader_entry_bytes_.clear();
  abort_transfer();
  term_start_index_ = 0;
}

void RaftNode::become_follower(std::uint64_t new_term, NodeId leader) {
  reset(new_term);
  role_ = Role::kFollower;
  leader_ = leader;
}

void RaftNode::become_pre_candidate() {
  // Term and vote are unchanged: a pre-vote is only a question.
  role_ = Role::kPreCandidate;
  leader_ = kNoNode;
  votes_.clear();
  progress_.clear();
  election_elapsed_ = 0;
  randomized_election_timeout_ = random_election_timeout();
  votes_[config_.id] = true;
}

void RaftNode::become_candidate(bool /*transfer*/) {
  reset(term() + 1);
  hard_.vote = config_.id;
  role_ = Role::kCandidate;
  votes_[config_.id] = true;
}

void RaftNode::become_leader() {
  reset(term());
  role_ = Role::kLeader;
  leader_ = config_.id;
  sync_progress_with_membership();
  // The no-op commits this term's first entry, which commits every earlier entry indirectly.
  Entry noop;
  noop.index = log_.last_index() + 1;
  noop.term = term();
  noop.type = EntryType::kNoOp;
  term_start_index_ = noop.index;
  std::vector<Entry> entries;
  entries.push_back(std::move(noop));
  (void)append_as_leader(std::move(entries));
}

// ---------------------------------------------------------------------------------------------
// Output

void RaftNode::send(Message m) {
  m.from = config_.id;
  messages_.push_back(std::move(m));
}

void RaftNode::send_after_persist(Message m) {
  m.from = config_.id;
  messages_after_persist_.push_back(std::move(m));
}

Message RaftNode::reply_to(const Message& request, MessageType type) const {
  Message r;
  r.type = type;
  r.from = config_.id;
  r.to = request.from;
  r.term = term();
  r.log_index = request.log_index;
  return r;
}

bool RaftNode::has_ready() const {
  return !messages_.empty() || !messages_after_persist_.empty() || log_.has_unemitted() ||
         hard_ != emitted_hard_ || std::min(commit_, log_.durable_index()) > emitted_commit_ ||
         soft_state() != emitted_soft_ || membership_changed_;
}

Ready RaftNode::ready() {
  Ready r;
  r.messages.swap(messages_);
  r.snapshot = log_.take_unemitted_snapshot();
  r.entries = log_.take_unemitted_entries();
  if (hard_ != emitted_hard_) {
    r.hard_state = hard_;
    emitted_hard_ = hard_;
  }
  r.messages_after_persist.swap(messages_after_persist_);
  if (!r.entries.empty()) {
    r.persist_index = r.entries.back().index;
    r.persist_term = r.entries.back().term;
  } else if (r.snapshot.has_value()) {
    r.persist_index = r.snapshot->meta.index;
    r.persist_term = r.snapshot->meta.term;
  }
  emitted_commit_ = std::max(emitted_commit_, std::min(commit_, log_.durable_index()));
  r.commit = emitted_commit_;
  if (soft_state() != emitted_soft_) {
    r.soft_state = soft_state();
    emitted_soft_ = soft_state();
  }
  if (membership_changed_) {
    r.membership = membership();
    membership_changed_ = false;
  }
  return r;
}

CoreStatus RaftNode::status() const {
  CoreStatus s;
  s.id = config_.id;
  s.soft = soft_state();
  s.hard = hard_;
  s.commit = commit_;
  s.first_index = log_.first_index();
  s.last_index = log_.last_index();
  s.membership = membership();
  s.membership_change_pending = membership_change_pending();
  s.transfer_target = transfer_target_;
  s.repair_until = repair_until_;
  s.term_start_index = term_start_index_;
  for (const auto& [id, pr] : progress_) {
    PeerStatus p;
    p.id = id;
    p.voter = membership().is_voter(id);
    p.match_index = pr.match_index;
    p.next_index = pr.next_index;
    p.state = pr.state;
    p.recently_active = pr.recently_active;
    p.inflight_messages = pr.inflights.count();
    p.inflight_entries = pr.inflights.entries();
    p.inflight_bytes = pr.inflights.bytes();
    s.peers.push_back(p);
  }
  return s;
}

void RaftNode::observe_invariants() {
  InvariantView v;
  v.term = hard_.term;
  v.vote = hard_.vote;
  v.commit = commit_;
  v.last_index = log_.last_index();
  v.durable_index = log_.durable_index();
  v.is_leader = role_ == Role::kLeader;
  invariants_.observe(v);
}

}  // namespace dledger::raft
