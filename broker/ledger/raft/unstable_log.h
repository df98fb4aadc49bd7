// UnstableLog: the core's view of its log = what Storage holds durably + what it has appended
// (or installed by snapshot) but not yet been told is persisted.
//
//   storage (durable, read only for indexes < offset)      unstable (in memory)
//   [first_index ............................ offset-1]   [offset .............. last_index]
//                                                          ^ handed out in a Ready up to
//                                                            emitted_index, then dropped from
//                                                            memory by stable_to()
//
// Entries at or after `offset` are always served from memory, so Storage may still hold stale
// entries there (about to be overwritten) without harm. A snapshot received from the leader is
// held here until persisted; while it is pending, the log is empty before its index.
//
// durable_index() is the highest index known durable and consistent with this log; it caps the
// commit index handed to the application and is the leader's own vote in the commit quorum.
#pragma once

#include <cstdint>
#include <deque>
#include <optional>
#include <vector>

#include "broker/base/result.h"
#include "broker/ledger/raft/storage.h"
#include "broker/ledger/raft/types.h"

namespace dledger::raft {

class UnstableLog {
 public:
  explicit UnstableLog(const Storage& storage);

  std::uint64_t first_index() const;
  std::uint64_t last_index() const { return offset_ + entries_.size() - 1; }
  std::uint64_t last_term() const;
  std::uint64_t durable_index() const { return durable_index_; }

  // Term of the entry at `index` in [first_index() - 1, last_index()]; kOutOfRange outside it.
  Result<std::uint64_t> term(std::uint64_t index) const;
  // True when the entry at `index` exists with `term_value`.
  bool matches(std::uint64_t index, std::uint64_t term_value) const;
  // Entries [lo, hi) (at least one when lo < hi), stopping before max_bytes of data.
  Result<std::vector<Entry>> entries(std::uint64_t lo, std::uint64_t hi,
                                     std::uint64_t max_bytes) const;

  // Appends entries whose first index is in [first_index(), last_index() + 1], discarding any
  // entry at or after it. The caller has checked indexes are consecutive and never truncates
  // committed entries.
  void append(std::vector<Entry> entries);
  void append(Entry entry);

  // Binary searches (terms never decrease along a log): the first index in [lo, hi] whose term
  // is `term_value`, and the last index <= hi whose term is <= term_value. nullopt when the
  // answer would lie in the compacted prefix or lookups fail.
  std::optional<std::uint64_t> first_index_of_term(std::uint64_t term_value, std::uint64_t lo,
                                                   std::uint64_t hi) const;
  std::optional<std::uint64_t> last_index_with_term_at_most(std::uint64_t term_value,
                                                            std::uint64_t hi) const;

  // Replaces the whole log by `snapshot` (pending until persisted). `commit` is the commit
  // index before the snapshot: durable entries past it may differ from the leader's, so they
  // stop counting as durable.
  void restore(Snapshot snapshot, std::uint64_t commit);

  // Output side: the snapshot and entries not yet handed out in a Ready.
  bool has_unemitted() const;
  std::optional<Snapshot> take_unemitted_snapshot();
  std::vector<Entry> take_unemitted_entries();

  // on_persisted(index, term): if the entry at `index` still has `term` (and was handed out),
  // everything up to it is durable. Returns false for stale reports.
  bool stable_to(std::uint64_t index, std::uint64_t term_value);

 private:
  const Storage& storage_;
  std::deque<Entry> entries_;  // entries_[k].index == offset_ + k
  std::uint64_t offset_ = 1;
  std::uint64_t emitted_index_ = 0;  // entries up to here were handed out in a Ready
  std::uint64_t durable_index_ = 0;
  std::optional<Snapshot> pending_snapshot_;
  bool snapshot_emitted_ = false;
};

}  // namespace dledger::raft
