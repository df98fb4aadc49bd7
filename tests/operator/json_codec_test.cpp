#include "operator/api/json_codec.h"

#include <gtest/gtest.h>

#include "tests/operator/test_group.h"

namespace dledger::op::api {
namespace {

TEST(JsonCodec, MinimalSpecDecodesWithEveryDefault) {
  auto decoded = decode_dledger_group(testing::minimal_group_json());
  ASSERT_TRUE(decoded.ok()) << to_string(decoded.errors);
  const DLedgerGroupSpec& s = decoded.group.spec;
  EXPECT_EQ(s.replicas, 3);
  EXPECT_EQ(s.image, "dledger:test");
  EXPECT_EQ(s.image_pull_policy, PullPolicy::kIfNotPresent);
  EXPECT_EQ(s.broker_name, "g1");
  EXPECT_EQ(s.cluster_name, "g1");
  EXPECT_EQ(s.storage.size, "10Gi");
  EXPECT_EQ(s.storage.retention_policy.when_deleted, RetentionAction::kRetain);
  EXPECT_EQ(s.storage.retention_policy.when_scaled, RetentionAction::kDelete);
  EXPECT_EQ(s.flush_mode, FlushMode::kSync);
  EXPECT_EQ(s.election_timeout_ms.min_ms, 150);
  EXPECT_EQ(s.election_timeout_ms.max_ms, 300);
  EXPECT_EQ(s.heartbeat_interval_ms, 50);
  EXPECT_EQ(s.ports.remoting, 10911);
  EXPECT_EQ(s.ports.peer, 40911);
  EXPECT_EQ(s.ports.admin, 10980);
  EXPECT_FALSE(s.monitoring.service_monitor.enabled);
  EXPECT_EQ(s.monitoring.service_monitor.interval, "30s");
  EXPECT_FALSE(s.preferred_leader.has_value());
  EXPECT_EQ(decoded.group.metadata.namespace_name, "default");
  EXPECT_EQ(decoded.group.metadata.uid, "uid-g1");
  EXPECT_EQ(decoded.group.metadata.generation, 1);
}

TEST(JsonCodec, ExplicitBrokerAndClusterNamesWinOverResourceName) {
  auto decoded = decode_dledger_group(
      testing::group_with_spec({{"brokerName", "broker-a"}, {"clusterName", "c1"}}));
  ASSERT_TRUE(decoded.ok());
  EXPECT_EQ(decoded.group.spec.broker_name, "broker-a");
  EXPECT_EQ(decoded.group.spec.cluster_name, "c1");
}

TEST(JsonCodec, FullObjectRoundTripsThroughEncode) {
  nlohmann::json object = testing::group_with_spec({
      {"replicas", 5},
      {"imagePullPolicy", "Always"},
      {"storage",
       {{"size", "50Gi"},
        {"storageClassName", "fast"},
        {"retentionPolicy", {{"whenDeleted", "Delete"}, {"whenScaled", "Retain"}}}}},
      {"resources", {{"requests", {{"cpu", "1"}, {"memory", "2Gi"}}}}},
      {"config", {{"fileReservedTime", "24"}}},
      {"flushMode", "async"},
      {"electionTimeoutMs", {{"min", 500}, {"max", 1000}}},
      {"heartbeatIntervalMs", 100},
      {"nameServer", {{"addresses", "ns-0:9876;ns-1:9876"}}},
      {"ports", {{"remoting", 1}, {"peer", 2}, {"admin", 3}}},
      {"pod",
       {{"labels", {{"team", "mq"}}},
        {"annotations", {{"a", "b"}}},
        {"nodeSelector", {{"disk", "ssd"}}},
        {"tolerations", {{{"key", "k"}, {"operator", "Exists"}}}},
        {"affinity", {{"podAntiAffinity", nlohmann::json::object()}}},
        {"topologySpreadConstraints", {{{"maxSkew", 1}}}},
        {"priorityClassName", "high"},
        {"serviceAccountName", "sa"}}},
      {"monitoring", {{"serviceMonitor", {{"enabled", true}, {"interval", "15s"}}}}},
      {"preferredLeader", "n1"},
      {"adminTokenSecretRef", {{"name", "s"}, {"key", "token"}}},
      {"groupSecretRef", {{"name", "s"}, {"key", "secret"}}},
  });
  object["status"] = {
      {"observedGeneration", 1},
      {"replicas", 5},
      {"readyReplicas", 4},
      {"selector", "app.kubernetes.io/instance=g1"},
      {"leader", {{"pod", "g1-1"}, {"id", "n1"}}},
      {"term", 7},
      {"members",
       {{{"name", "g1-1"},
         {"id", "n1"},
         {"role", "leader"},
         {"voter", true},
         {"ready", true},
         {"lag", 0}},
        {{"name", "g1-4"}, {"id", "n4"}, {"role", "learner"}, {"voter", false}, {"ready", false}}}},
      {"conditions",
       {{{"type", "Ready"},
         {"status", "False"},
         {"reason", "MemberCatchingUp"},
         {"message", "n4 is 120 entries behind"},
         {"lastTransitionTime", "2026-01-01T00:00:00Z"},
         {"observedGeneration", 1}}}}};
  auto first = decode_dledger_group(object);
  ASSERT_TRUE(first.ok()) << to_string(first.errors);
  EXPECT_EQ(first.group.spec.pod.tolerations[0]["operator"], "Exists");
  EXPECT_EQ(first.group.status.members[1].voter, false);
  EXPECT_FALSE(first.group.status.members[1].lag.has_value());
  auto second = decode_dledger_group(encode_dledger_group(first.group));
  ASSERT_TRUE(second.ok()) << to_string(second.errors);
  EXPECT_EQ(second.group, first.group);
}

TEST(JsonCodec, MissingSpecIsRequired) {
  auto object = testing::minimal_group_json();
  object.erase("spec");
  EXPECT_EQ(to_string(decode_dledger_group(object).errors), "spec: Required value");
}

TEST(JsonCodec, NullFieldsCountAsAbsent) {
  auto decoded = decode_dledger_group(testing::group_with_spec({{"replicas", nullptr}}));
  ASSERT_TRUE(decoded.ok());
  EXPECT_EQ(decoded.group.spec.replicas, 3);
}

TEST(JsonCodec, BadStatusEntriesNamePathWithIndex) {
  auto object = testing::minimal_group_json();
  object["status"] = {{"members", {{{"id", "n0"}}, 5}}};
  EXPECT_EQ(to_string(decode_dledger_group(object).errors),
            "status.members[1]: Invalid value: \"integer\": status.members[1] in body must be of "
            "type object: \"integer\"");
}

TEST(JsonCodec, NonStringConfigValueNamesTheKey) {
  auto decoded = decode_dledger_group(testing::group_with_spec({{"config", {{"a", 1}}}}));
  EXPECT_EQ(to_string(decoded.errors),
            "spec.config[a]: Invalid value: \"integer\": spec.config[a] in body must be of type "
            "string: \"integer\"");
}

}  // namespace
}  // namespace dledger::op::api
