// Replication: commit rules, conflict hints, flow control, heartbeats, persistence ordering.
#include <gtest/gtest.h>

#include "tests/ledger/raft/raft_test_harness.h"

namespace dledger::raft::testing {
namespace {

bool is_append_with_entries(const Message& m, NodeId to) {
  return m.type == MessageType::kAppend && m.to == to && !m.entries.empty();
}

TEST(Replication, ProposalIsReplicatedAndCommittedEverywhere) {
  Cluster c(3);
  c.elect(1);
  auto index = c.core(1).propose("hello");
  ASSERT_TRUE(index.ok());
  EXPECT_EQ(*index, 2u);
  c.stabilize();
  for (NodeId id : c.ids()) {
    EXPECT_EQ(c.core(id).commit_index(), 2u) << node_name(id);
    auto stored = c.stored(id, 2, 2);
    ASSERT_EQ(stored.size(), 1u);
    EXPECT_EQ(stored[0].data, "hello");
    EXPECT_EQ(c.storage(id).commit(), 2u);
  }
  c.expect_invariants();
}

TEST(Replication, ProposalRefusedByFollower) {
  Cluster c(3);
  c.elect(1);
  auto r = c.core(2).propose("x");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::kNotLeader);
}

TEST(Replication, BatchProposalAppendsConsecutiveEntries) {
  Cluster c(3);
  c.elect(1);
  auto r = c.core(1).propose_batch({"a", "b", "c"});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r, 2u);
  c.stabilize();
  auto stored = c.stored(3, 2, 4);
  ASSERT_EQ(stored.size(), 3u);
  EXPECT_EQ(stored[2].data, "c");
  EXPECT_EQ(c.core(3).commit_index(), 4u);
}

// Raft Figure 8 on three members: an entry of an older term that reaches a majority is not
// committed by counting; a later leader may legitimately overwrite it.
void build_figure8(Cluster& c) {
  c.elect(1);  // term 1, no-op at 1 committed everywhere
  c.isolate(1);
  ASSERT_TRUE(c.core(1).propose("a").ok());  // (2, t1) only on n1
  c.stabilize();
  c.heal();
  c.isolate(1);
  // n2 wins term 2 but its no-op (2, t2) reaches nobody.
  c.set_filter([](Message& m) { return !(m.from == 2 && m.type == MessageType::kAppend); });
  c.core(2).campaign();
  c.stabilize();
  ASSERT_EQ(c.core(2).soft_state().role, Role::kLeader);
  ASSERT_EQ(c.core(2).soft_state().term, 2u);
  // n1 comes back (n2 is cut off) and wins term 3 with n3's vote; n3 receives only (2, t1).
  c.heal();
  c.isolate(2);
  c.set_filter([](Message& m) {
    if (m.from == 1 && m.to == 3 && m.type == MessageType::kAppend) {
      while (!m.entries.empty() && m.entries.back().index >= 3) m.entries.pop_back();
      m.commit = std::min<std::uint64_t>(m.commit, 1);
    }
    return true;
  });
  c.tick(1, 2);  // n1 still believes it leads term 1: its heartbeat learns term 2 from n3
  c.stabilize();
  ASSERT_EQ(c.core(1).soft_state().role, Role::kFollower);
  c.core(1).campaign();
  c.stabilize();
  ASSERT_EQ(c.core(1).soft_state().role, Role::kLeader);
  ASSERT_EQ(c.core(1).soft_state().term, 3u);
  ASSERT_EQ(c.core(3).last_index(), 2u);
  ASSERT_EQ(c.stored(3, 2, 2)[0].term, 1u);
}

TEST(Replication, PreviousTermEntryNotCommittedByCounting) {
  Cluster c(3, [](Config& config) { config.check_quorum = false; });
  build_figure8(c);
  // (2, t1) is on n1 and n3, a majority, but it is from term 1: not committed.
  EXPECT_EQ(c.core(1).commit_index(), 1u);
  // n2 can still win (its last term 2 beats n3's 1) and replace it: no committed entry is lost.
  c.heal();
  c.isolate(1);
  c.clear_filter();
  c.tick(2, 2);  // n2 still believes it leads term 2: its heartbeat learns term 3
  c.stabilize();
  c.core(2).campaign();
  c.stabilize();
  ASSERT_EQ(c.core(2).soft_state().role, Role::kLeader);
  EXPECT_EQ(c.stored(3, 2, 2)[0].term, 2u);
  EXPECT_GE(c.core(3).commit_index(), 3u);
  c.expect_invariants();
}

