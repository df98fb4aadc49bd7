#include "broker/admin/admin_json.h"

#include <cctype>
#include <cstdint>
#include <optional>
#include <string>

namespace dledger::admin {
namespace {

using nlohmann::json;

Error field_error(const std::string& field, const std::string& expected) {
  return make_error(ErrorCode::kInvalidArgument, field + ": expected " + expected);
}

// Field readers: each returns an error naming `prefix + key` when the field is missing or has the
// wrong type.
class FieldReader {
 public:
  FieldReader(const json& object, std::string prefix)
      : object_(object), prefix_(std::move(prefix)) {}

  std::optional<Error> error() const { return error_; }

  std::string string(const char* key) {
    const json* value = find(key);
    if (value == nullptr) return {};
    if (!value->is_string()) {
      fail(key, "string");
      return {};
    }
    return value->get<std::string>();
  }

  std::optional<std::string> optional_string(const char* key) {
    const json* value = find(key);
    if (value == nullptr || value->is_null()) return std::nullopt;
    if (!value->is_string()) {
      fail(key, "string or null");
      return std::nullopt;
    }
    return value->get<std::string>();
  }

  std::uint64_t unsigned_integer(const char* key) {
    const json* value = find(key);
    if (value == nullptr) return 0;
    if (!value->is_number_unsigned()) {
      fail(key, "unsigned integer");
      return 0;
    }
    return value->get<std::uint64_t>();
  }

  std::optional<std::uint64_t> optional_unsigned(const char* key) {
    const json* value = find(key);
    if (value == nullptr || value->is_null()) return std::nullopt;
    if (!value->is_number_unsigned()) {
      fail(key, "unsigned integer or null");
      return std::nullopt;
    }
    return value->get<std::uint64_t>();
  }

  bool boolean(const char* key) {
    const json* value = find(key);
    if (value == nullptr) return false;
    if (!value->is_boolean()) {
      fail(key, "boolean");
      return false;
    }
    return value->get<bool>();
  }

  const json* array(const char* key) {
    const json* value = find(key);
    if (value == nullptr) return nullptr;
    if (!value->is_array()) {
      fail(key, "array");
      return nullptr;
    }
    return value;
  }

  std::string name(const char* key) const { return prefix_ + key; }

 private:
  // Missing keys are an error, except for optional (nullable) fields which may be absent.
  const json* find(const char* key) {
    if (error_) return nullptr;
    auto it = object_.find(key);
    if (it == object_.end()) {
      error_ = make_error(ErrorCode::kInvalidArgument, name(key) + ": missing");
      return nullptr;
    }
    return &*it;
  }
  void fail(const char* key, const char* expected) {
    if (!error_) error_ = field_error(name(key), expected);
  }

