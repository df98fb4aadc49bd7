#include "broker/ledger/raft/memory_storage.h"

#include <string>

#include "broker/ledger/raft/membership.h"

namespace dledger::raft {

Result<std::uint64_t> MemoryStorage::term(std::uint64_t index) const {
  if (index == snapshot_.meta.index) return snapshot_.meta.term;
  if (index < snapshot_.meta.index || index > last_index()) {
    return make_error(ErrorCode::kOutOfRange, "index " + std::to_string(index) + " outside [" +
                                                  std::to_string(snapshot_.meta.index) + ", " +
                                                  std::to_string(last_index()) + "]");
  }
  return entries_[index - first_index()].term;
}

Result<std::vector<Entry>> MemoryStorage::entries(std::uint64_t lo, std::uint64_t hi,
                                                  std::uint64_t max_bytes) const {
  if (lo < first_index() || hi > last_index() + 1 || lo > hi) {
    return make_error(ErrorCode::kOutOfRange, "entries [" + std::to_string(lo) + ", " +
                                                  std::to_string(hi) + ") outside [" +
                                                  std::to_string(first_index()) + ", " +
                                                  std::to_string(last_index() + 1) + ")");
  }
  std::vector<Entry> out;
  std::uint64_t bytes = 0;
  for (std::uint64_t i = lo; i < hi; ++i) {
    const Entry& e = entries_[i - first_index()];
    if (!out.empty() && bytes + e.data.size() > max_bytes) break;
    bytes += e.data.size();
    out.push_back(e);
  }
  return out;
}

Result<Snapshot> MemoryStorage::snapshot() const {
  if (snapshot_.meta.index == 0) return make_error(ErrorCode::kNotFound, "no snapshot");
  return snapshot_;
}

Status MemoryStorage::apply_snapshot(const Snapshot& snapshot) {
  snapshot_ = snapshot;
  entries_.clear();
  configs_.clear();
  if (commit_ < snapshot.meta.index) commit_ = snapshot.meta.index;
  return Status();
}

Status MemoryStorage::append(const std::vector<Entry>& entries) {
  if (entries.empty()) return Status();
  std::uint64_t front = entries.front().index;
  if (front < first_index() || front > last_index() + 1) {
    return make_error(ErrorCode::kInvalidArgument, "append at " + std::to_string(front) +
                                                       " does not follow the log [" +
                                                       std::to_string(first_index()) + ", " +
                                                       std::to_string(last_index()) + "]");
  }
  for (std::size_t k = 1; k < entries.size(); ++k) {
    if (entries[k].index != front + k) {
      return make_error(ErrorCode::kInvalidArgument,
                        "appended entries not consecutive at " + std::to_string(entries[k].index));
    }
  }
  truncate_after(front - 1);
  for (const Entry& e : entries) {
    entries_.push_back(e);
    if (e.type == EntryType::kConfig) {
      Result<Membership> m = decode_membership(e.data);
      if (m.ok()) configs_.push_back(ConfigEntry{e.index, std::move(*m)});
    }
  }
  return Status();
}

void MemoryStorage::truncate_after(std::uint64_t index) {
  while (!entries_.empty() && entries_.back().index > index) entries_.pop_back();
  while (!configs_.empty() && configs_.back().index > index) configs_.pop_back();
}

Status MemoryStorage::persist(const Ready& ready) {
  if (ready.snapshot.has_value()) {
    Status s = apply_snapshot(*ready.snapshot);
    if (!s.ok()) return s;
  }
  Status s = append(ready.entries);
  if (!s.ok()) return s;
  if (ready.hard_state.has_value()) hard_state_ = *ready.hard_state;
  return Status();
}

Status MemoryStorage::compact(std::uint64_t index, std::string app_data) {
  if (index <= snapshot_.meta.index || index > last_index()) {
    return make_error(ErrorCode::kOutOfRange, "compact to " + std::to_string(index) + " outside (" +
                                                  std::to_string(snapshot_.meta.index) + ", " +
                                                  std::to_string(last_index()) + "]");
  }
  SnapshotMeta meta;
  meta.index = index;
  meta.term = entries_[index - first_index()].term;
  meta.membership = snapshot_.meta.index == 0 ? bootstrap_ : snapshot_.meta.membership;
  while (!configs_.empty() && configs_.front().index <= index) {
    meta.membership = configs_.front().membership;
    configs_.erase(configs_.begin());
  }
  std::uint64_t drop = index - snapshot_.meta.index;
  entries_.erase(entries_.begin(), entries_.begin() + static_cast<std::ptrdiff_t>(drop));
  snapshot_.meta = std::move(meta);
  snapshot_.data = std::move(app_data);
  return Status();
}

InitialState MemoryStorage::initial_state(const Membership& bootstrap) const {
  InitialState s;
  s.hard_state = hard_state_;
  s.commit = std::min(commit_, last_index());
  s.configs = configs_;
  s.bootstrap = bootstrap;
  return s;
}

}  // namespace dledger::raft
