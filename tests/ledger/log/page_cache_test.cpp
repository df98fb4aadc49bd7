// PAGE CACHE (Options::page_cache_bytes): after a sync the log drops the cached pages of synced
// data older than its newest page_cache_bytes, whole segments included, never data it has not
// synced, never the zeros written ahead; reads of dropped data still return it; a failed drop
// changes nothing but the cache; 0 never drops.
#include <sys/mman.h>
#include <unistd.h>

#include <fcntl.h>
#include <cerrno>

#include <gtest/gtest.h>

#include "broker/ledger/log/fault_injecting_file_io.h"
#include "tests/ledger/log/log_test_util.h"

namespace dledger::log {
namespace {

using namespace dledger::log::testing;

constexpr std::size_t kPayload = 4000;                // ~4 KiB entries
constexpr std::uint64_t kEntryBytes = 36 + kPayload;  // encoded size
constexpr std::uint64_t kWindow = 2 * kMiB + 12345;   // not page aligned on purpose

Options window_options(const std::string& dir, std::shared_ptr<FileIo> io,
                       std::uint64_t segment_bytes, std::uint64_t window = kWindow) {
  Options o = small_options(dir, std::move(io), segment_bytes);
  o.page_cache_bytes = window;
  return o;
}

std::string name_of(const std::string& path) {
  return path.substr(path.rfind('/') + 1);
}

// How far the cache of closed segment `name` (segment-<first>-<last>.log) was dropped: its File
// was opened as open-<first>.log, and the recorded name is the one it was opened under.
std::uint64_t closed_dropped_until(const FaultInjectingFileIo& io, const std::string& name) {
  const std::string first = name.substr(std::string("segment-").size(), 20);
  return std::max(io.dropped_cached_until(name), io.dropped_cached_until("open-" + first + ".log"));
}

// Appends entries [first, last] of kPayload bytes in term 1, one per call, syncing after each
// if `sync_each`.
void append_range(SegmentedLog& log, std::uint64_t first, std::uint64_t last, bool sync_each) {
  for (std::uint64_t i = first; i <= last; ++i) {
    ASSERT_TRUE(log.append(make_entries(i, i, 1, kPayload)).ok()) << "entry " << i;
    if (sync_each) {
      ASSERT_TRUE(log.sync().ok()) << "entry " << i;
    }
  }
}

TEST(PageCache, OnlySyncedDataOlderThanTheWindowIsDroppedAndTheWindowStaysCached) {
  TempDir tmp;
  auto io = std::make_shared<FaultInjectingFileIo>();
  OpenResult opened = open_ok(window_options(tmp.log_dir(), io, 64 * kMiB));
  SegmentedLog& log = *opened.log;

  // Within the window: nothing is dropped.
  append_range(log, 1, 400, true);  // ~1.6 MiB
  const std::string segment = name_of(open_segment_path(tmp.log_dir()));
  EXPECT_EQ(io->dropped_cached_until(segment), 0u);

  std::uint64_t synced_end = 400 * kEntryBytes;
  for (std::uint64_t i = 401; i <= 2000; ++i) {
    ASSERT_TRUE(log.append(make_entries(i, i, 1, kPayload)).ok());
    // Appended but not synced: the drop point is where the last sync left it.
    const std::uint64_t before = io->dropped_cached_until(segment);
    ASSERT_LE(before + kWindow, std::max(synced_end, kWindow)) << "entry " << i;
    ASSERT_TRUE(log.sync().ok());
    synced_end = i * kEntryBytes;
    const std::uint64_t dropped = io->dropped_cached_until(segment);
    // Never into the newest kWindow bytes, and never more than one step behind them.
    ASSERT_LE(dropped + kWindow, std::max(synced_end, kWindow)) << "entry " << i;
    if (synced_end > kWindow) {
      ASSERT_GT(dropped + kWindow + kDropCachedStepBytes, synced_end) << "entry " << i;
    }
  }
  EXPECT_GT(io->dropped_cached_until(segment), 0u);
  // One call per step, not per sync.
  EXPECT_LE(io->count(FileOp::kDropCached), 2000 * kEntryBytes / kDropCachedStepBytes + 1);
  // Dropped data is still there.
  expect_entries(log, 1, 2000, 1, kPayload);
}

TEST(PageCache, SegmentsEntirelyBehindTheWindowAreDroppedWholeOnce) {
  TempDir tmp;
  auto io = std::make_shared<FaultInjectingFileIo>();
  OpenResult opened = open_ok(window_options(tmp.log_dir(), io, kMiB));
  SegmentedLog& log = *opened.log;
  append_range(log, 1, 2000, true);  // ~7.7 MiB in 1 MiB segments
  ASSERT_GT(log.segment_count(), 6u);

  std::uint64_t newer = 0;  // bytes of the log after the segment looked at
  std::vector<std::string> closed = files_with_prefix(tmp.log_dir(), "segment-");
  std::erase_if(closed, [](const std::string& n) { return n.ends_with(".idx"); });
  std::sort(closed.rbegin(), closed.rend());                // newest first
  newer = fs::file_size(open_segment_path(tmp.log_dir()));  // upper bound: includes zeros
  bool saw_whole = false;
  for (const std::string& name : closed) {
    const std::uint64_t size = fs::file_size(tmp.log_dir() + "/" + name);
    const std::uint64_t dropped = closed_dropped_until(*io, name);
    if (newer >= kWindow + kMiB) {  // entirely behind the window (with room for the zeros)
      EXPECT_EQ(dropped, UINT64_MAX) << name << ": a segment behind the window goes whole";
      saw_whole = true;
    }
    if (newer + size <= kWindow) {
      EXPECT_EQ(dropped, 0u) << name << ": inside the window";
    }
    newer += size;
  }
  EXPECT_TRUE(saw_whole);
  // Another sync with nothing new drops nothing again.
  const std::uint64_t calls = io->count(FileOp::kDropCached);
  ASSERT_TRUE(log.sync().ok());
  EXPECT_EQ(io->count(FileOp::kDropCached), calls);
  expect_entries(log, 1, 2000, 1, kPayload);
}

TEST(PageCache, ZeroMeansTheLogNeverDropsPages) {
  TempDir tmp;
  auto io = std::make_shared<FaultInjectingFileIo>();
  OpenResult opened = open_ok(window_options(tmp.log_dir(), io, kMiB, 0));
  append_range(*opened.log, 1, 1000, true);
  EXPECT_EQ(io->count(FileOp::kDropCached), 0u);
}

TEST(PageCache, AFailedDropIsWarnedOnceAndChangesNothingElse) {
  TempDir tmp;
  auto io = std::make_shared<FaultInjectingFileIo>();
  std::vector<std::string> warnings;
  Options o = window_options(tmp.log_dir(), io, 64 * kMiB);
  o.on_warning = [&](const std::string& w) { warnings.push_back(w); };
  OpenResult opened = open_ok(o);
  io->fail(FileOp::kDropCached, EINVAL);
  append_range(*opened.log, 1, 1500, true);
  EXPECT_GT(io->count(FileOp::kDropCached), 1u);  // retried at later syncs
  ASSERT_EQ(warnings.size(), 1u);
  EXPECT_NE(warnings[0].find("dropping cached pages"), std::string::npos) << warnings[0];
  EXPECT_NE(warnings[0].find("open-"), std::string::npos) << warnings[0];
  expect_entries(*opened.log, 1, 1500, 1, kPayload);
  // Reopened, the log is intact.
  opened.log.reset();
  OpenResult again = open_ok(window_options(tmp.log_dir(), nullptr, 64 * kMiB));
  EXPECT_EQ(again.log->last_index(), 1500u);
  expect_entries(*again.log, 1, 1500, 1, kPayload);
}

// Pages of `path` resident in the page cache among the first `bytes` (mincore).
Result<std::uint64_t> resident_pages(const std::string& path, std::uint64_t bytes) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return make_error(ErrorCode::kIo, "open " + path);
  void* map = ::mmap(nullptr, bytes, PROT_READ, MAP_SHARED, fd, 0);
  ::close(fd);
  if (map == MAP_FAILED) return make_error(ErrorCode::kIo, "mmap " + path);
  const std::uint64_t page = static_cast<std::uint64_t>(::sysconf(_SC_PAGESIZE));
  std::vector<unsigned char> vec((bytes + page - 1) / page);
  int rc = ::mincore(map, bytes, vec.data());
  ::munmap(map, bytes);
  if (rc != 0) return make_error(ErrorCode::kIo, "mincore " + path);
  std::uint64_t n = 0;
  for (unsigned char v : vec) n += v & 1;
  return n;
}

TEST(PageCache, TheKernelReallyDropsThePagesBehindTheWindow) {
  TempDir tmp;
  // Some file systems (tmpfs) keep their pages whatever the advice: check the directory first.
  {
    const std::string probe = tmp.path() + "/probe";
    write_file(probe, std::string(4 * kMiB, 'x'));
    int fd = ::open(probe.c_str(), O_RDONLY | O_CLOEXEC);
    ASSERT_GE(fd, 0);
    ::fdatasync(fd);
    ::posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
    ::close(fd);
    auto resident = resident_pages(probe, 4 * kMiB);
    ASSERT_TRUE(resident.ok());
    if (*resident > 0) {
      GTEST_SKIP() << "the file system of " << tmp.path() << " keeps dropped pages cached";
    }
  }
  OpenResult opened = open_ok(window_options(tmp.log_dir(), nullptr, 64 * kMiB));
  append_range(*opened.log, 1, 2000, false);  // ~7.7 MiB, all cached while written
  ASSERT_TRUE(opened.log->sync().ok());
  const std::string segment = open_segment_path(tmp.log_dir());
  const std::uint64_t page = static_cast<std::uint64_t>(::sysconf(_SC_PAGESIZE));
  const std::uint64_t end = 2000 * kEntryBytes;
  auto old_pages = resident_pages(segment, (end - kWindow - kDropCachedStepBytes) / page * page);
  ASSERT_TRUE(old_pages.ok());
  EXPECT_EQ(*old_pages, 0u) << "pages behind the window are still cached";
  auto all_pages = resident_pages(segment, end / page * page);
  ASSERT_TRUE(all_pages.ok());
  EXPECT_GE(*all_pages * page, kWindow - page) << "the newest window was dropped too";
  expect_entries(*opened.log, 1, 2000, 1, kPayload);
}

}  // namespace
}  // namespace dledger::log
