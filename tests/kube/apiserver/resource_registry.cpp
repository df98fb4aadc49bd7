#include "tests/kube/apiserver/resource_registry.h"

#include <algorithm>
#include <map>
#include <set>

#include <yaml-cpp/yaml.h>

namespace dledger::kube {
namespace {

using nlohmann::json;

const std::vector<std::string> kAllVerbs = {"create", "delete", "deletecollection", "get",
                                            "list",   "patch",  "update",           "watch"};

ResourceInfo builtin(std::string group, std::string version, std::string plural,
                     std::string singular, std::string kind, bool namespaced,
                     std::vector<std::string> short_names, bool has_status = false) {
  ResourceInfo info;
  info.group = std::move(group);
  info.version = std::move(version);
  info.plural = std::move(plural);
  info.singular = std::move(singular);
  info.kind = std::move(kind);
  info.namespaced = namespaced;
  info.short_names = std::move(short_names);
  info.has_status = has_status;
  return info;
}

json yaml_to_json(const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Null:
    case YAML::NodeType::Undefined:
      return nullptr;
    case YAML::NodeType::Sequence: {
      json array = json::array();
      for (const auto& item : node) array.push_back(yaml_to_json(item));
      return array;
    }
    case YAML::NodeType::Map: {
      json object = json::object();
      for (const auto& item : node)
        object[item.first.as<std::string>()] = yaml_to_json(item.second);
      return object;
    }
    case YAML::NodeType::Scalar: {
      const std::string text = node.Scalar();
      if (node.Tag() == "!") return text;  // quoted scalar: always a string
      if (text == "true") return true;
      if (text == "false") return false;
      if (text == "null" || text == "~") return nullptr;
      if (!text.empty() && (isdigit(static_cast<unsigned char>(text[0])) || text[0] == '-')) {
        try {
          size_t used = 0;
          long long integer = std::stoll(text, &used);
          if (used == text.size()) return integer;
          double real = std::stod(text, &used);
          if (used == text.size()) return real;
        } catch (const std::exception&) {
        }
      }
      return text;
    }
  }
  return nullptr;
}

std::string string_at(const json& object, const char* key) {
  auto it = object.find(key);
  return it != object.end() && it->is_string() ? it->get<std::string>() : std::string();
}

json verbs_json(const std::vector<std::string>& verbs) {
  return json(verbs);
}

}  // namespace

std::string ResourceInfo::id() const {
  return group.empty() ? version + "/" + plural : group + "/" + version + "/" + plural;
}

json yaml_file_to_json(const std::string& path) {
  return yaml_to_json(YAML::LoadFile(path));
}

json yaml_text_to_json(const std::string& text) {
  return yaml_to_json(YAML::Load(text));
}

ResourceRegistry::ResourceRegistry() {
  resources_.push_back(builtin("", "v1", "pods", "pod", "Pod", true, {"po"}, true));
  resources_.push_back(builtin("", "v1", "services", "service", "Service", true, {"svc"}, true));
  resources_.push_back(builtin("", "v1", "configmaps", "configmap", "ConfigMap", true, {"cm"}));
  resources_.push_back(builtin("", "v1", "secrets", "secret", "Secret", true, {}));
  resources_.push_back(builtin("", "v1", "events", "event", "Event", true, {"ev"}));
  resources_.push_back(builtin("", "v1", "persistentvolumeclaims", "persistentvolumeclaim",
                               "PersistentVolumeClaim", true, {"pvc"}, true));
  resources_.push_back(
      builtin("", "v1", "namespaces", "namespace", "Namespace", false, {"ns"}, true));
  resources_.push_back(
      builtin("", "v1", "serviceaccounts", "serviceaccount", "ServiceAccount", true, {"sa"}));
  ResourceInfo statefulsets =
      builtin("apps", "v1", "statefulsets", "statefulset", "StatefulSet", true, {"sts"}, true);
  statefulsets.tracks_generation = true;
  statefulsets.scale = ScaleSubresource{".spec.replicas", ".status.replicas", "", true};
  resources_.push_back(statefulsets);
  ResourceInfo pdbs = builtin("policy", "v1", "poddisruptionbudgets", "poddisruptionbudget",
                              "PodDisruptionBudget", true, {"pdb"}, true);
  pdbs.tracks_generation = true;
  resources_.push_back(pdbs);
  resources_.push_back(builtin("coordination.k8s.io", "v1", "leases", "lease", "Lease", true, {}));
  ResourceInfo monitors = builtin("monitoring.coreos.com", "v1", "servicemonitors",
                                  "servicemonitor", "ServiceMonitor", true, {"smon"});
  monitors.tracks_generation = true;
  resources_.push_back(monitors);
}

