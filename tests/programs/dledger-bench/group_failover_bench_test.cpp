// `dledger-bench group-failover --trials 2` end to end (label "process"): a name server, three
// brokers in group-address mode behind the bench's forwarder, two kills of the master. Checks
// the JSON the docs describe (one report per trial, the summary figures) and the bench's own
// no-loss check: every acknowledged message read back from every replica with its body.
// Durations are only checked to exist and be consistent with each other, never against a limit.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <string>

#include "tests/programs/dledger-bench/bench_process.h"

namespace dledger {
namespace {

using nlohmann::json;

using testing::BenchRun;

BenchRun run_bench(const std::string& args) {
  return testing::run_bench("group-failover", args);
}

void expect_ordered_summary(const json& summary, const std::string& name) {
  ASSERT_TRUE(summary.is_object()) << name;
  for (const char* key : {"p50", "p99", "max"}) {
    ASSERT_TRUE(summary[key].is_number()) << name << "." << key;
    EXPECT_GE(summary[key].get<double>(), 0) << name << "." << key;
  }
  EXPECT_LE(summary["p50"].get<double>(), summary["p99"].get<double>()) << name;
  EXPECT_LE(summary["p99"].get<double>(), summary["max"].get<double>()) << name;
}

TEST(GroupFailoverBench, EveryTrialRecoversAndNoAcknowledgedMessageIsLost) {
  BenchRun run = run_bench("--trials 2 --steady-ms 300 --settle-ms 300");
  ASSERT_EQ(run.exit_code, 0) << run.err << run.out;
  json out = json::parse(run.out, nullptr, /*allow_exceptions=*/false);
  ASSERT_FALSE(out.is_discarded()) << "not JSON: " << run.out;

  EXPECT_EQ(out["benchmark"], "group-failover");
  EXPECT_EQ(out["replicas"], 3);
  EXPECT_EQ(out["message_bytes"], 1024);
  // The producer sends where the route points, and that is the group address.
  EXPECT_EQ(out["route_master_address"], out["group_address"]);
  ASSERT_EQ(out["completed_trials"], 2);
  ASSERT_TRUE(out["trials"].is_array());
  ASSERT_EQ(out["trials"].size(), 2u);
  for (const json& trial : out["trials"]) {
    EXPECT_FALSE(trial.contains("error")) << trial.dump();
    ASSERT_TRUE(trial["killed"].is_string()) << trial.dump();
    ASSERT_TRUE(trial["new_leader"].is_string()) << trial.dump();
    EXPECT_NE(trial["new_leader"], trial["killed"]) << trial.dump();
    for (const char* key : {"kill_to_first_success_ms", "longest_gap_ms", "kill_to_new_leader_ms",
                            "victim_rejoined_ms"}) {
      ASSERT_TRUE(trial[key].is_number()) << key << " in " << trial.dump();
      EXPECT_GE(trial[key].get<double>(), 0) << key;
    }
    EXPECT_TRUE(trial["failed_sends"].is_number_integer()) << trial.dump();
    EXPECT_TRUE(trial["failures_by_kind"].is_object()) << trial.dump();
  }
  expect_ordered_summary(out["kill_to_first_success_ms"], "kill_to_first_success_ms");
  expect_ordered_summary(out["longest_gap_ms"], "longest_gap_ms");

  // Messages were acknowledged before, between and after the kills, and all of them are on
  // every replica (after the second trial the victim is back and caught up).
  const auto acknowledged = out["acknowledged"].get<std::uint64_t>();
  EXPECT_GT(acknowledged, 0u);
  EXPECT_GE(out["forwarder"]["paired"].get<std::uint64_t>(), 1u);
  ASSERT_EQ(out["verification"]["ok"], true) << out["verification"].dump();
  ASSERT_EQ(out["verification"]["replicas"].size(), 3u);
  std::set<std::string> replicas;
  for (const json& replica : out["verification"]["replicas"]) {
    replicas.insert(replica["replica"].get<std::string>());
    EXPECT_EQ(replica["missing"], 0) << replica.dump();
    EXPECT_EQ(replica["wrong_body"], 0) << replica.dump();
    EXPECT_GE(replica["stored"].get<std::uint64_t>(), acknowledged) << replica.dump();
  }
  EXPECT_EQ(replicas, (std::set<std::string>{"n0", "n1", "n2"}));
}

TEST(GroupFailoverBench, BadFlagIsAUsageError) {
  BenchRun run = run_bench("--trials 0");
  EXPECT_EQ(run.exit_code, 2) << run.err;
  EXPECT_NE(run.err.find("--trials"), std::string::npos) << run.err;
}

}  // namespace
}  // namespace dledger
