#include "broker/remoting/message_codec.h"

#include <gtest/gtest.h>

#include <climits>

#include "broker/remoting/message_properties.h"
#include "tests/remoting/test_util.h"

namespace dledger::remoting {
namespace {

using testing::be16;
using testing::be32;
using testing::be64;

MessageRecord sample_record() {
  MessageRecord r;
  r.queue_id = 3;
  r.flag = 7;
  r.queue_offset = 42;
  r.physical_offset = 0x123456789aLL;
  r.sys_flag = message_sys_flag::kMultiTags;
  r.born_timestamp_ms = 1700000000123LL;
  r.born_host = HostAddress::ipv4(192, 168, 1, 20, 54321);
  r.store_timestamp_ms = 1700000000456LL;
  r.store_host = HostAddress::ipv4(10, 0, 0, 1, 10911);
  r.reconsume_times = 2;
  r.prepared_transaction_offset = 0;
  r.body = "Hello";
  r.topic = "TopicTest";
  r.properties = *encode_message_properties({{"TAGS", "TagA"}, {"UNIQ_KEY", "ABC"}});
  return r;
}

TEST(MessageCodec, BodyCrcIsZlibCrc32MaskedTo31Bits) {
  // Standard CRC-32 check value of "123456789" is 0xCBF43926 (CRC32C would be 0xE3069283).
  EXPECT_EQ(message_body_crc("123456789"), 0x4BF43926);
  EXPECT_EQ(message_body_crc(""), 0);
}

TEST(MessageCodec, RecordMatchesHandBuiltBytes) {
  MessageRecord r = sample_record();
  std::string expected;
  std::size_t total = 91 + 5 + 9 + r.properties.size();
  expected += be32(static_cast<uint32_t>(total));
  expected += be32(0xDAA320A7u);
  expected += be32(static_cast<uint32_t>(message_body_crc("Hello")));
  expected += be32(3) + be32(7) + be64(42) + be64(0x123456789aULL) + be32(2);
  expected += be64(1700000000123ULL) + std::string("\xc0\xa8\x01\x14", 4) + be32(54321);
  expected += be64(1700000000456ULL) + std::string("\x0a\x00\x00\x01", 4) + be32(10911);
  expected += be32(2) + be64(0);
  expected += be32(5) + "Hello";
  expected += std::string(1, '\x09') + "TopicTest";
  expected += be16(static_cast<uint16_t>(r.properties.size())) + r.properties;
  auto encoded = encode_message_record(r);
  ASSERT_TRUE(encoded.ok()) << encoded.error().to_string();
  EXPECT_EQ(*encoded, expected);
  EXPECT_EQ(message_record_size(r), total);
}

TEST(MessageCodec, RecordsRoundTripBackToBack) {
  std::string body;
  std::vector<MessageRecord> records;
  for (int i = 0; i < 5; ++i) {
    MessageRecord r = sample_record();
    r.queue_offset = i;
    r.body = std::string(static_cast<std::size_t>(i) * 100, static_cast<char>('a' + i));
    ASSERT_TRUE(append_message_record(r, &body).ok());
    records.push_back(r);
  }
  auto decoded = decode_message_records(body);
  ASSERT_TRUE(decoded.ok()) << decoded.error().to_string();
  EXPECT_EQ(*decoded, records);
}

TEST(MessageCodec, Ipv6HostsFollowTheSysFlagBits) {
  MessageRecord r = sample_record();
  auto v6 = HostAddress::parse("[2001:db8::1]:10911");
  ASSERT_TRUE(v6.ok()) << v6.error().to_string();
  r.store_host = *v6;
  // Bit 0x20 missing: refused.
  EXPECT_FALSE(encode_message_record(r).ok());
  r.sys_flag |= message_sys_flag::kStoreHostV6;
  auto encoded = encode_message_record(r);
  ASSERT_TRUE(encoded.ok()) << encoded.error().to_string();
  EXPECT_EQ(encoded->size(), message_record_size(r));
  EXPECT_EQ(encoded->size(), 91 + 12 + 5 + 9 + r.properties.size());
  std::size_t used = 0;
  auto decoded = decode_message_record(*encoded, &used);
  ASSERT_TRUE(decoded.ok()) << decoded.error().to_string();
  EXPECT_EQ(*decoded, r);
  EXPECT_EQ(used, encoded->size());

  r.born_host = *v6;
  EXPECT_FALSE(encode_message_record(r).ok());
  r.sys_flag |= message_sys_flag::kBornHostV6;
  auto both = encode_message_record(r);
  ASSERT_TRUE(both.ok());
  EXPECT_EQ(both->size(), 91 + 24 + 5 + 9 + r.properties.size());
  auto decoded_both = decode_message_record(*both, &used);
  ASSERT_TRUE(decoded_both.ok());
  EXPECT_EQ(*decoded_both, r);
}

TEST(MessageCodec, EncodeRefusesOversizedTopicAndProperties) {
  MessageRecord r = sample_record();
  r.topic.assign(128, 't');
  EXPECT_FALSE(encode_message_record(r).ok());
  r.topic.assign(127, 't');
  EXPECT_TRUE(encode_message_record(r).ok());
  r.properties.assign(32768, 'p');
  EXPECT_FALSE(encode_message_record(r).ok());
}

TEST(MessageCodec, DecodeDetectsBadMagicCrcAndSizes) {
  std::string good = *encode_message_record(sample_record());
  std::size_t used = 0;

  std::string bad_magic = good;
  bad_magic[4] = 0;
  auto magic = decode_message_record(bad_magic, &used);
  ASSERT_FALSE(magic.ok());
  EXPECT_EQ(magic.error().code, ErrorCode::kCorruption);
  EXPECT_NE(magic.error().message.find("MAGICCODE"), std::string::npos);

  std::string bad_body = good;
  bad_body[good.find("Hello")] = 'J';
  auto crc = decode_message_record(bad_body, &used);
  ASSERT_FALSE(crc.ok());
  EXPECT_NE(crc.error().message.find("BODYCRC"), std::string::npos);

  std::string bigger = good;
  bigger.replace(0, 4, be32(static_cast<uint32_t>(good.size() + 1)));
  auto total = decode_message_record(bigger + "x", &used);
  ASSERT_FALSE(total.ok());
  EXPECT_NE(total.error().message.find("TOTALSIZE"), std::string::npos) << total.error().message;

  auto truncated = decode_message_record(std::string_view(good).substr(0, good.size() - 1), &used);
  ASSERT_FALSE(truncated.ok());
  EXPECT_NE(truncated.error().message.find("exceeds"), std::string::npos);

  auto in_list = decode_message_records(good + good.substr(0, 10));
  ASSERT_FALSE(in_list.ok());
  EXPECT_NE(in_list.error().message.find("record 1 at byte " + std::to_string(good.size())),
            std::string::npos)
      << in_list.error().message;
}

TEST(MessageCodec, EveryTruncationAndBitFlipFailsCleanlyOrDecodes) {
  std::string good = *encode_message_record(sample_record());
  for (std::size_t len = 0; len < good.size(); ++len) {
    EXPECT_FALSE(decode_message_records(std::string_view(good).substr(0, len)).ok() && len > 0)
        << len;
  }
  for (std::size_t bit = 0; bit < good.size() * 8; ++bit) {
    std::string flipped = good;
    flipped[bit / 8] = static_cast<char>(flipped[bit / 8] ^ (1 << (bit % 8)));
    auto decoded = decode_message_records(flipped);
    if (decoded.ok()) {
      // Only fields without redundancy may change silently; the body is CRC-protected.
      ASSERT_EQ(decoded->size(), 1u);
      EXPECT_EQ((*decoded)[0].body, "Hello");
    }
  }
}

TEST(MessageCodec, OffsetMsgIdIsStoreHostPortAndPhysicalOffsetInUpperHex) {
  HostAddress host = HostAddress::ipv4(10, 0, 0, 1, 10911);
  std::string id = encode_offset_msg_id(host, 0x1234);
  EXPECT_EQ(id, "0A00000100002A9F0000000000001234");
  auto decoded = decode_offset_msg_id(id);
  ASSERT_TRUE(decoded.ok());
  EXPECT_EQ(decoded->store_host, host);
  EXPECT_EQ(decoded->physical_offset, 0x1234);
  auto lower = decode_offset_msg_id("0a00000100002a9f0000000000001234");
  ASSERT_TRUE(lower.ok());
  EXPECT_EQ(*lower, *decoded);
  EXPECT_EQ(offset_msg_id(sample_record()),
            encode_offset_msg_id(sample_record().store_host, sample_record().physical_offset));

  auto v6 = HostAddress::parse("[::1]:9876");
  ASSERT_TRUE(v6.ok());
  std::string id6 = encode_offset_msg_id(*v6, INT64_MAX);
  EXPECT_EQ(id6.size(), 56u);
  auto decoded6 = decode_offset_msg_id(id6);
  ASSERT_TRUE(decoded6.ok());
  EXPECT_EQ(decoded6->store_host, *v6);
  EXPECT_EQ(decoded6->physical_offset, INT64_MAX);

  EXPECT_FALSE(decode_offset_msg_id("0A000001").ok());
  // A client-generated msgId (UNIQ_KEY) has the same length; its fields read as a port beyond
  // 65535 or a negative offset are refused rather than sent to a broker.
  auto uniq = decode_offset_msg_id("7F0000012FBDE880FB678D892D0E4D35");
  ASSERT_FALSE(uniq.ok());
  EXPECT_NE(uniq.error().message.find("names port 800974976, outside [0, 65535]"),
            std::string::npos)
      << uniq.error().message;
  EXPECT_FALSE(decode_offset_msg_id(encode_offset_msg_id(host, -1)).ok());
  auto bad = decode_offset_msg_id("0A00000100002A9F000000000000123G");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().message.find("non-hex character at 31"), std::string::npos);
}

TEST(MessageCodec, HostAddressParsesAndPrints) {
  auto v4 = HostAddress::parse("127.0.0.1:10911");
  ASSERT_TRUE(v4.ok());
  EXPECT_EQ(*v4, HostAddress::ipv4(127, 0, 0, 1, 10911));
  EXPECT_EQ(v4->to_string(), "127.0.0.1:10911");
  auto v6 = HostAddress::parse("[fe80::2]:1");
  ASSERT_TRUE(v6.ok());
  EXPECT_EQ(v6->to_string(), "[fe80::2]:1");
  for (const char* bad : {"127.0.0.1", "127.0.0.1:", "127.0.0.1:99999", "host:1", "[::1:2", ""}) {
    EXPECT_FALSE(HostAddress::parse(bad).ok()) << bad;
  }
}

TEST(MessageProperties, RoundTripAndTrailingSeparatorIsOptional) {
  MessageProperties props{{"TAGS", "TagA"}, {"KEYS", "k1 k2"}, {"EMPTY", ""}};
  auto text = encode_message_properties(props);
  ASSERT_TRUE(text.ok());
  EXPECT_EQ(*text, std::string("EMPTY\x01\x02KEYS\x01k1 k2\x02TAGS\x01TagA\x02"));
  auto decoded = decode_message_properties(*text);
  ASSERT_TRUE(decoded.ok());
  EXPECT_EQ(*decoded, props);
  auto no_trailing = decode_message_properties("TAGS\x01TagA\x02KEYS\x01k");
  ASSERT_TRUE(no_trailing.ok());
  EXPECT_EQ(*no_trailing, (MessageProperties{{"TAGS", "TagA"}, {"KEYS", "k"}}));
  auto doubled = decode_message_properties("\x02TAGS\x01T\x02\x02");
  ASSERT_TRUE(doubled.ok());
  EXPECT_EQ(doubled->at("TAGS"), "T");
  EXPECT_TRUE(decode_message_properties("")->empty());
}

TEST(MessageProperties, MalformedItemsAreRejectedWithTheirOffset) {
  auto no_sep = decode_message_properties("TAGS\x01T\x02KEYS");
  ASSERT_FALSE(no_sep.ok());
  EXPECT_NE(no_sep.error().message.find("at byte 7"), std::string::npos) << no_sep.error().message;
  EXPECT_FALSE(decode_message_properties("\x01value").ok());
  EXPECT_FALSE(decode_message_properties("k\x01v\x01w").ok());
  EXPECT_FALSE(encode_message_properties({{"bad\x01key", "v"}}).ok());
  EXPECT_FALSE(encode_message_properties({{"k", "bad\x02value"}}).ok());
  EXPECT_FALSE(encode_message_properties({{"", "v"}}).ok());
}

TEST(BatchBody, DecodesTheJava49ClientEncoding) {
  // MessageDecoder.encodeMessage: TOTALSIZE, MAGICCODE 0, BODYCRC 0, FLAG, BODY, PROPERTIES.
  std::string props1 =
      "UNIQ_KEY\x01"
      "A1\x02";
  std::string bytes = be32(static_cast<uint32_t>(22 + 2 + props1.size())) + be32(0) + be32(0) +
                      be32(5) + be32(2) + "m1" + be16(static_cast<uint16_t>(props1.size())) +
                      props1;
  bytes += be32(22) + be32(0) + be32(0) + be32(0) + be32(0) + be16(0);
  auto messages = decode_batch_body(bytes);
  ASSERT_TRUE(messages.ok()) << messages.error().to_string();
  ASSERT_EQ(messages->size(), 2u);
  EXPECT_EQ((*messages)[0], (BatchMessage{5, "m1", props1}));
  EXPECT_EQ((*messages)[1], (BatchMessage{0, "", ""}));
  auto reencoded = encode_batch_body(*messages);
  ASSERT_TRUE(reencoded.ok());
  EXPECT_EQ(*reencoded, bytes);
}

TEST(BatchBody, MalformedBatchesNameTheMessage) {
  std::string one = *encode_batch_body({BatchMessage{1, "body", "K\x01V"}});
  EXPECT_FALSE(decode_batch_body("").ok());
  auto truncated = decode_batch_body(one + one.substr(0, 10));
  ASSERT_FALSE(truncated.ok());
  EXPECT_NE(truncated.error().message.find("batch message 1 at byte " + std::to_string(one.size())),
            std::string::npos)
      << truncated.error().message;
  std::string wrong_total = one;
  wrong_total.replace(0, 4, be32(static_cast<uint32_t>(one.size() - 1)));
  EXPECT_FALSE(decode_batch_body(wrong_total.substr(0, one.size() - 1)).ok());
  std::string negative_body = one;
  negative_body.replace(16, 4, be32(0xffffffffu));
  EXPECT_FALSE(decode_batch_body(negative_body).ok());
  for (std::size_t len = 1; len < one.size(); ++len) {
    EXPECT_FALSE(decode_batch_body(one.substr(0, len)).ok()) << len;
  }
}

}  // namespace
}  // namespace dledger::remoting
