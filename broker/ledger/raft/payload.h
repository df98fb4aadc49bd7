// Payload: the immutable bytes of a log entry, shared between copies of the entry.
//
// The consensus core copies entries often: into each Ready (to persist), into each follower's
// append message, and a follower copies the entries of every message it accepts. With 1 KiB
// entries those byte copies and their allocations were the largest CPU cost on the leader.
// Copying a Payload only increments a reference count; the bytes are never copied or changed
// after construction, so copies may be read from any thread at the same time.
//
// It converts implicitly from and to the string types the rest of the code uses, so an entry
// still reads like a struct of plain values (`Entry{1, 1, EntryType::kNormal, "abc"}`,
// `entry.data == "abc"`, `std::string_view v = entry.data`).
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <utility>

namespace dledger::raft {

class Payload {
 public:
  Payload() = default;
  // Takes ownership of `bytes` (no byte copy when moved in).
  Payload(std::string bytes)  // NOLINT(google-explicit-constructor): a value type
      : bytes_(bytes.empty() ? nullptr : std::make_shared<std::string>(std::move(bytes))) {}
  Payload(std::string_view bytes)  // NOLINT(google-explicit-constructor)
      : Payload(std::string(bytes)) {}
  Payload(const char* bytes)  // NOLINT(google-explicit-constructor)
      : Payload(std::string(bytes)) {}

  std::size_t size() const { return bytes_ ? bytes_->size() : 0; }
  bool empty() const { return size() == 0; }
  const char* data() const { return str().data(); }
  std::string_view view() const { return str(); }
  // The bytes as a string, without copying them; valid while this Payload (or a copy) lives.
  const std::string& str() const { return bytes_ ? *bytes_ : empty_string(); }

  operator std::string_view() const { return view(); }   // NOLINT(google-explicit-constructor)
  operator const std::string&() const { return str(); }  // NOLINT(google-explicit-constructor)

  // The bytes as an owned string: moved out when no other copy shares them, copied otherwise.
  // Leaves this Payload empty.
  std::string release() && {
    std::shared_ptr<std::string> bytes = std::move(bytes_);
    if (!bytes) return {};
    if (bytes.use_count() == 1) return std::move(*bytes);
    return *bytes;
  }

  // Byte equality, with overloads for each string type so comparisons are never ambiguous.
  friend bool operator==(const Payload& a, const Payload& b) { return a.view() == b.view(); }
  friend bool operator==(const Payload& a, std::string_view b) { return a.view() == b; }
  friend bool operator==(const Payload& a, const std::string& b) { return a.view() == b; }
  friend bool operator==(const Payload& a, const char* b) { return a.view() == b; }

 private:
  static const std::string& empty_string() {
    static const std::string kEmpty;
    return kEmpty;
  }

  // The bytes are never modified after construction; release() moves them out only when this is
  // the sole owner.
  std::shared_ptr<std::string> bytes_;
};

}  // namespace dledger::raft
