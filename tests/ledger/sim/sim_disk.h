// SimDisk: one member's simulated stable storage, with the page cache made explicit.
//
// Two images of the member's files exist at any time:
//   written  what reads see: every WriteBatch handed to write() is applied here at once (like
//            write(2) into the page cache). The core reads it through the raft::Storage interface.
//   durable  what survives a crash: a batch reaches it only when the simulated writer's fsync for
//            that batch completes (sync_one(), in write order, one batch at a time).
//
// crash() throws the written image away (optionally tearing the first unsynced batch: its
// snapshot and a prefix of its entries reached the platters, followed by a partial record);
// corrupt() damages one durable entry (its checksum no longer matches); recover() then does what
// the durable log's recovery does and returns what a restarted core needs. Everything else a
// restart needs (configs, bootstrap) the caller derives from durable().
//
// Not thread-safe: the simulator is single-threaded.
#pragma once

#include <cstdint>
#include <deque>
#include <optional>
#include <vector>

#include "broker/base/result.h"
#include "broker/ledger/raft/storage.h"
#include "broker/ledger/raft/types.h"

namespace dledger::sim {

// What one Ready asks to persist (persistence contract steps 2a-2c) plus the commit hint the
// member stores alongside (a committed index; restarts may use it or start from 0).
struct WriteBatch {
  std::optional<raft::Snapshot> snapshot;
  std::vector<raft::Entry> entries;
  std::optional<raft::HardState> hard_state;
  std::uint64_t commit = 0;

  bool writes_anything() const {
    return snapshot.has_value() || !entries.empty() || hard_state.has_value();
  }
};

// The content of a member's files.
struct DiskImage {
  raft::SnapshotMeta snapshot_meta;
  std::uint64_t snapshot_chain = 0;   // chain hash at snapshot_meta.index (the snapshot's data)
  std::vector<raft::Entry> log;       // entries snapshot_meta.index + 1 ... last_index()
  std::vector<std::uint64_t> chains;  // chain hash of each entry of `log`
  raft::HardState hard_state;
  std::uint64_t commit = 0;         // persisted commit hint, <= last_index()
  std::uint64_t repair_until = 0;   // quarantine marker (see raft::InitialState)
  bool torn_tail = false;           // a partial record follows the last entry
  std::uint64_t corrupt_index = 0;  // first entry whose checksum fails (0: none)

  std::uint64_t first_index() const { return snapshot_meta.index + 1; }
  std::uint64_t last_index() const { return snapshot_meta.index + log.size(); }
  // Term / chain hash at `index` for index in [snapshot index, last index], else nullopt.
  std::optional<std::uint64_t> term_at(std::uint64_t index) const;
  std::optional<std::uint64_t> chain_at(std::uint64_t index) const;
  const raft::Entry* entry_at(std::uint64_t index) const;

  // Applies one batch in contract order (snapshot, entries, hard state). Entries must start at
  // or below last_index() + 1 and above the snapshot index; violations of that are reported as
  // kInvalidArgument (a core bug: the caller records it as a violation).
  Status apply(const WriteBatch& batch);
  // Discards entries after `index` (keeps index itself).
  void truncate_after(std::uint64_t index);
  // Appends entries (already positioned at last_index() + 1), computing chain hashes.
  void append(const raft::Entry& entry);
};

// Summary of a recovery, for the trace and the event counters.
struct RecoveryReport {
  bool dropped_torn_tail = false;
  std::uint64_t corrupt_index = 0;  // 0: none; else the log was cut before this index
  std::uint64_t old_last_index = 0;
  bool raised_term = false;  // hard state term was below the last log term (torn batch)
};

class SimDisk final : public raft::Storage {
 public:
  SimDisk() = default;

  // raft::Storage, served from the written image.
  std::uint64_t first_index() const override { return written_.first_index(); }
  std::uint64_t last_index() const override { return written_.last_index(); }
  raft::SnapshotMeta snapshot_meta() const override { return written_.snapshot_meta; }
  Result<std::uint64_t> term(std::uint64_t index) const override;
  Result<std::vector<raft::Entry>> entries(std::uint64_t lo, std::uint64_t hi,
                                           std::uint64_t max_bytes) const override;
  Result<raft::Snapshot> snapshot() const override;

  // Writer side. write() applies the batch to the written image and queues it for fsync.
  Status write(WriteBatch batch);
  std::size_t unsynced_batches() const { return unsynced_.size(); }
  // Makes the oldest unsynced batch durable and returns it. kInternal if nothing is unsynced;
  // the batch's own error if it cannot be applied (as write() would have said).
  Result<WriteBatch> sync_one();

  // Power loss. keep_torn_entries: when set and a batch is unsynced, the first unsynced batch's
  // snapshot and its first *keep_torn_entries entries (clamped) reached the disk, followed by a
  // partial record. Afterwards written == durable (still to be recovered).
  void crash(std::optional<std::size_t> keep_torn_entries);
  // Flips bits in the durable entry at `index` (snapshot index < index <= last index).
  void corrupt(std::uint64_t index);
  // Recovery of the durable files: drop a torn tail; cut the log before the first corrupt entry
  // and set the repair marker to the old last index; lift the hard state term to the last log
  // term if a torn batch left it behind. Requires no unsynced batches (call after crash()).
  RecoveryReport recover();

  // Application compaction: a snapshot at `index` (<= last index, > snapshot index) becomes
  // durable and the log before it is dropped, in both images. Requires no unsynced batches.
  Status compact(std::uint64_t index, raft::Membership membership_at_index);
  // The member finished repair and its log is durable: clear the quarantine marker.
  void clear_repair_marker() {
    durable_.repair_until = 0;
    written_.repair_until = 0;
  }

  const DiskImage& written() const { return written_; }
  const DiskImage& durable() const { return durable_; }

 private:
  DiskImage written_;
  DiskImage durable_;
  std::deque<WriteBatch> unsynced_;
};

}  // namespace dledger::sim
