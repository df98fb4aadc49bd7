// Time to open a log whose whole content sits in the OPEN segment (default 1 GiB segments), with
// its side index (open-<first>.idx, the normal case) and without it (every open deletes it first:
// the full scan every open did before side indexes existed). Page cache warm. Prints JSON.
//
//   dledger_log_open_bench [dir] [log_mib] [entry_bytes] [trials]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <string>
#include <vector>

#include "broker/ledger/log/segmented_log.h"

namespace {

using namespace dledger;

// CPU time of this process (open is single-threaded): less disturbed by other load than wall time.
double cpu_ms() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) * 1e3 + static_cast<double>(ts.tv_nsec) / 1e6;
}

struct Trial {
  double open_ms = 0;
  double open_cpu_ms = 0;
  std::uint64_t bytes_scanned = 0;
  std::uint64_t entries_indexed = 0;
};

bool open_once(const std::string& dir, std::uint64_t expect_last, Trial* trial) {
  log::Options options;
  options.dir = dir;
  const double cpu_start = cpu_ms();
  auto start = std::chrono::steady_clock::now();
  auto opened = log::SegmentedLog::open(options);
  auto end = std::chrono::steady_clock::now();
  trial->open_cpu_ms = cpu_ms() - cpu_start;
  if (!opened) {
    std::fprintf(stderr, "%s\n", opened.error().to_string().c_str());
    return false;
  }
  trial->open_ms = std::chrono::duration<double, std::milli>(end - start).count();
  trial->bytes_scanned = opened->report.open_segment_bytes_scanned;
  trial->entries_indexed = opened->report.open_segment_entries_indexed;
  if (opened->log->last_index() != expect_last) {
    std::fprintf(stderr, "last index %llu, expected %llu\n",
                 static_cast<unsigned long long>(opened->log->last_index()),
                 static_cast<unsigned long long>(expect_last));
    return false;
  }
  return true;
}

std::string summary(const std::vector<Trial>& trials) {
  std::vector<double> ms;
  std::vector<double> cpu;
  for (const Trial& t : trials) {
    ms.push_back(t.open_ms);
    cpu.push_back(t.open_cpu_ms);
  }
  std::sort(ms.begin(), ms.end());
  std::sort(cpu.begin(), cpu.end());
  char buf[384];
  std::snprintf(buf, sizeof(buf),
                "{\"open_ms_min\": %.1f, \"open_ms_median\": %.1f, \"open_ms_max\": %.1f, "
                "\"open_cpu_ms_median\": %.1f, "
                "\"open_segment_bytes_scanned\": %llu, \"open_segment_entries_indexed\": %llu}",
                ms.front(), ms[ms.size() / 2], ms.back(), cpu[cpu.size() / 2],
                static_cast<unsigned long long>(trials.back().bytes_scanned),
                static_cast<unsigned long long>(trials.back().entries_indexed));
  return buf;
}

}  // namespace

int main(int argc, char** argv) {
  std::string dir = argc > 1 ? argv[1] : "/tmp/dledger-log-open-bench";
  std::uint64_t log_mib = argc > 2 ? std::strtoull(argv[2], nullptr, 10) : 1000;
  std::size_t entry_bytes = argc > 3 ? std::strtoull(argv[3], nullptr, 10) : 1024;
  int trials = argc > 4 ? std::max(1, std::atoi(argv[4])) : 3;
  std::filesystem::remove_all(dir);

  // Fill: one open segment of about log_mib MiB (below the 1 GiB default segment size).
  const std::uint64_t entries = (log_mib << 20) / (entry_bytes + 36);
  {
    log::Options options;
    options.dir = dir;
    auto opened = log::SegmentedLog::open(options);
    if (!opened) {
      std::fprintf(stderr, "%s\n", opened.error().to_string().c_str());
      return 1;
    }
    const std::string payload(entry_bytes, 'x');
    std::vector<raft::Entry> batch;
    for (std::uint64_t i = 1; i <= entries; ++i) {
      batch.push_back(raft::Entry{i, 1, raft::EntryType::kNormal, payload});
      if (batch.size() == 1024 || i == entries) {
        if (Status s = opened->log->append(batch); !s) {
          std::fprintf(stderr, "%s\n", s.error().to_string().c_str());
          return 1;
        }
        batch.clear();
      }
      if (i % 65536 == 0 || i == entries) (void)opened->log->sync();
    }
    if (opened->log->segment_count() != 1) {
      std::fprintf(stderr, "expected one open segment, got %zu\n", opened->log->segment_count());
      return 1;
    }
  }
  const std::string side_index = dir + "/" + log::format::open_index_name(1);
  std::vector<Trial> with_index(static_cast<std::size_t>(trials));
  std::vector<Trial> without_index(static_cast<std::size_t>(trials));
  for (int t = 0; t < trials; ++t) {
    std::filesystem::remove(side_index);  // rewritten by the open after its scan
    if (!open_once(dir, entries, &without_index[static_cast<std::size_t>(t)])) return 1;
    if (!open_once(dir, entries, &with_index[static_cast<std::size_t>(t)])) return 1;
  }
  std::printf(
      "{\"entries\": %llu, \"entry_bytes\": %zu, \"open_segment_bytes\": %llu, \"trials\": %d, "
      "\"with_side_index\": %s, \"without_side_index\": %s}\n",
      static_cast<unsigned long long>(entries), entry_bytes,
      static_cast<unsigned long long>(entries * (entry_bytes + 36)), trials,
      summary(with_index).c_str(), summary(without_index).c_str());
  std::filesystem::remove_all(dir);
  return 0;
}
