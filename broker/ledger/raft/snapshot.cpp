// Snapshots: a follower that needs entries the leader has compacted (below storage.first_index())
// receives the leader's latest snapshot, installs it through Ready.snapshot, then replicates
// normally from the snapshot's index.
#include <utility>

#include "broker/ledger/raft/raft_node.h"

namespace dledger::raft {

bool RaftNode::send_snapshot(NodeId to, Progress& pr) {
  // Only to a follower we hear from: a dead one would otherwise get snapshot after snapshot.
  if (!pr.recently_active) return false;
  Result<Snapshot> snapshot = storage_.snapshot();
  if (!snapshot.ok()) return false;
  pr.become_snapshot(snapshot->meta.index);
  Message m;
  m.type = MessageType::kInstallSnapshot;
  m.to = to;
  m.term = term();
  m.commit = commit_;
  m.snapshot = std::move(*snapshot);
  send(std::move(m));
  return true;
}

void RaftNode::handle_install_snapshot(const Message& m) {
  leader_ = m.from;
  election_elapsed_ = 0;
  const SnapshotMeta& meta = m.snapshot->meta;
  Message r = reply_to(m, MessageType::kInstallSnapshotResponse);
  r.success = true;

  if (meta.index <= commit_) {
    r.match_index = commit_;  // we already hold everything it covers
  } else if (log_.matches(meta.index, meta.term)) {
    // Our log contains the snapshot's last entry: keep the log, just learn the commit.
    set_commit(meta.index);
    r.match_index = meta.index;
  } else {
    log_.restore(*m.snapshot, commit_);
    configs_.clear();
    configs_.push_back(ConfigEntry{meta.index, meta.membership});
    membership_changed_ = true;
    commit_ = meta.index;
    maybe_finish_repair(0, 0);
    r.match_index = meta.index;
  }
  send_after_persist(std::move(r));  // promises the snapshot is durable
}

void RaftNode::handle_snapshot_response(const Message& m) {
  auto it = progress_.find(m.from);
  if (it == progress_.end()) return;
  Progress& pr = it->second;
  pr.recently_active = true;
  if (pr.state != ProgressState::kSnapshot) return;
  if (m.success && m.match_index <= log_.last_index()) {
    if (m.match_index > pr.match_index) pr.match_index = m.match_index;
    pr.become_replicate();
  } else {
    pr.become_probe();
  }
  NodeId from = m.from;
  bool committed = maybe_commit();
  if (role_ != Role::kLeader) return;
  if (committed) {
    broadcast_append();
  } else {
    send_appends_or_commit(from);
  }
}

}  // namespace dledger::raft
