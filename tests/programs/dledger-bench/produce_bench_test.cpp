// `dledger-bench produce` end to end (label "process"): a name server and three brokers started
// by the bench, a short run of a few producers. Checks the JSON the docs describe, that every
// send was acknowledged, that -p lines override the bench's own broker.conf defaults, that
// --keep-dir says where it kept the files, and that a bench stopped by SIGTERM takes its
// processes with it. Figures are only checked to exist and be consistent with each other, never
// against a limit.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

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

// Children of `parent` that are alive (not zombies), from /proc/<pid>/stat.
std::vector<pid_t> live_children(pid_t parent) {
  std::vector<pid_t> out;
  for (const auto& entry : std::filesystem::directory_iterator("/proc")) {
    const std::string name = entry.path().filename().string();
    if (name.empty() || name.find_first_not_of("0123456789") != std::string::npos) continue;
    std::ifstream in(entry.path() / "stat");
    std::string stat;
    std::getline(in, stat);
    // "pid (comm) state ppid ...": comm may hold spaces; parse after the last ')'.
    auto close = stat.rfind(')');
    if (close == std::string::npos) continue;
    std::istringstream rest(stat.substr(close + 1));
    char state = 0;
    pid_t ppid = 0;
    rest >> state >> ppid;
    if (ppid == parent && state != 'Z') out.push_back(static_cast<pid_t>(std::stoi(name)));
  }
  return out;
}

// The directory the bench made for its group ("<tmp>/dledger-brokers-XXXXXX"), read from a
// child's command line (the brokers run with -c <dir>/broker-nN.conf); "" if none shows it.
std::string bench_dir_of(const std::vector<pid_t>& children) {
  const std::string marker = "/dledger-brokers-";
  for (pid_t child : children) {
    std::ifstream in("/proc/" + std::to_string(child) + "/cmdline");
    std::string args((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    std::size_t at = args.find(marker);
    if (at == std::string::npos) continue;
    std::size_t start = args.rfind('\0', at);
    start = start == std::string::npos ? 0 : start + 1;
    std::size_t end = args.find('/', at + marker.size());
    if (end == std::string::npos) continue;
    return args.substr(start, end - start);
  }
  return "";
}

bool alive(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string stat;
  if (!std::getline(in, stat)) return false;
  auto close = stat.rfind(')');
  return close != std::string::npos && close + 2 < stat.size() && stat[close + 2] != 'Z';
}

TEST(ProduceBench, StoppedBySigtermLeavesNoBrokerOrNameServerRunning) {
  pid_t bench = ::fork();
  ASSERT_GE(bench, 0);
  if (bench == 0) {
    std::FILE* quiet = std::freopen("/dev/null", "w", stdout);
    quiet = std::freopen("/dev/null", "w", stderr);
    (void)quiet;
    ::execl(DLEDGER_BENCH_BINARY, DLEDGER_BENCH_BINARY, "produce", "--producers", "2",
            "--duration-s", "120", "--namesrv-binary", DLEDGER_NAMESRV_BINARY, "--broker-binary",
            DLEDGER_BROKER_BINARY, static_cast<char*>(nullptr));
    ::_exit(127);
  }
  // The name server and three brokers.
  std::vector<pid_t> children;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (std::chrono::steady_clock::now() < deadline) {
    children = live_children(bench);
    if (children.size() >= 4) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  EXPECT_EQ(children.size(), 4u);
  // A bench killed by a signal cannot remove its directory: the test does, afterwards.
  const std::string dir = bench_dir_of(children);
  EXPECT_FALSE(dir.empty()) << "no child named the bench's directory";
  ASSERT_EQ(::kill(bench, SIGTERM), 0);
  int status = 0;
  ASSERT_EQ(::waitpid(bench, &status, 0), bench);
  EXPECT_TRUE(WIFSIGNALED(status));
  const auto gone_by = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  for (pid_t child : children) {
    while (alive(child) && std::chrono::steady_clock::now() < gone_by) {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    EXPECT_FALSE(alive(child)) << "process " << child << " outlived the benchmark";
    if (alive(child)) ::kill(child, SIGKILL);
  }
  if (!dir.empty()) {
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
  }
}

}  // namespace
}  // namespace dledger
