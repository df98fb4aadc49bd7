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
//   - PodDisruptionBudget maxUnavailable  = membership_replicas - quorum(membership_replicas)
//
// Bootstrap members and joining members
// -------------------------------------
// RenderOptions::bootstrap_replicas is the size of the group's first configuration: members
// n0..n<bootstrap_replicas-1> started together and formed the group from dLegerPeers. Their
// files always list exactly those members in dLegerPeers, so the bootstrap configuration a
// member restarts with never changes (once running, the membership committed in the log is
// authoritative; see broker/ledger/server/ledger_options.h). Every member at or above it is a
// joiner: its file says dLegerJoining=true (it starts outside the membership and never
// campaigns until the leader adds it as a learner) and its dLegerPeers lists the current
// membership n0..n<membership_replicas-1>. The reconciler records bootstrap_replicas when it
// creates the group, never raises it, and lowers it to k when it removes member n<k> below it,
// so that a member re-added later joins as a learner instead of bootstrapping.
// preferredLeaderId is written only into files whose dLegerPeers contain that member (the
// broker rejects it otherwise).
//
// The pod template does NOT depend on the membership (its config-hash annotation hashes only
// the member-independent settings), so scaling never restarts existing pods; changing
// spec.config, flushMode, timing or ports does (the StatefulSet uses the OnDelete strategy: the
// reconciler restarts pods one at a time, followers first, the leader last after a leadership
// transfer).
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
  // Size of the group's first configuration, 0..9; 0 means "membership_replicas" (a group
  // being created now: every member bootstraps, nobody joins).
  int bootstrap_replicas = 0;
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
// dLegerPeers of member `ordinal`: "n0-<pod0 dns>:<peer>;n1-<pod1 dns>:<peer>;...", the
// bootstrap members for a bootstrap member, the current membership for a joiner.
std::string render_peers(const api::DLedgerGroup& group, int ordinal, const RenderOptions& options);
// True if member `ordinal` joins a running group (ordinal >= the bootstrap size).
bool is_joining_member(int ordinal, const RenderOptions& options);
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
