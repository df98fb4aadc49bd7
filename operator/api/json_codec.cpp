#include "operator/api/json_codec.h"

#include <initializer_list>
#include <string_view>

namespace dledger::op::api {

using nlohmann::json;

std::string describe_json_value(const json& value) {
  if (value.is_object()) return "\"object\"";
  if (value.is_array()) return "\"array\"";
  return value.dump();
}

namespace {

const char* json_type_name(const json& value) {
  switch (value.type()) {
    case json::value_t::null:
      return "null";
    case json::value_t::boolean:
      return "boolean";
    case json::value_t::number_integer:
    case json::value_t::number_unsigned:
      return "integer";
    case json::value_t::number_float:
      return "number";
    case json::value_t::string:
      return "string";
    case json::value_t::array:
      return "array";
    default:
      return "object";
  }
}

std::string join_path(const std::string& parent, std::string_view key) {
  return parent.empty() ? std::string(key) : parent + "." + std::string(key);
}

// Walks one JSON object, reading declared fields and recording every problem with its path.
class ObjectReader {
 public:
  ObjectReader(const json& object, std::string path, FieldErrorList& errors)
      : object_(object), path_(std::move(path)), errors_(errors) {}

  // Reports every key not in `known` as an unknown field.
  void reject_unknown(std::initializer_list<std::string_view> known) {
    if (!object_.is_object()) return;
    for (const auto& [key, value] : object_.items()) {
      bool found = false;
      for (auto k : known) found = found || k == key;
      if (!found) {
        errors_.push_back({FieldError::Type::kUnknownField, join_path(path_, key), "", ""});
      }
    }
  }

  std::string path(std::string_view key) const { return join_path(path_, key); }

  // Present and not null.
  const json* find(std::string_view key) const {
    if (!object_.is_object()) return nullptr;
    auto it = object_.find(std::string(key));
    if (it == object_.end() || it->is_null()) return nullptr;
    return &*it;
  }

  bool typed(std::string_view key, json::value_t want, const char* want_name, const json*& out) {
    out = find(key);
    if (out == nullptr) return false;
    bool ok = out->type() == want;
    if (want == json::value_t::number_integer) ok = out->is_number_integer();
    if (!ok) {
      type_error(path(key), *out, want_name);
      return false;
    }
    return true;
  }

  void type_error(const std::string& field, const json& value, const char* want) {
    errors_.push_back(
        {FieldError::Type::kTypeInvalid, field, "\"" + std::string(json_type_name(value)) + "\"",
         field + " in body must be of type " + want + ": \"" + json_type_name(value) + "\""});
  }

  void read(std::string_view key, std::int64_t& out) {
    const json* v;
    if (typed(key, json::value_t::number_integer, "integer", v)) {
      if (v->is_number_unsigned() && v->get<std::uint64_t>() > INT64_MAX) {
        type_error(path(key), *v, "integer");
        return;
      }
      out = v->get<std::int64_t>();
    }
  }
  void read(std::string_view key, bool& out) {
    const json* v;
    if (typed(key, json::value_t::boolean, "boolean", v)) out = v->get<bool>();
  }
  void read(std::string_view key, std::string& out) {
    const json* v;
    if (typed(key, json::value_t::string, "string", v)) out = v->get<std::string>();
  }
  void read(std::string_view key, std::optional<std::string>& out) {
    const json* v;
    if (typed(key, json::value_t::string, "string", v)) out = v->get<std::string>();
  }
  void read(std::string_view key, std::map<std::string, std::string>& out) {
    const json* v;
    if (!typed(key, json::value_t::object, "object", v)) return;
    for (const auto& [k, value] : v->items()) {
      if (value.is_string()) {
        out[k] = value.get<std::string>();
      } else {
        type_error(path(key) + "[" + k + "]", value, "string");
      }
    }
  }
  // Open object/array copied verbatim.
  void read_open(std::string_view key, json::value_t want, const char* want_name, json& out) {
    const json* v;
    if (typed(key, want, want_name, v)) out = *v;
  }
  template <typename Enum>
  void read_enum(std::string_view key, Enum& out,
                 std::initializer_list<std::pair<std::string_view, Enum>> allowed) {
    const json* v;
    if (!typed(key, json::value_t::string, "string", v)) return;
    const auto text = v->get<std::string>();
    std::string supported;
    for (const auto& [name, value] : allowed) {
      if (name == text) {
        out = value;
        return;
      }
      if (!supported.empty()) supported += ", ";
      supported += "\"" + std::string(name) + "\"";
    }
    errors_.push_back(
        {FieldError::Type::kNotSupported, path(key), v->dump(), "supported values: " + supported});
  }
  // Nested object: returns the reader or nullptr when absent / wrong type.
  std::optional<ObjectReader> child(std::string_view key) {
    const json* v;
    if (!typed(key, json::value_t::object, "object", v)) return std::nullopt;
    return ObjectReader(*v, path(key), errors_);
  }

