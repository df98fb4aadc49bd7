// Snapshots: members behind the leader's first retained index are sent its snapshot.
#include <gtest/gtest.h>

#include "tests/ledger/raft/raft_test_harness.h"

namespace dledger::raft::testing {
namespace {

TEST(Snapshot, FollowerBehindFirstIndexGetsSnapshot) {
  Cluster c(3);
  c.elect(1);
  c.isolate(3);
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(c.core(1).propose("e" + std::to_string(i)).ok());
  c.stabilize();
  std::uint64_t commit = c.core(1).commit_index();
  ASSERT_EQ(commit, 11u);
  ASSERT_TRUE(c.storage(1).compact(commit, "state@11").ok());
  ASSERT_EQ(c.storage(1).first_index(), 12u);

  std::vector<Snapshot> installed;
  c.set_filter([&](Message& m) {
    if (m.type == MessageType::kInstallSnapshot) installed.push_back(*m.snapshot);
    return true;
  });
  c.heal();
  c.tick_all(6);
  ASSERT_EQ(installed.size(), 1u);
  EXPECT_EQ(installed[0].meta.index, 11u);
  EXPECT_EQ(installed[0].meta.membership, make_membership({1, 2, 3}));
  // n3 now holds the snapshot and nothing before it.
  EXPECT_EQ(c.storage(3).snapshot_meta().index, 11u);
  EXPECT_EQ(c.storage(3).snapshot()->data, "state@11");
  EXPECT_EQ(c.storage(3).first_index(), 12u);
  EXPECT_EQ(c.core(3).commit_index(), 11u);

  // Then normal replication resumes from the snapshot.
  ASSERT_TRUE(c.core(1).propose("after").ok());
  c.stabilize();
  EXPECT_EQ(c.core(3).last_index(), 12u);
  EXPECT_EQ(c.stored(3, 12, 12)[0].data, "after");
  EXPECT_EQ(c.core(3).commit_index(), 12u);
  EXPECT_EQ(c.core(1).status().peers[1].state, ProgressState::kReplicate);
  c.expect_invariants();
}

TEST(Snapshot, SnapshotArrivesThroughReady) {
  Cluster c(3);
  c.elect(1);
  c.isolate(3);
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(c.core(1).propose("e").ok());
  c.stabilize();
  ASSERT_TRUE(c.storage(1).compact(c.core(1).commit_index(), "app").ok());
  c.heal();
  c.tick(1, 2);
  c.process(1);
  ASSERT_TRUE(c.deliver());  // heartbeat reaches n3
  c.process(3);
  ASSERT_TRUE(c.deliver());  // its answer reaches n1, which sends the snapshot
  c.process(1);
  auto snapshots = c.take([](const Message& m) { return m.type == MessageType::kInstallSnapshot; });
  ASSERT_EQ(snapshots.size(), 1u);
  ASSERT_TRUE(c.core(3).step(snapshots[0]).ok());
  Ready r = c.core(3).ready();
  ASSERT_TRUE(r.snapshot.has_value());
  EXPECT_EQ(r.snapshot->data, "app");
  EXPECT_EQ(r.persist_index, 4u);
  EXPECT_LT(r.commit, 4u);  // not durable yet
  ASSERT_EQ(r.messages_after_persist.size(), 1u);
  EXPECT_EQ(r.messages_after_persist[0].type, MessageType::kInstallSnapshotResponse);
  EXPECT_EQ(r.messages_after_persist[0].match_index, 4u);
  ASSERT_TRUE(c.storage(3).persist(r).ok());
  c.core(3).on_persisted(r.persist_index, r.persist_term);
  EXPECT_EQ(c.core(3).ready().commit, 4u);
}

TEST(Snapshot, SnapshotCarriesMembership) {
  Cluster c(3);
  c.add_node(4, make_membership({1, 2, 3}));
  c.elect(1);
  ASSERT_TRUE(c.core(1).add_learner(4, "10.0.0.4:9000").ok());
  c.isolate(4);
  c.stabilize();
  ASSERT_TRUE(c.core(1).propose("x").ok());
  c.stabilize();
  ASSERT_TRUE(c.storage(1).compact(c.core(1).commit_index(), "app").ok());
  ASSERT_TRUE(c.storage(1).snapshot_meta().membership.contains(4));
  c.heal();
  c.tick_all(6);
  EXPECT_EQ(c.storage(4).snapshot_meta().index, c.storage(1).snapshot_meta().index);
  EXPECT_TRUE(c.core(4).membership().contains(4));
  EXPECT_FALSE(c.core(4).membership().is_voter(4));
}

TEST(Snapshot, RestartAfterSnapshotResumes) {
  Cluster c(3);
  c.elect(1);
  for (int i = 0; i < 4; ++i) ASSERT_TRUE(c.core(1).propose("e").ok());
  c.stabilize();
  ASSERT_TRUE(c.storage(2).compact(3, "app").ok());
  c.restart(2);
  EXPECT_EQ(c.core(2).commit_index(), 5u);
  EXPECT_EQ(c.core(2).last_index(), 5u);
  ASSERT_TRUE(c.core(1).propose("more").ok());
  c.stabilize();
  EXPECT_EQ(c.core(2).last_index(), 6u);
  EXPECT_EQ(c.core(2).commit_index(), 6u);
  c.expect_invariants();
}

}  // namespace
}  // namespace dledger::raft::testing