  const json& object_;
  std::string prefix_;
  std::optional<Error> error_;
};

json optional_to_json(const std::optional<std::uint64_t>& value) {
  return value ? json(*value) : json(nullptr);
}

}  // namespace

json status_to_json(const ReplicaStatus& status) {
  json members = json::array();
  for (const MemberStatus& member : status.members) {
    members.push_back({{"id", member.id},
                       {"address", member.address},
                       {"voter", member.voter},
                       {"role", member.role},
                       {"match_index", optional_to_json(member.match_index)},
                       {"lag", optional_to_json(member.lag)},
                       {"reachable", member.reachable}});
  }
  return json{
      {"group", status.group},
      {"self_id", status.self_id},
      {"role", status.role},
      {"term", status.term},
      {"leader_id", status.leader_id},
      {"leader_address", status.leader_address},
      {"leader_admin", status.leader_admin},
      {"commit_index", status.commit_index},
      {"last_index", status.last_index},
      {"first_index", status.first_index},
      {"flush_mode", status.flush_mode},
      {"membership_change_pending", status.membership_change_pending},
      {"transfer_target", status.transfer_target ? json(*status.transfer_target) : json(nullptr)},
      {"repair_until", status.repair_until},
      {"members", std::move(members)}};
}

Result<ReplicaStatus> status_from_json(const json& body) {
  if (!body.is_object()) return field_error("status", "JSON object");
  ReplicaStatus status;
  FieldReader reader(body, "");
  status.group = reader.string("group");
  status.self_id = reader.string("self_id");
  status.role = reader.string("role");
  status.term = reader.unsigned_integer("term");
  status.leader_id = reader.string("leader_id");
  status.leader_address = reader.string("leader_address");
  status.leader_admin = reader.string("leader_admin");
  status.commit_index = reader.unsigned_integer("commit_index");
  status.last_index = reader.unsigned_integer("last_index");
  status.first_index = reader.unsigned_integer("first_index");
  status.flush_mode = reader.string("flush_mode");
  status.membership_change_pending = reader.boolean("membership_change_pending");
  status.transfer_target = reader.optional_string("transfer_target");
  status.repair_until = reader.unsigned_integer("repair_until");
  const json* members = reader.array("members");
  if (auto error = reader.error()) return *error;
  if (!is_valid_role(status.role)) {
    return field_error("role",
                       "one of leader, follower, candidate, learner (got \"" + status.role + "\")");
  }
  for (std::size_t i = 0; i < members->size(); ++i) {
    const json& item = (*members)[i];
    const std::string prefix = "members[" + std::to_string(i) + "].";
    if (!item.is_object()) return field_error("members[" + std::to_string(i) + "]", "object");
    FieldReader member_reader(item, prefix);
    MemberStatus member;
    member.id = member_reader.string("id");
    member.address = member_reader.string("address");
    member.voter = member_reader.boolean("voter");
    member.role = member_reader.string("role");
    member.match_index = member_reader.optional_unsigned("match_index");
    member.lag = member_reader.optional_unsigned("lag");
    member.reachable = member_reader.boolean("reachable");
    if (auto error = member_reader.error()) return *error;
    status.members.push_back(std::move(member));
  }
  return status;
}

Result<ReplicaStatus> status_from_text(const std::string& text) {
  json body = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (body.is_discarded()) {
    return make_error(ErrorCode::kInvalidArgument, "status: body is not valid JSON");
  }
  return status_from_json(body);
}

json change_to_json(const ChangeResult& result) {
  return json{{"index", result.index}, {"term", result.term}};
}

Result<ChangeResult> change_from_json(const json& body) {
  if (!body.is_object()) return field_error("change result", "JSON object");
  FieldReader reader(body, "");
  ChangeResult result;
  result.index = reader.unsigned_integer("index");
  result.term = reader.unsigned_integer("term");
  if (auto error = reader.error()) return *error;
  return result;
}

json transfer_to_json(const TransferResult& result) {
  return json{{"leader_id", result.leader_id}, {"term", result.term}};
}

Result<TransferResult> transfer_from_json(const json& body) {
  if (!body.is_object()) return field_error("transfer result", "JSON object");
  FieldReader reader(body, "");
  TransferResult result;
  result.leader_id = reader.string("leader_id");
  result.term = reader.unsigned_integer("term");
  if (auto error = reader.error()) return *error;
  return result;
}

json error_to_json(const std::string& code_name, const std::string& message) {
  return json{{"error", code_name}, {"message", message}};
}

int http_status_for(ErrorCode code) {
  switch (code) {
    case ErrorCode::kInvalidArgument:
    case ErrorCode::kOutOfRange:
      return 400;
    case ErrorCode::kNotFound:
      return 404;
    case ErrorCode::kNotLeader:
    case ErrorCode::kBusy:
    case ErrorCode::kTransferring:
      return 409;
    case ErrorCode::kUnavailable:
    case ErrorCode::kStopped:
    case ErrorCode::kOverloaded:
      return 503;
    case ErrorCode::kTimeout:
      return 504;
    case ErrorCode::kCorruption:
    case ErrorCode::kIo:
    case ErrorCode::kDiskFull:
    case ErrorCode::kInternal:
      return 500;
  }
  return 500;
}

ErrorCode error_code_from_name(const std::string& name) {
  static constexpr ErrorCode kAll[] = {
      ErrorCode::kInvalidArgument, ErrorCode::kNotFound,     ErrorCode::kOutOfRange,
      ErrorCode::kCorruption,      ErrorCode::kIo,           ErrorCode::kDiskFull,
      ErrorCode::kNotLeader,       ErrorCode::kTransferring, ErrorCode::kBusy,
      ErrorCode::kOverloaded,      ErrorCode::kTimeout,      ErrorCode::kStopped,
      ErrorCode::kUnavailable,     ErrorCode::kInternal};
  for (ErrorCode code : kAll) {
    if (name == error_code_name(code)) return code;
  }
  return ErrorCode::kInternal;
}

Status validate_member_id(const std::string& id, const std::string& field) {
  if (id.empty() || id.size() > 64) {
    return make_error(ErrorCode::kInvalidArgument,
                      field + ": expected 1..64 characters, got \"" + id.substr(0, 80) + "\"");
  }
  for (char c : id) {
    const auto u = static_cast<unsigned char>(c);
    if (!std::isalnum(u) && c != '-' && c != '_' && c != '.') {
      return make_error(ErrorCode::kInvalidArgument,
                        field + ": \"" + id + "\" may contain only letters, digits, '-', '_', '.'");
    }
  }
  return Status();
}

Status validate_host_port(const std::string& address, const std::string& field) {
  const auto bad = [&](const std::string& why) {
    return make_error(ErrorCode::kInvalidArgument, field + ": expected host:port, got \"" +
                                                       address.substr(0, 200) + "\" (" + why + ")");
  };
  if (address.size() > 255) return bad("longer than 255 characters");
  const std::size_t colon = address.rfind(':');
  if (colon == std::string::npos) return bad("no ':port'");
  std::string host = address.substr(0, colon);
  const std::string port = address.substr(colon + 1);
  if (!host.empty() && host.front() == '[') {
    if (host.size() < 3 || host.back() != ']') return bad("unterminated IPv6 brackets");
    host = host.substr(1, host.size() - 2);
  } else if (host.find(':') != std::string::npos) {
    return bad("IPv6 hosts need brackets");
  }
  if (host.empty()) return bad("empty host");
  for (char c : host) {
    const auto u = static_cast<unsigned char>(c);
    if (!std::isalnum(u) && c != '-' && c != '.' && c != '_' && c != ':') {
      return bad("invalid character in host");
    }
  }
  if (port.empty() || port.size() > 5) return bad("port must be 1..65535");
  unsigned value = 0;
  for (char c : port) {
    if (c < '0' || c > '9') return bad("port must be 1..65535");
    value = value * 10 + static_cast<unsigned>(c - '0');
  }
  if (value == 0 || value > 65535) return bad("port must be 1..65535");
  return Status();
}

}  // namespace dledger::admin
