// Reconciler against the in-repo API server with a fake replica admin API (member statuses are
// a map from admin address to /status).
#include "operator/controller/reconciler.h"

#include <gtest/gtest.h>

#include <map>

#include "tests/operator/controller/reconciler_fixture.h"

namespace dledger::op::controller {
namespace {

TEST_F(ReconcilerTest, NewGroupGetsOwnedObjectsWithOwnerReferencesAndNotReadyStatus) {
  const json group = create_group("g1", 3);
  const std::string uid = group["metadata"]["uid"];

  auto result = reconciler_->reconcile("default/g1");
  ASSERT_TRUE(result.ok()) << result.error().to_string();
  EXPECT_EQ(result->step.kind, StepKind::kCreateGroup);

  const std::vector<std::pair<kube::ResourceType, std::string>> owned = {
      {resources::kConfigMaps, "g1-config"},
      {resources::kServices, "g1-headless"},
      {resources::kServices, "g1"},
      {resources::kStatefulSets, "g1"},
      {resources::kPodDisruptionBudgets, "g1"}};
  for (const auto& [type, name] : owned) {
    auto object = client_->get(type, "default", name);
    ASSERT_TRUE(object.ok()) << object.error().to_string();
    const json& refs = (*object)["metadata"]["ownerReferences"];
    ASSERT_EQ(refs.size(), 1u) << name;
    EXPECT_EQ(refs[0]["uid"], uid) << name;
    EXPECT_EQ(refs[0]["kind"], "DLedgerGroup") << name;
    EXPECT_EQ(refs[0]["controller"], true) << name;
  }
  auto sts = client_->get(resources::kStatefulSets, "default", "g1");
  EXPECT_EQ((*sts)["spec"]["replicas"], 3);
  auto cm = client_->get(resources::kConfigMaps, "default", "g1-config");
  EXPECT_TRUE((*cm)["data"].contains("broker-2.conf"));

  auto stored = client_->get(resources::kDLedgerGroups, "default", "g1");
  ASSERT_TRUE(stored.ok());
  EXPECT_EQ((*stored)["metadata"]["annotations"][kBootstrapReplicasAnnotation], "3");
  const json& status = (*stored)["status"];
  EXPECT_EQ(status["observedGeneration"], 1);
  EXPECT_EQ(status["selector"],
            "app.kubernetes.io/component=broker,app.kubernetes.io/instance=g1,"
            "app.kubernetes.io/name=dledger");
  const api::Condition* ready = condition(result->status, "Ready");
  ASSERT_NE(ready, nullptr);
  EXPECT_EQ(ready->status, "False");
  const api::Condition* degraded = condition(result->status, "Degraded");
  ASSERT_NE(degraded, nullptr);
  EXPECT_EQ(degraded->reason, "NoLeader");
}

TEST_F(ReconcilerTest, HealthyGroupIsReadyWithLeaderAndMembersAndSecondPassChangesNothing) {
  create_group("g1", 3);
  ASSERT_TRUE(reconciler_->reconcile("default/g1").ok());
  admin_.healthy_group(3, 3);
  auto result = reconciler_->reconcile("default/g1");
  ASSERT_TRUE(result.ok()) << result.error().to_string();
  EXPECT_EQ(result->step.kind, StepKind::kSteady);
  const api::Condition* ready = condition(result->status, "Ready");
  ASSERT_NE(ready, nullptr);
  EXPECT_EQ(ready->status, "True") << ready->reason << ": " << ready->message;

  auto stored = client_->get(resources::kDLedgerGroups, "default", "g1");
  const json& status = (*stored)["status"];
  EXPECT_EQ(status["leader"]["pod"], "g1-0");
  EXPECT_EQ(status["leader"]["id"], "n0");
  EXPECT_EQ(status["term"], 4);
  EXPECT_EQ(status["readyReplicas"], 3);
  ASSERT_EQ(status["members"].size(), 3u);
  EXPECT_EQ(status["members"][1]["role"], "follower");

  const std::string sts_rv =
      client_->get(resources::kStatefulSets, "default", "g1")->at("metadata").at("resourceVersion");
  const std::string group_rv = (*stored)["metadata"]["resourceVersion"];
  ASSERT_TRUE(reconciler_->reconcile("default/g1").ok());
  EXPECT_EQ(
      client_->get(resources::kStatefulSets, "default", "g1")->at("metadata").at("resourceVersion"),
      sts_rv);
  EXPECT_EQ(client_->get(resources::kDLedgerGroups, "default", "g1")
                ->at("metadata")
                .at("resourceVersion"),
            group_rv);
}

TEST_F(ReconcilerTest, InvalidSpecGetsInvalidSpecConditionAndEventAndCreatesNothing) {
  create_group("bad", 3, {{"config", {{"dLegerPeers", "n0-x:1"}}}});
  auto result = reconciler_->reconcile("default/bad");
  ASSERT_TRUE(result.ok()) << result.error().to_string();

  auto stored = client_->get(resources::kDLedgerGroups, "default", "bad");
  ASSERT_TRUE(stored.ok());
  const json& conditions = (*stored)["status"]["conditions"];
  ASSERT_EQ(conditions.size(), 1u);
  EXPECT_EQ(conditions[0]["type"], "Ready");
  EXPECT_EQ(conditions[0]["status"], "False");
  EXPECT_EQ(conditions[0]["reason"], "InvalidSpec");
  EXPECT_NE(conditions[0]["message"].get<std::string>().find("spec.config[dLegerPeers]"),
            std::string::npos);

  EXPECT_TRUE(kube::is_not_found(client_->get(resources::kStatefulSets, "default", "bad").error()));
  EXPECT_TRUE(
      kube::is_not_found(client_->get(resources::kConfigMaps, "default", "bad-config").error()));
  auto events = client_->list(resources::kEvents, "default");
  ASSERT_TRUE(events.ok());
  ASSERT_EQ(events->items.size(), 1u);
  EXPECT_EQ(events->items[0]["reason"], "InvalidSpec");
  EXPECT_EQ(events->items[0]["involvedObject"]["name"], "bad");

  // Reconciling again does not repeat the Event.
  ASSERT_TRUE(reconciler_->reconcile("default/bad").ok());
  EXPECT_EQ(client_->list(resources::kEvents, "default")->items.size(), 1u);
}

TEST_F(ReconcilerTest, ScaleUpGrowsStatefulSetThenAddsTheNewPodAsLearnerAtTheLeader) {
  create_group("g1", 3);
  ASSERT_TRUE(reconciler_->reconcile("default/g1").ok());
  admin_.healthy_group(3, 3);
  ASSERT_TRUE(
      client_->patch(resources::kDLedgerGroups, "default", "g1", {{"spec", {{"replicas", 4}}}})
          .ok());

  auto grow = reconciler_->reconcile("default/g1");
  ASSERT_TRUE(grow.ok()) << grow.error().to_string();
  EXPECT_EQ(grow->step.kind, StepKind::kScaleStatefulSet);
  EXPECT_EQ(client_->get(resources::kStatefulSets, "default", "g1")->at("spec").at("replicas"), 4);
  auto cm = client_->get(resources::kConfigMaps, "default", "g1-config");
  ASSERT_TRUE((*cm)["data"].contains("broker-3.conf"));
  EXPECT_NE((*cm)["data"]["broker-3.conf"].get<std::string>().find("dLegerJoining=true"),
            std::string::npos);
  const api::Condition* progressing = condition(grow->status, "Progressing");
  ASSERT_NE(progressing, nullptr);
  EXPECT_EQ(progressing->status, "True");
  EXPECT_EQ(progressing->reason, "ScalingUp");

  admin_.healthy_group(3, 4);  // pod 3 answers, outside the membership
  auto add = reconciler_->reconcile("default/g1");
  ASSERT_TRUE(add.ok()) << add.error().to_string();
  EXPECT_EQ(add->step.kind, StepKind::kAddLearner);
  ASSERT_EQ(admin_.calls.size(), 1u);
  EXPECT_EQ(admin_.calls[0], "add_learner pod-0 n3 g1-3.g1-headless.default.svc:40911");
}

TEST_F(ReconcilerTest, MissingGroupIsNotAnError) {
  auto result = reconciler_->reconcile("default/nope");
  ASSERT_TRUE(result.ok());
  EXPECT_EQ(result->step.kind, StepKind::kSteady);
}

TEST(JsonContains, ServerDefaultedFieldsAreNotDifferencesButChangedValuesAre) {
  const json live = {{"spec", {{"replicas", 3}, {"revisionHistoryLimit", 10}}},
                     {"metadata", {{"name", "a"}, {"resourceVersion", "5"}}}};
  EXPECT_TRUE(json_contains(live, {{"spec", {{"replicas", 3}}}}));
  EXPECT_FALSE(json_contains(live, {{"spec", {{"replicas", 4}}}}));
  const json merged = json_overlay(live, {{"spec", {{"replicas", 4}}}});
  EXPECT_EQ(merged["spec"]["replicas"], 4);
  EXPECT_EQ(merged["spec"]["revisionHistoryLimit"], 10);
}

}  // namespace
}  // namespace dledger::op::controller

