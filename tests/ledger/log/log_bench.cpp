// Throughput of the durable log through the GroupCommitWriter: N entries of `entry_bytes` from
// `threads` submitters, fsync per batch (sync mode) or every 10 ms (async mode), with
// `preallocate_bytes` of zeros kept ahead of the entries (log::Options; default 1 MiB, 0 = off)
// and at most `inflight` entries submitted and not yet durable (0 = no bound: batches as large
// as the disk allows; 20 gives ~20 KiB batches of 1 KiB entries, like a replica under load).
// Prints JSON, including the process's CPU time (user + system) per fsync.
//
//   dledger_log_bench [dir] [entries] [entry_bytes] [threads] [sync|async] [preallocate_bytes]
//                     [inflight]
#include <sys/resource.h>
#include <atomic>
#include <chrono>
#include <condition_variable>
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
  if (argc > 6) options.preallocate_bytes = std::strtoull(argv[6], nullptr, 10);
  const std::uint64_t inflight = argc > 7 ? std::strtoull(argv[7], nullptr, 10) : 0;
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
  auto cpu_seconds = [] {
    rusage u{};
    getrusage(RUSAGE_SELF, &u);
    return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
           static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
  };
  const double cpu_start = cpu_seconds();
  auto start = std::chrono::steady_clock::now();
  {
    log::GroupCommitWriter writer(&log, gc);
    std::mutex submit_mu;
    std::condition_variable durable_cv;
    std::uint64_t next = 1;
    std::vector<std::thread> submitters;
    for (int t = 0; t < threads; ++t) {
      submitters.emplace_back([&] {
        for (;;) {
          std::unique_lock<std::mutex> lock(submit_mu);
          if (inflight > 0) {
            durable_cv.wait(lock, [&] { return next - 1 - done.load() < inflight; });
          }
          if (next > count) return;
          raft::Entry e{next++, 1, raft::EntryType::kNormal, payload};
          writer.submit_append({std::move(e)}, [&](const Status& s, std::uint64_t, std::uint64_t) {
            if (!s.ok()) failed++;
            {
              std::lock_guard<std::mutex> done_lock(submit_mu);
              done++;
            }
            durable_cv.notify_all();
          });
        }
      });
    }
    for (auto& t : submitters) t.join();
    while (done.load() < count) std::this_thread::sleep_for(std::chrono::microseconds(100));
    auto elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    auto stats = writer.stats();
    writer.stop();
    const double cpu = cpu_seconds() - cpu_start;
    std::printf(
        "{\"entries\": %llu, \"entry_bytes\": %zu, \"threads\": %d, \"mode\": \"%s\", "
        "\"seconds\": %.3f, \"appends_per_second\": %.0f, \"mib_per_second\": %.1f, "
        "\"fsyncs\": %llu, \"mean_batch_entries\": %.1f, \"mean_fsync_us\": %.0f, "
        "\"preallocate_bytes\": %llu, \"cpu_us_per_fsync\": %.0f, \"failed\": %llu}\n",
        static_cast<unsigned long long>(count), entry_bytes, threads, async ? "async" : "sync",
        elapsed, count / elapsed, count * entry_bytes / elapsed / (1 << 20),
        static_cast<unsigned long long>(stats.fsyncs),
        stats.batches ? static_cast<double>(stats.entries) / stats.batches : 0.0,
        stats.fsyncs ? static_cast<double>(stats.fsync_latency_total_us) / stats.fsyncs : 0.0,
        static_cast<unsigned long long>(options.preallocate_bytes),
        stats.fsyncs ? cpu * 1e6 / static_cast<double>(stats.fsyncs) : 0.0,
        static_cast<unsigned long long>(failed.load()));
  }
  std::filesystem::remove_all(dir);
  return failed.load() == 0 ? 0 : 1;
}
