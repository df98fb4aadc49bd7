// DLedgerGroup (dledger.io/v1alpha1): the custom resource describing one replicated broker group.
//
// These types are the C++ side of deploy/crds/dledger.io_dledgergroups.yaml. Every default and
// bound below also appears in that schema; tests/operator/crd_schema_test.cpp loads the YAML and
// fails if the two drift apart. Change both together.
//
// Field names follow the JSON names of the resource (`spec.electionTimeoutMs.min` is
// `spec.election_timeout_ms.min_ms`). Struct members are initialised to the schema defaults, so a
// decoded resource is always fully defaulted (as the API server would store it). The two defaults
// a schema cannot express — `spec.brokerName` and `spec.clusterName` default to
// `metadata.name` — are applied by decode_dledger_group() (json_codec.h).
//
// Open Kubernetes objects (resources, affinity, tolerations, topologySpreadConstraints) are kept
// as nlohmann::json and copied into the pod template unchanged; the API server validates them
// when the StatefulSet is written.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace dledger::op::api {

inline constexpr std::string_view kGroup = "dledger.io";
inline constexpr std::string_view kVersion = "v1alpha1";
inline constexpr std::string_view kApiVersion = "dledger.io/v1alpha1";
inline constexpr std::string_view kKind = "DLedgerGroup";
inline constexpr std::string_view kPlural = "dledgergroups";
inline constexpr std::string_view kShortName = "dlg";

// Defaults and bounds (mirrored in the CRD schema; see the file comment).
inline constexpr std::int64_t kMinReplicas = 1;
inline constexpr std::int64_t kMaxReplicas = 9;
inline constexpr std::int64_t kDefaultReplicas = 3;
inline constexpr std::string_view kDefaultStorageSize = "10Gi";
inline constexpr std::int64_t kDefaultElectionTimeoutMinMs = 150;
inline constexpr std::int64_t kDefaultElectionTimeoutMaxMs = 300;
inline constexpr std::int64_t kMinElectionTimeoutMs = 20;  // >= 2 ticks of the default 10 ms tick
inline constexpr std::int64_t kMaxElectionTimeoutMs = 600000;
inline constexpr std::int64_t kDefaultHeartbeatIntervalMs = 50;
inline constexpr std::int64_t kMinHeartbeatIntervalMs = 10;  // the broker's default tickMs
inline constexpr std::int64_t kMaxHeartbeatIntervalMs = 300000;
inline constexpr std::int64_t kDefaultRemotingPort = 10911;
inline constexpr std::int64_t kDefaultPeerPort = 40911;
inline constexpr std::int64_t kDefaultAdminPort = 10980;
inline constexpr std::int64_t kMinPort = 1;
inline constexpr std::int64_t kMaxPort = 65535;
inline constexpr std::string_view kDefaultServiceMonitorInterval = "30s";
inline constexpr std::int64_t kMaxConfigEntries = 256;
// metadata.name: "<name>-headless" must stay a 63-character DNS-1035 label and the StatefulSet's
// controller-revision-hash label "<name>-<10 chars>" a 63-character label value.
inline constexpr std::size_t kMaxNameLength = 52;
inline constexpr std::size_t kMaxDnsLabelLength = 63;

// Patterns, as written in the schema (ECMAScript syntax, usable with std::regex).
inline constexpr std::string_view kDnsLabelPattern = "^[a-z0-9]([-a-z0-9]*[a-z0-9])?$";
inline constexpr std::string_view kPreferredLeaderPattern = "^n[0-8]$";
inline constexpr std::string_view kDurationPattern = "^([0-9]+(\\.[0-9]+)?(ms|s|m|h))+$";
inline constexpr std::string_view kQuantityPattern =
    "^(\\+|-)?(([0-9]+(\\.[0-9]*)?)|(\\.[0-9]+))(([KMGTPE]i)|[numkMGTPE]|([eE](\\+|-)?(([0-9]+(\\.["
    "0-9]*)?)|(\\.[0-9]+))))?$";
// "host:port;host:port" (a trailing ';' is tolerated by the broker, not here).
inline constexpr std::string_view kNameServerAddressesPattern =
    "^[A-Za-z0-9.-]+:[0-9]{1,5}(;[A-Za-z0-9.-]+:[0-9]{1,5})*$";

