// GroupCommitWriter: batches requests under one fsync, completes callbacks in order, honours the
// flush mode, and lets readers read persisted entries while it appends.
#include "broker/ledger/log/group_commit_writer.h"

#include <gtest/gtest.h>

#include <atomic>
#include <condition_variable>
#include <future>
#include <mutex>
#include <thread>

#include "tests/ledger/log/log_test_util.h"

namespace dledger::log {
namespace {

using namespace dledger::log::testing;

TEST(GroupCommitWriter, GroupCommitUsesFewerFsyncsThanEntries) {
  TempDir tmp;
  auto io = std::make_shared<FaultInjectingFileIo>();
  Options options = small_options(tmp.log_dir(), io, 1 << 20);
  constexpr std::uint64_t kThreads = 4;
  constexpr std::uint64_t kPerThread = 250;
  constexpr std::uint64_t kTotal = kThreads * kPerThread;
  {
    OpenResult opened = open_ok(options);
    io->reset_counts();
    io->set_sync_delay_us(300);  // a slow disk: requests pile up while an fsync runs
    GroupCommitWriter writer(opened.log.get());

    std::mutex submit_mu;  // indexes must reach the writer in order
    std::uint64_t next_index = 1;
    std::mutex done_mu;
    std::condition_variable done_cv;
    std::vector<std::uint64_t> completed;
    std::atomic<int> failures{0};
    auto submitter = [&] {
      for (std::uint64_t i = 0; i < kPerThread; ++i) {
        std::lock_guard<std::mutex> lock(submit_mu);
        std::uint64_t index = next_index++;
        writer.submit_append({make_entry(index, 1)},
                             [&, index](const Status& s, std::uint64_t last, std::uint64_t term) {
                               if (!s.ok() || last != index || term != 1) failures++;
                               std::lock_guard<std::mutex> done_lock(done_mu);
                               completed.push_back(index);
                               done_cv.notify_all();
                             });
      }
    };
    std::vector<std::thread> threads;
    for (std::uint64_t t = 0; t < kThreads; ++t) threads.emplace_back(submitter);
    for (auto& t : threads) t.join();
    {
      std::unique_lock<std::mutex> lock(done_mu);
      done_cv.wait(lock, [&] { return completed.size() == kTotal; });
    }
    EXPECT_EQ(failures.load(), 0);
    // All callbacks fired, in submission order.
    for (std::uint64_t i = 0; i < kTotal; ++i) ASSERT_EQ(completed[i], i + 1);
    GroupCommitStats stats = writer.stats();
    EXPECT_EQ(stats.entries, kTotal);
    EXPECT_EQ(stats.requests, kTotal);
    EXPECT_LT(stats.fsyncs, kTotal);
    EXPECT_LT(io->count(FileOp::kSync), kTotal);
    EXPECT_EQ(stats.fsyncs, stats.fsync_latency_samples_us.size());
    std::uint64_t batched = 0;
    for (std::uint64_t b : stats.batch_entries_samples) batched += b;
    EXPECT_EQ(batched, kTotal);
    EXPECT_LT(stats.batches, kTotal);
  }
  OpenResult reopened = open_ok(options);
  EXPECT_EQ(reopened.log->last_index(), kTotal);
  expect_entries(*reopened.log, 1, kTotal, 1);
}

TEST(GroupCommitWriter, AsyncModeCompletesBeforeFsync) {
  TempDir tmp;
  auto io = std::make_shared<FaultInjectingFileIo>();
  Options options = small_options(tmp.log_dir(), io, 1 << 20);
  {
    OpenResult opened = open_ok(options);
    GroupCommitOptions gc;
    gc.flush_mode = FlushMode::kAsync;
    gc.async_flush_interval_ms = 3'600'000;  // never on its own during the test
    GroupCommitWriter writer(opened.log.get(), gc);
    io->reset_counts();
    std::promise<std::uint64_t> acked;
    writer.submit_append(make_entries(1, 10, 1),
                         [&](const Status& s, std::uint64_t last, std::uint64_t) {
                           acked.set_value(s.ok() ? last : 0);
                         });
    EXPECT_EQ(acked.get_future().get(), 10u);
    // Acknowledged, written, but not yet fsynced.
    EXPECT_EQ(io->count(FileOp::kSync), 0u);
    EXPECT_EQ(writer.stats().fsyncs, 0u);
    EXPECT_TRUE(opened.log->has_unsynced_data());
    ASSERT_TRUE(writer.flush().ok());
    EXPECT_GE(io->count(FileOp::kSync), 1u);
    EXPECT_FALSE(opened.log->has_unsynced_data());
    writer.submit_append(make_entries(11, 12, 1), nullptr);
    writer.stop();  // stop() syncs what is left
    EXPECT_FALSE(opened.log->has_unsynced_data());
  }
  OpenResult reopened = open_ok(options);
  EXPECT_EQ(reopened.log->last_index(), 12u);
  expect_entries(*reopened.log, 1, 12, 1);
}

TEST(GroupCommitWriter, SyncModeCallbacksRunAfterFsync) {
  TempDir tmp;
  auto io = std::make_shared<FaultInjectingFileIo>();
  OpenResult opened = open_ok(small_options(tmp.log_dir(), io, 1 << 20));
  GroupCommitWriter writer(opened.log.get());
  io->reset_counts();
  std::promise<std::uint64_t> syncs_at_callback;
  writer.submit_append(make_entries(1, 3, 1), [&](const Status&, std::uint64_t, std::uint64_t) {
    syncs_at_callback.set_value(io->count(FileOp::kSync));
  });
  EXPECT_GE(syncs_at_callback.get_future().get(), 1u);
}

TEST(GroupCommitWriter, PersistRequestsApplyInRaftOrder) {
  TempDir tmp;
  OpenResult opened = open_ok(small_options(tmp.log_dir()));
  SegmentedLog& log = *opened.log;
  GroupCommitWriter writer(&log);
  writer.submit_append(make_entries(1, 10, 1), nullptr);
  // A conflicting suffix from a new leader replaces 6..10, and the vote is recorded.
  PersistRequest r;
  r.entries = make_entries(6, 8, 2);
  r.hard_state = raft::HardState{2, 7};
  std::promise<std::pair<std::uint64_t, std::uint64_t>> done;
  writer.submit(std::move(r), [&](const Status& s, std::uint64_t last, std::uint64_t term) {
    EXPECT_TRUE(s.ok());
    done.set_value({last, term});
  });
  auto [last, term] = done.get_future().get();
  EXPECT_EQ(last, 8u);
  EXPECT_EQ(term, 2u);
  EXPECT_EQ(log.hard_state(), (raft::HardState{2, 7}));
  expect_entries(log, 1, 5, 1);
  expect_entries(log, 6, 8, 2);
  // A bad request fails only its own callback.
  std::promise<ErrorCode> bad;
  writer.submit_append(make_entries(20, 20, 2), [&](const Status& s, std::uint64_t, std::uint64_t) {
    bad.set_value(s.ok() ? ErrorCode::kInternal : s.error().code);
  });
  EXPECT_EQ(bad.get_future().get(), ErrorCode::kInvalidArgument);
  raft::Snapshot snap;
  snap.meta.index = 50;
  snap.meta.term = 3;
  snap.data = "s";
  std::promise<std::uint64_t> installed;
  writer.submit_snapshot(snap, [&](const Status& s, std::uint64_t li, std::uint64_t) {
    installed.set_value(s.ok() ? li : 0);
  });
  EXPECT_EQ(installed.get_future().get(), 50u);
  writer.stop();
  std::promise<ErrorCode> stopped;
  writer.submit_append(make_entries(51, 51, 3), [&](const Status& s, std::uint64_t, std::uint64_t) {
    stopped.set_value(s.ok() ? ErrorCode::kInternal : s.error().code);
  });
  EXPECT_EQ(stopped.get_future().get(), ErrorCode::kStopped);
}

// The consensus core reads persisted indexes from its own thread while the writer appends.
TEST(GroupCommitWriter, ReadsOfPersistedEntriesAreSafeWhileWriterAppends) {
  TempDir tmp;
  OpenResult opened = open_ok(small_options(tmp.log_dir(), nullptr, 8192));
  SegmentedLog& log = *opened.log;
  GroupCommitWriter writer(&log);
  std::atomic<std::uint64_t> durable{0};
  std::atomic<bool> stop{false};
  std::atomic<int> bad_reads{0};
  std::atomic<std::uint64_t> reads{0};
  std::thread reader([&] {
    std::uint64_t i = 0;
    while (!stop.load()) {
      std::uint64_t d = durable.load();
      if (d == 0) {
        std::this_thread::yield();
        continue;
      }
      std::uint64_t index = 1 + (i++ * 7919) % d;
      auto e = log.read(index);
      auto t = log.term(index);
      if (!e.ok() || e->data != payload_for(index) || !t.ok() || *t != 1) {
        bad_reads++;
      }
      auto range = log.entries(index, std::min(d, index + 20) + 1, 4096);
      if (!range.ok() || range->empty() || range->front().index != index) bad_reads++;
      reads++;
    }
  });
  constexpr std::uint64_t kTotal = 600;
  std::promise<void> all_done;
  for (std::uint64_t i = 1; i <= kTotal; i += 3) {
    writer.submit_append(make_entries(i, i + 2, 1),
                         [&, i](const Status& s, std::uint64_t last, std::uint64_t) {
                           if (s.ok()) durable.store(last);
                           if (i + 2 == kTotal) all_done.set_value();
                         });
  }
  all_done.get_future().wait();
  while (reads.load() < 200) std::this_thread::yield();
  stop = true;
  reader.join();
  EXPECT_EQ(bad_reads.load(), 0);
  EXPECT_EQ(durable.load(), kTotal);
}

}  // namespace
}  // namespace dledger::log
