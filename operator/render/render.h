// Rendering: pure functions from a DLedgerGroup to the Kubernetes objects it should own.
// No I/O, no clock, no randomness: the same input always gives byte-identical JSON, which the
// golden files in tests/operator/golden/ pin down.
//
// Input contract: `group` was decoded and validated (api::admit_dledger_group) and carries
// metadata.name, metadata.namespace and metadata.uid (needed for DNS names and owner references).
// Violations are reported as kInvalidArgument, never rendered half-way.
//
// membership_replicas vs spec.replicas
// ------------------------------------
// spec.replicas is what the user wants; RenderOptions::membership_replicas is how many members
// the group has (or is being given) right now. The reconciler changes membership one member at
// a time through the admin API (add learner -> catch up -> promote; or transfer leadership ->
// remove member) and re-renders with membership_replicas moving one step toward spec.replicas.
// It drives:
//   - StatefulSet .spec.replicas          = membership_replicas
//   - ConfigMap files broker-<i>.conf     for i in [0, membership_replicas)
//   - dLegerPeers in every file           = members n0 .. n<membership_replicas-1>
//   - preferredLeaderId                   only while that member exists
//   - PodDisruptionBudget maxUnavailable  = membership_replicas - quorum(membership_replicas)
// dLegerPeers only bootstraps a new group (and lets a joining pod know itself); once running,
// the membership committed in the log is authoritative. The pod template therefore does NOT
// depend on membership_replicas (its config-hash annotation hashes only the member-independent
// settings), so scaling never restarts existing pods; changing spec.config, flushMode, timing
// or ports does (the StatefulSet uses the OnDelete strategy: the reconciler restarts pods one at
// a time, followers first, the leader last after a leadership transfer).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "broker/base/result.h"
#include "operator/api/dledgergroup_types.h"

namespace dledger::op::render {

struct RenderOptions {
  // Members the group has now, 1..9 (see above). Required.
  int membership_replicas = 0;
  // Appended to pod DNS names when set ("cluster.local" -> "...svc.cluster.local"); empty uses
  // the resolver's search path ("...svc").
  std::string cluster_domain;
};

// Pod and container constants the tests and the docs refer to.
inline constexpr std::int64_t kRunAsUser = 10001;
inline constexpr std::int64_t kTerminationGracePeriodSeconds = 60;
inline constexpr const char* kDataMountPath = "/data";
inline constexpr const char* kStorePathRootDir = "/data/store";
inline constexpr const char* kConfigMountPath = "/etc/dledger";
inline constexpr const char* kContainerName = "broker";
inline constexpr const char* kAdminTokenEnv = "DLEDGER_ADMIN_TOKEN";
inline constexpr const char* kGroupSecretEnv = "DLEDGER_GROUP_SECRET";

struct DesiredObjects {
  nlohmann::json config_map;
  nlohmann::json headless_service;
  nlohmann::json client_service;
  nlohmann::json stateful_set;
  nlohmann::json pod_disruption_budget;
  std::optional<nlohmann::json> service_monitor;  // only with monitoring.serviceMonitor.enabled

  // In apply order: ConfigMap, Services, StatefulSet, PDB, ServiceMonitor.
  std::vector<nlohmann::json> all() const;
};

// Checks the input contract above.
Status check_render_input(const api::DLedgerGroup& group, const RenderOptions& options);

// Everything at once (checks the input contract first).
Result<DesiredObjects> render_group(const api::DLedgerGroup& group, const RenderOptions& options);

// The pieces (inputs assumed checked).
// broker.conf of member `ordinal`: operator-owned keys in a fixed order, then spec.config.
std::string render_broker_conf(const api::DLedgerGroup& group, int ordinal,
                               const RenderOptions& options);
// "n0-<pod0 dns>:<peer>;n1-<pod1 dns>:<peer>;..." for the current membership.
std::string render_peers(const api::DLedgerGroup& group, const RenderOptions& options);
// namesrvAddr value, or "" when no name server is configured.
std::string name_server_addresses(const api::DLedgerGroup& group, const RenderOptions& options);
// Hash of every setting that reaches the broker except the membership-derived ones.
std::string config_hash(const api::DLedgerGroup& group);

nlohmann::json render_config_map(const api::DLedgerGroup& group, const RenderOptions& options);
nlohmann::json render_headless_service(const api::DLedgerGroup& group);
nlohmann::json render_client_service(const api::DLedgerGroup& group);
nlohmann::json render_stateful_set(const api::DLedgerGroup& group, const RenderOptions& options);
nlohmann::json render_pod_disruption_budget(const api::DLedgerGroup& group,
                                            const RenderOptions& options);
std::optional<nlohmann::json> render_service_monitor(const api::DLedgerGroup& group);

// Majority of `members`: members/2 + 1.
int quorum_size(int members);
// members - quorum: how many may be down at once without losing quorum (0 for 1 and 2).
int max_unavailable_members(int members);

}  // namespace dledger::op::render
