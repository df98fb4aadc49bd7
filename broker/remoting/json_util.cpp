#include "broker/remoting/json_util.h"

#include <charconv>
#include <vector>

namespace dledger::remoting {

using nlohmann::json;

namespace {

// Index of the quote closing the JSON string whose opening quote is at `open`; npos when the
// string does not end.
std::size_t string_end(std::string_view text, std::size_t open) {
  for (std::size_t i = open + 1; i < text.size(); ++i) {
    if (text[i] == '\\') {
      ++i;
    } else if (text[i] == '"') {
      return i;
    }
  }
  return std::string_view::npos;
}

// Maximum nesting of objects/arrays, ignoring brackets inside strings. Stops early past `limit`.
int max_nesting(std::string_view text, int limit) {
  int depth = 0;
  int max_depth = 0;
  for (std::size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c == '"') {
      i = string_end(text, i);
      if (i == std::string_view::npos) break;
    } else if (c == '{' || c == '[') {
      ++depth;
      if (depth > max_depth) max_depth = depth;
      if (max_depth > limit) return max_depth;
    } else if (c == '}' || c == ']') {
      --depth;
    }
  }
  return max_depth;
}

bool json_space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

// Index of the '}' closing the object that opens at `open`; npos when it does not close.
std::size_t object_end(std::string_view text, std::size_t open) {
  int depth = 0;
  for (std::size_t i = open; i < text.size(); ++i) {
    if (text[i] == '"') {
      i = string_end(text, i);
      if (i == std::string_view::npos) break;
    } else if (text[i] == '{') {
      ++depth;
    } else if (text[i] == '}' && --depth == 0) {
      return i;
    }
  }
  return std::string_view::npos;
}

}  // namespace

Result<json> parse_json(std::string_view text, std::string_view what) {
  if (max_nesting(text, kMaxJsonDepth) > kMaxJsonDepth) {
    return make_error(ErrorCode::kInvalidArgument, std::string(what) +
                                                       ": JSON nested deeper than " +
                                                       std::to_string(kMaxJsonDepth) + " levels");
  }
  json value = json::parse(text.begin(), text.end(), nullptr, /*allow_exceptions=*/false);
  if (value.is_discarded()) {
    return make_error(ErrorCode::kInvalidArgument,
                      std::string(what) + ": malformed JSON (" + std::to_string(text.size()) +
                          " bytes, starts with " + quote_for_error(text) + ")");
  }
  return value;
}

std::string dump_json(const json& value) {
  return value.dump(-1, ' ', false, json::error_handler_t::replace);
}

std::string_view json_type_name(const json& value) {
  switch (value.type()) {
    case json::value_t::null:
      return "null";
    case json::value_t::object:
      return "object";
    case json::value_t::array:
      return "array";
    case json::value_t::string:
      return "string";
    case json::value_t::boolean:
      return "boolean";
    case json::value_t::number_integer:
    case json::value_t::number_unsigned:
      return "integer";
    case json::value_t::number_float:
      return "number";
    case json::value_t::binary:
      return "binary";
    case json::value_t::discarded:
      return "discarded";
  }
  return "unknown";
}

std::optional<int64_t> parse_decimal_int(std::string_view text) {
  if (!text.empty() && text.front() == '+') {
    text.remove_prefix(1);
    if (!text.empty() && (text.front() == '-' || text.front() == '+')) return std::nullopt;
  }
  if (text.empty()) return std::nullopt;
  int64_t value = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || ptr != text.data() + text.size()) return std::nullopt;
  return value;
}

std::string quote_for_error(std::string_view value) {
  constexpr std::size_t kMax = 64;
  std::string out = "'";
  for (std::size_t i = 0; i < value.size() && i < kMax; ++i) {
    unsigned char c = static_cast<unsigned char>(value[i]);
    if (c < 0x20 || c == 0x7f) {
      static const char* kHex = "0123456789abcdef";
      out += "\\x";
      out += kHex[c >> 4];
      out += kHex[c & 0xf];
    } else {
      out += static_cast<char>(c);
    }
  }
  if (value.size() > kMax) out += "...";
  out += "'";
  return out;
}

Result<int64_t> json_to_int(const json& value, std::string_view what, int64_t min, int64_t max) {
  std::optional<int64_t> parsed;
  if (value.is_number_integer() && !value.is_number_unsigned()) {
    parsed = value.get<int64_t>();
  } else if (value.is_number_unsigned()) {
    uint64_t u = value.get<uint64_t>();
    if (u <= static_cast<uint64_t>(INT64_MAX)) parsed = static_cast<int64_t>(u);
  } else if (value.is_string()) {
    parsed = parse_decimal_int(value.get_ref<const std::string&>());
  } else {
    return make_error(ErrorCode::kInvalidArgument, std::string(what) + " must be an integer, got " +
                                                       std::string(json_type_name(value)) + " " +
                                                       quote_for_error(dump_json(value)));
  }
  if (!parsed || *parsed < min || *parsed > max) {
    return make_error(ErrorCode::kInvalidArgument,
                      std::string(what) + " = " + quote_for_error(dump_json(value)) +
                          " is not an integer in [" + std::to_string(min) + ", " +
                          std::to_string(max) + "]");
  }
  return *parsed;
}