// broker.conf keys the operator writes itself; spec.config may not set them. Each maps to the
// spec field (or derivation) that controls it, which the validation error names.
struct OwnedConfigKey {
  std::string_view key;
  std::string_view controlled_by;
};
inline constexpr OwnedConfigKey kOwnedConfigKeys[] = {
    {"dLegerPeers", "derived from spec.replicas and the pod DNS names"},
    {"dLegerSelfId", "derived from the pod ordinal"},
    {"dLegerJoining", "set by the operator for members added to a running group"},
    {"adminPeers", "derived by the broker from dLegerPeers and adminPort"},
    {"dLegerGroup", "derived from spec.brokerName"},
    {"brokerName", "set spec.brokerName"},
    {"brokerClusterName", "set spec.clusterName"},
    {"listenPort", "set spec.ports.remoting"},
    {"adminPort", "set spec.ports.admin"},
    {"storePathRootDir", "the data volume is mounted at /data"},
    {"enableDLegerCommitLog", "always true under the operator"},
    {"namesrvAddr", "set spec.nameServer"},
    {"flushMode", "set spec.flushMode"},
    {"electionTimeoutMinMs", "set spec.electionTimeoutMs.min"},
    {"electionTimeoutMaxMs", "set spec.electionTimeoutMs.max"},
    {"heartbeatIntervalMs", "set spec.heartbeatIntervalMs"},
    {"preferredLeaderId", "set spec.preferredLeader"},
    {"adminToken", "set spec.adminTokenSecretRef (secrets do not belong in a ConfigMap)"},
    {"groupSecret", "set spec.groupSecretRef (secrets do not belong in a ConfigMap)"},
};

enum class FlushMode { kSync, kAsync };
enum class RetentionAction { kRetain, kDelete };
enum class PullPolicy { kAlways, kIfNotPresent, kNever };

const char* to_string(FlushMode mode);          // "sync" | "async"
const char* to_string(RetentionAction action);  // "Retain" | "Delete"
const char* to_string(PullPolicy policy);       // "Always" | "IfNotPresent" | "Never"

struct SecretKeyRef {
  std::string name;
  std::string key;
  bool operator==(const SecretKeyRef&) const = default;
};

struct RetentionPolicy {
  RetentionAction when_deleted = RetentionAction::kRetain;
  RetentionAction when_scaled = RetentionAction::kDelete;
  bool operator==(const RetentionPolicy&) const = default;
};

struct StorageSpec {
  std::string size{kDefaultStorageSize};  // Kubernetes quantity
  std::optional<std::string> storage_class_name;
  RetentionPolicy retention_policy;
  bool operator==(const StorageSpec&) const = default;
};

struct ElectionTimeoutSpec {
  std::int64_t min_ms = kDefaultElectionTimeoutMinMs;
  std::int64_t max_ms = kDefaultElectionTimeoutMaxMs;
  bool operator==(const ElectionTimeoutSpec&) const = default;
};

// Exactly one of: explicit addresses, or a name server managed by the operator. Neither: the
// brokers run without registering with a name server.
struct NameServerSpec {
  std::string addresses;  // "host:port;host:port"
  bool managed = false;
  bool operator==(const NameServerSpec&) const = default;
};

struct PortsSpec {
  std::int64_t remoting = kDefaultRemotingPort;
  std::int64_t peer = kDefaultPeerPort;
  std::int64_t admin = kDefaultAdminPort;
  bool operator==(const PortsSpec&) const = default;
};

struct PodOverrides {
  std::map<std::string, std::string> labels;
  std::map<std::string, std::string> annotations;
  std::map<std::string, std::string> node_selector;
  nlohmann::json tolerations;                  // null or array of Toleration
  nlohmann::json affinity;                     // null or Affinity
  nlohmann::json topology_spread_constraints;  // null or array
  std::string priority_class_name;
  std::string service_account_name;
  bool operator==(const PodOverrides&) const = default;
};

struct ServiceMonitorSpec {
  bool enabled = false;
  std::string interval{kDefaultServiceMonitorInterval};
  bool operator==(const ServiceMonitorSpec&) const = default;
};

struct MonitoringSpec {
  ServiceMonitorSpec service_monitor;
  bool operator==(const MonitoringSpec&) const = default;
};

