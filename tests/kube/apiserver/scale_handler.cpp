// The scale subresource: GET/PUT/PATCH .../<name>/scale answering autoscaling/v1 Scale, built
// from the resource's specReplicasPath / statusReplicasPath / labelSelectorPath.
#include "tests/kube/apiserver/api_server.h"
#include "tests/kube/apiserver/patch.h"
#include "tests/kube/apiserver/selectors.h"

namespace dledger::kube {

using nlohmann::json;

namespace {

void set_at_path(json& object, const std::string& path, const json& value) {
  json* node = &object;
  size_t start = path.empty() || path[0] != '.' ? 0 : 1;
  while (start < path.size()) {
    size_t dot = path.find('.', start);
    const std::string key =
        path.substr(start, dot == std::string::npos ? std::string::npos : dot - start);
    if (!node->is_object()) *node = json::object();
    node = &(*node)[key];
    if (dot == std::string::npos) break;
    start = dot + 1;
  }
  *node = value;
}

int64_t integer_at(const json& object, const std::string& path) {
  const json* value = json_at_path(object, path);
  return value != nullptr && value->is_number() ? value->get<int64_t>() : 0;
}

}  // namespace

json ApiServer::scale_of(const ResourceInfo& info, const json& object) const {
  const ScaleSubresource& scale = *info.scale;
  const json& metadata = object["metadata"];
  json status = {{"replicas", integer_at(object, scale.status_replicas_path)}};
  if (scale.selector_from_match_labels) {
    const json* labels = json_at_path(object, "spec.selector.matchLabels");
    std::string selector;
    if (labels != nullptr && labels->is_object()) {
      for (const auto& [key, value] : labels->items()) {
        if (!selector.empty()) selector += ",";
        selector += key + "=" + (value.is_string() ? value.get<std::string>() : value.dump());
      }
    }
    if (!selector.empty()) status["selector"] = selector;
  } else if (!scale.label_selector_path.empty()) {
    const json* selector = json_at_path(object, scale.label_selector_path);
    if (selector != nullptr && selector->is_string()) status["selector"] = *selector;
  }
  json scale_metadata = {{"name", metadata.value("name", "")},
                         {"uid", metadata.value("uid", "")},
                         {"resourceVersion", metadata.value("resourceVersion", "")},
                         {"creationTimestamp", metadata.value("creationTimestamp", "")}};
  if (metadata.contains("namespace")) scale_metadata["namespace"] = metadata["namespace"];
  return {{"kind", "Scale"},
          {"apiVersion", "autoscaling/v1"},
          {"metadata", scale_metadata},
          {"spec", {{"replicas", integer_at(object, scale.spec_replicas_path)}}},
          {"status", status}};
}

void ApiServer::handle_scale(const HttpRequest& request, const Target& target,
                             HttpResponseWriter& writer) {
  const ResourceInfo& info = *target.info;
  const ObjectKey key{info.id(), target.ns, target.name};
  if (request.method == "GET") {
    auto object = store_.get(key);
    if (!object) {
      send_error(writer, not_found(info.group, info.plural, target.name));
      return;
    }
    send_json(writer, 200, scale_of(info, *object));
    return;
  }
  if (request.method != "PUT" && request.method != "PATCH") {
    send_error(writer, method_not_allowed("method " + request.method + " not allowed on scale"));
    return;
  }
  json body;
  std::optional<PatchType> patch_type;
  if (request.method == "PATCH") {
    patch_type = patch_type_from_content_type(request.header("content-type"));
    if (!patch_type) {
      send_error(writer, unsupported_media_type(request.header("content-type")));
      return;
    }
  }
  try {
    body = json::parse(request.body);
  } catch (const json::exception& e) {
    send_error(writer, bad_request(std::string("the request body is not valid JSON: ") + e.what()));
    return;
  }
  std::vector<std::string> warnings;
  StoreOutcome outcome = store_.update(
      key,
      [&](json& object) -> std::optional<ApiError> {
        json scale = scale_of(info, object);
        if (patch_type) {
          PatchOutcome patched = apply_patch(scale, body, *patch_type);
          if (patched.error) return patched.error;
          scale = std::move(patched.object);
        } else {
          scale = body;
        }
        const json* rv = json_at_path(body, "metadata.resourceVersion");
        if (rv != nullptr && rv->is_string() && !rv->get<std::string>().empty() &&
            *rv != object["metadata"]["resourceVersion"]) {
          return conflict(info.group, info.plural, target.name,
                          "the object has been modified; please apply your changes to the "
                          "latest version and try again");
        }
        const json* replicas = json_at_path(scale, "spec.replicas");
        if (replicas == nullptr || !replicas->is_number_integer() || replicas->get<int64_t>() < 0) {
          return invalid("autoscaling", "Scale", target.name,
                         {{"FieldValueInvalid", "spec.replicas",
                           "Invalid value: " + (replicas ? replicas->dump() : "null") +
                               ": must be greater than or equal to 0"}});
        }
        set_at_path(object, info.scale->spec_replicas_path, *replicas);
        return admit(request, info, object, warnings);
      },
      generation_rule(info), {info.group, info.plural});
  if (!outcome.ok()) {
    send_error(writer, *outcome.error);
    return;
  }
  send_json(writer, 200, scale_of(info, outcome.object), warnings);
}

}  // namespace dledger::kube
