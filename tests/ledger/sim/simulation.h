// Simulation: one seeded run of a Raft group under faults, with safety checkers after every step
// and a liveness check at the end. docs/simulator.md describes the design and the fault model.
//
// A run has two phases:
//   chaos    (SimOptions::chaos_ms of simulated time) clients propose, members crash and restart
//            (losing unsynced writes, sometimes tearing one, at most a minority with a corrupted
//            log), the network loses, duplicates, delays and partitions messages, the group
//            changes membership and transfers leadership, members compact their logs.
//   recovery every member is restarted, the network healed and faults stopped; a leader must be
//            elected, a new proposal acknowledged and every member must apply it within
//            SimOptions::liveness_election_timeouts election timeouts, else the run fails.
// Everything is derived from SimOptions::seed: the same options replay the same run.
#pragma once

#include <cstdint>
#include <map>
#include <ostream>
#include <string>

#include "broker/ledger/raft/raft_core.h"

namespace dledger::sim {

struct SimOptions {
  std::uint64_t seed = 1;
  int size = 3;                   // initial voters: 3 or 5
  std::uint64_t chaos_ms = 5000;  // simulated duration of the fault phase
  std::uint64_t liveness_election_timeouts = 200;
  std::string fault;              // "", "skip-up-to-date-check" or "commit-previous-term"
  std::ostream* trace = nullptr;  // event trace (--verbose) when set
};

// Parses a --fault name into core test faults; false if unknown.
bool parse_fault(const std::string& name, raft::TestFaults* faults);

// Counters of what a run (or a campaign) injected and observed.
struct SimCounters {
  std::map<std::string, std::uint64_t> values;
  void add(const std::string& name, std::uint64_t n = 1) { values[name] += n; }
  void merge(const SimCounters& other) {
    for (const auto& [k, v] : other.values) values[k] += v;
  }
};

struct SimResult {
  bool ok = true;
  std::string violation;  // first violated property, with details
  std::uint64_t simulated_us = 0;
  std::uint64_t final_commit = 0;
  SimCounters counters;
};

SimResult run_simulation(const SimOptions& options);

// The one command that replays `options` with a trace: "<program> --size 3 --seed 12345
// [--chaos-ms N] [--fault F] --verbose".
std::string replay_command(const std::string& program, const SimOptions& options);

}  // namespace dledger::sim