namespace dledger::op::controller {
namespace {

TEST_F(ReconcilerTest, LeaderChangeGetsOneEventNamingOldAndNewLeader) {
  create_group("g1", 3);
  ASSERT_TRUE(reconciler_->reconcile("default/g1").ok());
  admin_.healthy_group(3, 3);
  ASSERT_TRUE(reconciler_->reconcile("default/g1").ok());
  ASSERT_TRUE(reconciler_->reconcile("default/g1").ok());  // same leader: no second Event
  auto leader_events = [&] {
    std::vector<std::string> messages;
    for (const auto& event : events(kLeaderChangedReason)) messages.push_back(event["message"]);
    return messages;
  };
  ASSERT_EQ(leader_events().size(), 1u);
  EXPECT_EQ(leader_events()[0], "g1-0 (n0) leads in term 4; previously no leader");

  // n1 wins an election in term 5.
  admin_.statuses["pod-0"].role = admin::kRoleFollower;
  admin_.statuses["pod-0"].leader_id = "n1";
  admin_.statuses["pod-1"].role = admin::kRoleLeader;
  admin_.statuses["pod-1"].term = 5;
  admin_.statuses["pod-1"].leader_id = "n1";
  auto result = reconciler_->reconcile("default/g1");
  ASSERT_TRUE(result.ok()) << result.error().to_string();
  ASSERT_TRUE(result->status.leader.has_value());
  EXPECT_EQ(result->status.leader->pod, "g1-1");
  const auto messages = leader_events();
  ASSERT_EQ(messages.size(), 2u);
  EXPECT_NE(std::find(messages.begin(), messages.end(),
                      "g1-1 (n1) leads in term 5; previously g1-0 in term 4"),
            messages.end());
}

}  // namespace
}  // namespace dledger::op::controller
