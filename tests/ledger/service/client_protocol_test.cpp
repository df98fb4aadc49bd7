#include "broker/ledger/service/client_protocol.h"

#include <gtest/gtest.h>

#include "broker/base/bytes.h"
#include "broker/base/crc32c.h"

namespace dledger::service {
namespace {

// Splits one encoded frame into header and body, checking the header.
struct Split {
  FrameHeader header;
  std::string body;
};
Split split(const std::string& frame, FrameLimits limits = {}) {
  auto header = decode_frame_header(frame, limits);
  EXPECT_TRUE(header.ok()) << header.error().message;
  std::string body = frame.substr(kFrameHeaderBytes);
  EXPECT_EQ(header->body_bytes(), body.size());
  EXPECT_TRUE(verify_frame_crc(frame, body).ok());
  return Split{*header, body};
}

// Re-computes the checksum after a test tampered with a frame's body.
void reseal(std::string* frame) {
  std::string_view all(*frame);
  std::uint32_t crc = crc32c_extend(crc32c(all.substr(4, 12)), all.substr(kFrameHeaderBytes));
  std::string patched;
  ByteWriter w(&patched);
  w.u32(crc);
  frame->replace(16, 4, patched);
  ByteWriter lw(frame);
  lw.patch_u32(0, static_cast<std::uint32_t>(frame->size() - 4));
}

TEST(ClientProtocol, AppendRequestRoundTripsBatchWithEmptyAndBinaryEntries) {
  std::vector<std::string> entries = {"hello", "", std::string("\0\xff\x01", 3)};
  std::string frame;
  encode_append_request(42, entries, &frame);
  EXPECT_EQ(frame.size(), encoded_append_request_bytes(entries));
  Split s = split(frame);
  EXPECT_EQ(s.header.kind, FrameKind::kAppendRequest);
  EXPECT_EQ(s.header.request_id, 42u);
  auto decoded = decode_append_request(s.body, {});
  ASSERT_TRUE(decoded.ok()) << decoded.error().message;
  EXPECT_EQ(decoded->entries, entries);
}

TEST(ClientProtocol, ResponsesRoundTrip) {
  std::string frame;
  encode_append_response(7, AppendResponse{100, 3, 5}, &frame);
  Split a = split(frame);
  EXPECT_EQ(a.header.kind, FrameKind::kAppendResponse);
  auto append = decode_append_response(a.body);
  ASSERT_TRUE(append.ok());
  EXPECT_EQ(append->first_index, 100u);
  EXPECT_EQ(append->term, 3u);
  EXPECT_EQ(append->count, 5u);

  frame.clear();
  encode_get_response(8, GetResponse{9, 2, raft::EntryType::kNoOp, "payload"}, &frame);
  Split g = split(frame);
  auto get = decode_get_response(g.body);
  ASSERT_TRUE(get.ok());
  EXPECT_EQ(get->index, 9u);
  EXPECT_EQ(get->term, 2u);
  EXPECT_EQ(get->type, raft::EntryType::kNoOp);
  EXPECT_EQ(get->data, "payload");

  frame.clear();
  encode_error_response(9, ErrorResponse{ErrorCode::kNotLeader, 2, "leader is n2"}, &frame);
  Split e = split(frame);
  auto error = decode_error_response(e.body);
  ASSERT_TRUE(error.ok());
  EXPECT_EQ(error->code, ErrorCode::kNotLeader);
  EXPECT_EQ(error->leader_id, 2u);
  EXPECT_EQ(error->message, "leader is n2");

  frame.clear();
  encode_get_request(10, 55, &frame);
  Split r = split(frame);
  auto req = decode_get_request(r.body);
  ASSERT_TRUE(req.ok());
  EXPECT_EQ(req->index, 55u);
}

TEST(ClientProtocol, EveryErrorCodeHasAStableWireNumber) {
  for (std::uint16_t wire = 1; wire <= 14; ++wire) {
    auto code = error_code_from_wire(wire);
    ASSERT_TRUE(code.has_value()) << wire;
    EXPECT_EQ(error_code_to_wire(*code), wire);
  }
  EXPECT_FALSE(error_code_from_wire(0).has_value());
  EXPECT_FALSE(error_code_from_wire(15).has_value());
}

TEST(ClientProtocol, LongErrorMessagesAreCutToTheLimit) {
  std::string frame;
  encode_error_response(1,
                        ErrorResponse{ErrorCode::kInternal, raft::kNoNode,
                                      std::string(kMaxErrorMessageBytes + 100, 'x')},
                        &frame);
  auto error = decode_error_response(split(frame).body);
  ASSERT_TRUE(error.ok());
  EXPECT_EQ(error->message.size(), kMaxErrorMessageBytes);
}

TEST(ClientProtocol, HeaderRejectsBadVersionKindReservedAndLength) {
  std::string good;
  encode_get_request(1, 1, &good);
  FrameLimits limits;

  std::string bad_version = good;
  bad_version[4] = 2;
  auto v = decode_frame_header(bad_version, limits);
  ASSERT_FALSE(v.ok());
  EXPECT_NE(v.error().message.find("version 2"), std::string::npos);

  std::string bad_kind = good;
  bad_kind[5] = 9;
  auto k = decode_frame_header(bad_kind, limits);
  ASSERT_FALSE(k.ok());
  EXPECT_NE(k.error().message.find("kind 9"), std::string::npos);

  std::string bad_reserved = good;
  bad_reserved[6] = 1;
  EXPECT_FALSE(decode_frame_header(bad_reserved, limits).ok());

  std::string too_short = good;
  ByteWriter(&too_short).patch_u32(0, 15);
  EXPECT_FALSE(decode_frame_header(too_short, limits).ok());

  FrameLimits tiny;
  tiny.max_frame_bytes = 20;
  auto big = decode_frame_header(good, tiny);  // frame_length 24 > 20
  ASSERT_FALSE(big.ok());
  EXPECT_NE(big.error().message.find("frame_length 24"), std::string::npos);

  EXPECT_FALSE(decode_frame_header(good.substr(0, 10), limits).ok());
}

TEST(ClientProtocol, FlippedBodyBitFailsTheChecksum) {
  std::string frame;
  encode_append_request(1, {"abcdef"}, &frame);
  frame.back() ^= 0x01;
  FrameReader reader({});
  reader.feed(frame.data(), frame.size());
  auto next = reader.next();
  ASSERT_FALSE(next.ok());
  EXPECT_NE(next.error().message.find("checksum"), std::string::npos);
}

TEST(ClientProtocol, MalformedAppendBodiesAreRejectedWithTheField) {
  FrameLimits limits;
  limits.max_batch_entries = 4;
  // Zero entries.
  std::string zero;
  ByteWriter(&zero).u32(0);
  EXPECT_FALSE(decode_append_request(zero, limits).ok());
  // Too many entries.
  std::string many;
  ByteWriter(&many).u32(5);
  auto m = decode_append_request(many, limits);
  ASSERT_FALSE(m.ok());
  EXPECT_NE(m.error().message.find("entry count 5"), std::string::npos);
  // Count that cannot fit the body (no allocation of 3 entries from 0 bytes).
  std::string unfit;
  ByteWriter(&unfit).u32(3);
  EXPECT_FALSE(decode_append_request(unfit, limits).ok());
  // Entry length beyond the body.
  std::string overlong;
  ByteWriter w(&overlong);
  w.u32(1);
  w.u32(1000);
  w.bytes("abc");
  auto o = decode_append_request(overlong, limits);
  ASSERT_FALSE(o.ok());
  EXPECT_NE(o.error().message.find("entries[0] length 1000"), std::string::npos);
  // Trailing bytes.
  std::string trailing;
  ByteWriter t(&trailing);
  t.u32(1);
  t.blob32("ab");
  t.u8(0);
  EXPECT_FALSE(decode_append_request(trailing, limits).ok());
}

TEST(ClientProtocol, MalformedResponseBodiesAreRejected) {
  EXPECT_FALSE(decode_append_response("short").ok());
  std::string zero_index;
  ByteWriter z(&zero_index);
  z.u64(0);
  z.u64(1);
  z.u32(1);
  EXPECT_FALSE(decode_append_response(zero_index).ok());
  std::string bad_type;
  ByteWriter b(&bad_type);
  b.u64(1);
  b.u64(1);
  b.u8(7);
  b.blob32("x");
  EXPECT_FALSE(decode_get_response(bad_type).ok());
  std::string bad_code;
  ByteWriter c(&bad_code);
  c.u16(99);
  c.u32(0);
  c.u16(0);
  EXPECT_FALSE(decode_error_response(bad_code).ok());
  std::string zero_get;
  ByteWriter g(&zero_get);
  g.u64(0);
  EXPECT_FALSE(decode_get_request(zero_get).ok());
}

TEST(ClientProtocol, ResealedTamperedFrameStillFailsBodyValidation) {
  std::string frame;
  encode_get_request(3, 5, &frame);
  frame += "junk";
  reseal(&frame);
  FrameReader reader({});
  reader.feed(frame.data(), frame.size());
  auto next = reader.next();
  ASSERT_TRUE(next.ok());
  ASSERT_TRUE(next->has_value());
  EXPECT_FALSE(decode_get_request((*next)->body).ok());
}

TEST(ClientProtocol, FrameReaderReassemblesFramesFedByteByByte) {
  std::string stream;
  encode_append_request(1, {"first"}, &stream);
  encode_get_request(2, 17, &stream);
  encode_append_request(3, {"x", "y"}, &stream);
  FrameReader reader({});
  std::vector<std::uint64_t> ids;
  for (char c : stream) {
    reader.feed(&c, 1);
    while (true) {
      auto next = reader.next();
      ASSERT_TRUE(next.ok()) << next.error().message;
      if (!next->has_value()) break;
      ids.push_back((*next)->header.request_id);
    }
  }
  EXPECT_EQ(ids, (std::vector<std::uint64_t>{1, 2, 3}));
  EXPECT_EQ(reader.buffered_bytes(), 0u);
}

TEST(ClientProtocol, FrameReaderRejectsAnOversizedLengthBeforeTheBodyArrives) {
  std::string header;
  ByteWriter(&header).u32(1u << 31);
  FrameReader reader({});
  reader.feed(header.data(), header.size());
  auto next = reader.next();
  ASSERT_FALSE(next.ok());
  EXPECT_NE(next.error().message.find("frame_length"), std::string::npos);
}

}  // namespace
}  // namespace dledger::service
