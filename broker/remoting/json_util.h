// JSON helpers shared by the header and body codecs (internal to broker/remoting).
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

// Quotes and truncates a client-supplied value for an error message ('abc', max 64 chars).
std::string quote_for_error(std::string_view value);

}  // namespace dledger::remoting
