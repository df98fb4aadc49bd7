// A full disk returns kDiskFull with a clear message and corrupts nothing: the log stays readable,
// and appendable once space returns, and reopens clean.
#include <gtest/gtest.h>

#include <cerrno>

#include "tests/ledger/log/log_test_util.h"

namespace dledger::log {
namespace {

using namespace dledger::log::testing;

TEST(LogDiskFull, DiskFullReturnsErrorAndCorruptsNothing) {
  TempDir tmp;
  auto io = std::make_shared<FaultInjectingFileIo>();
  Options options = small_options(tmp.log_dir(), io);
  OpenResult opened = open_ok(options);
  SegmentedLog& log = *opened.log;
  ASSERT_TRUE(log.append(make_entries(1, 20, 1)).ok());
  ASSERT_TRUE(log.sync().ok());
  ASSERT_TRUE(log.set_hard_state(raft::HardState{1, 1}).ok());

  io->fail(FileOp::kWrite, ENOSPC);
  Status s = log.append(make_entries(21, 25, 1));
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code, ErrorCode::kDiskFull);
  EXPECT_NE(s.error().message.find("disk full"), std::string::npos);
  EXPECT_NE(s.error().message.find(tmp.log_dir()), std::string::npos);  // names the file
  Status h = log.set_hard_state(raft::HardState{2, 2});
  ASSERT_FALSE(h.ok());
  EXPECT_EQ(h.error().code, ErrorCode::kDiskFull);
  EXPECT_EQ(log.hard_state(), (raft::HardState{1, 1}));
  EXPECT_EQ(log.last_index(), 20u);
  expect_entries(log, 1, 20, 1);
  EXPECT_TRUE(log.sync().ok());

  // Space returns: the same append succeeds.
  io->clear_faults();
  ASSERT_TRUE(log.append(make_entries(21, 25, 1)).ok());
  ASSERT_TRUE(log.set_hard_state(raft::HardState{2, 2}).ok());
  ASSERT_TRUE(log.sync().ok());
  opened.log.reset();
  OpenResult reopened = open_ok(options);
  EXPECT_FALSE(reopened.report.torn_tail.has_value());
  EXPECT_TRUE(reopened.report.corruptions.empty());
  EXPECT_EQ(reopened.log->last_index(), 25u);
  EXPECT_EQ(reopened.log->hard_state(), (raft::HardState{2, 2}));
  expect_entries(*reopened.log, 1, 25, 1);
}

// The disk fills at each write of a batch that crosses segment boundaries (entry bytes, the new
// index file, the next segment file): every time the log is rolled back to its state before the
// append and keeps working.
TEST(LogDiskFull, DiskFullMidBatchRollsBackWholeBatch) {
  TempDir tmp;
  for (std::uint64_t skip = 0; skip < 12; ++skip) {
    SCOPED_TRACE("writes allowed before ENOSPC: " + std::to_string(skip));
    const std::string dir = tmp.path() + "/case" + std::to_string(skip);
    auto io = std::make_shared<FaultInjectingFileIo>();
    Options options = small_options(dir, io);
    {
      OpenResult opened = open_ok(options);
      SegmentedLog& log = *opened.log;
      ASSERT_TRUE(log.append(make_entries(1, 25, 1)).ok());
      ASSERT_TRUE(log.sync().ok());
      io->fail(FileOp::kWrite, ENOSPC, skip);
      Status s = log.append(make_entries(26, 90, 2));  // spans three segments
      io->clear_faults();
      if (!s.ok()) {
        EXPECT_EQ(s.error().code, ErrorCode::kDiskFull);
        EXPECT_EQ(log.last_index(), 25u);
        EXPECT_EQ(log.last_term(), 1u);
        EXPECT_EQ(log.read(26).error().code, ErrorCode::kOutOfRange);
        ASSERT_TRUE(log.append(make_entries(26, 90, 2)).ok());
      }
      expect_entries(log, 1, 25, 1);
      expect_entries(log, 26, 90, 2);
      ASSERT_TRUE(log.sync().ok());
    }
    OpenResult reopened = open_ok(small_options(dir));
    EXPECT_TRUE(reopened.report.corruptions.empty());
    EXPECT_FALSE(reopened.report.torn_tail.has_value());
    EXPECT_EQ(reopened.log->last_index(), 90u);
    expect_entries(*reopened.log, 1, 25, 1);
    expect_entries(*reopened.log, 26, 90, 2);
  }
}

TEST(LogDiskFull, FailedFsyncPutsLogInFailedStateUntilReopen) {
  TempDir tmp;
  auto io = std::make_shared<FaultInjectingFileIo>();
  Options options = small_options(tmp.log_dir(), io);
  OpenResult opened = open_ok(options);
  ASSERT_TRUE(opened.log->append(make_entries(1, 5, 1)).ok());
  io->fail(FileOp::kSync, EIO);
  Status s = opened.log->sync();
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code, ErrorCode::kIo);
  io->clear_faults();
  // The page cache can no longer be trusted: refuse until reopened.
  Status again = opened.log->append(make_entries(6, 6, 1));
  ASSERT_FALSE(again.ok());
  EXPECT_NE(again.error().message.find("reopen"), std::string::npos);
  opened.log.reset();
  OpenResult reopened = open_ok(options);
  ASSERT_TRUE(reopened.log->append(make_entries(reopened.log->last_index() + 1, 6, 1)).ok());
}

}  // namespace
}  // namespace dledger::log
