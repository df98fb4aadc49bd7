// dledger-bench restart: how long a replica with a large log takes to serve again after a crash.
//
//   1. start a group, fill its log to --log-gib GiB with --entry-bytes entries (pipelined);
//   2. per trial: SIGKILL a follower while a writer keeps appending small entries, restart it,
//      and measure from the exec to (a) its /readyz answering 200 (log open, following a live
//      leader) and (b) the leader reporting its match index past the leader's last index at the
//      moment of the restart (it accepts and persists new entries again);
//   3. print JSON: the victim's log bytes, fill rate, and per-trial and p50/max figures.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace dledger::bench {

struct RestartBenchOptions {
  int replicas = 3;
  std::string binary;           // dledger-ledger
  std::string extra_config;     // config lines for every replica
  double log_gib = 1.0;         // log size to fill before the first kill
  int entry_bytes = 64 * 1024;  // fill entry size
  int fill_inflight = 32;       // fill pipeline depth
  int trials = 3;
};

// Runs the benchmark and prints the JSON result on stdout; returns the exit status (0 when every
// trial recovered).
int run_restart_bench(const RestartBenchOptions& options);

}  // namespace dledger::bench
