// Progress: the leader's view of one follower (etcd-style flow control).
//
//   kProbe     : next_index is a guess; send one Append and wait for its answer (or a heartbeat
//                answer) before sending another. Rejections move next_index back using the
//                follower's conflict hint.
//   kReplicate : the follower is known to match up to match_index; Appends are pipelined
//                optimistically (next_index advances when sent) within the in-flight caps.
//   kSnapshot  : the follower needs entries the leader has compacted; an InstallSnapshot is
//                outstanding, nothing else is sent until it is answered.
#pragma once

#include <cstdint>
#include <deque>

#include "broker/ledger/raft/raft_core.h"

namespace dledger::raft {

// Per-follower caps on what may be in flight (Config::max_inflight_*).
struct FlowLimits {
  std::uint32_t max_messages = 0;
  std::uint64_t max_entries = 0;
  std::uint64_t max_bytes = 0;
};

// Appends sent but not yet acknowledged, oldest first (pipelining window), with their entry and
// payload byte totals: the window is full when any of the three caps is reached.
class Inflights {
 public:
  void add(std::uint64_t last_index, std::uint64_t entries, std::uint64_t bytes) {
    window_.push_back({last_index, entries, bytes});
    entries_ += entries;
    bytes_ += bytes;
  }
  // Acknowledged up to `index`: frees every message whose last entry is <= index.
  void free_to(std::uint64_t index) {
    while (!window_.empty() && window_.front().last_index <= index) {
      entries_ -= window_.front().entries;
      bytes_ -= window_.front().bytes;
      window_.pop_front();
    }
  }
  void reset() {
    window_.clear();
    entries_ = 0;
    bytes_ = 0;
  }
  bool full(const FlowLimits& limits) const {
    return window_.size() >= limits.max_messages || entries_ >= limits.max_entries ||
           bytes_ >= limits.max_bytes;
  }
  std::uint32_t count() const { return static_cast<std::uint32_t>(window_.size()); }
  std::uint64_t entries() const { return entries_; }
  std::uint64_t bytes() const { return bytes_; }
  bool empty() const { return window_.empty(); }

 private:
  struct Sent {
    std::uint64_t last_index;
    std::uint64_t entries;
    std::uint64_t bytes;
  };
  std::deque<Sent> window_;
  std::uint64_t entries_ = 0;
  std::uint64_t bytes_ = 0;
};

struct Progress {
  std::uint64_t match_index = 0;
  std::uint64_t next_index = 1;
  ProgressState state = ProgressState::kProbe;
  bool probe_sent = false;             // kProbe: an Append is outstanding
  std::uint64_t pending_snapshot = 0;  // kSnapshot: index of the snapshot sent
  bool recently_active = false;        // heard from since the last check-quorum round
  int ticks_without_progress = 0;      // stall detection for lost pipelined messages
  std::uint64_t sent_commit = 0;       // highest commit index this follower was told about
  Inflights inflights;

  void become_probe() {
    state = ProgressState::kProbe;
    probe_sent = false;
    pending_snapshot = 0;
    next_index = match_index + 1;
    ticks_without_progress = 0;
    inflights.reset();
  }
  void become_replicate() {
    state = ProgressState::kReplicate;
    probe_sent = false;
    pending_snapshot = 0;
    next_index = match_index + 1;
    ticks_without_progress = 0;
    inflights.reset();
  }
  void become_snapshot(std::uint64_t snapshot_index) {
    state = ProgressState::kSnapshot;
    probe_sent = false;
    pending_snapshot = snapshot_index;
    ticks_without_progress = 0;
    inflights.reset();
  }
  // True when no Append may be sent now.
  bool paused(const FlowLimits& limits) const {
    switch (state) {
      case ProgressState::kProbe:
        return probe_sent;
      case ProgressState::kReplicate:
        return inflights.full(limits);
      case ProgressState::kSnapshot:
        return true;
    }
    return true;
  }
};

}  // namespace dledger::raft
