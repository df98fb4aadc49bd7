// Input validation (messages, config, initial state) and repair mode.
#include <gtest/gtest.h>

#include <functional>
#include <vector>

#include "broker/ledger/raft/membership.h"
#include "tests/ledger/raft/raft_test_harness.h"

namespace dledger::raft::testing {
namespace {

Message valid_append() {
  Message m = make_message(MessageType::kAppend, 1, 2, 1);
  m.log_index = 1;
  m.log_term = 1;
  m.entries = {entry(2, 1), entry(3, 1)};
  m.commit = 1;
  return m;
}

TEST(Validation, MalformedMessageRejectedWithoutStateChange) {
  Cluster c(3);
  c.elect(1);
  CoreStatus before = c.core(2).status();

  std::vector<std::pair<std::string, Message>> bad;
  {
    Message m = valid_append();
    m.to = 3;
    bad.push_back({"addressed to another member", m});
  }
  {
    Message m = valid_append();
    m.from = kNoNode;
    bad.push_back({"no sender", m});
  }
  {
    Message m = valid_append();
    m.from = 2;
    bad.push_back({"from self", m});
  }
  {
    Message m = valid_append();
    m.type = static_cast<MessageType>(77);
    bad.push_back({"unknown type", m});
  }
  {
    Message m = valid_append();
    m.entries[1].index = 5;
    bad.push_back({"non-consecutive indexes", m});
  }
  {
    Message m = valid_append();
    m.entries[0].index = 3;
    m.entries[1].index = 4;
    bad.push_back({"first index not log_index + 1", m});
  }
  {
    Message m = valid_append();
    m.entries[1].term = 7;
    bad.push_back({"entry term above message term", m});
  }
  {
    Message m = valid_append();
    m.term = 3;
    m.log_term = 2;
    m.entries = {entry(2, 3), entry(3, 2)};
    bad.push_back({"entry terms decrease", m});
  }
  {
    Message m = valid_append();
    m.log_term = 0;
    m.term = 3;
    m.log_term = 3;
    m.entries = {entry(2, 2)};
    bad.push_back({"entry term below prev log term", m});
  }
  {
    Message m = valid_append();
    m.entries[0].type = static_cast<EntryType>(9);
    bad.push_back({"unknown entry type", m});
  }
  {
    Message m = valid_append();
    m.entries[0].type = EntryType::kConfig;
    m.entries[0].data = "garbage";
    bad.push_back({"undecodable config", m});
  }
  {
    Message m = valid_append();
    m.entries[0].type = EntryType::kConfig;
    m.entries[0].data = encode_membership(make_membership({}, {1, 2}));
    bad.push_back({"config without voters", m});
  }
  {
    Message m = make_message(MessageType::kVote, 1, 2, 5);
    m.entries = {entry(1, 1)};
    bad.push_back({"entries in a vote", m});
  }
  {
    Message m = make_message(MessageType::kInstallSnapshot, 1, 2, 5);
    bad.push_back({"snapshot missing", m});
  }
  {
    Message m = make_message(MessageType::kInstallSnapshot, 1, 2, 5);
    m.snapshot = Snapshot{};
    m.snapshot->meta.index = 10;
    m.snapshot->meta.term = 6;
    m.snapshot->meta.membership = make_membership({1, 2, 3});
    bad.push_back({"snapshot term above message term", m});
  }
  {
    Message m = make_message(MessageType::kInstallSnapshot, 1, 2, 5);
    m.snapshot = Snapshot{};
    m.snapshot->meta.index = 10;
    m.snapshot->meta.term = 5;
    bad.push_back({"snapshot without membership", m});
  }

  for (auto& [what, m] : bad) {
    Status s = c.core(2).step(m);
    ASSERT_FALSE(s.ok()) << what;
    EXPECT_EQ(s.error().code, ErrorCode::kInvalidArgument) << what;
    EXPECT_FALSE(s.error().message.empty());
    CoreStatus after = c.core(2).status();
    EXPECT_EQ(after.hard, before.hard) << what;
    EXPECT_EQ(after.soft, before.soft) << what;
    EXPECT_EQ(after.commit, before.commit) << what;
    EXPECT_EQ(after.last_index, before.last_index) << what;
    EXPECT_EQ(after.membership, before.membership) << what;
    EXPECT_FALSE(c.core(2).has_ready()) << what;
  }
  // The same message, well formed, is accepted.
  EXPECT_TRUE(c.core(2).step(valid_append()).ok());
  EXPECT_EQ(c.core(2).last_index(), 3u);
}

TEST(Validation, StaleTermMessagesIgnored) {
  Cluster c(3);
  c.elect(1);
  c.tick_all(11);
  c.isolate(1);
  c.tick_all(40);
  NodeId leader = c.leader();
  ASSERT_TRUE(leader == 2u || leader == 3u);
  NodeId follower = leader == 2 ? 3 : 2;
  CoreStatus before = c.core(follower).status();
  Message vote = make_message(MessageType::kVote, 1, follower, 1);
  vote.log_index = 100;
  vote.log_term = 1;
  ASSERT_TRUE(c.core(follower).step(vote).ok());
  Message response = make_message(MessageType::kVoteResponse, 1, follower, 1);
  response.success = true;
  ASSERT_TRUE(c.core(follower).step(response).ok());
  EXPECT_EQ(c.core(follower).status().hard, before.hard);
  EXPECT_EQ(c.core(follower).status().soft, before.soft);
}

TEST(Validation, CreateRejectsBadConfig) {
  MemoryStorage storage;
  InitialState initial;
  initial.bootstrap = make_membership({1});
  // Each case breaks one field of an otherwise valid config; the error names that field.
  struct Case {
    const char* field;
    std::function<void(Config&)> breaks;
  };
  const std::vector<Case> cases = {
      {"random", [](Config& c) { c.random = nullptr; }},
      {"id", [](Config& c) { c.id = kNoNode; }},
      {"election_timeout_min_ticks", [](Config& c) { c.election_timeout_min_ticks = 0; }},
      {"election_timeout_max_ticks", [](Config& c) { c.election_timeout_max_ticks = 5; }},
      {"heartbeat_interval_ticks", [](Config& c) { c.heartbeat_interval_ticks = 10; }},
      {"max_inflight_messages", [](Config& c) { c.max_inflight_messages = 0; }},
      {"max_partial_inflight_messages", [](Config& c) { c.max_partial_inflight_messages = 0; }},
      {"max_inflight_entries", [](Config& c) { c.max_inflight_entries = 0; }},
      {"max_inflight_bytes", [](Config& c) { c.max_inflight_bytes = 0; }},
      {"max_message_bytes", [](Config& c) { c.max_message_bytes = 0; }},
  };
  for (const Case& k : cases) {
    Config config = test_config(1);
    k.breaks(config);
    auto core = RaftCore::create(std::move(config), storage, initial);
    ASSERT_FALSE(core.ok()) << k.field;
    EXPECT_EQ(core.error().code, ErrorCode::kInvalidArgument) << k.field;
    EXPECT_NE(core.error().message.find(k.field), std::string::npos) << core.error().message;
  }
  EXPECT_TRUE(RaftCore::create(test_config(1), storage, initial).ok());
}

TEST(Validation, CreateRejectsInconsistentInitialState) {
  MemoryStorage storage;
  ASSERT_TRUE(storage.append({entry(1, 2), entry(2, 3)}).ok());
  InitialState initial;
  initial.bootstrap = make_membership({1});
  initial.hard_state.term = 3;
  initial.commit = 5;
  auto core = RaftCore::create(test_config(1), storage, initial);
  ASSERT_FALSE(core.ok());
  EXPECT_NE(core.error().message.find("commit 5"), std::string::npos);
  initial.commit = 2;
  initial.hard_state.term = 2;  // below the last log term
  core = RaftCore::create(test_config(1), storage, initial);
  ASSERT_FALSE(core.ok());
  EXPECT_NE(core.error().message.find("term 2"), std::string::npos);
  initial.hard_state.term = 3;
  EXPECT_TRUE(RaftCore::create(test_config(1), storage, initial).ok());
}

TEST(Repair, RepairingMemberDoesNotVoteOrCampaign) {
  Cluster c(3, [](Config& config) { config.check_quorum = false; });
  c.elect(1);
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(c.core(1).propose("x").ok());
  c.stabilize();
  // n3 lost a damaged suffix: it may once have acknowledged up to index 10.
  c.isolate(1);
  c.restart(3, 10);
  EXPECT_EQ(c.core(3).status().repair_until, 10u);
  c.core(3).campaign();
  EXPECT_EQ(c.core(3).soft_state().role, Role::kFollower);
  c.tick(3, 100);
  EXPECT_EQ(c.core(3).soft_state().role, Role::kFollower);
  EXPECT_EQ(c.core(3).hard_state().term, 1u);
  // n2 cannot win with n3 unable to vote.
  c.core(2).campaign();
  c.stabilize();
  EXPECT_NE(c.core(2).soft_state().role, Role::kLeader);
  EXPECT_EQ(c.core(3).hard_state().vote, 1u);  // unchanged from term 1
  c.expect_invariants();
}

TEST(Repair, RepairEndsAfterAppendingLeadersCommitInItsTerm) {
  Cluster c(3);
  c.elect(1);
  ASSERT_TRUE(c.core(1).propose("x").ok());
  c.stabilize();
  c.restart(3, 50);
  ASSERT_EQ(c.core(3).status().repair_until, 50u);
  // Index 2 ("x") is committed in the leader's term: once n3 holds it and hears the commit,
  // its log provably contains everything committed.
  c.tick_all(4);
  EXPECT_EQ(c.core(3).status().repair_until, 0u);
  // And it votes and campaigns again: without n1, n2 and n3 need each other's vote.
  c.isolate(1);
  c.tick_all(60);
  NodeId leader = c.leader();
  EXPECT_TRUE(leader == 2u || leader == 3u) << node_name(leader);
  EXPECT_GT(c.core(3).hard_state().term, 1u);
  c.expect_invariants();
}

TEST(Repair, MemberThatLostAcknowledgedSuffixIsRefilled) {
  Cluster c(3);
  c.elect(1);
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(c.core(1).propose("e" + std::to_string(i)).ok());
  c.stabilize();
  ASSERT_EQ(c.core(1).status().peers[1].match_index, 6u);
  // n3's storage quarantined a damaged suffix: it keeps 1..3 of the 6 it acknowledged.
  c.storage(3).truncate_after(3);
  c.restart(3, 6);
  EXPECT_EQ(c.core(3).last_index(), 3u);
  c.tick_all(6);
  EXPECT_EQ(c.core(3).last_index(), 6u);
  EXPECT_EQ(c.stored(3, 1, 6), c.stored(1, 1, 6));
  EXPECT_EQ(c.core(3).status().repair_until, 0u);
  c.expect_invariants();
}

TEST(Repair, HeartbeatsDoNotEndRepairBeforeTheMemberHoldsTheLeadersCommit) {
  Cluster c(3);
  c.elect(1);
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(c.core(1).propose("e" + std::to_string(i)).ok());
  c.stabilize();
  ASSERT_EQ(c.core(1).commit_index(), 6u);
  // n3 keeps 1..3 of the 6 it acknowledged, and only heartbeats reach it: its rejection lowers
  // the leader's match for it to 3, and later heartbeats are anchored there. Each must still tell
  // n3 the real commit (6), or n3 would count itself repaired holding 3 and could elect a
  // leader without the committed entries 4..6.
  c.storage(3).truncate_after(3);
  c.restart(3, 6);
  c.set_filter([](Message& m) { return !(m.to == 3 && !m.entries.empty()); });
  c.tick_all(10);
  EXPECT_EQ(c.core(3).last_index(), 3u);
  EXPECT_EQ(c.core(3).status().repair_until, 6u);
  c.clear_filter();
  c.tick_all(6);
  EXPECT_EQ(c.core(3).last_index(), 6u);
  EXPECT_EQ(c.core(3).status().repair_until, 0u);
  c.expect_invariants();
}

TEST(Validation, ResponseFromNonMemberRejected) {
  Cluster c(3);
  c.elect(1);
  Message m = make_message(MessageType::kAppendResponse, 7, 1, 1);
  m.success = true;
  m.match_index = 1;
  Status s = c.core(1).step(m);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code, ErrorCode::kInvalidArgument);
  EXPECT_NE(s.error().message.find("n7"), std::string::npos);
  // A request from an unknown member is legitimate (its configuration may be newer than ours).
  Message append = make_message(MessageType::kAppend, 7, 2, 5);
  append.log_index = 1;
  append.log_term = 1;
  EXPECT_TRUE(c.core(2).step(append).ok());
  EXPECT_EQ(c.core(2).soft_state().leader, 7u);
}

TEST(Repair, RepairEndsWhenLastIndexReachesRepairUntil) {
  Cluster c(3);
  c.elect(1);
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(c.core(1).propose("x").ok());
  c.stabilize();
  c.restart(3, 4);  // the log already reaches index 4
  EXPECT_EQ(c.core(3).status().repair_until, 0u);
}

}  // namespace
}  // namespace dledger::raft::testing
