#include "broker/base/properties.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <fstream>
#include <sstream>

namespace dledger {
namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

std::string lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

}  // namespace

Result<Properties> Properties::parse(std::string_view text, std::string source_name) {
  Properties props;
  std::size_t line_no = 0;
  while (!text.empty()) {
    std::size_t eol = text.find('\n');
    std::string_view line = text.substr(0, eol);
    text = eol == std::string_view::npos ? std::string_view() : text.substr(eol + 1);
    ++line_no;
    line = trim(line);
    if (line.empty() || line.front() == '#' || line.front() == '!') continue;
    std::size_t eq = line.find('=');
    std::string where = source_name + ":" + std::to_string(line_no);
    if (eq == std::string_view::npos) {
      return make_error(ErrorCode::kInvalidArgument,
                        where + ": expected 'key = value', got '" + std::string(line) + "'");
    }
    std::string key(trim(line.substr(0, eq)));
    std::string value(trim(line.substr(eq + 1)));
    if (key.empty()) {
      return make_error(ErrorCode::kInvalidArgument, where + ": empty key before '='");
    }
    if (auto it = props.values_.find(key); it != props.values_.end()) {
      props.warnings_.push_back("key '" + key + "' given twice (" + it->second.origin + " and " +
                                where + "); the last value wins");
    }
    props.values_[key] = Value{std::move(value), std::move(where)};
  }
  return props;
}

Result<Properties> Properties::load_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return make_error(ErrorCode::kNotFound, "cannot open config file '" + path + "'");
  }
  std::stringstream buffer;
  buffer << in.rdbuf();
  if (in.bad()) {
    return make_error(ErrorCode::kIo, "cannot read config file '" + path + "'");
  }
  return parse(buffer.str(), path);
}

void Properties::set(std::string key, std::string value, std::string origin) {
  values_[std::move(key)] = Value{std::move(value), std::move(origin)};
}

Status Properties::set_from_assignment(std::string_view assignment) {
  std::size_t eq = assignment.find('=');
  if (eq == std::string_view::npos || trim(assignment.substr(0, eq)).empty()) {
    return make_error(ErrorCode::kInvalidArgument,
                      "expected key=value, got '" + std::string(assignment) + "'");
  }
  set(std::string(trim(assignment.substr(0, eq))), std::string(trim(assignment.substr(eq + 1))));
  return Status();
}

bool Properties::has(std::string_view key) const {
  return values_.find(key) != values_.end();
}

std::optional<std::string> Properties::raw(std::string_view key) const {
  auto it = values_.find(key);
  if (it == values_.end()) return std::nullopt;
  used_.insert(std::string(key));
  return it->second.value;
}

std::string Properties::origin(std::string_view key) const {
  auto it = values_.find(key);
  return it == values_.end() ? std::string("default") : it->second.origin;
}

Error Properties::bad_value(std::string_view key, const std::string& value,
                            std::string_view expected) const {
  return make_error(ErrorCode::kInvalidArgument, std::string(key) + " = '" + value + "' (" +
                                                     origin(key) + "): expected " +
                                                     std::string(expected));
}

Result<std::string> Properties::get_string(std::string_view key,
                                           std::optional<std::string> fallback) const {
  if (auto v = raw(key)) return *v;
  if (fallback) return *fallback;
  return require_string(key);
}

Result<std::string> Properties::require_string(std::string_view key) const {
  auto v = raw(key);
  if (!v || v->empty()) {
    return make_error(ErrorCode::kInvalidArgument,
                      "missing required key '" + std::string(key) + "'");
  }
  return *v;
}

Result<std::int64_t> Properties::get_int(std::string_view key, std::int64_t fallback,
                                         std::int64_t min, std::int64_t max) const {
  auto v = raw(key);
  if (!v) return fallback;
  std::int64_t out = 0;
  const char* begin = v->data();
  const char* end = v->data() + v->size();
  auto [ptr, ec] = std::from_chars(begin, end, out);
  std::string expected = "an integer in [" + std::to_string(min) + ", " + std::to_string(max) + "]";
  if (ec != std::errc() || ptr != end || out < min || out > max) {
    return bad_value(key, *v, expected);
  }
  return out;
}

Result<bool> Properties::get_bool(std::string_view key, bool fallback) const {
  auto v = raw(key);
  if (!v) return fallback;
  std::string l = lower(*v);
  if (l == "true") return true;
  if (l == "false") return false;
  return bad_value(key, *v, "true or false");
}

Result<std::string> Properties::get_enum(std::string_view key, std::string fallback,
                                         const std::vector<std::string>& allowed) const {
  auto v = raw(key);
  if (!v) return fallback;
  if (std::find(allowed.begin(), allowed.end(), *v) != allowed.end()) return *v;
  std::string list;
  for (const auto& a : allowed) list += (list.empty() ? "" : ", ") + a;
  return bad_value(key, *v, "one of " + list);
}

std::vector<std::string> Properties::unused_keys() const {
  std::vector<std::string> out;
  for (const auto& [key, value] : values_) {
    if (used_.find(key) == used_.end()) out.push_back(key);
  }
  return out;
}

}  // namespace dledger
