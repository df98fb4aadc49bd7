// Properties of the durable segmented log in normal operation: what is appended reads back after
// reopen, reads are O(1) via the index, opening does not read closed segments, snapshots,
// configs, retention, and crash safety of truncation and hard-state writes.
#include <gtest/gtest.h>

#include <tuple>

#include "tests/ledger/log/log_test_util.h"

namespace dledger::log {
namespace {

using namespace dledger::log::testing;

TEST(SegmentedLog, AppendedEntriesReadBackAfterReopen) {
  TempDir tmp;
  Options options = small_options(tmp.log_dir());
  {
    OpenResult opened = open_ok(options);
    ASSERT_NE(opened.log, nullptr);
    SegmentedLog& log = *opened.log;
    EXPECT_EQ(log.first_index(), 1u);
    EXPECT_EQ(log.last_index(), 0u);
    for (std::uint64_t first = 1; first <= 100; first += 10) {
      std::uint64_t term = first <= 50 ? 1 : 2;
      ASSERT_TRUE(log.append(make_entries(first, first + 9, term)).ok());
    }
    ASSERT_TRUE(log.sync().ok());
    EXPECT_EQ(log.last_index(), 100u);
    EXPECT_EQ(log.last_term(), 2u);
    EXPECT_GT(log.segment_count(), 3u);  // 4 KiB segments hold 30 entries of 136 bytes
    expect_entries(log, 1, 50, 1);
    expect_entries(log, 51, 100, 2);
  }
  OpenResult reopened = open_ok(options);
  ASSERT_NE(reopened.log, nullptr);
  SegmentedLog& log = *reopened.log;
  EXPECT_FALSE(reopened.report.torn_tail.has_value());
  EXPECT_TRUE(reopened.report.corruptions.empty());
  EXPECT_EQ(log.last_index(), 100u);
  EXPECT_EQ(log.last_term(), 2u);
  expect_entries(log, 1, 50, 1);
  expect_entries(log, 51, 100, 2);
  EXPECT_EQ(log.term(50).value(), 1u);
  EXPECT_EQ(log.term(51).value(), 2u);
  EXPECT_EQ(log.term(0).value(), 0u);
  EXPECT_EQ(log.term(101).error().code, ErrorCode::kOutOfRange);

  // Ranges across segments; the byte budget stops before exceeding max_bytes, but always
  // returns at least one entry.
  auto all = log.read_range(1, 101, UINT64_MAX);
  ASSERT_TRUE(all.ok());
  ASSERT_EQ(all->size(), 100u);
  for (std::uint64_t i = 0; i < 100; ++i) EXPECT_EQ((*all)[i].index, i + 1);
  auto limited = log.entries(20, 90, 350);
  ASSERT_TRUE(limited.ok());
  EXPECT_EQ(limited->size(), 3u);
  EXPECT_EQ(limited->front().index, 20u);
  auto one = log.entries(42, 90, 1);
  ASSERT_TRUE(one.ok());
  ASSERT_EQ(one->size(), 1u);
  EXPECT_EQ(one->front().data, payload_for(42));
  EXPECT_EQ(log.read(101).error().code, ErrorCode::kOutOfRange);
  EXPECT_EQ(log.read(0).error().code, ErrorCode::kOutOfRange);

  // Appending continues after reopen; gaps and index reuse are refused.
  EXPECT_EQ(log.append(make_entries(103, 103, 2)).error().code, ErrorCode::kInvalidArgument);
  EXPECT_EQ(log.append(make_entries(100, 100, 2)).error().code, ErrorCode::kInvalidArgument);
  EXPECT_EQ(log.append(make_entries(101, 101, 1)).error().code, ErrorCode::kInvalidArgument);
  ASSERT_TRUE(log.append(make_entries(101, 110, 3)).ok());
  expect_entries(log, 101, 110, 3);
}

TEST(SegmentedLog, GetIsConstantTimeViaIndex) {
  TempDir tmp;
  auto io = std::make_shared<FaultInjectingFileIo>();
  Options options = small_options(tmp.log_dir(), io);
  {
    OpenResult opened = open_ok(options);
    ASSERT_TRUE(opened.log->append(make_entries(1, 300, 1)).ok());
    ASSERT_TRUE(opened.log->sync().ok());
  }
  OpenResult reopened = open_ok(options);
  SegmentedLog& log = *reopened.log;
  for (std::uint64_t index : {1u, 150u, 299u, 300u}) {
    io->reset_counts();
    auto e = log.read(index);
    ASSERT_TRUE(e.ok());
    EXPECT_EQ(e->data, payload_for(index));
    // Exactly one read of exactly the entry's bytes: no scanning.
    EXPECT_EQ(io->count(FileOp::kRead), 1u) << "index " << index;
    std::uint64_t total = 0;
    for (const auto& name : files_in(tmp.log_dir())) total += io->bytes_read_from(name);
    EXPECT_EQ(total, kEntryBytes100) << "index " << index;
  }
  // term() never touches the disk.
  io->reset_counts();
  EXPECT_EQ(log.term(123).value(), 1u);
  EXPECT_EQ(io->count(FileOp::kRead), 0u);
  // A range within one segment is one read.
  io->reset_counts();
  ASSERT_EQ(log.read_range(61, 70, UINT64_MAX)->size(), 9u);
  EXPECT_EQ(io->count(FileOp::kRead), 1u);
}

TEST(SegmentedLog, ReadBatchServesTheSameEntriesAsReadRangeWithOneReadPerSegment) {
  TempDir tmp;
  auto io = std::make_shared<FaultInjectingFileIo>();
  Options options = small_options(tmp.log_dir(), io);
  OpenResult opened = open_ok(options);
  SegmentedLog& log = *opened.log;
  ASSERT_TRUE(log.append(make_entries(1, 50, 1)).ok());
  ASSERT_TRUE(log.append(make_entries(51, 100, 2)).ok());
  ASSERT_TRUE(log.sync().ok());
  // Across segments (30 entries each), with and without a byte budget, and one entry at least.
  for (auto [lo, hi, budget] :
       {std::tuple<std::uint64_t, std::uint64_t, std::uint64_t>{1, 101, UINT64_MAX},
        {20, 90, 350},
        {25, 70, 2000},
        {42, 90, 1},
        {100, 101, UINT64_MAX}}) {
    auto entries = log.read_range(lo, hi, budget);
    io->reset_counts();
    auto batch = log.read_batch(lo, hi, budget);
    ASSERT_TRUE(entries.ok());
    ASSERT_TRUE(batch.ok());
    ASSERT_EQ(batch->size(), entries->size()) << lo << ".." << hi << " budget " << budget;
    std::uint64_t payload = 0;
    for (std::size_t i = 0; i < batch->size(); ++i) {
      auto v = (*batch)[i];
      EXPECT_EQ(v.index, (*entries)[i].index);
      EXPECT_EQ(v.term, (*entries)[i].term);
      EXPECT_EQ(v.type, (*entries)[i].type);
      EXPECT_EQ(v.data, (*entries)[i].data.view());
      EXPECT_EQ(v.data, payload_for(v.index));
      payload += v.data.size();
    }
    EXPECT_EQ(batch->payload_bytes(), payload);
    EXPECT_EQ(batch->first_index(), lo);
    // One pread per segment touched: 30 entries per segment here.
    std::uint64_t segments = (batch->last_index() - 1) / 30 - (lo - 1) / 30 + 1;
    EXPECT_EQ(io->count(FileOp::kRead), segments) << lo << ".." << hi;
  }
  EXPECT_EQ(log.read_batch(0, 5, UINT64_MAX).error().code, ErrorCode::kOutOfRange);
  EXPECT_EQ(log.read_batch(90, 102, UINT64_MAX).error().code, ErrorCode::kOutOfRange);
}

TEST(SegmentedLog, ReopenOfLargeLogDoesNotReadClosedSegments) {
  TempDir tmp;
  auto io = std::make_shared<FaultInjectingFileIo>();
  Options options = small_options(tmp.log_dir(), io);
  {
    OpenResult opened = open_ok(options);
    for (std::uint64_t first = 1; first <= 1200; first += 100) {
      ASSERT_TRUE(opened.log->append(make_entries(first, first + 99, 1)).ok());
    }
    ASSERT_TRUE(opened.log->sync().ok());
    EXPECT_GT(opened.log->segment_count(), 35u);
  }
  io->reset_counts();
  OpenResult reopened = open_ok(options);
  ASSERT_NE(reopened.log, nullptr);
  EXPECT_EQ(reopened.log->last_index(), 1200u);
  EXPECT_EQ(reopened.report.closed_segments_scanned, 0u);
  auto closed = files_with_prefix(tmp.log_dir(), "segment-");
  ASSERT_GT(closed.size(), 70u);  // .log and .idx
  std::uint64_t closed_log_bytes = 0;
  std::uint64_t idx_bytes = 0;
  for (const auto& name : closed) {
    if (name.size() > 4 && name.substr(name.size() - 4) == ".log") {
      closed_log_bytes += io->bytes_read_from(name);
    } else {
      idx_bytes += io->bytes_read_from(name);
    }
  }
  EXPECT_EQ(closed_log_bytes, 0u);
  EXPECT_GT(idx_bytes, 0u);
  // ...and yet every entry is reachable.
  expect_entries(*reopened.log, 1190, 1200, 1);
  expect_entries(*reopened.log, 1, 5, 1);
}

TEST(SegmentedLog, EntryTypesAndConfigsTrackedAcrossReopen) {
  TempDir tmp;
  Options options = small_options(tmp.log_dir());
  std::vector<RawConfigEntry> expected;
  {
    OpenResult opened = open_ok(options);
    SegmentedLog& log = *opened.log;
    std::vector<raft::Entry> batch;
    for (std::uint64_t i = 1; i <= 120; ++i) {
      raft::EntryType type = raft::EntryType::kNormal;
      if (i % 40 == 1) type = raft::EntryType::kNoOp;
      if (i % 25 == 0) type = raft::EntryType::kConfig;
      raft::Entry e = make_entry(i, 1 + i / 40, 100, type);
      if (type == raft::EntryType::kConfig) {
        e.data = "config-" + std::to_string(i);
        expected.push_back(RawConfigEntry{i, e.data});
      }
      batch.push_back(e);
    }
    ASSERT_TRUE(log.append(batch).ok());
    ASSERT_TRUE(log.sync().ok());
    EXPECT_EQ(log.config_entries(), expected);
  }
  OpenResult reopened = open_ok(options);
  SegmentedLog& log = *reopened.log;
  EXPECT_EQ(log.config_entries(), expected);  // 25, 50, 75, 100 (mostly in closed segments)
  EXPECT_EQ(log.read(41)->type, raft::EntryType::kNoOp);
  EXPECT_EQ(log.read(75)->type, raft::EntryType::kConfig);
  EXPECT_EQ(log.read(75)->data, "config-75");
  EXPECT_EQ(log.read(76)->type, raft::EntryType::kNormal);
  EXPECT_EQ(log.term(80).value(), 3u);

  // Truncation forgets the configs it discards; a snapshot forgets those it covers.
  ASSERT_TRUE(log.truncate_suffix(90).ok());
  expected.pop_back();  // 100
  EXPECT_EQ(log.config_entries(), expected);
  raft::Snapshot snap;
  snap.meta.index = 60;
  snap.meta.term = log.term(60).value();
  snap.data = "state@60";
  ASSERT_TRUE(log.save_snapshot(snap).ok());
  expected.erase(expected.begin(), expected.begin() + 2);  // 25, 50
  EXPECT_EQ(log.config_entries(), expected);
  reopened.log.reset();
  OpenResult again = open_ok(options);
  EXPECT_EQ(again.log->config_entries(), expected);
  EXPECT_EQ(again.log->last_index(), 89u);
  EXPECT_EQ(again.log->first_index(), 61u);
}

TEST(SegmentedLog, SnapshotInstallReplacesLog) {
  TempDir tmp;
  Options options = small_options(tmp.log_dir());
  raft::Snapshot snap;
  snap.meta.index = 80;
  snap.meta.term = 3;
  snap.meta.membership.members = {raft::Member{1, "a:1", true}, raft::Member{2, "b:2", false}};
  snap.data = std::string(5000, 'S');
  {
    OpenResult opened = open_ok(options);
    SegmentedLog& log = *opened.log;
    EXPECT_EQ(log.snapshot().error().code, ErrorCode::kNotFound);
    ASSERT_TRUE(log.append(make_entries(1, 50, 1)).ok());
    ASSERT_TRUE(log.install_snapshot(snap).ok());
    EXPECT_EQ(log.first_index(), 81u);
    EXPECT_EQ(log.last_index(), 80u);
    EXPECT_EQ(log.term(80).value(), 3u);
    EXPECT_EQ(log.read(10).error().code, ErrorCode::kOutOfRange);
    EXPECT_EQ(log.last_term(), 3u);
    EXPECT_EQ(log.snapshot().value(), snap);
    EXPECT_TRUE(files_with_prefix(tmp.log_dir(), "segment-").empty());
    ASSERT_TRUE(log.append(make_entries(81, 90, 4)).ok());
    ASSERT_TRUE(log.sync().ok());
  }
  OpenResult reopened = open_ok(options);
  SegmentedLog& log = *reopened.log;
  EXPECT_EQ(log.snapshot_meta(), snap.meta);
  EXPECT_EQ(log.snapshot().value(), snap);
  EXPECT_EQ(log.first_index(), 81u);
  EXPECT_EQ(log.last_index(), 90u);
  expect_entries(log, 81, 90, 4);
  // An older snapshot is refused.
  raft::Snapshot old = snap;
  old.meta.index = 70;
  EXPECT_EQ(log.install_snapshot(old).error().code, ErrorCode::kInvalidArgument);
  reopened.log.reset();

  // A crash right after the meta commit point (segments not yet deleted) is finished on open.
  raft::Snapshot newer = snap;
  newer.meta.index = 200;
  newer.meta.term = 5;
  newer.data = "newer";
  {
    auto io = std::make_shared<FaultInjectingFileIo>();
    Options crashing = small_options(tmp.log_dir(), io);
    OpenResult opened = open_ok(crashing);
    // snapshot.tmp create, write, sync, rename, dir sync, meta.tmp create, write, sync, rename,
    // dir sync: then the crash.
    io->crash_after_mutations(10);
    EXPECT_FALSE(opened.log->install_snapshot(newer).ok());
  }
  OpenResult after_crash = open_ok(options);
  EXPECT_EQ(after_crash.log->snapshot_meta(), newer.meta);
  EXPECT_EQ(after_crash.log->last_index(), 200u);
  EXPECT_EQ(after_crash.log->first_index(), 201u);
  EXPECT_EQ(after_crash.log->snapshot()->data, "newer");
  EXPECT_TRUE(files_with_prefix(tmp.log_dir(), "open-00000000000000000081").empty());
  ASSERT_TRUE(after_crash.log->append(make_entries(201, 205, 5)).ok());
  expect_entries(*after_crash.log, 201, 205, 5);
}

TEST(SegmentedLog, RetentionDeletesWholeSegmentsNeverPastLimit) {
  TempDir tmp;
  std::int64_t now_ms = 1'000'000;
  Options options = small_options(tmp.log_dir());
  options.now_unix_ms = [&now_ms] { return now_ms; };
  OpenResult opened = open_ok(options);
  SegmentedLog& log = *opened.log;
  ASSERT_TRUE(log.append(make_entries(1, 300, 1)).ok());
  ASSERT_TRUE(log.sync().ok());
  const std::size_t segments_before = log.segment_count();
  ASSERT_GE(segments_before, 10u);

  // Without a snapshot nothing may go, whatever the limit and policy.
  RetentionPolicy everything{1, 1};
  now_ms += 10'000;
  EXPECT_EQ(log.apply_retention(everything, 300)->segments_deleted, 0u);

  raft::Snapshot snap;
  snap.meta.index = 100;
  snap.meta.term = 1;
  snap.data = "state";
  ASSERT_TRUE(log.save_snapshot(snap).ok());
  EXPECT_EQ(log.first_index(), 101u);
  expect_entries(log, 101, 300, 1);

  // A caller limit below the snapshot wins.
  auto r1 = log.apply_retention(everything, 45);
  ASSERT_TRUE(r1.ok());
  EXPECT_GT(r1->segments_deleted, 0u);
  auto logs = files_with_prefix(tmp.log_dir(), "segment-");
  ASSERT_FALSE(logs.empty());
  // The first remaining segment starts at or below 46 (nothing above the limit was deleted).
  EXPECT_LE(std::stoull(logs.front().substr(8, 20)), 46u);

  // Age alone: segments not old enough stay.
  RetentionPolicy by_age{60'000, 0};
  EXPECT_EQ(log.apply_retention(by_age, 1000)->segments_deleted, 0u);
  now_ms += 120'000;
  auto r2 = log.apply_retention(by_age, 1000);
  ASSERT_TRUE(r2.ok());
  EXPECT_GT(r2->segments_deleted, 0u);
  logs = files_with_prefix(tmp.log_dir(), "segment-");
  ASSERT_FALSE(logs.empty());
  std::uint64_t first_kept = std::stoull(logs.front().substr(8, 20));
  EXPECT_LE(first_kept, 101u);  // never past the snapshot index
  EXPECT_GT(first_kept, 46u);
  expect_entries(log, 101, 300, 1);

  // Size: shrinks toward the target but keeps the open segment and everything after the snapshot.
  EXPECT_EQ(log.apply_retention(RetentionPolicy{0, 1}, 1000)->segments_deleted, 0u);
  {
    TempDir other;
    OpenResult sized = open_ok(small_options(other.log_dir()));
    ASSERT_TRUE(sized.log->append(make_entries(1, 300, 1)).ok());
    raft::Snapshot s2;
    s2.meta.index = 250;
    s2.meta.term = 1;
    ASSERT_TRUE(sized.log->save_snapshot(s2).ok());
    const std::uint64_t total = sized.log->total_bytes();
    auto r3 = sized.log->apply_retention(RetentionPolicy{0, total / 2}, 1000);
    ASSERT_TRUE(r3.ok());
    EXPECT_GT(r3->segments_deleted, 0u);
    EXPECT_LE(sized.log->total_bytes(), total / 2);
    EXPECT_GT(sized.log->total_bytes() + 4096, total / 2);  // stopped as soon as it fit
    expect_entries(*sized.log, 251, 300, 1);
  }
  opened.log.reset();
  OpenResult reopened = open_ok(options);
  EXPECT_EQ(reopened.log->first_index(), 101u);
  EXPECT_EQ(reopened.log->last_index(), 300u);
  expect_entries(*reopened.log, 101, 300, 1);
}

// Copies a log directory so each crash point starts from the same bytes.
void copy_dir(const std::string& from, const std::string& to) {
  fs::remove_all(to);
  fs::copy(from, to, fs::copy_options::recursive);
}

TEST(SegmentedLog, TruncateSuffixIsCrashSafe) {
  TempDir tmp;
  const std::string base = tmp.path() + "/base";
  {
    OpenResult opened = open_ok(small_options(base));
    ASSERT_TRUE(opened.log->append(make_entries(1, 100, 1)).ok());
    ASSERT_TRUE(opened.log->sync().ok());
  }
  // 95: inside the open segment; 45: inside a closed segment; 31: a segment's first entry.
  for (std::uint64_t from : {95u, 45u, 31u}) {
    bool completed = false;
    for (std::uint64_t crash_after = 0; !completed && crash_after < 60; ++crash_after) {
      SCOPED_TRACE("from " + std::to_string(from) + ", crash after " + std::to_string(crash_after) +
                   " mutations");
      const std::string dir = tmp.path() + "/case";
      copy_dir(base, dir);
      {
        auto io = std::make_shared<FaultInjectingFileIo>();
        OpenResult opened = open_ok(small_options(dir, io));
        io->crash_after_mutations(crash_after);
        Status t = opened.log->truncate_suffix(from);
        Status a = t.ok() ? opened.log->append(make_entries(from, from + 4, 2)) : t;
        Status s = a.ok() ? opened.log->sync() : a;
        completed = s.ok();
      }
      OpenResult after = open_ok(small_options(dir));
      ASSERT_NE(after.log, nullptr);
      EXPECT_TRUE(after.report.corruptions.empty());
      EXPECT_EQ(after.log->repair_until(), 0u);
      SegmentedLog& log = *after.log;
      const std::uint64_t last = log.last_index();
      ASSERT_GE(last, from - 1);
      expect_entries(log, 1, from - 1, 1);
      if (last >= from) {
        // Either the old suffix (term 1) or the new entries (term 2), never a mix.
        const std::uint64_t suffix_term = log.term(from).value();
        if (suffix_term == 1) {
          // A prefix of the old log (segments are deleted highest first).
          EXPECT_LE(last, 100u);
          expect_entries(log, from, last, 1);
        } else {
          EXPECT_EQ(suffix_term, 2u);
          EXPECT_LE(last, from + 4);
          expect_entries(log, from, last, 2);
        }
      }
      if (completed) {
        EXPECT_EQ(last, from + 4);
        EXPECT_EQ(log.term(from).value(), 2u);
      }
      // The log keeps working after recovery.
      ASSERT_TRUE(log.truncate_suffix(from).ok());
      ASSERT_TRUE(log.append(make_entries(from, from + 1, 3)).ok());
      expect_entries(log, from, from + 1, 3);
    }
    EXPECT_TRUE(completed) << "from " << from;
  }
}

TEST(SegmentedLog, HardStateWriteIsAtomic) {
  TempDir tmp;
  const std::string base = tmp.path() + "/base";
  const raft::HardState before{5, 2};
  const raft::HardState after_state{6, 3};
  {
    OpenResult opened = open_ok(small_options(base));
    ASSERT_TRUE(opened.log->set_hard_state(before).ok());
    EXPECT_EQ(opened.log->set_hard_state(raft::HardState{4, 1}).error().code,
              ErrorCode::kInvalidArgument);
  }
  bool completed = false;
  for (std::uint64_t crash_after = 0; !completed && crash_after < 10; ++crash_after) {
    const std::string dir = tmp.path() + "/case";
    copy_dir(base, dir);
    {
      auto io = std::make_shared<FaultInjectingFileIo>();
      OpenResult opened = open_ok(small_options(dir, io));
      io->crash_after_mutations(crash_after);
      completed = opened.log->set_hard_state(after_state).ok();
    }
    OpenResult reopened = open_ok(small_options(dir));
    ASSERT_NE(reopened.log, nullptr);
    raft::HardState hs = reopened.log->hard_state();
    EXPECT_TRUE(hs == before || hs == after_state) << "term " << hs.term << " vote " << hs.vote;
    if (completed) {
      EXPECT_EQ(hs, after_state);
    }
  }
  EXPECT_TRUE(completed);

  // A leftover meta.tmp full of garbage is ignored; a damaged meta refuses to open.
  const std::string dir = tmp.path() + "/case";
  write_file(dir + "/meta.tmp", "garbage");
  OpenResult ok = open_ok(small_options(dir));
  EXPECT_EQ(ok.log->hard_state(), after_state);
  ok.log.reset();
  flip_byte(dir + "/meta", 10);
  auto bad = SegmentedLog::open(small_options(dir));
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().code, ErrorCode::kCorruption);
  EXPECT_NE(bad.error().message.find("meta"), std::string::npos);
}

TEST(SegmentedLog, SavedSnapshotKeepsEntriesAfterIt) {
  TempDir tmp;
  Options options = small_options(tmp.log_dir());
  OpenResult opened = open_ok(options);
  SegmentedLog& log = *opened.log;
  ASSERT_TRUE(log.append(make_entries(1, 40, 2)).ok());
  raft::Snapshot snap;
  snap.meta.index = 30;
  snap.meta.term = 1;  // wrong term
  EXPECT_EQ(log.save_snapshot(snap).error().code, ErrorCode::kInvalidArgument);
  snap.meta.term = 2;
  snap.data = "app";
  ASSERT_TRUE(log.save_snapshot(snap).ok());
  EXPECT_EQ(log.first_index(), 31u);
  EXPECT_EQ(log.last_index(), 40u);
  EXPECT_EQ(log.read(30).error().code, ErrorCode::kOutOfRange);
  EXPECT_EQ(log.term(30).value(), 2u);
  EXPECT_EQ(log.truncate_suffix(30).error().code, ErrorCode::kInvalidArgument);
  expect_entries(log, 31, 40, 2);
  opened.log.reset();
  OpenResult reopened = open_ok(options);
  EXPECT_EQ(reopened.log->first_index(), 31u);
  EXPECT_EQ(reopened.log->snapshot()->data, "app");
  expect_entries(*reopened.log, 31, 40, 2);
}

TEST(SegmentedLog, AppendAcrossSegmentRolloverIsCrashSafe) {
  TempDir tmp;
  const std::string base = tmp.path() + "/base";
  {
    OpenResult opened = open_ok(small_options(base));
    ASSERT_TRUE(opened.log->append(make_entries(1, 25, 1)).ok());
    ASSERT_TRUE(opened.log->sync().ok());
  }
  bool completed = false;
  for (std::uint64_t crash_after = 0; !completed && crash_after < 60; ++crash_after) {
    SCOPED_TRACE("crash after " + std::to_string(crash_after) + " mutations");
    const std::string dir = tmp.path() + "/case";
    copy_dir(base, dir);
    {
      auto io = std::make_shared<FaultInjectingFileIo>();
      OpenResult opened = open_ok(small_options(dir, io));
      io->crash_after_mutations(crash_after);
      Status a = opened.log->append(make_entries(26, 90, 2));  // seals two segments
      completed = a.ok() && opened.log->sync().ok();
    }
    OpenResult after = open_ok(small_options(dir));
    ASSERT_NE(after.log, nullptr);
    EXPECT_TRUE(after.report.corruptions.empty());
    EXPECT_EQ(after.log->repair_until(), 0u);
    const std::uint64_t last = after.log->last_index();
    ASSERT_GE(last, 25u);
    expect_entries(*after.log, 1, 25, 1);
    if (last > 25) expect_entries(*after.log, 26, last, 2);
    if (completed) {
      EXPECT_EQ(last, 90u);
    }
    ASSERT_TRUE(after.log->append(make_entries(last + 1, last + 3, 3)).ok());
    ASSERT_TRUE(after.log->sync().ok());
  }
  EXPECT_TRUE(completed);
}

TEST(SegmentedLog, SnapshotInstallIsCrashSafe) {
  TempDir tmp;
  const std::string base = tmp.path() + "/base";
  {
    OpenResult opened = open_ok(small_options(base));
    ASSERT_TRUE(opened.log->append(make_entries(1, 70, 1)).ok());
    ASSERT_TRUE(opened.log->sync().ok());
  }
  raft::Snapshot snap;
  snap.meta.index = 100;
  snap.meta.term = 2;
  snap.data = "state@100";
  bool completed = false;
  for (std::uint64_t crash_after = 0; !completed && crash_after < 60; ++crash_after) {
    SCOPED_TRACE("crash after " + std::to_string(crash_after) + " mutations");
    const std::string dir = tmp.path() + "/case";
    copy_dir(base, dir);
    {
      auto io = std::make_shared<FaultInjectingFileIo>();
      OpenResult opened = open_ok(small_options(dir, io));
      io->crash_after_mutations(crash_after);
      completed = opened.log->install_snapshot(snap).ok();
    }
    OpenResult after = open_ok(small_options(dir));
    ASSERT_NE(after.log, nullptr);
    EXPECT_TRUE(after.report.corruptions.empty());
    if (after.log->snapshot_meta().index == 0) {
      // Before the commit point: the old log, whole.
      EXPECT_EQ(after.log->last_index(), 70u);
      expect_entries(*after.log, 1, 70, 1);
      EXPECT_FALSE(completed);
    } else {
      // After it: the new snapshot and nothing of the old log.
      EXPECT_EQ(after.log->snapshot_meta(), snap.meta);
      EXPECT_EQ(after.log->snapshot()->data, "state@100");
      EXPECT_EQ(after.log->last_index(), 100u);
      EXPECT_EQ(after.log->first_index(), 101u);
      EXPECT_TRUE(files_with_prefix(dir, "segment-").empty());
    }
    ASSERT_TRUE(
        after.log->append(make_entries(after.log->last_index() + 1, after.log->last_index() + 2, 3))
            .ok());
  }
  EXPECT_TRUE(completed);
}

TEST(SegmentedLog, SecondOpenOfSameDirectoryIsRefused) {
  TempDir tmp;
  OpenResult first = open_ok(small_options(tmp.log_dir()));
  ASSERT_TRUE(first.log->append(make_entries(1, 3, 1)).ok());
  auto second = SegmentedLog::open(small_options(tmp.log_dir()));
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.error().code, ErrorCode::kBusy);
  EXPECT_NE(second.error().message.find("LOCK"), std::string::npos);
  first.log.reset();
  OpenResult third = open_ok(small_options(tmp.log_dir()));
  EXPECT_EQ(third.log->last_index(), 3u);
}

}  // namespace
}  // namespace dledger::log
