// EntryBytes: payload sizes of the leader's most recent entries, so that flow control can tell
// how many bytes wait for a follower without reading the entries back from storage (they leave
// the in-memory log once persisted).
//
//   EntryBytes b;
//   b.record(index, e.data.size());     // for every entry the leader appends, in index order
//   b.bytes(lo, hi);                    // payload bytes of [lo, hi); nullopt if not all known
//
// Keeps the last kMaxEntries entries (8 bytes each); an index that does not follow the last
// recorded one restarts the record there.
#pragma once

#include <cstdint>
#include <deque>
#include <optional>

namespace dledger::raft {

class EntryBytes {
 public:
  static constexpr std::size_t kMaxEntries = 1u << 16;

  void record(std::uint64_t index, std::uint64_t bytes) {
    if (totals_.empty() || index != end_index()) {
      totals_.assign(1, 0);
      first_index_ = index;
    }
    totals_.push_back(totals_.back() + bytes);
    if (totals_.size() > kMaxEntries + 1) {
      totals_.pop_front();
      ++first_index_;
    }
  }

  // Payload bytes of the entries [lo, hi), or nullopt when some of them were not recorded.
  std::optional<std::uint64_t> bytes(std::uint64_t lo, std::uint64_t hi) const {
    if (hi <= lo) return 0;
    if (totals_.empty() || lo < first_index_ || hi > end_index()) return std::nullopt;
    return totals_[hi - first_index_] - totals_[lo - first_index_];
  }

  void clear() { totals_.clear(); }

 private:
  // One past the last recorded index.
  std::uint64_t end_index() const { return first_index_ + totals_.size() - 1; }

  std::uint64_t first_index_ = 0;
  // totals_[i] = payload bytes of the entries [first_index_, first_index_ + i).
  std::deque<std::uint64_t> totals_;
};

}  // namespace dledger::raft
