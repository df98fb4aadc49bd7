// Names, labels and references shared by every rendered object. The reconciler uses the same
// functions to find what it owns, so each name is derived in exactly one place.
//
//   StatefulSet / PDB / ServiceMonitor   <name>
//   client Service                       <name>
//   headless Service (peers, DNS)        <name>-headless
//   ConfigMap                            <name>-config
//   pod i                                <name>-<i>, member id n<i>
//   pod DNS name <name>-<i>.<name>-headless.<namespace>.svc[.<clusterDomain>] managed name server
//   Service          <name>-namesrv (rendered by a later piece)
#pragma once

#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

#include "operator/api/dledgergroup_types.h"

namespace dledger::op::render {

inline constexpr const char* kManagedBy = "dledger-operator";
inline constexpr const char* kAppName = "dledger";
inline constexpr const char* kComponent = "broker";
inline constexpr const char* kServiceRoleLabel = "dledger.io/service";  // headless | client
inline constexpr const char* kConfigHashAnnotation = "dledger.io/config-hash";
inline constexpr std::int64_t kNameServerPort = 9876;

std::string headless_service_name(const api::DLedgerGroup& group);
std::string client_service_name(const api::DLedgerGroup& group);
std::string config_map_name(const api::DLedgerGroup& group);
std::string statefulset_name(const api::DLedgerGroup& group);
std::string managed_name_server_service_name(const api::DLedgerGroup& group);
std::string pod_name(const api::DLedgerGroup& group, int ordinal);
std::string member_id(int ordinal);  // "n<ordinal>"
// "<pod>.<headless>.<ns>.svc" (+ ".<cluster_domain>" when cluster_domain is not empty).
std::string pod_dns_name(const api::DLedgerGroup& group, int ordinal,
                         const std::string& cluster_domain);

// app.kubernetes.io/{name,instance,component,managed-by}.
nlohmann::json standard_labels(const api::DLedgerGroup& group);
// The subset that selects the group's pods (no managed-by): name, instance, component.
nlohmann::json selector_labels(const api::DLedgerGroup& group);
// selector_labels as a serialized selector for status.selector (scale subresource):
// "app.kubernetes.io/component=broker,app.kubernetes.io/instance=g1,app.kubernetes.io/name=dledger".
std::string selector_string(const api::DLedgerGroup& group);

// ownerReferences entry pointing at the group (controller, blockOwnerDeletion).
nlohmann::json owner_reference(const api::DLedgerGroup& group);
// metadata {name, namespace, labels (standard + extra), ownerReferences}.
nlohmann::json object_meta(const api::DLedgerGroup& group, const std::string& name,
                           const nlohmann::json& extra_labels = nlohmann::json::object());

// FNV-1a 64-bit of `text` as 16 hex digits (stable across platforms and runs).
std::string stable_hash(const std::string& text);

}  // namespace dledger::op::render
