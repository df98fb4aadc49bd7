// The store's state machine without a ledger: encoded entries in, state and records out.
#include "broker/store/store_state.h"

#include <gtest/gtest.h>

#include <map>
#include <set>

#include "broker/store/stored_records.h"

namespace dledger::store {
namespace {

const remoting::HostAddress kStoreHost = remoting::HostAddress::ipv4(10, 0, 0, 1, 10911);

StoredMessage message(const std::string& topic, std::int32_t queue_id, const std::string& body,
                      std::int64_t store_ts = 1000) {
  StoredMessage m;
  m.topic = topic;
  m.queue_id = queue_id;
  m.born_timestamp_ms = store_ts - 5;
  m.born_host = remoting::HostAddress::ipv4(192, 168, 1, 2, 40000);
  m.store_timestamp_ms = store_ts;
  m.store_host = kStoreHost;
  m.properties = std::string("TAGS\x01") + "t\x02";
  m.body = body;
  return m;
}

std::string encode(const StoreCommand& command) {
  auto r = encode_command(command);
  EXPECT_TRUE(r.ok()) << r.error().to_string();
  return r.ok() ? *r : std::string();
}

// A ledger stand-in: entries by index, applied in order to any number of states.
struct FakeLedger {
  std::map<std::uint64_t, std::pair<raft::EntryType, std::string>> entries;
  std::uint64_t last = 0;

