// plan_rollout_step table tests, plus a simulated StatefulSet controller and group that perform
// each step, showing a rollout restarts every pod exactly once, followers before the leader,
// one at a time, only while the group is healthy.
#include "operator/controller/rollout_plan.h"

#include <gtest/gtest.h>

#include <algorithm>

namespace dledger::op::controller {
namespace {

constexpr const char* kOld = "g1-old";
constexpr const char* kNew = "g1-new";

// A healthy steady group of `members` voters, n0 leads, every pod Ready on revision `revision`.
struct Fixture {
  ObservedGroup group;
  ObservedRollout rollout;
};

Fixture healthy(int members, const char* revision = kOld) {
  Fixture f;
  f.group.desired_replicas = members;
  f.group.stateful_set_exists = true;
  f.group.stateful_set_replicas = members;
  f.group.leader = 0;
  f.group.bootstrap_replicas = members;
  f.rollout.update_revision = kNew;
  f.rollout.desired_image = "img:2";
  for (int i = 0; i < members; ++i) {
    f.group.members.push_back({i, true, true, 0});
    f.group.reachable_pods.insert(i);
    f.rollout.pods.push_back({i, revision, "img:1", true, false});
  }
  return f;
}

ObservedPod& pod(Fixture& f, int ordinal) {
  return *std::find_if(f.rollout.pods.begin(), f.rollout.pods.end(),
                       [&](const ObservedPod& p) { return p.ordinal == ordinal; });
}

TEST(PlanRolloutStep, NothingToDoWhenEveryPodRunsTheUpdateRevision) {
  Fixture f = healthy(3, kNew);
  EXPECT_EQ(plan_rollout_step(f.group, f.rollout).kind, StepKind::kSteady);
}

TEST(PlanRolloutStep, NothingIsRolledWithoutAnUpdateRevision) {
  Fixture f = healthy(3);
  f.rollout.update_revision.reset();
  EXPECT_EQ(plan_rollout_step(f.group, f.rollout).kind, StepKind::kSteady);
}

TEST(PlanRolloutStep, WaitsWhileTheStatefulSetControllerHasNotSeenTheNewTemplate) {
  Fixture f = healthy(3, kNew);
  f.rollout.revision_stale = true;
  const Step step = plan_rollout_step(f.group, f.rollout);
  EXPECT_EQ(step.kind, StepKind::kWait);
  EXPECT_EQ(step.reason, "RollingUpdate");
}

TEST(PlanRolloutStep, RestartsTheHighestFollowerFirstWithTheImageChangedCause) {
  Fixture f = healthy(3);
  const Step step = plan_rollout_step(f.group, f.rollout);
  EXPECT_EQ(step.kind, StepKind::kRestartPod);
  EXPECT_EQ(step.ordinal, 2);
  EXPECT_EQ(step.reason, "RollingUpdate");
  EXPECT_EQ(step.cause, kCauseImageChanged);
}

TEST(PlanRolloutStep, SameImageMeansTheConfigurationChanged) {
  Fixture f = healthy(3);
  f.rollout.desired_image = "img:1";
  EXPECT_EQ(plan_rollout_step(f.group, f.rollout).cause, kCauseConfigChanged);
}

TEST(PlanRolloutStep, WaitsForARestartedPodToComeBackAndCatchUp) {
  Fixture f = healthy(3);
  pod(f, 2).terminating = true;
  Step step = plan_rollout_step(f.group, f.rollout);
  EXPECT_EQ(step.kind, StepKind::kWait);
  EXPECT_EQ(step.ordinal, 2);

  f = healthy(3);  // pod 2 recreated on the new revision, not ready yet
  pod(f, 2).revision = kNew;
  pod(f, 2).ready = false;
  f.group.reachable_pods.erase(2);
  step = plan_rollout_step(f.group, f.rollout);
  EXPECT_EQ(step.kind, StepKind::kWait);
  EXPECT_NE(step.message.find("n2"), std::string::npos) << step.message;

  pod(f, 2).ready = true;  // ready, but behind the leader
  f.group.reachable_pods.insert(2);
  f.group.members[2].lag = 5000;
  step = plan_rollout_step(f.group, f.rollout);
  EXPECT_EQ(step.kind, StepKind::kWait);
  EXPECT_NE(step.message.find("5000 entries behind"), std::string::npos) << step.message;

  f.group.members[2].lag = 3;
  step = plan_rollout_step(f.group, f.rollout);
  EXPECT_EQ(step.kind, StepKind::kRestartPod);
  EXPECT_EQ(step.ordinal, 1);
}

TEST(PlanRolloutStep, MissingPodIsWaitedForNotRestarted) {
  Fixture f = healthy(3);
  f.rollout.pods.erase(f.rollout.pods.begin() + 1);
  const Step step = plan_rollout_step(f.group, f.rollout);
  EXPECT_EQ(step.kind, StepKind::kWait);
  EXPECT_EQ(step.ordinal, 1);
}

TEST(PlanRolloutStep, NoRestartWithoutLeaderOrDuringMembershipChangeOrTransfer) {
  Fixture f = healthy(3);
  f.group.leader.reset();
  EXPECT_EQ(plan_rollout_step(f.group, f.rollout).kind, StepKind::kWait);
  f = healthy(3);
  f.group.membership_change_pending = true;
  EXPECT_EQ(plan_rollout_step(f.group, f.rollout).kind, StepKind::kWait);
  f = healthy(3);
  f.group.transfer_in_progress = true;
  EXPECT_EQ(plan_rollout_step(f.group, f.rollout).kind, StepKind::kWait);
}

TEST(PlanRolloutStep, FollowerUnreachableFromTheLeaderBlocksRestartingAnotherOne) {
  Fixture f = healthy(5);
  f.group.members[3].reachable = false;  // partitioned, pod itself looks fine
  const Step step = plan_rollout_step(f.group, f.rollout);
  EXPECT_EQ(step.kind, StepKind::kWait);
  EXPECT_NE(step.message.find("n3 is not reachable"), std::string::npos) << step.message;
}

TEST(PlanRolloutStep, OutdatedPodThatIsDownIsRestartedWithoutWaitingForHealth) {
  Fixture f = healthy(3);
  pod(f, 1).ready = false;  // crash-looping on the old template
  f.group.reachable_pods.erase(1);
  f.group.members[1].reachable = false;
  const Step step = plan_rollout_step(f.group, f.rollout);
  EXPECT_EQ(step.kind, StepKind::kRestartPod);
  EXPECT_EQ(step.ordinal, 1);
}

TEST(PlanRolloutStep, LeaderLastAfterTransferringToTheLeastLaggingUpdatedVoter) {
  Fixture f = healthy(3);
  pod(f, 1).revision = kNew;
  pod(f, 2).revision = kNew;
  f.group.members[1].lag = 7;
  f.group.members[2].lag = 2;
  const Step step = plan_rollout_step(f.group, f.rollout);
  EXPECT_EQ(step.kind, StepKind::kTransferLeadership);
  EXPECT_EQ(step.ordinal, 0);
  EXPECT_EQ(step.target, 2);
  EXPECT_EQ(step.reason, "RollingUpdate");
}

TEST(PlanRolloutStep, LeaderTransferPrefersThePreferredLeader) {
  Fixture f = healthy(3);
  pod(f, 1).revision = kNew;
  pod(f, 2).revision = kNew;
  f.group.members[1].lag = 7;
  f.group.members[2].lag = 2;
  f.group.preferred_leader = 1;
  EXPECT_EQ(plan_rollout_step(f.group, f.rollout).target, 1);
}

TEST(PlanRolloutStep, SingleMemberGroupRestartsItsOnlyPod) {
  Fixture f = healthy(1);
  const Step step = plan_rollout_step(f.group, f.rollout);
  EXPECT_EQ(step.kind, StepKind::kRestartPod);
  EXPECT_EQ(step.ordinal, 0);
}

// Simulation: performs each step like the StatefulSet controller and the group would (a
// restarted pod comes back on the update revision, ready and caught up after a few passes; a
// transfer moves leadership), checking the rollout's safety on every pass.
TEST(PlanRolloutStep, SimulatedRolloutRestartsEveryPodOnceLeaderLastOneAtATime) {
  for (int members : {1, 2, 3, 5}) {
    Fixture f = healthy(members);
    f.group.leader = members / 2;  // not the highest, not the lowest
    std::vector<int> restarted;
    std::map<int, int> passes_until_back;  // restarted pod -> passes until ready
    int passes = 0;
    for (; passes < 200; ++passes) {
      // The world moves on.
      for (auto it = passes_until_back.begin(); it != passes_until_back.end();) {
        if (--it->second == 0) {
          pod(f, it->first) = {it->first, kNew, "img:2", true, false};
          f.group.reachable_pods.insert(it->first);
          f.group.members[it->first].reachable = true;
          f.group.members[it->first].lag = 0;
          it = passes_until_back.erase(it);
        } else {
          ++it;
        }
      }
      // At most one member down at any time.
      int down = 0;
      for (const auto& p : f.rollout.pods) down += p.ready ? 0 : 1;
      ASSERT_LE(down, 1) << members << " members, pass " << passes;

      const Step step = plan_rollout_step(f.group, f.rollout);
      if (step.kind == StepKind::kSteady) break;
      if (step.kind == StepKind::kRestartPod) {
        ASSERT_TRUE(members == 1 || f.group.leader != step.ordinal) << "restarted the leader";
        restarted.push_back(step.ordinal);
        ObservedPod& p = pod(f, step.ordinal);
        p.ready = false;
        p.revision = "";
        p.terminating = true;
        f.group.reachable_pods.erase(step.ordinal);
        f.group.members[step.ordinal].reachable = f.group.leader == step.ordinal;
        f.group.members[step.ordinal].lag.reset();
        passes_until_back[step.ordinal] = 3;
      } else if (step.kind == StepKind::kTransferLeadership) {
        f.group.leader = step.target;
        f.group.members[step.target].lag = 0;
      } else {
        ASSERT_EQ(step.kind, StepKind::kWait) << step.message;
      }
    }
    ASSERT_LT(passes, 200) << members << " members: the rollout never finished";
    std::vector<int> sorted = restarted;
    std::sort(sorted.begin(), sorted.end());
    std::vector<int> all(static_cast<size_t>(members));
    for (int i = 0; i < members; ++i) all[static_cast<size_t>(i)] = i;
    EXPECT_EQ(sorted, all) << members << " members: each pod restarted exactly once";
    if (members > 1) {
      EXPECT_EQ(restarted.back(), members / 2) << "the first leader is restarted last";
    }
  }
}

}  // namespace
}  // namespace dledger::op::controller
