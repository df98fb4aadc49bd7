#include "operator/render/names.h"

#include <cstdio>

namespace dledger::op::render {

using nlohmann::json;

std::string headless_service_name(const api::DLedgerGroup& g) {
  return g.metadata.name + "-headless";
}
std::string client_service_name(const api::DLedgerGroup& g) {
  return g.metadata.name;
}
std::string config_map_name(const api::DLedgerGroup& g) {
  return g.metadata.name + "-config";
}
std::string statefulset_name(const api::DLedgerGroup& g) {
  return g.metadata.name;
}
std::string managed_name_server_service_name(const api::DLedgerGroup& g) {
  return g.metadata.name + "-namesrv";
}
std::string pod_name(const api::DLedgerGroup& g, int ordinal) {
  return statefulset_name(g) + "-" + std::to_string(ordinal);
}
std::string member_id(int ordinal) {
  return "n" + std::to_string(ordinal);
}

std::string pod_dns_name(const api::DLedgerGroup& g, int ordinal,
                         const std::string& cluster_domain) {
  std::string name = pod_name(g, ordinal) + "." + headless_service_name(g) + "." +
                     g.metadata.namespace_name + ".svc";
  if (!cluster_domain.empty()) name += "." + cluster_domain;
  return name;
}

json selector_labels(const api::DLedgerGroup& g) {
  return {{"app.kubernetes.io/name", kAppName},
          {"app.kubernetes.io/instance", g.metadata.name},
          {"app.kubernetes.io/component", kComponent}};
}

json standard_labels(const api::DLedgerGroup& g) {
  json labels = selector_labels(g);
  labels["app.kubernetes.io/managed-by"] = kManagedBy;
  return labels;
}

std::string selector_string(const api::DLedgerGroup& g) {
  const json labels = selector_labels(g);
  std::string out;
  for (const auto& [key, value] : labels.items()) {  // sorted by key
    if (!out.empty()) out += ",";
    out += key + "=" + value.get<std::string>();
  }
  return out;
}

json owner_reference(const api::DLedgerGroup& g) {
  return {{"apiVersion", api::kApiVersion}, {"kind", api::kKind}, {"name", g.metadata.name},
          {"uid", g.metadata.uid},          {"controller", true}, {"blockOwnerDeletion", true}};
}

json object_meta(const api::DLedgerGroup& g, const std::string& name, const json& extra_labels) {
  json labels = standard_labels(g);
  labels.update(extra_labels);
  return {{"name", name},
          {"namespace", g.metadata.namespace_name},
          {"labels", labels},
          {"ownerReferences", json::array({owner_reference(g)})}};
}

std::string stable_hash(const std::string& text) {
  std::uint64_t hash = 14695981039346656037ull;
  for (unsigned char c : text) {
    hash ^= c;
    hash *= 1099511628211ull;
  }
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(hash));
  return buf;
}

}  // namespace dledger::op::render
