// MessageStore over an in-memory LedgerServer stand-in: retention, corrupt entries, snapshot hooks
// and compacted ledgers, which a real group cannot be steered into from a test yet.
#include <gtest/gtest.h>

#include <unistd.h>

#include <condition_variable>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <thread>

#include "broker/remoting/message_codec.h"
#include "broker/store/message_store.h"
#include "broker/store/state_checkpoint.h"

// Its own namespace: the helpers below share names with message_store_test.cpp's, and the
// sanitizer build compiles both files as one (CMAKE_UNITY_BUILD).
namespace dledger::store::fake_ledger_test {
namespace {

template <typename Fn>
bool eventually(Fn condition, std::chrono::seconds limit = std::chrono::seconds(20)) {
  auto deadline = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < deadline) {
    if (condition()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return condition();
}

// Commits every append at once; entries below first_index are "deleted by retention".
class FakeLedger final : public ledger::LedgerServer {
 public:
  void stop() override {
    std::lock_guard<std::mutex> lock(mu_);
    stopped_ = true;
    cv_.notify_all();
  }
  void append(std::string data, ledger::AppendCallback done) override {
    std::vector<std::string> one;
    one.push_back(std::move(data));
    append_batch(std::move(one), std::move(done));
  }
  void append_batch(std::vector<std::string> data, ledger::AppendCallback done) override {
    if (!leader_) return done(make_error(ErrorCode::kNotLeader, "fake follower"));
    std::uint64_t first = 0;
    for (auto& d : data) {
      std::uint64_t index = append_raw(raft::EntryType::kNormal, std::move(d));
      if (first == 0) first = index;
    }
    done(ledger::AppendResult{first, 1});
  }
  Result<ledger::AppendResult> append_sync(std::string data) override {
    return ledger::AppendResult{append_raw(raft::EntryType::kNormal, std::move(data)), 1};
  }
  Result<ledger::CommittedEntry> get(std::uint64_t index) override {
    std::lock_guard<std::mutex> lock(mu_);
    if (index < first_index_ || index > entries_.size()) {
      return make_error(ErrorCode::kOutOfRange, "index " + std::to_string(index));
    }
    return entries_[index - 1];
  }
  Result<raft::EntryBatch> read(std::uint64_t from_index, std::uint64_t max_bytes) override {
    std::lock_guard<std::mutex> lock(mu_);
    if (from_index > entries_.size()) return raft::EntryBatch{};
    if (from_index < first_index_) {
      return make_error(ErrorCode::kOutOfRange, "below first index");
    }
    raft::EntryBatch out;
    for (std::uint64_t i = from_index; i <= entries_.size(); ++i) {
      const auto& e = entries_[i - 1];
      if (!out.empty() && out.payload_bytes() + e.data.size() > max_bytes) break;
      out.add(e.index, e.term, e.type, e.data);
    }
    return out;
  }
  std::uint64_t wait_for_commit(std::uint64_t after_index,
                                std::chrono::milliseconds timeout) override {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait_for(lock, timeout, [&] { return entries_.size() > after_index || stopped_; });
    return entries_.size();
  }
  void on_soft_state_change(SoftStateObserver observer) override {
    std::lock_guard<std::mutex> lock(mu_);
    soft_observer_ = std::move(observer);
  }
  void on_commit(CommitObserver) override {}
  Status transfer_leadership(raft::NodeId, std::chrono::milliseconds) override { return Status(); }
  Status add_learner(raft::NodeId, std::string, std::chrono::milliseconds) override {
    return Status();
  }
  Status promote(raft::NodeId, std::chrono::milliseconds) override { return Status(); }
  Status remove_member(raft::NodeId, std::chrono::milliseconds) override { return Status(); }
  ledger::LedgerStatus status() override {
    std::lock_guard<std::mutex> lock(mu_);
    ++status_calls_;
    ledger::LedgerStatus s;
    s.role = leader_ ? raft::Role::kLeader : raft::Role::kFollower;
    s.term = term_;
    s.leader_id = leader_id_;
    s.leader_address = leader_address_;
    s.commit_index = entries_.size();
    s.last_index = entries_.size() + uncommitted_tail_;
    s.first_index = first_index_;
    s.term_start_index = leader_ ? term_start_index_ : 0;
    return s;
  }
  const ledger::LedgerOptions& options() const override { return options_; }
  std::uint16_t peer_port() const override { return 0; }
  ledger::GroupCommitCounters group_commit_counters() const override { return {}; }
  Result<std::uint64_t> run_retention() override {
    return make_error(ErrorCode::kInvalidArgument,
                      "the fake ledger compacts through drop_before()");
  }

  std::uint64_t append_raw(raft::EntryType type, std::string data) {
    std::lock_guard<std::mutex> lock(mu_);
    std::uint64_t index = entries_.size() + 1;
    entries_.push_back(ledger::CommittedEntry{index, 1, type, std::move(data)});
    cv_.notify_all();
    return index;
  }
  // This replica follows `leader` (at `address`) in `term`, and tells its observer so.
  void follow(raft::NodeId leader, std::uint64_t term, std::string address) {
    SoftStateObserver observer;
    {
      std::lock_guard<std::mutex> lock(mu_);
      leader_ = false;
      leader_id_ = leader;
      term_ = term;
      leader_address_ = std::move(address);
      observer = soft_observer_;
    }
    if (observer) observer(raft::SoftState{raft::Role::kFollower, term, leader});
  }
  // Reports, while leading, a term whose first entry is `term_start_index` and `tail` appended
  // entries past the commit index (writes in flight).
  void lead_from(std::uint64_t term_start_index, std::uint64_t tail) {
    std::lock_guard<std::mutex> lock(mu_);
    term_start_index_ = term_start_index;
    uncommitted_tail_ = tail;
  }
  std::uint64_t status_calls() {
    std::lock_guard<std::mutex> lock(mu_);
    return status_calls_;
  }
  void drop_before(std::uint64_t first_index) {
    std::lock_guard<std::mutex> lock(mu_);
    first_index_ = first_index;
  }
  // A copy of this ledger's entries, compacted below `first_index`.
  void copy_to(FakeLedger& other, std::uint64_t first_index) {
    std::lock_guard<std::mutex> lock(mu_);
    std::lock_guard<std::mutex> other_lock(other.mu_);
    other.entries_ = entries_;
    other.first_index_ = first_index;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<ledger::CommittedEntry> entries_;
  std::uint64_t first_index_ = 1;
  bool stopped_ = false;
  bool leader_ = true;
  raft::NodeId leader_id_ = raft::kNoNode;
  std::uint64_t term_ = 1;
  std::string leader_address_;
  std::uint64_t status_calls_ = 0;
  std::uint64_t term_start_index_ = 1;
  std::uint64_t uncommitted_tail_ = 0;
  SoftStateObserver soft_observer_;
  ledger::LedgerOptions options_;
};

MessageStoreOptions fast_options() {
  MessageStoreOptions o;
  o.retention_check_interval = std::chrono::milliseconds(5);
  o.clock_ms = [] { return std::int64_t{1700000000000}; };
  return o;
}

StoredMessage message(std::int32_t queue_id, const std::string& body) {
  StoredMessage m;
  m.topic = "t";
  m.queue_id = queue_id;
  m.born_host = remoting::HostAddress::ipv4(127, 0, 0, 1, 50000);
  m.body = body;
  return m;
}

TEST(MessageStoreOnFakeLedger, RetentionRaisesReportedMinOffsets) {
  FakeLedger ledger;
  MessageStore store(fast_options());
  ASSERT_TRUE(store.start(&ledger).ok());
  ASSERT_TRUE(store.update_topic(TopicConfig{"t", 2, 2, 6, 0}).ok());  // index 1
  for (int i = 0; i < 8; ++i) {                                        // indexes 2..9
    ASSERT_TRUE(store.put_message_sync(message(i % 2, "m" + std::to_string(i))).ok());
  }
  EXPECT_EQ(store.min_offset("t", 0), 0);
  ledger.drop_before(6);  // q0 lost indexes 2, 4 (offsets 0, 1); q1 lost 3, 5 (offsets 0, 1)
  ASSERT_TRUE(eventually([&] { return store.min_offset("t", 0) == 2; }));
  EXPECT_EQ(store.min_offset("t", 1), 2);
  EXPECT_EQ(store.max_offset("t", 0), 4);
  auto old = store.get_messages("t", 0, 0, 10, 1 << 20);
  ASSERT_TRUE(old.ok());
  EXPECT_EQ(old->status, GetStatus::kOffsetTooSmall);
  EXPECT_EQ(old->next_begin_offset, 2);
  auto kept = store.get_messages("t", 0, 2, 10, 1 << 20);
  ASSERT_TRUE(kept.ok());
  EXPECT_EQ(kept->status, GetStatus::kFound);
  EXPECT_EQ(kept->count, 2u);
  store.stop();
}

TEST(MessageStoreOnFakeLedger, MessageAtAPhysicalOffsetIsFoundUntilRetentionRemovesIt) {
  FakeLedger ledger;
  MessageStore store(fast_options());
  ASSERT_TRUE(store.start(&ledger).ok());
  ASSERT_TRUE(store.update_topic(TopicConfig{"t", 2, 2, 6, 0}).ok());  // index 1
  auto single = store.put_message_sync(message(0, "one"));             // index 2
  ASSERT_TRUE(single.ok());
  auto batch = store.put_batch_sync({message(1, "b0"), message(1, "b1")});  // index 3
  ASSERT_TRUE(batch.ok());
  ASSERT_EQ(batch->msg_ids.size(), 2u);

  auto one = store.message_at(single->physical_offset);
  ASSERT_TRUE(one.ok()) << one.error().to_string();
  EXPECT_EQ(one->body, "one");
  // Every message of a batch has its own physical offset.
  for (std::uint32_t i = 0; i < 2; ++i) {
    const std::int64_t offset =
        physical_offset_of(location_of(batch->physical_offset).ledger_index, i);
    auto m = store.message_at(offset);
    ASSERT_TRUE(m.ok()) << m.error().to_string();
    EXPECT_EQ(m->body, "b" + std::to_string(i));
    auto record = store.message_record_at(offset);
    ASSERT_TRUE(record.ok()) << record.error().to_string();
    auto decoded = remoting::decode_message_records(*record);
    ASSERT_TRUE(decoded.ok());
    ASSERT_EQ(decoded->size(), 1u);
    EXPECT_EQ((*decoded)[0].queue_offset, i);
    EXPECT_EQ((*decoded)[0].physical_offset, offset);
    EXPECT_EQ((*decoded)[0].body, "b" + std::to_string(i));
  }
  // Not a message: past the batch's end, the topic entry, the unused index 0, a negative offset.
  EXPECT_EQ(store.message_at(physical_offset_of(3, 2)).error().code, ErrorCode::kNotFound);
  EXPECT_EQ(store.message_at(physical_offset_of(1, 0)).error().code, ErrorCode::kNotFound);
  EXPECT_EQ(store.message_at(0).error().code, ErrorCode::kNotFound);
  EXPECT_EQ(store.message_at(-1).error().code, ErrorCode::kInvalidArgument);
  // Not applied (nothing at index 4 yet).
  auto ahead = store.message_at(physical_offset_of(4, 0));
  ASSERT_FALSE(ahead.ok());
  EXPECT_EQ(ahead.error().code, ErrorCode::kNotFound);
  EXPECT_NE(ahead.error().message.find("not applied"), std::string::npos) << ahead.error().message;

  ledger.drop_before(3);
  ASSERT_TRUE(eventually([&] { return store.min_offset("t", 0) == 1; }));
  auto gone = store.message_at(single->physical_offset);
  ASSERT_FALSE(gone.ok());
  EXPECT_EQ(gone.error().code, ErrorCode::kNotFound);
  EXPECT_NE(gone.error().message.find("retention"), std::string::npos) << gone.error().message;
  EXPECT_EQ(store.message_record_at(single->physical_offset).error().code, ErrorCode::kNotFound);
  store.stop();
}

TEST(MessageStoreOnFakeLedger, LeaderHintAsksTheLedgerOncePerLeaderAndTerm) {
  FakeLedger ledger;
  ledger.follow(1, 5, "127.0.0.1:40911");
  MessageStore store(fast_options());
  ASSERT_TRUE(store.start(&ledger).ok());
  auto expect_hint = [&](raft::NodeId leader, const std::string& address) {
    const std::uint64_t before = ledger.status_calls();
    for (int i = 0; i < 100; ++i) {
      ledger::LeaderHint hint = store.leader_hint();
      ASSERT_EQ(hint.leader_id, leader);
      ASSERT_EQ(hint.leader_address, address);
    }
    EXPECT_LE(ledger.status_calls() - before, 1u);  // a forwarded message costs no ledger call
  };
  expect_hint(1, "127.0.0.1:40911");
  ledger.follow(2, 6, "127.0.0.1:40921");  // a new leader
  expect_hint(2, "127.0.0.1:40921");
  ledger.follow(2, 7, "127.0.0.1:40922");  // a new term: looked up again
  expect_hint(2, "127.0.0.1:40922");
  ledger.follow(raft::kNoNode, 8, "");  // an election: no leader, nothing cached
  EXPECT_EQ(store.leader_hint().leader_id, raft::kNoNode);
  ledger.follow(3, 8, "127.0.0.1:40931");
  expect_hint(3, "127.0.0.1:40931");
  store.stop();
}

// Role passthrough under steady writes: the log of a busy leader always ends past its commit
// index, so readiness is "the first entry of its term is committed and applied", not "nothing
// is in flight".
TEST(MessageStoreOnFakeLedger, LeaderBecomesMasterOnceItsTermStartIsAppliedEvenWithWritesInFlight) {
  FakeLedger ledger;
  MessageStore store(fast_options());
  ASSERT_TRUE(store.start(&ledger).ok());
  ASSERT_TRUE(store.update_topic(TopicConfig{"t", 1, 1, 6, 0}).ok());  // index 1
  ASSERT_TRUE(store.put_message_sync(message(0, "old term")).ok());    // index 2
  ledger.lead_from(4, 3);  // a new term starting at index 4; 3 entries always in flight
  EXPECT_FALSE(store.ready_as_master());
  ASSERT_TRUE(store.put_message_sync(message(0, "still old")).ok());  // index 3
  EXPECT_FALSE(store.ready_as_master());
  ledger.append_raw(raft::EntryType::kNoOp, "");  // index 4 commits: the term's first entry
  ASSERT_TRUE(store.put_message_sync(message(0, "new term")).ok());  // applied past it
  EXPECT_TRUE(store.ready_as_master());
  ledger.follow(2, 3, "127.0.0.1:40921");  // deposed: never master as a follower
  EXPECT_FALSE(store.ready_as_master());
  store.stop();
}

TEST(MessageStoreOnFakeLedger, CorruptEntryIsSkippedAndTheApplierKeepsGoing) {
  FakeLedger ledger;
  MessageStore store(fast_options());
  ASSERT_TRUE(store.start(&ledger).ok());
  ASSERT_TRUE(store.update_topic(TopicConfig{"t", 1, 1, 6, 0}).ok());
  ledger.append_raw(raft::EntryType::kNormal, "not a store command");
  ledger.append_raw(raft::EntryType::kNoOp, "");
  auto put = store.put_message_sync(message(0, "after the damage"));
  ASSERT_TRUE(put.ok()) << put.error().to_string();
  EXPECT_EQ(put->queue_offset, 0);
  EXPECT_EQ(put->ledger_index, 4u);
  EXPECT_EQ(store.skipped_entries(), 1u);
  EXPECT_TRUE(store.caught_up());
  store.stop();
}

TEST(MessageStoreOnFakeLedger, SnapshotHooksCarryStateToAReplicaWithACompactedLedger) {
  FakeLedger source_ledger;
  MessageStore source(fast_options());
  ASSERT_TRUE(source.start(&source_ledger).ok());
  ASSERT_TRUE(source.update_topic(TopicConfig{"t", 1, 1, 6, 0}).ok());
  for (int i = 0; i < 6; ++i) ASSERT_TRUE(source.put_message_sync(message(0, "m")).ok());
  ASSERT_TRUE(source.commit_offset_sync("g", "t", 0, 3).ok());
  const std::uint64_t snapshot_index = 5;  // topic + 4 messages
  std::string snapshot = source.snapshot_hooks().save(snapshot_index);

  FakeLedger installed_ledger;
  source_ledger.copy_to(installed_ledger, snapshot_index + 1);
  MessageStore installed(fast_options());
  installed.snapshot_hooks().load(snapshot_index, snapshot);
  ASSERT_TRUE(installed.start(&installed_ledger).ok());
  ASSERT_TRUE(eventually([&] { return installed.applied_index() == source.applied_index(); }));
  EXPECT_EQ(installed.query_offset("g", "t", 0), 3);
  ASSERT_TRUE(installed.topic("t").has_value());
  EXPECT_EQ(installed.min_offset("t", 0), 4);
  EXPECT_EQ(installed.max_offset("t", 0), 6);
  auto a = source.get_messages("t", 0, 4, 10, 1 << 20);
  auto b = installed.get_messages("t", 0, 4, 10, 1 << 20);
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(a->records, b->records);
  EXPECT_EQ(b->count, 2u);

  auto next = installed.put_message_sync(message(0, "continues"));
  ASSERT_TRUE(next.ok()) << next.error().to_string();
  EXPECT_EQ(next->queue_offset, 6);
  source.stop();
  installed.stop();
}

TEST(MessageStoreOnFakeLedger, CompactedLedgerWithoutSnapshotDoesNotStallTheApplier) {
  FakeLedger ledger;
  for (int i = 0; i < 6; ++i) ledger.append_raw(raft::EntryType::kNoOp, "");
  ledger.drop_before(4);
  MessageStore store(fast_options());
  ASSERT_TRUE(store.start(&ledger).ok());
  ASSERT_TRUE(eventually([&] { return store.applied_index() == 6; }));
  EXPECT_TRUE(store.caught_up());
  store.stop();
}

TEST(MessageStoreOnFakeLedger, StoppedStoreFailsCallsInsteadOfHanging) {
  FakeLedger ledger;
  MessageStore store(fast_options());
  ASSERT_TRUE(store.start(&ledger).ok());
  store.stop();
  auto put = store.put_message_sync(message(0, "late"));
  ASSERT_FALSE(put.ok());
  EXPECT_EQ(put.error().code, ErrorCode::kStopped);
  EXPECT_FALSE(store.wait_for_message("t", 0, 0, std::chrono::seconds(5)));
}

struct TempDir {
  std::filesystem::path path = std::filesystem::temp_directory_path() /
                               ("store-checkpoint-test-" + std::to_string(::getpid()));
  TempDir() { std::filesystem::remove_all(path); }
  ~TempDir() { std::filesystem::remove_all(path); }
};

TEST(MessageStoreOnFakeLedger, RestartResumesFromTheCheckpointEvenAfterRetention) {
  TempDir dir;
  FakeLedger ledger;
  MessageStoreOptions options = fast_options();
  options.checkpoint_dir = dir.path.string();
  std::string fingerprint;
  {
    MessageStore first(options);
    ASSERT_TRUE(first.start(&ledger).ok());
    ASSERT_TRUE(first.update_topic(TopicConfig{"t", 1, 1, 6, 0}).ok());  // index 1
    for (int i = 0; i < 5; ++i) ASSERT_TRUE(first.put_message_sync(message(0, "m")).ok());
    ASSERT_TRUE(first.commit_offset_sync("g", "t", 0, 2).ok());  // index 7
    first.stop();                                                // writes the checkpoint
    fingerprint = first.state_fingerprint();
  }
  ASSERT_TRUE(std::filesystem::exists(dir.path / kCheckpointFileName));
  ledger.drop_before(4);  // messages at offsets 0 and 1 are gone from the ledger

  MessageStore second(options);
  ASSERT_TRUE(second.start(&ledger).ok());
  EXPECT_EQ(second.applied_index(), 7u);
  EXPECT_EQ(second.max_offset("t", 0), 5);
  EXPECT_EQ(second.query_offset("g", "t", 0), 2);
  ASSERT_TRUE(eventually([&] { return second.min_offset("t", 0) == 2; }));
  auto next = second.put_message_sync(message(0, "after restart"));
  ASSERT_TRUE(next.ok()) << next.error().to_string();
  EXPECT_EQ(next->queue_offset, 5);
  second.stop();
}

TEST(MessageStoreOnFakeLedger, DamagedCheckpointFallsBackToRebuildingFromTheLedger) {
  TempDir dir;
  FakeLedger ledger;
  MessageStoreOptions options = fast_options();
  options.checkpoint_dir = dir.path.string();
  std::string fingerprint;
  {
    MessageStore first(options);
    ASSERT_TRUE(first.start(&ledger).ok());
    ASSERT_TRUE(first.update_topic(TopicConfig{"t", 1, 1, 6, 0}).ok());
    for (int i = 0; i < 3; ++i) ASSERT_TRUE(first.put_message_sync(message(0, "m")).ok());
    first.stop();
    fingerprint = first.state_fingerprint();
  }
  {
    std::fstream file(dir.path / kCheckpointFileName,
                      std::ios::in | std::ios::out | std::ios::binary);
    file.seekp(20);
    file.put('\x7f');
  }
  EXPECT_EQ(read_state_checkpoint(dir.path.string()).error().code, ErrorCode::kCorruption);
  MessageStore second(options);
  ASSERT_TRUE(second.start(&ledger).ok());
  ASSERT_TRUE(eventually([&] { return second.applied_index() == 4; }));
  EXPECT_EQ(second.state_fingerprint(), fingerprint);
  second.stop();
}

}  // namespace
}  // namespace dledger::store::fake_ledger_test
