// ResourceRegistry: the resources the test API server serves (built-in kinds plus one CRD loaded
// from its YAML file) and the discovery / OpenAPI documents describing them.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "broker/base/result.h"

namespace dledger::kube {

struct PrinterColumn {
  std::string name;
  std::string type;       // integer, string, date, ...
  std::string json_path;  // simple dotted path: .status.readyReplicas
};

struct ScaleSubresource {
  std::string spec_replicas_path;           // .spec.replicas
  std::string status_replicas_path;         // .status.replicas
  std::string label_selector_path;          // .status.selector (a string) or empty
  bool selector_from_match_labels = false;  // apps/v1: build the selector from spec.selector
};

struct ResourceInfo {
  std::string group;  // "" for core
  std::string version;
  std::string plural;
  std::string singular;
  std::string kind;
  bool namespaced = true;
  std::vector<std::string> short_names;
  bool has_status = false;
  std::optional<ScaleSubresource> scale;
  bool tracks_generation = false;  // metadata.generation bumped on spec changes
  bool custom = false;             // defined by a CRD (schema validated, merge patch only)
  std::vector<PrinterColumn> printer_columns;  // CRD additionalPrinterColumns
  nlohmann::json schema;                       // openAPIV3Schema (custom resources), null otherwise

  // "v1/pods", "apps/v1/statefulsets": the storage key prefix and watch-event resource id.
  std::string id() const;
  std::string api_version() const { return group.empty() ? version : group + "/" + version; }
  std::string list_kind() const { return kind + "List"; }
};

class ResourceRegistry {
 public:
  // Built-in kinds only (core/v1, apps/v1, policy/v1, coordination.k8s.io/v1,
  // monitoring.coreos.com/v1 servicemonitors).
  ResourceRegistry();

  // Adds the served versions of a CustomResourceDefinition read from a YAML file. Errors name the
  // file and the missing / malformed key.
  Status add_crd_file(const std::string& path);
  Status add_crd(const nlohmann::json& crd, const std::string& origin);

  const ResourceInfo* find(const std::string& group, const std::string& version,
                           const std::string& plural) const;
  const ResourceInfo* find_kind(const std::string& api_version, const std::string& kind) const;
  const std::vector<ResourceInfo>& all() const { return resources_; }

  // Discovery documents (legacy, non-aggregated forms).
  nlohmann::json api_versions(const std::string& server_address) const;  // GET /api
  nlohmann::json api_group_list() const;                                 // GET /apis
  // GET /api/v1 or /apis/<group>/<version>; nullopt when no such group version is served.
  std::optional<nlohmann::json> api_resource_list(const std::string& group,
                                                  const std::string& version) const;
  // GET /openapi/v3 and /openapi/v3/<api|apis/group>/<version>.
  nlohmann::json openapi_root() const;
  std::optional<nlohmann::json> openapi_group_document(const std::string& group_version_path) const;

 private:
  std::vector<ResourceInfo> resources_;
};

// Converts a YAML node tree into JSON (numbers and booleans are recognised in plain scalars).
// Throws YAML::Exception on malformed input.
nlohmann::json yaml_file_to_json(const std::string& path);
nlohmann::json yaml_text_to_json(const std::string& text);

}  // namespace dledger::kube