Status ResourceRegistry::add_crd_file(const std::string& path) {
  json crd;
  try {
    crd = yaml_file_to_json(path);
  } catch (const std::exception& e) {
    return make_error(ErrorCode::kInvalidArgument, path + ": cannot read CRD YAML: " + e.what());
  }
  return add_crd(crd, path);
}

Status ResourceRegistry::add_crd(const json& crd, const std::string& origin) {
  auto fail = [&](const std::string& what) {
    return Status(make_error(ErrorCode::kInvalidArgument, origin + ": " + what));
  };
  if (!crd.is_object() || string_at(crd, "kind") != "CustomResourceDefinition") {
    return fail("kind is not CustomResourceDefinition");
  }
  const json spec = crd.value("spec", json::object());
  const json names = spec.value("names", json::object());
  ResourceInfo base;
  base.group = string_at(spec, "group");
  base.plural = string_at(names, "plural");
  base.kind = string_at(names, "kind");
  base.singular = string_at(names, "singular");
  if (base.singular.empty()) base.singular = base.plural;
  if (base.group.empty()) return fail("spec.group is missing");
  if (base.plural.empty()) return fail("spec.names.plural is missing");
  if (base.kind.empty()) return fail("spec.names.kind is missing");
  base.namespaced = string_at(spec, "scope") != "Cluster";
  if (names.contains("shortNames") && names["shortNames"].is_array()) {
    for (const auto& short_name : names["shortNames"]) {
      if (short_name.is_string()) base.short_names.push_back(short_name.get<std::string>());
    }
  }
  base.custom = true;
  base.tracks_generation = true;
  if (!spec.contains("versions") || !spec["versions"].is_array() || spec["versions"].empty()) {
    return fail("spec.versions is missing or empty");
  }
  for (size_t i = 0; i < spec["versions"].size(); ++i) {
    const json& version = spec["versions"][i];
    const std::string where = "spec.versions[" + std::to_string(i) + "]";
    if (!version.value("served", false)) continue;
    ResourceInfo info = base;
    info.version = string_at(version, "name");
    if (info.version.empty()) return fail(where + ".name is missing");
    const json subresources = version.value("subresources", json::object());
    info.has_status = subresources.contains("status");
    if (subresources.contains("scale")) {
      const json& scale = subresources["scale"];
      info.scale = ScaleSubresource{string_at(scale, "specReplicasPath"),
                                    string_at(scale, "statusReplicasPath"),
                                    string_at(scale, "labelSelectorPath"), false};
      if (info.scale->spec_replicas_path.empty()) {
        return fail(where + ".subresources.scale.specReplicasPath is missing");
      }
    }
    for (const auto& column : version.value("additionalPrinterColumns", json::array())) {
      info.printer_columns.push_back(PrinterColumn{
          string_at(column, "name"), string_at(column, "type"), string_at(column, "jsonPath")});
    }
    info.schema = version.value("schema", json::object()).value("openAPIV3Schema", json());
    if (!info.schema.is_object()) return fail(where + ".schema.openAPIV3Schema is missing");
    resources_.push_back(std::move(info));
  }
  return Status();
}

const ResourceInfo* ResourceRegistry::find(const std::string& group, const std::string& version,
                                           const std::string& plural) const {
  for (const auto& info : resources_) {
    if (info.group == group && info.version == version && info.plural == plural) return &info;
  }
  return nullptr;
}

const ResourceInfo* ResourceRegistry::find_kind(const std::string& api_version,
                                                const std::string& kind) const {
  for (const auto& info : resources_) {
    if (info.api_version() == api_version && info.kind == kind) return &info;
  }
  return nullptr;
}

json ResourceRegistry::api_versions(const std::string& server_address) const {
  return {{"kind", "APIVersions"},
          {"versions", {"v1"}},
          {"serverAddressByClientCIDRs",
           {{{"clientCIDR", "0.0.0.0/0"}, {"serverAddress", server_address}}}}};
}

