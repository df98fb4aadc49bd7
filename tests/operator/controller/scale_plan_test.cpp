// plan_next_step table tests, plus a simulated operator that performs each step (and may "die"
// between any two steps) to show every scale converges from every intermediate state.
#include "operator/controller/scale_plan.h"

#include <gtest/gtest.h>

#include <random>

namespace dledger::op::controller {
namespace {

// A healthy group of `members` voters n0..n<members-1>, StatefulSet of the same size, n0 leads.
ObservedGroup healthy(int desired, int members) {
  ObservedGroup group;
  group.desired_replicas = desired;
  group.stateful_set_exists = true;
  group.stateful_set_replicas = members;
  group.leader = 0;
  group.bootstrap_replicas = members;
  for (int i = 0; i < members; ++i) {
    group.members.push_back({i, true, true, 0});
    group.reachable_pods.insert(i);
    group.data_volume_ordinals.insert(i);
  }
  return group;
}

TEST(PlanNextStep, MissingStatefulSetCreatesTheGroupWithSpecReplicasBootstrapMembers) {
  ObservedGroup group;
  group.desired_replicas = 3;
  Step step = plan_next_step(group);
  EXPECT_EQ(step.kind, StepKind::kCreateGroup);
  EXPECT_EQ(step.replicas, 3);
}

TEST(PlanNextStep, GroupAtSpecReplicasIsSteady) {
  EXPECT_EQ(plan_next_step(healthy(3, 3)).kind, StepKind::kSteady);
}

TEST(PlanNextStep, NothingHappensWithoutALeaderOrDuringPendingChangeOrTransfer) {
  ObservedGroup no_leader = healthy(5, 3);
  no_leader.leader.reset();
  EXPECT_EQ(plan_next_step(no_leader).kind, StepKind::kWait);
  EXPECT_EQ(plan_next_step(no_leader).reason, "NoLeader");

  ObservedGroup pending = healthy(5, 3);
  pending.membership_change_pending = true;
  EXPECT_EQ(plan_next_step(pending).kind, StepKind::kWait);

  ObservedGroup transferring = healthy(1, 3);
  transferring.transfer_in_progress = true;
  EXPECT_EQ(plan_next_step(transferring).kind, StepKind::kWait);
  EXPECT_EQ(plan_next_step(transferring).reason, "LeaderTransfer");
}

TEST(PlanNextStep, ScaleUpGrowsStatefulSetByOneFirst) {
  Step step = plan_next_step(healthy(5, 3));
  EXPECT_EQ(step.kind, StepKind::kScaleStatefulSet);
  EXPECT_EQ(step.replicas, 4);
  EXPECT_EQ(step.reason, "ScalingUp");
}

TEST(PlanNextStep, ScaleUpWaitsForTheNewPodThenAddsItAsLearner) {
  ObservedGroup group = healthy(5, 3);
  group.stateful_set_replicas = 4;
  Step wait = plan_next_step(group);
  EXPECT_EQ(wait.kind, StepKind::kWait);
  EXPECT_EQ(wait.ordinal, 3);
  group.reachable_pods.insert(3);
  Step add = plan_next_step(group);
  EXPECT_EQ(add.kind, StepKind::kAddLearner);
  EXPECT_EQ(add.ordinal, 3);
}

TEST(PlanNextStep, LearnerIsPromotedOnlyOnceCaughtUp) {
  ObservedGroup group = healthy(5, 3);
  group.stateful_set_replicas = 4;
  group.members.push_back({3, false, true, 5000});
  Step wait = plan_next_step(group);
  EXPECT_EQ(wait.kind, StepKind::kWait);
  EXPECT_EQ(wait.reason, "MemberCatchingUp");
  group.members.back().lag = 3;
  Step promote = plan_next_step(group);
  EXPECT_EQ(promote.kind, StepKind::kPromote);
  EXPECT_EQ(promote.ordinal, 3);
}

TEST(PlanNextStep, UnreachableLearnerWithUnknownLagIsNotPromoted) {
  ObservedGroup group = healthy(5, 3);
  group.stateful_set_replicas = 4;
  group.members.push_back({3, false, false, std::nullopt});
  EXPECT_EQ(plan_next_step(group).kind, StepKind::kWait);
}

TEST(PlanNextStep, ScaleDownRemovesTheHighestFollower) {
  ObservedGroup group = healthy(3, 5);
  group.bootstrap_replicas = 3;
  Step step = plan_next_step(group);
  EXPECT_EQ(step.kind, StepKind::kRemoveMember);
  EXPECT_EQ(step.ordinal, 4);
  EXPECT_EQ(step.reason, "ScalingDown");
}

TEST(PlanNextStep, ScaleDownOfTheLeaderTransfersLeadershipFirstPreferringPreferredLeader) {
  ObservedGroup group = healthy(2, 3);
  group.leader = 2;
  group.bootstrap_replicas = 2;
  group.members[0].lag = 10;
  group.members[1].lag = 0;
  Step step = plan_next_step(group);
  EXPECT_EQ(step.kind, StepKind::kTransferLeadership);
  EXPECT_EQ(step.ordinal, 2);
  EXPECT_EQ(step.target, 1);  // least lag

  group.preferred_leader = 0;
  EXPECT_EQ(plan_next_step(group).target, 0);
}

TEST(PlanNextStep, LeaderRemovalWaitsWhenNoOtherVoterIsCaughtUp) {
  ObservedGroup group = healthy(3, 4);
  group.leader = 3;
  group.bootstrap_replicas = 3;
  group.members[0].lag = 100000;
  group.members[1].reachable = false;
  group.members[2].lag = 100000;
  Step step = plan_next_step(group);
  EXPECT_EQ(step.kind, StepKind::kWait);
  EXPECT_EQ(step.reason, "LeaderTransfer");
}

TEST(PlanNextStep, RemovingABootstrapMemberLowersTheBootstrapSizeFirst) {
  ObservedGroup group = healthy(2, 3);  // bootstrap 3: n2 is a bootstrap member
  Step lower = plan_next_step(group);
  EXPECT_EQ(lower.kind, StepKind::kLowerBootstrap);
  EXPECT_EQ(lower.replicas, 2);
  group.bootstrap_replicas = 2;
  Step remove = plan_next_step(group);
  EXPECT_EQ(remove.kind, StepKind::kRemoveMember);
  EXPECT_EQ(remove.ordinal, 2);
}

TEST(PlanNextStep, ScaleDownIsRefusedWhenTheRemainingVotersLackAReachableQuorum) {
  ObservedGroup group = healthy(2, 3);
  group.bootstrap_replicas = 2;
  group.members[1].reachable = false;  // remaining {n0, n1}: 1 reachable of 2, quorum 2
  Step step = plan_next_step(group);
  EXPECT_EQ(step.kind, StepKind::kRefuse);
  EXPECT_EQ(step.reason, "QuorumAtRisk");
  EXPECT_NE(step.message.find("n2"), std::string::npos);
}

TEST(PlanNextStep, BelowOneReplicaIsRefused) {
  EXPECT_EQ(plan_next_step(healthy(0, 1)).kind, StepKind::kRefuse);
}

TEST(PlanNextStep, MemberRemovedButStatefulSetNotShrunkConvergesToTheMemberCount) {
  // Operator died after DELETE /v1/members/n4 committed, before shrinking the StatefulSet.
  ObservedGroup group = healthy(3, 4);
  group.stateful_set_replicas = 5;
  group.bootstrap_replicas = 3;
  Step step = plan_next_step(group);
  // n3 (>= spec.replicas) must go first; the StatefulSet follows the membership afterwards.
  EXPECT_EQ(step.kind, StepKind::kRemoveMember);
  EXPECT_EQ(step.ordinal, 3);

  ObservedGroup at_size = healthy(4, 4);
  at_size.stateful_set_replicas = 5;
  Step shrink = plan_next_step(at_size);
  EXPECT_EQ(shrink.kind, StepKind::kScaleStatefulSet);
  EXPECT_EQ(shrink.replicas, 4);
}

TEST(PlanNextStep, StatefulSetGrownButScaleUpCancelledShrinksBack) {
  ObservedGroup group = healthy(3, 3);
  group.stateful_set_replicas = 4;
  group.reachable_pods.insert(3);
  Step step = plan_next_step(group);
  EXPECT_EQ(step.kind, StepKind::kScaleStatefulSet);
  EXPECT_EQ(step.replicas, 3);
}

TEST(PlanNextStep, LearnerNoLongerWantedIsRemovedNotPromoted) {
  ObservedGroup group = healthy(3, 3);
  group.stateful_set_replicas = 4;
  group.members.push_back({3, false, true, 0});
  Step step = plan_next_step(group);
  EXPECT_EQ(step.kind, StepKind::kRemoveMember);
  EXPECT_EQ(step.ordinal, 3);
}

TEST(PlanNextStep, StatefulSetSmallerThanMembershipIsGrownBack) {
  ObservedGroup group = healthy(3, 3);
  group.stateful_set_replicas = 2;
  Step step = plan_next_step(group);
  EXPECT_EQ(step.kind, StepKind::kScaleStatefulSet);
  EXPECT_EQ(step.replicas, 3);
}

TEST(PlanNextStep, LeftoverVolumeOfRemovedMemberIsDeletedOnlyWithDeletePolicy) {
  ObservedGroup group = healthy(3, 3);
  group.data_volume_ordinals.insert(3);
  Step step = plan_next_step(group);
  EXPECT_EQ(step.kind, StepKind::kDeletePvc);
  EXPECT_EQ(step.ordinal, 3);
  group.delete_volumes_when_scaled = false;
  EXPECT_EQ(plan_next_step(group).kind, StepKind::kSteady);
}

// ---- simulation: perform steps, crash anywhere, converge --------------------------------------

// Applies `step` to the simulated world. Pods answer as soon as the StatefulSet has them;
// learners catch up one "tick" after being added; leadership moves instantly.
void apply(ObservedGroup& world, const Step& step, bool& learner_fresh) {
  switch (step.kind) {
    case StepKind::kScaleStatefulSet:
      world.stateful_set_replicas = step.replicas;
      world.reachable_pods.clear();
      for (int i = 0; i < step.replicas; ++i) {
        world.reachable_pods.insert(i);
        world.data_volume_ordinals.insert(i);
      }
      break;
    case StepKind::kAddLearner:
      world.members.push_back({step.ordinal, false, true, 1000000});
      learner_fresh = true;
      break;
    case StepKind::kPromote:
      for (auto& member : world.members) {
        if (member.ordinal == step.ordinal) member.voter = true;
      }
      break;
    case StepKind::kTransferLeadership:
      world.leader = step.target;
      break;
    case StepKind::kLowerBootstrap:
      world.bootstrap_replicas = step.replicas;
      break;
    case StepKind::kRemoveMember:
      std::erase_if(world.members,
                    [&](const ObservedMember& m) { return m.ordinal == step.ordinal; });
      break;
    case StepKind::kDeletePvc:
      world.data_volume_ordinals.erase(step.ordinal);
      break;
    case StepKind::kWait:
      // Time passes: learners catch up.
      if (!learner_fresh) {
        for (auto& member : world.members) member.lag = 0;
      }
      learner_fresh = false;
      break;
    default:
      break;
  }
}

void expect_converges(ObservedGroup world, int desired, const std::string& label) {
  world.desired_replicas = desired;
  bool learner_fresh = false;
  for (int steps = 0; steps < 200; ++steps) {
    Step step = plan_next_step(world);
    if (step.kind == StepKind::kSteady) {
      int voters = 0;
      for (const auto& member : world.members) {
        EXPECT_TRUE(member.voter) << label;
        EXPECT_LT(member.ordinal, desired) << label;
        ++voters;
      }
      EXPECT_EQ(voters, desired) << label;
      EXPECT_EQ(world.stateful_set_replicas, desired) << label;
      EXPECT_LE(world.bootstrap_replicas, desired) << label;
      for (int ordinal : world.data_volume_ordinals) EXPECT_LT(ordinal, desired) << label;
      return;
    }
    ASSERT_NE(step.kind, StepKind::kRefuse) << label << ": " << step.message;
    // Invariant: a member is never removed while it leads, and never more than one at a time.
    if (step.kind == StepKind::kRemoveMember) {
      ASSERT_NE(world.leader, step.ordinal) << label;
    }
    apply(world, step, learner_fresh);
    // Invariant: every member has a pod.
    for (const auto& member : world.members) {
      ASSERT_LT(member.ordinal, world.stateful_set_replicas)
          << label << " after " << to_string(step.kind);
    }
  }
  FAIL() << label << ": did not converge in 200 steps";
}

TEST(PlanNextStepSimulation, EveryScaleBetweenOneAndNineConverges) {
  for (int from = 1; from <= 9; ++from) {
    for (int to = 1; to <= 9; ++to) {
      ObservedGroup world = healthy(to, from);
      world.leader = from - 1;  // worst case: the highest member leads
      expect_converges(world, to, std::to_string(from) + "->" + std::to_string(to));
    }
  }
}

TEST(PlanNextStepSimulation, OperatorDyingAfterAnyStepAndSpecChangingConverges) {
  // Run a scale part-way (the "crash" keeps only the world, which is all the planner reads),
  // then change spec.replicas to another size and check convergence from there.
  std::mt19937 random(12345);
  for (int trial = 0; trial < 300; ++trial) {
    const int from = 1 + static_cast<int>(random() % 9);
    const int first = 1 + static_cast<int>(random() % 9);
    const int second = 1 + static_cast<int>(random() % 9);
    const int stop_after = static_cast<int>(random() % 12);
    ObservedGroup world = healthy(first, from);
    world.leader = static_cast<int>(random() % from);
    bool learner_fresh = false;
    for (int s = 0; s < stop_after; ++s) {
      Step step = plan_next_step(world);
      if (step.kind == StepKind::kSteady) break;
      apply(world, step, learner_fresh);
    }
    expect_converges(world, second,
                     "trial " + std::to_string(trial) + ": " + std::to_string(from) + "->" +
                         std::to_string(first) + " (stopped after " + std::to_string(stop_after) +
                         " steps) ->" + std::to_string(second));
  }
}

}  // namespace
}  // namespace dledger::op::controller
