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

// Appends sent but not yet acknowledged, oldest first (pipelining window).
class Inflights {
 public:
  void add(std::uint64_t last_index, std::uint64_t bytes) {
    window_.push_back({last_index, bytes});
    bytes_ += bytes;
  }
  // Acknowledged up to `index`: frees every message whose last entry is <= index.
  void free_to(std::uint64_t index) {
    while (!window_.empty() && window_.front().last_index <= index) {
      bytes_ -= window_.front().bytes;
      window_.pop_front();
    }
  }
  void reset() {
    window_.clear();
    bytes_ = 0;
  }
  bool full(std::uint32_t max_messages, std::uint64_t max_bytes) const {
    return window_.size() >= max_messages || bytes_ >= max_bytes;
  }
  std::uint32_t count() const { return static_cast<std::uint32_t>(window_.size()); }
  std::uint64_t bytes() const { return bytes_; }
  bool empty() const { return window_.empty(); }

 private:
  struct Sent {
    std::uint64_t last_index;
    std::uint64_t bytes;
  };
  std::deque<Sent> window_;
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
  bool paused(std::uint32_t max_inflight_messages, std::uint64_t max_inflight_bytes) const {
    switch (state) {
      case ProgressState::kProbe:
        return probe_sent;
      case ProgressState::kReplicate:
        return inflights.full(max_inflight_messages, max_inflight_bytes);
      case ProgressState::kSnapshot:
        return true;
    }
    return true;
  }
};

}  // namespace dledger::raft
