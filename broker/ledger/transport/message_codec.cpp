#include "broker/ledger/transport/message_codec.h"

#include <cstdint>
#include <optional>
#include <string>
#include <utility>

#include "broker/base/bytes.h"

namespace dledger::transport {
namespace {

constexpr std::uint8_t kFlagSuccess = 1u << 0;
constexpr std::uint8_t kFlagTransfer = 1u << 1;
constexpr std::uint8_t kFlagSnapshot = 1u << 2;
constexpr std::uint8_t kKnownFlags = kFlagSuccess | kFlagTransfer | kFlagSnapshot;

// Fixed part: version, type, from, to, term, log_index, log_term, commit, flags, match_index,
// conflict_term, conflict_index, entry count.
constexpr std::size_t kFixedBytes = 1 + 1 + 4 + 4 + 8 * 4 + 1 + 8 * 3 + 4;
constexpr std::size_t kEntryHeaderBytes = 8 + 8 + 1 + 4;
constexpr std::size_t kSnapshotFixedBytes = 8 + 8 + 4 + 8;
constexpr std::size_t kMemberHeaderBytes = 4 + 1 + 2;

bool known_message_type(std::uint8_t v) {
  return v >= 1 && v <= 9;
}
bool known_entry_type(std::uint8_t v) {
  return v >= 1 && v <= 3;
}

// A field name, formatted only when an error is reported ("entries[3].data").
struct Field {
  std::string_view base;
  std::int64_t index = -1;
  std::string_view member = {};

  Field(const char* b) : base(b) {}  // NOLINT(google-explicit-constructor)
  Field(std::string_view b, std::int64_t i, std::string_view m) : base(b), index(i), member(m) {}

  std::string str() const {
    std::string s(base);
    if (index >= 0) s += "[" + std::to_string(index) + "]";
    if (!member.empty()) {
      s += ".";
      s += member;
    }
    return s;
  }
};

// Reads fields and turns the first failure into an Error naming the field and offset.
class Decoder {
 public:
  explicit Decoder(std::string_view in) : reader_(in) {}

  bool failed() const { return error_.has_value(); }
  Error take_error() { return std::move(*error_); }

  void fail(const Field& field, const std::string& what) {
    if (error_) return;
    error_ = make_error(ErrorCode::kInvalidArgument, "raft message: " + field.str() + " " + what +
                                                         " (offset " +
                                                         std::to_string(field_offset_) + ")");
  }

  template <typename T, typename Read>
  T read(const Field& field, std::size_t width, Read read_fn) {
    if (failed()) return T{};
    field_offset_ = reader_.position();
    if (reader_.remaining() < width) {
      fail(field, "truncated: needs " + std::to_string(width) + " bytes, " +
                      std::to_string(reader_.remaining()) + " remain");
      return T{};
    }
    return read_fn(reader_);
  }
  std::uint8_t u8(const Field& f) {
    return read<std::uint8_t>(f, 1, [](ByteReader& r) { return r.u8(); });
  }
  std::uint16_t u16(const Field& f) {
    return read<std::uint16_t>(f, 2, [](ByteReader& r) { return r.u16(); });
  }
  std::uint32_t u32(const Field& f) {
    return read<std::uint32_t>(f, 4, [](ByteReader& r) { return r.u32(); });
  }
  std::uint64_t u64(const Field& f) {
    return read<std::uint64_t>(f, 8, [](ByteReader& r) { return r.u64(); });
  }

  // A byte string of `length` bytes; checks the limit first, then the remaining input.
  std::string_view bytes(const Field& field, std::uint64_t length, std::size_t limit) {
    if (failed()) return {};
    field_offset_ = reader_.position();
    if (length > limit) {
      fail(field,
           "length " + std::to_string(length) + " exceeds the limit " + std::to_string(limit));
      return {};
    }
    if (length > reader_.remaining()) {
      fail(field, "length " + std::to_string(length) + " exceeds the " +
                      std::to_string(reader_.remaining()) + " remaining bytes");
      return {};
    }
    return reader_.bytes(static_cast<std::size_t>(length));
  }

  // A count of items each at least `min_item_bytes` long: checks the limit and that the remaining
  // input could hold that many, so hostile counts never drive a large reserve().
  bool check_count(const Field& field, std::uint64_t count, std::size_t limit,
                   std::size_t min_item_bytes) {
    if (failed()) return false;
    if (count > limit) {
      fail(field, std::to_string(count) + " exceeds the limit " + std::to_string(limit));
      return false;
    }
    if (count > reader_.remaining() / min_item_bytes) {
      fail(field, std::to_string(count) + " cannot fit in the " +
                      std::to_string(reader_.remaining()) + " remaining bytes");
      return false;
    }
    return true;
  }

