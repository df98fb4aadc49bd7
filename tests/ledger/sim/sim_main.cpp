// dledger_sim: runs the deterministic Raft simulator for one seed or a range of seeds.
//
//   dledger_sim --size 3 --seed 12345 [--verbose]          one seed (--verbose prints its trace)
//   dledger_sim --size 5 --first-seed 1 --seeds 1000       a range; prints failures and a summary
//   options: --chaos-ms N (fault phase length), --liveness-timeouts N,
//            --fault skip-up-to-date-check|commit-previous-term (break the core on purpose)
//
// Every failure prints exactly one command that replays it. Exit status: 0 all seeds passed,
// 1 some seed violated a property, 2 bad usage.
#include <cstdint>
#include <cstdlib>
#include <iostream>
#include <string>

#include "tests/ledger/sim/simulation.h"

namespace {

int usage(const std::string& problem) {
  std::cerr << "dledger_sim: " << problem << "\n"
            << "usage: dledger_sim --size 3|5 (--seed S | --first-seed S --seeds N) [--chaos-ms N]"
               " [--liveness-timeouts N] [--fault skip-up-to-date-check|commit-previous-term]"
               " [--verbose]\n";
  return 2;
}

bool parse_u64(const std::string& text, std::uint64_t* out) {
  if (text.empty() || text.find_first_not_of("0123456789") != std::string::npos) return false;
  try {
    *out = std::stoull(text);
  } catch (...) {
    return false;
  }
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  dledger::sim::SimOptions options;
  std::uint64_t first_seed = 1;
  std::uint64_t seeds = 0;  // 0: single --seed run
  bool verbose = false;
  bool have_seed = false;
  const std::string program = argv[0];
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    auto value = [&](std::uint64_t* out) {
      if (i + 1 >= argc || !parse_u64(argv[i + 1], out)) return false;
      ++i;
      return true;
    };
    std::uint64_t v = 0;
    if (arg == "--verbose") {
      verbose = true;
    } else if (arg == "--size") {
      if (!value(&v) || (v != 3 && v != 5)) return usage("--size takes 3 or 5");
      options.size = static_cast<int>(v);
    } else if (arg == "--seed") {
      if (!value(&options.seed)) return usage("--seed takes a non-negative integer");
      have_seed = true;
    } else if (arg == "--first-seed") {
      if (!value(&first_seed)) return usage("--first-seed takes a non-negative integer");
    } else if (arg == "--seeds") {
      if (!value(&seeds) || seeds == 0) return usage("--seeds takes a positive integer");
    } else if (arg == "--chaos-ms") {
      if (!value(&options.chaos_ms) || options.chaos_ms == 0) {
        return usage("--chaos-ms takes a positive integer");
      }
    } else if (arg == "--liveness-timeouts") {
      if (!value(&options.liveness_election_timeouts) || options.liveness_election_timeouts == 0) {
        return usage("--liveness-timeouts takes a positive integer");
      }
    } else if (arg == "--fault") {
      if (i + 1 >= argc) return usage("--fault takes a name");
      options.fault = argv[++i];
      dledger::raft::TestFaults faults;
      if (!dledger::sim::parse_fault(options.fault, &faults)) {
        return usage("unknown --fault '" + options.fault + "'");
      }
    } else {
      return usage("unknown argument '" + arg + "'");
    }
  }
  if (seeds == 0 && !have_seed) return usage("give --seed or --seeds");
  if (seeds != 0 && have_seed) return usage("--seed and --seeds exclude each other");

  if (seeds == 0) {
    if (verbose) options.trace = &std::cout;
    dledger::sim::SimResult r = dledger::sim::run_simulation(options);
    if (r.ok) {
      std::cout << "ok: size " << options.size << " seed " << options.seed << ", commit "
                << r.final_commit << ", simulated " << r.simulated_us / 1000 << " ms\n";
      return 0;
    }
    std::cout << "FAIL: size " << options.size << " seed " << options.seed << ": " << r.violation
              << "\nreplay: " << dledger::sim::replay_command(program, options) << "\n";
    return 1;
  }

  dledger::sim::SimCounters total;
  std::uint64_t failures = 0;
  for (std::uint64_t s = first_seed; s < first_seed + seeds; ++s) {
    options.seed = s;
    dledger::sim::SimResult r = dledger::sim::run_simulation(options);
    total.merge(r.counters);
    if (!r.ok) {
      ++failures;
      std::cout << "FAIL: size " << options.size << " seed " << s << ": " << r.violation
                << "\nreplay: " << dledger::sim::replay_command(program, options) << "\n";
    }
  }
  std::cout << "summary: size " << options.size << " seeds " << seeds << " (" << first_seed << ".."
            << first_seed + seeds - 1 << ") failures " << failures << "\n";
  for (const auto& [key, count] : total.values) std::cout << "  " << key << " " << count << "\n";
  return failures == 0 ? 0 : 1;
}
