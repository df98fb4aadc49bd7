// ApiError: a Kubernetes `Status` failure (kind Status, reason, code, details.causes) as the real
// API server sends it. Every handler failure in the test API server is one of these; to_json()
// produces exactly the shape kubectl parses (the Status shape kubectl 1.32 parses).
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace dledger::kube {

struct StatusCause {
  std::string reason;   // FieldValueInvalid, FieldValueRequired, FieldValueNotSupported, ...
  std::string field;    // spec.replicas
  std::string message;  // Invalid value: 12: spec.replicas in body should be ...
};

struct ApiError {
  int code = 500;
  std::string reason;   // NotFound, AlreadyExists, Conflict, Invalid, BadRequest, ...
  std::string message;  // full human message
  std::string name;     // details.name
  std::string group;    // details.group
  std::string kind;     // details.kind (plural resource name for NotFound, like the real server)
  std::vector<StatusCause> causes;

  nlohmann::json to_json() const;
};

// "dledgergroups.dledger.io" or "pods" (core group has no suffix).
std::string group_resource(const std::string& group, const std::string& plural);

ApiError not_found(const std::string& group, const std::string& plural, const std::string& name);
ApiError already_exists(const std::string& group, const std::string& plural,
                        const std::string& name);
// Stale resourceVersion: "Operation cannot be fulfilled on <gr> "<name>": the object has been
// modified; please apply your changes to the latest version and try again".
ApiError conflict(const std::string& group, const std::string& plural, const std::string& name,
                  const std::string& why);
// 422: `<Kind>.<group> "<name>" is invalid: <cause>` or `[cause, cause]` for several.
ApiError invalid(const std::string& group, const std::string& kind, const std::string& name,
                 std::vector<StatusCause> causes);
ApiError bad_request(const std::string& message);
ApiError method_not_allowed(const std::string& message);
ApiError gone(const std::string& message);  // 410 Expired (watch too old)
ApiError unsupported_media_type(const std::string& content_type);

}  // namespace dledger::kube
