// Throughput of the durable log through the GroupCommitWriter: N entries of `entry_bytes` from
// `threads` submitters, fsync per batch (sync mode) or every 10 ms (async mode). Prints JSON.
//
//   dledger_log_bench [dir] [entries] [entry_bytes] [threads] [sync|async]
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "broker/ledger/log/group_commit_writer.h"
#include "broker/ledger/log/segmented_log.h"

int main(int argc, char** argv) {
  using namespace dledger;
  std::string dir = argc > 1 ? argv[1] : "/tmp/dledger-log-bench";
  std::uint64_t count = argc > 2 ? std::strtoull(argv[2], nullptr, 10) : 200000;
  std::size_t entry_bytes = argc > 3 ? std::strtoull(argv[3], nullptr, 10) : 1024;
  int threads = argc > 4 ? std::atoi(argv[4]) : 4;
  bool async = argc > 5 && std::string(argv[5]) == "async";
  std::filesystem::remove_all(dir);

  log::Options options;
  options.dir = dir;
  options.segment_bytes = 64ull << 20;
  auto opened = log::SegmentedLog::open(options);
  if (!opened) {
    std::fprintf(stderr, "%s\n", opened.error().to_string().c_str());
    return 1;
  }
  auto& log = *opened->log;
  log::GroupCommitOptions gc;
  gc.flush_mode = async ? log::FlushMode::kAsync : log::FlushMode::kSync;
  std::atomic<std::uint64_t> done{0};
  std::atomic<std::uint64_t> failed{0};
  const std::string payload(entry_bytes, 'x');
  auto start = std::chrono::steady_clock::now();
  {
    log::GroupCommitWriter writer(&log, gc);
    std::mutex submit_mu;
    std::uint64_t next = 1;
    std::vector<std::thread> submitters;
    for (int t = 0; t < threads; ++t) {
      submitters.emplace_back([&] {
        for (;;) {
          std::lock_guard<std::mutex> lock(submit_mu);
          if (next > count) return;
          raft::Entry e{next++, 1, raft::EntryType::kNormal, payload};
          writer.submit_append({std::move(e)}, [&](const Status& s, std::uint64_t, std::uint64_t) {
            if (!s.ok()) failed++;
            done++;
          });
        }
      });
    }
    for (auto& t : submitters) t.join();
    while (done.load() < count) std::this_thread::sleep_for(std::chrono::microseconds(100));
    auto elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    auto stats = writer.stats();
    writer.stop();
    std::printf(
        "{\"entries\": %llu, \"entry_bytes\": %zu, \"threads\": %d, \"mode\": \"%s\", "
        "\"seconds\": %.3f, \"appends_per_second\": %.0f, \"mib_per_second\": %.1f, "
        "\"fsyncs\": %llu, \"mean_batch_entries\": %.1f, \"mean_fsync_us\": %.0f, "
        "\"failed\": %llu}\n",
        static_cast<unsigned long long>(count), entry_bytes, threads, async ? "async" : "sync",
        elapsed, count / elapsed, count * entry_bytes / elapsed / (1 << 20),
        static_cast<unsigned long long>(stats.fsyncs),
        stats.batches ? static_cast<double>(stats.entries) / stats.batches : 0.0,
        stats.fsyncs ? static_cast<double>(stats.fsync_latency_total_us) / stats.fsyncs : 0.0,
        static_cast<unsigned long long>(failed.load()));
  }
  std::filesystem::remove_all(dir);
  return failed.load() == 0 ? 0 : 1;
}
