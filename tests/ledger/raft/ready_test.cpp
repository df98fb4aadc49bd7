// Ready batches and the unstable log: what is reported when, and stale persistence reports.
#include <gtest/gtest.h>

#include "broker/ledger/raft/invariants.h"
#include "broker/ledger/raft/unstable_log.h"
#include "tests/ledger/raft/raft_test_harness.h"

namespace dledger::raft::testing {
namespace {

TEST(Ready, SoftStateReportedWhenRoleTermOrLeaderChanges) {
  Cluster c(3);
  EXPECT_FALSE(c.core(2).has_ready());
  Message append = make_message(MessageType::kAppend, 1, 2, 4);
  ASSERT_TRUE(c.core(2).step(append).ok());
  Ready follower = c.core(2).ready();
  ASSERT_TRUE(follower.soft_state.has_value());
  EXPECT_EQ(*follower.soft_state, (SoftState{Role::kFollower, 4, 1}));
  // A leader's first Ready announces its role.
  Cluster d(1);
  d.core(1).campaign();
  Ready r = d.core(1).ready();
  ASSERT_TRUE(r.soft_state.has_value());
  EXPECT_EQ(r.soft_state->role, Role::kLeader);
  EXPECT_EQ(r.soft_state->term, 1u);
  EXPECT_EQ(r.soft_state->leader, 1u);
  ASSERT_TRUE(r.hard_state.has_value());
  EXPECT_EQ(*r.hard_state, (HardState{1, 1}));
  ASSERT_TRUE(d.storage(1).persist(r).ok());
  d.core(1).on_persisted(r.persist_index, r.persist_term);
  // Nothing changed since: no soft state in the next one.
  ASSERT_TRUE(d.core(1).propose("x").ok());
  Ready next = d.core(1).ready();
  EXPECT_FALSE(next.soft_state.has_value());
  EXPECT_FALSE(next.hard_state.has_value());
  EXPECT_FALSE(next.membership.has_value());
}

TEST(Ready, EmptyAfterEverythingIsProcessed) {
  Cluster c(3);
  c.elect(1);
  ASSERT_TRUE(c.core(1).propose("x").ok());
  c.stabilize();
  for (NodeId id : c.ids()) {
    EXPECT_FALSE(c.core(id).has_ready()) << node_name(id);
    EXPECT_TRUE(c.core(id).ready().empty()) << node_name(id);
  }
}

TEST(UnstableLog, ServesUnpersistedEntriesAndForgetsThemOncePersisted) {
  MemoryStorage storage;
  ASSERT_TRUE(storage.append({entry(1, 1)}).ok());
  UnstableLog log(storage);
  EXPECT_EQ(log.durable_index(), 1u);
  log.append({entry(2, 1), entry(3, 2)});
  EXPECT_EQ(log.last_index(), 3u);
  EXPECT_EQ(*log.term(3), 2u);
  EXPECT_EQ(log.entries(1, 4, UINT64_MAX)->size(), 3u);
  auto out = log.take_unemitted_entries();
  ASSERT_EQ(out.size(), 2u);
  EXPECT_TRUE(log.take_unemitted_entries().empty());
  ASSERT_TRUE(storage.append(out).ok());
  EXPECT_TRUE(log.stable_to(3, 2));
  EXPECT_EQ(log.durable_index(), 3u);
  EXPECT_EQ(*log.term(3), 2u);  // now read from storage
}

TEST(UnstableLog, StalePersistReportIsIgnored) {
  MemoryStorage storage;
  UnstableLog log(storage);
  log.append({entry(1, 1), entry(2, 1)});
  auto first = log.take_unemitted_entries();
  ASSERT_EQ(first.size(), 2u);
  // Before that write completes, a new leader replaces index 2.
  log.append({entry(2, 2)});
  EXPECT_FALSE(log.stable_to(2, 1));  // reports the overwritten entry
  EXPECT_EQ(log.durable_index(), 0u);
  EXPECT_FALSE(log.stable_to(2, 2));  // not even handed out yet
  auto second = log.take_unemitted_entries();
  ASSERT_EQ(second.size(), 1u);
  EXPECT_TRUE(log.stable_to(2, 2));
  EXPECT_EQ(log.durable_index(), 2u);
}

TEST(UnstableLog, TermSearchesUseBinarySearchOverMonotonicTerms) {
  MemoryStorage storage;
  UnstableLog log(storage);
  std::vector<Entry> entries;
  for (std::uint64_t i = 1; i <= 20; ++i) entries.push_back(entry(i, i <= 5 ? 1 : i <= 12 ? 3 : 4));
  log.append(entries);
  EXPECT_EQ(log.first_index_of_term(3, 1, 20), 6u);
  EXPECT_EQ(log.first_index_of_term(4, 1, 20), 13u);
  EXPECT_EQ(log.first_index_of_term(2, 1, 20), std::nullopt);
  EXPECT_EQ(log.last_index_with_term_at_most(3, 20), 12u);
  EXPECT_EQ(log.last_index_with_term_at_most(2, 20), 5u);
  EXPECT_EQ(log.last_index_with_term_at_most(3, 8), 8u);
  EXPECT_EQ(log.last_index_with_term_at_most(0, 20), 0u);
}

TEST(Invariants, CheckerReportsViolations) {
#ifdef NDEBUG
  InvariantChecker checker;
  checker.observe(InvariantView{5, 1, 3, 10, 10, false});
  EXPECT_TRUE(checker.status().ok());
  checker.observe(InvariantView{4, 1, 3, 10, 10, false});
  ASSERT_FALSE(checker.status().ok());
  EXPECT_NE(checker.status().error().message.find("term went back"), std::string::npos);
#else
  EXPECT_DEATH(
      {
        InvariantChecker checker;
        checker.observe(InvariantView{5, 1, 3, 10, 10, false});
        checker.observe(InvariantView{5, 2, 3, 10, 10, false});
      },
      "vote in term 5 changed");
  EXPECT_DEATH(
      {
        InvariantChecker checker;
        checker.observe(InvariantView{5, 1, 3, 10, 10, false});
        checker.observe(InvariantView{5, 1, 2, 10, 10, false});
      },
      "commit went back");
  EXPECT_DEATH(
      {
        InvariantChecker checker;
        checker.observe(InvariantView{5, 1, 11, 10, 10, false});
      },
      "above last index");
#endif
}

}  // namespace
}  // namespace dledger::raft::testing
