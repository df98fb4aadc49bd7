#include "operator/api/validation.h"

#include <algorithm>
#include <set>

#include "operator/api/json_codec.h"
#include "operator/api/pattern.h"
#include "operator/api/quantity.h"

namespace dledger::op::api {

namespace {

using Type = FieldError::Type;

std::string quoted(const std::string& s) {
  return nlohmann::json(s).dump();
}

class Checker {
 public:
  explicit Checker(ValidationResult& result) : result_(result) {}

  void range(const std::string& field, std::int64_t value, std::int64_t min, std::int64_t max) {
    if (value < min) {
      invalid(field, std::to_string(value),
              "must be greater than or equal to " + std::to_string(min));
    } else if (value > max) {
      invalid(field, std::to_string(value), "must be less than or equal to " + std::to_string(max));
    }
  }

  void pattern(const std::string& field, const std::string& value, std::string_view regex_text) {
    if (!matches_pattern(regex_text, value)) {
      invalid(field, quoted(value),
              field + " in body should match '" + std::string(regex_text) + "'");
    }
  }

  void max_length(const std::string& field, const std::string& value, std::size_t max) {
    if (value.size() > max) {
      result_.errors.push_back(
          {Type::kTooLong, field, "", "may not be more than " + std::to_string(max) + " bytes"});
    }
  }

  void required(const std::string& field, const std::string& value) {
    if (value.empty()) result_.errors.push_back({Type::kRequired, field, "", ""});
  }

  void invalid(const std::string& field, std::string bad_value, std::string detail) {
    result_.errors.push_back({Type::kInvalid, field, std::move(bad_value), std::move(detail)});
  }

  void forbidden(const std::string& field, std::string detail) {
    result_.errors.push_back({Type::kForbidden, field, "", std::move(detail)});
  }

  void warn(std::string text) { result_.warnings.push_back(std::move(text)); }

