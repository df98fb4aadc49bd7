// MemoryStorage: an in-memory raft::Storage for tests and the deterministic simulator.
//
// Besides the read side it offers the write side a real log would: persist(ready) applies a
// Ready's snapshot, entries and hard state exactly as step 2 of the persistence contract in
// raft_core.h says, and compact(index, app_data) replaces the log up to `index` by a snapshot.
// It also remembers the commit index the caller reports and the kConfig entries it holds, so
// initial_state() can restart a core from it (as after a crash that lost nothing unsynced).
//
// Not thread-safe: the simulator and unit tests drive it from one thread.
#pragma once

#include <cstdint>
#include <deque>
#include <string>
#include <utility>
#include <vector>

#include "broker/base/result.h"
#include "broker/ledger/raft/raft_core.h"
#include "broker/ledger/raft/storage.h"
#include "broker/ledger/raft/types.h"

namespace dledger::raft {

class MemoryStorage final : public Storage {
 public:
  MemoryStorage() = default;
  // `bootstrap` is the membership a snapshot records when no kConfig entry precedes its index.
  explicit MemoryStorage(Membership bootstrap) : bootstrap_(std::move(bootstrap)) {}

  // Storage.
  std::uint64_t first_index() const override { return snapshot_.meta.index + 1; }
  std::uint64_t last_index() const override { return snapshot_.meta.index + entries_.size(); }
  SnapshotMeta snapshot_meta() const override { return snapshot_.meta; }
  Result<std::uint64_t> term(std::uint64_t index) const override;
  Result<std::vector<Entry>> entries(std::uint64_t lo, std::uint64_t hi,
                                     std::uint64_t max_bytes) const override;
  Result<Snapshot> snapshot() const override;

  // Step 2 of the persistence contract: snapshot (replaces the log), then entries (discarding
  // stored entries at and after the first one), then hard state. kInvalidArgument if the entries
  // do not follow the log (gap) or are not consecutive; nothing is changed then.
  Status persist(const Ready& ready);

  // Individual mutators used by persist().
  Status apply_snapshot(const Snapshot& snapshot);
  Status append(const std::vector<Entry>& entries);
  void set_hard_state(const HardState& hard_state) { hard_state_ = hard_state; }

  // Replaces entries up to `index` (<= last_index()) by a snapshot carrying `app_data` and the
  // membership in effect at `index`. kOutOfRange if index is below the current snapshot or above
  // the last index.
  Status compact(std::uint64_t index, std::string app_data);

  // The caller may record the commit index it learned (Ready::commit) so a restart resumes there.
  void set_commit(std::uint64_t commit) { commit_ = commit; }
  std::uint64_t commit() const { return commit_; }
  const HardState& hard_state() const { return hard_state_; }

  // Everything a restarted core needs: hard state, commit, configs after the snapshot.
  InitialState initial_state(const Membership& bootstrap) const;

  // Drops entries after `index` (as a crash would drop an unsynced tail). Test helper.
  void truncate_after(std::uint64_t index);

 private:
  Membership bootstrap_;
  Snapshot snapshot_;                 // meta.index == 0: none
  std::deque<Entry> entries_;         // entries_[k].index == snapshot_.meta.index + 1 + k
  std::vector<ConfigEntry> configs_;  // kConfig entries held in entries_, in index order
  HardState hard_state_;
  std::uint64_t commit_ = 0;
};

}  // namespace dledger::raft