TEST(Replication, CommitPreviousTermByCountingFaultBreaksSafety) {
  Cluster c(3, [](Config& config) {
    config.check_quorum = false;
    config.test_faults.commit_previous_term_by_counting = true;
  });
  build_figure8(c);
  // The fault commits (2, t1) by counting ...
  ASSERT_EQ(c.core(1).commit_index(), 2u);
  // ... and a later leader overwrites it on a majority: the committed "a" is lost.
  c.heal();
  c.isolate(1);
  c.clear_filter();
  c.tick(2, 2);  // n2 still believes it leads term 2: its heartbeat learns term 3
  c.stabilize();
  c.core(2).campaign();
  c.stabilize();
  ASSERT_EQ(c.core(2).soft_state().role, Role::kLeader);
  EXPECT_GE(c.core(3).commit_index(), 2u);
  EXPECT_EQ(c.stored(3, 2, 2)[0].term, 2u);
  EXPECT_EQ(c.stored(1, 2, 2)[0].data, "a");  // n1 committed a different entry at index 2
}

TEST(Replication, ConflictHintSkipsWholeTerm) {
  Cluster c(2, [](Config& config) { config.check_quorum = false; });
  // Leader log: 1..3 in term 1, 4..10 in term 3. Follower: 1..3 term 1, 4..10 term 2.
  std::vector<Entry> leader_log;
  std::vector<Entry> follower_log;
  for (std::uint64_t i = 1; i <= 10; ++i) {
    leader_log.push_back(entry(i, i <= 3 ? 1 : 3));
    follower_log.push_back(entry(i, i <= 3 ? 1 : 2));
  }
  c.reset_node(1, leader_log, HardState{3, 1});
  c.reset_node(2, follower_log, HardState{3, kNoNode});
  int rejections = 0;
  c.set_filter([&](Message& m) {
    if (m.type == MessageType::kAppendResponse && !m.success) ++rejections;
    return true;
  });
  c.elect(1);
  ASSERT_EQ(c.leader(), 1u);
  EXPECT_EQ(rejections, 1);  // one round trip skips all seven term-2 entries
  EXPECT_EQ(c.stored(2, 1, 11), c.stored(1, 1, 11));
  EXPECT_EQ(c.core(2).commit_index(), 11u);
}

TEST(Replication, ConflictHintResumesAfterLeadersLastEntryOfThatTerm) {
  Cluster c(2, [](Config& config) { config.check_quorum = false; });
  std::vector<Entry> leader_log;
  std::vector<Entry> follower_log;
  for (std::uint64_t i = 1; i <= 10; ++i) {
    leader_log.push_back(entry(i, i <= 6 ? 2 : 3));
    follower_log.push_back(entry(i, 2));
  }
  // The follower's 7..10 (term 2) differ from the leader's (term 3).
  c.reset_node(1, leader_log, HardState{3, 1});
  c.reset_node(2, follower_log, HardState{3, kNoNode});
  std::vector<std::uint64_t> append_prev_indexes;
  c.set_filter([&](Message& m) {
    if (m.type == MessageType::kAppend && m.from == 1) append_prev_indexes.push_back(m.log_index);
    return true;
  });
  c.elect(1);
  ASSERT_EQ(c.leader(), 1u);
  ASSERT_GE(append_prev_indexes.size(), 2u);
  EXPECT_EQ(append_prev_indexes[0], 10u);
  EXPECT_EQ(append_prev_indexes[1], 6u);  // straight after the leader's last term-2 entry
  EXPECT_EQ(c.stored(2, 1, 11), c.stored(1, 1, 11));
}

TEST(Replication, InflightCapLimitsPipeliningByMessages) {
  Cluster c(3, [](Config& config) {
    config.max_inflight_messages = 2;
    config.max_message_bytes = 1;  // one entry per message
  });
  c.elect(1);
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(c.core(1).propose("x").ok());
  c.process(1);
  auto to_2 = c.take([](const Message& m) { return is_append_with_entries(m, 2); });
  EXPECT_EQ(to_2.size(), 2u);
  EXPECT_EQ(c.core(1).status().peers[0].inflight_messages, 2u);
  // Acknowledging the first frees one slot.
  ASSERT_TRUE(c.core(2).step(to_2[0]).ok());
  c.process(2);
  auto acks = c.take([](const Message& m) { return m.type == MessageType::kAppendResponse; });
  ASSERT_EQ(acks.size(), 1u);
  ASSERT_TRUE(c.core(1).step(acks[0]).ok());
  c.process(1);
  EXPECT_EQ(c.take([](const Message& m) { return is_append_with_entries(m, 2); }).size(), 1u);
}

