// Preallocation: the open segment keeps zero-filled space written ahead of its entries, so an
// fdatasync after an append does not have to make a new file size durable. The zeros are never
// mistaken for entries or damage, are cut off when the segment is sealed or truncated, and a
// zeroed entry that was synced is still damage.
#include <gtest/gtest.h>

#include "broker/ledger/log/fault_injecting_file_io.h"
#include "tests/ledger/log/log_test_util.h"

namespace dledger::log {
namespace {

using namespace dledger::log::testing;

constexpr std::uint64_t kStep = 64 * 1024;

Options prealloc_options(const std::string& dir, std::uint64_t segment_bytes = kMiB,
                         std::shared_ptr<FileIo> io = nullptr) {
  Options o = small_options(dir, std::move(io), segment_bytes);
  o.preallocate_bytes = kStep;
  return o;
}

// A log of `count` 100-byte entries (term 1) in one open segment, synced (so fully indexed).
void build_synced_log(const std::string& dir, std::uint64_t count) {
  OpenResult opened = open_ok(prealloc_options(dir));
  ASSERT_TRUE(opened.log->append(make_entries(1, count, 1)).ok());
  ASSERT_TRUE(opened.log->sync().ok());
}

void zero_bytes(const std::string& path, std::uint64_t from, std::uint64_t to) {
  std::string bytes = read_file(path);
  ASSERT_LE(to, bytes.size());
  for (std::uint64_t i = from; i < to; ++i) bytes[i] = '\0';
  write_file(path, bytes);
}

bool zeros_from(const std::string& path, std::uint64_t offset) {
  std::string bytes = read_file(path);
  if (offset > bytes.size()) return false;
  return bytes.find_first_not_of('\0', offset) == std::string::npos;
}

TEST(Preallocation, AppendsLandInZeroFilledSpaceWrittenAheadAndTheFileGrowsOnlyInSteps) {
  TempDir tmp;
  const std::string dir = tmp.log_dir();
  OpenResult opened = open_ok(prealloc_options(dir));
  ASSERT_TRUE(opened.log->append(make_entries(1, 10, 1)).ok());
  ASSERT_TRUE(opened.log->sync().ok());
  const std::string segment = open_segment_path(dir);
  std::uint64_t end = 10 * kEntryBytes100;
  EXPECT_EQ(fs::file_size(segment), end + kStep);
  EXPECT_TRUE(zeros_from(segment, end));

  // Appends that leave at least half a step of zeros do not grow the file.
  std::uint64_t next = 11;
  while (fs::file_size(segment) - (end + kEntryBytes100) >= kStep / 2) {
    ASSERT_TRUE(opened.log->append(make_entries(next, next, 1)).ok());
    ASSERT_TRUE(opened.log->sync().ok());
    end += kEntryBytes100;
    ++next;
    EXPECT_EQ(fs::file_size(segment), 10 * kEntryBytes100 + kStep) << "after entry " << next - 1;
  }
  // The next one does: by one step past the new end.
  ASSERT_TRUE(opened.log->append(make_entries(next, next, 1)).ok());
  ASSERT_TRUE(opened.log->sync().ok());
  end += kEntryBytes100;
  EXPECT_EQ(fs::file_size(segment), end + kStep);
  EXPECT_TRUE(zeros_from(segment, end));
  expect_entries(*opened.log, 1, next, 1);
}

TEST(Preallocation, ReopenSeesUnusedSpaceNotATornTailWithOrWithoutTheSideIndex) {
  for (bool with_side_index : {true, false}) {
    SCOPED_TRACE(with_side_index ? "side index" : "no side index");
    TempDir tmp;
    const std::string dir = tmp.log_dir();
    build_synced_log(dir, 50);
    const std::string segment = open_segment_path(dir);
    const std::uint64_t size = fs::file_size(segment);
    ASSERT_EQ(size, 50 * kEntryBytes100 + kStep);
    if (!with_side_index) remove_open_index(dir);
    std::vector<std::string> warnings;
    Options options = prealloc_options(dir);
    options.on_warning = [&](const std::string& w) { warnings.push_back(w); };
    OpenResult opened = open_ok(options);
    EXPECT_FALSE(opened.report.torn_tail.has_value());
    EXPECT_TRUE(opened.report.corruptions.empty());
    EXPECT_TRUE(warnings.empty()) << warnings.front();
    EXPECT_EQ(opened.report.open_segment_bytes_scanned, with_side_index ? 0u : 50 * kEntryBytes100);
    EXPECT_EQ(opened.log->last_index(), 50u);
    expect_entries(*opened.log, 1, 50, 1);
    // The zeros stay (no write at open) and the next append goes right after entry 50.
    EXPECT_EQ(fs::file_size(segment), size);
    ASSERT_TRUE(opened.log->append(make_entries(51, 52, 1)).ok());
    ASSERT_TRUE(opened.log->sync().ok());
    EXPECT_EQ(fs::file_size(segment), size);
    expect_entries(*opened.log, 1, 52, 1);
    opened.log.reset();
    OpenResult again = open_ok(options);
    EXPECT_FALSE(again.report.torn_tail.has_value());
    EXPECT_EQ(again.report.open_segment_bytes_scanned, 0u);
    EXPECT_EQ(again.log->last_index(), 52u);
  }
}

TEST(Preallocation, AnAppendCutShortBeforeTheZerosIsStillATornTail) {
  TempDir tmp;
  const std::string dir = tmp.log_dir();
  build_synced_log(dir, 20);
  remove_open_index(dir);  // entry 20 was never synced, as far as the log can tell
  const std::string segment = open_segment_path(dir);
  // Entry 20's last 60 bytes never reached the disk: zeros where its payload should end.
  const std::uint64_t last_start = 19 * kEntryBytes100;
  zero_bytes(segment, last_start + 76, 20 * kEntryBytes100);
  OpenResult opened = open_ok(prealloc_options(dir));
  ASSERT_TRUE(opened.report.torn_tail.has_value());
  EXPECT_EQ(opened.report.torn_tail->offset, last_start);
  EXPECT_EQ(opened.log->last_index(), 19u);
  expect_entries(*opened.log, 1, 19, 1);
}

TEST(Preallocation, ASyncedEntryFoundZeroedIsDamageNotUnusedSpace) {
  TempDir tmp;
  const std::string dir = tmp.log_dir();
  build_synced_log(dir, 20);
  // The side index says entry 20 was synced; its bytes are now zeros, like the space after it.
  const std::string segment = open_segment_path(dir);
  zero_bytes(segment, 19 * kEntryBytes100, 20 * kEntryBytes100);
  OpenResult opened = open_ok(prealloc_options(dir));
  EXPECT_FALSE(opened.report.torn_tail.has_value());
  ASSERT_EQ(opened.report.corruptions.size(), 1u);
  EXPECT_EQ(opened.report.corruptions[0].index, 20u);
  EXPECT_EQ(opened.log->last_index(), 19u);
  EXPECT_GE(opened.log->repair_until(), 20u);
}

TEST(Preallocation, SealedSegmentsAreExactlyTheirEntriesAndNeverGrowPastTheSegmentSize) {
  TempDir tmp;
  const std::string dir = tmp.log_dir();
  const std::uint64_t segment_bytes = 16 * 1024;  // smaller than a step: capped by it
  {
    OpenResult opened = open_ok(prealloc_options(dir, segment_bytes));
    for (std::uint64_t i = 1; i <= 300; i += 10) {
      ASSERT_TRUE(opened.log->append(make_entries(i, i + 9, 1)).ok());
      ASSERT_TRUE(opened.log->sync().ok());
      EXPECT_LE(fs::file_size(open_segment_path(dir)), segment_bytes);
    }
  }
  std::uint64_t closed = 0;
  for (const std::string& name : files_with_prefix(dir, "segment-")) {
    if (name.substr(name.size() - 4) != ".log") continue;
    ++closed;
    const std::string path = dir + "/" + name;
    // segment-<first>-<last>.log: 20-digit numbers.
    const std::uint64_t first = std::stoull(name.substr(8, 20));
    const std::uint64_t last = std::stoull(name.substr(29, 20));
    EXPECT_EQ(fs::file_size(path), (last - first + 1) * kEntryBytes100) << name;
  }
  EXPECT_GE(closed, 2u);
  OpenResult opened = open_ok(prealloc_options(dir, segment_bytes));
  EXPECT_EQ(opened.report.closed_segments_scanned, 0u);  // every .idx matched its segment
  EXPECT_TRUE(opened.report.warnings.empty());
  EXPECT_EQ(opened.log->last_index(), 300u);
  expect_entries(*opened.log, 1, 300, 1);
}

TEST(Preallocation, TruncateSuffixCutsTheZerosAndNewEntriesReplaceTheOldOnes) {
  TempDir tmp;
  const std::string dir = tmp.log_dir();
  OpenResult opened = open_ok(prealloc_options(dir));
  ASSERT_TRUE(opened.log->append(make_entries(1, 30, 1)).ok());
  ASSERT_TRUE(opened.log->sync().ok());
  ASSERT_TRUE(opened.log->truncate_suffix(21).ok());
  EXPECT_EQ(fs::file_size(open_segment_path(dir)), 20 * kEntryBytes100);
  ASSERT_TRUE(opened.log->append(make_entries(21, 25, 2)).ok());
  ASSERT_TRUE(opened.log->sync().ok());
  EXPECT_TRUE(zeros_from(open_segment_path(dir), 25 * kEntryBytes100));
  opened.log.reset();
  OpenResult again = open_ok(prealloc_options(dir));
  EXPECT_FALSE(again.report.torn_tail.has_value());
  EXPECT_EQ(again.log->last_index(), 25u);
  expect_entries(*again.log, 1, 20, 1);
  expect_entries(*again.log, 21, 25, 2);
}

TEST(Preallocation, AFullDiskWhileWritingZerosFailsNoAppend) {
  TempDir tmp;
  const std::string dir = tmp.log_dir();
  auto io = std::make_shared<FaultInjectingFileIo>();
  Options options = prealloc_options(dir, kMiB, io);
  options.preallocate_bytes = 2048;
  OpenResult opened = open_ok(options);
  ASSERT_TRUE(opened.log->append(make_entries(1, 10, 1)).ok());
  ASSERT_TRUE(opened.log->sync().ok());
  const std::uint64_t size = 10 * kEntryBytes100 + 2048;
  ASSERT_EQ(fs::file_size(open_segment_path(dir)), size);
  // Entries 11-20 leave less than half a step of zeros: their write succeeds, the write of more
  // zeros after it fails.
  io->fail(FileOp::kWrite, ENOSPC, /*skip=*/1);
  Status appended = opened.log->append(make_entries(11, 20, 1));
  ASSERT_TRUE(appended.ok()) << appended.error().to_string();
  io->clear_faults();
  ASSERT_TRUE(opened.log->sync().ok());
  EXPECT_EQ(fs::file_size(open_segment_path(dir)), size);
  // The next append writes the zeros the last one could not.
  ASSERT_TRUE(opened.log->append(make_entries(21, 21, 1)).ok());
  ASSERT_TRUE(opened.log->sync().ok());
  EXPECT_EQ(fs::file_size(open_segment_path(dir)), 21 * kEntryBytes100 + 2048);
  opened.log.reset();
  OpenResult again = open_ok(prealloc_options(dir));
  EXPECT_FALSE(again.report.torn_tail.has_value());
  expect_entries(*again.log, 1, 21, 1);
}

TEST(Preallocation, MoreThanTheBoundIsRefusedNamingTheOption) {
  TempDir tmp;
  Options o = small_options(tmp.log_dir());
  o.preallocate_bytes = kMaxPreallocateBytes + 1;
  auto opened = SegmentedLog::open(o);
  ASSERT_FALSE(opened.ok());
  EXPECT_EQ(opened.error().code, ErrorCode::kInvalidArgument);
  EXPECT_NE(opened.error().message.find("preallocate_bytes"), std::string::npos);
}

}  // namespace
}  // namespace dledger::log