  std::uint64_t append(const StoreCommand& command) {
    entries[++last] = {raft::EntryType::kNormal, encode(command)};
    return last;
  }
  std::uint64_t append_raw(raft::EntryType type, std::string data) {
    entries[++last] = {type, std::move(data)};
    return last;
  }
  void apply_all(StoreState& state, std::uint64_t upto = UINT64_MAX) const {
    for (const auto& [index, e] : entries) {
      if (index <= state.applied_index()) continue;
      if (index > upto) break;
      state.apply(index, e.first, e.second);
    }
  }
  LedgerEntryReader reader(std::uint64_t first_index = 1) const {
    return [this, first_index](std::uint64_t index) -> Result<std::string> {
      auto it = entries.find(index);
      if (it == entries.end() || index < first_index) {
        return make_error(ErrorCode::kOutOfRange, "index " + std::to_string(index));
      }
      return it->second.second;
    };
  }
};

TEST(StoreState, QueueOffsetsAreDensePerQueueAcrossSinglesAndBatches) {
  FakeLedger ledger;
  ledger.append(UpdateTopicCommand{TopicConfig{"orders", 2, 2, 6, 0}});
  ledger.append(PutMessageCommand{message("orders", 0, "a")});
  ledger.append_raw(raft::EntryType::kNoOp, "");
  ledger.append(PutMessageCommand{message("orders", 1, "b")});
  ledger.append(PutBatchCommand{
      {message("orders", 0, "c"), message("orders", 0, "d"), message("orders", 0, "e")}});
  ledger.append(PutMessageCommand{message("orders", 0, "f")});
  StoreState state;
  ledger.apply_all(state);

  EXPECT_EQ(state.applied_index(), 6u);
  EXPECT_EQ(state.min_offset("orders", 0), 0);
  EXPECT_EQ(state.max_offset("orders", 0), 5);
  EXPECT_EQ(state.max_offset("orders", 1), 1);
  EXPECT_EQ(state.queue_offset_of("orders", 0, {2, 0}), 0);
  EXPECT_EQ(state.queue_offset_of("orders", 0, {5, 0}), 1);
  EXPECT_EQ(state.queue_offset_of("orders", 0, {5, 2}), 3);
  EXPECT_EQ(state.queue_offset_of("orders", 0, {6, 0}), 4);
  EXPECT_EQ(state.queue_offset_of("orders", 1, {4, 0}), 0);
  EXPECT_EQ(state.check_invariants(), "");

  ReadPlan plan = state.plan_read("orders", 0, 1, 10);
  ASSERT_EQ(plan.status, GetStatus::kFound);
  auto built = build_stored_records(plan, ledger.reader(), 1 << 20);
  ASSERT_TRUE(built.ok()) << built.error().to_string();
  EXPECT_EQ(built->count, 4u);
  EXPECT_EQ(built->next_begin_offset, 5);
  auto records = remoting::decode_message_records(built->records);
  ASSERT_TRUE(records.ok()) << records.error().to_string();
  ASSERT_EQ(records->size(), 4u);
  std::vector<std::string> bodies;
  std::set<std::int64_t> physical;
  for (std::size_t i = 0; i < records->size(); ++i) {
    const auto& r = (*records)[i];
    bodies.push_back(r.body);
    EXPECT_EQ(r.queue_offset, static_cast<std::int64_t>(i) + 1);
    EXPECT_EQ(r.topic, "orders");
    EXPECT_EQ(r.store_host, kStoreHost);
    physical.insert(r.physical_offset);
    // The msgId names the ledger entry and batch position for the message's lifetime.
    auto id = remoting::decode_offset_msg_id(remoting::offset_msg_id(r));
    ASSERT_TRUE(id.ok());
    EXPECT_EQ(id->physical_offset, r.physical_offset);
  }
  EXPECT_EQ(bodies, (std::vector<std::string>{"c", "d", "e", "f"}));
  EXPECT_EQ(physical.size(), 4u);
  EXPECT_EQ((*records)[0].physical_offset, physical_offset_of(5, 0));
  EXPECT_EQ(location_of((*records)[2].physical_offset), (MessageLocation{5, 2}));
}

TEST(StoreState, ReadStatusesFollowRocketMqRules) {
  FakeLedger ledger;
  for (int i = 0; i < 3; ++i) ledger.append(PutMessageCommand{message("t", 0, "m")});
  StoreState state;
  ledger.apply_all(state);
  EXPECT_EQ(state.plan_read("t", 1, 0, 1).status, GetStatus::kNoMatchedLogicQueue);
  EXPECT_EQ(state.plan_read("nope", 0, 0, 1).status, GetStatus::kNoMatchedLogicQueue);
  EXPECT_EQ(state.plan_read("t", 0, 3, 1).status, GetStatus::kOffsetOverflowOne);
  auto bad = state.plan_read("t", 0, 9, 1);
  EXPECT_EQ(bad.status, GetStatus::kOffsetOverflowBadly);
  EXPECT_EQ(bad.next_begin_offset, 3);
  auto found = state.plan_read("t", 0, 1, 1);
  EXPECT_EQ(found.status, GetStatus::kFound);
  EXPECT_EQ(found.entries.size(), 1u);
  EXPECT_EQ(found.next_begin_offset, 2);
  state.trim_before(3);
  auto small = state.plan_read("t", 0, 0, 5);
  EXPECT_EQ(small.status, GetStatus::kOffsetTooSmall);
  EXPECT_EQ(small.next_begin_offset, 2);
  EXPECT_EQ(small.min_offset, 2);
}

TEST(StoreState, MaxBytesLimitsRecordsButReturnsAtLeastOne) {
  FakeLedger ledger;
  for (int i = 0; i < 5; ++i) {
    ledger.append(PutMessageCommand{message("t", 0, std::string(1000, 'x'))});
  }
  StoreState state;
  ledger.apply_all(state);
  auto plan = state.plan_read("t", 0, 0, 32);
  auto one = build_stored_records(plan, ledger.reader(), 10);
  ASSERT_TRUE(one.ok());
  EXPECT_EQ(one->count, 1u);
  EXPECT_EQ(one->next_begin_offset, 1);
  auto two = build_stored_records(plan, ledger.reader(), 2300);
  ASSERT_TRUE(two.ok());
  EXPECT_EQ(two->count, 2u);
}

TEST(StoreState, ConsumerOffsetsKeepTheLastCommitPerKey) {
  FakeLedger ledger;
  ledger.append(CommitOffsetCommand{"g1", "t", 0, 5});
  ledger.append(CommitOffsetCommand{"g1", "t", 1, 9});
  ledger.append(CommitOffsetCommand{"g2", "t", 0, 1});
  ledger.append(CommitOffsetCommand{"g1", "t", 0, 7});
  StoreState state;
  ledger.apply_all(state);
  EXPECT_EQ(state.consumer_offset({"g1", "t", 0}), 7);
  EXPECT_EQ(state.consumer_offset({"g1", "t", 1}), 9);
  EXPECT_EQ(state.consumer_offset({"g2", "t", 0}), 1);
  EXPECT_EQ(state.consumer_offset({"g2", "t", 1}), std::nullopt);
}

TEST(StoreState, TopicsUpdateAndDeleteWithoutReusingQueueOffsets) {
  FakeLedger ledger;
  ledger.append(UpdateTopicCommand{TopicConfig{"t", 4, 4, 6, 0}});
  ledger.append(UpdateTopicCommand{TopicConfig{"u", 1, 1, 4, 0}});
  ledger.append(UpdateTopicCommand{TopicConfig{"t", 8, 2, 6, 0}});
  ledger.append(PutMessageCommand{message("t", 0, "a")});
  ledger.append(PutMessageCommand{message("t", 0, "b")});
  ledger.append(CommitOffsetCommand{"g", "t", 0, 2});
  ledger.append(CommitOffsetCommand{"g", "u", 0, 3});
  StoreState state;
  ledger.apply_all(state);
  ASSERT_TRUE(state.topic("t").has_value());
  EXPECT_EQ(state.topic("t")->read_queue_nums, 8);
  EXPECT_EQ(state.topic("t")->write_queue_nums, 2);
  EXPECT_EQ(state.topics().size(), 2u);

  ledger.append(DeleteTopicCommand{"t"});
  ledger.apply_all(state);
  EXPECT_FALSE(state.topic("t").has_value());
  EXPECT_EQ(state.consumer_offset({"g", "t", 0}), std::nullopt);
  EXPECT_EQ(state.consumer_offset({"g", "u", 0}), 3);
  EXPECT_EQ(state.min_offset("t", 0), 2);
  EXPECT_EQ(state.max_offset("t", 0), 2);

  ledger.append(UpdateTopicCommand{TopicConfig{"t", 4, 4, 6, 0}});
  std::uint64_t put = ledger.append(PutMessageCommand{message("t", 0, "c")});
  ledger.apply_all(state);
  EXPECT_EQ(state.queue_offset_of("t", 0, {put, 0}), 2);
  EXPECT_EQ(state.check_invariants(), "");
}

TEST(StoreState, CorruptEntriesAreSkippedTheSameWayOnEveryReplica) {
  FakeLedger ledger;
  ledger.append(PutMessageCommand{message("t", 0, "a")});
  ledger.append_raw(raft::EntryType::kNormal, "garbage that is no store command");
  std::string flipped = encode(PutMessageCommand{message("t", 0, "b")});
  flipped[flipped.size() - 1] ^= 0x20;
  ledger.append_raw(raft::EntryType::kNormal, flipped);
  ledger.append_raw(raft::EntryType::kNormal, "");
  std::uint64_t last = ledger.append(PutMessageCommand{message("t", 0, "c")});

  StoreState a, b;
  ledger.apply_all(a);
  ledger.apply_all(b);
  EXPECT_EQ(a.applied_index(), last);
  EXPECT_EQ(a.skipped_entries(), 3u);
  EXPECT_EQ(a.max_offset("t", 0), 2);
  EXPECT_EQ(a.queue_offset_of("t", 0, {last, 0}), 1);
  EXPECT_EQ(a.fingerprint(), b.fingerprint());
}

// apply() reads only a summary of put entries (decode_put_summary); the state must be the one the
// fully decoded commands give.
TEST(StoreState, ApplyingPutEntryBytesEqualsApplyingTheDecodedCommands) {
  FakeLedger ledger;
  ledger.append(UpdateTopicCommand{TopicConfig{"t", 4, 4, 6, 0}});
  ledger.append(PutMessageCommand{message("t", 0, "a", 1000)});
  PutBatchCommand batch;
  for (int i = 0; i < 3; ++i)
    batch.messages.push_back(message("t", 2, "b" + std::to_string(i), 900));
  ledger.append(batch);
  ledger.append(PutMessageCommand{message("u", 1, "c", 1200)});
  ledger.append(PutMessageCommand{message("t", 2, "d", 1100)});

  StoreState from_bytes;
  ledger.apply_all(from_bytes);
  StoreState from_commands;
  for (const auto& [index, e] : ledger.entries) {
    auto command = decode_command(e.second);
    ASSERT_TRUE(command.ok()) << command.error().to_string();
    from_commands.apply_command(index, *command);
  }
  EXPECT_EQ(from_bytes.fingerprint(), from_commands.fingerprint());
  EXPECT_EQ(from_bytes.max_offset("t", 2), 4);
  EXPECT_EQ(from_bytes.queue_offset_of("t", 2, {3, 2}), 2);
  EXPECT_EQ(from_bytes.last_store_timestamp_ms(), 1200);
}

TEST(StoreState, StoreTimestampsNeverGoBackAndSearchFindsTheFirstAtOrAfter) {
  FakeLedger ledger;
  ledger.append(PutMessageCommand{message("t", 0, "a", 100)});
  ledger.append(PutMessageCommand{message("t", 0, "b", 200)});
  ledger.append(PutMessageCommand{message("t", 0, "c", 150)});  // a new leader's clock is behind
  ledger.append(PutMessageCommand{message("t", 0, "d", 300)});
  StoreState state;
  ledger.apply_all(state);
  EXPECT_EQ(state.check_invariants(), "");
  EXPECT_EQ(state.earliest_store_time("t", 0), 100);
  EXPECT_EQ(state.search_offset_by_timestamp("t", 0, 0), 0);
  EXPECT_EQ(state.search_offset_by_timestamp("t", 0, 150), 1);
  EXPECT_EQ(state.search_offset_by_timestamp("t", 0, 201), 3);
  EXPECT_EQ(state.search_offset_by_timestamp("t", 0, 999), 4);
  auto plan = state.plan_read("t", 0, 2, 1);
  auto built = build_stored_records(plan, ledger.reader(), 1 << 20);
  ASSERT_TRUE(built.ok());
  auto records = remoting::decode_message_records(built->records);
  ASSERT_TRUE(records.ok());
  EXPECT_EQ((*records)[0].store_timestamp_ms, 200);
}

TEST(StoreState, RetentionRaisesMinOffsetsAndKeepsMaxOffsets) {
  FakeLedger ledger;
  for (int i = 0; i < 4; ++i) {
    ledger.append(PutMessageCommand{message("t", 0, "q0-" + std::to_string(i), 100 + i)});
    ledger.append(PutMessageCommand{message("t", 1, "q1-" + std::to_string(i), 100 + i)});
  }
  StoreState state;
  ledger.apply_all(state);
  state.trim_before(6);  // ledger entries 1..5 are gone: q0 had 1,3,5; q1 had 2,4
  EXPECT_EQ(state.min_offset("t", 0), 3);
  EXPECT_EQ(state.min_offset("t", 1), 2);
  EXPECT_EQ(state.max_offset("t", 0), 4);
  EXPECT_EQ(state.max_offset("t", 1), 4);
  EXPECT_EQ(state.earliest_store_time("t", 0), 103);
  EXPECT_EQ(state.oldest_ledger_index(), 6u);
  EXPECT_EQ(state.check_invariants(), "");
  auto plan = state.plan_read("t", 1, 2, 10);
  auto built = build_stored_records(plan, ledger.reader(6), 1 << 20);
  ASSERT_TRUE(built.ok());
  auto records = remoting::decode_message_records(built->records);
  ASSERT_TRUE(records.ok());
  ASSERT_EQ(records->size(), 2u);
  EXPECT_EQ((*records)[0].body, "q1-2");
  EXPECT_EQ((*records)[0].queue_offset, 2);
  state.trim_before(100);
  EXPECT_EQ(state.min_offset("t", 0), 4);
  EXPECT_EQ(state.max_offset("t", 0), 4);
  EXPECT_EQ(state.plan_read("t", 0, 4, 1).status, GetStatus::kOffsetOverflowOne);
}

FakeLedger mixed_workload() {
  FakeLedger ledger;
  ledger.append(UpdateTopicCommand{TopicConfig{"t", 2, 2, 6, 0}});
  for (int i = 0; i < 30; ++i) {
    if (i % 7 == 3) {
      ledger.append(PutBatchCommand{{message("t", i % 2, "b1"), message("t", i % 2, "b2")}});
    } else {
      ledger.append(PutMessageCommand{message("t", i % 2, "m" + std::to_string(i), 1000 + i)});
    }
    if (i % 5 == 0) ledger.append(CommitOffsetCommand{"g", "t", i % 2, i});
    if (i == 12) ledger.append(UpdateTopicCommand{TopicConfig{"u", 1, 1, 6, 0}});
    if (i == 20) ledger.append_raw(raft::EntryType::kNoOp, "");
  }
  return ledger;
}

TEST(StoreState, SnapshotRoundTripRestoresTopicsOffsetsAndQueuePositions) {
  FakeLedger ledger = mixed_workload();
  StoreState live;
  ledger.apply_all(live, 25);
  std::string snapshot = live.save_snapshot(20);
  auto loaded = StoreState::load_snapshot(snapshot);
  ASSERT_TRUE(loaded.ok()) << loaded.error().to_string();
  EXPECT_EQ(loaded->applied_index(), 25u);
  EXPECT_EQ(loaded->topics(), live.topics());
  EXPECT_EQ(loaded->consumer_offsets(), live.consumer_offsets());
  for (int q = 0; q < 2; ++q) {
    EXPECT_EQ(loaded->max_offset("t", q), live.max_offset("t", q));
  }
  // The installing replica has no ledger entries at or below 20: the live replica trimmed to the
  // same point holds exactly the same state, and both stay equal as entries keep coming.
  live.trim_before(21);
  EXPECT_EQ(loaded->fingerprint(), live.fingerprint());
  ledger.apply_all(live);
  ledger.apply_all(*loaded);
  EXPECT_EQ(loaded->fingerprint(), live.fingerprint());
  EXPECT_EQ(loaded->check_invariants(), "");
}

TEST(StoreState, RebuildFromTheLedgerEqualsTheLiveState) {
  FakeLedger ledger = mixed_workload();
  // Live: applied entry by entry with a snapshot restore in the middle (a restart).
  StoreState live;
  ledger.apply_all(live, 17);
  auto restored = StoreState::load_snapshot(live.save_snapshot(0));
  ASSERT_TRUE(restored.ok());
  ledger.apply_all(*restored);
  // Rebuilt: everything from index 1 in one go.
  StoreState rebuilt;
  ledger.apply_all(rebuilt);
  EXPECT_EQ(restored->fingerprint(), rebuilt.fingerprint());
  EXPECT_EQ(rebuilt.check_invariants(), "");
}

TEST(StoreState, DamagedSnapshotsAreRejected) {
  FakeLedger ledger = mixed_workload();
  StoreState state;
  ledger.apply_all(state);
  std::string snapshot = state.save_snapshot(0);
  for (std::size_t i = 0; i < snapshot.size(); i += 7) {
    std::string damaged = snapshot;
    damaged[i] ^= 0x01;
    auto r = StoreState::load_snapshot(damaged);
    ASSERT_FALSE(r.ok()) << "byte " << i;
    EXPECT_EQ(r.error().code, ErrorCode::kCorruption);
  }
  for (std::size_t n = 0; n < snapshot.size(); n += 5) {
    EXPECT_FALSE(StoreState::load_snapshot(std::string_view(snapshot).substr(0, n)).ok());
  }
}

}  // namespace
}  // namespace dledger::store
