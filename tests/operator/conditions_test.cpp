#include <gtest/gtest.h>

#include "operator/api/dledgergroup_types.h"

namespace dledger::op::api {
namespace {

Condition ready(std::string status, std::string reason) {
  return Condition{
      std::string(condition::kReady), std::move(status), std::move(reason), "m", "", 2};
}

TEST(Conditions, TransitionTimeChangesOnlyWhenStatusChanges) {
  std::vector<Condition> conditions;
  EXPECT_TRUE(set_condition(conditions, ready("False", "NoLeader"), "t1"));
  EXPECT_EQ(conditions[0].last_transition_time, "t1");
  // Same status, new reason: updated, time kept.
  EXPECT_TRUE(set_condition(conditions, ready("False", "QuorumAtRisk"), "t2"));
  EXPECT_EQ(conditions[0].reason, "QuorumAtRisk");
  EXPECT_EQ(conditions[0].last_transition_time, "t1");
  // Identical: nothing changes.
  EXPECT_FALSE(set_condition(conditions, ready("False", "QuorumAtRisk"), "t3"));
  // Status flips: new time.
  EXPECT_TRUE(set_condition(conditions, ready("True", "Ready"), "t4"));
  EXPECT_EQ(conditions[0].last_transition_time, "t4");
  ASSERT_EQ(conditions.size(), 1u);
  EXPECT_EQ(find_condition(conditions, "Ready"), &conditions[0]);
  EXPECT_EQ(find_condition(conditions, "Degraded"), nullptr);
}

TEST(Conditions, DifferentTypesKeepInsertionOrder) {
  std::vector<Condition> conditions;
  set_condition(conditions, ready("True", "Ready"), "t1");
  Condition degraded{std::string(condition::kDegraded),
                     "True",
                     std::string(reason::kMemberUnreachable),
                     "n2 unreachable",
                     "",
                     2};
  set_condition(conditions, degraded, "t2");
  ASSERT_EQ(conditions.size(), 2u);
  EXPECT_EQ(conditions[1].type, "Degraded");
  EXPECT_EQ(conditions[1].last_transition_time, "t2");
}

}  // namespace
}  // namespace dledger::op::api
