// What the broker process tests share: the options of a broker group started from the built
// programs with fast timers, running the real dledgerctl binary to completion and reading its
// `clusterList --json` rows. Header-only; the including target defines DLEDGER_NAMESRV_BINARY,
// DLEDGER_BROKER_BINARY and DLEDGERCTL_BINARY (paths of the built programs, see CMakeLists.txt).
//
//   BrokerGroup group(fast_group_options("RaftCluster", "broker-a"));
//   CtlRun run = run_dledgerctl(dir, {"clusterList", "--json", "-n", namesrv});
//   json rows = cluster_rows(dir, namesrv);               // [] when it failed or did not parse
//   json rows = wait_for_cluster(dir, namesrv, [](const json& r) { return r.size() == 3; });
//
// `dir` is a scratch directory (the test's process directory) that receives ctl.out / ctl.err.
#pragma once

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "broker/programs/dledger-bench/broker_group.h"
#include "tests/common/test_net.h"

namespace dledger::testing {

// Fast elections and registrations keep process tests short; every replica still fsyncs before
// acknowledging (the default sync flush mode). Lines for BrokerGroupOptions::extra_config.
inline constexpr const char* kFastBrokerTimers =
    "electionTimeoutMinMs = 300\nelectionTimeoutMaxMs = 600\nheartbeatIntervalMs = 50\n"
    "registerIntervalMs = 1000\n";

// A group of three named `broker_name` in `cluster`, started from the built dledger-namesrv and
// dledger-broker, with kFastBrokerTimers.
inline bench::BrokerGroupOptions fast_group_options(const std::string& cluster,
                                                    const std::string& broker_name) {
  bench::BrokerGroupOptions options;
  options.namesrv_binary = DLEDGER_NAMESRV_BINARY;
  options.broker_binary = DLEDGER_BROKER_BINARY;
  options.cluster_name = cluster;
  options.broker_name = broker_name;
  options.extra_config = kFastBrokerTimers;
  return options;
}

struct CtlRun {
  int exit_code = -1;
  std::string out;
  std::string err;
};

inline std::string slurp(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// Runs dledgerctl with `args` to completion, stdout and stderr captured separately. exit_code is
// -1 when it did not exit normally (killed by a signal).
inline CtlRun run_dledgerctl(const std::string& dir, std::vector<std::string> args) {
  const std::string out_path = dir + "/ctl.out";
  const std::string err_path = dir + "/ctl.err";
  std::vector<std::string> storage = {DLEDGERCTL_BINARY};
  storage.insert(storage.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (std::string& arg : storage) argv.push_back(arg.data());
  argv.push_back(nullptr);
  pid_t pid = ::fork();
  if (pid == 0) {
    int out = ::open(out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    int err = ::open(err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    ::dup2(out, 1);
    ::dup2(err, 2);
    ::execv(DLEDGERCTL_BINARY, argv.data());
    ::_exit(127);
  }
  int status = 0;
  ::waitpid(pid, &status, 0);
  CtlRun run;
  run.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  run.out = slurp(out_path);
  run.err = slurp(err_path);
  return run;
}

// `dledgerctl clusterList --json -n <namesrv>` rows, or an empty array when it failed to run or
// its output did not parse.
inline nlohmann::json cluster_rows(const std::string& dir, const std::string& namesrv) {
  CtlRun run = run_dledgerctl(dir, {"clusterList", "--json", "-n", namesrv});
  nlohmann::json rows = nlohmann::json::parse(run.out, nullptr, false);
  return rows.is_array() ? rows : nlohmann::json::array();
}

// The rows with brokerId 0 (masters); with `broker_name` set, only that group's.
inline std::vector<nlohmann::json> master_rows(const nlohmann::json& rows,
                                               const std::string& broker_name = "") {
  std::vector<nlohmann::json> out;
  for (const nlohmann::json& row : rows) {
    if (row.value("brokerId", -1) != 0) continue;
    if (!broker_name.empty() && row.value("brokerName", "") != broker_name) continue;
    out.push_back(row);
  }
  return out;
}

// Polls clusterList (bounded by `limit`) until `condition(rows)` holds; returns the last rows.
// A failure to get there is a test failure showing the last rows.
template <typename Condition>
nlohmann::json wait_for_cluster(const std::string& dir, const std::string& namesrv,
                                Condition condition,
                                std::chrono::milliseconds limit = std::chrono::seconds(60)) {
  nlohmann::json rows;
  bool reached = eventually(
      [&] {
        rows = cluster_rows(dir, namesrv);
        if (condition(rows)) return true;
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
        return false;
      },
      limit);
  EXPECT_TRUE(reached) << "clusterList never reached the expected state; last: " << rows.dump(1);
  return rows;
}

}  // namespace dledger::testing
