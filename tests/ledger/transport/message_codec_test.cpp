#include "broker/ledger/transport/message_codec.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "broker/base/bytes.h"
#include "tests/ledger/transport/sample_messages.h"

namespace dledger::transport {
namespace {

using raft::Message;
using raft::MessageType;

void ExpectSameMessage(const Message& a, const Message& b) {
  EXPECT_EQ(a.type, b.type);
  EXPECT_EQ(a.from, b.from);
  EXPECT_EQ(a.to, b.to);
  EXPECT_EQ(a.term, b.term);
  EXPECT_EQ(a.log_index, b.log_index);
  EXPECT_EQ(a.log_term, b.log_term);
  EXPECT_EQ(a.entries, b.entries);
  EXPECT_EQ(a.commit, b.commit);
  EXPECT_EQ(a.success, b.success);
  EXPECT_EQ(a.match_index, b.match_index);
  EXPECT_EQ(a.conflict_term, b.conflict_term);
  EXPECT_EQ(a.conflict_index, b.conflict_index);
  EXPECT_EQ(a.snapshot, b.snapshot);
  EXPECT_EQ(a.transfer, b.transfer);
}

TEST(MessageCodec, EveryMessageTypeRoundTrips) {
  for (const Message& m : testing_samples::sample_messages()) {
    SCOPED_TRACE(message_type_label(m.type));
    std::string bytes = encode_message(m);
    EXPECT_EQ(bytes.size(), encoded_message_size(m));
    Result<Message> decoded = decode_message(bytes);
    ASSERT_TRUE(decoded.ok()) << decoded.error().to_string();
    ExpectSameMessage(m, *decoded);
    EXPECT_EQ(encode_message(*decoded), bytes);
  }
}

TEST(MessageCodec, ExtremeFieldValuesRoundTrip) {
  Message m;
  m.type = MessageType::kAppendResponse;
  m.from = 0;
  m.to = raft::kNoNode - 1;
  m.term = UINT64_MAX;
  m.log_index = UINT64_MAX;
  m.log_term = UINT64_MAX;
  m.commit = UINT64_MAX;
  m.match_index = UINT64_MAX;
  m.conflict_term = UINT64_MAX;
  m.conflict_index = UINT64_MAX;
  m.success = true;
  m.transfer = true;
  Result<Message> decoded = decode_message(encode_message(m));
  ASSERT_TRUE(decoded.ok()) << decoded.error().to_string();
  ExpectSameMessage(m, *decoded);
}

TEST(MessageCodec, EncodeAppendsToExistingBuffer) {
  Message m = testing_samples::append_with_entries(3, 100);
  std::string out = "prefix";
  encode_message(m, &out);
  ASSERT_EQ(out.substr(0, 6), "prefix");
  Result<Message> decoded = decode_message(std::string_view(out).substr(6));
  ASSERT_TRUE(decoded.ok()) << decoded.error().to_string();
  ExpectSameMessage(m, *decoded);
}

// Byte offsets of the fixed header (see message_codec.h).
constexpr std::size_t kTypeOffset = 1;
constexpr std::size_t kFromOffset = 2;
constexpr std::size_t kFlagsOffset = 1 + 1 + 4 + 4 + 32;
constexpr std::size_t kEntryCountOffset = kFlagsOffset + 1 + 24;
constexpr std::size_t kFirstEntryOffset = kEntryCountOffset + 4;

void PatchU32(std::string* bytes, std::size_t offset, std::uint32_t v) {
  ByteWriter(bytes).patch_u32(offset, v);
}

std::string DecodeError(const std::string& bytes, const CodecLimits& limits = {}) {
  Result<Message> decoded = decode_message(bytes, limits);
  if (decoded.ok()) return "decoded successfully";
  EXPECT_EQ(decoded.error().code, ErrorCode::kInvalidArgument);
  return decoded.error().message;
}

TEST(MessageCodec, UnknownMessageTypeIsRejectedNamingTheField) {
  std::string bytes = encode_message(testing_samples::append_with_entries(0, 0));
  bytes[kTypeOffset] = 42;
  EXPECT_NE(DecodeError(bytes).find("type 42 is not a known message type (offset 1)"),
            std::string::npos)
      << DecodeError(bytes);
}

TEST(MessageCodec, UnknownCodecVersionIsRejected) {
  std::string bytes = encode_message(testing_samples::append_with_entries(0, 0));
  bytes[0] = 7;
  EXPECT_NE(DecodeError(bytes).find("codec version 7"), std::string::npos);
}

TEST(MessageCodec, ReservedNodeIdIsRejected) {
  std::string bytes = encode_message(testing_samples::append_with_entries(0, 0));
  PatchU32(&bytes, kFromOffset, raft::kNoNode);
  EXPECT_NE(DecodeError(bytes).find("from is the reserved id"), std::string::npos);
}

TEST(MessageCodec, UnknownFlagBitsAreRejected) {
  std::string bytes = encode_message(testing_samples::append_with_entries(0, 0));
  bytes[kFlagsOffset] = static_cast<char>(0x80);
  EXPECT_NE(DecodeError(bytes).find("flags has unknown bits"), std::string::npos);
}

TEST(MessageCodec, UnknownEntryTypeIsRejectedNamingTheEntry) {
  std::string bytes = encode_message(testing_samples::append_with_entries(2, 4));
  // Second entry: header (8 + 8 + 1 + 4) + 4 data bytes after the first entry.
  std::size_t second_type = kFirstEntryOffset + (21 + 4) + 16;
  bytes[second_type] = 9;
  EXPECT_NE(DecodeError(bytes).find("entries[1].type 9 is not a known entry type"),
            std::string::npos)
      << DecodeError(bytes);
}

TEST(MessageCodec, EntryCountLargerThanInputIsRejected) {
  std::string bytes = encode_message(testing_samples::append_with_entries(1, 4));
  PatchU32(&bytes, kEntryCountOffset, 1'000);
  EXPECT_NE(DecodeError(bytes).find("entry count 1000 cannot fit"), std::string::npos)
      << DecodeError(bytes);
}

TEST(MessageCodec, EntryCountAboveLimitIsRejected) {
  std::string bytes = encode_message(testing_samples::append_with_entries(5, 1));
  CodecLimits limits;
  limits.max_entries = 4;
  EXPECT_NE(DecodeError(bytes, limits).find("entry count 5 exceeds the limit 4"),
            std::string::npos);
}

TEST(MessageCodec, EntryDataLongerThanInputIsRejected) {
  std::string bytes = encode_message(testing_samples::append_with_entries(1, 4));
  PatchU32(&bytes, kFirstEntryOffset + 17, 900);
  EXPECT_NE(
      DecodeError(bytes).find("entries[0].data length 900 exceeds the 4 remaining bytes (offset " +
                              std::to_string(kFirstEntryOffset + 21) + ")"),
      std::string::npos)
      << DecodeError(bytes);
}

TEST(MessageCodec, EntryAboveSizeLimitIsRejected) {
  std::string bytes = encode_message(testing_samples::append_with_entries(1, 100));
  CodecLimits limits;
  limits.max_entry_bytes = 99;
  EXPECT_NE(DecodeError(bytes, limits).find("entries[0].data length 100 exceeds the limit 99"),
            std::string::npos);
}

TEST(MessageCodec, SnapshotAboveSizeLimitIsRejected) {
  std::string bytes = encode_message(testing_samples::install_snapshot(1000));
  CodecLimits limits;
  limits.max_snapshot_bytes = 999;
  EXPECT_NE(DecodeError(bytes, limits).find("snapshot.data length 1000 exceeds the limit 999"),
            std::string::npos)
      << DecodeError(bytes, limits);
}

TEST(MessageCodec, MembersAboveLimitAreRejected) {
  std::string bytes = encode_message(testing_samples::install_snapshot(10));
  CodecLimits limits;
  limits.max_members = 2;
  EXPECT_NE(DecodeError(bytes, limits).find("snapshot.member count 3 exceeds the limit 2"),
            std::string::npos);
}

TEST(MessageCodec, TrailingBytesAreRejected) {
  std::string bytes = encode_message(testing_samples::append_with_entries(1, 1));
  bytes += "xy";
  EXPECT_NE(DecodeError(bytes).find("2 trailing bytes"), std::string::npos);
}

TEST(MessageCodec, EmptyInputIsRejectedAsTruncated) {
  EXPECT_NE(DecodeError("").find("codec version truncated"), std::string::npos);
}

TEST(MessageCodec, NonConsecutiveEntryIndexesAreRejected) {
  Message m = testing_samples::append_with_entries(3, 1);
  m.entries[2].index += 1;
  EXPECT_NE(DecodeError(encode_message(m)).find("entries[2].index"), std::string::npos);
}

TEST(MessageCodec, EntryTermsThatDecreaseOrExceedTheMessageTermAreRejected) {
  Message m = testing_samples::append_with_entries(3, 1);
  m.entries[1].term = m.term + 1;
  EXPECT_NE(DecodeError(encode_message(m)).find("entries[1].term"), std::string::npos);
  m = testing_samples::append_with_entries(3, 1);
  m.entries[0].term = m.log_term - 1;
  EXPECT_NE(DecodeError(encode_message(m)).find("entries[0].term"), std::string::npos);
}

TEST(MessageCodec, EntriesOutsideAppendAreRejected) {
  Message m = testing_samples::append_with_entries(1, 1);
  m.type = MessageType::kVote;
  EXPECT_NE(DecodeError(encode_message(m)).find("only Append carries entries"), std::string::npos);
}

TEST(MessageCodec, SnapshotPresenceMustMatchTheType) {
  Message m = testing_samples::install_snapshot(4);
  m.snapshot.reset();
  EXPECT_NE(DecodeError(encode_message(m)).find("carry no snapshot"), std::string::npos);
  m = testing_samples::install_snapshot(4);
  m.type = MessageType::kAppend;
  EXPECT_NE(DecodeError(encode_message(m)).find("carry a snapshot"), std::string::npos);
}

TEST(MessageCodec, UnsortedOrInvalidSnapshotMembersAreRejected) {
  Message m = testing_samples::install_snapshot(4);
  std::swap(m.snapshot->meta.membership.members[0], m.snapshot->meta.membership.members[1]);
  EXPECT_NE(DecodeError(encode_message(m)).find("snapshot.members[1].id"), std::string::npos);
  m = testing_samples::install_snapshot(4);
  m.snapshot->meta.membership.members[2].id = raft::kNoNode;
  EXPECT_NE(DecodeError(encode_message(m)).find("snapshot.members[2].id is the reserved id"),
            std::string::npos);
}

// Decoding every prefix and every single-bit corruption never crashes (ASan/UBSan builds check
// for out-of-bounds access); when it succeeds, the result re-encodes to the exact input.
TEST(MessageCodec, TruncatedOrBitFlippedInputFailsCleanlyOrDecodesToAValidMessage) {
  for (const Message& m : testing_samples::sample_messages()) {
    SCOPED_TRACE(message_type_label(m.type));
    const std::string bytes = encode_message(m);
    for (std::size_t length = 0; length < bytes.size(); ++length) {
      Result<Message> decoded = decode_message(std::string_view(bytes).substr(0, length));
      ASSERT_FALSE(decoded.ok()) << "prefix of " << length << " bytes decoded";
      EXPECT_FALSE(decoded.error().message.empty());
    }
    for (std::size_t pos = 0; pos < bytes.size(); ++pos) {
      for (int bit = 0; bit < 8; ++bit) {
        std::string corrupt = bytes;
        corrupt[pos] = static_cast<char>(corrupt[pos] ^ (1 << bit));
        Result<Message> decoded = decode_message(corrupt);
        if (decoded.ok()) {
          EXPECT_EQ(encode_message(*decoded), corrupt) << "pos " << pos << " bit " << bit;
        } else {
          EXPECT_EQ(decoded.error().code, ErrorCode::kInvalidArgument);
          EXPECT_NE(decoded.error().message.find("raft message: "), std::string::npos);
        }
      }
    }
  }
}

// The fuzzer's seed corpus must stay decodable as the format evolves.
TEST(MessageCodec, SeedCorpusFilesDecodeAndReencodeIdentically) {
  std::size_t files = 0;
  for (const auto& entry : std::filesystem::directory_iterator(DLEDGER_TRANSPORT_CORPUS_DIR)) {
    std::ifstream in(entry.path(), std::ios::binary);
    std::stringstream bytes;
    bytes << in.rdbuf();
    Result<Message> decoded = decode_message(bytes.str());
    ASSERT_TRUE(decoded.ok()) << entry.path() << ": " << decoded.error().to_string();
    EXPECT_EQ(encode_message(*decoded), bytes.str()) << entry.path();
    ++files;
  }
  EXPECT_GE(files, 10u);
}

}  // namespace
}  // namespace dledger::transport
