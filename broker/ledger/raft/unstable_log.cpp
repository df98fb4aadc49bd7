#include "broker/ledger/raft/unstable_log.h"

#include <algorithm>
#include <string>
#include <utility>

namespace dledger::raft {

UnstableLog::UnstableLog(const Storage& storage) : storage_(storage) {
  std::uint64_t last = storage.last_index();
  offset_ = last + 1;
  emitted_index_ = last;
  durable_index_ = last;
}

std::uint64_t UnstableLog::first_index() const {
  if (pending_snapshot_.has_value()) return pending_snapshot_->meta.index + 1;
  return storage_.first_index();
}

std::uint64_t UnstableLog::last_term() const {
  Result<std::uint64_t> t = term(last_index());
  return t.ok() ? *t : 0;
}

Result<std::uint64_t> UnstableLog::term(std::uint64_t index) const {
  if (index >= offset_) {
    if (index > last_index()) {
      return make_error(
          ErrorCode::kOutOfRange,
          "index " + std::to_string(index) + " after last index " + std::to_string(last_index()));
    }
    return entries_[index - offset_].term;
  }
  if (pending_snapshot_.has_value()) {
    if (index == pending_snapshot_->meta.index) return pending_snapshot_->meta.term;
    return make_error(ErrorCode::kOutOfRange,
                      "index " + std::to_string(index) + " is covered by the pending snapshot");
  }
  return storage_.term(index);
}

bool UnstableLog::matches(std::uint64_t index, std::uint64_t term_value) const {
  Result<std::uint64_t> t = term(index);
  return t.ok() && *t == term_value;
}

Result<std::vector<Entry>> UnstableLog::entries(std::uint64_t lo, std::uint64_t hi,
                                                std::uint64_t max_bytes) const {
  if (lo < first_index() || hi > last_index() + 1 || lo > hi) {
    return make_error(ErrorCode::kOutOfRange, "entries [" + std::to_string(lo) + ", " +
                                                  std::to_string(hi) + ") outside the log [" +
                                                  std::to_string(first_index()) + ", " +
                                                  std::to_string(last_index()) + "]");
  }
  std::vector<Entry> out;
  std::uint64_t bytes = 0;
  if (lo < offset_) {
    Result<std::vector<Entry>> stored = storage_.entries(lo, std::min(hi, offset_), max_bytes);
    if (!stored.ok()) return stored.error();
    out = std::move(*stored);
    for (const Entry& e : out) bytes += e.data.size();
    // Storage stopped early because of max_bytes: do not continue from memory.
    if (out.size() < std::min(hi, offset_) - lo) return out;
    lo = std::min(hi, offset_);
  }
  for (std::uint64_t i = lo; i < hi; ++i) {
    const Entry& e = entries_[i - offset_];
    if (!out.empty() && bytes + e.data.size() > max_bytes) break;
    bytes += e.data.size();
    out.push_back(e);
  }
  return out;
}

void UnstableLog::append(Entry entry) {
  std::vector<Entry> one;
  one.push_back(std::move(entry));
  append(std::move(one));
}

void UnstableLog::append(std::vector<Entry> entries) {
  if (entries.empty()) return;
  std::uint64_t front = entries.front().index;
  if (front == last_index() + 1) {
    // Plain append: the common path.
  } else if (front <= offset_) {
    // Replaces durable entries from `front` on: they stop counting as durable.
    entries_.clear();
    offset_ = front;
    durable_index_ = std::min(durable_index_, front - 1);
  } else {
    entries_.resize(front - offset_);
  }
  emitted_index_ = std::min(emitted_index_, front - 1);
  for (Entry& e : entries) entries_.push_back(std::move(e));
}

std::optional<std::uint64_t> UnstableLog::first_index_of_term(std::uint64_t term_value,
                                                              std::uint64_t lo,
                                                              std::uint64_t hi) const {
  lo = std::max(lo, first_index());
  if (lo > hi) return std::nullopt;
  // Find the first index in [lo, hi] with term >= term_value.
  std::uint64_t left = lo;
  std::uint64_t right = hi + 1;
  while (left < right) {
    std::uint64_t mid = left + (right - left) / 2;
    Result<std::uint64_t> t = term(mid);
    if (!t.ok()) return std::nullopt;
    if (*t >= term_value) {
      right = mid;
    } else {
      left = mid + 1;
    }
  }
  if (left > hi || !matches(left, term_value)) return std::nullopt;
  return left;
}

std::optional<std::uint64_t> UnstableLog::last_index_with_term_at_most(std::uint64_t term_value,
                                                                       std::uint64_t hi) const {
  hi = std::min(hi, last_index());
  std::uint64_t lo = first_index() - 1;  // its term is known (snapshot term)
  Result<std::uint64_t> lo_term = term(lo);
  if (!lo_term.ok() || *lo_term > term_value) return std::nullopt;
  // Invariant: term(lo) <= term_value. Find the largest such index <= hi.
  std::uint64_t left = lo;
  std::uint64_t right = hi;
  while (left < right) {
    std::uint64_t mid = left + (right - left + 1) / 2;
    Result<std::uint64_t> t = term(mid);
    if (!t.ok()) return std::nullopt;
    if (*t <= term_value) {
      left = mid;
    } else {
      right = mid - 1;
    }
  }
  return left;
}

void UnstableLog::restore(Snapshot snapshot, std::uint64_t commit) {
  std::uint64_t index = snapshot.meta.index;
  entries_.clear();
  offset_ = index + 1;
  emitted_index_ = index;
  // Only the committed prefix of the old log is known to agree with the snapshot; the snapshot
  // itself counts as durable once reported persisted.
  durable_index_ = std::min({durable_index_, commit, index});
  pending_snapshot_ = std::move(snapshot);
  snapshot_emitted_ = false;
}

bool UnstableLog::has_unemitted() const {
  return (pending_snapshot_.has_value() && !snapshot_emitted_) || emitted_index_ < last_index();
}

std::optional<Snapshot> UnstableLog::take_unemitted_snapshot() {
  if (!pending_snapshot_.has_value() || snapshot_emitted_) return std::nullopt;
  snapshot_emitted_ = true;
  return *pending_snapshot_;
}

std::vector<Entry> UnstableLog::take_unemitted_entries() {
  std::vector<Entry> out;
  if (emitted_index_ >= last_index()) return out;
  std::uint64_t from = std::max(emitted_index_ + 1, offset_);
  out.reserve(last_index() - from + 1);
  for (std::uint64_t i = from; i <= last_index(); ++i) out.push_back(entries_[i - offset_]);
  emitted_index_ = last_index();
  return out;
}

bool UnstableLog::stable_to(std::uint64_t index, std::uint64_t term_value) {
  if (pending_snapshot_.has_value()) {
    // Reports from Readys older than the snapshot's describe a log the snapshot replaces.
    if (!snapshot_emitted_ || index < pending_snapshot_->meta.index) return false;
    if (index == pending_snapshot_->meta.index) {
      if (pending_snapshot_->meta.term != term_value) return false;
      pending_snapshot_.reset();
      durable_index_ = std::max(durable_index_, index);
      return true;
    }
  }
  if (index < offset_ || index > emitted_index_) return false;
  if (entries_[index - offset_].term != term_value) return false;
  pending_snapshot_.reset();
  while (!entries_.empty() && entries_.front().index <= index) entries_.pop_front();
  offset_ = index + 1;
  durable_index_ = std::max(durable_index_, index);
  return true;
}

}  // namespace dledger::raft
