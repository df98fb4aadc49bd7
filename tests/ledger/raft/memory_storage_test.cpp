// MemoryStorage: the in-memory Storage used by tests and the simulator.
#include <gtest/gtest.h>

#include "broker/ledger/raft/membership.h"
#include "tests/ledger/raft/raft_test_harness.h"

namespace dledger::raft::testing {
namespace {

TEST(MemoryStorage, EmptyStorageHasNoEntries) {
  MemoryStorage s;
  EXPECT_EQ(s.first_index(), 1u);
  EXPECT_EQ(s.last_index(), 0u);
  EXPECT_EQ(*s.term(0), 0u);
  EXPECT_EQ(s.term(1).error().code, ErrorCode::kOutOfRange);
  EXPECT_EQ(s.snapshot().error().code, ErrorCode::kNotFound);
}

TEST(MemoryStorage, PersistOverwritesFromFirstEntry) {
  MemoryStorage s;
  ASSERT_TRUE(s.append({entry(1, 1, "a"), entry(2, 1, "b"), entry(3, 1, "c")}).ok());
  Ready r;
  r.entries = {entry(2, 2, "B")};
  r.hard_state = HardState{2, 5};
  ASSERT_TRUE(s.persist(r).ok());
  EXPECT_EQ(s.last_index(), 2u);
  EXPECT_EQ(*s.term(2), 2u);
  EXPECT_EQ(s.hard_state(), (HardState{2, 5}));
  auto read = s.entries(1, 3, UINT64_MAX);
  ASSERT_TRUE(read.ok());
  EXPECT_EQ(read->back().data, "B");
}

TEST(MemoryStorage, AppendRejectsGapsAndNonConsecutiveEntries) {
  MemoryStorage s;
  ASSERT_TRUE(s.append({entry(1, 1)}).ok());
  EXPECT_EQ(s.append({entry(3, 1)}).error().code, ErrorCode::kInvalidArgument);
  EXPECT_EQ(s.append({entry(2, 1), entry(4, 1)}).error().code, ErrorCode::kInvalidArgument);
  EXPECT_EQ(s.last_index(), 1u);
}

TEST(MemoryStorage, EntriesRespectMaxBytesButReturnAtLeastOne) {
  MemoryStorage s;
  ASSERT_TRUE(s.append({entry(1, 1, "aaaa"), entry(2, 1, "bbbb"), entry(3, 1, "cccc")}).ok());
  EXPECT_EQ(s.entries(1, 4, 1)->size(), 1u);
  EXPECT_EQ(s.entries(1, 4, 8)->size(), 2u);
  EXPECT_EQ(s.entries(1, 4, 100)->size(), 3u);
  EXPECT_EQ(s.entries(0, 2, 100).error().code, ErrorCode::kOutOfRange);
  EXPECT_EQ(s.entries(1, 5, 100).error().code, ErrorCode::kOutOfRange);
}

TEST(MemoryStorage, CompactCreatesSnapshotWithMembershipAtIndex) {
  MemoryStorage s(make_membership({1, 2, 3}));
  Membership with_learner = make_membership({1, 2, 3}, {4});
  ASSERT_TRUE(
      s.append({entry(1, 1), entry(2, 1, encode_membership(with_learner), EntryType::kConfig),
                entry(3, 2), entry(4, 2)})
          .ok());
  ASSERT_TRUE(s.compact(1, "one").ok());
  EXPECT_EQ(s.snapshot_meta().membership, make_membership({1, 2, 3}));
  ASSERT_TRUE(s.compact(3, "three").ok());
  EXPECT_EQ(s.first_index(), 4u);
  EXPECT_EQ(s.snapshot_meta().index, 3u);
  EXPECT_EQ(s.snapshot_meta().term, 2u);
  EXPECT_EQ(s.snapshot_meta().membership, with_learner);
  EXPECT_EQ(s.snapshot()->data, "three");
  EXPECT_EQ(*s.term(3), 2u);
  EXPECT_EQ(s.term(2).error().code, ErrorCode::kOutOfRange);
  EXPECT_EQ(s.compact(2, "old").error().code, ErrorCode::kOutOfRange);
  EXPECT_EQ(s.compact(9, "future").error().code, ErrorCode::kOutOfRange);
}

TEST(MemoryStorage, SnapshotReplacesWholeLog) {
  MemoryStorage s;
  ASSERT_TRUE(s.append({entry(1, 1), entry(2, 1)}).ok());
  Ready r;
  r.snapshot = Snapshot{SnapshotMeta{10, 3, make_membership({1})}, "app"};
  r.entries = {entry(11, 3)};
  ASSERT_TRUE(s.persist(r).ok());
  EXPECT_EQ(s.first_index(), 11u);
  EXPECT_EQ(s.last_index(), 11u);
  EXPECT_EQ(*s.term(10), 3u);
  EXPECT_EQ(s.commit(), 10u);
}

TEST(MemoryStorage, InitialStateListsConfigsAfterSnapshot) {
  MemoryStorage s;
  Membership m = make_membership({1, 2});
  ASSERT_TRUE(s.append({entry(1, 1), entry(2, 1, encode_membership(m), EntryType::kConfig)}).ok());
  s.set_hard_state(HardState{1, 1});
  s.set_commit(2);
  InitialState initial = s.initial_state(make_membership({1}));
  EXPECT_EQ(initial.hard_state, (HardState{1, 1}));
  EXPECT_EQ(initial.commit, 2u);
  ASSERT_EQ(initial.configs.size(), 1u);
  EXPECT_EQ(initial.configs[0].index, 2u);
  EXPECT_EQ(initial.configs[0].membership, m);
  // A truncation drops the config it held.
  s.truncate_after(1);
  EXPECT_TRUE(s.initial_state(make_membership({1})).configs.empty());
}

TEST(MemoryStorage, RestartedCoreResumesFromStorage) {
  Cluster c(3);
  c.elect(1);
  ASSERT_TRUE(c.core(1).propose("x").ok());
  c.stabilize();
  c.restart(2);
  EXPECT_EQ(c.core(2).last_index(), 2u);
  EXPECT_EQ(c.core(2).commit_index(), 2u);
  EXPECT_EQ(c.core(2).hard_state().term, 1u);
  c.restart(1);
  c.tick_all(40);
  NodeId leader = c.leader();
  ASSERT_NE(leader, kNoNode);
  ASSERT_TRUE(c.core(leader).propose("y").ok());
  c.stabilize();
  for (NodeId id : c.ids()) EXPECT_EQ(c.stored(id, 2, 2)[0].data, "x");
  c.expect_invariants();
}

}  // namespace
}  // namespace dledger::raft::testing
