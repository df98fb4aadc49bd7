#include "operator/api/validation.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tests/operator/test_group.h"

namespace dledger::op::api {
namespace {

using testing::admit_spec;
using ::testing::Contains;
using testing::errors_of;
using testing::group_with_spec;
using ::testing::HasSubstr;

TEST(Validation, MinimalSpecIsValidWithoutWarnings) {
  auto a = admit_spec({});
  EXPECT_TRUE(a.ok()) << errors_of(a);
  EXPECT_TRUE(a.warnings.empty());
}

TEST(Validation, ZeroReplicasRejectedNamingTheField) {
  auto a = admit_spec({{"replicas", 0}});
  EXPECT_EQ(errors_of(a), "spec.replicas: Invalid value: 0: must be greater than or equal to 1");
}

TEST(Validation, TenReplicasRejectedNamingTheField) {
  auto a = admit_spec({{"replicas", 10}});
  EXPECT_EQ(errors_of(a), "spec.replicas: Invalid value: 10: must be less than or equal to 9");
}

TEST(Validation, EvenReplicaCountWarnsButIsAccepted) {
  auto a = admit_spec({{"replicas", 4}});
  EXPECT_TRUE(a.ok()) << errors_of(a);
  ASSERT_EQ(a.warnings.size(), 1u);
  EXPECT_THAT(a.warnings[0], HasSubstr("spec.replicas: 4 members tolerate 1 failure(s)"));
}

TEST(Validation, UnknownFlushModeListsSupportedValues) {
  auto a = admit_spec({{"flushMode", "fast"}});
  EXPECT_EQ(errors_of(a),
            "spec.flushMode: Unsupported value: \"fast\": supported values: \"sync\", \"async\"");
}

TEST(Validation, ElectionTimeoutMinMustBeBelowMax) {
  auto a = admit_spec({{"electionTimeoutMs", {{"min", 300}, {"max", 300}}}});
  EXPECT_EQ(errors_of(a),
            "spec.electionTimeoutMs.min: Invalid value: 300: must be less than "
            "spec.electionTimeoutMs.max (300)");
  auto b = admit_spec({{"electionTimeoutMs", {{"min", 400}}}});
  EXPECT_THAT(errors_of(b), HasSubstr("spec.electionTimeoutMs.min: Invalid value: 400"));
}

TEST(Validation, HeartbeatMustBeAtMostHalfTheElectionTimeout) {
  auto a = admit_spec({{"heartbeatIntervalMs", 100}, {"electionTimeoutMs", {{"min", 150}}}});
  EXPECT_EQ(errors_of(a),
            "spec.heartbeatIntervalMs: Invalid value: 100: must be at most half of "
            "spec.electionTimeoutMs.min (150)");
}

TEST(Validation, EveryOperatorOwnedConfigKeyIsRejectedNamingTheKey) {
  for (const auto& owned : kOwnedConfigKeys) {
    const std::string key(owned.key);
    auto a = admit_spec({{"config", {{key, "x"}}}});
    ASSERT_EQ(a.errors.size(), 1u) << key;
    EXPECT_EQ(a.errors[0].field, "spec.config[" + key + "]");
    EXPECT_EQ(a.errors[0].type, FieldError::Type::kForbidden);
    EXPECT_THAT(a.errors[0].to_string(),
                HasSubstr("spec.config[" + key + "]: Forbidden: owned by the operator"));
  }
  auto peers = admit_spec({{"config", {{"dLegerPeers", "n0-a:1"}}}});
  EXPECT_EQ(errors_of(peers),
            "spec.config[dLegerPeers]: Forbidden: owned by the operator (derived from "
            "spec.replicas and the pod DNS names)");
}

TEST(Validation, OrdinaryConfigOverridesAreAccepted) {
  auto a = admit_spec({{"config", {{"fileReservedTime", "24"}, {"maxPendingAppends", "5000"}}}});
  EXPECT_TRUE(a.ok()) << errors_of(a);
}

TEST(Validation, MultiLineConfigValueRejected) {
  auto a = admit_spec({{"config", {{"fileReservedTime", "24\ndLegerPeers=x"}}}});
  EXPECT_THAT(errors_of(a), HasSubstr("spec.config[fileReservedTime]: Invalid value"));
}

TEST(Validation, BrokerNameMustBeADnsLabel) {
  auto a = admit_spec({{"brokerName", "Broker_A"}});
  EXPECT_EQ(errors_of(a),
            "spec.brokerName: Invalid value: \"Broker_A\": spec.brokerName in body should match "
            "'^[a-z0-9]([-a-z0-9]*[a-z0-9])?$'");
  auto b = admit_spec({{"brokerName", std::string(64, 'a')}});
  EXPECT_EQ(errors_of(b), "spec.brokerName: Too long: may not be more than 63 bytes");
}

TEST(Validation, PreferredLeaderMustBeBelowReplicas) {
  auto a = admit_spec({{"replicas", 3}, {"preferredLeader", "n3"}});
  EXPECT_EQ(errors_of(a),
            "spec.preferredLeader: Invalid value: \"n3\": must name a member below spec.replicas "
            "(3): n0..n2");
  EXPECT_TRUE(admit_spec({{"replicas", 3}, {"preferredLeader", "n2"}}).ok());
}

TEST(Validation, PreferredLeaderMustLookLikeAMemberId) {
  auto a = admit_spec({{"preferredLeader", "leader"}});
  EXPECT_EQ(errors_of(a),
            "spec.preferredLeader: Invalid value: \"leader\": spec.preferredLeader in body should "
            "match '^n[0-8]$'");
}

TEST(Validation, ImageIsRequired) {
  auto object = testing::minimal_group_json();
  object["spec"].erase("image");
  auto a = admit_dledger_group(object);
  EXPECT_EQ(errors_of(a), "spec.image: Required value");
}

TEST(Validation, WrongJsonTypeNamesFieldAndType) {
  auto a = admit_spec({{"replicas", "three"}});
  EXPECT_EQ(errors_of(a),
            "spec.replicas: Invalid value: \"string\": spec.replicas in body must be of type "
            "integer: \"string\"");
  auto b = admit_spec({{"ports", {{"peer", 4.5}}}});
  EXPECT_THAT(errors_of(b), HasSubstr("spec.ports.peer: Invalid value: \"number\""));
}

TEST(Validation, UnknownSpecFieldRejectedAsStrictDecodingWould) {
  auto a = admit_spec({{"replica", 3}, {"storage", {{"sise", "1Gi"}}}});
  EXPECT_EQ(errors_of(a), "unknown field \"spec.replica\"\nunknown field \"spec.storage.sise\"");
}

TEST(Validation, PortsMustBeInRangeAndDistinct) {
  auto a = admit_spec({{"ports", {{"admin", 70000}}}});
  EXPECT_EQ(errors_of(a),
            "spec.ports.admin: Invalid value: 70000: must be less than or equal to 65535");
  auto b = admit_spec({{"ports", {{"peer", 10911}}}});
  EXPECT_EQ(errors_of(b), "spec.ports.peer: Duplicate value: 10911");
}

TEST(Validation, StorageSizeMustBeAPositiveQuantity) {
  EXPECT_THAT(errors_of(admit_spec({{"storage", {{"size", "ten gigs"}}}})),
              HasSubstr("spec.storage.size: Invalid value: \"ten gigs\""));
  EXPECT_EQ(errors_of(admit_spec({{"storage", {{"size", "0"}}}})),
            "spec.storage.size: Invalid value: \"0\": must be greater than zero");
  EXPECT_EQ(errors_of(admit_spec({{"storage", {{"retentionPolicy", {{"whenDeleted", "Keep"}}}}}})),
            "spec.storage.retentionPolicy.whenDeleted: Unsupported value: \"Keep\": supported "
            "values: \"Retain\", \"Delete\"");
}

TEST(Validation, NameServerAddressesAndManagedAreExclusive) {
  auto a = admit_spec({{"nameServer", {{"addresses", "ns:9876"}, {"managed", true}}}});
  EXPECT_EQ(errors_of(a),
            "spec.nameServer: Invalid value: \"object\": addresses and managed are mutually "
            "exclusive");
  EXPECT_THAT(errors_of(admit_spec({{"nameServer", {{"addresses", "ns1:9876,ns2:9876"}}}})),
              HasSubstr("spec.nameServer.addresses: Invalid value: \"ns1:9876,ns2:9876\""));
  EXPECT_TRUE(admit_spec({{"nameServer", {{"addresses", "ns1:9876;ns2.x.svc:9876"}}}}).ok());
}

TEST(Validation, OperatorSelectorLabelsCannotBeOverridden) {
  auto a = admit_spec({{"pod", {{"labels", {{"app.kubernetes.io/instance", "other"}}}}}});
  EXPECT_EQ(errors_of(a),
            "spec.pod.labels[app.kubernetes.io/instance]: Forbidden: set by the operator; it "
            "selects the group's pods");
  EXPECT_THAT(errors_of(admit_spec({{"pod", {{"labels", {{"team", "a b"}}}}}})),
              HasSubstr("spec.pod.labels[team]: Invalid value: \"a b\""));
}

TEST(Validation, SecretRefsNeedNameAndKey) {
  auto a = admit_spec({{"adminTokenSecretRef", {{"name", "tok"}}}});
  EXPECT_EQ(errors_of(a), "spec.adminTokenSecretRef.key: Required value");
}

TEST(Validation, ServiceMonitorIntervalMustBeADuration) {
  auto a = admit_spec({{"monitoring", {{"serviceMonitor", {{"interval", "30 seconds"}}}}}});
  EXPECT_THAT(errors_of(a), HasSubstr("spec.monitoring.serviceMonitor.interval: Invalid value"));
}

TEST(Validation, ResourceNameMustKeepDerivedNamesValid) {
  auto object = testing::minimal_group_json();
  object["metadata"]["name"] = std::string(53, 'g');
  EXPECT_EQ(errors_of(admit_dledger_group(object)),
            "metadata.name: Too long: may not be more than 52 bytes");
  object["metadata"]["name"] = "1group";
  EXPECT_THAT(errors_of(admit_dledger_group(object)),
              HasSubstr("metadata.name: Invalid value: \"1group\""));
}

TEST(Validation, AllErrorsAreReportedAtOnce) {
  auto a = admit_spec({{"replicas", 10}, {"heartbeatIntervalMs", 5}, {"brokerName", "A"}});
  std::vector<std::string> fields;
  for (const auto& e : a.errors) fields.push_back(e.field);
  EXPECT_THAT(fields, Contains("spec.replicas"));
  EXPECT_THAT(fields, Contains("spec.heartbeatIntervalMs"));
  EXPECT_THAT(fields, Contains("spec.brokerName"));
}

TEST(Validation, WrongApiVersionOrKindRejected) {
  auto object = testing::minimal_group_json();
  object["kind"] = "StatefulSet";
  EXPECT_EQ(errors_of(admit_dledger_group(object)),
            "kind: Unsupported value: \"StatefulSet\": supported values: \"DLedgerGroup\"");
  EXPECT_EQ(errors_of(admit_dledger_group(nlohmann::json::array())),
            "<root>: Invalid value: \"array\": a DLedgerGroup must be a JSON object");
}

TEST(Validation, MemberOrdinalParsesIds) {
  EXPECT_EQ(member_ordinal("n0"), 0);
  EXPECT_EQ(member_ordinal("n12"), 12);
  EXPECT_EQ(member_ordinal("x1"), -1);
  EXPECT_EQ(member_ordinal("n"), -1);
  EXPECT_EQ(member_ordinal("n1a"), -1);
}

}  // namespace
}  // namespace dledger::op::api