  std::size_t remaining() const { return reader_.remaining(); }
  void mark_position() { field_offset_ = reader_.position(); }

 private:
  ByteReader reader_;
  std::optional<Error> error_;
  std::size_t field_offset_ = 0;  // where the field being read or checked starts
};

void encode_membership_into(const raft::Membership& membership, ByteWriter& w) {
  w.u32(static_cast<std::uint32_t>(membership.members.size()));
  for (const raft::Member& m : membership.members) {
    w.u32(m.id);
    w.u8(m.voter ? 1 : 0);
    w.u16(static_cast<std::uint16_t>(m.address.size()));
    w.bytes(m.address);
  }
}

}  // namespace

const char* message_type_label(raft::MessageType type) {
  switch (type) {
    case raft::MessageType::kPreVote:
      return "PreVote";
    case raft::MessageType::kPreVoteResponse:
      return "PreVoteResponse";
    case raft::MessageType::kVote:
      return "Vote";
    case raft::MessageType::kVoteResponse:
      return "VoteResponse";
    case raft::MessageType::kAppend:
      return "Append";
    case raft::MessageType::kAppendResponse:
      return "AppendResponse";
    case raft::MessageType::kInstallSnapshot:
      return "InstallSnapshot";
    case raft::MessageType::kInstallSnapshotResponse:
      return "InstallSnapshotResponse";
    case raft::MessageType::kTimeoutNow:
      return "TimeoutNow";
  }
  return "unknown";
}

std::size_t encoded_message_size(const raft::Message& message) {
  std::size_t size = kFixedBytes;
  for (const raft::Entry& e : message.entries) size += kEntryHeaderBytes + e.data.size();
  if (message.snapshot) {
    size += kSnapshotFixedBytes + message.snapshot->data.size();
    for (const raft::Member& m : message.snapshot->meta.membership.members) {
      size += kMemberHeaderBytes + m.address.size();
    }
  }
  return size;
}

void encode_message(const raft::Message& message, std::string* out) {
  out->reserve(out->size() + encoded_message_size(message));
  ByteWriter w(out);
  w.u8(kMessageCodecVersion);
  w.u8(static_cast<std::uint8_t>(message.type));
  w.u32(message.from);
  w.u32(message.to);
  w.u64(message.term);
  w.u64(message.log_index);
  w.u64(message.log_term);
  w.u64(message.commit);
  std::uint8_t flags = 0;
  if (message.success) flags |= kFlagSuccess;
  if (message.transfer) flags |= kFlagTransfer;
  if (message.snapshot) flags |= kFlagSnapshot;
  w.u8(flags);
  w.u64(message.match_index);
  w.u64(message.conflict_term);
  w.u64(message.conflict_index);
  w.u32(static_cast<std::uint32_t>(message.entries.size()));
  for (const raft::Entry& e : message.entries) {
    w.u64(e.index);
    w.u64(e.term);
    w.u8(static_cast<std::uint8_t>(e.type));
    w.blob32(e.data);
  }
  if (message.snapshot) {
    const raft::Snapshot& s = *message.snapshot;
    w.u64(s.meta.index);
    w.u64(s.meta.term);
    encode_membership_into(s.meta.membership, w);
    w.u64(s.data.size());
    w.bytes(s.data);
  }
}

std::string encode_message(const raft::Message& message) {
  std::string out;
  encode_message(message, &out);
  return out;
}

Result<raft::Message> decode_message(std::string_view bytes, const CodecLimits& limits) {
  Decoder d(bytes);
  raft::Message m;
  std::uint8_t version = d.u8("codec version");
  if (!d.failed() && version != kMessageCodecVersion) {
    d.fail("codec version", std::to_string(version) + " is not supported (expected " +
                                std::to_string(kMessageCodecVersion) + ")");
  }
  std::uint8_t type = d.u8("type");
  if (!d.failed() && !known_message_type(type)) {
    d.fail("type", std::to_string(type) + " is not a known message type");
  }
  m.type = static_cast<raft::MessageType>(type);
  m.from = d.u32("from");
  if (!d.failed() && m.from == raft::kNoNode) d.fail("from", "is the reserved id kNoNode");
  m.to = d.u32("to");
  if (!d.failed() && m.to == raft::kNoNode) d.fail("to", "is the reserved id kNoNode");
  m.term = d.u64("term");
  m.log_index = d.u64("log_index");
  m.log_term = d.u64("log_term");
  m.commit = d.u64("commit");
  std::uint8_t flags = d.u8("flags");
  if (!d.failed() && (flags & ~kKnownFlags) != 0) {
    d.fail("flags", "has unknown bits set (value " + std::to_string(flags) + ")");
  }
  const bool has_snapshot = (flags & kFlagSnapshot) != 0;
  const bool wants_snapshot = m.type == raft::MessageType::kInstallSnapshot;
  if (!d.failed() && has_snapshot != wants_snapshot) {
    d.fail("flags",
           has_snapshot
               ? std::string("carry a snapshot but the type is ") + message_type_label(m.type)
               : std::string("carry no snapshot but the type is InstallSnapshot"));
  }
  m.success = (flags & kFlagSuccess) != 0;
  m.transfer = (flags & kFlagTransfer) != 0;
  m.match_index = d.u64("match_index");
  m.conflict_term = d.u64("conflict_term");
  m.conflict_index = d.u64("conflict_index");

  std::uint32_t entry_count = d.u32("entry count");
  if (!d.failed() && entry_count > 0 && m.type != raft::MessageType::kAppend) {
    d.fail("entry count", std::to_string(entry_count) + " but only Append carries entries (type " +
                              message_type_label(m.type) + ")");
  }
  if (d.check_count("entry count", entry_count, limits.max_entries, kEntryHeaderBytes)) {
    m.entries.reserve(entry_count);
    std::uint64_t previous_term = m.log_term;
    for (std::uint32_t i = 0; i < entry_count && !d.failed(); ++i) {
      auto name = [i](std::string_view member) { return Field("entries", i, member); };
      raft::Entry e;
      e.index = d.u64(name("index"));
      if (!d.failed() && e.index != m.log_index + 1 + i) {
        d.fail(name("index"), std::to_string(e.index) + " is not consecutive (expected " +
                                  std::to_string(m.log_index + 1 + i) + ")");
      }
      e.term = d.u64(name("term"));
      if (!d.failed() && (e.term < previous_term || e.term > m.term)) {
        d.fail(name("term"), std::to_string(e.term) + " is outside [" +
                                 std::to_string(previous_term) + ", " + std::to_string(m.term) +
                                 "] (terms never decrease nor exceed the message term)");
      }
      previous_term = e.term;
      std::uint8_t entry_type = d.u8(name("type"));
      if (!d.failed() && !known_entry_type(entry_type)) {
        d.fail(name("type"), std::to_string(entry_type) + " is not a known entry type");
      }
      e.type = static_cast<raft::EntryType>(entry_type);
      std::uint32_t length = d.u32(name("data length"));
      e.data = std::string(d.bytes(name("data"), length, limits.max_entry_bytes));
      if (!d.failed()) m.entries.push_back(std::move(e));
    }
  }

  if (!d.failed() && has_snapshot) {
    raft::Snapshot s;
    s.meta.index = d.u64("snapshot.index");
    s.meta.term = d.u64("snapshot.term");
    std::uint32_t member_count = d.u32("snapshot.member count");
    if (d.check_count("snapshot.member count", member_count, limits.max_members,
                      kMemberHeaderBytes)) {
      s.meta.membership.members.reserve(member_count);
      for (std::uint32_t i = 0; i < member_count && !d.failed(); ++i) {
        auto name = [i](std::string_view member) { return Field("snapshot.members", i, member); };
        raft::Member member;
        member.id = d.u32(name("id"));
        if (!d.failed() && member.id == raft::kNoNode) {
          d.fail(name("id"), "is the reserved id kNoNode");
        }
        if (!d.failed() && i > 0 && member.id <= s.meta.membership.members.back().id) {
          d.fail(name("id"), std::to_string(member.id) +
                                 " is not above the previous member id (members are sorted)");
        }
        std::uint8_t voter = d.u8(name("voter"));
        if (!d.failed() && voter > 1) {
          d.fail(name("voter"), std::to_string(voter) + " is not 0 or 1");
        }
        member.voter = voter == 1;
        std::uint16_t length = d.u16(name("address length"));
        member.address = std::string(d.bytes(name("address"), length, limits.max_address_bytes));
        if (!d.failed()) s.meta.membership.members.push_back(std::move(member));
      }
    }
    std::uint64_t data_length = d.u64("snapshot.data length");
    s.data = std::string(d.bytes("snapshot.data", data_length, limits.max_snapshot_bytes));
    if (!d.failed()) m.snapshot = std::move(s);
  }

  if (!d.failed() && d.remaining() != 0) {
    d.mark_position();
    d.fail("end", std::to_string(d.remaining()) + " trailing bytes after the message");
  }
  if (d.failed()) return d.take_error();
  return m;
}

}  // namespace dledger::transport
