// Proof that the checkers can fail: with a safety rule of the core switched off on purpose
// (Config::test_faults), some seed must report a violation, and the replay command it prints
// must reproduce that violation when run as a separate process.
#include <gtest/gtest.h>

#include <sys/wait.h>

#include <cstdint>
#include <cstdio>
#include <optional>
#include <string>

#include "tests/ledger/sim/simulation.h"

namespace dledger::sim {
namespace {

struct Found {
  SimOptions options;
  std::string violation;
};

std::optional<Found> first_violation(const std::string& fault, int size, std::uint64_t max_seeds) {
  for (std::uint64_t seed = 1; seed <= max_seeds; ++seed) {
    SimOptions options;
    options.size = size;
    options.seed = seed;
    options.fault = fault;
    SimResult r = run_simulation(options);
    if (!r.ok) return Found{options, r.violation};
  }
  return std::nullopt;
}

// Runs `command`, returning its exit status and whole output.
std::pair<int, std::string> run_command(const std::string& command) {
  std::string output;
  FILE* pipe = popen((command + " 2>&1").c_str(), "r");
  if (pipe == nullptr) return {-1, "popen failed"};
  char buffer[4096];
  std::size_t n = 0;
  while ((n = fread(buffer, 1, sizeof buffer, pipe)) > 0) output.append(buffer, n);
  const int status = pclose(pipe);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, output};
}

void expect_fault_detected_and_replayed(const std::string& fault, int size) {
  std::optional<Found> found = first_violation(fault, size, 200);
  ASSERT_TRUE(found.has_value()) << "no seed in 1..200 detected --fault " << fault;
  const std::string command = replay_command(DLEDGER_SIM_PROGRAM, found->options);
  auto [status, output] = run_command(command);
  EXPECT_EQ(status, 1) << command << "\n"
                       << output.substr(output.size() > 4000 ? output.size() - 4000 : 0);
  EXPECT_NE(output.find(found->violation), std::string::npos)
      << "replay of `" << command << "` did not report: " << found->violation;
  EXPECT_NE(output.find("replay: " + command), std::string::npos);
}

TEST(SimFaultSwitch, SkippingUpToDateVoteCheckIsDetectedAndReplays) {
  expect_fault_detected_and_replayed("skip-up-to-date-check", 3);
}

TEST(SimFaultSwitch, CommittingPreviousTermByCountingIsDetectedAndReplays) {
  expect_fault_detected_and_replayed("commit-previous-term", 5);
}

TEST(SimFaultSwitch, CorrectCoreReportsNoViolationForTheSameSeeds) {
  // The seeds that expose the faults pass with the faults off: the violation comes from the
  // fault, not from the harness.
  for (const char* fault : {"skip-up-to-date-check", "commit-previous-term"}) {
    std::optional<Found> found = first_violation(fault, 3, 200);
    ASSERT_TRUE(found.has_value());
    SimOptions clean = found->options;
    clean.fault.clear();
    SimResult r = run_simulation(clean);
    EXPECT_TRUE(r.ok) << "seed " << clean.seed << ": " << r.violation;
  }
}

}  // namespace
}  // namespace dledger::sim
