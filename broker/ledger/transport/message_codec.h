// Binary encoding of raft::Message for the peer transport (the payload of a kRaftMessage frame).
//
// Layout, version 1, all integers little-endian (broker/base/bytes.h):
//
//   u8  codec version (1)        u8  message type (raft::MessageType, 1..9)
//   u32 from                     u32 to
//   u64 term                     u64 log_index        u64 log_term         u64 commit
//   u8  flags: bit0 success, bit1 transfer, bit2 snapshot present; other bits must be zero
//   u64 match_index              u64 conflict_term    u64 conflict_index
//   u32 entry count, then per entry:
//       u64 index  u64 term  u8 type (raft::EntryType, 1..3)  u32 data length  data
//   if flags.bit2 (snapshot):
//       u64 meta.index  u64 meta.term
//       u32 member count, then per member: u32 id  u8 voter (0/1)  u16 address length  address
//       u64 data length  data
//
// Nothing may follow the last field.
//
// Decoding validates the whole input and never reads out of bounds; on any fault it returns a
// kInvalidArgument Error naming the field and the byte offset, e.g.
//   "raft message: entries[3].data length 900 exceeds the 20 remaining bytes (offset 161)".
// Beyond the structure it checks the shape a well-behaved peer always sends (so the consensus
// core never sees an impossible message): from/to are not kNoNode; entries appear only in kAppend
// and are consecutive (entries[i].index == log_index + 1 + i) with terms that never decrease,
// start at or above log_term and never exceed the message term; a snapshot appears exactly in
// kInstallSnapshot; snapshot members are sorted by strictly increasing id, none is kNoNode.
// encode_message() accepts any Message; one that violates this shape encodes but will not decode.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "broker/base/result.h"
#include "broker/ledger/raft/types.h"

namespace dledger::transport {

inline constexpr std::uint8_t kMessageCodecVersion = 1;

// Limits applied while decoding; anything larger is rejected before any allocation happens.
struct CodecLimits {
  std::size_t max_entries = 100'000;             // entries in one kAppend
  std::size_t max_entry_bytes = 64ull << 20;     // data of one entry
  std::size_t max_snapshot_bytes = 64ull << 20;  // snapshot data (bounded by the frame size too)
  std::size_t max_members = 1'000;               // members in a snapshot's membership
  std::size_t max_address_bytes = 1'024;         // one member address
};

// Exact number of bytes encode_message() appends for `message`.
std::size_t encoded_message_size(const raft::Message& message);

// Appends the encoding of `message` to `*out`. Never fails.
void encode_message(const raft::Message& message, std::string* out);
std::string encode_message(const raft::Message& message);

// Decodes exactly one message occupying all of `bytes`. Errors (kInvalidArgument) name the field.
Result<raft::Message> decode_message(std::string_view bytes, const CodecLimits& limits = {});

// "AppendResponse" etc.; "unknown" for values outside the enum. (Local so the codec needs only
// the header-only parts of raft/types.h.)
const char* message_type_label(raft::MessageType type);

}  // namespace dledger::transport