  FieldErrorList& errors() { return errors_; }

 private:
  const json& object_;
  std::string path_;
  FieldErrorList& errors_;
};

std::optional<SecretKeyRef> read_secret_ref(ObjectReader& parent, std::string_view key) {
  auto r = parent.child(key);
  if (!r) return std::nullopt;
  r->reject_unknown({"name", "key"});
  SecretKeyRef ref;
  r->read("name", ref.name);
  r->read("key", ref.key);
  return ref;
}

void read_retention_action(ObjectReader& r, std::string_view key, RetentionAction& out) {
  r.read_enum(key, out,
              {{"Retain", RetentionAction::kRetain}, {"Delete", RetentionAction::kDelete}});
}

Condition decode_condition(ObjectReader& r) {
  r.reject_unknown(
      {"type", "status", "reason", "message", "lastTransitionTime", "observedGeneration"});
  Condition c;
  r.read("type", c.type);
  r.read("status", c.status);
  r.read("reason", c.reason);
  r.read("message", c.message);
  r.read("lastTransitionTime", c.last_transition_time);
  r.read("observedGeneration", c.observed_generation);
  return c;
}

MemberStatus decode_member(ObjectReader& r) {
  r.reject_unknown({"name", "id", "role", "voter", "ready", "lag"});
  MemberStatus m;
  r.read("name", m.name);
  r.read("id", m.id);
  r.read("role", m.role);
  r.read("voter", m.voter);
  r.read("ready", m.ready);
  if (r.find("lag") != nullptr) {
    std::int64_t lag = 0;
    r.read("lag", lag);
    m.lag = lag;
  }
  return m;
}

// Decodes each object element of the array at `key`.
template <typename T, typename Fn>
void read_object_array(ObjectReader& parent, std::string_view key, std::vector<T>& out, Fn decode) {
  const json* v;
  if (!parent.typed(key, json::value_t::array, "array", v)) return;
  for (std::size_t i = 0; i < v->size(); ++i) {
    const std::string item_path = parent.path(key) + "[" + std::to_string(i) + "]";
    if (!(*v)[i].is_object()) {
      parent.type_error(item_path, (*v)[i], "object");
      continue;
    }
    ObjectReader item((*v)[i], item_path, parent.errors());
    out.push_back(decode(item));
  }
}

json string_map(const std::map<std::string, std::string>& m) {
  json out = json::object();
  for (const auto& [k, v] : m) out[k] = v;
  return out;
}

json encode_secret_ref(const SecretKeyRef& ref) {
  return {{"name", ref.name}, {"key", ref.key}};
}

}  // namespace

DLedgerGroupSpec decode_spec(const json& spec, FieldErrorList& errors) {
  DLedgerGroupSpec s;
  ObjectReader r(spec, "spec", errors);
  r.reject_unknown({"replicas", "image", "imagePullPolicy", "brokerName", "clusterName", "storage",
                    "resources", "config", "flushMode", "electionTimeoutMs", "heartbeatIntervalMs",
                    "nameServer", "ports", "pod", "monitoring", "preferredLeader",
                    "adminTokenSecretRef", "groupSecretRef"});
  r.read("replicas", s.replicas);
  r.read("image", s.image);
  r.read_enum("imagePullPolicy", s.image_pull_policy,
              {{"Always", PullPolicy::kAlways},
               {"IfNotPresent", PullPolicy::kIfNotPresent},
               {"Never", PullPolicy::kNever}});
  r.read("brokerName", s.broker_name);
  r.read("clusterName", s.cluster_name);
  if (auto storage = r.child("storage")) {
    storage->reject_unknown({"size", "storageClassName", "retentionPolicy"});
    storage->read("size", s.storage.size);
    storage->read("storageClassName", s.storage.storage_class_name);
    if (auto retention = storage->child("retentionPolicy")) {
      retention->reject_unknown({"whenDeleted", "whenScaled"});
      read_retention_action(*retention, "whenDeleted", s.storage.retention_policy.when_deleted);
      read_retention_action(*retention, "whenScaled", s.storage.retention_policy.when_scaled);
    }
  }
  r.read_open("resources", json::value_t::object, "object", s.resources);
  r.read("config", s.config);
  r.read_enum("flushMode", s.flush_mode,
              {{"sync", FlushMode::kSync}, {"async", FlushMode::kAsync}});
  if (auto election = r.child("electionTimeoutMs")) {
    election->reject_unknown({"min", "max"});
    election->read("min", s.election_timeout_ms.min_ms);
    election->read("max", s.election_timeout_ms.max_ms);
  }
  r.read("heartbeatIntervalMs", s.heartbeat_interval_ms);
  if (auto ns = r.child("nameServer")) {
    ns->reject_unknown({"addresses", "managed"});
    ns->read("addresses", s.name_server.addresses);
    ns->read("managed", s.name_server.managed);
  }
  if (auto ports = r.child("ports")) {
    ports->reject_unknown({"remoting", "peer", "admin"});
    ports->read("remoting", s.ports.remoting);
    ports->read("peer", s.ports.peer);
    ports->read("admin", s.ports.admin);
  }
  if (auto pod = r.child("pod")) {
    pod->reject_unknown({"labels", "annotations", "nodeSelector", "tolerations", "affinity",
                         "topologySpreadConstraints", "priorityClassName", "serviceAccountName"});
    pod->read("labels", s.pod.labels);
    pod->read("annotations", s.pod.annotations);
    pod->read("nodeSelector", s.pod.node_selector);
    pod->read_open("tolerations", json::value_t::array, "array", s.pod.tolerations);
    pod->read_open("affinity", json::value_t::object, "object", s.pod.affinity);
    pod->read_open("topologySpreadConstraints", json::value_t::array, "array",
                   s.pod.topology_spread_constraints);
    pod->read("priorityClassName", s.pod.priority_class_name);
    pod->read("serviceAccountName", s.pod.service_account_name);
  }
  if (auto monitoring = r.child("monitoring")) {
    monitoring->reject_unknown({"serviceMonitor"});
    if (auto sm = monitoring->child("serviceMonitor")) {
      sm->reject_unknown({"enabled", "interval"});
      sm->read("enabled", s.monitoring.service_monitor.enabled);
      sm->read("interval", s.monitoring.service_monitor.interval);
    }
  }
  r.read("preferredLeader", s.preferred_leader);
  s.admin_token_secret_ref = read_secret_ref(r, "adminTokenSecretRef");
  s.group_secret_ref = read_secret_ref(r, "groupSecretRef");
  return s;
}

DLedgerGroupStatus decode_status(const json& status, FieldErrorList& errors) {
  DLedgerGroupStatus s;
  ObjectReader r(status, "status", errors);
  r.reject_unknown({"observedGeneration", "replicas", "readyReplicas", "selector", "leader", "term",
                    "members", "conditions"});
  r.read("observedGeneration", s.observed_generation);
  r.read("replicas", s.replicas);
  r.read("readyReplicas", s.ready_replicas);
  r.read("selector", s.selector);
  if (auto leader = r.child("leader")) {
    leader->reject_unknown({"pod", "id"});
    LeaderStatus l;
    leader->read("pod", l.pod);
    leader->read("id", l.id);
    s.leader = l;
  }
  r.read("term", s.term);
  read_object_array(r, "members", s.members, decode_member);
  read_object_array(r, "conditions", s.conditions, decode_condition);
  return s;
}

DecodedGroup decode_dledger_group(const json& object) {
  DecodedGroup out;
  FieldErrorList& errors = out.errors;
  if (!object.is_object()) {
    errors.push_back({FieldError::Type::kTypeInvalid, "<root>", describe_json_value(object),
                      "a DLedgerGroup must be a JSON object"});
    return out;
  }
  ObjectReader root(object, "", errors);
  std::string api_version(kApiVersion), kind(kKind);
  root.read("apiVersion", api_version);
  root.read("kind", kind);
  if (api_version != kApiVersion) {
    errors.push_back({FieldError::Type::kNotSupported, "apiVersion", json(api_version).dump(),
                      "supported values: \"" + std::string(kApiVersion) + "\""});
  }
  if (kind != kKind) {
    errors.push_back({FieldError::Type::kNotSupported, "kind", json(kind).dump(),
                      "supported values: \"" + std::string(kKind) + "\""});
  }
  ObjectMeta& m = out.group.metadata;
  if (auto meta = root.child("metadata")) {
    meta->read("name", m.name);
    meta->read("namespace", m.namespace_name);
    meta->read("uid", m.uid);
    meta->read("generation", m.generation);
    meta->read("resourceVersion", m.resource_version);
    meta->read("creationTimestamp", m.creation_timestamp);
    meta->read("labels", m.labels);
    meta->read("annotations", m.annotations);
  }
  const json* spec = root.find("spec");
  if (spec == nullptr) {
    errors.push_back({FieldError::Type::kRequired, "spec", "", ""});
  } else if (!spec->is_object()) {
    root.type_error("spec", *spec, "object");
  } else {
    out.group.spec = decode_spec(*spec, errors);
  }
  if (const json* status = root.find("status")) {
    if (status->is_object()) {
      out.group.status = decode_status(*status, errors);
    } else {
      root.type_error("status", *status, "object");
    }
  }
  if (out.group.spec.broker_name.empty()) out.group.spec.broker_name = m.name;
  if (out.group.spec.cluster_name.empty()) out.group.spec.cluster_name = m.name;
  return out;
}

json encode_spec(const DLedgerGroupSpec& s) {
  json out = {
      {"replicas", s.replicas},
      {"image", s.image},
      {"imagePullPolicy", to_string(s.image_pull_policy)},
      {"brokerName", s.broker_name},
      {"clusterName", s.cluster_name},
      {"storage",
       {{"size", s.storage.size},
        {"retentionPolicy",
         {{"whenDeleted", to_string(s.storage.retention_policy.when_deleted)},
          {"whenScaled", to_string(s.storage.retention_policy.when_scaled)}}}}},
      {"resources", s.resources},
      {"config", string_map(s.config)},
      {"flushMode", to_string(s.flush_mode)},
      {"electionTimeoutMs",
       {{"min", s.election_timeout_ms.min_ms}, {"max", s.election_timeout_ms.max_ms}}},
      {"heartbeatIntervalMs", s.heartbeat_interval_ms},
      {"ports", {{"remoting", s.ports.remoting}, {"peer", s.ports.peer}, {"admin", s.ports.admin}}},
      {"monitoring",
       {{"serviceMonitor",
         {{"enabled", s.monitoring.service_monitor.enabled},
          {"interval", s.monitoring.service_monitor.interval}}}}},
  };
  if (s.storage.storage_class_name) {
    out["storage"]["storageClassName"] = *s.storage.storage_class_name;
  }
  json ns = json::object();
  if (!s.name_server.addresses.empty()) ns["addresses"] = s.name_server.addresses;
  if (s.name_server.managed) ns["managed"] = true;
  out["nameServer"] = ns;
  json pod = json::object();
  if (!s.pod.labels.empty()) pod["labels"] = string_map(s.pod.labels);
  if (!s.pod.annotations.empty()) pod["annotations"] = string_map(s.pod.annotations);
  if (!s.pod.node_selector.empty()) pod["nodeSelector"] = string_map(s.pod.node_selector);
  if (!s.pod.tolerations.is_null()) pod["tolerations"] = s.pod.tolerations;
  if (!s.pod.affinity.is_null()) pod["affinity"] = s.pod.affinity;
  if (!s.pod.topology_spread_constraints.is_null()) {
    pod["topologySpreadConstraints"] = s.pod.topology_spread_constraints;
  }
  if (!s.pod.priority_class_name.empty()) pod["priorityClassName"] = s.pod.priority_class_name;
  if (!s.pod.service_account_name.empty()) {
    pod["serviceAccountName"] = s.pod.service_account_name;
  }
  out["pod"] = pod;
  if (s.preferred_leader) out["preferredLeader"] = *s.preferred_leader;
  if (s.admin_token_secret_ref) {
    out["adminTokenSecretRef"] = encode_secret_ref(*s.admin_token_secret_ref);
  }
  if (s.group_secret_ref) out["groupSecretRef"] = encode_secret_ref(*s.group_secret_ref);
  return out;
}

json encode_status(const DLedgerGroupStatus& s) {
  json out = {{"observedGeneration", s.observed_generation},
              {"replicas", s.replicas},
              {"readyReplicas", s.ready_replicas},
              {"selector", s.selector},
              {"term", s.term},
              {"members", json::array()},
              {"conditions", json::array()}};
  if (s.leader) out["leader"] = {{"pod", s.leader->pod}, {"id", s.leader->id}};
  for (const auto& m : s.members) {
    json member = {
        {"name", m.name}, {"id", m.id}, {"role", m.role}, {"voter", m.voter}, {"ready", m.ready}};
    if (m.lag) member["lag"] = *m.lag;
    out["members"].push_back(member);
  }
  for (const auto& c : s.conditions) {
    out["conditions"].push_back({{"type", c.type},
                                 {"status", c.status},
                                 {"reason", c.reason},
                                 {"message", c.message},
                                 {"lastTransitionTime", c.last_transition_time},
                                 {"observedGeneration", c.observed_generation}});
  }
  return out;
}

json encode_dledger_group(const DLedgerGroup& g) {
  json meta = {{"name", g.metadata.name}};
  if (!g.metadata.namespace_name.empty()) meta["namespace"] = g.metadata.namespace_name;
  if (!g.metadata.uid.empty()) meta["uid"] = g.metadata.uid;
  if (g.metadata.generation != 0) meta["generation"] = g.metadata.generation;
  if (!g.metadata.resource_version.empty()) {
    meta["resourceVersion"] = g.metadata.resource_version;
  }
  if (!g.metadata.creation_timestamp.empty()) {
    meta["creationTimestamp"] = g.metadata.creation_timestamp;
  }
  if (!g.metadata.labels.empty()) meta["labels"] = string_map(g.metadata.labels);
  if (!g.metadata.annotations.empty()) meta["annotations"] = string_map(g.metadata.annotations);
  return {{"apiVersion", kApiVersion},
          {"kind", kKind},
          {"metadata", meta},
          {"spec", encode_spec(g.spec)},
          {"status", encode_status(g.status)}};
}

}  // namespace dledger::op::api
