// Rolling updates, the admin token and Event deduplication through the reconciler, against the
// in-repo API server. The test plays the StatefulSet controller: it sets the StatefulSet's
// status.updateRevision and (re)creates pods with controller-revision-hash labels.
#include <gtest/gtest.h>

#include <algorithm>

#include "operator/controller/reconciler.h"
#include "tests/operator/controller/reconciler_fixture.h"

namespace dledger::op::controller {
namespace {

class RolloutTest : public ReconcilerTest {
 protected:
  // What a StatefulSet controller does: status.updateRevision for the current generation.
  void set_update_revision(const std::string& revision) {
    auto sts = client_->get(resources::kStatefulSets, "default", "g1");
    ASSERT_TRUE(sts.ok());
    json object = *sts;
    object["status"] = {{"observedGeneration", object["metadata"]["generation"]},
                        {"replicas", object["spec"]["replicas"]},
                        {"updateRevision", revision}};
    ASSERT_TRUE(client_->update_status(resources::kStatefulSets, "default", object).ok());
  }

  // Pod g1-<ordinal> created from `revision` with `image`, Ready.
  void create_pod(int ordinal, const std::string& revision, const std::string& image) {
    json pod = {{"apiVersion", "v1"},
                {"kind", "Pod"},
                {"metadata",
                 {{"name", "g1-" + std::to_string(ordinal)},
                  {"labels",
                   {{"app.kubernetes.io/name", "dledger"},
                    {"app.kubernetes.io/instance", "g1"},
                    {"app.kubernetes.io/component", "broker"},
                    {kControllerRevisionHashLabel, revision}}}}},
                {"spec", {{"containers", {{{"name", "broker"}, {"image", image}}}}}}};
    auto created = client_->create(resources::kPods, "default", pod);
    ASSERT_TRUE(created.ok()) << created.error().to_string();
    json object = *created;
    object["status"] = {{"phase", "Running"},
                        {"conditions", {{{"type", "Ready"}, {"status", "True"}}}}};
    ASSERT_TRUE(client_->update_status(resources::kPods, "default", object).ok());
  }

  bool pod_exists(int ordinal) {
    return client_->get(resources::kPods, "default", "g1-" + std::to_string(ordinal)).ok();
  }

