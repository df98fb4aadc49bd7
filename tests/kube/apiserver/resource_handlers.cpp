// GET, LIST, POST, PUT, PATCH and DELETE of resources and their status subresource.
#include <random>

#include "tests/kube/apiserver/api_server.h"
#include "tests/kube/apiserver/patch.h"
#include "tests/kube/apiserver/schema_validation.h"
#include "tests/kube/apiserver/selectors.h"
#include "tests/kube/apiserver/table.h"

namespace dledger::kube {

using nlohmann::json;

namespace {

const std::string kStaleMessage =
    "the object has been modified; please apply your changes to the latest version and try again";

// Parses a request body as JSON (or YAML when `allow_yaml`); 400 when malformed.
std::optional<ApiError> parse_body(const std::string& body, bool allow_yaml, json& out) {
  try {
    out = json::parse(body);
  } catch (const json::exception& e) {
    if (!allow_yaml) {
      return bad_request(std::string("the request body is not valid JSON: ") + e.what());
    }
    try {
      out = yaml_text_to_json(body);
    } catch (const std::exception& yaml_error) {
      return bad_request(std::string("the request body is neither JSON nor YAML: ") +
                         yaml_error.what());
    }
  }
  if (!out.is_object()) return bad_request("the request body must be a JSON object");
  return std::nullopt;
}

std::string random_suffix() {
  static thread_local std::mt19937 random(std::random_device{}());
  const char* alphabet = "bcdfghjklmnpqrstvwxz2456789";
  std::string suffix;
  for (int i = 0; i < 5; ++i) suffix += alphabet[random() % 27];
  return suffix;
}

bool is_dns_subdomain(const std::string& name) {
  if (name.empty() || name.size() > 253) return false;
  for (size_t i = 0; i < name.size(); ++i) {
    const char c = name[i];
    const bool alnum = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
    if (!alnum && c != '-' && c != '.') return false;
    if ((i == 0 || i + 1 == name.size()) && !alnum) return false;
  }
  return true;
}

json without_metadata_and_status(const json& object) {
  json copy = object;
  copy.erase("metadata");
  copy.erase("status");
  return copy;
}

std::string rv_of(const json& object) {
  const json* rv = json_at_path(object, "metadata.resourceVersion");
  return rv != nullptr && rv->is_string() ? rv->get<std::string>() : std::string();
}

}  // namespace

ObjectStore::GenerationRule ApiServer::generation_rule(const ResourceInfo& info) const {
  if (!info.tracks_generation) return nullptr;
  return [](const json& before, const json& after) {
    return without_metadata_and_status(before) != without_metadata_and_status(after);
  };
}

std::optional<ApiError> ApiServer::admit(const HttpRequest& request, const ResourceInfo& info,
                                         json& object, std::vector<std::string>& warnings) const {
  object["apiVersion"] = info.api_version();
  object["kind"] = info.kind;
  if (!info.custom || !info.schema.is_object()) return std::nullopt;
  const std::vector<std::string> unknown = prune_unknown_fields(info.schema, object);
  const std::string mode = request.query_value("fieldValidation");
  if (!unknown.empty()) {
    if (mode == "Strict") {
      std::string message = info.kind + " in version \"" + info.version +
                            "\" cannot be handled as a " + info.kind + ": strict decoding error: ";
      for (size_t i = 0; i < unknown.size(); ++i) {
        if (i > 0) message += ", ";
        message += "unknown field \"" + unknown[i] + "\"";
      }
      return bad_request(message);
    }
    if (mode != "Ignore") {
      for (const auto& field : unknown) warnings.push_back("unknown field \"" + field + "\"");
    }
  }
  apply_defaults(info.schema, object);
  std::vector<StatusCause> causes = validate_against_schema(info.schema, object);
  if (!causes.empty()) {
    return invalid(info.group, info.kind, object["metadata"].value("name", ""), std::move(causes));
  }
  return std::nullopt;
}

void ApiServer::handle_get(const HttpRequest& request, const Target& target,
                           HttpResponseWriter& writer) {
  const ResourceInfo& info = *target.info;
  auto object = store_.get(ObjectKey{info.id(), target.ns, target.name});
  if (!object) {
    send_error(writer, not_found(info.group, info.plural, target.name));
    return;
  }
  if (accepts_table(request.header("accept"))) {
    send_json(writer, 200,
              make_table(info, {*object}, rv_of(*object), request.query_value("includeObject")));
    return;
  }
  send_json(writer, 200, *object);
}

void ApiServer::handle_list(const HttpRequest& request, const Target& target,
                            HttpResponseWriter& writer) {
  const ResourceInfo& info = *target.info;
  auto labels = Selector::parse_labels(request.query_value("labelSelector"));
  auto fields = Selector::parse_fields(request.query_value("fieldSelector"));
  if (!labels) {
    send_error(writer, bad_request("unable to parse requirement: labelSelector \"" +
                                   request.query_value("labelSelector") + "\""));
    return;
  }
  if (!fields) {
    send_error(writer, bad_request("invalid field selector \"" +
                                   request.query_value("fieldSelector") + "\""));
    return;
  }
  uint64_t snapshot_rv = 0;
  std::vector<json> items;
  for (auto& object : store_.list(info.id(), target.ns, &snapshot_rv)) {
    if (labels->matches_labels(object) && fields->matches_fields(object)) {
      items.push_back(std::move(object));
    }
  }
  const std::string rv = std::to_string(snapshot_rv);
  if (accepts_table(request.header("accept"))) {
    send_json(writer, 200, make_table(info, items, rv, request.query_value("includeObject")));
    return;
  }
  send_json(writer, 200,
            {{"kind", info.list_kind()},
             {"apiVersion", info.api_version()},
             {"metadata", {{"resourceVersion", rv}}},
             {"items", items}});
}

StoreOutcome ApiServer::create_object(const HttpRequest& request, const Target& target, json object,
                                      std::vector<std::string>& warnings) {
  const ResourceInfo& info = *target.info;
  const std::string body_api_version = object.value("apiVersion", "");
  const std::string body_kind = object.value("kind", "");
  if (!body_api_version.empty() && body_api_version != info.api_version()) {
    return {json(),
            bad_request("the API version in the data (" + body_api_version +
                        ") does not match the expected API version (" + info.api_version() + ")")};
  }
  if (!body_kind.empty() && body_kind != info.kind) {
    return {json(), bad_request("the kind in the data (" + body_kind +
                                ") does not match the expected kind (" + info.kind + ")")};
  }
  if (!object.contains("metadata") || !object["metadata"].is_object()) {
    object["metadata"] = json::object();
  }
  json& metadata = object["metadata"];
  std::string name = metadata.value("name", "");
  if (name.empty() && metadata.contains("generateName") && metadata["generateName"].is_string()) {
    name = metadata["generateName"].get<std::string>() + random_suffix();
  }
  if (!target.name.empty() && name != target.name) {
    return {json(), bad_request("the name of the object (" + name +
                                ") does not match the name on the URL (" + target.name + ")")};
  }
  if (name.empty()) {
    return {json(), invalid(info.group, info.kind, "",
                            {{"FieldValueRequired", "metadata.name",
                              "Required value: name or generateName is required"}})};
  }
  if (!is_dns_subdomain(name)) {
    return {json(),
            invalid(info.group, info.kind, name,
                    {{"FieldValueInvalid", "metadata.name",
                      "Invalid value: \"" + name +
                          "\": a lowercase RFC 1123 subdomain must consist of lower case "
                          "alphanumeric characters, '-' or '.', and must start and end with an "
                          "alphanumeric character"}})};
  }
  metadata["name"] = name;
  const std::string body_ns = metadata.value("namespace", "");
  if (info.namespaced && !body_ns.empty() && body_ns != target.ns) {
    return {json(), bad_request("the namespace of the provided object does not match the "
                                "namespace sent on the request")};
  }
  if (info.namespaced && !store_.get(ObjectKey{"v1/namespaces", "", target.ns})) {
    return {json(), not_found("", "namespaces", target.ns)};
  }
  if (info.has_status) object.erase("status");
  if (info.group.empty() && info.plural == "namespaces") {
    object["status"] = {{"phase", "Active"}};
  }
  if (auto error = admit(request, info, object, warnings)) return {json(), std::move(error)};
  return store_.create(ObjectKey{info.id(), target.ns, name}, std::move(object),
                       info.tracks_generation, {info.group, info.plural});
}

void ApiServer::handle_create(const HttpRequest& request, const Target& target,
                              HttpResponseWriter& writer) {
  json object;
  if (auto error = parse_body(request.body, false, object)) {
    send_error(writer, *error);
    return;
  }
  std::vector<std::string> warnings;
  StoreOutcome outcome = create_object(request, target, std::move(object), warnings);
  if (!outcome.ok()) {
    send_error(writer, *outcome.error);
    return;
  }
  send_json(writer, 201, outcome.object, warnings);
}

void ApiServer::handle_update(const HttpRequest& request, const Target& target,
                              HttpResponseWriter& writer) {
  const ResourceInfo& info = *target.info;
  json body;
  if (auto error = parse_body(request.body, false, body)) {
    send_error(writer, *error);
    return;
  }
  const std::string body_name = body.value("metadata", json::object()).value("name", "");
  if (!body_name.empty() && body_name != target.name) {
    send_error(writer, bad_request("the name of the object (" + body_name +
                                   ") does not match the name on the URL (" + target.name + ")"));
    return;
  }
  const std::string precondition_rv = rv_of(body);
  const bool status_only = target.subresource == "status";
  std::vector<std::string> warnings;
  StoreOutcome outcome = store_.update(
      ObjectKey{info.id(), target.ns, target.name},
      [&](json& object) -> std::optional<ApiError> {
        if (!precondition_rv.empty() && precondition_rv != rv_of(object)) {
          return conflict(info.group, info.plural, target.name, kStaleMessage);
        }
        if (status_only) {
          if (body.contains("status")) {
            object["status"] = body["status"];
          } else {
            object.erase("status");
          }
        } else {
          json replacement = body;
          if (info.has_status) {
            if (object.contains("status")) {
              replacement["status"] = object["status"];
            } else {
              replacement.erase("status");
            }
          }
          if (!replacement.contains("metadata") || !replacement["metadata"].is_object()) {
            replacement["metadata"] = json::object();
          }
          object = std::move(replacement);
        }
        return admit(request, info, object, warnings);
      },
      generation_rule(info), {info.group, info.plural});
  if (!outcome.ok()) {
    send_error(writer, *outcome.error);
    return;
  }
  send_json(writer, 200, outcome.object, warnings);
}

void ApiServer::handle_patch(const HttpRequest& request, const Target& target,
                             HttpResponseWriter& writer) {
  const ResourceInfo& info = *target.info;
  const std::string content_type = request.header("content-type");
  const std::optional<PatchType> type = patch_type_from_content_type(content_type);
  if (!type) {
    send_error(writer, unsupported_media_type(content_type));
    return;
  }
  json patch;
  if (*type == PatchType::kJsonPatch) {
    try {
      patch = json::parse(request.body);
    } catch (const json::exception& e) {
      send_error(writer, bad_request(std::string("invalid JSON patch: ") + e.what()));
      return;
    }
  } else if (auto error = parse_body(request.body, *type == PatchType::kApply, patch)) {
    send_error(writer, *error);
    return;
  }
  std::vector<std::string> warnings;
  const ObjectKey key{info.id(), target.ns, target.name};
  if (*type == PatchType::kApply && target.subresource.empty() && !store_.get(key)) {
    StoreOutcome created = create_object(request, target, patch, warnings);
    if (created.ok()) {
      send_json(writer, 201, created.object, warnings);
      return;
    }
    if (created.error->reason != "AlreadyExists") {
      send_error(writer, *created.error);
      return;
    }
    warnings.clear();  // lost a race with another creator: fall through to the merge
  }
  const std::string precondition_rv = patch.is_object() ? rv_of(patch) : std::string();
  const bool status_only = target.subresource == "status";
  StoreOutcome outcome =
      store_.update(key,
                    [&](json& object) -> std::optional<ApiError> {
                      if (!precondition_rv.empty() && precondition_rv != rv_of(object)) {
                        return conflict(info.group, info.plural, target.name, kStaleMessage);
                      }
                      PatchOutcome patched = apply_patch(object, patch, *type);
                      if (patched.error) return patched.error;
                      if (status_only) {
                        if (patched.object.contains("status")) {
                          object["status"] = patched.object["status"];
                        } else {
                          object.erase("status");
                        }
                      } else {
                        if (info.has_status) {
                          if (object.contains("status")) {
                            patched.object["status"] = object["status"];
                          } else {
                            patched.object.erase("status");
                          }
                        }
                        object = std::move(patched.object);
                      }
                      return admit(request, info, object, warnings);
                    },
                    generation_rule(info), {info.group, info.plural});
  if (!outcome.ok()) {
    send_error(writer, *outcome.error);
    return;
  }
  send_json(writer, 200, outcome.object, warnings);
}

void ApiServer::handle_delete(const HttpRequest& request, const Target& target,
                              HttpResponseWriter& writer) {
  const ResourceInfo& info = *target.info;
  std::string precondition_uid;
  std::string precondition_rv;
  if (!request.body.empty()) {
    json options;
    if (auto error = parse_body(request.body, false, options)) {
      send_error(writer, *error);
      return;
    }
    const json preconditions = options.value("preconditions", json::object());
    if (preconditions.is_object()) {
      precondition_uid = preconditions.value("uid", "");
      precondition_rv = preconditions.value("resourceVersion", "");
    }
  }
  StoreOutcome outcome =
      store_.remove(ObjectKey{info.id(), target.ns, target.name}, {info.group, info.plural},
                    precondition_uid, precondition_rv);
  if (!outcome.ok()) {
    send_error(writer, *outcome.error);
    return;
  }
  send_json(writer, 200, outcome.object);
}

void ApiServer::handle_delete_collection(const HttpRequest& request, const Target& target,
                                         HttpResponseWriter& writer) {
  const ResourceInfo& info = *target.info;
  auto labels = Selector::parse_labels(request.query_value("labelSelector"));
  auto fields = Selector::parse_fields(request.query_value("fieldSelector"));
  if (!labels || !fields) {
    send_error(writer, bad_request("invalid label or field selector"));
    return;
  }
  json deleted = json::array();
  for (const auto& object : store_.list(info.id(), target.ns, nullptr)) {
    if (!labels->matches_labels(object) || !fields->matches_fields(object)) continue;
    StoreOutcome outcome =
        store_.remove(ObjectKey{info.id(), object["metadata"].value("namespace", ""),
                                object["metadata"].value("name", "")},
                      {info.group, info.plural});
    if (outcome.ok()) deleted.push_back(outcome.object);
  }
  send_json(writer, 200,
            {{"kind", info.list_kind()},
             {"apiVersion", info.api_version()},
             {"metadata", {{"resourceVersion", std::to_string(store_.resource_version())}}},
             {"items", deleted}});
}

}  // namespace dledger::kube
