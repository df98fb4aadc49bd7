// Recovery: a torn tail is truncated with a warning; damage anywhere else is reported, quarantined
// (bytes kept) and puts the member in repair mode until it has re-fetched its log.
#include <gtest/gtest.h>

#include "tests/ledger/log/log_test_util.h"

namespace dledger::log {
namespace {

using namespace dledger::log::testing;

// A log of `count` 100-byte entries (term 1) in one open segment.
void build_single_segment_log(const std::string& dir, std::uint64_t count) {
  OpenResult opened = open_ok(small_options(dir, nullptr, 1 << 20));
  ASSERT_TRUE(opened.log->append(make_entries(1, count, 1)).ok());
  ASSERT_TRUE(opened.log->sync().ok());
}

TEST(LogRecovery, TornTailTruncatedWithWarning) {
  TempDir tmp;
  const std::string base = tmp.path() + "/base";
  build_single_segment_log(base, 10);
  const std::uint64_t last_start = 9 * kEntryBytes100;
  const std::string dir = tmp.path() + "/case";

  auto check_torn = [&](const std::string& what, std::uint64_t expected_offset,
                        bool check_reuse = true) {
    SCOPED_TRACE(what);
    std::vector<std::string> warnings;
    Options options = small_options(dir, nullptr, 1 << 20);
    options.on_warning = [&](const std::string& w) { warnings.push_back(w); };
    OpenResult opened = open_ok(options);
    ASSERT_NE(opened.log, nullptr);
    ASSERT_TRUE(opened.report.torn_tail.has_value());
    EXPECT_EQ(opened.report.torn_tail->offset, expected_offset);
    EXPECT_NE(opened.report.torn_tail->file.find("open-00000000000000000001.log"),
              std::string::npos);
    EXPECT_TRUE(opened.report.corruptions.empty());
    EXPECT_EQ(opened.report.repair_until, 0u);
    ASSERT_EQ(warnings.size(), 1u);
    EXPECT_NE(warnings[0].find("torn tail"), std::string::npos);
    EXPECT_NE(warnings[0].find("offset " + std::to_string(expected_offset)), std::string::npos);
    EXPECT_EQ(opened.log->last_index(), expected_offset / kEntryBytes100);
    expect_entries(*opened.log, 1, opened.log->last_index(), 1);
    if (!check_reuse) return;
    // Appending continues where the valid log ends, and the next open is clean.
    std::uint64_t next = opened.log->last_index() + 1;
    ASSERT_TRUE(opened.log->append(make_entries(next, 12, 1)).ok());
    ASSERT_TRUE(opened.log->sync().ok());
    opened.log.reset();
    OpenResult again = open_ok(options);
    EXPECT_FALSE(again.report.torn_tail.has_value());
    EXPECT_EQ(again.log->last_index(), 12u);
    expect_entries(*again.log, 1, 12, 1);
  };

  // Cut the last entry at every offset: short header, then short payload.
  for (std::uint64_t cut = 1; cut < kEntryBytes100; ++cut) {
    fs::remove_all(dir);
    fs::copy(base, dir);
    cut_file(open_segment_path(dir), last_start + cut);
    check_torn("cut " + std::to_string(cut) + " bytes into the last entry", last_start,
               cut % 16 == 1);
  }
  // A complete last entry with a bad CRC followed by nothing.
  fs::remove_all(dir);
  fs::copy(base, dir);
  flip_byte(open_segment_path(dir), last_start + 36 + 50);
  // An interrupted append was never synced, so no side index record describes it (with one, the
  // bad entry is damage: OpenSegmentIndex.LastSyncedEntryFailingItsChecksumIsDamageNotATornTail).
  remove_open_index(dir);
  check_torn("bad payload CRC on the last entry", last_start);
  // (Nothing but zeros after the last entry is unused space, not a torn tail:
  // preallocation_test.cpp.)
  // A partial last entry followed by zeros.
  fs::remove_all(dir);
  fs::copy(base, dir);
  cut_file(open_segment_path(dir), last_start + 40);
  append_bytes(open_segment_path(dir), std::string(300, '\0'));
  remove_open_index(dir);  // never synced, as above
  check_torn("partial entry then zeros", last_start);
  // Garbage after the last entry.
  fs::remove_all(dir);
  fs::copy(base, dir);
  append_bytes(open_segment_path(dir), std::string(77, '\x5c'));
  check_torn("garbage tail", 10 * kEntryBytes100);
}

TEST(LogRecovery, MidLogCorruptionIsReportedNotTruncated) {
  TempDir tmp;
  const std::string dir = tmp.log_dir();
  build_single_segment_log(dir, 20);
  remove_open_index(dir);  // scanned at open (see open_index_test.cpp for indexed entries)
  const std::string segment = open_segment_path(dir);
  const std::string original = read_file(segment);
  const std::uint64_t bad_offset = 9 * kEntryBytes100;  // entry 10
  flip_byte(segment, bad_offset + 36 + 10);
  const std::string damaged = read_file(segment);

  OpenResult opened = open_ok(small_options(dir, nullptr, 1 << 20));
  ASSERT_NE(opened.log, nullptr);
  EXPECT_FALSE(opened.report.torn_tail.has_value());
  ASSERT_EQ(opened.report.corruptions.size(), 1u);
  const CorruptionReport& c = opened.report.corruptions[0];
  EXPECT_EQ(c.file, segment);
  EXPECT_EQ(c.offset, bad_offset);
  EXPECT_EQ(c.index, 10u);
  EXPECT_NE(c.reason.find("checksum"), std::string::npos);
  // Nothing from the damaged entry on is served.
  EXPECT_EQ(opened.log->last_index(), 9u);
  expect_entries(*opened.log, 1, 9, 1);
  EXPECT_EQ(opened.log->read(10).error().code, ErrorCode::kOutOfRange);
  // The damaged bytes are kept in quarantine, not deleted as a torn tail would be.
  ASSERT_EQ(c.quarantined.size(), 1u);
  EXPECT_EQ(read_file(c.quarantined[0]), damaged.substr(bad_offset));
  EXPECT_EQ(read_file(segment), original.substr(0, bad_offset));
  EXPECT_EQ(opened.report.repair_until, 20u);
}

TEST(LogRecovery, CorruptClosedSegmentIsDetectedByReadAndQuarantinedOnReopen) {
  TempDir tmp;
  const std::string dir = tmp.log_dir();
  Options options = small_options(dir);
  {
    OpenResult opened = open_ok(options);
    ASSERT_TRUE(opened.log->append(make_entries(1, 100, 1)).ok());
    ASSERT_TRUE(opened.log->sync().ok());
  }
  // Entry 40 lives in the second closed segment (30 entries per 4 KiB segment).
  const std::string closed = dir + "/" + format::closed_segment_name(31, 60);
  ASSERT_TRUE(fs::exists(closed));
  const std::uint64_t offset = 9 * kEntryBytes100;
  flip_byte(closed, offset + 36 + 1);
  {
    OpenResult opened = open_ok(options);  // closed segments are not read at open...
    EXPECT_TRUE(opened.report.corruptions.empty());
    EXPECT_EQ(opened.log->last_index(), 100u);
    auto bad = opened.log->read(40);  // ...but every read checks the CRC
    ASSERT_FALSE(bad.ok());
    EXPECT_EQ(bad.error().code, ErrorCode::kCorruption);
    EXPECT_NE(bad.error().message.find(closed), std::string::npos);
    EXPECT_NE(bad.error().message.find("offset " + std::to_string(offset)), std::string::npos);
    EXPECT_NE(bad.error().message.find("entry 40"), std::string::npos);
    // Nothing after it is served either.
    EXPECT_EQ(opened.log->read(41).error().code, ErrorCode::kCorruption);
    EXPECT_EQ(opened.log->read_range(35, 50, UINT64_MAX)->size(), 5u);
    EXPECT_EQ(opened.log->read_batch(35, 50, UINT64_MAX)->size(), 5u);
    EXPECT_EQ(opened.log->read_batch(40, 50, UINT64_MAX).error().code, ErrorCode::kCorruption);
    ASSERT_TRUE(opened.log->sync().ok());  // records the damage in the meta file
    EXPECT_EQ(opened.log->repair_until(), 100u);
  }
  OpenResult reopened = open_ok(options);
  ASSERT_EQ(reopened.report.corruptions.size(), 1u);
  EXPECT_EQ(reopened.report.corruptions[0].index, 40u);
  EXPECT_EQ(reopened.report.corruptions[0].offset, offset);
  EXPECT_EQ(reopened.log->last_index(), 39u);
  EXPECT_EQ(reopened.log->repair_until(), 100u);
  expect_entries(*reopened.log, 1, 39, 1);
  // Later segments were moved aside, not deleted.
  EXPECT_TRUE(fs::exists(dir + "/quarantine/" + format::closed_segment_name(61, 90)));
  EXPECT_TRUE(fs::exists(dir + "/quarantine/open-00000000000000000091.log"));
}

TEST(LogRecovery, VerifyOnOpenFindsDamageInClosedSegments) {
  TempDir tmp;
  const std::string dir = tmp.log_dir();
  Options options = small_options(dir);
  {
    OpenResult opened = open_ok(options);
    ASSERT_TRUE(opened.log->append(make_entries(1, 100, 1)).ok());
    ASSERT_TRUE(opened.log->sync().ok());
  }
  flip_byte(dir + "/" + format::closed_segment_name(1, 30), 5 * kEntryBytes100 + 3);
  options.verify_on_open = true;
  OpenResult opened = open_ok(options);
  ASSERT_EQ(opened.report.corruptions.size(), 1u);
  EXPECT_EQ(opened.report.corruptions[0].index, 6u);
  EXPECT_EQ(opened.log->last_index(), 5u);
  EXPECT_EQ(opened.log->repair_until(), 100u);
}

TEST(LogRecovery, CorruptMemberEntersRepairMode) {
  TempDir tmp;
  const std::string dir = tmp.log_dir();
  Options options = small_options(dir);
  {
    OpenResult opened = open_ok(options);
    ASSERT_TRUE(opened.log->append(make_entries(1, 45, 1)).ok());
    ASSERT_TRUE(opened.log->sync().ok());
  }
  // Damage entry 35 in the open segment (entries 31..45): followed by valid entries. Without a
  // side index the open segment is scanned, so open finds it.
  remove_open_index(dir);
  flip_byte(open_segment_path(dir), 4 * kEntryBytes100 + 20);
  OpenResult opened = open_ok(options);
  ASSERT_EQ(opened.report.corruptions.size(), 1u);
  SegmentedLog& log = *opened.log;
  EXPECT_EQ(log.last_index(), 34u);
  // repair_until is the highest index the log had: the member must not campaign or vote until
  // it holds that much again.
  EXPECT_EQ(log.repair_until(), 45u);
  EXPECT_EQ(opened.report.repair_until, 45u);
  // Re-fetching from the leader: the log accepts the missing entries, then repair is cleared.
  ASSERT_TRUE(log.append(make_entries(35, 45, 1)).ok());
  ASSERT_TRUE(log.sync().ok());
  ASSERT_TRUE(log.set_repair_until(0).ok());
  opened.log.reset();
  OpenResult healed = open_ok(options);
  EXPECT_TRUE(healed.report.corruptions.empty());
  EXPECT_EQ(healed.log->repair_until(), 0u);
  expect_entries(*healed.log, 1, 45, 1);
}

TEST(LogRecovery, RepairUntilSurvivesRestart) {
  TempDir tmp;
  const std::string dir = tmp.log_dir();
  build_single_segment_log(dir, 20);
  remove_open_index(dir);                                     // scanned at open
  flip_byte(open_segment_path(dir), 3 * kEntryBytes100 + 1);  // entry 4's header
  Options options = small_options(dir, nullptr, 1 << 20);
  {
    OpenResult opened = open_ok(options);
    ASSERT_EQ(opened.report.corruptions.size(), 1u);
    EXPECT_EQ(opened.log->repair_until(), 20u);
    EXPECT_EQ(opened.log->last_index(), 3u);
  }
  for (int restart = 0; restart < 2; ++restart) {
    OpenResult opened = open_ok(options);
    EXPECT_TRUE(opened.report.corruptions.empty());  // already quarantined
    EXPECT_EQ(opened.log->repair_until(), 20u);
    EXPECT_EQ(opened.report.repair_until, 20u);
    EXPECT_EQ(opened.log->last_index(), 3u);
  }
  // A crash at every mutation of the recovery itself: whatever survives, repair_until is never
  // forgotten, and at least one crash point falls after the meta write but before the damaged
  // bytes were moved aside.
  TempDir tmp2;
  const std::string base = tmp2.path() + "/base";
  build_single_segment_log(base, 20);
  remove_open_index(base);
  flip_byte(open_segment_path(base), 5 * kEntryBytes100 + 40);
  const std::uint64_t damaged_size = fs::file_size(open_segment_path(base));
  bool window_seen = false;
  bool completed = false;
  for (std::uint64_t crash_after = 0; !completed && crash_after < 40; ++crash_after) {
    SCOPED_TRACE("crash after " + std::to_string(crash_after) + " mutations");
    const std::string dir2 = tmp2.path() + "/case";
    fs::remove_all(dir2);
    fs::copy(base, dir2, fs::copy_options::recursive);
    {
      auto io = std::make_shared<FaultInjectingFileIo>();
      io->crash_after_mutations(crash_after);
      auto r = SegmentedLog::open(small_options(dir2, io, 1 << 20));
      completed = r.ok();
    }
    auto meta = format::decode_meta(read_file(dir2 + "/meta"), "meta");
    ASSERT_TRUE(meta.ok());
    if (meta->repair_until == 20 && fs::file_size(open_segment_path(dir2)) == damaged_size) {
      window_seen = true;
    }
    OpenResult recovered = open_ok(small_options(dir2, nullptr, 1 << 20));
    EXPECT_EQ(recovered.log->repair_until(), 20u);
    EXPECT_EQ(recovered.log->last_index(), 5u);
    expect_entries(*recovered.log, 1, 5, 1);
  }
  EXPECT_TRUE(completed);
  EXPECT_TRUE(window_seen);
}

TEST(LogRecovery, MissingIndexFileIsRebuiltWithoutDataLoss) {
  TempDir tmp;
  const std::string dir = tmp.log_dir();
  Options options = small_options(dir);
  {
    OpenResult opened = open_ok(options);
    ASSERT_TRUE(opened.log->append(make_entries(1, 100, 1)).ok());
    ASSERT_TRUE(opened.log->sync().ok());
  }
  fs::remove(dir + "/" + format::closed_index_name(31, 60));
  flip_byte(dir + "/" + format::closed_index_name(61, 90), 30);
  OpenResult opened = open_ok(options);
  EXPECT_TRUE(opened.report.corruptions.empty());
  EXPECT_EQ(opened.report.closed_segments_scanned, 2u);
  EXPECT_EQ(opened.report.warnings.size(), 2u);
  expect_entries(*opened.log, 1, 100, 1);
  opened.log.reset();
  OpenResult again = open_ok(options);
  EXPECT_EQ(again.report.closed_segments_scanned, 0u);  // rebuilt index files are used
}

TEST(LogRecovery, MissingSegmentIsCorruptionNotSilentGap) {
  TempDir tmp;
  const std::string dir = tmp.log_dir();
  Options options = small_options(dir);
  {
    OpenResult opened = open_ok(options);
    ASSERT_TRUE(opened.log->append(make_entries(1, 100, 1)).ok());
    ASSERT_TRUE(opened.log->sync().ok());
  }
  fs::remove(dir + "/" + format::closed_segment_name(31, 60));
  OpenResult opened = open_ok(options);
  ASSERT_EQ(opened.report.corruptions.size(), 1u);
  EXPECT_EQ(opened.report.corruptions[0].index, 31u);
  EXPECT_NE(opened.report.corruptions[0].reason.find("expected 31"), std::string::npos);
  EXPECT_EQ(opened.log->last_index(), 30u);
  EXPECT_EQ(opened.log->repair_until(), 100u);
  expect_entries(*opened.log, 1, 30, 1);
  EXPECT_TRUE(fs::exists(dir + "/quarantine/" + format::closed_segment_name(61, 90)));
  // Appending resumes right after the last good entry.
  ASSERT_TRUE(opened.log->append(make_entries(31, 35, 1)).ok());
  expect_entries(*opened.log, 31, 35, 1);
}

TEST(LogRecovery, LostEntryBeforeValidLastEntryIsCorruption) {
  TempDir tmp;
  const std::string dir = tmp.log_dir();
  build_single_segment_log(dir, 10);
  // Remove entry 9 from the middle of the file: entry 10 now sits where 9 belongs.
  const std::string segment = open_segment_path(dir);
  std::string bytes = read_file(segment);
  bytes.erase(8 * kEntryBytes100, kEntryBytes100);
  write_file(segment, bytes);
  OpenResult opened = open_ok(small_options(dir, nullptr, 1 << 20));
  EXPECT_FALSE(opened.report.torn_tail.has_value());
  ASSERT_EQ(opened.report.corruptions.size(), 1u);
  EXPECT_EQ(opened.report.corruptions[0].index, 9u);
  EXPECT_EQ(opened.log->last_index(), 8u);
  EXPECT_EQ(opened.log->repair_until(), 10u);
}

}  // namespace
}  // namespace dledger::log
