// The open segment's side index (open-<first>.idx): open reads only the tail it does not cover;
// a missing, garbage, cut or stale side index falls back to the scan and loses nothing; damage in
// covered entries is caught by reads; truncation and sealing keep it consistent.
#include <gtest/gtest.h>

#include "tests/ledger/log/log_test_util.h"

namespace dledger::log {
namespace {

using namespace dledger::log::testing;

// A log of `count` 100-byte entries (term 1) in one open segment, synced (so fully indexed).
void build_indexed_log(const std::string& dir, std::uint64_t count) {
  OpenResult opened = open_ok(small_options(dir, nullptr, kMiB));
  ASSERT_TRUE(opened.log->append(make_entries(1, count, 1)).ok());
  ASSERT_TRUE(opened.log->sync().ok());
}

// Opens `dir` (1 MiB segments), expecting no torn tail and no corruption.
OpenResult open_clean(const std::string& dir, std::shared_ptr<FileIo> io = nullptr) {
  OpenResult opened = open_ok(small_options(dir, std::move(io), kMiB));
  EXPECT_NE(opened.log, nullptr);
  EXPECT_FALSE(opened.report.torn_tail.has_value());
  EXPECT_TRUE(opened.report.corruptions.empty());
  return opened;
}

TEST(OpenSegmentIndex, IndexedOpenSegmentOpensWithoutReadingCoveredEntries) {
  TempDir tmp;
  const std::string dir = tmp.log_dir();
  build_indexed_log(dir, 200);
  ASSERT_TRUE(fs::exists(open_index_path(dir)));
  EXPECT_EQ(fs::file_size(open_index_path(dir)), 16u + 200u * 24u);

  auto io = std::make_shared<FaultInjectingFileIo>();
  OpenResult opened = open_clean(dir, io);
  EXPECT_EQ(opened.report.open_segment_bytes_scanned, 0u);
  EXPECT_EQ(opened.report.open_segment_entries_indexed, 200u);
  EXPECT_TRUE(opened.report.open_index_rejected.empty());
  // Only the last covered entry was read from the segment (to check it), not the 27 KB before,
  // and the zero-filled space after it (to tell it from entries appended after the last sync).
  const std::uint64_t zeros = fs::file_size(open_segment_path(dir)) - 200 * kEntryBytes100;
  EXPECT_GT(zeros, 0u);
  EXPECT_EQ(io->bytes_read_from(fs::path(open_segment_path(dir)).filename().string()),
            kEntryBytes100 + zeros);
  EXPECT_EQ(opened.log->last_index(), 200u);
  EXPECT_EQ(opened.log->last_term(), 1u);
  expect_entries(*opened.log, 1, 200, 1);
}

TEST(OpenSegmentIndex, UnsyncedTailIsScannedAndThenIndexed) {
  TempDir tmp;
  const std::string dir = tmp.log_dir();
  {
    OpenResult opened = open_ok(small_options(dir, nullptr, kMiB));
    ASSERT_TRUE(opened.log->append(make_entries(1, 20, 1)).ok());
    ASSERT_TRUE(opened.log->sync().ok());
    // Not synced: no records yet (a record only describes durable data).
    ASSERT_TRUE(opened.log->append(make_entries(21, 25, 2)).ok());
  }
  EXPECT_EQ(fs::file_size(open_index_path(dir)), 16u + 20u * 24u);
  {
    OpenResult opened = open_clean(dir);
    EXPECT_EQ(opened.report.open_segment_entries_indexed, 20u);
    EXPECT_EQ(opened.report.open_segment_bytes_scanned, 5 * kEntryBytes100);
    EXPECT_EQ(opened.log->last_index(), 25u);
    EXPECT_EQ(opened.log->term(25).value(), 2u);
    expect_entries(*opened.log, 1, 20, 1);
    expect_entries(*opened.log, 21, 25, 2);
  }
  // Open completed the side index for the scanned tail.
  OpenResult again = open_clean(dir);
  EXPECT_EQ(again.report.open_segment_bytes_scanned, 0u);
  EXPECT_EQ(again.report.open_segment_entries_indexed, 25u);
}

TEST(OpenSegmentIndex, TornTailAfterIndexedEntriesIsTruncated) {
  TempDir tmp;
  const std::string dir = tmp.log_dir();
  {
    OpenResult opened = open_ok(small_options(dir, nullptr, kMiB));
    ASSERT_TRUE(opened.log->append(make_entries(1, 20, 1)).ok());
    ASSERT_TRUE(opened.log->sync().ok());
    ASSERT_TRUE(opened.log->append(make_entries(21, 25, 1)).ok());
  }
  // A crash tore entry 24: the file ends 50 bytes into it.
  const std::uint64_t torn_at = 23 * kEntryBytes100;
  cut_file(open_segment_path(dir), torn_at + 50);
  const Options options = small_options(dir, nullptr, kMiB);
  {
    OpenResult opened = open_ok(options);
    ASSERT_TRUE(opened.report.torn_tail.has_value());
    EXPECT_EQ(opened.report.torn_tail->offset, torn_at);
    EXPECT_EQ(opened.report.torn_tail->bytes_discarded, 50u);
    EXPECT_TRUE(opened.report.corruptions.empty());
    EXPECT_EQ(opened.report.open_segment_entries_indexed, 20u);
    EXPECT_EQ(opened.report.open_segment_bytes_scanned, 3 * kEntryBytes100 + 50);
    EXPECT_EQ(opened.log->last_index(), 23u);
    expect_entries(*opened.log, 1, 23, 1);
    ASSERT_TRUE(opened.log->append(make_entries(24, 30, 1)).ok());
    ASSERT_TRUE(opened.log->sync().ok());
  }
  OpenResult again = open_clean(dir);
  EXPECT_EQ(again.report.open_segment_bytes_scanned, 0u);
  EXPECT_EQ(again.log->last_index(), 30u);
  expect_entries(*again.log, 1, 30, 1);
}

TEST(OpenSegmentIndex, UnusableSideIndexFallsBackToScanAndLosesNothing) {
  TempDir tmp;
  const std::string base = tmp.path() + "/base";
  build_indexed_log(base, 30);
  const std::string base_index = read_file(open_index_path(base));
  // A side index written for other data: 30 records of 100-byte entries, laid over a segment
  // of 60 entries of 40 bytes (the offsets fit in the file but do not match it).
  const std::string other = tmp.path() + "/other";
  {
    OpenResult opened = open_ok(small_options(other, nullptr, kMiB));
    ASSERT_TRUE(opened.log->append(make_entries(1, 60, 1, 40)).ok());
    ASSERT_TRUE(opened.log->sync().ok());
  }
  std::string header_for_7 = base_index;
  header_for_7[8] = 7;  // first_index 7: the header names another segment
  std::string bad_record = base_index;
  bad_record[16 + 3 * 24 + 8] ^= 1;  // record 4's term: its CRC fails, records 1..3 remain

  struct Case {
    std::string name;
    std::string index_bytes;  // empty with remove = true: no side index at all
    bool remove = false;
    std::uint64_t entries_indexed;
  };
  const std::vector<Case> cases = {
      {"missing", "", true, 0},
      {"empty", "", false, 0},
      {"garbage", std::string(16 + 30 * 24, '\x5c'), false, 0},
      {"header names another segment", header_for_7, false, 0},
      {"cut mid-record", base_index.substr(0, 16 + 10 * 24 + 7), false, 10},
      {"bad record CRC", bad_record, false, 3},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    const std::string dir = tmp.path() + "/case";
    fs::remove_all(dir);
    fs::copy(base, dir);
    if (c.remove) {
      remove_open_index(dir);
    } else {
      write_file(open_index_path(dir), c.index_bytes);
    }
    {
      OpenResult opened = open_clean(dir);
      EXPECT_EQ(opened.report.open_segment_entries_indexed, c.entries_indexed);
      EXPECT_EQ(opened.report.open_segment_bytes_scanned,
                (30 - c.entries_indexed) * kEntryBytes100);
      EXPECT_EQ(opened.log->last_index(), 30u);
      expect_entries(*opened.log, 1, 30, 1);
    }
    OpenResult again = open_clean(dir);  // the side index was repaired
    EXPECT_EQ(again.report.open_segment_bytes_scanned, 0u);
    EXPECT_EQ(again.report.open_segment_entries_indexed, 30u);
  }

  // Stale: longer than the data (the last 10 entries' bytes are gone, not torn mid-entry).
  {
    SCOPED_TRACE("longer than the data");
    const std::string dir = tmp.path() + "/case";
    fs::remove_all(dir);
    fs::copy(base, dir);
    cut_file(open_segment_path(dir), 20 * kEntryBytes100);
    OpenResult opened = open_clean(dir);
    EXPECT_EQ(opened.report.open_segment_entries_indexed, 20u);
    EXPECT_EQ(opened.report.open_segment_bytes_scanned, 0u);
    EXPECT_EQ(opened.log->last_index(), 20u);
    expect_entries(*opened.log, 1, 20, 1);
    opened.log.reset();
    EXPECT_EQ(fs::file_size(open_index_path(dir)), 16u + 20u * 24u);
  }
  // Stale: describes other data; the check of its last entry fails, the whole file is scanned.
  {
    SCOPED_TRACE("written for other data");
    const std::string dir = tmp.path() + "/case";
    fs::remove_all(dir);
    fs::copy(other, dir);
    write_file(open_index_path(dir), base_index);
    OpenResult opened = open_clean(dir);
    EXPECT_EQ(opened.report.open_segment_entries_indexed, 0u);
    EXPECT_NE(opened.report.open_index_rejected.find("does not match its record"),
              std::string::npos);
    EXPECT_EQ(opened.report.open_segment_bytes_scanned, 60u * (36 + 40));
    EXPECT_EQ(opened.log->last_index(), 60u);
    expect_entries(*opened.log, 1, 60, 1, 40);
    opened.log.reset();
    OpenResult again = open_clean(dir);
    EXPECT_EQ(again.report.open_segment_entries_indexed, 60u);
    expect_entries(*again.log, 1, 60, 1, 40);
  }
}

TEST(OpenSegmentIndex, DamagedIndexedEntryIsReportedByReadNeverServedAndQuarantinedOnReopen) {
  TempDir tmp;
  const std::string dir = tmp.log_dir();
  build_indexed_log(dir, 20);
  const std::string segment = open_segment_path(dir);
  const std::uint64_t offset = 9 * kEntryBytes100;  // entry 10
  flip_byte(segment, offset + 36 + 10);
  const Options options = small_options(dir, nullptr, kMiB);
  {
    OpenResult opened = open_clean(dir);  // covered entries are not read at open...
    EXPECT_EQ(opened.report.open_segment_entries_indexed, 20u);
    EXPECT_EQ(opened.log->last_index(), 20u);
    auto bad = opened.log->read(10);  // ...but every read checks the CRC
    ASSERT_FALSE(bad.ok());
    EXPECT_EQ(bad.error().code, ErrorCode::kCorruption);
    EXPECT_NE(bad.error().message.find(segment), std::string::npos);
    EXPECT_NE(bad.error().message.find("offset " + std::to_string(offset)), std::string::npos);
    EXPECT_NE(bad.error().message.find("entry 10"), std::string::npos);
    EXPECT_EQ(opened.log->read(11).error().code, ErrorCode::kCorruption);
    auto range = opened.log->read_range(5, 15, UINT64_MAX);
    ASSERT_TRUE(range.ok());
    EXPECT_EQ(range->size(), 5u);                // stops before the damaged entry
    ASSERT_TRUE(opened.log->sync().ok());        // records the damage in the meta file
    EXPECT_EQ(opened.log->repair_until(), 20u);  // no campaigning or voting until repaired
  }
  {
    // The damage marker makes open ignore the side index and scan: the damage is quarantined.
    OpenResult opened = open_ok(options);
    ASSERT_EQ(opened.report.corruptions.size(), 1u);
    EXPECT_EQ(opened.report.corruptions[0].index, 10u);
    EXPECT_EQ(opened.report.corruptions[0].offset, offset);
    EXPECT_EQ(opened.report.open_segment_entries_indexed, 0u);
    EXPECT_EQ(opened.log->last_index(), 9u);
    EXPECT_EQ(opened.log->repair_until(), 20u);
    expect_entries(*opened.log, 1, 9, 1);
  }
  OpenResult again = open_clean(dir);
  EXPECT_EQ(again.report.open_segment_bytes_scanned, 0u);
  EXPECT_EQ(again.report.open_segment_entries_indexed, 9u);
  EXPECT_EQ(again.log->last_index(), 9u);
  EXPECT_EQ(again.log->repair_until(), 20u);
}

TEST(OpenSegmentIndex, LastSyncedEntryFailingItsChecksumIsDamageNotATornTail) {
  // Without the side index a bad last entry looks like an interrupted append and is truncated.
  // The side index proves the entry was fsynced (a record is written only after that), so the
  // replica may have acknowledged it: it is quarantined and the member enters repair mode.
  TempDir tmp;
  const std::string dir = tmp.log_dir();
  build_indexed_log(dir, 20);
  const std::string segment = open_segment_path(dir);
  const std::uint64_t offset = 19 * kEntryBytes100;  // entry 20, the last one
  flip_byte(segment, offset + 36 + 10);
  OpenResult opened = open_ok(small_options(dir, nullptr, kMiB));
  EXPECT_FALSE(opened.report.torn_tail.has_value());
  ASSERT_EQ(opened.report.corruptions.size(), 1u);
  EXPECT_EQ(opened.report.corruptions[0].index, 20u);
  EXPECT_EQ(opened.report.corruptions[0].offset, offset);
  EXPECT_EQ(opened.log->last_index(), 19u);
  EXPECT_GE(opened.log->repair_until(), 20u);
  expect_entries(*opened.log, 1, 19, 1);
  EXPECT_TRUE(fs::exists(fs::path(dir) / "quarantine"));
}

TEST(OpenSegmentIndex, TruncateThenAppendKeepsSideIndexConsistent) {
  TempDir tmp;
  const std::string dir = tmp.log_dir();
  {
    OpenResult opened = open_ok(small_options(dir, nullptr, kMiB));
    ASSERT_TRUE(opened.log->append(make_entries(1, 30, 1)).ok());
    ASSERT_TRUE(opened.log->sync().ok());
    // A new leader overwrites 21.. with entries of another size and term.
    ASSERT_TRUE(opened.log->truncate_and_append(make_entries(21, 40, 2, 50)).ok());
    ASSERT_TRUE(opened.log->sync().ok());
  }
  {
    OpenResult opened = open_clean(dir);
    EXPECT_EQ(opened.report.open_segment_entries_indexed, 40u);
    EXPECT_EQ(opened.report.open_segment_bytes_scanned, 0u);
    expect_entries(*opened.log, 1, 20, 1);
    expect_entries(*opened.log, 21, 40, 2, 50);
    // Truncation alone, then everything (the side index is cut to nothing).
    ASSERT_TRUE(opened.log->truncate_suffix(31).ok());
  }
  EXPECT_EQ(fs::file_size(open_index_path(dir)), 16u + 30u * 24u);
  {
    OpenResult opened = open_clean(dir);
    EXPECT_EQ(opened.report.open_segment_entries_indexed, 30u);
    EXPECT_EQ(opened.log->last_index(), 30u);
    ASSERT_TRUE(opened.log->truncate_suffix(1).ok());
    ASSERT_TRUE(opened.log->append(make_entries(1, 5, 3, 70)).ok());
    ASSERT_TRUE(opened.log->sync().ok());
  }
  OpenResult again = open_clean(dir);
  EXPECT_EQ(again.report.open_segment_entries_indexed, 5u);
  EXPECT_EQ(again.report.open_segment_bytes_scanned, 0u);
  EXPECT_EQ(again.log->last_index(), 5u);
  expect_entries(*again.log, 1, 5, 3, 70);
}

TEST(OpenSegmentIndex, CrashAtAnyPointOfTruncateAndAppendLeavesNoStaleRecords) {
  TempDir tmp;
  const std::string base = tmp.path() + "/base";
  build_indexed_log(base, 30);
  bool completed = false;
  for (std::uint64_t crash_after = 0; !completed && crash_after < 30; ++crash_after) {
    SCOPED_TRACE("crash after " + std::to_string(crash_after) + " mutations");
    const std::string dir = tmp.path() + "/case";
    fs::remove_all(dir);
    fs::copy(base, dir);
    {
      auto io = std::make_shared<FaultInjectingFileIo>();
      io->crash_after_mutations(crash_after);
      auto r = SegmentedLog::open(small_options(dir, io, kMiB));
      if (r.ok()) {
        // A new leader overwrites 21.. with entries of another size and term.
        completed =
            r->log->truncate_and_append(make_entries(21, 40, 2, 50)).ok() && r->log->sync().ok();
      }
    }
    // Whatever survived is the old log, a prefix of it, or the new one: every entry reads back
    // (a stale record would point into the wrong bytes and fail the read).
    OpenResult opened = open_clean(dir);
    const std::uint64_t last = opened.log->last_index();
    ASSERT_GE(last, 20u);
    expect_entries(*opened.log, 1, 20, 1);
    if (last > 20 && opened.log->term(21).value() == 1) {
      EXPECT_LE(last, 30u);
      expect_entries(*opened.log, 21, last, 1);
    } else if (last > 20) {
      expect_entries(*opened.log, 21, last, 2, 50);
    }
    if (completed) {
      EXPECT_EQ(last, 40u);
    }
  }
  EXPECT_TRUE(completed);
}

TEST(OpenSegmentIndex, SealReplacesSideIndexAndReopenedSegmentGetsANewOne) {
  TempDir tmp;
  const std::string dir = tmp.log_dir();
  const Options options = small_options(dir);  // 4 KiB segments: 30 entries each
  {
    OpenResult opened = open_ok(options);
    ASSERT_TRUE(opened.log->append(make_entries(1, 100, 1)).ok());
    ASSERT_TRUE(opened.log->sync().ok());
  }
  // Only the open segment has a side index.
  EXPECT_EQ(
      files_with_prefix(dir, "open-"),
      (std::vector<std::string>{"open-00000000000000000091.idx", "open-00000000000000000091.log"}));
  {
    OpenResult opened = open_ok(options);
    EXPECT_EQ(opened.report.closed_segments_scanned, 0u);
    EXPECT_EQ(opened.report.open_segment_bytes_scanned, 0u);
    EXPECT_EQ(opened.report.open_segment_entries_indexed, 10u);
    // Truncating into the closed segment 31..60 makes it the open segment again.
    ASSERT_TRUE(opened.log->truncate_and_append(make_entries(50, 55, 2)).ok());
    ASSERT_TRUE(opened.log->sync().ok());
  }
  EXPECT_EQ(
      files_with_prefix(dir, "open-"),
      (std::vector<std::string>{"open-00000000000000000031.idx", "open-00000000000000000031.log"}));
  OpenResult again = open_ok(options);
  EXPECT_TRUE(again.report.corruptions.empty());
  EXPECT_EQ(again.report.open_segment_bytes_scanned, 0u);
  EXPECT_EQ(again.report.open_segment_entries_indexed, 25u);
  EXPECT_EQ(again.log->last_index(), 55u);
  expect_entries(*again.log, 1, 49, 1);
  expect_entries(*again.log, 50, 55, 2);
}

TEST(OpenSegmentIndex, OrphanSideIndexIsDeletedWithoutWarning) {
  TempDir tmp;
  const std::string dir = tmp.log_dir();
  build_indexed_log(dir, 10);
  const std::string orphan = dir + "/" + format::open_index_name(500);
  write_file(orphan, read_file(open_index_path(dir)));
  OpenResult opened = open_clean(dir);
  EXPECT_TRUE(opened.report.warnings.empty());
  EXPECT_FALSE(fs::exists(orphan));
  EXPECT_EQ(opened.report.open_segment_entries_indexed, 10u);
}

TEST(OpenSegmentIndex, ConfigEntriesOfIndexedPartAreLoaded) {
  TempDir tmp;
  const std::string dir = tmp.log_dir();
  std::vector<RawConfigEntry> configs;
  {
    OpenResult opened = open_ok(small_options(dir, nullptr, kMiB));
    std::vector<raft::Entry> batch;
    for (std::uint64_t i = 1; i <= 40; ++i) {
      bool config = i % 7 == 0;
      batch.push_back(make_entry(i, 1 + i / 10, 30 + i,
                                 config ? raft::EntryType::kConfig : raft::EntryType::kNormal));
      if (config) configs.push_back(RawConfigEntry{i, batch.back().data});
    }
    ASSERT_TRUE(opened.log->append(batch).ok());
    ASSERT_TRUE(opened.log->sync().ok());
  }
  OpenResult opened = open_clean(dir);
  EXPECT_EQ(opened.report.open_segment_entries_indexed, 40u);
  EXPECT_EQ(opened.report.open_segment_bytes_scanned, 0u);
  EXPECT_EQ(opened.log->config_entries(), configs);
  for (std::uint64_t i = 1; i <= 40; ++i) {
    EXPECT_EQ(opened.log->term(i).value(), 1 + i / 10) << "index " << i;
    auto e = opened.log->read(i);
    ASSERT_TRUE(e.ok());
    EXPECT_EQ(e->type, i % 7 == 0 ? raft::EntryType::kConfig : raft::EntryType::kNormal);
  }
}

TEST(OpenSegmentIndex, FailedSideIndexWriteIsNotAnErrorAndNothingIsLost) {
  TempDir tmp;
  const std::string dir = tmp.log_dir();
  auto io = std::make_shared<FaultInjectingFileIo>();
  std::vector<std::string> warnings;
  Options options = small_options(dir, io, kMiB);
  options.on_warning = [&](const std::string& w) { warnings.push_back(w); };
  {
    OpenResult opened = open_ok(options);
    ASSERT_TRUE(opened.log->append(make_entries(1, 10, 1)).ok());
    ASSERT_TRUE(opened.log->sync().ok());
    ASSERT_TRUE(opened.log->append(make_entries(11, 20, 1)).ok());
    // The data write happened; the side index write of the next sync fails (disk full).
    io->fail(FileOp::kWrite, ENOSPC);
    ASSERT_TRUE(opened.log->sync().ok());
    io->clear_faults();
    ASSERT_EQ(warnings.size(), 1u);
    EXPECT_NE(warnings[0].find("side index"), std::string::npos);
  }
  OpenResult opened = open_clean(dir);
  EXPECT_EQ(opened.report.open_segment_entries_indexed, 10u);
  EXPECT_EQ(opened.report.open_segment_bytes_scanned, 10 * kEntryBytes100);
  expect_entries(*opened.log, 1, 20, 1);
}

}  // namespace
}  // namespace dledger::log