  // A created, healthy 3-member group whose pods run revision "rev1".
  void steady_group() {
    create_group("g1", 3);
    ASSERT_TRUE(reconciler_->reconcile("default/g1").ok());
    admin_.healthy_group(3, 3);
    set_update_revision("rev1");
    for (int i = 0; i < 3; ++i) create_pod(i, "rev1", "registry.example/dledger:1");
    auto steady = reconciler_->reconcile("default/g1");
    ASSERT_TRUE(steady.ok()) << steady.error().to_string();
    ASSERT_EQ(steady->step.kind, StepKind::kSteady) << steady->step.message;
  }
};

TEST_F(RolloutTest, ImageChangeRestartsFollowersOneAtATimeThenTheLeaderAfterATransfer) {
  steady_group();
  ASSERT_TRUE(client_
                  ->patch(resources::kDLedgerGroups, "default", "g1",
                          {{"spec", {{"image", "registry.example/dledger:2"}}}})
                  .ok());

  // The template changes; until the StatefulSet controller saw it, nothing is restarted.
  auto updated = reconciler_->reconcile("default/g1");
  ASSERT_TRUE(updated.ok()) << updated.error().to_string();
  EXPECT_EQ(updated->step.kind, StepKind::kWait);
  auto sts = client_->get(resources::kStatefulSets, "default", "g1");
  EXPECT_EQ((*sts)["spec"]["template"]["spec"]["containers"][0]["image"],
            "registry.example/dledger:2");
  EXPECT_EQ((*sts)["spec"]["updateStrategy"]["type"], "OnDelete");
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(pod_exists(i));
  const api::Condition* progressing = condition(updated->status, "Progressing");
  ASSERT_NE(progressing, nullptr);
  EXPECT_EQ(progressing->status, "True");
  EXPECT_EQ(progressing->reason, "RollingUpdate");

  set_update_revision("rev2");
  std::vector<int> restarted;
  for (int pass = 0; pass < 12 && restarted.size() < 3; ++pass) {
    auto result = reconciler_->reconcile("default/g1");
    ASSERT_TRUE(result.ok()) << result.error().to_string();
    if (result->step.kind == StepKind::kRestartPod) {
      const int ordinal = result->step.ordinal;
      EXPECT_EQ(result->step.cause, kCauseImageChanged);
      EXPECT_TRUE(result->performed);
      EXPECT_FALSE(pod_exists(ordinal)) << "pod " << ordinal << " was not deleted";
      restarted.push_back(ordinal);
      // Before the StatefulSet recreated it, the next pass deletes nothing (it waits while
      // other pods are outdated; after the last one the rollout itself is done).
      auto waiting = reconciler_->reconcile("default/g1");
      ASSERT_TRUE(waiting.ok());
      EXPECT_EQ(waiting->step.kind, restarted.size() < 3 ? StepKind::kWait : StepKind::kSteady)
          << waiting->step.message;
      for (int i = 0; i < 3; ++i) {
        if (i != ordinal) {
          EXPECT_TRUE(pod_exists(i)) << "two pods down at once";
        }
      }
      create_pod(ordinal, "rev2", "registry.example/dledger:2");
    } else if (result->step.kind == StepKind::kTransferLeadership) {
      EXPECT_EQ(result->step.ordinal, 0);
      EXPECT_EQ(result->step.reason, "RollingUpdate");
      ASSERT_FALSE(admin_.calls.empty());
      EXPECT_EQ(admin_.calls.back(), "transfer pod-0 n" + std::to_string(result->step.target));
      EXPECT_EQ(restarted.size(), 2u) << "leader moved before the followers were updated";
      admin_.healthy_group(3, 3, result->step.target);
    } else {
      ASSERT_EQ(result->step.kind, StepKind::kWait) << result->step.message;
    }
  }
  EXPECT_EQ(restarted, (std::vector<int>{2, 1, 0}));
  auto done = reconciler_->reconcile("default/g1");
  ASSERT_TRUE(done.ok());
  EXPECT_EQ(done->step.kind, StepKind::kSteady) << done->step.message;
  const api::Condition* ready = condition(done->status, "Ready");
  ASSERT_NE(ready, nullptr);
  EXPECT_EQ(ready->status, "True") << ready->message;
  EXPECT_EQ(events("RestartPod").size(), 3u);
}

TEST_F(RolloutTest, RestartWaitsWhileAFollowerIsUnreachableFromTheLeader) {
  steady_group();
  ASSERT_TRUE(client_
                  ->patch(resources::kDLedgerGroups, "default", "g1",
                          {{"spec", {{"config", {{"maxMessageSize", "1048576"}}}}}})
                  .ok());
  ASSERT_TRUE(reconciler_->reconcile("default/g1").ok());
  set_update_revision("rev2");
  admin_.statuses["pod-0"].members[1].reachable = false;
  auto result = reconciler_->reconcile("default/g1");
  ASSERT_TRUE(result.ok());
  EXPECT_EQ(result->step.kind, StepKind::kWait);
  EXPECT_NE(result->step.message.find("n1 is not reachable"), std::string::npos)
      << result->step.message;
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(pod_exists(i));

  admin_.statuses["pod-0"].members[1].reachable = true;
  auto restart = reconciler_->reconcile("default/g1");
  ASSERT_TRUE(restart.ok());
  EXPECT_EQ(restart->step.kind, StepKind::kRestartPod);
  EXPECT_EQ(restart->step.cause, kCauseConfigChanged);
}

TEST_F(RolloutTest, RestartedOperatorContinuesTheRolloutFromThePodsItSees) {
  steady_group();
  ASSERT_TRUE(client_
                  ->patch(resources::kDLedgerGroups, "default", "g1",
                          {{"spec", {{"image", "registry.example/dledger:2"}}}})
                  .ok());
  ASSERT_TRUE(reconciler_->reconcile("default/g1").ok());
  set_update_revision("rev2");
  // Pod 2 was restarted by an earlier operator process and is back on the new revision.
  ASSERT_TRUE(client_->delete_object(resources::kPods, "default", "g1-2").ok());
  create_pod(2, "rev2", "registry.example/dledger:2");

  Reconciler fresh(*client_, admin_, [](const api::DLedgerGroup&, int ordinal) {
    return "pod-" + std::to_string(ordinal);
  });
  auto result = fresh.reconcile("default/g1");
  ASSERT_TRUE(result.ok()) << result.error().to_string();
  EXPECT_EQ(result->step.kind, StepKind::kRestartPod);
  EXPECT_EQ(result->step.ordinal, 1);
}

TEST_F(ReconcilerTest, MutatingAdminCallsCarryTheTokenFromTheSecret) {
  json secret = {{"apiVersion", "v1"},
                 {"kind", "Secret"},
                 {"metadata", {{"name", "admin-token"}}},
                 {"data", {{"token", "czNjcmV0LXRva2Vu"}}}};  // "s3cret-token"
  ASSERT_TRUE(client_->create(resources::kSecrets, "default", secret).ok());
  create_group("g1", 3, {{"adminTokenSecretRef", {{"name", "admin-token"}, {"key", "token"}}}});
  ASSERT_TRUE(reconciler_->reconcile("default/g1").ok());
  auto sts = client_->get(resources::kStatefulSets, "default", "g1");
  const json& env = (*sts)["spec"]["template"]["spec"]["containers"][0]["env"];
  EXPECT_NE(env.dump().find("\"secretKeyRef\":{\"key\":\"token\",\"name\":\"admin-token\"}"),
            std::string::npos)
      << env.dump();

  admin_.healthy_group(3, 3);
  ASSERT_TRUE(
      client_->patch(resources::kDLedgerGroups, "default", "g1", {{"spec", {{"replicas", 4}}}})
          .ok());
  ASSERT_TRUE(reconciler_->reconcile("default/g1").ok());  // StatefulSet 3 -> 4
  admin_.healthy_group(3, 4);
  auto add = reconciler_->reconcile("default/g1");
  ASSERT_TRUE(add.ok()) << add.error().to_string();
  ASSERT_EQ(add->step.kind, StepKind::kAddLearner);
  EXPECT_EQ(admin_.token, "s3cret-token");
  ASSERT_EQ(admin_.calls.size(), 1u);
}

TEST_F(ReconcilerTest, MissingTokenSecretFailsTheStepWithoutCallingTheReplica) {
  create_group("g1", 3, {{"adminTokenSecretRef", {{"name", "absent"}, {"key", "token"}}}});
  ASSERT_TRUE(reconciler_->reconcile("default/g1").ok());
  ASSERT_TRUE(
      client_->patch(resources::kDLedgerGroups, "default", "g1", {{"spec", {{"replicas", 4}}}})
          .ok());
  admin_.healthy_group(3, 3);
  ASSERT_TRUE(reconciler_->reconcile("default/g1").ok());
  admin_.healthy_group(3, 4);
  auto add = reconciler_->reconcile("default/g1");
  ASSERT_FALSE(add.ok());
  EXPECT_EQ(reconciler_->last_error_reason(), kReasonAdminTokenUnavailable);
  EXPECT_NE(add.error().message.find("secret default/absent key \"token\""), std::string::npos)
      << add.error().message;
  EXPECT_TRUE(admin_.calls.empty());
  const auto failed = events("AddLearnerFailed");
  ASSERT_EQ(failed.size(), 1u);
  EXPECT_EQ(failed[0]["type"], "Warning");
}

TEST_F(ReconcilerTest, RepeatedDecisionBumpsTheCountOfOneEvent) {
  create_group("g1", 3);
  ASSERT_TRUE(reconciler_->reconcile("default/g1").ok());
  admin_.healthy_group(3, 3);
  ASSERT_TRUE(
      client_->patch(resources::kDLedgerGroups, "default", "g1", {{"spec", {{"replicas", 4}}}})
          .ok());
  // The fake replica accepts the learner but never shows it: the same decision every pass.
  admin_.healthy_group(3, 4);
  ASSERT_TRUE(reconciler_->reconcile("default/g1").ok());  // StatefulSet 3 -> 4 (first pass)
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(reconciler_->reconcile("default/g1").ok());
  const auto adds = events("AddLearner");
  ASSERT_EQ(adds.size(), 1u);
  EXPECT_EQ(adds[0]["count"], 3);
}

}  // namespace
}  // namespace dledger::op::controller
