#include "broker/store/store_command.h"

#include <gtest/gtest.h>

#include "broker/base/bytes.h"
#include "broker/base/crc32c.h"

namespace dledger::store {
namespace {

StoredMessage sample_message() {
  StoredMessage m;
  m.topic = "orders";
  m.queue_id = 3;
  m.flag = 7;
  m.sys_flag = 0;
  m.born_timestamp_ms = 1700000000000;
  m.born_host = remoting::HostAddress::ipv4(10, 0, 0, 9, 5555);
  m.store_timestamp_ms = 1700000000123;
  m.store_host = remoting::HostAddress::ipv4(10, 0, 0, 1, 10911);
  m.reconsume_times = 2;
  m.prepared_transaction_offset = 0;
  m.properties = std::string("TAGS\x01tagA\x02KEYS\x01k1\x02", 18);
  m.body = std::string("hello\0world", 11);
  return m;
}

std::vector<StoreCommand> every_command_type() {
  std::vector<StoreCommand> out;
  out.push_back(PutMessageCommand{sample_message()});
  PutBatchCommand batch;
  for (int i = 0; i < 3; ++i) {
    auto m = sample_message();
    m.body = "body-" + std::to_string(i);
    batch.messages.push_back(m);
  }
  out.push_back(batch);
  out.push_back(UpdateTopicCommand{TopicConfig{"orders", 8, 8, 6, 0}});
  out.push_back(DeleteTopicCommand{"orders"});
  out.push_back(CommitOffsetCommand{"group-1", "orders", 3, 42});
  return out;
}

TEST(StoreCommand, EveryCommandTypeRoundTrips) {
  for (const auto& command : every_command_type()) {
    auto encoded = encode_command(command);
    ASSERT_TRUE(encoded.ok()) << encoded.error().to_string();
    auto decoded = decode_command(*encoded);
    ASSERT_TRUE(decoded.ok()) << decoded.error().to_string();
    EXPECT_EQ(*decoded, command);
  }
}

TEST(StoreCommand, IPv6HostsRoundTripWhenSysFlagAgrees) {
  auto m = sample_message();
  m.born_host.ip = std::string(16, '\x01');
  m.sys_flag = remoting::message_sys_flag::kBornHostV6;
  auto encoded = encode_command(PutMessageCommand{m});
  ASSERT_TRUE(encoded.ok()) << encoded.error().to_string();
  auto decoded = decode_command(*encoded);
  ASSERT_TRUE(decoded.ok());
  EXPECT_EQ(std::get<PutMessageCommand>(*decoded).message, m);
}

TEST(StoreCommand, EncodeRejectsInvalidFieldsNamingThem) {
  auto bad_topic = sample_message();
  bad_topic.topic = "has space";
  auto r1 = encode_command(PutMessageCommand{bad_topic});
  ASSERT_FALSE(r1.ok());
  EXPECT_NE(r1.error().message.find("topic"), std::string::npos);

  auto bad_queue = sample_message();
  bad_queue.queue_id = -1;
  auto r2 = encode_command(PutMessageCommand{bad_queue});
  ASSERT_FALSE(r2.ok());
  EXPECT_NE(r2.error().message.find("queueId"), std::string::npos);

  auto v6_mismatch = sample_message();
  v6_mismatch.sys_flag = remoting::message_sys_flag::kStoreHostV6;
  auto r3 = encode_command(PutMessageCommand{v6_mismatch});
  ASSERT_FALSE(r3.ok());
  EXPECT_NE(r3.error().message.find("store host"), std::string::npos);

  auto r4 = encode_command(UpdateTopicCommand{TopicConfig{"t", 0, 4, 6, 0}});
  ASSERT_FALSE(r4.ok());
  EXPECT_NE(r4.error().message.find("readQueueNums"), std::string::npos);

  auto r5 = encode_command(CommitOffsetCommand{"g", "t", 0, -5});
  ASSERT_FALSE(r5.ok());

  PutBatchCommand mixed;
  mixed.messages.push_back(sample_message());
  mixed.messages.push_back(sample_message());
  mixed.messages[1].queue_id = 0;
  auto r6 = encode_command(mixed);
  ASSERT_FALSE(r6.ok());
  EXPECT_NE(r6.error().message.find("batch message 1"), std::string::npos);

  auto r7 = encode_command(PutBatchCommand{});
  EXPECT_FALSE(r7.ok());
}

TEST(StoreCommand, EveryTruncationIsRejectedWithoutCrashing) {
  for (const auto& command : every_command_type()) {
    auto encoded = encode_command(command);
    ASSERT_TRUE(encoded.ok());
    for (std::size_t n = 0; n < encoded->size(); ++n) {
      auto decoded = decode_command(std::string_view(*encoded).substr(0, n));
      EXPECT_FALSE(decoded.ok()) << "prefix of " << n << " bytes";
    }
  }
}

TEST(StoreCommand, EverySingleBitFlipIsDetected) {
  auto encoded = encode_command(PutMessageCommand{sample_message()});
  ASSERT_TRUE(encoded.ok());
  for (std::size_t byte = 0; byte < encoded->size(); ++byte) {
    for (int bit = 0; bit < 8; ++bit) {
      std::string damaged = *encoded;
      damaged[byte] = static_cast<char>(damaged[byte] ^ (1 << bit));
      auto decoded = decode_command(damaged);
      EXPECT_FALSE(decoded.ok()) << "flip of bit " << bit << " in byte " << byte;
    }
  }
}

// Recomputes the CRC of a (modified) entry so only its fields are wrong.
void reseal(std::string& entry) {
  std::uint32_t crc = crc32c_extend(crc32c(std::string_view(entry).substr(0, 12)),
                                    std::string_view(entry).substr(kCommandHeaderBytes));
  std::string sealed;
  ByteWriter(&sealed).u32(crc);
  entry.replace(12, 4, sealed);
}

// decode_put_summary must accept exactly what decode_command accepts (replicas that skip
// different entries would diverge), report the same error, and summarize what it decodes.
void expect_summary_agrees(std::string_view entry) {
  auto full = decode_command(entry);
  auto summary = decode_put_summary(entry);
  ASSERT_EQ(full.ok(), summary.ok())
      << (full.ok() ? summary.error().to_string() : full.error().to_string());
  if (!full.ok()) {
    EXPECT_EQ(full.error().code, summary.error().code);
    EXPECT_EQ(full.error().message, summary.error().message);
    return;
  }
  std::vector<StoredMessage> messages;
  if (const auto* put = std::get_if<PutMessageCommand>(&*full)) {
    messages.push_back(put->message);
  } else {
    messages = std::get<PutBatchCommand>(*full).messages;
  }
  EXPECT_EQ(summary->count, messages.size());
  EXPECT_EQ(summary->topic, messages.front().topic);
  EXPECT_EQ(summary->queue_id, messages.front().queue_id);
  EXPECT_EQ(summary->store_timestamp_ms, messages.front().store_timestamp_ms);
}

TEST(StoreCommand, PutSummaryAcceptsAndRejectsExactlyWhatFullDecodeDoes) {
  for (const auto& command : every_command_type()) {
    auto encoded = encode_command(command);
    ASSERT_TRUE(encoded.ok());
    if (!is_put_entry(*encoded)) {
      EXPECT_FALSE(decode_put_summary(*encoded).ok());
      continue;
    }
    expect_summary_agrees(*encoded);
    for (std::size_t n = 0; n < encoded->size(); ++n) {
      expect_summary_agrees(std::string_view(*encoded).substr(0, n));
    }
    // Every byte changed (two ways) with a valid checksum: the field checks must agree too.
    for (std::size_t byte = 0; byte < encoded->size(); ++byte) {
      if (byte >= 12 && byte < kCommandHeaderBytes) continue;  // the checksum itself
      for (int delta : {1, 0x80}) {
        std::string damaged = *encoded;
        damaged[byte] = static_cast<char>(damaged[byte] + delta);
        reseal(damaged);
        if (is_put_entry(damaged)) expect_summary_agrees(damaged);  // as StoreState::apply
      }
    }
  }
}

TEST(StoreCommand, NewerVersionAndUnknownTypeAreReportedAsSuch) {
  auto encoded = encode_command(DeleteTopicCommand{"orders"});
  ASSERT_TRUE(encoded.ok());
  std::string newer = *encoded;
  newer[4] = 2;
  auto r1 = decode_command(newer);
  ASSERT_FALSE(r1.ok());
  EXPECT_EQ(r1.error().code, ErrorCode::kInvalidArgument);
  EXPECT_NE(r1.error().message.find("version 2"), std::string::npos);

  std::string unknown = *encoded;
  unknown[5] = 99;
  reseal(unknown);  // only the type is wrong
  auto r2 = decode_command(unknown);
  ASSERT_FALSE(r2.ok());
  EXPECT_NE(r2.error().message.find("unknown type 99"), std::string::npos);
}

TEST(StoreCommand, TrailingBytesAreCorruption) {
  auto encoded = encode_command(DeleteTopicCommand{"orders"});
  ASSERT_TRUE(encoded.ok());
  std::string longer = *encoded + "x";
  auto decoded = decode_command(longer);
  ASSERT_FALSE(decoded.ok());
  EXPECT_EQ(decoded.error().code, ErrorCode::kCorruption);
}

}  // namespace
}  // namespace dledger::store