struct DLedgerGroupSpec {
  std::int64_t replicas = kDefaultReplicas;
  std::string image;  // required
  PullPolicy image_pull_policy = PullPolicy::kIfNotPresent;
  std::string broker_name;   // defaults to metadata.name
  std::string cluster_name;  // defaults to metadata.name
  StorageSpec storage;
  nlohmann::json resources = nlohmann::json::object();  // ResourceRequirements
  std::map<std::string, std::string> config;            // broker.conf overrides
  FlushMode flush_mode = FlushMode::kSync;
  ElectionTimeoutSpec election_timeout_ms;
  std::int64_t heartbeat_interval_ms = kDefaultHeartbeatIntervalMs;
  NameServerSpec name_server;
  PortsSpec ports;
  PodOverrides pod;
  MonitoringSpec monitoring;
  std::optional<std::string> preferred_leader;  // "n0".."n8"
  std::optional<SecretKeyRef> admin_token_secret_ref;
  std::optional<SecretKeyRef> group_secret_ref;
  bool operator==(const DLedgerGroupSpec&) const = default;
};

// Condition types and reasons (status.conditions[].type / .reason).
namespace condition {
inline constexpr std::string_view kReady = "Ready";
inline constexpr std::string_view kAvailable = "Available";
inline constexpr std::string_view kProgressing = "Progressing";
inline constexpr std::string_view kDegraded = "Degraded";
}  // namespace condition
namespace reason {
// Progressing
inline constexpr std::string_view kScalingUp = "ScalingUp";
inline constexpr std::string_view kScalingDown = "ScalingDown";
inline constexpr std::string_view kMemberCatchingUp = "MemberCatchingUp";
inline constexpr std::string_view kLeaderTransfer = "LeaderTransfer";
inline constexpr std::string_view kRollingUpdate = "RollingUpdate";
// Degraded
inline constexpr std::string_view kNoLeader = "NoLeader";
inline constexpr std::string_view kQuorumAtRisk = "QuorumAtRisk";
inline constexpr std::string_view kMemberUnreachable = "MemberUnreachable";
}  // namespace reason

struct Condition {
  std::string type;
  std::string status;  // "True" | "False" | "Unknown"
  std::string reason;  // CamelCase
  std::string message;
  std::string last_transition_time;  // RFC 3339, e.g. "2026-01-02T03:04:05Z"
  std::int64_t observed_generation = 0;
  bool operator==(const Condition&) const = default;
};

struct LeaderStatus {
  std::string pod;  // "g1-0"
  std::string id;   // "n0"
  bool operator==(const LeaderStatus&) const = default;
};

struct MemberStatus {
  std::string name;   // pod name
  std::string id;     // "n0"
  std::string role;   // leader | follower | candidate | learner (as in the admin API)
  bool voter = true;  // false: a learner still catching up
  bool ready = false;
  std::optional<std::int64_t> lag;  // entries behind the leader; known on the leader only
  bool operator==(const MemberStatus&) const = default;
};

struct DLedgerGroupStatus {
  std::int64_t observed_generation = 0;
  std::int64_t replicas = 0;
  std::int64_t ready_replicas = 0;
  std::string selector;  // serialized label selector (scale subresource)
  std::optional<LeaderStatus> leader;
  std::int64_t term = 0;
  std::vector<MemberStatus> members;
  std::vector<Condition> conditions;
  bool operator==(const DLedgerGroupStatus&) const = default;
};

struct ObjectMeta {
  std::string name;
  std::string namespace_name;
  std::string uid;
  std::int64_t generation = 0;
  std::string resource_version;
  std::string creation_timestamp;
  std::map<std::string, std::string> labels;
  std::map<std::string, std::string> annotations;
  bool operator==(const ObjectMeta&) const = default;
};

struct DLedgerGroup {
  ObjectMeta metadata;
  DLedgerGroupSpec spec;
  DLedgerGroupStatus status;
  bool operator==(const DLedgerGroup&) const = default;
};

// Sets (or replaces) the condition of the same type. lastTransitionTime is taken from `now` only
// when the status value changes; otherwise the existing time is kept. Returns true if anything
// changed. Conditions stay in insertion order.
bool set_condition(std::vector<Condition>& conditions, Condition condition, const std::string& now);
const Condition* find_condition(const std::vector<Condition>& conditions, std::string_view type);

}  // namespace dledger::op::api
