// JSON helpers shared by the header and body codecs (internal to broker/remoting; dledgerctl's
// reply parsers use quote_fastjson_keys too).
//
// parse_json never throws: malformed text, invalid UTF-8 and nesting deeper than kMaxJsonDepth
// (checked before parsing, so hostile input cannot exhaust the stack in recursive JSON code) give
// an Error whose message starts with `what`.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "broker/base/result.h"

namespace dledger::remoting {

inline constexpr int kMaxJsonDepth = 32;

Result<nlohmann::json> parse_json(std::string_view text, std::string_view what);

// Serialises without throwing: invalid UTF-8 in strings is replaced by U+FFFD.
std::string dump_json(const nlohmann::json& value);

// An integer in [min, max] from a JSON integer or a decimal string (fastjson accepts both).
// Errors name `what` and the offending value.
Result<int64_t> json_to_int(const nlohmann::json& value, std::string_view what, int64_t min,
                            int64_t max);

// "string", "number", "object" ... for error messages.
std::string_view json_type_name(const nlohmann::json& value);

// Decimal integer text (optional leading '+' or '-', no spaces) -> int64; nullopt if malformed or
// out of int64 range.
std::optional<int64_t> parse_decimal_int(std::string_view text);

// fastjson's non-standard map keys made standard JSON, other text unchanged: a bare integer key
// is quoted ({0:"a"} -> {"0":"a"}, brokerAddrs), and an object key becomes a string holding the
// object's text ({{"topic":"T"}:1} -> {"{\"topic\":\"T\"}":1}, maps keyed by MessageQueue).
// Malformed text stays malformed for the parser to report.
std::string quote_fastjson_keys(std::string_view json_text);

// Quotes and truncates a client-supplied value for an error message ('abc', max 64 chars).
std::string quote_for_error(std::string_view value);

// Reads fields of JSON request/reply bodies with a sticky first error (like ExtFieldReader):
// read everything, then check ok(). Errors read "<what>: <path>.<key> <problem>", e.g.
// "HeartbeatData: consumerDataSet[0].groupName is required but missing".
class JsonBodyReader {
 public:
  explicit JsonBodyReader(std::string what) : what_(std::move(what)) {}

  // `object` must be a JSON object (check with expect_object first).
  std::string string(const nlohmann::json& object, std::string_view path, const char* key,
                     bool required, std::string default_value = {});
  int64_t integer(const nlohmann::json& object, std::string_view path, const char* key,
                  bool required, int64_t min, int64_t max, int64_t default_value = 0);
  // JSON true/false or the strings "true"/"false".
  bool boolean(const nlohmann::json& object, std::string_view path, const char* key,
               bool default_value);
  // The array under `key`; nullptr when absent or null (an error if required), or not an array.
  const nlohmann::json* array(const nlohmann::json& object, std::string_view path, const char* key,
                              bool required);
  // The object under `key`; nullptr when absent or null (an error if required), or not an object.
  const nlohmann::json* object(const nlohmann::json& object, std::string_view path, const char* key,
                               bool required);
  // Fails unless `value` is an object.
  bool expect_object(const nlohmann::json& value, std::string_view path);

  void fail(std::string_view path, std::string_view key, const std::string& problem);
  bool ok() const { return !error_.has_value(); }
  const Error& error() const { return *error_; }

 private:
  const nlohmann::json* find(const nlohmann::json& object, std::string_view path, const char* key,
                             bool required);

  std::string what_;
  std::optional<Error> error_;
};

}  // namespace dledger::remoting
