// Replication: proposals, AppendEntries on both sides, flow control and commit.
#include <algorithm>
#include <utility>

#include "broker/ledger/raft/raft_node.h"

namespace dledger::raft {

Result<std::uint64_t> RaftNode::propose(std::string data) {
  std::vector<std::string> batch;
  batch.push_back(std::move(data));
  return propose_batch(std::move(batch));
}

Result<std::uint64_t> RaftNode::propose_batch(std::vector<std::string> data) {
  if (role_ != Role::kLeader) {
    return make_error(ErrorCode::kNotLeader, "not the leader (leader: " + node_name(leader_) + ")");
  }
  if (transfer_target_ != kNoNode) {
    return make_error(ErrorCode::kTransferring,
                      "leadership transfer to " + node_name(transfer_target_) + " in progress");
  }
  if (data.empty()) return make_error(ErrorCode::kInvalidArgument, "empty proposal batch");
  std::vector<Entry> entries;
  entries.reserve(data.size());
  std::uint64_t index = log_.last_index();
  for (std::string& d : data) {
    Entry e;
    e.index = ++index;
    e.term = term();
    e.type = EntryType::kNormal;
    e.data = std::move(d);
    entries.push_back(std::move(e));
  }
  Result<std::uint64_t> first = append_as_leader(std::move(entries));
  observe_invariants();
  return first;
}

// Appends to the leader's own log (persisted by the caller in parallel) and replicates.
Result<std::uint64_t> RaftNode::append_as_leader(std::vector<Entry> entries) {
  std::uint64_t first = entries.front().index;
  record_configs(entries);
  for (const Entry& e : entries) leader_entry_bytes_.record(e.index, e.data.size());
  log_.append(std::move(entries));
  broadcast_append();
  return first;
}

// To every follower: new entries as flow control allows, or a heartbeat carrying a commit
// index it has not been told (after the commit index advanced).
void RaftNode::broadcast_append() {
  for (const auto& entry : progress_) send_appends_or_commit(entry.first);
}

void RaftNode::send_appends_or_commit(NodeId to) {
  bool sent = false;
  while (send_append(to)) sent = true;
  if (sent) return;
  auto it = progress_.find(to);
  if (it == progress_.end()) return;
  const Progress& pr = it->second;
  if (pr.state == ProgressState::kReplicate && std::min(commit_, pr.match_index) > pr.sent_commit &&
      !coalescing(pr)) {
    send_heartbeat(to);
  }
}

// Entries wait for an acknowledgement (Config::max_partial_inflight_messages). The Append that
// follows that acknowledgement carries the commit index too, so no heartbeat is sent meanwhile.
bool RaftNode::coalescing(const Progress& pr) const {
  if (pr.state != ProgressState::kReplicate ||
      pr.inflights.count() < config_.max_partial_inflight_messages ||
      pr.next_index > log_.last_index()) {
    return false;
  }
  // Sizes not recorded (entries of an earlier term, a long backlog): send, as without coalescing.
  std::optional<std::uint64_t> waiting =
      leader_entry_bytes_.bytes(pr.next_index, log_.last_index() + 1);
  return waiting.has_value() && *waiting < config_.max_message_bytes;
}

bool RaftNode::send_append(NodeId to) {
  auto it = progress_.find(to);
  if (it == progress_.end()) return false;
  Progress& pr = it->second;
  const FlowLimits limits{config_.max_inflight_messages, config_.max_inflight_entries,
                          config_.max_inflight_bytes};
  if (pr.paused(limits) || coalescing(pr)) return false;

  std::uint64_t prev_index = pr.next_index - 1;
  Result<std::uint64_t> prev_term = log_.term(prev_index);
  if (!prev_term.ok()) return send_snapshot(to, pr);  // compacted: the follower needs a snapshot

  std::vector<Entry> entries;
  std::uint64_t last = log_.last_index();
  if (pr.next_index <= last) {
    // Not more entries than the in-flight entry cap has room for (not paused: room >= 1).
    std::uint64_t room = limits.max_entries - std::min(limits.max_entries, pr.inflights.entries());
    std::uint64_t end = pr.next_index + std::min(room, last + 1 - pr.next_index);
    Result<std::vector<Entry>> batch = log_.entries(pr.next_index, end, config_.max_message_bytes);
    if (!batch.ok()) return send_snapshot(to, pr);
    entries = std::move(*batch);
  }
  if (entries.empty()) return false;  // heartbeats carry no entries (send_heartbeat)

  Message m;
  m.type = MessageType::kAppend;
  m.to = to;
  m.term = term();
  m.log_index = prev_index;
  m.log_term = *prev_term;
  m.commit = commit_;
  std::uint64_t bytes = 0;
  for (const Entry& e : entries) bytes += e.data.size();
  pr.sent_commit = std::max(pr.sent_commit, std::min(commit_, entries.back().index));
  if (pr.state == ProgressState::kReplicate) {
    pr.next_index = entries.back().index + 1;  // optimistic: pipelining
    pr.inflights.add(entries.back().index, entries.size(), bytes);
  } else {
    pr.probe_sent = true;  // kProbe: wait for the answer
  }
  m.entries = std::move(entries);
  send(std::move(m));
  return true;
}

// A heartbeat is an empty Append carrying the leader's commit index (not capped at the
// follower's match as in etcd: the follower caps it at the anchor it verified, as for any Append).
// In kReplicate it is anchored at next_index - 1, the last entry already sent: on an ordered
// connection the follower has received every earlier Append when it checks the anchor, so a
// rejection means pipelined Appends were lost and replication falls back to probing at once.
// Otherwise it is anchored at the match index, which the follower is known to hold.
void RaftNode::send_heartbeat(NodeId to) {
  auto it = progress_.find(to);
  if (it == progress_.end()) return;
  Progress& pr = it->second;
  Message m;
  m.type = MessageType::kAppend;
  m.to = to;
  m.term = term();
  std::uint64_t anchor = pr.state == ProgressState::kReplicate ? pr.next_index - 1 : pr.match_index;
  Result<std::uint64_t> anchor_term = log_.term(anchor);
  if (anchor_term.ok()) {
    m.log_index = anchor;
    m.log_term = *anchor_term;
    // The leader's real commit index, as every Append carries: a follower applies at most
    // min(commit, anchor), which it holds, and a repairing follower compares it with its log
    // (maybe_finish_repair), which a commit index capped at its match would fool.
    m.commit = commit_;
    pr.sent_commit = std::max(pr.sent_commit, std::min(commit_, pr.match_index));
  }  // else: compacted away; a bare liveness message (log_index 0, commit 0)
  send(std::move(m));
}

// Follower side of AppendEntries (m.term == term(); we are a follower of m.from).
Status RaftNode::handle_append(const Message& m) {
  leader_ = m.from;
  election_elapsed_ = 0;

  // Skip what we already hold as committed: it is identical to the leader's.
  std::uint64_t prev_index = m.log_index;
  std::uint64_t prev_term = m.log_term;
  std::size_t skip = 0;
  if (prev_index < commit_) {
    std::uint64_t end = m.log_index + m.entries.size();
    if (end <= commit_) {
      acknowledge_append(m, commit_);
      return Status();
    }
    skip = static_cast<std::size_t>(commit_ - prev_index);
    prev_index = commit_;
    prev_term = m.entries[skip - 1].term;
  }

  if (!log_.matches(prev_index, prev_term)) {
    reject_append(m);
    return Status();
  }

  // Find the first entry we do not already hold; everything from there on replaces our suffix.
  std::uint64_t last = log_.last_index();
  std::size_t k = skip;
  while (k < m.entries.size()) {
    const Entry& e = m.entries[k];
    if (e.index > last || !log_.matches(e.index, e.term)) break;
    ++k;
  }
  if (k < m.entries.size()) {
    std::uint64_t from = m.entries[k].index;
    if (from <= commit_) {
      // Cannot happen with a correct leader: refuse rather than lose a committed entry.
      return make_error(ErrorCode::kInternal,
                        "append from " + node_name(m.from) + " would truncate committed entry " +
                            std::to_string(from) + " (commit " + std::to_string(commit_) + ")");
    }
    if (from <= last) revert_configs_from(from);
    std::vector<Entry> suffix(m.entries.begin() + static_cast<std::ptrdiff_t>(k), m.entries.end());
    record_configs(suffix);
    log_.append(std::move(suffix));
  }

  std::uint64_t last_new = m.log_index + m.entries.size();
  set_commit(std::max(commit_, std::min(m.commit, last_new)));
  maybe_finish_repair(m.commit, m.term);

  // Our log matches the leader's up to last_new. If our last entry is from the leader's term,
  // it came from this leader, so (Log Matching) the whole log matches: say so, which lets a
  // heartbeat answer recover an acknowledgement that was lost.
  std::uint64_t match = last_new;
  if (log_.last_index() > last_new && log_.matches(log_.last_index(), m.term)) {
    match = log_.last_index();
  }
  acknowledge_append(m, match);
  return Status();
}

void RaftNode::acknowledge_append(const Message& m, std::uint64_t match) {
  Message r = reply_to(m, MessageType::kAppendResponse);
  r.success = true;
  const std::uint64_t durable = log_.durable_index();
  if (match <= durable) {
    r.match_index = match;
    send(std::move(r));  // promises only durable entries
    return;
  }
  if (m.entries.empty()) {
    // A heartbeat queued behind a slow fsync would leave the leader hearing nothing from us
    // (check-quorum would depose it while we are healthy). Answer now for what is durable: a
    // truthful, weaker acknowledgement (the log matches up to `match` >= durable). The leader
    // counts it for liveness; a match index below what it knows changes nothing there.
    Message now = r;
    now.match_index = durable;
    send(std::move(now));
  }
  r.match_index = match;
  send_after_persist(std::move(r));  // acknowledges entries: only once they are durable
}

// Rejection with a conflict hint (Raft §5.3 optimisation): the term of our entry at the
// rejected index and the first index we hold with that term, so the leader can skip a whole
// term per round trip. Terms never decrease along the log, so a binary search finds it.
void RaftNode::reject_append(const Message& m) {
  Message r = reply_to(m, MessageType::kAppendResponse);
  r.success = false;
  std::uint64_t last = log_.last_index();
  r.match_index = last;
  if (m.log_index > last) {
    r.conflict_term = 0;
    r.conflict_index = last + 1;
  } else {
    Result<std::uint64_t> t = log_.term(m.log_index);
    if (t.ok()) {
      r.conflict_term = *t;
      std::optional<std::uint64_t> first = log_.first_index_of_term(*t, commit_ + 1, m.log_index);
      r.conflict_index = first.value_or(m.log_index);
    } else {
      r.conflict_term = 0;
      r.conflict_index = commit_ + 1;
    }
  }
  send(std::move(r));  // a refusal promises nothing
}

// Leader side of AppendResponse.
void RaftNode::handle_append_response(const Message& m) {
  auto it = progress_.find(m.from);
  if (it == progress_.end()) return;
  Progress& pr = it->second;
  pr.recently_active = true;

  if (!m.success) {
    if (m.match_index < pr.match_index) {
      // The follower holds less than it acknowledged: it lost a suffix (repair after
      // corruption, or a crash in async flush mode). Replicate again from what it holds.
      // Lowering a match index only delays commits; the commit index never goes back.
      pr.match_index = m.match_index;
      pr.become_probe();
      send_appends_or_commit(m.from);
      return;
    }
    if (pr.state == ProgressState::kSnapshot) return;
    if (pr.state == ProgressState::kReplicate && m.log_index <= pr.match_index) return;  // stale
    if (pr.state == ProgressState::kProbe && m.log_index != pr.next_index - 1) return;   // stale
    std::uint64_t hint = m.conflict_index;
    if (m.conflict_term != 0) {
      // If we hold entries of the follower's conflicting term, resume after our last one.
      std::optional<std::uint64_t> j =
          log_.last_index_with_term_at_most(m.conflict_term, m.log_index);
      if (j.has_value() && log_.matches(*j, m.conflict_term)) hint = *j + 1;
    }
    pr.become_probe();
    pr.next_index =
        std::max(pr.match_index + 1, std::min(std::max<std::uint64_t>(hint, 1), m.log_index));
    send_appends_or_commit(m.from);
    return;
  }

  if (m.match_index > log_.last_index()) return;  // acknowledges entries we never sent
  bool progressed = m.match_index > pr.match_index;
  if (progressed) {
    pr.match_index = m.match_index;
    pr.ticks_without_progress = 0;
    pr.inflights.free_to(pr.match_index);
    if (pr.next_index <= pr.match_index) pr.next_index = pr.match_index + 1;
  }
  if (pr.state == ProgressState::kProbe && m.match_index == pr.match_index) {
    pr.become_replicate();  // the probe found where our logs agree
  } else if (pr.state == ProgressState::kSnapshot && pr.match_index >= pr.pending_snapshot) {
    pr.become_replicate();
  } else if (pr.state == ProgressState::kProbe) {
    pr.probe_sent = false;  // heartbeat answer: probe again (the last probe may be lost)
  }
  NodeId from = m.from;
  bool committed = progressed && maybe_commit();
  if (role_ != Role::kLeader) return;  // a removed leader steps down once its removal commits
  if (committed) {
    broadcast_append();
  } else {
    send_appends_or_commit(from);
  }
  maybe_send_timeout_now(from);
}

// Commit = highest index held by a quorum of voters (self only once persisted locally), and
// only if that entry is from the current term (Raft §5.4.2, Figure 8).
bool RaftNode::maybe_commit() {
  const Membership& members = membership();
  std::vector<std::uint64_t>& matched = commit_scratch_;  // reused: no allocation per ack
  matched.clear();
  for (const Member& member : members.members) {
    if (!member.voter) continue;
    if (member.id == config_.id) {
      matched.push_back(log_.durable_index());
    } else {
      auto it = progress_.find(member.id);
      matched.push_back(it == progress_.end() ? 0 : it->second.match_index);
    }
  }
  if (matched.empty()) return false;
  std::size_t q = members.quorum() - 1;
  std::nth_element(matched.begin(), matched.begin() + static_cast<std::ptrdiff_t>(q), matched.end(),
                   std::greater<>());
  std::uint64_t candidate = matched[q];
  if (candidate <= commit_) return false;
  if (!config_.test_faults.commit_previous_term_by_counting && !log_.matches(candidate, term())) {
    return false;  // older-term entries commit only indirectly
  }
  set_commit(candidate);
  return true;
}

void RaftNode::set_commit(std::uint64_t commit) {
  if (commit <= commit_) return;
  commit_ = commit;
  on_commit_advanced();
}

void RaftNode::maybe_finish_repair(std::uint64_t leader_commit, std::uint64_t leader_term) {
  if (repair_until_ == 0) return;
  if (log_.last_index() >= repair_until_ ||
      (leader_commit > 0 && leader_commit <= log_.last_index() &&
       log_.matches(leader_commit, leader_term))) {
    repair_until_ = 0;
  }
}

}  // namespace dledger::raft
