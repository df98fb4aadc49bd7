#include "broker/ledger/transport/frame.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "broker/base/bytes.h"

namespace dledger::transport {
namespace {

struct Decoded {
  FrameType type;
  std::string payload;
};

// Feeds `stream` in chunks of `chunk` bytes and collects frames until an error or the end.
Result<std::vector<Decoded>> DecodeInChunks(FrameDecoder& decoder, std::string_view stream,
                                            std::size_t chunk) {
  std::vector<Decoded> frames;
  for (std::size_t pos = 0; pos < stream.size(); pos += chunk) {
    decoder.feed(stream.substr(pos, chunk));
    while (true) {
      Result<std::optional<FrameView>> next = decoder.next();
      if (!next.ok()) return next.error();
      if (!next->has_value()) break;
      frames.push_back({(*next)->type, std::string((*next)->payload)});
    }
  }
  return frames;
}

std::string ThreeFrames() {
  std::string stream;
  encode_frame(FrameType::kHello, "hello payload", &stream);
  encode_frame(FrameType::kPing, "", &stream);
  encode_frame(FrameType::kRaftMessage, std::string(1000, 'r'), &stream);
  return stream;
}

TEST(FrameDecoder, FramesSurviveAnyChunking) {
  const std::string stream = ThreeFrames();
  for (std::size_t chunk : {1u, 2u, 3u, 15u, 16u, 17u, 100u, 4096u}) {
    SCOPED_TRACE(chunk);
    FrameDecoder decoder;
    Result<std::vector<Decoded>> frames = DecodeInChunks(decoder, stream, chunk);
    ASSERT_TRUE(frames.ok()) << frames.error().to_string();
    ASSERT_EQ(frames->size(), 3u);
    EXPECT_EQ((*frames)[0].type, FrameType::kHello);
    EXPECT_EQ((*frames)[0].payload, "hello payload");
    EXPECT_EQ((*frames)[1].type, FrameType::kPing);
    EXPECT_EQ((*frames)[1].payload, "");
    EXPECT_EQ((*frames)[2].type, FrameType::kRaftMessage);
    EXPECT_EQ((*frames)[2].payload, std::string(1000, 'r'));
    EXPECT_EQ(decoder.buffered_bytes(), 0u);
  }
}

TEST(FrameDecoder, InPlaceFrameMatchesEncodeFrame) {
  std::string in_place;
  std::size_t offset = begin_frame(&in_place);
  in_place += "payload bytes";
  end_frame(FrameType::kRaftMessage, offset, &in_place);
  EXPECT_EQ(in_place, encode_frame(FrameType::kRaftMessage, "payload bytes"));
}

TEST(FrameDecoder, PartialFrameWaitsForMoreBytes) {
  std::string frame = encode_frame(FrameType::kPing, "abc");
  FrameDecoder decoder;
  decoder.feed(std::string_view(frame).substr(0, frame.size() - 1));
  Result<std::optional<FrameView>> next = decoder.next();
  ASSERT_TRUE(next.ok());
  EXPECT_FALSE(next->has_value());
  EXPECT_EQ(decoder.buffered_bytes(), frame.size() - 1);
}

std::string ErrorOf(std::string_view stream, std::size_t max_payload = kDefaultMaxFrameBytes) {
  FrameDecoder decoder(max_payload);
  Result<std::vector<Decoded>> frames = DecodeInChunks(decoder, stream, stream.size());
  if (frames.ok()) return "no error";
  EXPECT_TRUE(decoder.failed());
  return frames.error().message;
}

TEST(FrameDecoder, GarbageIsRejectedAsBadMagic) {
  EXPECT_NE(ErrorOf("GET / HTTP/1.1\r\nHost: x\r\n\r\n").find("bad magic"), std::string::npos);
}

TEST(FrameDecoder, WrongVersionIsRejectedWithBothVersions) {
  std::string frame = encode_frame(FrameType::kPing, "");
  frame[4] = 2;
  EXPECT_NE(ErrorOf(frame).find("unsupported protocol version 2 (this build speaks 1)"),
            std::string::npos)
      << ErrorOf(frame);
}

TEST(FrameDecoder, UnknownTypeAndReservedFlagsAreRejected) {
  std::string frame = encode_frame(FrameType::kPing, "");
  frame[6] = 9;
  EXPECT_NE(ErrorOf(frame).find("unknown frame type 9"), std::string::npos);
  frame = encode_frame(FrameType::kPing, "");
  frame[7] = 1;
  EXPECT_NE(ErrorOf(frame).find("reserved flags"), std::string::npos);
}

TEST(FrameDecoder, OversizedLengthIsRejectedBeforeThePayloadArrives) {
  std::string frame = encode_frame(FrameType::kRaftMessage, std::string(100, 'x'));
  // Only the header: the length is judged without buffering the payload.
  EXPECT_NE(ErrorOf(frame.substr(0, kFrameHeaderBytes), 99)
                .find("payload length 100 exceeds the limit 99"),
            std::string::npos);
  std::string huge = frame.substr(0, kFrameHeaderBytes);
  ByteWriter(&huge).patch_u32(8, 0xffffffffu);
  EXPECT_NE(ErrorOf(huge).find("payload length 4294967295 exceeds the limit 67108864"),
            std::string::npos);
}

TEST(FrameDecoder, ChecksumMismatchIsCorruption) {
  std::string stream = ThreeFrames();
  stream[stream.size() - 5] ^= 0x01;
  FrameDecoder decoder;
  Result<std::vector<Decoded>> frames = DecodeInChunks(decoder, stream, stream.size());
  ASSERT_FALSE(frames.ok());
  EXPECT_EQ(frames.error().code, ErrorCode::kCorruption);
  EXPECT_NE(frames.error().message.find("checksum mismatch"), std::string::npos);
  // The offset names the third frame's position in the stream.
  std::string first_two;
  encode_frame(FrameType::kHello, "hello payload", &first_two);
  encode_frame(FrameType::kPing, "", &first_two);
  EXPECT_NE(frames.error().message.find("stream offset " + std::to_string(first_two.size())),
            std::string::npos)
      << frames.error().message;
}

TEST(FrameDecoder, ErrorsAreStickyAfterMoreInput) {
  FrameDecoder decoder;
  decoder.feed("garbage garbage garbage");
  ASSERT_FALSE(decoder.next().ok());
  decoder.feed(encode_frame(FrameType::kPing, ""));
  EXPECT_FALSE(decoder.next().ok());
}

TEST(FrameDecoder, EveryCorruptedByteIsDetectedOrYieldsIntactFrames) {
  const std::string stream = ThreeFrames();
  for (std::size_t pos = 0; pos < stream.size(); ++pos) {
    std::string corrupt = stream;
    corrupt[pos] = static_cast<char>(corrupt[pos] ^ 0x5a);
    FrameDecoder decoder;
    Result<std::vector<Decoded>> frames = DecodeInChunks(decoder, corrupt, 7);
    if (frames.ok()) {
      // A corrupted length can make the decoder wait for bytes that never come; it must then
      // have returned fewer frames than were sent, never a corrupted one.
      EXPECT_LT(frames->size(), 3u) << "pos " << pos;
    } else {
      EXPECT_FALSE(frames.error().message.empty());
    }
  }
}

}  // namespace
}  // namespace dledger::transport