 private:
  ValidationResult& result_;
};

// Label values: at most 63 characters, alphanumerics with -_. inside (may be empty).
void check_label_map(Checker& c, const std::string& field,
                     const std::map<std::string, std::string>& labels) {
  constexpr std::string_view kValue = "^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$";
  constexpr std::string_view kName = "^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$";
  for (const auto& [key, value] : labels) {
    const std::string path = field + "[" + key + "]";
    const auto slash = key.find('/');
    const std::string name = slash == std::string::npos ? key : key.substr(slash + 1);
    if (name.empty() || name.size() > 63 || !matches_pattern(kName, name)) {
      c.invalid(field, quoted(key),
                "name part must consist of alphanumeric characters, '-', '_' or '.', and must "
                "start and end with an alphanumeric character (at most 63 characters)");
    }
    if (value.size() > 63 || !matches_pattern(kValue, value)) {
      c.invalid(path, quoted(value),
                "a valid label must be an empty string or consist of alphanumeric characters, "
                "'-', '_' or '.', and must start and end with an alphanumeric character (at most "
                "63 characters)");
    }
  }
}

void check_secret_ref(Checker& c, const std::string& field,
                      const std::optional<SecretKeyRef>& ref) {
  if (!ref) return;
  c.required(field + ".name", ref->name);
  if (!ref->name.empty()) {
    c.max_length(field + ".name", ref->name, 253);
    c.pattern(field + ".name", ref->name, "^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$");
  }
  c.required(field + ".key", ref->key);
  if (!ref->key.empty()) c.pattern(field + ".key", ref->key, "^[-._a-zA-Z0-9]+$");
}

}  // namespace

int member_ordinal(const std::string& id) {
  if (id.size() < 2 || id.size() > 10 || id[0] != 'n') return -1;
  int value = 0;
  for (std::size_t i = 1; i < id.size(); ++i) {
    if (id[i] < '0' || id[i] > '9') return -1;
    value = value * 10 + (id[i] - '0');
  }
  return value;
}

ValidationResult validate_spec(const DLedgerGroupSpec& s) {
  ValidationResult result;
  Checker c(result);

  c.range("spec.replicas", s.replicas, kMinReplicas, kMaxReplicas);
  if (s.replicas >= kMinReplicas && s.replicas <= kMaxReplicas && s.replicas % 2 == 0) {
    c.warn("spec.replicas: " + std::to_string(s.replicas) + " members tolerate " +
           std::to_string((s.replicas - 1) / 2) + " failure(s), no more than " +
           std::to_string(s.replicas - 1) + " would; an odd count is recommended");
  }
  c.required("spec.image", s.image);

  c.required("spec.brokerName", s.broker_name);
  if (!s.broker_name.empty()) {
    c.max_length("spec.brokerName", s.broker_name, kMaxDnsLabelLength);
    c.pattern("spec.brokerName", s.broker_name, kDnsLabelPattern);
  }
  c.required("spec.clusterName", s.cluster_name);
  if (!s.cluster_name.empty()) {
    c.max_length("spec.clusterName", s.cluster_name, kMaxDnsLabelLength);
    c.pattern("spec.clusterName", s.cluster_name, kDnsLabelPattern);
  }

  if (!matches_pattern(kQuantityPattern, s.storage.size)) {
    c.pattern("spec.storage.size", s.storage.size, kQuantityPattern);
  } else if (auto bytes = parse_quantity_bytes(s.storage.size); !bytes.ok() || *bytes <= 0) {
    c.invalid("spec.storage.size", quoted(s.storage.size), "must be greater than zero");
  }
  if (s.storage.storage_class_name && s.storage.storage_class_name->size() > 253) {
    c.max_length("spec.storage.storageClassName", *s.storage.storage_class_name, 253);
  }
  if (!s.resources.is_object()) {
    c.invalid("spec.resources", describe_json_value(s.resources), "must be an object");
  }

  if (static_cast<std::int64_t>(s.config.size()) > kMaxConfigEntries) {
    result.errors.push_back({Type::kTooLong, "spec.config", "",
                             "must have at most " + std::to_string(kMaxConfigEntries) + " items"});
  }
  for (const auto& [key, value] : s.config) {
    for (const auto& owned : kOwnedConfigKeys) {
      if (owned.key == key) {
        c.forbidden("spec.config[" + key + "]",
                    "owned by the operator (" + std::string(owned.controlled_by) + ")");
      }
    }
    if (key.empty() || key.find_first_of("=:#! \t\r\n") != std::string::npos) {
      c.invalid("spec.config", quoted(key),
                "a broker.conf key must be non-empty without '=', ':', '#', '!' or whitespace");
    }
    if (value.find_first_of("\r\n") != std::string::npos) {
      c.invalid("spec.config[" + key + "]", quoted(value), "must be a single line");
    }
  }

  const std::string election = "spec.electionTimeoutMs";
  c.range(election + ".min", s.election_timeout_ms.min_ms, kMinElectionTimeoutMs,
          kMaxElectionTimeoutMs);
  c.range(election + ".max", s.election_timeout_ms.max_ms, kMinElectionTimeoutMs,
          kMaxElectionTimeoutMs);
  if (s.election_timeout_ms.min_ms >= s.election_timeout_ms.max_ms) {
    c.invalid(election + ".min", std::to_string(s.election_timeout_ms.min_ms),
              "must be less than spec.electionTimeoutMs.max (" +
                  std::to_string(s.election_timeout_ms.max_ms) + ")");
  }
  c.range("spec.heartbeatIntervalMs", s.heartbeat_interval_ms, kMinHeartbeatIntervalMs,
          kMaxHeartbeatIntervalMs);
  if (s.heartbeat_interval_ms * 2 > s.election_timeout_ms.min_ms) {
    c.invalid("spec.heartbeatIntervalMs", std::to_string(s.heartbeat_interval_ms),
              "must be at most half of spec.electionTimeoutMs.min (" +
                  std::to_string(s.election_timeout_ms.min_ms) + ")");
  }

  if (!s.name_server.addresses.empty()) {
    if (s.name_server.managed) {
      c.invalid("spec.nameServer", "\"object\"", "addresses and managed are mutually exclusive");
    }
    c.pattern("spec.nameServer.addresses", s.name_server.addresses, kNameServerAddressesPattern);
  }

  c.range("spec.ports.remoting", s.ports.remoting, kMinPort, kMaxPort);
  c.range("spec.ports.peer", s.ports.peer, kMinPort, kMaxPort);
  c.range("spec.ports.admin", s.ports.admin, kMinPort, kMaxPort);
  if (s.ports.peer == s.ports.remoting) {
    result.errors.push_back(
        {Type::kDuplicate, "spec.ports.peer", std::to_string(s.ports.peer), ""});
  }
  if (s.ports.admin == s.ports.remoting || s.ports.admin == s.ports.peer) {
    result.errors.push_back(
        {Type::kDuplicate, "spec.ports.admin", std::to_string(s.ports.admin), ""});
  }

  check_label_map(c, "spec.pod.labels", s.pod.labels);
  for (const auto& reserved : {"app.kubernetes.io/name", "app.kubernetes.io/instance",
                               "app.kubernetes.io/component", "app.kubernetes.io/managed-by"}) {
    if (s.pod.labels.count(reserved) != 0) {
      c.forbidden("spec.pod.labels[" + std::string(reserved) + "]",
                  "set by the operator; it selects the group's pods");
    }
  }
  check_label_map(c, "spec.pod.nodeSelector", s.pod.node_selector);
  if (!s.pod.tolerations.is_null() && !s.pod.tolerations.is_array()) {
    c.invalid("spec.pod.tolerations", describe_json_value(s.pod.tolerations), "must be an array");
  }
  if (!s.pod.affinity.is_null() && !s.pod.affinity.is_object()) {
    c.invalid("spec.pod.affinity", describe_json_value(s.pod.affinity), "must be an object");
  }
  if (!s.pod.topology_spread_constraints.is_null() &&
      !s.pod.topology_spread_constraints.is_array()) {
    c.invalid("spec.pod.topologySpreadConstraints",
              describe_json_value(s.pod.topology_spread_constraints), "must be an array");
  }
  if (!s.pod.service_account_name.empty()) {
    c.pattern("spec.pod.serviceAccountName", s.pod.service_account_name,
              "^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$");
  }

  c.pattern("spec.monitoring.serviceMonitor.interval", s.monitoring.service_monitor.interval,
            kDurationPattern);

  if (s.preferred_leader) {
    c.pattern("spec.preferredLeader", *s.preferred_leader, kPreferredLeaderPattern);
    const int ordinal = member_ordinal(*s.preferred_leader);
    if (ordinal >= 0 && ordinal < 9 && ordinal >= s.replicas) {
      c.invalid("spec.preferredLeader", quoted(*s.preferred_leader),
                "must name a member below spec.replicas (" + std::to_string(s.replicas) +
                    "): n0..n" + std::to_string(std::max<std::int64_t>(s.replicas - 1, 0)));
    }
  }
  check_secret_ref(c, "spec.adminTokenSecretRef", s.admin_token_secret_ref);
  check_secret_ref(c, "spec.groupSecretRef", s.group_secret_ref);
  return result;
}

ValidationResult validate_dledger_group(const DLedgerGroup& group) {
  ValidationResult result;
  {
    Checker c(result);
    const std::string& name = group.metadata.name;
    c.required("metadata.name", name);
    if (!name.empty()) {
      c.max_length("metadata.name", name, kMaxNameLength);
      c.pattern("metadata.name", name, "^[a-z]([-a-z0-9]*[a-z0-9])?$");
    }
  }
  ValidationResult spec = validate_spec(group.spec);
  result.errors.insert(result.errors.end(), spec.errors.begin(), spec.errors.end());
  result.warnings.insert(result.warnings.end(), spec.warnings.begin(), spec.warnings.end());
  return result;
}

Admission admit_dledger_group(const nlohmann::json& object) {
  Admission out;
  DecodedGroup decoded = decode_dledger_group(object);
  out.group = std::move(decoded.group);
  out.errors = std::move(decoded.errors);
  if (!out.errors.empty()) return out;
  ValidationResult v = validate_dledger_group(out.group);
  out.errors = std::move(v.errors);
  out.warnings = std::move(v.warnings);
  return out;
}

}  // namespace dledger::op::api
