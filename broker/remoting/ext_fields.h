// ExtFieldReader: typed, validated access to a request's extFields (all values are strings on the
// wire; numbers and booleans were converted when the JSON header was decoded).
//
// The reader keeps the FIRST error and returns zero/empty values afterwards, so a parser reads
// every field and checks ok() once:
//
//   ExtFieldReader r(cmd);
//   req.topic = r.required_string("topic");
//   req.queue_id = r.required_int32("queueId", 0, INT32_MAX);
//   if (!r.ok()) return r.error();
//
// Error messages name the request ("PULL_MESSAGE (11)"), the field (with its long name when the
// wire key is a short one: "'b' (topic)") and the offending value.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>

#include "broker/base/result.h"
#include "broker/remoting/remoting_command.h"

namespace dledger::remoting {

class ExtFieldReader {
 public:
  explicit ExtFieldReader(const RemotingCommand& cmd);

  // `key` is the wire key; `label` (optional) the descriptive name used in errors.
  // Missing or empty -> error.
  std::string required_string(std::string_view key, std::string_view label = {});
  // Missing -> nullopt (an empty string is returned as "").
  std::optional<std::string> optional_string(std::string_view key);

  // Decimal integer within [min, max]; missing, malformed or out of range -> error.
  int64_t required_int(std::string_view key, int64_t min, int64_t max, std::string_view label = {});
  int32_t required_int32(std::string_view key, int32_t min, int32_t max,
                         std::string_view label = {});
  // Missing -> nullopt; present but malformed or out of range -> error.
  std::optional<int64_t> optional_int(std::string_view key, int64_t min, int64_t max,
                                      std::string_view label = {});
  // "true"/"false" (any case); missing -> default_value; anything else -> error.
  bool optional_bool(std::string_view key, bool default_value, std::string_view label = {});

  bool ok() const { return !error_.has_value(); }
  const Error& error() const { return *error_; }

 private:
  const std::string* find(std::string_view key) const;
  void fail(std::string_view key, std::string_view label, const std::string& problem);

  const RemotingCommand& cmd_;
  std::optional<Error> error_;
};

// OK when cmd.code is one of `codes`; else kInvalidArgument naming the code and the expected ones
// ("request code 11 is not GET_MAX_OFFSET (30) or GET_MIN_OFFSET (31)"). Every header parser
// checks this first.
Status expect_request_code(const RemotingCommand& cmd, std::initializer_list<int32_t> codes);

// Topic names as RocketMQ validates them: 1..127 bytes of [A-Za-z0-9%|_-].
// The error names the field and the value.
Status validate_topic_name(std::string_view topic, std::string_view field = "topic");

}  // namespace dledger::remoting
