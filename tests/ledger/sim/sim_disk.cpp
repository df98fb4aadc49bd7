#include "tests/ledger/sim/sim_disk.h"

#include <algorithm>
#include <string>

#include "tests/ledger/sim/sim_hash.h"

namespace dledger::sim {

std::optional<std::uint64_t> DiskImage::term_at(std::uint64_t index) const {
  if (index == snapshot_meta.index) return snapshot_meta.term;
  if (index < snapshot_meta.index || index > last_index()) return std::nullopt;
  return log[index - snapshot_meta.index - 1].term;
}

std::optional<std::uint64_t> DiskImage::chain_at(std::uint64_t index) const {
  if (index == snapshot_meta.index) return snapshot_chain;
  if (index < snapshot_meta.index || index > last_index()) return std::nullopt;
  return chains[index - snapshot_meta.index - 1];
}

const raft::Entry* DiskImage::entry_at(std::uint64_t index) const {
  if (index <= snapshot_meta.index || index > last_index()) return nullptr;
  return &log[index - snapshot_meta.index - 1];
}

void DiskImage::truncate_after(std::uint64_t index) {
  if (index >= last_index()) return;
  const std::size_t keep = index <= snapshot_meta.index ? 0 : index - snapshot_meta.index;
  log.resize(keep);
  chains.resize(keep);
  commit = std::min(commit, last_index());
  torn_tail = false;
  if (corrupt_index > index) corrupt_index = 0;
}

void DiskImage::append(const raft::Entry& entry) {
  const std::uint64_t previous = chains.empty() ? snapshot_chain : chains.back();
  log.push_back(entry);
  chains.push_back(chain_hash(previous, entry));
  torn_tail = false;
}

Status DiskImage::apply(const WriteBatch& batch) {
  if (batch.snapshot) {
    const raft::Snapshot& snap = *batch.snapshot;
    auto chain = decode_snapshot_data(snap.data);
    if (!chain) {
      return make_error(ErrorCode::kInvalidArgument,
                        "snapshot at index " + std::to_string(snap.meta.index) +
                            " carries data not produced by the simulator");
    }
    snapshot_meta = snap.meta;
    snapshot_chain = *chain;
    log.clear();
    chains.clear();
    torn_tail = false;
    corrupt_index = 0;
    commit = std::max(commit, snap.meta.index);
  }
  if (!batch.entries.empty()) {
    const std::uint64_t first = batch.entries.front().index;
    if (first <= snapshot_meta.index || first > last_index() + 1) {
      return make_error(ErrorCode::kInvalidArgument,
                        "entries start at index " + std::to_string(first) + " but the log holds (" +
                            std::to_string(snapshot_meta.index) + ", " +
                            std::to_string(last_index()) + "]");
    }
    truncate_after(first - 1);
    for (std::size_t i = 0; i < batch.entries.size(); ++i) {
      if (batch.entries[i].index != first + i) {
        return make_error(ErrorCode::kInvalidArgument, "entries not consecutive at index " +
                                                           std::to_string(batch.entries[i].index));
      }
      append(batch.entries[i]);
    }
  }
  if (batch.hard_state) hard_state = *batch.hard_state;
  commit = std::min(std::max(commit, batch.commit), last_index());
  return Status::ok_status();
}

Result<std::uint64_t> SimDisk::term(std::uint64_t index) const {
  auto t = written_.term_at(index);
  if (!t) {
    return make_error(ErrorCode::kOutOfRange,
                      "term of index " + std::to_string(index) + " outside [" +
                          std::to_string(written_.snapshot_meta.index) + ", " +
                          std::to_string(written_.last_index()) + "]");
  }
  return *t;
}

Result<std::vector<raft::Entry>> SimDisk::entries(std::uint64_t lo, std::uint64_t hi,
                                                  std::uint64_t max_bytes) const {
  if (lo < written_.first_index() || hi > written_.last_index() + 1 || lo > hi) {
    return make_error(ErrorCode::kOutOfRange, "entries [" + std::to_string(lo) + ", " +
                                                  std::to_string(hi) + ") outside [" +
                                                  std::to_string(written_.first_index()) + ", " +
                                                  std::to_string(written_.last_index() + 1) + ")");
  }
  std::vector<raft::Entry> out;
  std::uint64_t bytes = 0;
  for (std::uint64_t i = lo; i < hi; ++i) {
    const raft::Entry& e = *written_.entry_at(i);
    if (!out.empty() && bytes + e.data.size() > max_bytes) break;
    bytes += e.data.size();
    out.push_back(e);
  }
  return out;
}

Result<raft::Snapshot> SimDisk::snapshot() const {
  if (written_.snapshot_meta.index == 0) {
    return make_error(ErrorCode::kNotFound, "no snapshot");
  }
  return raft::Snapshot{written_.snapshot_meta, encode_snapshot_data(written_.snapshot_chain)};
}

Status SimDisk::write(WriteBatch batch) {
  Status st = written_.apply(batch);
  if (!st.ok()) return st;
  unsynced_.push_back(std::move(batch));
  return Status::ok_status();
}

Result<WriteBatch> SimDisk::sync_one() {
  if (unsynced_.empty()) return make_error(ErrorCode::kInternal, "sync_one with nothing to sync");
  WriteBatch batch = std::move(unsynced_.front());
  unsynced_.pop_front();
  Status st = durable_.apply(batch);
  if (!st.ok()) return st.error();
  return batch;
}

void SimDisk::crash(std::optional<std::size_t> keep_torn_entries) {
  if (keep_torn_entries && !unsynced_.empty()) {
    WriteBatch torn = std::move(unsynced_.front());
    torn.entries.resize(std::min(*keep_torn_entries, torn.entries.size()));
    torn.hard_state.reset();
    torn.commit = 0;
    (void)durable_.apply(torn);
    durable_.torn_tail = true;
  }
  unsynced_.clear();
  written_ = durable_;
}

void SimDisk::corrupt(std::uint64_t index) {
  if (index <= durable_.snapshot_meta.index || index > durable_.last_index()) return;
  if (durable_.corrupt_index == 0 || index < durable_.corrupt_index) {
    durable_.corrupt_index = index;
  }
  // The bytes differ from what was written; nothing may read them as valid again.
  auto& damaged = durable_.log[index - durable_.snapshot_meta.index - 1].data;
  damaged = damaged.str() + "#corrupt";
  written_ = durable_;
}

RecoveryReport SimDisk::recover() {
  RecoveryReport report;
  report.old_last_index = durable_.last_index();
  if (durable_.torn_tail) {
    report.dropped_torn_tail = true;
    durable_.torn_tail = false;
  }
  if (durable_.corrupt_index != 0) {
    report.corrupt_index = durable_.corrupt_index;
    durable_.repair_until = std::max(durable_.repair_until, durable_.last_index());
    durable_.truncate_after(durable_.corrupt_index - 1);
    durable_.corrupt_index = 0;
  }
  const std::uint64_t last_term = *durable_.term_at(durable_.last_index());
  if (durable_.hard_state.term < last_term) {
    durable_.hard_state = raft::HardState{last_term, raft::kNoNode};
    report.raised_term = true;
  }
  durable_.commit = std::min(durable_.commit, durable_.last_index());
  written_ = durable_;
  return report;
}

Status SimDisk::compact(std::uint64_t index, raft::Membership membership_at_index) {
  if (!unsynced_.empty()) {
    return make_error(ErrorCode::kBusy, "compaction needs all writes synced");
  }
  if (index <= durable_.snapshot_meta.index || index > durable_.last_index()) {
    return make_error(ErrorCode::kOutOfRange,
                      "compaction index " + std::to_string(index) + " outside (" +
                          std::to_string(durable_.snapshot_meta.index) + ", " +
                          std::to_string(durable_.last_index()) + "]");
  }
  const std::size_t drop = index - durable_.snapshot_meta.index;
  durable_.snapshot_chain = durable_.chains[drop - 1];
  durable_.snapshot_meta =
      raft::SnapshotMeta{index, durable_.log[drop - 1].term, std::move(membership_at_index)};
  durable_.log.erase(durable_.log.begin(), durable_.log.begin() + static_cast<long>(drop));
  durable_.chains.erase(durable_.chains.begin(), durable_.chains.begin() + static_cast<long>(drop));
  durable_.commit = std::max(durable_.commit, index);
  written_ = durable_;
  return Status::ok_status();
}

}  // namespace dledger::sim