// Delivers every Append to `to` in `appends` and returns the follower's acknowledgements.
std::vector<Message> acknowledge(Cluster& c, NodeId to, const std::vector<Message>& appends) {
  for (const Message& m : appends) EXPECT_TRUE(c.core(to).step(m).ok());
  c.process(to);
  return c.take(
      [to](const Message& m) { return m.type == MessageType::kAppendResponse && m.from == to; });
}

std::vector<Message> appends_to(Cluster& c, NodeId to) {
  return c.take([to](const Message& m) { return m.type == MessageType::kAppend && m.to == to; });
}

TEST(Replication, CoalescingSendsEntriesProposedDuringARoundTripInOneAppend) {
  Cluster c(3, [](Config& config) { config.max_partial_inflight_messages = 1; });
  c.elect(1);
  ASSERT_TRUE(c.core(1).propose("a").ok());
  c.process(1);
  auto first = appends_to(c, 2);
  ASSERT_EQ(first.size(), 1u);  // nothing was in flight: sent at once
  ASSERT_EQ(first[0].entries.size(), 1u);
  ASSERT_TRUE(c.core(1).propose("b").ok());
  c.process(1);
  ASSERT_TRUE(c.core(1).propose("c").ok());
  c.process(1);
  EXPECT_TRUE(appends_to(c, 2).empty());  // held while "a" is unacknowledged
  for (const Message& ack : acknowledge(c, 2, first)) ASSERT_TRUE(c.core(1).step(ack).ok());
  c.process(1);
  auto next = appends_to(c, 2);
  ASSERT_EQ(next.size(), 1u);
  ASSERT_EQ(next[0].entries.size(), 2u);
  EXPECT_EQ(next[0].entries[0].data, "b");
  EXPECT_EQ(next[0].entries[1].data, "c");
}

TEST(Replication, CoalescingSendsABatchThatFillsAMessageWithoutWaiting) {
  Cluster c(3, [](Config& config) {
    config.max_partial_inflight_messages = 1;
    config.max_message_bytes = 8;
  });
  c.elect(1);
  ASSERT_TRUE(c.core(1).propose("abcd").ok());
  c.process(1);
  ASSERT_EQ(appends_to(c, 2).size(), 1u);
  ASSERT_TRUE(c.core(1).propose("efgh").ok());
  c.process(1);
  EXPECT_TRUE(appends_to(c, 2).empty());  // 4 bytes: a partial batch waits
  ASSERT_TRUE(c.core(1).propose("ijkl").ok());
  c.process(1);
  auto full = appends_to(c, 2);  // 8 bytes fill a message: pipelined at once
  ASSERT_EQ(full.size(), 1u);
  EXPECT_EQ(full[0].entries.size(), 2u);
  EXPECT_EQ(c.core(1).status().peers[0].inflight_messages, 2u);
}

TEST(Replication, CoalescedFollowerLearnsTheCommitFromItsNextAppendNotAnExtraHeartbeat) {
  Cluster c(3, [](Config& config) { config.max_partial_inflight_messages = 1; });
  c.elect(1);
  Result<std::uint64_t> a = c.core(1).propose("a");
  ASSERT_TRUE(a.ok());
  c.process(1);
  auto a_to_2 = appends_to(c, 2);
  auto a_to_3 = appends_to(c, 3);
  ASSERT_TRUE(c.core(1).propose("b").ok());
  c.process(1);
  // Member 3 acknowledges "a": committed by the leader and 3.
  for (const Message& ack : acknowledge(c, 3, a_to_3)) ASSERT_TRUE(c.core(1).step(ack).ok());
  c.process(1);
  ASSERT_EQ(c.core(1).status().commit, *a);
  EXPECT_TRUE(appends_to(c, 2).empty());  // "b" waits for 2's answer; no commit-only heartbeat
  for (const Message& ack : acknowledge(c, 2, a_to_2)) ASSERT_TRUE(c.core(1).step(ack).ok());
  c.process(1);
  auto next = appends_to(c, 2);
  ASSERT_EQ(next.size(), 1u);
  ASSERT_EQ(next[0].entries.size(), 1u);
  EXPECT_EQ(next[0].entries[0].data, "b");
  EXPECT_EQ(next[0].commit, *a);
}

