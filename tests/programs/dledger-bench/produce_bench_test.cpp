// `dledger-bench produce` end to end (label "process"): a name server and three brokers started
// by the bench, a short run of a few producers. Checks the JSON the docs describe, that every
// send was acknowledged, that -p lines override the bench's own broker.conf defaults, and that
// --keep-dir says where it kept the files. Figures are only checked to exist and be consistent
// with each other, never against a limit.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>

#include "tests/programs/dledger-bench/bench_process.h"

namespace dledger {
namespace {

using nlohmann::json;

// Runs `dledger-bench produce <args>`: its JSON report, or an empty object after recording a
// failure (non-zero exit or no report).
json produce_report(const std::string& args) {
  testing::BenchRun run = testing::run_bench("produce", args);
  EXPECT_EQ(run.exit_code, 0) << run.err;
  json report = json::parse(run.out, nullptr, /*allow_exceptions=*/false);
  EXPECT_TRUE(report.is_object()) << "stdout: " << run.out << "\nstderr: " << run.err;
  return report.is_object() ? report : json::object();
}

void expect_every_send_acknowledged(const json& report) {
  ASSERT_TRUE(report["messages"].is_number_unsigned());
  EXPECT_GT(report["messages"].get<std::uint64_t>(), 0u);
  EXPECT_EQ(report["errors"], 0) << report.value("last_error", "");
}

TEST(ProduceBench, ShortRunAcknowledgesEverySendAndReportsItsCost) {
  json report = produce_report("--producers 4 --duration-s 1 --warmup-s 0.2");
  ASSERT_FALSE(report.empty());
  EXPECT_EQ(report["benchmark"], "produce");
  EXPECT_EQ(report["producers"], 4);
  EXPECT_EQ(report["connections"], 1);  // the default: one connection, as one client instance
  EXPECT_EQ(report["replicas"], 3);
  EXPECT_EQ(report["message_bytes"], 1024);
  EXPECT_EQ(report["flush_mode"], "sync");
  EXPECT_EQ(report["via_follower"], false);
  expect_every_send_acknowledged(report);
  const json& latency = report["latency_ms"];
  ASSERT_TRUE(latency.is_object());
  EXPECT_GT(latency["p50"].get<double>(), 0);
  EXPECT_LE(latency["p50"].get<double>(), latency["p99"].get<double>());
  EXPECT_LE(latency["p99"].get<double>(), latency["p999"].get<double>());
  EXPECT_LE(latency["p999"].get<double>(), latency["max"].get<double>());
  EXPECT_GT(report["msgs_per_s"].get<double>(), 0);
  EXPECT_GT(report["brokers_cpu_us_per_msg"].get<double>(), 0);
  EXPECT_GT(report["client_cpu_us_per_msg"].get<double>(), 0);
}

TEST(ProduceBench, SendsThroughAFollowerAreAllForwardedAndAcknowledged) {
  json report = produce_report("--via-follower --producers 4 --duration-s 1 --warmup-s 0.2");
  ASSERT_FALSE(report.empty());
  EXPECT_EQ(report["via_follower"], true);
  expect_every_send_acknowledged(report);
}

TEST(ProduceBench, PropertyLinesOverrideTheBenchDefaultsAndTheKeptDirectoryIsNamed) {
  testing::BenchRun run = testing::run_bench(
      "produce", "--producers 2 --duration-s 0.3 --warmup-s 0 --keep-dir -p logLevel=info");
  ASSERT_EQ(run.exit_code, 0) << run.err;
  const std::string marker = "kept configs, logs and data in ";
  const std::size_t at = run.err.find(marker);
  ASSERT_NE(at, std::string::npos) << run.err;
  std::string dir = run.err.substr(at + marker.size());
  dir = dir.substr(0, dir.find('\n'));
  ASSERT_TRUE(std::filesystem::is_directory(dir)) << dir;
  // The bench writes logLevel = warn; the -p line comes after it and wins: info lines appear.
  std::ifstream log(std::filesystem::path(dir) / "broker-n0.log");
  std::stringstream text;
  text << log.rdbuf();
  EXPECT_NE(text.str().find("[info]"), std::string::npos) << text.str();
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace dledger
