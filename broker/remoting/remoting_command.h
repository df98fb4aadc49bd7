// RemotingCommand: one request or response of the RocketMQ 4.x remoting protocol, and its frame
// codec.
//
// Frame (all integers big-endian):
//
//   +----------+---------------------------+-------------+------------+
//   | int32 L  | int32 (type<<24 | hlen)   | header      | body       |
//   +----------+---------------------------+-------------+------------+
//     L = 4 + hlen + body length          hlen bytes    L - 4 - hlen bytes
//
//   type 0 (JSON): the header is a JSON object
//     {"code":int,"extFields":{str:str},"flag":int,"language":"JAVA","opaque":int,
//      "remark":str (absent when null),"serializeTypeCurrentRPC":"JSON","version":int}
//     On input, extFields values may also be JSON numbers or booleans (the ali-ons client sends
//     them); they are converted to their decimal / "true" / "false" text. null values are dropped.
//   type 1 (ROCKETMQ binary): code i16 | language u8 | version i16 | opaque i32 | flag i32 |
//     remark (i32 len + UTF-8, len 0 = null) | extFields (i32 total len, then entries of
//     i16 keyLen + key + i32 valLen + value).
//
// A whole frame, length prefix included, is at most kMaxFrameBytes (16 MiB), as in Java's
// NettyDecoder. Every decoder here validates all lengths against the bytes actually present and
// returns an Error naming the field and value at fault; no input can make them crash or read out of
// bounds.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "broker/base/result.h"
#include "broker/remoting/codes.h"

namespace dledger::remoting {

inline constexpr std::size_t kMaxFrameBytes = 16 * 1024 * 1024;
// Header length has 24 bits on the wire.
inline constexpr std::size_t kMaxHeaderBytes = (1u << 24) - 1;

enum class SerializeType : uint8_t { kJson = 0, kRocketmq = 1 };

// flag bits
inline constexpr int32_t kFlagResponse = 1 << 0;
inline constexpr int32_t kFlagOneway = 1 << 1;

struct RemotingCommand {
  int32_t code = 0;
  uint8_t language = language_code::kJava;
  int32_t version = 0;
  int32_t opaque = 0;
  int32_t flag = 0;
  std::optional<std::string> remark;
  std::map<std::string, std::string> ext_fields;
  std::string body;
  // How the header was (or will be) encoded. A response uses the request's type.
  SerializeType serialize_type = SerializeType::kJson;

  bool is_response() const { return (flag & kFlagResponse) != 0; }
  bool is_oneway() const { return (flag & kFlagOneway) != 0; }

  bool operator==(const RemotingCommand&) const = default;
};

// A new request with the given code and opaque (language JAVA, JSON header).
RemotingCommand make_request(int32_t code, int32_t opaque);

// A response to `request`: echoes its opaque, version and serialize type, sets the response flag.
// `remark` nullopt = no remark.
RemotingCommand make_response(const RemotingCommand& request, int32_t code,
                              std::optional<std::string> remark = std::nullopt);

// Header only (no length prefix, no body), in cmd.serialize_type.
// Errors: binary header with a key longer than 32767 bytes.
Result<std::string> encode_header(const RemotingCommand& cmd);

// Parses a header of the given type. The returned command has an empty body and
// serialize_type = `type`. Errors: malformed JSON / not an object / field of the wrong type or out
// of range; binary header truncated, negative lengths, lengths beyond the header, trailing bytes.
Result<RemotingCommand> decode_header(SerializeType type, std::string_view header);

// Whole frame, length prefix included. Errors: header too long for 24 bits, frame larger than
// kMaxFrameBytes, or the header errors of encode_header.
Result<std::string> encode_frame(const RemotingCommand& cmd);

// Decodes one complete frame (`frame` must be exactly one frame, length prefix included).
Result<RemotingCommand> decode_frame(std::string_view frame);

// One line for logs: "SEND_MESSAGE_V2(310) request opaque=7 JSON ext={a=PG, b=T} body=5B".
// Client-supplied text is quoted and truncated; control bytes are escaped.
std::string describe_command(const RemotingCommand& cmd);

// Decodes the part of a frame after the length prefix (the "int32 word", header and body), as
// delivered by FrameDecoder. Errors: unknown serialize type, header length beyond the frame.
Result<RemotingCommand> decode_frame_payload(std::string_view payload);

}  // namespace dledger::remoting
