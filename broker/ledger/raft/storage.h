// The read side of stable storage, as seen by the consensus core.
//
// The core never writes storage: it hands entries, snapshots and hard state to its caller in
// Ready batches (raft_core.h), the caller persists them and reports back with
// RaftCore::on_persisted(). The core reads back only indexes it has been told are persisted, so an
// implementation may be written to by another thread as long as reads of persisted indexes are
// safe concurrently with appends past them.
//
// Index space: the log holds entries (snapshot_meta().index, last_index()]; first_index() ==
// snapshot_meta().index + 1. An empty log with no snapshot has first_index() == 1,
// last_index() == 0. term(snapshot_meta().index) is the snapshot's term (0 for index 0).
#pragma once

#include <cstdint>
#include <vector>

#include "broker/base/result.h"
#include "broker/ledger/raft/types.h"

namespace dledger::raft {

class Storage {
 public:
  virtual ~Storage() = default;

  virtual std::uint64_t first_index() const = 0;
  virtual std::uint64_t last_index() const = 0;
  virtual SnapshotMeta snapshot_meta() const = 0;

  // Term of the entry at `index`, for index in [snapshot_meta().index, last_index()].
  // kOutOfRange outside that range (compacted or not yet written), kCorruption if unreadable.
  virtual Result<std::uint64_t> term(std::uint64_t index) const = 0;

  // Entries [lo, hi) with lo >= first_index(), hi <= last_index() + 1. Returns at least one entry
  // when lo < hi even if it alone exceeds max_bytes; stops before exceeding max_bytes otherwise.
  virtual Result<std::vector<Entry>> entries(std::uint64_t lo, std::uint64_t hi,
                                             std::uint64_t max_bytes) const = 0;

  // The latest snapshot with its application bytes, to send to a follower that is behind
  // first_index(). kNotFound if there is none.
  virtual Result<Snapshot> snapshot() const = 0;
};

// What the core needs at start-up besides Storage. Built by the caller from its durable metadata.
struct ConfigEntry {
  std::uint64_t index = 0;  // log index of the kConfig entry (or the snapshot index)
  Membership membership;
};

struct InitialState {
  HardState hard_state;
  // Highest index known committed (may be 0; never above storage.last_index()).
  std::uint64_t commit = 0;
  // Configurations in the log after the snapshot, in index order (the storage tracks kConfig
  // entries as it writes them). The last one is in effect. If empty, the snapshot's membership is
  // in effect; if that is empty too, `bootstrap` is (a brand-new group).
  std::vector<ConfigEntry> configs;
  Membership bootstrap;
  // Repair after corruption: the log lost (quarantined) a damaged suffix and may once have
  // acknowledged entries up to this index. Until the member has re-fetched its log from a leader
  // (its last index reaches repair_until, or it has appended up to a leader's commit index whose
  // entry has the leader's term), it neither campaigns nor grants votes. 0: healthy.
  std::uint64_t repair_until = 0;
};

}  // namespace dledger::raft
