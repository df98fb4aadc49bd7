#include "broker/remoting/ext_fields.h"

#include "broker/remoting/json_util.h"

namespace dledger::remoting {

ExtFieldReader::ExtFieldReader(const RemotingCommand& cmd) : cmd_(cmd) {}

const std::string* ExtFieldReader::find(std::string_view key) const {
  auto it = cmd_.ext_fields.find(std::string(key));
  return it == cmd_.ext_fields.end() ? nullptr : &it->second;
}

void ExtFieldReader::fail(std::string_view key, std::string_view label,
                          const std::string& problem) {
  if (error_) return;
  std::string field = "'" + std::string(key) + "'";
  if (!label.empty() && label != key) field += " (" + std::string(label) + ")";
  std::string what = cmd_.is_response() ? "response (code " + std::to_string(cmd_.code) + ")"
                                        : std::string(request_code_name(cmd_.code)) + " (" +
                                              std::to_string(cmd_.code) + ")";
  error_ = make_error(ErrorCode::kInvalidArgument, what + ": ext field " + field + " " + problem);
}

std::string ExtFieldReader::required_string(std::string_view key, std::string_view label) {
  const std::string* value = find(key);
  if (value == nullptr) {
    fail(key, label, "is required but missing");
    return {};
  }
  if (value->empty()) {
    fail(key, label, "must not be empty");
    return {};
  }
  return error_ ? std::string() : *value;
}

std::optional<std::string> ExtFieldReader::optional_string(std::string_view key) {
  const std::string* value = find(key);
  if (value == nullptr || error_) return std::nullopt;
  return *value;
}

std::optional<int64_t> ExtFieldReader::optional_int(std::string_view key, int64_t min, int64_t max,
                                                    std::string_view label) {
  const std::string* value = find(key);
  if (value == nullptr || error_) return std::nullopt;
  auto parsed = parse_decimal_int(*value);
  if (!parsed) {
    fail(key, label, "= " + quote_for_error(*value) + " is not a decimal integer");
    return std::nullopt;
  }
  if (*parsed < min || *parsed > max) {
    fail(key, label,
         "= " + std::to_string(*parsed) + " is outside [" + std::to_string(min) + ", " +
             std::to_string(max) + "]");
    return std::nullopt;
  }
  return parsed;
}

int64_t ExtFieldReader::required_int(std::string_view key, int64_t min, int64_t max,
                                     std::string_view label) {
  if (find(key) == nullptr) {
    fail(key, label, "is required but missing");
    return 0;
  }
  return optional_int(key, min, max, label).value_or(0);
}

int32_t ExtFieldReader::required_int32(std::string_view key, int32_t min, int32_t max,
                                       std::string_view label) {
  return static_cast<int32_t>(required_int(key, min, max, label));
}

bool ExtFieldReader::optional_bool(std::string_view key, bool default_value,
                                   std::string_view label) {
  const std::string* value = find(key);
  if (value == nullptr || error_) return default_value;
  std::string lower;
  for (char c : *value)
    lower.push_back(static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c));
  if (lower == "true") return true;
  if (lower == "false") return false;
  fail(key, label, "= " + quote_for_error(*value) + " is not 'true' or 'false'");
  return default_value;
}

Status expect_request_code(const RemotingCommand& cmd, std::initializer_list<int32_t> codes) {
  for (int32_t code : codes) {
    if (cmd.code == code) return Status::ok_status();
  }
  std::string expected;
  for (int32_t code : codes) {
    if (!expected.empty()) expected += " or ";
    expected += std::string(request_code_name(code)) + " (" + std::to_string(code) + ")";
  }
  return make_error(ErrorCode::kInvalidArgument,
                    "request code " + std::to_string(cmd.code) + " is not " + expected);
}

Status validate_topic_name(std::string_view topic, std::string_view field) {
  if (topic.empty() || topic.size() > 127) {
    return make_error(
        ErrorCode::kInvalidArgument,
        std::string(field) + " " + quote_for_error(topic) + " must have 1..127 bytes");
  }
  for (char c : topic) {
    bool allowed = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                   c == '%' || c == '|' || c == '_' || c == '-';
    if (!allowed) {
      return make_error(ErrorCode::kInvalidArgument,
                        std::string(field) + " " + quote_for_error(topic) +
                            " may contain only letters, digits and % | _ -");
    }
  }
  return Status::ok_status();
}

}  // namespace dledger::remoting
