// Fast paths of the JSON remoting header codec (internal to broker/remoting; remoting_command.cpp
// uses them). Every send request and reply carries a JSON header; parsing it into a JSON DOM and
// back cost about a fifth of the master's CPU per message. These read and write the common shape
// directly:
//   {"code":int,"extFields":{"k":"v",...},"flag":int,"language":"JAVA","opaque":int,
//    "remark":"...","serializeTypeCurrentRPC":"JSON","version":int}
// in any key order, with ASCII strings (escapes allowed) and canonical integers.
//
// Contract: a fast path either declines (nullopt) or gives exactly what the general codec gives
// for the same input (tests/remoting/json_header_fast_test.cpp checks both on a corpus and on
// mutated inputs). It declines anything unusual (non-ASCII bytes, nesting, floats, integers as
// strings, duplicate top-level keys, malformed JSON...), so every error comes from the general
// codec with its usual message.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "broker/base/result.h"
#include "broker/remoting/remoting_command.h"

namespace dledger::remoting {

std::optional<RemotingCommand> decode_plain_json_header(std::string_view text);
std::optional<std::string> encode_plain_json_header(const RemotingCommand& cmd);

// The general codecs (nlohmann::json based), which handle every input; for the fast paths and
// their tests.
Result<RemotingCommand> decode_json_header_general(std::string_view text);
std::string encode_json_header_general(const RemotingCommand& cmd);

}  // namespace dledger::remoting
