// A small randomized check (the full simulator lives in tests/ledger/sim): under message loss,
// duplication, reordering, partitions and restarts, committed entries never diverge, a term
// never has two leaders, and the group recovers once the network heals.
#include <gtest/gtest.h>

#include <algorithm>

#include "tests/ledger/raft/raft_test_harness.h"

namespace dledger::raft::testing {
namespace {

struct Committed {
  std::uint64_t term;
  std::string data;
};

class SafetyChecker {
 public:
  void check(Cluster& c) {
    for (NodeId id : c.ids()) {
      SoftState s = c.core(id).soft_state();
      if (s.role == Role::kLeader) {
        auto [it, inserted] = leaders_.emplace(s.term, id);
        EXPECT_EQ(it->second, id) << "two leaders in term " << s.term;
      }
      std::uint64_t commit = c.storage(id).commit();
      std::uint64_t& checked = checked_[id];
      checked = std::max(checked, c.storage(id).first_index() - 1);
      for (std::uint64_t i = checked + 1; i <= commit; ++i) {
        auto e = c.storage(id).entries(i, i + 1, UINT64_MAX);
        ASSERT_TRUE(e.ok());
        auto [it, inserted] = committed_.emplace(i, Committed{(*e)[0].term, (*e)[0].data});
        ASSERT_EQ(it->second.term, (*e)[0].term) << node_name(id) << " index " << i;
        ASSERT_EQ(it->second.data, (*e)[0].data) << node_name(id) << " index " << i;
      }
      checked = std::max(checked, commit);
    }
    c.expect_invariants();
  }
  std::size_t committed_count() const { return committed_.size(); }

 private:
  std::map<std::uint64_t, NodeId> leaders_;
  std::map<NodeId, std::uint64_t> checked_;
  std::map<std::uint64_t, Committed> committed_;
};

void run(std::uint64_t seed, bool pre_vote, bool check_quorum) {
  SCOPED_TRACE("seed " + std::to_string(seed));
  Cluster c(5, [&](Config& config) {
    config.pre_vote = pre_vote;
    config.check_quorum = check_quorum;
    config.random = seeded_random(seed * 131 + config.id);
    config.max_message_bytes = 16;
    config.max_inflight_messages = 4;
  });
  RandomSource rnd = seeded_random(seed);
  auto chance = [&](int percent) { return static_cast<int>(rnd() % 100) < percent; };
  SafetyChecker checker;
  int proposals = 0;
  for (int step = 0; step < 500; ++step) {
    NodeId some = static_cast<NodeId>(1 + rnd() % 5);
    if (chance(3)) c.isolate(some);
    if (chance(4)) c.heal();
    if (chance(1)) c.restart(some);
    for (NodeId id : c.ids()) c.core(id).tick();
    NodeId leader = c.leader();
    if (leader != kNoNode && chance(40)) {
      if (c.core(leader).propose("p" + std::to_string(proposals)).ok()) ++proposals;
    }
    c.process_all();
    // Deliver the queue shuffled, dropping and duplicating some messages.
    std::deque<Message>& q = c.queue();
    std::vector<Message> batch(q.begin(), q.end());
    q.clear();
    for (std::size_t i = batch.size(); i > 1; --i) std::swap(batch[i - 1], batch[rnd() % i]);
    for (Message& m : batch) {
      if (chance(10)) continue;
      if (!c.link_up(m.from, m.to)) continue;
      EXPECT_TRUE(c.core(m.to).step(m).ok());
      if (chance(5)) {
        EXPECT_TRUE(c.core(m.to).step(m).ok());  // duplicated
      }
      if (chance(20)) c.process(m.to);
    }
    checker.check(c);
    if (::testing::Test::HasFatalFailure()) return;
  }
  // Heal everything: a leader emerges and commits a fresh entry everywhere.
  // Without pre-vote, candidates with short logs keep bumping terms: allow many rounds.
  c.heal();
  c.tick_all(200);
  NodeId leader = c.leader();
  ASSERT_NE(leader, kNoNode);
  auto index = c.core(leader).propose("final");
  ASSERT_TRUE(index.ok());
  c.stabilize();
  c.tick_all(10);
  for (NodeId id : c.ids()) EXPECT_GE(c.core(id).commit_index(), *index) << node_name(id);
  checker.check(c);
  EXPECT_GT(checker.committed_count(), 1u);
}

TEST(RandomFaults, CommittedEntriesNeverDivergeWithPreVoteAndCheckQuorum) {
  for (std::uint64_t seed = 1; seed <= 8; ++seed) run(seed, true, true);
}

TEST(RandomFaults, CommittedEntriesNeverDivergeWithoutPreVoteOrCheckQuorum) {
  for (std::uint64_t seed = 100; seed <= 107; ++seed) run(seed, false, false);
}

}  // namespace
}  // namespace dledger::raft::testing
