#include "broker/admin/admin_router.h"

#include <exception>
#include <string_view>

#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>
#include <nlohmann/json.hpp>

#include "broker/admin/admin_http_server.h"
#include "broker/admin/admin_json.h"

namespace dledger::admin {
namespace {

using nlohmann::json;

AdminReply json_reply(int status, const json& body) {
  AdminReply reply;
  reply.status = status;
  // Messages may echo user input; invalid UTF-8 is replaced rather than thrown on.
  reply.body = body.dump(-1, ' ', false, json::error_handler_t::replace);
  return reply;
}

AdminReply error_json(int status, const std::string& code, const std::string& message) {
  return json_reply(status, error_to_json(code, message));
}

AdminReply bad_request(const std::string& message) {
  return error_json(400, error_code_name(ErrorCode::kInvalidArgument), message);
}

AdminReply text_reply(int status, std::string text) {
  AdminReply reply;
  reply.status = status;
  reply.content_type = "text/plain; charset=utf-8";
  reply.body = std::move(text);
  return reply;
}

AdminReply method_not_allowed(const std::string& allow, const std::string& method,
                              const std::string& path) {
  AdminReply reply =
      error_json(405, "MethodNotAllowed", method + " " + path + " is not supported; use " + allow);
  reply.headers.emplace_back("Allow", allow);
  return reply;
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Parses a request body that must be a JSON object. An empty body is allowed only when
// `empty_ok` (it then reads as {}).
Result<json> parse_object(const std::string& body, bool empty_ok) {
  if (body.find_first_not_of(" \t\r\n") == std::string::npos) {
    if (empty_ok) return json::object();
    return make_error(ErrorCode::kInvalidArgument, "body: expected a JSON object, got nothing");
  }
  json parsed = json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (parsed.is_discarded()) {
    return make_error(ErrorCode::kInvalidArgument, "body: not valid JSON");
  }
  if (!parsed.is_object()) {
    return make_error(ErrorCode::kInvalidArgument,
                      std::string("body: expected a JSON object, got ") + parsed.type_name());
  }
  return parsed;
}

// Reads a required (or optional) string field of a request object.
Result<std::string> string_field(const json& object, const char* key, bool required) {
  auto it = object.find(key);
  if (it == object.end() || (!required && it->is_null())) {
    if (required) {
      return make_error(ErrorCode::kInvalidArgument, std::string(key) + ": missing");
    }
    return std::string();
  }
  if (!it->is_string()) {
    return make_error(ErrorCode::kInvalidArgument,
                      std::string(key) + ": expected a string, got " + it->type_name());
  }
  return it->get<std::string>();
}

}  // namespace

Result<std::vector<std::string>> split_path(const std::string& path) {
  std::vector<std::string> segments;
  std::string current;
  for (std::size_t i = 0; i < path.size(); ++i) {
    const char c = path[i];
    if (c == '/') {
      if (!current.empty()) segments.push_back(std::move(current));
      current.clear();
    } else if (c == '%') {
      const int high = i + 1 < path.size() ? hex_value(path[i + 1]) : -1;
      const int low = i + 2 < path.size() ? hex_value(path[i + 2]) : -1;
      if (high < 0 || low < 0) {
        return make_error(ErrorCode::kInvalidArgument,
                          "path: malformed percent escape at offset " + std::to_string(i));
      }
      current.push_back(static_cast<char>(high * 16 + low));
      i += 2;
    } else {
      current.push_back(c);
    }
  }
  if (!current.empty()) segments.push_back(std::move(current));
  return segments;
}

AdminRouter::AdminRouter(std::shared_ptr<AdminBackend> backend,
                         std::shared_ptr<prometheus::Registry> registry, std::string token,
                         std::chrono::milliseconds operation_timeout)
    : backend_(std::move(backend)),
      registry_(std::move(registry)),
      token_(std::move(token)),
      operation_timeout_(operation_timeout) {}

AdminReply AdminRouter::handle(const AdminRequest& request) const {
  try {
    return route(request);
  } catch (const std::exception& e) {
    return error_json(500, error_code_name(ErrorCode::kInternal),
                      std::string("unexpected error: ") + e.what());
  } catch (...) {
    return error_json(500, error_code_name(ErrorCode::kInternal), "unexpected error");
  }
}

AdminReply AdminRouter::route(const AdminRequest& request) const {
  auto segments_or = split_path(request.path);
  if (!segments_or.ok()) return bad_request(segments_or.error().message);
  const std::vector<std::string>& s = *segments_or;
  const std::string& method = request.method;
  const bool get = method == "GET";

  if (s.size() == 1) {
    if (s[0] == "healthz")
      return get ? text_reply(200, "ok\n") : method_not_allowed("GET", method, request.path);
    if (s[0] == "readyz") return get ? readyz() : method_not_allowed("GET", method, request.path);
    if (s[0] == "status") return get ? status() : method_not_allowed("GET", method, request.path);
    if (s[0] == "metrics") return get ? metrics() : method_not_allowed("GET", method, request.path);
  }

  // Mutating endpoints: match the route first (404/405 need no token), then authenticate.
  enum class Op { kNone, kTransfer, kAdd, kPromote, kRemove };
  Op op = Op::kNone;
  std::string allow;
  if (s.size() == 3 && s[0] == "v1" && s[1] == "leadership" && s[2] == "transfer") {
    allow = "POST";
    if (method == "POST") op = Op::kTransfer;
  } else if (s.size() == 2 && s[0] == "v1" && s[1] == "members") {
    allow = "POST";
    if (method == "POST") op = Op::kAdd;
  } else if (s.size() == 4 && s[0] == "v1" && s[1] == "members" && s[3] == "promote") {
    allow = "POST";
    if (method == "POST") op = Op::kPromote;
  } else if (s.size() == 3 && s[0] == "v1" && s[1] == "members") {
    allow = "DELETE";
    if (method == "DELETE") op = Op::kRemove;
  }
  if (allow.empty()) return error_json(404, "NotFound", "no such endpoint: " + request.path);
  if (op == Op::kNone) return method_not_allowed(allow, method, request.path);

  if (!authorized(request.authorization)) {
    AdminReply reply =
        error_json(401, "Unauthorized",
                   request.authorization.empty()
                       ? "this endpoint needs an 'Authorization: Bearer <token>' header"
                       : "the bearer token is not accepted");
    reply.headers.emplace_back("WWW-Authenticate", "Bearer");
    return reply;
  }
  switch (op) {
    case Op::kTransfer:
      return transfer(request.body);
    case Op::kAdd:
      return add_member(request.body);
    case Op::kPromote:
      return promote(s[2]);
    case Op::kRemove:
      return remove(s[2]);
    case Op::kNone:
      break;
  }
  return error_json(404, "NotFound", "no such endpoint: " + request.path);
}

bool AdminRouter::authorized(const std::string& authorization) const {
  if (token_.empty()) return true;
  static constexpr std::string_view kScheme = "bearer ";
  if (authorization.size() < kScheme.size()) return false;
  for (std::size_t i = 0; i < kScheme.size(); ++i) {
    const char c = authorization[i];
    const char lower = (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
    if (lower != kScheme[i]) return false;
  }
  std::string presented = authorization.substr(kScheme.size());
  while (!presented.empty() && (presented.back() == ' ' || presented.back() == '\t')) {
    presented.pop_back();
  }
  return constant_time_equals(presented, token_);
}

AdminReply AdminRouter::readyz() const {
  const ReplicaStatus s = backend_->status();
  if (is_ready(s)) return text_reply(200, "ready\n");
  if (!s.log_open) return text_reply(503, "not ready: log not open\n");
  return text_reply(503, "not ready: no live leader (role " + s.role + ", term " +
                             std::to_string(s.term) + ")\n");
}

AdminReply AdminRouter::status() const {
  return json_reply(200, status_to_json(backend_->status()));
}

AdminReply AdminRouter::metrics() const {
  AdminReply reply;
  reply.content_type = "text/plain; version=0.0.4; charset=utf-8";
  if (registry_) reply.body = prometheus::TextSerializer().Serialize(registry_->Collect());
  return reply;
}

AdminReply AdminRouter::error_reply(const Error& error) const {
  json body = error_to_json(error_code_name(error.code), error.message);
  if (error.code == ErrorCode::kNotLeader) {
    const ReplicaStatus s = backend_->status();
    body["leader_id"] = s.leader_id;
    body["leader_admin"] = s.leader_admin;
  }
  return json_reply(http_status_for(error.code), body);
}

AdminReply AdminRouter::transfer(const std::string& body) const {
  auto object = parse_object(body, /*empty_ok=*/true);
  if (!object.ok()) return bad_request(object.error().message);
  auto target = string_field(*object, "target", /*required=*/false);
  if (!target.ok()) return bad_request(target.error().message);
  if (!target->empty()) {
    Status valid = validate_member_id(*target, "target");
    if (!valid.ok()) return bad_request(valid.error().message);
  }
  auto result = backend_->transfer_leadership(*target, operation_timeout_);
  if (!result.ok()) return error_reply(result.error());
  return json_reply(200, transfer_to_json(*result));
}

AdminReply AdminRouter::add_member(const std::string& body) const {
  auto object = parse_object(body, /*empty_ok=*/false);
  if (!object.ok()) return bad_request(object.error().message);
  auto id = string_field(*object, "id", /*required=*/true);
  if (!id.ok()) return bad_request(id.error().message);
  auto address = string_field(*object, "address", /*required=*/true);
  if (!address.ok()) return bad_request(address.error().message);
  if (Status valid = validate_member_id(*id, "id"); !valid.ok()) {
    return bad_request(valid.error().message);
  }
  if (Status valid = validate_host_port(*address, "address"); !valid.ok()) {
    return bad_request(valid.error().message);
  }
  auto result = backend_->add_learner(*id, *address, operation_timeout_);
  if (!result.ok()) return error_reply(result.error());
  return json_reply(200, change_to_json(*result));
}

AdminReply AdminRouter::promote(const std::string& id) const {
  if (Status valid = validate_member_id(id, "id"); !valid.ok()) {
    return bad_request(valid.error().message);
  }
  auto result = backend_->promote(id, operation_timeout_);
  if (!result.ok()) return error_reply(result.error());
  return json_reply(200, change_to_json(*result));
}

AdminReply AdminRouter::remove(const std::string& id) const {
  if (Status valid = validate_member_id(id, "id"); !valid.ok()) {
    return bad_request(valid.error().message);
  }
  auto result = backend_->remove_member(id, operation_timeout_);
  if (!result.ok()) return error_reply(result.error());
  return json_reply(200, change_to_json(*result));
}

}  // namespace dledger::admin
