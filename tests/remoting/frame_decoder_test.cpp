#include "broker/remoting/frame_decoder.h"

#include <gtest/gtest.h>

#include <vector>

#include "tests/remoting/test_util.h"

namespace dledger::remoting {
namespace {

using testing::be32;

std::vector<RemotingCommand> three_commands() {
  std::vector<RemotingCommand> cmds;
  for (int i = 0; i < 3; ++i) {
    RemotingCommand cmd = make_request(request_code::kPullMessage, i);
    cmd.serialize_type = i % 2 == 0 ? SerializeType::kJson : SerializeType::kRocketmq;
    cmd.ext_fields["queueId"] = std::to_string(i);
    cmd.body = std::string(static_cast<std::size_t>(i) * 7, 'b');
    cmds.push_back(cmd);
  }
  return cmds;
}

std::string concat_frames(const std::vector<RemotingCommand>& cmds) {
  std::string stream;
  for (const auto& cmd : cmds) stream += *encode_frame(cmd);
  return stream;
}

std::vector<RemotingCommand> drain(FrameDecoder& decoder) {
  std::vector<RemotingCommand> out;
  while (true) {
    auto next = decoder.next();
    EXPECT_TRUE(next.ok()) << next.error().to_string();
    if (!next.ok() || !next->has_value()) break;
    out.push_back(std::move(**next));
  }
  return out;
}

TEST(FrameDecoder, BytesFedOneAtATimeYieldEveryCommandInOrder) {
  auto cmds = three_commands();
  std::string stream = concat_frames(cmds);
  FrameDecoder decoder;
  std::vector<RemotingCommand> got;
  for (char c : stream) {
    decoder.feed(std::string_view(&c, 1));
    auto more = drain(decoder);
    got.insert(got.end(), more.begin(), more.end());
  }
  EXPECT_EQ(got, cmds);
  EXPECT_EQ(decoder.buffered_bytes(), 0u);
  EXPECT_EQ(decoder.stream_offset(), stream.size());
}

TEST(FrameDecoder, ManyFramesInOneChunkAllDecode) {
  auto cmds = three_commands();
  FrameDecoder decoder;
  decoder.feed(concat_frames(cmds));
  EXPECT_EQ(drain(decoder), cmds);
}

TEST(FrameDecoder, ChunksOfEverySizeGiveTheSameCommands) {
  auto cmds = three_commands();
  std::string stream = concat_frames(cmds);
  for (std::size_t chunk = 1; chunk <= stream.size(); chunk += 3) {
    FrameDecoder decoder;
    std::vector<RemotingCommand> got;
    for (std::size_t pos = 0; pos < stream.size(); pos += chunk) {
      decoder.feed(std::string_view(stream).substr(pos, chunk));
      auto more = drain(decoder);
      got.insert(got.end(), more.begin(), more.end());
    }
    EXPECT_EQ(got, cmds) << "chunk size " << chunk;
  }
}

TEST(FrameDecoder, OversizedLengthPrefixFailsBeforeTheBodyArrives) {
  FrameDecoder decoder;
  decoder.feed(be32(static_cast<uint32_t>(kMaxFrameBytes)));  // 4 + L would exceed 16 MiB
  auto next = decoder.next();
  ASSERT_FALSE(next.ok());
  EXPECT_NE(next.error().message.find("length prefix 16777216"), std::string::npos)
      << next.error().message;
}

TEST(FrameDecoder, NegativeAndTinyLengthPrefixesFail) {
  for (uint32_t length : {0xffffffffu, 0x80000000u, 0u, 3u}) {
    FrameDecoder decoder;
    decoder.feed(be32(length));
    EXPECT_FALSE(decoder.next().ok()) << length;
  }
}

TEST(FrameDecoder, ErrorIsStickyAndNamesTheStreamOffset) {
  auto cmds = three_commands();
  std::string good = *encode_frame(cmds[0]);
  FrameDecoder decoder;
  decoder.feed(good + testing::frame_of(7, "{}"));
  auto first = decoder.next();
  ASSERT_TRUE(first.ok());
  ASSERT_TRUE(first->has_value());
  auto second = decoder.next();
  ASSERT_FALSE(second.ok());
  EXPECT_NE(second.error().message.find("stream offset " + std::to_string(good.size())),
            std::string::npos)
      << second.error().message;
  EXPECT_NE(second.error().message.find("unknown serialize type 7"), std::string::npos);
  decoder.feed(good);
  EXPECT_FALSE(decoder.next().ok());
  EXPECT_TRUE(decoder.failed());
}

TEST(FrameDecoder, SmallerConfiguredLimitIsEnforced) {
  RemotingCommand cmd = make_request(request_code::kSendMessageV2, 1);
  cmd.body.assign(1000, 'x');
  FrameDecoder decoder(512);
  decoder.feed(*encode_frame(cmd));
  EXPECT_FALSE(decoder.next().ok());
}

TEST(FrameDecoder, RandomGarbageNeverCrashes) {
  uint64_t state = 0x9e3779b97f4a7c15ull;
  auto next_byte = [&state] {
    state ^= state << 13;
    state ^= state >> 7;
    state ^= state << 17;
    return static_cast<char>(state & 0xff);
  };
  int failures = 0;
  for (int round = 0; round < 200; ++round) {
    FrameDecoder decoder(4096);
    std::string garbage;
    for (int i = 0; i < 64; ++i) garbage.push_back(next_byte());
    decoder.feed(garbage);
    for (int i = 0; i < 8; ++i) {
      auto next = decoder.next();
      if (!next.ok()) {
        ++failures;
        break;
      }
      if (!next->has_value()) break;
    }
  }
  EXPECT_GT(failures, 0);
}

}  // namespace
}  // namespace dledger::remoting
