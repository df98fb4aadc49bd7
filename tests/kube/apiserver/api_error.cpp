#include "tests/kube/apiserver/api_error.h"

namespace dledger::kube {

nlohmann::json ApiError::to_json() const {
  nlohmann::json status = {
      {"kind", "Status"},    {"apiVersion", "v1"}, {"metadata", nlohmann::json::object()},
      {"status", "Failure"}, {"message", message}, {"reason", reason},
      {"code", code}};
  nlohmann::json details = nlohmann::json::object();
  if (!name.empty()) details["name"] = name;
  if (!group.empty()) details["group"] = group;
  if (!kind.empty()) details["kind"] = kind;
  if (!causes.empty()) {
    nlohmann::json list = nlohmann::json::array();
    for (const auto& cause : causes) {
      list.push_back(
          {{"reason", cause.reason}, {"message", cause.message}, {"field", cause.field}});
    }
    details["causes"] = list;
  }
  if (!details.empty()) status["details"] = details;
  return status;
}

std::string group_resource(const std::string& group, const std::string& plural) {
  return group.empty() ? plural : plural + "." + group;
}

ApiError not_found(const std::string& group, const std::string& plural, const std::string& name) {
  return ApiError{404,  "NotFound", group_resource(group, plural) + " \"" + name + "\" not found",
                  name, group,      plural,
                  {}};
}

ApiError already_exists(const std::string& group, const std::string& plural,
                        const std::string& name) {
  return ApiError{
      409,  "AlreadyExists", group_resource(group, plural) + " \"" + name + "\" already exists",
      name, group,           plural,
      {}};
}

ApiError conflict(const std::string& group, const std::string& plural, const std::string& name,
                  const std::string& why) {
  return ApiError{409,
                  "Conflict",
                  "Operation cannot be fulfilled on " + group_resource(group, plural) + " \"" +
                      name + "\": " + why,
                  name,
                  group,
                  plural,
                  {}};
}

ApiError invalid(const std::string& group, const std::string& kind, const std::string& name,
                 std::vector<StatusCause> causes) {
  std::string joined;
  for (size_t i = 0; i < causes.size(); ++i) {
    if (i > 0) joined += ", ";
    joined += causes[i].field + ": " + causes[i].message;
  }
  if (causes.size() > 1) joined = "[" + joined + "]";
  std::string qualified = group.empty() ? kind : kind + "." + group;
  return ApiError{
      422,  "Invalid",        qualified + " \"" + name + "\" is invalid: " + joined, name, group,
      kind, std::move(causes)};
}

ApiError bad_request(const std::string& message) {
  return ApiError{400, "BadRequest", message, "", "", "", {}};
}

ApiError method_not_allowed(const std::string& message) {
  return ApiError{405, "MethodNotAllowed", message, "", "", "", {}};
}

ApiError gone(const std::string& message) {
  return ApiError{410, "Expired", message, "", "", "", {}};
}

ApiError unsupported_media_type(const std::string& content_type) {
  return ApiError{415,
                  "UnsupportedMediaType",
                  "the body of the request was in an unknown format - accepted media types "
                  "include: application/json, application/merge-patch+json, "
                  "application/strategic-merge-patch+json, application/apply-patch+yaml (got " +
                      content_type + ")",
                  "",
                  "",
                  "",
                  {}};
}

}  // namespace dledger::kube
