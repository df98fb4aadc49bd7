#include "broker/remoting/remoting_command.h"

#include <gtest/gtest.h>

#include "tests/remoting/test_util.h"

namespace dledger::remoting {
namespace {

using testing::be16;
using testing::be32;
using testing::frame_of;

RemotingCommand sample_command(SerializeType type) {
  RemotingCommand cmd;
  cmd.code = request_code::kSendMessageV2;
  cmd.language = language_code::kGo;
  cmd.version = 395;
  cmd.opaque = -123456;
  cmd.flag = kFlagOneway;
  cmd.remark = "hello \xe4\xb8\x96\xe7\x95\x8c";
  cmd.ext_fields = {{"a", "group"}, {"b", "TopicA"}, {"e", "3"}, {"empty", ""}};
  cmd.body = std::string("body\0with\xffnul", 13);
  cmd.serialize_type = type;
  return cmd;
}

TEST(RemotingCommand, JsonFrameRoundTripsEveryField) {
  RemotingCommand cmd = sample_command(SerializeType::kJson);
  auto frame = encode_frame(cmd);
  ASSERT_TRUE(frame.ok()) << frame.error().to_string();
  auto decoded = decode_frame(*frame);
  ASSERT_TRUE(decoded.ok()) << decoded.error().to_string();
  EXPECT_EQ(*decoded, cmd);
}

TEST(RemotingCommand, BinaryFrameRoundTripsEveryField) {
  RemotingCommand cmd = sample_command(SerializeType::kRocketmq);
  auto frame = encode_frame(cmd);
  ASSERT_TRUE(frame.ok()) << frame.error().to_string();
  EXPECT_EQ(static_cast<uint8_t>((*frame)[4]), 1);  // serialize type byte
  auto decoded = decode_frame(*frame);
  ASSERT_TRUE(decoded.ok()) << decoded.error().to_string();
  EXPECT_EQ(*decoded, cmd);
}

TEST(RemotingCommand, JsonFrameAsJavaWritesItDecodesAndReencodesByteForByte) {
  // fastjson writes the keys sorted, null remark omitted.
  const std::string header =
      R"({"code":310,"extFields":{"a":"PG","b":"TopicTest","e":"1"},"flag":0,"language":"JAVA",)"
      R"("opaque":7,"serializeTypeCurrentRPC":"JSON","version":395})";
  const std::string frame = frame_of(0, header, "Hello");
  ASSERT_EQ(frame.substr(0, 8), be32(static_cast<uint32_t>(4 + header.size() + 5)) +
                                    be32(static_cast<uint32_t>(header.size())));
  auto cmd = decode_frame(frame);
  ASSERT_TRUE(cmd.ok()) << cmd.error().to_string();
  EXPECT_EQ(cmd->code, 310);
  EXPECT_EQ(cmd->language, language_code::kJava);
  EXPECT_EQ(cmd->version, 395);
  EXPECT_EQ(cmd->opaque, 7);
  EXPECT_EQ(cmd->flag, 0);
  EXPECT_FALSE(cmd->remark.has_value());
  EXPECT_EQ(cmd->ext_fields.at("b"), "TopicTest");
  EXPECT_EQ(cmd->body, "Hello");
  EXPECT_EQ(cmd->serialize_type, SerializeType::kJson);
  auto reencoded = encode_frame(*cmd);
  ASSERT_TRUE(reencoded.ok());
  EXPECT_EQ(*reencoded, frame);
}

TEST(RemotingCommand, BinaryHeaderKnownBytesDecode) {
  // GET_ROUTEINFO_BY_TOPIC, JAVA, version 395, opaque 1, flag 0, no remark, {topic: T1}.
  std::string header = be16(105) + std::string(1, '\0') + be16(395) + be32(1) + be32(0) + be32(0) +
                       be32(13) + be16(5) + "topic" + be32(2) + "T1";
  ASSERT_EQ(header.size(), 34u);
  std::string frame = frame_of(1, header);
  EXPECT_EQ(frame.substr(0, 8), be32(38) + be32(0x01000022));
  auto cmd = decode_frame(frame);
  ASSERT_TRUE(cmd.ok()) << cmd.error().to_string();
  EXPECT_EQ(cmd->code, request_code::kGetRouteinfoByTopic);
  EXPECT_EQ(cmd->version, 395);
  EXPECT_EQ(cmd->opaque, 1);
  EXPECT_FALSE(cmd->remark.has_value());
  EXPECT_EQ(cmd->ext_fields, (std::map<std::string, std::string>{{"topic", "T1"}}));
  EXPECT_EQ(cmd->serialize_type, SerializeType::kRocketmq);
  auto reencoded = encode_frame(*cmd);
  ASSERT_TRUE(reencoded.ok());
  EXPECT_EQ(*reencoded, frame);
}

TEST(RemotingCommand, JsonExtFieldsNumbersAndBooleansBecomeStrings) {
  const std::string header =
      R"({"code":11,"language":"JAVA","version":121,"opaque":3,"flag":0,"extFields":{)"
      R"("queueId":3,"commitOffset":-1,"big":18446744073709551615,"ratio":1.5,"suspend":true,)"
      R"("unit":false,"gone":null,"topic":"T"}})";
  auto cmd = decode_frame(frame_of(0, header));
  ASSERT_TRUE(cmd.ok()) << cmd.error().to_string();
  EXPECT_EQ(cmd->ext_fields.at("queueId"), "3");
  EXPECT_EQ(cmd->ext_fields.at("commitOffset"), "-1");
  EXPECT_EQ(cmd->ext_fields.at("big"), "18446744073709551615");
  EXPECT_EQ(cmd->ext_fields.at("ratio"), "1.5");
  EXPECT_EQ(cmd->ext_fields.at("suspend"), "true");
  EXPECT_EQ(cmd->ext_fields.at("unit"), "false");
  EXPECT_EQ(cmd->ext_fields.at("topic"), "T");
  EXPECT_EQ(cmd->ext_fields.count("gone"), 0u);
}

TEST(RemotingCommand, JsonExtFieldsObjectValueIsRejectedNamingTheKey) {
  auto cmd = decode_frame(frame_of(0, R"({"code":11,"extFields":{"sub":{"x":1}}})"));
  ASSERT_FALSE(cmd.ok());
  EXPECT_NE(cmd.error().message.find("'sub'"), std::string::npos) << cmd.error().message;
}

TEST(RemotingCommand, JsonNumericStringsAndUnknownLanguageAreAccepted) {
  auto cmd = decode_frame(frame_of(0, R"({"code":"34","language":"NODE","opaque":9})"));
  ASSERT_TRUE(cmd.ok()) << cmd.error().to_string();
  EXPECT_EQ(cmd->code, 34);
  EXPECT_EQ(cmd->language, language_code::kOther);
  EXPECT_EQ(cmd->opaque, 9);
}

TEST(RemotingCommand, JsonHeaderErrorsNameTheProblem) {
  struct Case {
    std::string header;
    std::string expected;
  };
  const Case cases[] = {
      {"{not json", "malformed JSON"},
      {"[1,2]", "expected an object"},
      {R"({"opaque":1})", "'code'"},
      {R"({"code":4294967296})", "'code'"},
      {R"({"code":1.5})", "'code'"},
      {R"({"code":1,"flag":"x"})", "'flag'"},
      {R"({"code":1,"remark":5})", "'remark'"},
      {R"({"code":1,"extFields":[1]})", "'extFields'"},
      {R"({"code":1,"language":true})", "'language'"},
      {std::string(100, '[') + std::string(100, ']'), "nested deeper"},
      {"{\"code\":1,\"remark\":\"\xff\xfe\"}", "malformed JSON"},
  };
  for (const auto& c : cases) {
    auto cmd = decode_frame(frame_of(0, c.header));
    ASSERT_FALSE(cmd.ok()) << c.header;
    EXPECT_EQ(cmd.error().code, ErrorCode::kInvalidArgument);
    EXPECT_NE(cmd.error().message.find(c.expected), std::string::npos)
        << c.header << " -> " << cmd.error().message;
  }
}

TEST(RemotingCommand, JsonEncodingOmitsNullRemarkAndWritesSerializeType) {
  RemotingCommand cmd = make_request(request_code::kHeartBeat, 5);
  auto header = encode_header(cmd);
  ASSERT_TRUE(header.ok());
  EXPECT_EQ(*header, R"({"code":34,"extFields":{},"flag":0,"language":"JAVA","opaque":5,)"
                     R"("serializeTypeCurrentRPC":"JSON","version":0})");
}

TEST(RemotingCommand, BinaryEmptyRemarkIsWrittenAsNull) {
  RemotingCommand cmd = make_request(request_code::kHeartBeat, 5);
  cmd.serialize_type = SerializeType::kRocketmq;
  cmd.remark = "";
  auto decoded = decode_frame(*encode_frame(cmd));
  ASSERT_TRUE(decoded.ok());
  EXPECT_FALSE(decoded->remark.has_value());
}

TEST(RemotingCommand, BinaryHeaderErrorsNameTheProblem) {
  const std::string fixed = be16(10) + std::string(1, '\0') + be16(1) + be32(1) + be32(0);
  struct Case {
    std::string header;
    std::string expected;
  };
  const Case cases[] = {
      {fixed, "shorter than the minimum"},
      {fixed + be32(static_cast<uint32_t>(-1)) + be32(0), "remark length -1"},
      {fixed + be32(100) + be32(0), "remark length 100"},
      {fixed + be32(0) + be32(static_cast<uint32_t>(-5)), "extFields length -5"},
      {fixed + be32(0) + be32(50), "extFields length 50"},
      {fixed + be32(0) + be32(3) + be16(0xffff) + "x", "key length -1"},
      {fixed + be32(0) + be32(4) + be16(1) + "k" + "x", "value length"},
      {fixed + be32(0) + be32(9) + be16(1) + "k" + be32(9) + "vv", "value length 9"},
      {fixed + be32(0) + be32(0) + "zz", "2 trailing bytes"},
  };
  for (const auto& c : cases) {
    auto cmd = decode_frame(frame_of(1, c.header));
    ASSERT_FALSE(cmd.ok()) << c.expected;
    EXPECT_NE(cmd.error().message.find(c.expected), std::string::npos)
        << c.expected << " -> " << cmd.error().message;
  }
}

TEST(RemotingCommand, BinaryEncodingRejectsCodesBeyondI16) {
  RemotingCommand cmd = make_request(70000, 1);
  cmd.serialize_type = SerializeType::kRocketmq;
  auto frame = encode_frame(cmd);
  ASSERT_FALSE(frame.ok());
  EXPECT_NE(frame.error().message.find("70000"), std::string::npos);
}

TEST(RemotingCommand, FrameLevelErrorsNameTheProblem) {
  auto unknown_type = decode_frame(frame_of(2, "{}"));
  ASSERT_FALSE(unknown_type.ok());
  EXPECT_NE(unknown_type.error().message.find("unknown serialize type 2"), std::string::npos);

  std::string long_header = be32(8) + be32(100) + "abcd";
  auto beyond = decode_frame(long_header);
  ASSERT_FALSE(beyond.ok());
  EXPECT_NE(beyond.error().message.find("header length 100"), std::string::npos)
      << beyond.error().message;

  auto negative = decode_frame(be32(0xffffffff) + be32(0));
  ASSERT_FALSE(negative.ok());
  EXPECT_NE(negative.error().message.find("length prefix -1"), std::string::npos);

  auto mismatch = decode_frame(frame_of(0, R"({"code":1})") + "x");
  ASSERT_FALSE(mismatch.ok());
}

TEST(RemotingCommand, FramesLargerThan16MiBAreRefused) {
  RemotingCommand cmd = make_request(request_code::kSendMessageV2, 1);
  cmd.body.assign(kMaxFrameBytes, 'x');
  auto frame = encode_frame(cmd);
  ASSERT_FALSE(frame.ok());
  EXPECT_NE(frame.error().message.find("exceeds the limit"), std::string::npos);

  // The largest body that fits is accepted.
  auto header = encode_header(cmd);
  ASSERT_TRUE(header.ok());
  cmd.body.assign(kMaxFrameBytes - 8 - header->size(), 'x');
  auto max_frame = encode_frame(cmd);
  ASSERT_TRUE(max_frame.ok()) << max_frame.error().to_string();
  EXPECT_EQ(max_frame->size(), kMaxFrameBytes);
  auto decoded = decode_frame(*max_frame);
  ASSERT_TRUE(decoded.ok());
  EXPECT_EQ(decoded->body.size(), cmd.body.size());
}

TEST(RemotingCommand, ResponseEchoesOpaqueAndSerializeType) {
  RemotingCommand request = sample_command(SerializeType::kRocketmq);
  RemotingCommand response = make_response(request, response_code::kTopicNotExist, "no topic");
  EXPECT_EQ(response.opaque, request.opaque);
  EXPECT_EQ(response.serialize_type, SerializeType::kRocketmq);
  EXPECT_EQ(response.code, 17);
  EXPECT_EQ(response.remark, "no topic");
  EXPECT_TRUE(response.is_response());
  EXPECT_FALSE(response.is_oneway());
  EXPECT_TRUE(request.is_oneway());
  EXPECT_FALSE(request.is_response());
}

TEST(RemotingCommand, LanguageNamesMatchTheWireBytes) {
  EXPECT_EQ(language_name(0), "JAVA");
  EXPECT_EQ(language_name(9), "GO");
  EXPECT_EQ(language_name(12), "RUST");
  EXPECT_FALSE(language_name(200).has_value());
  EXPECT_EQ(language_from_name("PYTHON"), 3);
  EXPECT_EQ(request_code_name(320), "SEND_BATCH_MESSAGE");
  EXPECT_EQ(request_code_name(9999), "UNKNOWN");
}

TEST(RemotingCommand, UnknownLanguageByteSurvivesBinaryRoundTripAndIsOtherInJson) {
  RemotingCommand cmd = make_request(1, 1);
  cmd.serialize_type = SerializeType::kRocketmq;
  cmd.language = 200;
  auto decoded = decode_frame(*encode_frame(cmd));
  ASSERT_TRUE(decoded.ok());
  EXPECT_EQ(decoded->language, 200);
  cmd.serialize_type = SerializeType::kJson;
  auto json = decode_frame(*encode_frame(cmd));
  ASSERT_TRUE(json.ok());
  EXPECT_EQ(json->language, language_code::kOther);
}

TEST(RemotingCommand, EveryTruncationOfAFrameIsACleanError) {
  for (SerializeType type : {SerializeType::kJson, SerializeType::kRocketmq}) {
    std::string frame = *encode_frame(sample_command(type));
    for (std::size_t len = 0; len < frame.size(); ++len) {
      auto cmd = decode_frame(std::string_view(frame).substr(0, len));
      EXPECT_FALSE(cmd.ok()) << "prefix of " << len << " bytes decoded";
    }
  }
}

TEST(RemotingCommand, EveryBitFlipDecodesOrFailsCleanly) {
  for (SerializeType type : {SerializeType::kJson, SerializeType::kRocketmq}) {
    const std::string frame = *encode_frame(sample_command(type));
    int decoded = 0;
    int rejected = 0;
    for (std::size_t bit = 0; bit < frame.size() * 8; ++bit) {
      std::string flipped = frame;
      flipped[bit / 8] = static_cast<char>(flipped[bit / 8] ^ (1 << (bit % 8)));
      auto cmd = decode_frame(flipped);
      if (cmd.ok()) {
        ++decoded;
        // Whatever decoded must encode again without failing.
        auto again = encode_frame(*cmd);
        EXPECT_TRUE(again.ok() || cmd->code > 32767 || cmd->code < -32768);
      } else {
        ++rejected;
        EXPECT_FALSE(cmd.error().message.empty());
      }
    }
    EXPECT_GT(rejected, 0);
    EXPECT_GT(decoded, 0);
  }
}

}  // namespace
}  // namespace dledger::remoting

namespace dledger::remoting {
namespace {

TEST(RemotingCommand, DescribeNamesCodeOpaqueAndFields) {
  RemotingCommand cmd = make_request(request_code::kSendMessageV2, 7);
  cmd.ext_fields = {{"b", "T\x01"}};
  cmd.body = "Hello";
  EXPECT_EQ(describe_command(cmd),
            "SEND_MESSAGE_V2(310) request opaque=7 JSON ext={'b'='T\\x01'} body=5B");
  RemotingCommand response = make_response(cmd, response_code::kSystemBusy, "busy");
  EXPECT_EQ(describe_command(response),
            "response code=2 opaque=7 JSON remark='busy' ext={} body=0B");
}

}  // namespace
}  // namespace dledger::remoting
