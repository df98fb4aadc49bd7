// EntryBatch: consecutive log entries whose payloads share one buffer.
//
// A reader that looks at each payload once and keeps nothing of it (the message store's applier
// decodes an entry into its consume queues, then drops it) needs no owned copy per entry. Read
// as raft::Entry values, every 1 KiB message cost its own allocation and copy on every replica;
// an EntryBatch costs two allocations for the whole range, whatever its length.
//
//   EntryBatch batch;
//   batch.add(7, 2, EntryType::kNormal, "abc");       // copies the payload into the buffer
//   for (EntryBatch::View e : batch) use(e.index, e.data);   // or batch[i]
//
// A producer that already holds the bytes (the log reading whole entries with one pread) writes
// them into buffer() and describes each payload with add_in_buffer().
//
// Contract: indexes are consecutive (each added entry's index is the previous one's + 1; the
// first may be any index >= 1) and every payload lies inside the buffer; a violation throws
// std::logic_error (a bug in the producer, not bad input) and leaves the batch as it was. Views
// (operator[], range-for) stay valid until the batch is changed, moved from or destroyed.
#pragma once

#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "broker/ledger/raft/types.h"

namespace dledger::raft {

class EntryBatch {
 public:
  struct View {
    std::uint64_t index = 0;
    std::uint64_t term = 0;
    EntryType type = EntryType::kNormal;
    std::string_view data;
  };

  std::size_t size() const { return items_.size(); }
  bool empty() const { return items_.empty(); }
  // Index of the first entry; 0 when empty.
  std::uint64_t first_index() const { return items_.empty() ? 0 : items_.front().index; }
  // Index of the last entry; 0 when empty.
  std::uint64_t last_index() const { return items_.empty() ? 0 : items_.back().index; }
  // Sum of the payload sizes.
  std::uint64_t payload_bytes() const { return payload_bytes_; }

  View operator[](std::size_t i) const {
    const Item& item = items_.at(i);
    return View{item.index, item.term, item.type,
                std::string_view(bytes_.data() + item.offset, item.size)};
  }

  // Range-for over the views, in index order.
  class Iterator {
   public:
    Iterator(const EntryBatch* batch, std::size_t i) : batch_(batch), i_(i) {}
    View operator*() const { return (*batch_)[i_]; }
    Iterator& operator++() {
      ++i_;
      return *this;
    }
    bool operator==(const Iterator& other) const { return i_ == other.i_; }

   private:
    const EntryBatch* batch_;
    std::size_t i_;
  };
  Iterator begin() const { return Iterator(this, 0); }
  Iterator end() const { return Iterator(this, items_.size()); }

  // Appends an entry, copying its payload into the buffer.
  void add(std::uint64_t index, std::uint64_t term, EntryType type, std::string_view payload) {
    check_follows(index);  // before the buffer changes: a refused entry leaves no bytes behind
    std::size_t offset = bytes_.size();
    bytes_.append(payload);
    add_in_buffer(index, term, type, offset, payload.size());
  }

  // The shared buffer, for a producer that reads raw bytes into it before describing them.
  std::string& buffer() { return bytes_; }
  // Appends an entry whose payload is buffer()[offset, offset + size).
  void add_in_buffer(std::uint64_t index, std::uint64_t term, EntryType type, std::size_t offset,
                     std::size_t size) {
    check_follows(index);
    if (offset > bytes_.size() || size > bytes_.size() - offset) {
      throw std::logic_error("EntryBatch: payload of entry " + std::to_string(index) +
                             " lies outside the buffer");
    }
    items_.push_back(Item{index, term, type, offset, size});
    payload_bytes_ += size;
  }

  void reserve(std::size_t entries) { items_.reserve(entries); }

 private:
  void check_follows(std::uint64_t index) const {
    if (index == 0 || (!items_.empty() && index != items_.back().index + 1)) {
      throw std::logic_error("EntryBatch: entry " + std::to_string(index) + " does not follow " +
                             std::to_string(last_index()));
    }
  }

  struct Item {
    std::uint64_t index;
    std::uint64_t term;
    EntryType type;
    std::size_t offset;
    std::size_t size;
  };
  std::string bytes_;
  std::vector<Item> items_;
  std::uint64_t payload_bytes_ = 0;
};

}  // namespace dledger::raft
