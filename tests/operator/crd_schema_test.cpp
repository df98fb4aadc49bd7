// The CRD (deploy/crds/dledger.io_dledgergroups.yaml) and the C++ API must agree: same defaults,
// same bounds, same patterns and enums, and the same fields rejected. This test reads the YAML
// and compares, so neither can drift without failing CI.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <set>

#include "operator/api/json_codec.h"
#include "operator/api/pattern.h"
#include "operator/api/validation.h"
#include "tests/operator/test_group.h"
#include "tests/operator/yaml_json.h"

namespace dledger::op::api {
namespace {

using nlohmann::json;

const json& crd() {
  static const json kCrd = testing::load_yaml_file(DLEDGER_CRD_PATH);
  return kCrd;
}
const json& version() {
  return crd()["spec"]["versions"][0];
}
const json& root_schema() {
  return version()["schema"]["openAPIV3Schema"];
}
const json& spec_schema() {
  return root_schema()["properties"]["spec"];
}

// Schema of a spec field, e.g. "electionTimeoutMs.min".
const json& spec_field(const std::string& dotted) {
  const json* node = &spec_schema();
  std::size_t begin = 0;
  while (begin <= dotted.size()) {
    const auto end = std::min(dotted.find('.', begin), dotted.size());
    node = &(*node)["properties"].at(dotted.substr(begin, end - begin));
    begin = end + 1;
  }
  return *node;
}

// Structural-schema defaulting as the API server applies it: absent properties with a default
// get it, recursively (so `default: {}` objects receive their children's defaults).
void apply_schema_defaults(const json& schema, json& value) {
  if (!value.is_object() || !schema.contains("properties")) return;
  for (const auto& [key, sub] : schema["properties"].items()) {
    if (!value.contains(key) && sub.contains("default")) value[key] = sub["default"];
    if (value.contains(key)) apply_schema_defaults(sub, value[key]);
  }
}

// The OpenAPI checks the API server runs (type, bounds, enum, pattern, lengths, required,
// unknown fields under strict validation). CEL rules are checked separately below.
void schema_validate(const json& schema, const json& v, const std::string& path,
                     std::set<std::string>& failed) {
  const std::string type = schema.value("type", "");
  const bool type_ok = type.empty() || (type == "integer" && v.is_number_integer()) ||
                       (type == "string" && v.is_string()) ||
                       (type == "boolean" && v.is_boolean()) ||
                       (type == "object" && v.is_object()) || (type == "array" && v.is_array()) ||
                       (type == "number" && v.is_number());
  if (!type_ok) {
    failed.insert(path);
    return;
  }
  if (schema.contains("minimum") && v.get<std::int64_t>() < schema["minimum"].get<std::int64_t>()) {
    failed.insert(path);
  }
  if (schema.contains("maximum") && v.get<std::int64_t>() > schema["maximum"].get<std::int64_t>()) {
    failed.insert(path);
  }
  if (schema.contains("enum") &&
      std::find(schema["enum"].begin(), schema["enum"].end(), v) == schema["enum"].end()) {
    failed.insert(path);
  }
  if (v.is_string()) {
    const auto s = v.get<std::string>();
    if (schema.contains("pattern") && !matches_pattern(schema["pattern"].get<std::string>(), s)) {
      failed.insert(path);
    }
    if (schema.contains("maxLength") && s.size() > schema["maxLength"].get<std::size_t>()) {
      failed.insert(path);
    }
    if (schema.contains("minLength") && s.size() < schema["minLength"].get<std::size_t>()) {
      failed.insert(path);
    }
  }
  if (v.is_object()) {
    if (schema.contains("maxProperties") && v.size() > schema["maxProperties"].get<std::size_t>()) {
      failed.insert(path);
    }
    for (const auto& req : schema.value("required", json::array())) {
      if (!v.contains(req.get<std::string>())) failed.insert(path + "." + req.get<std::string>());
    }
    const bool open = schema.value("x-kubernetes-preserve-unknown-fields", false);
    for (const auto& [key, value] : v.items()) {
      if (schema.contains("properties") && schema["properties"].contains(key)) {
        schema_validate(schema["properties"][key], value, path + "." + key, failed);
      } else if (schema.contains("additionalProperties")) {
        schema_validate(schema["additionalProperties"], value, path + "[" + key + "]", failed);
      } else if (!open) {
        failed.insert(path + "." + key);
      }
    }
  }
  if (v.is_array() && schema.contains("items")) {
    for (std::size_t i = 0; i < v.size(); ++i) {
      schema_validate(schema["items"], v[i], path + "[" + std::to_string(i) + "]", failed);
    }
  }
}

std::set<std::string> schema_errors(const json& spec_patch) {
  json spec = testing::group_with_spec(spec_patch)["spec"];
  apply_schema_defaults(spec_schema(), spec);
  std::set<std::string> failed;
  schema_validate(spec_schema(), spec, "spec", failed);
  return failed;
}

std::set<std::string> cpp_error_fields(const json& spec_patch) {
  std::set<std::string> fields;
  for (const auto& e : testing::admit_spec(spec_patch).errors) fields.insert(e.field);
  return fields;
}

TEST(CrdSchema, NamesMatchTheApiConstants) {
  EXPECT_EQ(crd()["apiVersion"], "apiextensions.k8s.io/v1");
  EXPECT_EQ(crd()["metadata"]["name"], std::string(kPlural) + "." + std::string(kGroup));
  EXPECT_EQ(crd()["spec"]["group"], kGroup);
  EXPECT_EQ(crd()["spec"]["scope"], "Namespaced");
  EXPECT_EQ(crd()["spec"]["names"]["kind"], kKind);
  EXPECT_EQ(crd()["spec"]["names"]["plural"], kPlural);
  EXPECT_EQ(crd()["spec"]["names"]["shortNames"], json::array({std::string(kShortName)}));
  ASSERT_EQ(crd()["spec"]["versions"].size(), 1u);
  EXPECT_EQ(version()["name"], kVersion);
  EXPECT_EQ(version()["served"], true);
  EXPECT_EQ(version()["storage"], true);
}

TEST(CrdSchema, StatusAndScaleSubresourcesPointAtReplicaFields) {
  const json& sub = version()["subresources"];
  EXPECT_EQ(sub["status"], json::object());
  EXPECT_EQ(sub["scale"]["specReplicasPath"], ".spec.replicas");
  EXPECT_EQ(sub["scale"]["statusReplicasPath"], ".status.replicas");
  EXPECT_EQ(sub["scale"]["labelSelectorPath"], ".status.selector");
  EXPECT_EQ(root_schema()["properties"]["status"]["properties"]["selector"]["type"], "string");
}

TEST(CrdSchema, PrinterColumnsShowReplicasReadyLeaderTermAge) {
  std::vector<std::pair<std::string, std::string>> columns;
  for (const auto& c : version()["additionalPrinterColumns"]) {
    columns.emplace_back(c["name"], c["jsonPath"]);
  }
  EXPECT_THAT(columns,
              ::testing::ElementsAre(
                  std::pair<std::string, std::string>{"Replicas", ".status.replicas"},
                  std::pair<std::string, std::string>{"Ready", ".status.readyReplicas"},
                  std::pair<std::string, std::string>{"Leader", ".status.leader.pod"},
                  std::pair<std::string, std::string>{"Term", ".status.term"},
                  std::pair<std::string, std::string>{"Age", ".metadata.creationTimestamp"}));
}

TEST(CrdSchema, IntegerBoundsAndDefaultsEqualTheCppConstants) {
  struct Row {
    std::string field;
    std::int64_t min, max, default_value;
  };
  const Row rows[] = {
      {"replicas", kMinReplicas, kMaxReplicas, kDefaultReplicas},
      {"electionTimeoutMs.min", kMinElectionTimeoutMs, kMaxElectionTimeoutMs,
       kDefaultElectionTimeoutMinMs},
      {"electionTimeoutMs.max", kMinElectionTimeoutMs, kMaxElectionTimeoutMs,
       kDefaultElectionTimeoutMaxMs},
      {"heartbeatIntervalMs", kMinHeartbeatIntervalMs, kMaxHeartbeatIntervalMs,
       kDefaultHeartbeatIntervalMs},
      {"ports.remoting", kMinPort, kMaxPort, kDefaultRemotingPort},
      {"ports.peer", kMinPort, kMaxPort, kDefaultPeerPort},
      {"ports.admin", kMinPort, kMaxPort, kDefaultAdminPort},
  };
  for (const auto& row : rows) {
    const json& f = spec_field(row.field);
    EXPECT_EQ(f["type"], "integer") << row.field;
    EXPECT_EQ(f["minimum"], row.min) << row.field;
    EXPECT_EQ(f["maximum"], row.max) << row.field;
    EXPECT_EQ(f["default"], row.default_value) << row.field;
  }
  EXPECT_EQ(spec_field("config")["maxProperties"], kMaxConfigEntries);
  EXPECT_EQ(spec_field("brokerName")["maxLength"], kMaxDnsLabelLength);
}

TEST(CrdSchema, StringDefaultsPatternsAndEnumsEqualTheCpp) {
  EXPECT_EQ(spec_field("storage.size")["default"], kDefaultStorageSize);
  EXPECT_EQ(spec_field("storage.size")["pattern"], kQuantityPattern);
  EXPECT_EQ(spec_field("monitoring.serviceMonitor.interval")["default"],
            kDefaultServiceMonitorInterval);
  EXPECT_EQ(spec_field("monitoring.serviceMonitor.interval")["pattern"], kDurationPattern);
  EXPECT_EQ(spec_field("monitoring.serviceMonitor.enabled")["default"], false);
  EXPECT_EQ(spec_field("brokerName")["pattern"], kDnsLabelPattern);
  EXPECT_EQ(spec_field("clusterName")["pattern"], kDnsLabelPattern);
  EXPECT_EQ(spec_field("preferredLeader")["pattern"], kPreferredLeaderPattern);
  EXPECT_EQ(spec_field("nameServer.addresses")["pattern"], kNameServerAddressesPattern);

  EXPECT_EQ(spec_field("flushMode")["enum"], json::array({"sync", "async"}));
  EXPECT_EQ(spec_field("flushMode")["default"], to_string(FlushMode::kSync));
  EXPECT_EQ(spec_field("imagePullPolicy")["enum"],
            json::array({"Always", "IfNotPresent", "Never"}));
  EXPECT_EQ(spec_field("imagePullPolicy")["default"], to_string(PullPolicy::kIfNotPresent));
  const RetentionPolicy defaults;
  EXPECT_EQ(spec_field("storage.retentionPolicy.whenDeleted")["enum"],
            json::array({"Retain", "Delete"}));
  EXPECT_EQ(spec_field("storage.retentionPolicy.whenDeleted")["default"],
            to_string(defaults.when_deleted));
  EXPECT_EQ(spec_field("storage.retentionPolicy.whenScaled")["default"],
            to_string(defaults.when_scaled));
  EXPECT_EQ(spec_schema()["required"], json::array({"image"}));
}

TEST(CrdSchema, SchemaDefaultingProducesExactlyTheDecodedDefaults) {
  // What the API server stores for a minimal spec (brokerName/clusterName are defaulted by the
  // operator from metadata.name, which a schema cannot do, so they are given here).
  json stored = {{"image", "dledger:test"}, {"brokerName", "g1"}, {"clusterName", "g1"}};
  apply_schema_defaults(spec_schema(), stored);
  auto decoded = decode_dledger_group(testing::minimal_group_json());
  ASSERT_TRUE(decoded.ok());
  EXPECT_EQ(stored, encode_spec(decoded.group.spec)) << stored.dump(2);
}

TEST(CrdSchema, OwnedConfigKeysAreExactlyThoseTheCelRuleRejects) {
  const json& rules = spec_field("config")["x-kubernetes-validations"];
  ASSERT_EQ(rules.size(), 1u);
  for (const char* field : {"rule", "messageExpression"}) {
    const std::string text = rules[0][field];
    std::set<std::string> in_rule;
    // Every single-quoted CEL string literal inside the list literal [...].
    const auto list = text.substr(text.find('['), text.find(']') - text.find('['));
    for (std::size_t open = list.find('\''); open != std::string::npos;) {
      const std::size_t close = list.find('\'', open + 1);
      in_rule.insert(list.substr(open + 1, close - open - 1));
      open = list.find('\'', close + 1);
    }
    std::set<std::string> owned;
    for (const auto& k : kOwnedConfigKeys) owned.insert(std::string(k.key));
    EXPECT_EQ(in_rule, owned) << field;
  }
}

TEST(CrdSchema, SchemaAndCppRejectTheSameFieldsForSchemaChecks) {
  const std::pair<json, std::string> cases[] = {
      {{{"replicas", 0}}, "spec.replicas"},
      {{{"replicas", 10}}, "spec.replicas"},
      {{{"replicas", "3"}}, "spec.replicas"},
      {{{"flushMode", "fast"}}, "spec.flushMode"},
      {{{"imagePullPolicy", "Sometimes"}}, "spec.imagePullPolicy"},
      {{{"brokerName", "Bad_Name"}}, "spec.brokerName"},
      {{{"brokerName", std::string(64, 'b')}}, "spec.brokerName"},
      {{{"clusterName", "-c"}}, "spec.clusterName"},
      {{{"preferredLeader", "n9"}}, "spec.preferredLeader"},
      {{{"preferredLeader", "leader"}}, "spec.preferredLeader"},
      {{{"electionTimeoutMs", {{"min", 10}}}}, "spec.electionTimeoutMs.min"},
      {{{"electionTimeoutMs", {{"min", 100}, {"max", 700000}}}}, "spec.electionTimeoutMs.max"},
      {{{"heartbeatIntervalMs", 5}}, "spec.heartbeatIntervalMs"},
      {{{"ports", {{"peer", 0}}}}, "spec.ports.peer"},
      {{{"ports", {{"admin", 65536}}}}, "spec.ports.admin"},
      {{{"storage", {{"size", "lots"}}}}, "spec.storage.size"},
      {{{"storage", {{"retentionPolicy", {{"whenScaled", "Keep"}}}}}},
       "spec.storage.retentionPolicy.whenScaled"},
      {{{"nameServer", {{"addresses", "a:1,b:2"}}}}, "spec.nameServer.addresses"},
      {{{"monitoring", {{"serviceMonitor", {{"interval", "soon"}}}}}},
       "spec.monitoring.serviceMonitor.interval"},
      {{{"adminTokenSecretRef", {{"name", "s"}}}}, "spec.adminTokenSecretRef.key"},
      {{{"config", {{"k", 1}}}}, "spec.config[k]"},
      {{{"replica", 3}}, "spec.replica"},
  };
  for (const auto& [patch, field] : cases) {
    EXPECT_THAT(schema_errors(patch), ::testing::Contains(field)) << patch.dump();
    EXPECT_THAT(cpp_error_fields(patch), ::testing::Contains(field)) << patch.dump();
  }
}

// Rules a schema cannot state as bounds are CEL rules; their fieldPath must be where the C++
// validation reports the error.
TEST(CrdSchema, CelRulesReportAtTheFieldsTheCppNames) {
  struct Case {
    json patch;
    std::string location;  // schema node carrying the rule ("spec", "spec.electionTimeoutMs")
    std::string cpp_field;
  };
  const Case cases[] = {
      {{{"replicas", 3}, {"preferredLeader", "n3"}}, "spec", "spec.preferredLeader"},
      {{{"heartbeatIntervalMs", 100}}, "spec", "spec.heartbeatIntervalMs"},
      {{{"electionTimeoutMs", {{"min", 300}, {"max", 200}}}},
       "spec.electionTimeoutMs",
       "spec.electionTimeoutMs.min"},
      {{{"config", {{"dLegerPeers", "x"}}}}, "spec.config", "spec.config[dLegerPeers]"},
      {{{"nameServer", {{"addresses", "a:1"}, {"managed", true}}}},
       "spec.nameServer",
       "spec.nameServer"},
  };
  for (const auto& c : cases) {
    EXPECT_TRUE(schema_errors(c.patch).empty()) << c.patch.dump() << " is a CEL-only case";
    EXPECT_THAT(cpp_error_fields(c.patch), ::testing::Contains(c.cpp_field)) << c.patch.dump();
    const json& node = c.location == "spec" ? spec_schema() : spec_field(c.location.substr(5));
    std::set<std::string> reported;
    for (const auto& rule : node["x-kubernetes-validations"]) {
      reported.insert(c.location + rule.value("fieldPath", ""));
    }
    // Map-key rules (config) report on the map; the C++ narrows to the key.
    const std::string expected = c.cpp_field.find('[') == std::string::npos
                                     ? c.cpp_field
                                     : c.cpp_field.substr(0, c.cpp_field.find('['));
    EXPECT_THAT(reported, ::testing::Contains(expected)) << c.patch.dump();
  }
}

TEST(CrdSchema, ValidSpecsPassBothSchemaAndCpp) {
  const json specs[] = {
      json::object(),
      {{"replicas", 5}, {"preferredLeader", "n4"}, {"storage", {{"size", "1.5Ti"}}}},
      {{"replicas", 1}, {"flushMode", "async"}, {"nameServer", {{"managed", true}}}},
      {{"electionTimeoutMs", {{"min", 1000}, {"max", 2000}}}, {"heartbeatIntervalMs", 200}},
      {{"pod", {{"affinity", {{"anything", {{"goes", 1}}}}}, {"tolerations", {{{"k", "v"}}}}}}},
  };
  for (const auto& spec : specs) {
    EXPECT_TRUE(schema_errors(spec).empty()) << spec.dump();
    EXPECT_TRUE(cpp_error_fields(spec).empty()) << spec.dump();
  }
}

TEST(CrdSchema, GoldenInputsPassTheSchema) {
  for (const char* name : {"replicas-1", "replicas-3", "replicas-5", "overrides",
                           "pod-and-monitoring", "scaling-3-to-5"}) {
    const json object =
        testing::load_yaml_file(std::string(DLEDGER_GOLDEN_DIR) + "/" + name + ".input.yaml");
    json spec = object["spec"];
    apply_schema_defaults(spec_schema(), spec);
    std::set<std::string> failed;
    schema_validate(spec_schema(), spec, "spec", failed);
    EXPECT_TRUE(failed.empty()) << name << ": " << json(failed).dump();
  }
}

// Structural schema: every object declares its properties, a value schema, or is explicitly open.
void expect_structural(const json& schema, const std::string& path) {
  if (schema.value("type", "") == "object") {
    EXPECT_TRUE(schema.contains("properties") || schema.contains("additionalProperties") ||
                schema.value("x-kubernetes-preserve-unknown-fields", false) || path == ".metadata")
        << path;
  }
  if (schema.contains("properties")) {
    for (const auto& [key, sub] : schema["properties"].items()) {
      expect_structural(sub, path + "." + key);
    }
  }
  if (schema.contains("items")) expect_structural(schema["items"], path + "[]");
  EXPECT_TRUE(schema.contains("type") || path.empty()) << path << " has no type";
}

TEST(CrdSchema, SchemaIsStructural) {
  expect_structural(root_schema(), "");
  EXPECT_FALSE(root_schema().contains("x-kubernetes-preserve-unknown-fields"));
  EXPECT_FALSE(spec_schema().contains("x-kubernetes-preserve-unknown-fields"));
}

}  // namespace
}  // namespace dledger::op::api
