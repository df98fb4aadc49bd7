// Properties: the `key = value` file format of RocketMQ's broker.conf (Java .properties subset).
//
// Format: one `key = value` or `key=value` per line; leading/trailing blanks trimmed; lines
// starting with `#` or `!` and blank lines ignored; a value may contain `=`. A line without `=`
// is an error naming the file and line. A key given twice: the last wins and a warning is
// recorded. `-p key=value` overrides are applied with set() after loading.
//
// Typed getters return Result<T>; errors name the key, the value and what was expected, e.g.
//   "listenPort = 'abc' (broker.conf:3): expected an integer in [1, 65535]".
// Keys read through a getter are marked used; unused_keys() lists the rest so programs can warn
// about unknown keys.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "broker/base/result.h"

namespace dledger {

class Properties {
 public:
  static Result<Properties> parse(std::string_view text, std::string source_name);
  static Result<Properties> load_file(const std::string& path);

  // Override or add a key (from the command line). `origin` appears in error messages.
  void set(std::string key, std::string value, std::string origin = "command line");
  // Parses "key=value" (for -p); error if there is no '='.
  Status set_from_assignment(std::string_view assignment);

  bool has(std::string_view key) const;
  std::optional<std::string> raw(std::string_view key) const;

  Result<std::string> get_string(std::string_view key, std::optional<std::string> fallback) const;
  // Required string: error "missing required key" naming the source.
  Result<std::string> require_string(std::string_view key) const;
  Result<std::int64_t> get_int(std::string_view key, std::int64_t fallback, std::int64_t min,
                               std::int64_t max) const;
  Result<bool> get_bool(std::string_view key, bool fallback) const;  // true/false (any case)
  // One of `allowed` (case-sensitive); error lists the allowed values.
  Result<std::string> get_enum(std::string_view key, std::string fallback,
                               const std::vector<std::string>& allowed) const;

  // Keys present but never read by a getter, in sorted order.
  std::vector<std::string> unused_keys() const;
  // Where a key came from ("broker.conf:12" or "command line").
  std::string origin(std::string_view key) const;
  const std::vector<std::string>& warnings() const { return warnings_; }

 private:
  struct Value {
    std::string value;
    std::string origin;
  };
  Error bad_value(std::string_view key, const std::string& value, std::string_view expected) const;

  std::map<std::string, Value, std::less<>> values_;
  mutable std::set<std::string, std::less<>> used_;
  std::vector<std::string> warnings_;
};

}  // namespace dledger
