// Leadership transfer and the preferred leader.
#include <gtest/gtest.h>

#include "tests/ledger/raft/raft_test_harness.h"

namespace dledger::raft::testing {
namespace {

bool is_timeout_now(const Message& m) {
  return m.type == MessageType::kTimeoutNow;
}

TEST(Transfer, TransferLeadershipCatchesUpThenTimeoutNow) {
  Cluster c(3);
  c.elect(1);
  c.isolate(3);
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(c.core(1).propose("x").ok());
  c.stabilize();
  c.heal();
  std::uint64_t last = c.core(1).last_index();
  ASSERT_LT(c.core(3).last_index(), last);

  std::vector<MessageType> sent_to_3;
  c.set_filter([&](Message& m) {
    if (m.from == 1 && m.to == 3) {
      sent_to_3.push_back(m.type);
      if (m.type == MessageType::kTimeoutNow) {
        EXPECT_EQ(c.core(3).last_index(), last) << "TimeoutNow before the target caught up";
      }
    }
    return true;
  });
  ASSERT_TRUE(c.core(1).transfer_leadership(3).ok());
  EXPECT_EQ(c.core(1).status().transfer_target, 3u);
  c.stabilize();
  ASSERT_FALSE(sent_to_3.empty());
  EXPECT_EQ(sent_to_3.front(), MessageType::kAppend);
  EXPECT_NE(std::find(sent_to_3.begin(), sent_to_3.end(), MessageType::kTimeoutNow),
            sent_to_3.end());
  // n3 won although n2 hears from a live leader: transfer votes bypass the lease.
  EXPECT_EQ(c.leader(), 3u);
  EXPECT_EQ(c.core(3).soft_state().term, 2u);
  EXPECT_EQ(c.core(1).soft_state().role, Role::kFollower);
  EXPECT_EQ(c.core(1).soft_state().leader, 3u);
  EXPECT_EQ(c.stored(3, 1, last), c.stored(1, 1, last));
  c.expect_invariants();
}

TEST(Transfer, CaughtUpTargetGetsTimeoutNowAtOnce) {
  Cluster c(3);
  c.elect(1);
  ASSERT_TRUE(c.core(1).transfer_leadership(2).ok());
  c.process(1);
  auto timeouts = c.take(is_timeout_now);
  ASSERT_EQ(timeouts.size(), 1u);
  EXPECT_EQ(timeouts[0].to, 2u);
}

TEST(Transfer, ProposalsRefusedWhileTransferring) {
  Cluster c(3);
  c.elect(1);
  c.isolate(3);
  ASSERT_TRUE(c.core(1).propose("x").ok());
  c.stabilize();
  ASSERT_TRUE(c.core(1).transfer_leadership(3).ok());
  auto r = c.core(1).propose("y");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::kTransferring);
  EXPECT_EQ(c.core(1).propose_batch({"a", "b"}).error().code, ErrorCode::kTransferring);
  EXPECT_EQ(c.core(1).add_learner(9, "h:1").error().code, ErrorCode::kTransferring);
  EXPECT_EQ(c.core(1).transfer_leadership(2).error().code, ErrorCode::kBusy);
}

TEST(Transfer, TransferAbortsAfterElectionTimeout) {
  Cluster c(3);
  c.elect(1);
  c.isolate(3);
  ASSERT_TRUE(c.core(1).transfer_leadership(3).ok());
  c.tick_all(9);
  EXPECT_EQ(c.core(1).status().transfer_target, 3u);
  c.tick_all(1);  // one election timeout (10 ticks)
  EXPECT_EQ(c.core(1).status().transfer_target, kNoNode);
  EXPECT_EQ(c.core(1).soft_state().role, Role::kLeader);
  EXPECT_TRUE(c.core(1).propose("again").ok());
}

TEST(Transfer, TransferRequestsValidated) {
  Cluster c(3);
  c.add_node(4, make_membership({1, 2, 3}));
  c.elect(1);
  EXPECT_EQ(c.core(2).transfer_leadership(3).error().code, ErrorCode::kNotLeader);
  EXPECT_EQ(c.core(1).transfer_leadership(1).error().code, ErrorCode::kInvalidArgument);
  EXPECT_EQ(c.core(1).transfer_leadership(4).error().code, ErrorCode::kInvalidArgument);
}

TEST(Transfer, TimeoutNowIgnoredByLearner) {
  Cluster c(2);
  c.add_node(3, make_membership({1, 2}, {3}));
  c.elect(1);
  Message timeout_now = make_message(MessageType::kTimeoutNow, 1, 3, 1);
  ASSERT_TRUE(c.core(3).step(timeout_now).ok());
  EXPECT_EQ(c.core(3).soft_state().role, Role::kFollower);
  EXPECT_EQ(c.core(3).hard_state().term, 1u);
}

TEST(Transfer, PreferredLeaderGetsLeadership) {
  Cluster c(3, [](Config& config) { config.preferred_leader = 2; });
  c.elect(1);
  ASSERT_EQ(c.leader(), 1u);
  c.tick_all(6);
  EXPECT_EQ(c.leader(), 2u);
  // It keeps it.
  c.tick_all(50);
  EXPECT_EQ(c.leader(), 2u);
  EXPECT_EQ(c.core(2).soft_state().term, 2u);
  c.expect_invariants();
}

TEST(Transfer, UnreachablePreferredLeaderDoesNotBlockProposalsForever) {
  Cluster c(3, [](Config& config) { config.preferred_leader = 3; });
  c.elect(1);
  c.tick_all(4);
  ASSERT_EQ(c.leader(), 3u);
  // n3 leaves; a new leader is elected and the group keeps accepting writes.
  c.isolate(3);
  c.tick_all(60);
  NodeId leader = c.leader();
  ASSERT_TRUE(leader == 1u || leader == 2u);
  int accepted = 0;
  for (int i = 0; i < 50; ++i) {
    if (c.core(leader).propose("x").ok()) ++accepted;
    c.tick_all(1);
  }
  EXPECT_EQ(accepted, 50);
}

}  // namespace
}  // namespace dledger::raft::testing