json ResourceRegistry::api_group_list() const {
  std::map<std::string, std::vector<std::string>> versions_by_group;
  std::vector<std::string> order;
  for (const auto& info : resources_) {
    if (info.group.empty()) continue;
    auto& versions = versions_by_group[info.group];
    if (versions.empty()) order.push_back(info.group);
    if (std::find(versions.begin(), versions.end(), info.version) == versions.end()) {
      versions.push_back(info.version);
    }
  }
  json groups = json::array();
  for (const auto& group : order) {
    json versions = json::array();
    for (const auto& version : versions_by_group[group]) {
      versions.push_back({{"groupVersion", group + "/" + version}, {"version", version}});
    }
    groups.push_back(
        {{"name", group}, {"versions", versions}, {"preferredVersion", versions.at(0)}});
  }
  return {{"kind", "APIGroupList"}, {"apiVersion", "v1"}, {"groups", groups}};
}

std::optional<json> ResourceRegistry::api_resource_list(const std::string& group,
                                                        const std::string& version) const {
  json resources = json::array();
  for (const auto& info : resources_) {
    if (info.group != group || info.version != version) continue;
    json entry = {{"name", info.plural},
                  {"singularName", info.singular},
                  {"namespaced", info.namespaced},
                  {"kind", info.kind},
                  {"verbs", verbs_json(kAllVerbs)}};
    if (!info.short_names.empty()) entry["shortNames"] = info.short_names;
    if (info.custom) entry["categories"] = {"all"};
    resources.push_back(entry);
    if (info.has_status) {
      resources.push_back({{"name", info.plural + "/status"},
                           {"singularName", ""},
                           {"namespaced", info.namespaced},
                           {"kind", info.kind},
                           {"verbs", {"get", "patch", "update"}}});
    }
    if (info.scale) {
      resources.push_back({{"name", info.plural + "/scale"},
                           {"singularName", ""},
                           {"namespaced", info.namespaced},
                           {"group", "autoscaling"},
                           {"version", "v1"},
                           {"kind", "Scale"},
                           {"verbs", {"get", "patch", "update"}}});
    }
  }
  if (resources.empty()) return std::nullopt;
  const std::string group_version = group.empty() ? version : group + "/" + version;
  return json{{"kind", "APIResourceList"},
              {"apiVersion", "v1"},
              {"groupVersion", group_version},
              {"resources", resources}};
}

json ResourceRegistry::openapi_root() const {
  json paths = json::object();
  std::set<std::string> seen;
  for (const auto& info : resources_) {
    const std::string key =
        info.group.empty() ? "api/" + info.version : "apis/" + info.group + "/" + info.version;
    if (!seen.insert(key).second) continue;
    paths[key] = {{"serverRelativeURL", "/openapi/v3/" + key + "?hash=1"}};
  }
  return {{"paths", paths}};
}

std::optional<json> ResourceRegistry::openapi_group_document(
    const std::string& group_version_path) const {
  json paths = json::object();
  const json field_validation = {
      {"name", "fieldValidation"}, {"in", "query"}, {"schema", {{"type", "string"}}}};
  const json field_manager = {
      {"name", "fieldManager"}, {"in", "query"}, {"schema", {{"type", "string"}}}};
  for (const auto& info : resources_) {
    const std::string key =
        info.group.empty() ? "api/" + info.version : "apis/" + info.group + "/" + info.version;
    if (key != group_version_path) continue;
    const json gvk = {{"group", info.group}, {"version", info.version}, {"kind", info.kind}};
    const std::string prefix = "/" + key + (info.namespaced ? "/namespaces/{namespace}/" : "/");
    auto operation = [&](const std::string& action) {
      return json{{"x-kubernetes-action", action},
                  {"x-kubernetes-group-version-kind", gvk},
                  {"parameters", {field_validation, field_manager}},
                  {"responses", {{"200", {{"description", "OK"}}}}}};
    };
    paths[prefix + info.plural] = {{"get", operation("list")}, {"post", operation("post")}};
    paths[prefix + info.plural + "/{name}"] = {{"get", operation("get")},
                                               {"put", operation("put")},
                                               {"patch", operation("patch")},
                                               {"delete", operation("delete")}};
  }
  if (paths.empty()) return std::nullopt;
  return json{{"openapi", "3.0.0"},
              {"info", {{"title", "Kubernetes"}, {"version", "v1.32.0"}}},
              {"paths", paths},
              {"components", {{"schemas", json::object()}}}};
}

}  // namespace dledger::kube
