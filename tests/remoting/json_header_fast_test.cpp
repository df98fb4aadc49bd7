// The JSON header fast paths must agree with the general codec wherever they answer.
#include "broker/remoting/json_header_fast.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace dledger::remoting {
namespace {

RemotingCommand send_like_request() {
  RemotingCommand cmd;
  cmd.code = 310;
  cmd.version = 433;
  cmd.opaque = 123456;
  cmd.flag = 0;
  cmd.ext_fields = {{"a", "PGROUP"},
                    {"b", "BenchTopic"},
                    {"e", "-1"},
                    {"i", std::string("KEYS\x01k1\x02TAGS\x01t\x02", 16)},
                    {"z", "quote \" backslash \\ slash / tab \t nl \n del \x7f"}};
  return cmd;
}

std::vector<RemotingCommand> commands() {
  std::vector<RemotingCommand> out;
  out.push_back(send_like_request());
  RemotingCommand reply;
  reply.code = 0;
  reply.flag = kFlagResponse;
  reply.opaque = -7;
  reply.remark = "";
  reply.ext_fields = {{"msgId", "7F00000100002A9F0000000000000000"}, {"queueOffset", "42"}};
  out.push_back(reply);
  RemotingCommand odd;
  odd.code = -2147483647 - 1;
  odd.version = 2147483647;
  odd.language = 250;  // unknown byte: written as OTHER
  odd.remark = std::string("ctl \x01\x1f\b\f\r", 10);
  out.push_back(odd);
  RemotingCommand edges;  // escapes first, last, alone, and empty strings (runs are copied whole)
  edges.remark = "\\";
  edges.ext_fields = {{"", ""}, {"q", "\"start"}, {"r", "end\\"}, {"s", "\n"}, {"t", "a\tb\tc"}};
  out.push_back(edges);
  RemotingCommand non_ascii;  // the fast encoder declines; the decoder declines its output too
  non_ascii.remark = "caf\xc3\xa9";
  non_ascii.ext_fields = {{"k", "\xff"}};
  out.push_back(non_ascii);
  out.push_back(RemotingCommand{});
  return out;
}

void expect_decoders_agree(const std::string& text) {
  auto fast = decode_plain_json_header(text);
  if (!fast) return;  // declined: the general codec answers
  auto general = decode_json_header_general(text);
  ASSERT_TRUE(general.ok()) << "fast path accepted what the general codec rejects: " << text << " ("
                            << general.error().message << ")";
  EXPECT_EQ(*fast, *general) << text;
}

TEST(JsonHeaderFast, EncoderWritesExactlyTheGeneralCodecsBytes) {
  int encoded_fast = 0;
  for (const auto& cmd : commands()) {
    auto fast = encode_plain_json_header(cmd);
    if (!fast) continue;
    ++encoded_fast;
    EXPECT_EQ(*fast, encode_json_header_general(cmd));
  }
  EXPECT_EQ(encoded_fast, 5);  // all but the non-ASCII one
}

TEST(JsonHeaderFast, DecoderReadsWhatEitherEncoderWrote) {
  for (const auto& cmd : commands()) {
    std::string text = encode_json_header_general(cmd);
    auto general = decode_json_header_general(text);
    ASSERT_TRUE(general.ok());
    auto fast = decode_plain_json_header(text);
    bool ascii = cmd.remark != std::optional<std::string>("caf\xc3\xa9");
    ASSERT_EQ(fast.has_value(), ascii) << text;
    if (fast) {
      EXPECT_EQ(*fast, *general);
    }
  }
}

TEST(JsonHeaderFast, HandWrittenHeadersAgreeOrAreDeclined) {
  const std::vector<std::string> texts = {
      R"({"code":10,"flag":0,"language":"JAVA","opaque":1,"version":1})",
      R"(  { "opaque" : 5 , "code" : 11 , "extFields" : { } }  )",
      R"({"code":10,"extFields":{"a":"1","a":"2"}})",
      R"({"code":10,"extFields":{"a":"1","a":null,"b":null}})",
      R"({"code":10,"extFields":{"n":-12,"z":0,"t":true,"f":false}})",
      R"({"code":10,"extFields":{"u":"\u0001\u0041\u007F\/"}})",
      R"({"code":10,"unknown":"x","other":17,"flag2":null,"b":true})",
      R"({"code":10,"language":"CPP","remark":"r"})",
      R"({"code":10,"language":"NOPE"})",
      R"({"code":10,"code":11})",
      R"({"code":"10"})",
      R"({"code":10.5})",
      R"({"code":1e2})",
      R"({"code":010})",
      R"({"code":-0})",
      R"({"code":2147483648})",
      R"({"code":null})",
      R"({"version":1})",
      R"({"code":10,"extFields":{"a":[1]}})",
      R"({"code":10,"extFields":{"a":1.5}})",
      R"({"code":10,"extFields":null})",
      R"({"code":10,"remark":null})",
      R"({"code":10,"x":{"y":1}})",
      R"({"code":10,"u":"\u00e9"})",
      R"({"code":10} x)",
      R"({"code":10,})",
      R"([1])",
      R"("code")",
      "",
  };
  for (const auto& text : texts) expect_decoders_agree(text);
  EXPECT_TRUE(decode_plain_json_header(texts[0]).has_value());
  EXPECT_FALSE(decode_plain_json_header(R"({"code":010})").has_value());
}

TEST(JsonHeaderFast, EveryMutationOfARequestHeaderAgreesOrIsDeclined) {
  const std::string text = encode_json_header_general(send_like_request());
  const std::string replacements = "\"\\{}[],:0 -9anu\x01\x80";
  for (std::size_t i = 0; i < text.size(); ++i) {
    expect_decoders_agree(text.substr(0, i));
    expect_decoders_agree(text.substr(0, i) + text.substr(i + 1));
    for (char c : replacements) {
      std::string mutated = text;
      mutated[i] = c;
      expect_decoders_agree(mutated);
    }
  }
}

}  // namespace
}  // namespace dledger::remoting