TEST(Replication, InflightCapLimitsPipeliningByBytes) {
  Cluster c(3, [](Config& config) {
    config.max_inflight_bytes = 10;
    config.max_message_bytes = 4;  // one 4-byte entry per message
  });
  c.elect(1);
  for (int i = 0; i < 6; ++i) ASSERT_TRUE(c.core(1).propose("abcd").ok());
  c.process(1);
  auto to_2 = c.take([](const Message& m) { return is_append_with_entries(m, 2); });
  EXPECT_EQ(to_2.size(), 3u);  // 4 + 4 < 10 allows a third; 12 >= 10 stops
}

TEST(Replication, InflightCapLimitsPipeliningByEntries) {
  Cluster c(3, [](Config& config) { config.max_inflight_entries = 3; });
  c.elect(1);
  ASSERT_TRUE(c.core(1).propose_batch({"a", "b", "c", "d", "e", "f", "g", "h"}).ok());
  c.process(1);
  // Every entry would fit one message by bytes; the entry cap lets only three leave.
  auto to_2 = c.take([](const Message& m) { return is_append_with_entries(m, 2); });
  std::size_t sent = 0;
  for (const Message& m : to_2) sent += m.entries.size();
  EXPECT_EQ(sent, 3u);
  ASSERT_EQ(c.core(1).status().peers[0].id, 2u);
  EXPECT_EQ(c.core(1).status().peers[0].inflight_entries, 3u);
  // Acknowledging them makes room for the next three, not more.
  for (const Message& m : to_2) ASSERT_TRUE(c.core(2).step(m).ok());
  c.process(2);
  for (const Message& ack :
       c.take([](const Message& m) { return m.type == MessageType::kAppendResponse; })) {
    ASSERT_TRUE(c.core(1).step(ack).ok());
  }
  c.process(1);
  auto next = c.take([](const Message& m) { return is_append_with_entries(m, 2); });
  sent = 0;
  for (const Message& m : next) sent += m.entries.size();
  EXPECT_EQ(sent, 3u);
  ASSERT_FALSE(next.empty());
  EXPECT_EQ(next.front().entries.front().index, 5u);  // 1 no-op + a, b, c acknowledged
  // The cap throttles, it does not lose anything: everything is replicated in the end.
  for (const Message& m : next) ASSERT_TRUE(c.core(2).step(m).ok());
  c.stabilize();
  EXPECT_EQ(c.stored(2, 1, 9), c.stored(1, 1, 9));
  EXPECT_EQ(c.core(2).commit_index(), 9u);
  c.expect_invariants();
}

TEST(Replication, BatchingRespectsMaxMessageBytes) {
  Cluster c(3, [](Config& config) { config.max_message_bytes = 8; });
  c.elect(1);
  ASSERT_TRUE(c.core(1).propose_batch({"abcd", "efgh", "ijkl", "mnop", "qrst"}).ok());
  c.process(1);
  auto to_2 = c.take([](const Message& m) { return is_append_with_entries(m, 2); });
  ASSERT_EQ(to_2.size(), 3u);
  EXPECT_EQ(to_2[0].entries.size(), 2u);
  EXPECT_EQ(to_2[1].entries.size(), 2u);
  EXPECT_EQ(to_2[2].entries.size(), 1u);
  EXPECT_EQ(to_2[1].log_index, to_2[0].entries.back().index);  // pipelined back to back
}

TEST(Replication, HeartbeatCarriesTheLeadersCommitIndex) {
  Cluster c(3);
  c.elect(1);
  // n3 receives index 2 but its acknowledgements are lost: n1 and n2 commit it.
  c.set_filter([](Message& m) { return !(m.from == 3 && m.type == MessageType::kAppendResponse); });
  ASSERT_TRUE(c.core(1).propose("x").ok());
  c.stabilize();
  ASSERT_EQ(c.core(1).commit_index(), 2u);
  EXPECT_EQ(c.core(2).commit_index(), 2u);
  EXPECT_EQ(c.core(3).last_index(), 2u);
  c.tick(1, 2);
  c.process(1);
  auto heartbeats = c.take([](const Message& m) {
    return m.type == MessageType::kAppend && m.to == 3 && m.entries.empty();
  });
  ASSERT_EQ(heartbeats.size(), 1u);
  // Not capped at n3's known match (1): a repairing follower compares it with its log.
  EXPECT_EQ(heartbeats[0].commit, 2u);
  EXPECT_EQ(heartbeats[0].log_index, 2u);  // anchored at the last entry sent
  ASSERT_TRUE(c.core(3).step(heartbeats[0]).ok());
  EXPECT_EQ(c.core(3).commit_index(), 2u);  // n3 holds the anchor, so it may apply up to it
}