// ---- JsonBodyReader ----

void JsonBodyReader::fail(std::string_view path, std::string_view key, const std::string& problem) {
  if (error_) return;
  std::string where(path);
  if (!key.empty()) {
    if (!where.empty()) where += ".";
    where += key;
  }
  if (where.empty()) where = "body";
  error_ = make_error(ErrorCode::kInvalidArgument, what_ + ": " + where + " " + problem);
}

const json* JsonBodyReader::find(const json& object, std::string_view path, const char* key,
                                 bool required) {
  auto it = object.find(key);
  if (it == object.end() || it->is_null()) {
    if (required) fail(path, key, "is required but missing");
    return nullptr;
  }
  return &*it;
}

std::string JsonBodyReader::string(const json& object, std::string_view path, const char* key,
                                   bool required, std::string default_value) {
  const json* value = find(object, path, key, required);
  if (value == nullptr) return default_value;
  if (!value->is_string()) {
    fail(path, key, "must be a string, got " + std::string(json_type_name(*value)));
    return default_value;
  }
  return value->get<std::string>();
}

int64_t JsonBodyReader::integer(const json& object, std::string_view path, const char* key,
                                bool required, int64_t min, int64_t max, int64_t default_value) {
  const json* value = find(object, path, key, required);
  if (value == nullptr) return default_value;
  auto parsed = json_to_int(*value, "", min, max);
  if (!parsed.ok()) {
    fail(path, key, parsed.error().message.substr(1));  // drop the leading space of empty `what`
    return default_value;
  }
  return *parsed;
}

bool JsonBodyReader::boolean(const json& object, std::string_view path, const char* key,
                             bool default_value) {
  const json* value = find(object, path, key, false);
  if (value == nullptr) return default_value;
  if (value->is_boolean()) return value->get<bool>();
  if (value->is_string()) {
    const auto& text = value->get_ref<const std::string&>();
    if (text == "true") return true;
    if (text == "false") return false;
  }
  fail(path, key, "must be true or false, got " + quote_for_error(dump_json(*value)));
  return default_value;
}

const json* JsonBodyReader::array(const json& object, std::string_view path, const char* key,
                                  bool required) {
  const json* value = find(object, path, key, required);
  if (value == nullptr) return nullptr;
  if (!value->is_array()) {
    fail(path, key, "must be an array, got " + std::string(json_type_name(*value)));
    return nullptr;
  }
  return value;
}

const json* JsonBodyReader::object(const json& parent, std::string_view path, const char* key,
                                   bool required) {
  const json* value = find(parent, path, key, required);
  if (value == nullptr) return nullptr;
  if (!value->is_object()) {
    fail(path, key, "must be an object, got " + std::string(json_type_name(*value)));
    return nullptr;
  }
  return value;
}

bool JsonBodyReader::expect_object(const json& value, std::string_view path) {
  if (value.is_object()) return true;
  fail(path, "", "must be an object, got " + std::string(json_type_name(value)));
  return false;
}

std::string quote_fastjson_keys(std::string_view text) {
  std::string out;
  out.reserve(text.size() + 16);
  bool expect_key = false;  // after '{' or ',' inside an object
  std::vector<char> stack;  // '{' or '['
  for (std::size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c == '"') {
      std::size_t end = string_end(text, i);
      if (end == std::string_view::npos) {
        out.append(text.substr(i));
        return out;
      }
      out.append(text.substr(i, end - i + 1));
      i = end;
      expect_key = false;
      continue;
    }
    if (expect_key && (c == '-' || (c >= '0' && c <= '9'))) {
      std::size_t end = i + 1;
      while (end < text.size() && text[end] >= '0' && text[end] <= '9') ++end;
      std::size_t after = end;
      while (after < text.size() && json_space(text[after])) ++after;
      if (after < text.size() && text[after] == ':') {
        out += '"';
        out.append(text.substr(i, end - i));
        out += '"';
        i = end - 1;
        expect_key = false;
        continue;
      }
    }
    if (expect_key && c == '{') {
      std::size_t end = object_end(text, i);
      if (end != std::string_view::npos) {
        out += dump_json(nlohmann::json(std::string(text.substr(i, end - i + 1))));
        i = end;
        expect_key = false;
        continue;
      }
    }
    if (c == '{' || c == '[') {
      stack.push_back(c);
      expect_key = c == '{';
    } else if (c == '}' || c == ']') {
      if (!stack.empty()) stack.pop_back();
      expect_key = false;
    } else if (c == ',') {
      expect_key = !stack.empty() && stack.back() == '{';
    } else if (!json_space(c)) {
      expect_key = false;
    }
    out += c;
  }
  return out;
}

}  // namespace dledger::remoting
