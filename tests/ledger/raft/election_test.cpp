// Elections: one-round election, the up-to-date rule, pre-vote, lease, check-quorum, no-op.
#include <gtest/gtest.h>

#include <map>

#include "tests/ledger/raft/raft_test_harness.h"

namespace dledger::raft::testing {
namespace {

TEST(Election, LeaderElectedInOneRoundWhenAllVotersUp) {
  Cluster c(3);
  c.elect(1);
  EXPECT_EQ(c.leader(), 1u);
  for (NodeId id : c.ids()) {
    EXPECT_EQ(c.core(id).soft_state().term, 1u) << node_name(id);
    EXPECT_EQ(c.core(id).soft_state().leader, 1u) << node_name(id);
  }
  c.expect_invariants();
}

TEST(Election, FollowerCampaignsAfterRandomizedElectionTimeout) {
  Cluster c(3);
  // Nobody leads yet: ticking alone elects someone within the maximum timeout (20 ticks).
  c.tick_all(25);
  NodeId leader = c.leader();
  ASSERT_NE(leader, kNoNode);
  for (NodeId id : c.ids()) EXPECT_EQ(c.core(id).soft_state().leader, leader);
  c.expect_invariants();
}

TEST(Election, ElectionTimeoutDrawnFromConfiguredRange) {
  // A lone voter campaigns exactly when its randomized timeout expires: never before min.
  for (std::uint64_t seed = 1; seed <= 20; ++seed) {
    MemoryStorage storage;
    Config config = test_config(1);
    config.random = seeded_random(seed);
    InitialState initial;
    initial.bootstrap = make_membership({1});
    auto core = RaftCore::create(config, storage, initial);
    ASSERT_TRUE(core.ok());
    int ticks = 0;
    while ((*core)->soft_state().role != Role::kLeader && ticks < 100) {
      (*core)->tick();
      ++ticks;
    }
    EXPECT_GE(ticks, config.election_timeout_min_ticks);
    EXPECT_LE(ticks, config.election_timeout_max_ticks);
  }
}

TEST(Election, DefaultsAre150To300MsElectionTimeoutAnd50MsHeartbeatAt10MsTicks) {
  // The ledger server ticks every 10 ms (LedgerOptions::tick_ms).
  const Config defaults;
  EXPECT_EQ(defaults.election_timeout_min_ticks * 10, 150);
  EXPECT_EQ(defaults.election_timeout_max_ticks * 10, 300);
  EXPECT_EQ(defaults.heartbeat_interval_ticks * 10, 50);
  EXPECT_TRUE(defaults.pre_vote);
  EXPECT_TRUE(defaults.check_quorum);
}

// These tests send vote requests by hand; without check-quorum no lease makes members ignore them.
TEST(Election, CandidateWithStaleLastTermIsDeniedVote) {
  Cluster c(3, [](Config& config) { config.check_quorum = false; });
  c.elect(1);
  ASSERT_TRUE(c.core(1).propose("x").ok());
  c.stabilize();
  // n3 is at term 1 with a log ending at (2, 1). A candidate whose last entry has term 0 loses.
  Message vote = make_message(MessageType::kVote, 2, 3, 5);
  vote.log_index = 10;  // longer, but older last term
  vote.log_term = 0;
  ASSERT_TRUE(c.core(3).step(vote).ok());
  c.process(3);
  auto replies = c.take([](const Message& m) { return m.type == MessageType::kVoteResponse; });
  ASSERT_EQ(replies.size(), 1u);
  EXPECT_FALSE(replies[0].success);
  EXPECT_EQ(c.core(3).hard_state().vote, kNoNode);
}

TEST(Election, CandidateWithShorterLogInSameTermIsDeniedVote) {
  Cluster c(3, [](Config& config) { config.check_quorum = false; });
  c.elect(1);
  ASSERT_TRUE(c.core(1).propose("x").ok());
  c.stabilize();
  std::uint64_t last = c.core(3).last_index();
  Message vote = make_message(MessageType::kVote, 2, 3, 5);
  vote.log_index = last - 1;
  vote.log_term = 1;
  ASSERT_TRUE(c.core(3).step(vote).ok());
  c.process(3);
  auto replies = c.take([](const Message& m) { return m.type == MessageType::kVoteResponse; });
  ASSERT_EQ(replies.size(), 1u);
  EXPECT_FALSE(replies[0].success);

  Message fresh = make_message(MessageType::kVote, 2, 3, 6);
  fresh.log_index = last;
  fresh.log_term = 1;
  ASSERT_TRUE(c.core(3).step(fresh).ok());
  c.process(3);
  replies = c.take([](const Message& m) { return m.type == MessageType::kVoteResponse; });
  ASSERT_EQ(replies.size(), 1u);
  EXPECT_TRUE(replies[0].success);
  EXPECT_EQ(c.core(3).hard_state().vote, 2u);
}

TEST(Election, SkipUpToDateFaultGrantsStaleCandidates) {
  Cluster c(3, [](Config& config) {
    config.check_quorum = false;
    config.test_faults.skip_up_to_date_vote_check = true;
  });
  c.elect(1);
  ASSERT_TRUE(c.core(1).propose("x").ok());
  c.stabilize();
  Message vote = make_message(MessageType::kVote, 2, 3, 5);  // empty log
  ASSERT_TRUE(c.core(3).step(vote).ok());
  c.process(3);
  auto replies = c.take([](const Message& m) { return m.type == MessageType::kVoteResponse; });
  ASSERT_EQ(replies.size(), 1u);
  EXPECT_TRUE(replies[0].success);
}

TEST(Election, AtMostOneVotePerTerm) {
  Cluster c(3);
  Message a = make_message(MessageType::kVote, 1, 3, 1);
  Message b = make_message(MessageType::kVote, 2, 3, 1);
  ASSERT_TRUE(c.core(3).step(a).ok());
  ASSERT_TRUE(c.core(3).step(b).ok());
  c.process(3);
  auto replies = c.take([](const Message& m) { return m.type == MessageType::kVoteResponse; });
  ASSERT_EQ(replies.size(), 2u);
  for (const Message& r : replies) EXPECT_EQ(r.success, r.to == 1u) << node_name(r.to);
  EXPECT_EQ(c.core(3).hard_state().vote, 1u);
  c.expect_invariants();
}

// Raft §5.1: a vote request from a stale term is refused with the receiver's term, so a
// candidate whose own configuration only lists members ahead of it catches up and can win.
TEST(Election, StaleCandidateLearnsTheTermFromARefusedVote) {
  Cluster c(3, [](Config& config) {
    config.pre_vote = false;
    config.check_quorum = false;
  });
  c.isolate(2);
  for (int i = 0; i < 4; ++i) c.core(2).campaign();  // n2 alone climbs to term 4
  c.process(2);
  c.drop_all();
  c.heal();
  ASSERT_EQ(c.core(2).hard_state().term, 4u);
  Message vote = make_message(MessageType::kVote, 1, 2, 2);  // n1 campaigns in term 2
  vote.log_index = 1;
  vote.log_term = 1;
  ASSERT_TRUE(c.core(2).step(vote).ok());
  c.process(2);
  auto replies = c.take([](const Message& m) { return m.type == MessageType::kVoteResponse; });
  ASSERT_EQ(replies.size(), 1u);
  EXPECT_FALSE(replies[0].success);
  EXPECT_EQ(replies[0].term, 4u);
  EXPECT_EQ(c.core(2).hard_state().term, 4u);  // the stale request changed nothing here
  // The candidate adopts the term it hears, as from any message of a higher term.
  c.core(1).campaign();
  c.process(1);
  c.drop_all();
  ASSERT_EQ(c.core(1).hard_state().term, 1u);
  replies[0].to = 1;
  ASSERT_TRUE(c.core(1).step(replies[0]).ok());
  EXPECT_EQ(c.core(1).hard_state().term, 4u);
  EXPECT_EQ(c.core(1).soft_state().role, Role::kFollower);
}

TEST(Election, PreVoteDoesNotIncrementTerm) {
  Cluster c(3);
  c.elect(1);
  c.isolate(3);
  // The isolated member keeps timing out but, unable to win a pre-vote, never bumps its term.
  c.tick_all(200);
  EXPECT_EQ(c.core(3).soft_state().term, 1u);
  EXPECT_EQ(c.core(3).hard_state().term, 1u);
  EXPECT_NE(c.core(3).soft_state().role, Role::kCandidate);
  c.heal();
  c.tick_all(20);  // leases expire only if the leader is gone; it is not
  EXPECT_EQ(c.core(2).soft_state().term, 1u);
  EXPECT_EQ(c.leader(), 1u);
}

TEST(Election, PreVoteRequestLeavesVoterStateUnchanged) {
  Cluster c(3, [](Config& config) { config.check_quorum = false; });
  Message pre = make_message(MessageType::kPreVote, 2, 3, 4);
  ASSERT_TRUE(c.core(3).step(pre).ok());
  EXPECT_EQ(c.core(3).hard_state(), (HardState{0, kNoNode}));
  c.process(3);
  auto replies = c.take([](const Message& m) { return m.type == MessageType::kPreVoteResponse; });
  ASSERT_EQ(replies.size(), 1u);
  EXPECT_TRUE(replies[0].success);
  EXPECT_EQ(replies[0].term, 4u);  // answered for the proposed term
}

TEST(Election, LeaseMakesMembersIgnoreVotesOfRejoiningMember) {
  // Without pre-vote the partitioned member's term grows; check-quorum's lease still keeps the
  // leader and the members that hear from it from granting (or even adopting the term of) its
  // vote requests. (Its answer to the leader's next heartbeat is another matter: see
  // RejoiningMemberWithInflatedTermIsNotStrandedWithoutPreVote.)
  Cluster c(3, [](Config& config) { config.pre_vote = false; });
  c.elect(1);
  c.isolate(3);
  c.tick_all(100);
  ASSERT_GT(c.core(3).soft_state().term, 1u);
  c.heal();
  // Its vote requests reach members that hear from the leader: ignored.
  c.core(3).campaign();
  c.stabilize();
  EXPECT_EQ(c.core(2).soft_state().term, 1u);
  EXPECT_EQ(c.core(2).soft_state().leader, 1u);
  EXPECT_EQ(c.core(1).soft_state().role, Role::kLeader);
  EXPECT_EQ(c.core(1).hard_state().term, 1u);
  EXPECT_NE(c.core(3).soft_state().role, Role::kLeader);
  c.expect_invariants();
}

TEST(Election, RejoiningPartitionedMemberWithPreVoteKeepsTermAndLeader) {
  // The default configuration (pre-vote and check-quorum): the rejoining member never raised
  // its term, so nothing it sends deposes the healthy leader.
  Cluster c(3);
  c.elect(1);
  c.isolate(3);
  c.tick_all(100);
  // It kept trying (its log is as up to date as anyone's, so it could win a real vote) ...
  ASSERT_EQ(c.core(3).soft_state().role, Role::kPreCandidate);
  c.heal();
  c.tick_all(50);
  // ... but the leader keeps its term and leadership.
  EXPECT_EQ(c.leader(), 1u);
  for (NodeId id : c.ids()) EXPECT_EQ(c.core(id).soft_state().term, 1u);
  EXPECT_EQ(c.core(3).soft_state().leader, 1u);
  c.expect_invariants();
}

TEST(Election, MemberThatCannotHearLeaderDoesNotDeposeIt) {
  // An asymmetric partition: n3 can send but hears nothing from the leader. Its pre-votes reach
  // members that hear from the leader (and the leader itself), which ignore them.
  Cluster c(3);
  c.elect(1);
  c.set_filter([](Message& m) { return !(m.from == 1 && m.to == 3); });
  c.tick_all(200);
  EXPECT_EQ(c.leader(), 1u);
  for (NodeId id : c.ids()) EXPECT_EQ(c.core(id).hard_state().term, 1u) << node_name(id);
  EXPECT_EQ(c.core(2).soft_state().leader, 1u);
  ASSERT_TRUE(c.core(1).propose("still-leading").ok());
  c.stabilize();
  EXPECT_EQ(c.core(1).commit_index(), c.core(1).last_index());
  c.expect_invariants();
}

TEST(Election, RejoiningMemberWithInflatedTermIsNotStrandedWithoutPreVote) {
  // Without pre-vote the isolated member's term grows. Once it rejoins, the leader's next
  // heartbeat is answered with that term and the leader steps down (otherwise the member could
  // never rejoin: it refuses the leader's appends and the lease makes everyone ignore its votes).
  // This one disruption is what pre-vote, on by default, avoids (previous test).
  Cluster c(3, [](Config& config) { config.pre_vote = false; });
  c.elect(1);
  ASSERT_TRUE(c.core(1).propose("before").ok());
  c.stabilize();
  c.isolate(3);
  c.tick_all(100);
  const std::uint64_t inflated = c.core(3).hard_state().term;
  ASSERT_GT(inflated, 1u);
  c.heal();
  c.tick_all(100);
  NodeId leader = c.leader();
  ASSERT_NE(leader, kNoNode);
  for (NodeId id : c.ids()) {
    EXPECT_GT(c.core(id).soft_state().term, inflated) << node_name(id);
    EXPECT_EQ(c.core(id).soft_state().leader, leader) << node_name(id);
    EXPECT_EQ(c.stored(id, 2, 2)[0].data, "before") << node_name(id);
  }
  c.expect_invariants();
}

TEST(Election, LeaderStepsDownWithoutQuorum) {
  Cluster c(3);
  c.elect(1);
  c.isolate(1);
  // Check-quorum runs once per election timeout (10 ticks) over the previous round's contacts:
  // within two timeouts the isolated leader has noticed.
  c.tick_all(21);
  EXPECT_NE(c.core(1).soft_state().role, Role::kLeader);
  EXPECT_EQ(c.core(1).soft_state().leader, kNoNode);
}

// Followers whose disks stall (every persist pending) still answer heartbeats for what is
// durable, so check-quorum does not depose a leader that every member can hear; once the disks
// catch up, the stalled entries commit.
TEST(Election, LeaderKeepsLeadershipWhileFollowerDisksStall) {
  Cluster c(3);
  c.elect(1);
  ASSERT_TRUE(c.core(1).propose("before").ok());
  c.stabilize();
  ASSERT_TRUE(c.core(1).propose("stalled").ok());
  const std::uint64_t stalled = c.core(1).last_index();
  std::map<NodeId, std::vector<Ready>> held;  // followers' Readys: never persisted while stalled
  for (int t = 0; t < 60; ++t) {              // six election timeouts
    for (NodeId id : c.ids()) c.core(id).tick();
    for (int round = 0; round < 4; ++round) {
      while (c.core(1).has_ready()) c.process(1);
      for (NodeId id : {NodeId{2}, NodeId{3}}) {
        while (c.core(id).has_ready()) held[id].push_back(c.emit(id));
      }
      c.deliver();
    }
  }
  EXPECT_EQ(c.core(1).soft_state().role, Role::kLeader);
  EXPECT_EQ(c.leader(), 1u);
  EXPECT_LT(c.core(1).commit_index(), stalled);  // nothing new commits without a follower disk

  for (NodeId id : {NodeId{2}, NodeId{3}}) {
    for (const Ready& r : held[id]) c.persist(id, r);
  }
  c.stabilize();
  EXPECT_GE(c.core(1).commit_index(), stalled);
  c.expect_invariants();
}

TEST(Election, LeaderWithoutCheckQuorumKeepsRoleWhenIsolated) {
  Cluster c(3, [](Config& config) { config.check_quorum = false; });
  c.elect(1);
  c.isolate(1);
  c.tick(1, 100);
  EXPECT_EQ(c.core(1).soft_state().role, Role::kLeader);
}

TEST(Election, LeaderKeepsLeadershipWithQuorum) {
  Cluster c(3);
  c.elect(1);
  c.isolate(3);
  c.tick_all(50);
  EXPECT_EQ(c.core(1).soft_state().role, Role::kLeader);
  EXPECT_EQ(c.core(1).soft_state().term, 1u);
}

TEST(Election, NewLeaderAppendsNoOp) {
  Cluster c(3);
  c.elect(2);
  ASSERT_EQ(c.leader(), 2u);
  for (NodeId id : c.ids()) {
    auto entries = c.stored(id, 1, 1);
    ASSERT_EQ(entries.size(), 1u) << node_name(id);
    EXPECT_EQ(entries[0].type, EntryType::kNoOp);
    EXPECT_EQ(entries[0].term, 1u);
    EXPECT_EQ(c.core(id).commit_index(), 1u) << node_name(id);
  }
}

TEST(Election, VoteSentOnlyAfterPersist) {
  Cluster c(3);
  c.core(1).campaign();  // pre-vote round
  c.stabilize();
  ASSERT_EQ(c.leader(), 1u);
  // A real vote: the candidate's requests and the voter's grant wait for persistence.
  Cluster d(3, [](Config& config) { config.pre_vote = false; });
  d.core(1).campaign();
  Ready candidate = d.core(1).ready();
  ASSERT_TRUE(candidate.hard_state.has_value());
  EXPECT_EQ(candidate.hard_state->vote, 1u);
  for (const Message& m : candidate.messages) EXPECT_NE(m.type, MessageType::kVote);
  ASSERT_EQ(candidate.messages_after_persist.size(), 2u);
  EXPECT_EQ(candidate.messages_after_persist[0].type, MessageType::kVote);

  ASSERT_TRUE(d.core(2).step(candidate.messages_after_persist[0]).ok());
  Ready voter = d.core(2).ready();
  ASSERT_TRUE(voter.hard_state.has_value());
  EXPECT_EQ(voter.hard_state->vote, 1u);
  EXPECT_TRUE(voter.messages.empty());
  ASSERT_EQ(voter.messages_after_persist.size(), 1u);
  EXPECT_EQ(voter.messages_after_persist[0].type, MessageType::kVoteResponse);
  EXPECT_TRUE(voter.messages_after_persist[0].success);
}

TEST(Election, LearnerDoesNotCampaign) {
  Cluster c(2);
  c.add_node(3, make_membership({1, 2}, {3}));
  c.tick(3, 200);
  c.stabilize();
  EXPECT_EQ(c.core(3).soft_state().role, Role::kFollower);
  EXPECT_EQ(c.core(3).soft_state().term, 0u);
  c.core(3).campaign();
  EXPECT_EQ(c.core(3).soft_state().role, Role::kFollower);
}

TEST(Election, NonMemberDoesNotCampaign) {
  Cluster c(3);
  c.add_node(9, make_membership({1, 2, 3}));
  c.tick(9, 200);
  EXPECT_EQ(c.core(9).soft_state().role, Role::kFollower);
  EXPECT_EQ(c.core(9).hard_state().term, 0u);
}

TEST(Election, StaleLeaderStepsDownOnHigherTerm) {
  Cluster c(3);
  c.elect(1);
  c.isolate(1);
  c.tick_all(5);  // not enough for check-quorum to fire
  ASSERT_EQ(c.core(1).soft_state().role, Role::kLeader);
  // Elect 2 among the majority once 2 and 3 lose the lease.
  c.tick_all(30);
  NodeId leader = kNoNode;
  for (NodeId id : {2u, 3u}) {
    if (c.core(id).soft_state().role == Role::kLeader) leader = id;
  }
  ASSERT_NE(leader, kNoNode);
  c.heal();
  c.tick_all(10);
  EXPECT_EQ(c.core(1).soft_state().role, Role::kFollower);
  EXPECT_EQ(c.core(1).soft_state().leader, leader);
  c.expect_invariants();
}

}  // namespace
}  // namespace dledger::raft::testing