TEST(Replication, FollowerNeverCommitsPastTheAnchorItVerified) {
  Cluster c(3);
  c.elect(1);
  c.isolate(3);  // n3 holds only the no-op (index 1)
  ASSERT_TRUE(c.core(1).propose("x").ok());
  ASSERT_TRUE(c.core(1).propose("y").ok());
  c.stabilize();
  ASSERT_EQ(c.core(1).commit_index(), 3u);
  ASSERT_EQ(c.core(3).last_index(), 1u);
  Message heartbeat = make_message(MessageType::kAppend, 1, 3, c.core(1).soft_state().term);
  heartbeat.log_index = 1;
  heartbeat.log_term = c.core(1).soft_state().term;
  heartbeat.commit = 3;
  ASSERT_TRUE(c.core(3).step(heartbeat).ok());
  EXPECT_EQ(c.core(3).commit_index(), 1u);
  c.expect_invariants();
}

TEST(Replication, LeaderCountsItselfOnlyAfterPersist) {
  Cluster c(1);
  c.elect(1);
  ASSERT_EQ(c.core(1).commit_index(), 1u);
  ASSERT_TRUE(c.core(1).propose("x").ok());
  EXPECT_EQ(c.core(1).commit_index(), 1u);
  Ready r = c.core(1).ready();
  ASSERT_EQ(r.entries.size(), 1u);
  EXPECT_EQ(c.core(1).commit_index(), 1u);  // handed out, not yet durable
  ASSERT_TRUE(c.storage(1).persist(r).ok());
  c.core(1).on_persisted(r.persist_index, r.persist_term);
  EXPECT_EQ(c.core(1).commit_index(), 2u);
}

TEST(Replication, LeaderCommitsWithFollowersBeforeOwnPersist) {
  Cluster c(3);
  c.elect(1);
  ASSERT_TRUE(c.core(1).propose("x").ok());
  Ready r = c.core(1).ready();  // not persisted by the leader yet
  for (const Message& m : r.messages) ASSERT_TRUE(c.core(m.to).step(m).ok());
  c.process(2);
  c.process(3);
  ASSERT_TRUE(c.deliver());
  // Two followers hold index 2: a majority without the leader's own copy.
  EXPECT_EQ(c.core(1).commit_index(), 2u);
  // The commit handed to the application waits for the local copy.
  Ready next = c.core(1).ready();
  EXPECT_EQ(next.commit, 1u);
  ASSERT_TRUE(c.storage(1).persist(r).ok());
  c.core(1).on_persisted(r.persist_index, r.persist_term);
  EXPECT_EQ(c.core(1).ready().commit, 2u);
}

TEST(Replication, AppendAcknowledgedOnlyAfterPersist) {
  Cluster c(3);
  c.elect(1);
  ASSERT_TRUE(c.core(1).propose("x").ok());
  c.process(1);
  auto to_2 = c.take([](const Message& m) { return is_append_with_entries(m, 2); });
  ASSERT_EQ(to_2.size(), 1u);
  ASSERT_TRUE(c.core(2).step(to_2[0]).ok());
  Ready r = c.core(2).ready();
  ASSERT_EQ(r.entries.size(), 1u);
  for (const Message& m : r.messages) EXPECT_NE(m.type, MessageType::kAppendResponse);
  ASSERT_EQ(r.messages_after_persist.size(), 1u);
  EXPECT_EQ(r.messages_after_persist[0].type, MessageType::kAppendResponse);
  EXPECT_TRUE(r.messages_after_persist[0].success);
  EXPECT_EQ(r.messages_after_persist[0].match_index, 2u);
  EXPECT_EQ(r.persist_index, 2u);
}

TEST(Replication, ReadyCommitCappedAtLocallyPersisted) {
  Cluster c(3);
  c.elect(1);
  c.isolate(3);
  ASSERT_TRUE(c.core(1).propose("x").ok());
  c.stabilize();
  ASSERT_EQ(c.core(1).commit_index(), 2u);
  // n3 receives index 2 together with commit 2.
  Message append = make_message(MessageType::kAppend, 1, 3, 1);
  append.log_index = 1;
  append.log_term = 1;
  append.entries.push_back(entry(2, 1, "x"));
  append.commit = 2;
  ASSERT_TRUE(c.core(3).step(append).ok());
  EXPECT_EQ(c.core(3).commit_index(), 2u);
  Ready r = c.core(3).ready();
  EXPECT_EQ(r.commit, 1u);  // index 2 is not durable yet
  ASSERT_TRUE(c.storage(3).persist(r).ok());
  c.core(3).on_persisted(r.persist_index, r.persist_term);
  EXPECT_EQ(c.core(3).ready().commit, 2u);
}

TEST(Replication, FollowerTruncatesConflictingUncommittedSuffix) {
  Cluster c(3, [](Config& config) { config.check_quorum = false; });
  c.elect(1);
  c.isolate(1);
  ASSERT_TRUE(c.core(1).propose_batch({"lost1", "lost2"}).ok());
  c.stabilize();
  c.heal();
  c.isolate(1);
  c.elect(2);
  ASSERT_EQ(c.leader(), 2u);
  ASSERT_TRUE(c.core(2).propose("kept").ok());
  c.stabilize();
  c.heal();
  c.tick_all(5);
  EXPECT_EQ(c.core(1).soft_state().leader, 2u);
  EXPECT_EQ(c.stored(1, 1, c.core(2).last_index()), c.stored(2, 1, c.core(2).last_index()));
  EXPECT_EQ(c.stored(1, 3, 3)[0].data, "kept");
  c.expect_invariants();
}

TEST(Replication, LostAppendIsRetransmitted) {
  Cluster c(3);
  c.elect(1);
  // The Append carrying index 2 to n3 is lost; nothing else is proposed.
  c.set_filter([](Message& m) { return !(m.to == 3 && !m.entries.empty()); });
  ASSERT_TRUE(c.core(1).propose("x").ok());
  c.stabilize();
  EXPECT_EQ(c.core(3).last_index(), 1u);
  c.clear_filter();
  c.tick_all(30);
  EXPECT_EQ(c.core(3).last_index(), 2u);
  EXPECT_EQ(c.core(3).commit_index(), 2u);
}

TEST(Replication, HeartbeatRejectionRevealsLostPipelinedAppend) {
  Cluster c(3);
  c.elect(1);
  ASSERT_TRUE(c.core(1).propose("a").ok());
  c.stabilize();
  ASSERT_EQ(c.core(1).status().peers[1].state, ProgressState::kReplicate);
  c.set_filter([](Message& m) { return !(m.to == 3 && !m.entries.empty()); });
  ASSERT_TRUE(c.core(1).propose("b").ok());
  c.stabilize();
  c.clear_filter();
  ASSERT_EQ(c.core(3).last_index(), 2u);
  // The next heartbeat is anchored at index 3, which n3 lacks: its rejection triggers a resend
  // within one heartbeat round trip, long before the stall timeout.
  c.tick_all(2);
  EXPECT_EQ(c.core(3).last_index(), 3u);
}

TEST(Replication, UnreachableFollowerIsProbed) {
  Cluster c(3);
  c.elect(1);
  ASSERT_TRUE(c.core(1).propose("x").ok());
  c.stabilize();
  ASSERT_EQ(c.core(1).status().peers[1].state, ProgressState::kReplicate);
  c.core(1).report_unreachable(3);
  EXPECT_EQ(c.core(1).status().peers[1].state, ProgressState::kProbe);
  c.tick_all(5);
  EXPECT_EQ(c.core(1).status().peers[1].state, ProgressState::kReplicate);
}

TEST(Replication, StaleLeaderAppendIsAnsweredWithNewerTerm) {
  Cluster c(3);
  c.elect(1);
  c.tick_all(11);  // leases expire only after an election timeout without the leader
  c.isolate(1);
  c.tick_all(30);
  NodeId leader = c.leader();
  ASSERT_TRUE(leader == 2u || leader == 3u);
  std::uint64_t term = c.core(leader).soft_state().term;
  Message stale = make_message(MessageType::kAppend, 1, leader == 2 ? 3 : 2, 1);
  stale.log_index = 1;
  stale.log_term = 1;
  NodeId follower = stale.to;
  ASSERT_TRUE(c.core(follower).step(stale).ok());
  c.process(follower);
  auto replies =
      c.take([&](const Message& m) { return m.to == 1 && m.type == MessageType::kAppendResponse; });
  ASSERT_EQ(replies.size(), 1u);
  EXPECT_FALSE(replies[0].success);
  EXPECT_EQ(replies[0].term, term);
  EXPECT_EQ(c.core(follower).soft_state().leader, leader);
}

}  // namespace
}  // namespace dledger::raft::testing
