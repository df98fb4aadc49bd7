// dledger-bench: benchmarks of a ledger group made of real dledger-ledger processes on
// 127.0.0.1 (free ports, a temporary directory). Prints one JSON object on stdout.
//
//   dledger-bench ledger   --entry-bytes 1024 --inflight 256 --duration-s 10
//       appends/s, MiB/s, append latency p50/p99/p999 (client side, call -> acknowledgement),
//       the leader's fsyncs/s and mean entries per fsync (from its /metrics
//       dledger_fsync_latency_seconds_count), and this disk's raw fdatasync latency (p50/p99 of
//       --fsync-samples fdatasyncs of 4 KiB writes, measured in the same directory).
//   dledger-bench failover --trials 20
//       while a writer appends, SIGKILL the leader and measure kill -> first acknowledged append;
//       restart the victim, wait until the group is healthy and the victim caught up; repeat.
//       Prints every trial and p50/p99.
//   dledger-bench restart --log-gib 1 --trials 3
//       fill the log to 1 GiB, SIGKILL a follower, restart it: exec -> /readyz 200 and exec -> the
//       leader sees its match index advance (restart_bench.h).
//   dledger-bench produce --producers 64 --duration-s 10
//       RocketMQ sync sends of 1 KiB to a namesrv + 3-broker group (produce_bench.h): msgs/s,
//       MiB/s, send latency p50/p99/p999. Has its own flags (--replicas, -p, binaries).
//   dledger-bench group-failover --trials 10
//       a producer through a group address across kill -9 of the master (group_failover_bench.h).
//
// Common flags: --replicas 3, --binary <dledger-ledger> (default: next to this program in the
// build tree), -p key=value (extra replica config, repeatable), --keep-dir.
#include <fcntl.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <filesystem>
#include <iostream>
#include <mutex>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

#include "broker/admin/admin_client.h"
#include "broker/ledger/client/ledger_client.h"
#include "broker/programs/dledger-bench/bench_stats.h"
#include "broker/programs/dledger-bench/group_failover_bench.h"
#include "broker/programs/dledger-bench/process_group.h"
#include "broker/programs/dledger-bench/produce_bench.h"
#include "broker/programs/dledger-bench/restart_bench.h"

namespace {

using namespace dledger;
using bench::percentile;
using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;
namespace fs = std::filesystem;

struct CommonFlags {
  int replicas = 3;
  std::string binary;
  std::vector<std::string> properties;
  bool keep_dir = false;
};

std::string default_binary() {
  std::error_code ec;
  fs::path self = fs::read_symlink("/proc/self/exe", ec);
  if (ec) return "dledger-ledger";
  return (self.parent_path().parent_path() / "dledger-ledger" / "dledger-ledger").string();
}

std::string extra_config(const CommonFlags& flags) {
  std::string out;
  for (const auto& p : flags.properties) out += p + "\n";
  return out;
}

// The flags of the produce subcommand (produce_bench.h).
void add_produce_options(CLI::App& command, bench::ProduceBenchOptions& options) {
  command.add_option("--producers", options.producers, "Concurrent synchronous producers [64]")
      ->check(CLI::Range(1, 4096));
  command
      .add_option("--connections", options.connections,
                  "Connections the producers share (producer p uses connection p % n; one io "
                  "thread each) [1, as one RocketMQ client instance]; --connections = "
                  "--producers gives each its own")
      ->check(CLI::Range(1, 4096));
  command.add_option("--message-bytes", options.message_bytes, "Body size [1024]")
      ->check(CLI::Range(1, 4 << 20));
  command.add_option("--queues", options.queues, "Queues of the topic [8]")
      ->check(CLI::Range(1, 1024));
  command.add_option("--duration-s", options.duration_s, "Measured duration [10]")
      ->check(CLI::Range(0.1, 3600.0));
  command.add_option("--warmup-s", options.warmup_s, "Unmeasured warm-up [2]")
      ->check(CLI::Range(0.0, 600.0));
  command.add_option("--replicas", options.replicas, "Brokers in the group [3]")
      ->check(CLI::Range(1, 9));
  command.add_option("-p,--property", options.properties,
                     "Extra broker.conf line key=value (repeatable), e.g. flushMode=async");
  command.add_option("--namesrv-binary", options.namesrv_binary, "dledger-namesrv path");
  command.add_option("--broker-binary", options.broker_binary, "dledger-broker path");
  command.add_flag("--keep-dir", options.keep_dir, "Keep configs, logs and data");
  command.add_flag("--via-follower", options.via_follower,
                   "Send to a follower, which forwards every send to the master");
}

// The `group-failover` subcommand and its flags (group_failover_bench.h).
CLI::App* add_group_failover_command(CLI::App& app, bench::GroupFailoverOptions& options) {
  CLI::App* command = app.add_subcommand(
      "group-failover", "Producer-visible failover through a group address (kill -9 the master)");
  command->add_option("--trials", options.trials, "Kills of the master [10]")
      ->check(CLI::Range(1, 1000));
  command->add_option("--replicas", options.replicas, "Brokers in the group [3]")
      ->check(CLI::Range(3, 9));
  command->add_option("--message-bytes", options.message_bytes, "Body size [1024]")
      ->check(CLI::Range(16, 4 << 20));
  command->add_option("--queues", options.queues, "Queues of the topic [4]")
      ->check(CLI::Range(1, 64));
  command->add_option("--send-timeout-ms", options.send_timeout_ms, "Timeout of one send [3000]")
      ->check(CLI::Range(10, 600000));
  command->add_option("--steady-ms", options.steady_ms, "Steady sending before a kill [1000]")
      ->check(CLI::Range(0, 600000));
  command->add_option("--settle-ms", options.settle_ms, "Measured after recovery [1000]")
      ->check(CLI::Range(0, 600000));
  command
      ->add_option("--readiness-poll-ms", options.readiness_poll_ms,
                   "Forward only to replicas whose /readyz is 200, polled this often (0: all) [0]")
      ->check(CLI::Range(0, 60000));
  command->add_option("-p,--property", options.properties,
                      "Extra broker.conf line key=value (repeatable)");
  command->add_option("--namesrv-binary", options.namesrv_binary, "dledger-namesrv path");
  command->add_option("--broker-binary", options.broker_binary, "dledger-broker path");
  command->add_flag("--keep-dir", options.keep_dir, "Keep configs, logs and data");
  return command;
}

// p50/p99 in milliseconds of `samples` fdatasyncs, each after a 4 KiB write, in `dir`.
nlohmann::json measure_fdatasync(const std::string& dir, int samples) {
  const std::string path = dir + "/fdatasync-probe";
  int fd = ::open(path.c_str(), O_CREAT | O_WRONLY | O_TRUNC, 0644);
  if (fd < 0) return {{"error", "cannot create " + path}};
  std::string block(4096, 'f');
  std::vector<double> ms;
  for (int i = 0; i < samples; ++i) {
    if (::write(fd, block.data(), block.size()) != static_cast<ssize_t>(block.size())) break;
    auto start = Clock::now();
    ::fdatasync(fd);
    ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - start).count());
  }
  ::close(fd);
  ::unlink(path.c_str());
  return {
      {"samples", ms.size()}, {"p50_ms", percentile(ms, 0.5)}, {"p99_ms", percentile(ms, 0.99)}};
}

// Sum of a counter/histogram-count family in the Prometheus text of `admin`'s /metrics.
std::optional<double> scrape(const std::string& admin_address, const std::string& metric) {
  admin::AdminClient client;
  auto reply = client.request(admin_address, "GET", "/metrics", "");
  if (!reply.ok() || reply->status != 200) return std::nullopt;
  std::istringstream in(reply->body);
  std::string line;
  double sum = 0;
  bool found = false;
  while (std::getline(in, line)) {
    if (line.rfind(metric, 0) != 0) continue;
    std::size_t after = metric.size();
    if (after < line.size() && line[after] != '{' && line[after] != ' ') continue;
    auto space = line.rfind(' ');
    if (space == std::string::npos) continue;
    sum += std::stod(line.substr(space + 1));
    found = true;
  }
  if (!found) return std::nullopt;
  return sum;
}

struct Group {
  std::unique_ptr<bench::ProcessGroup> processes;
  std::vector<int> ids;

  // CPU seconds used so far by all replicas together (nullopt if one cannot be read).
  std::optional<double> replicas_cpu_seconds() const {
    double total = 0;
    for (int id : ids) {
      auto s = processes->cpu_seconds(id);
      if (!s) return std::nullopt;
      total += *s;
    }
    return total;
  }
};

Result<Group> start_group(const CommonFlags& flags) {
  Group g;
  g.processes = std::make_unique<bench::ProcessGroup>(
      flags.binary.empty() ? default_binary() : flags.binary, extra_config(flags));
  for (int i = 0; i < flags.replicas; ++i) {
    g.processes->add_member(i);
    g.ids.push_back(i);
  }
  for (int i : g.ids) {
    Status st = g.processes->start(i, g.processes->peers(g.ids));
    if (!st.ok()) return st.error();
  }
  auto leader = g.processes->wait_for_leader(g.ids);
  if (!leader.ok()) return leader.error();
  if (flags.keep_dir) ::setenv("DLEDGER_KEEP_TEST_DIRS", "1", 1);
  return g;
}

int run_ledger(const CommonFlags& flags, int entry_bytes, int inflight, double duration_s,
               int fsync_samples) {
  auto group = start_group(flags);
  if (!group.ok()) {
    std::cerr << "dledger-bench: " << group.error().to_string() << "\n";
    return 1;
  }
  auto& g = *group;
  auto leader = g.processes->wait_for_leader(g.ids);
  if (!leader.ok()) return 1;
  const std::string leader_admin = g.processes->admin_address(*leader);

  client::LedgerClientOptions options;
  options.peers = g.processes->client_peers(g.ids);
  options.max_inflight = static_cast<std::uint32_t>(inflight);
  auto client = client::LedgerClient::create(options);
  if (!client.ok()) return 1;
  const std::string payload(static_cast<std::size_t>(entry_bytes), 'b');

  // Warm up: connect and find the leader.
  for (int i = 0; i < 10; ++i) (void)(*client)->append_sync(payload);

  std::mutex mu;
  std::condition_variable cv;
  std::vector<double> latencies_ms;
  latencies_ms.reserve(1 << 20);
  std::uint64_t errors = 0;
  int outstanding = 0;
  bool stopping = false;
  std::function<void()> issue;
  issue = [&] {
    auto start = Clock::now();
    (*client)->append(payload, [&, start](Result<ledger::AppendResult> r) {
      double ms = std::chrono::duration<double, std::milli>(Clock::now() - start).count();
      bool again;
      {
        std::lock_guard<std::mutex> lock(mu);
        if (r.ok()) {
          latencies_ms.push_back(ms);
        } else {
          ++errors;
        }
        again = !stopping;
        if (!again) {
          --outstanding;
          cv.notify_all();
        }
      }
      if (again) issue();
    });
  };
  auto fsyncs_before = scrape(leader_admin, "dledger_fsync_latency_seconds_count");
  const auto cpu_before = g.replicas_cpu_seconds();
  const auto begin = Clock::now();
  {
    std::lock_guard<std::mutex> lock(mu);
    outstanding = inflight;
  }
  for (int i = 0; i < inflight; ++i) issue();
  std::this_thread::sleep_for(std::chrono::duration<double>(duration_s));
  std::size_t completed_in_window;
  {
    std::unique_lock<std::mutex> lock(mu);
    stopping = true;
    completed_in_window = latencies_ms.size();
  }
  const double elapsed_s = std::chrono::duration<double>(Clock::now() - begin).count();
  const auto cpu_after = g.replicas_cpu_seconds();
  auto fsyncs_after = scrape(leader_admin, "dledger_fsync_latency_seconds_count");
  {
    std::unique_lock<std::mutex> lock(mu);
    cv.wait_for(lock, 30s, [&] { return outstanding == 0; });
  }
  (*client)->close();

  nlohmann::json out;
  out["benchmark"] = "ledger";
  out["replicas"] = flags.replicas;
  out["entry_bytes"] = entry_bytes;
  out["inflight"] = inflight;
  out["duration_s"] = elapsed_s;
  out["appends"] = completed_in_window;
  out["errors"] = errors;
  out["appends_per_s"] = static_cast<double>(completed_in_window) / elapsed_s;
  out["mib_per_s"] =
      static_cast<double>(completed_in_window) * entry_bytes / elapsed_s / (1024.0 * 1024.0);
  out["latency_ms"] = {{"p50", percentile(latencies_ms, 0.5)},
                       {"p99", percentile(latencies_ms, 0.99)},
                       {"p999", percentile(latencies_ms, 0.999)}};
  if (fsyncs_before && fsyncs_after && *fsyncs_after > *fsyncs_before) {
    double fsyncs = *fsyncs_after - *fsyncs_before;
    out["leader_fsyncs_per_s"] = fsyncs / elapsed_s;
    out["mean_entries_per_fsync"] = static_cast<double>(completed_in_window) / fsyncs;
  } else {
    out["leader_fsyncs_per_s"] = nullptr;
    out["mean_entries_per_fsync"] = nullptr;
    out["fsync_metrics_note"] = "dledger_fsync_latency_seconds_count not exported by the leader";
  }
  // CPU per append across all replicas: robust to a busy machine, unlike appends/s.
  if (cpu_before && cpu_after && completed_in_window > 0) {
    out["replicas_cpu_us_per_append"] =
        (*cpu_after - *cpu_before) * 1e6 / static_cast<double>(completed_in_window);
  }
  out["raw_fdatasync_4k"] = measure_fdatasync(g.processes->dir(), fsync_samples);
  std::cout << out.dump(2) << std::endl;
  return 0;
}

int run_failover(const CommonFlags& flags, int trials) {
  auto group = start_group(flags);
  if (!group.ok()) {
    std::cerr << "dledger-bench: " << group.error().to_string() << "\n";
    return 1;
  }
  auto& g = *group;
  client::LedgerClientOptions options;
  options.peers = g.processes->client_peers(g.ids);
  options.request_timeout = 30s;
  options.backoff_initial = 2ms;
  options.backoff_max = 20ms;
  options.connect_timeout = 200ms;
  auto client = client::LedgerClient::create(options);
  if (!client.ok()) return 1;

  // Writer: a few appends in flight at all times; records the time of every acknowledgement.
  std::mutex mu;
  std::condition_variable cv;
  Clock::time_point last_ack;
  std::uint64_t last_ack_term = 0;
  std::uint64_t acks = 0;
  std::atomic<bool> stopping{false};
  std::atomic<int> outstanding{0};
  // Term of the leader killed in the current trial: only appends acknowledged in a later term
  // (by a new leader) end the trial. Filtering by the client's idea of the leader is not enough:
  // when that is stale, a response the old leader sent just before SIGKILL could end a trial.
  std::atomic<std::uint64_t> killed_term{0};
  std::function<void()> issue;
  issue = [&] {
    outstanding.fetch_add(1);
    (*client)->append("failover-probe", [&](Result<ledger::AppendResult> r) {
      if (r.ok() && r->term > killed_term.load()) {
        std::lock_guard<std::mutex> lock(mu);
        last_ack = Clock::now();
        last_ack_term = r->term;
        ++acks;
        cv.notify_all();
      }
      outstanding.fetch_sub(1);
      if (!stopping) issue();
    });
  };
  for (int i = 0; i < 4; ++i) issue();

  nlohmann::json trial_results = nlohmann::json::array();
  std::vector<double> failover_ms;
  for (int trial = 0; trial < trials; ++trial) {
    auto leader = g.processes->wait_for_leader(g.ids, 60s);
    if (!leader.ok()) {
      std::cerr << "dledger-bench: trial " << trial << ": " << leader.error().to_string() << "\n";
      break;
    }
    {
      // The writer is flowing through this leader.
      std::unique_lock<std::mutex> lock(mu);
      std::uint64_t seen = acks;
      cv.wait_for(lock, 30s, [&] { return acks >= seen + 20; });
    }
    auto leader_status = g.processes->status(*leader);
    if (!leader_status.ok()) {
      std::cerr << "dledger-bench: trial " << trial << ": " << leader_status.error().to_string()
                << "\n";
      break;
    }
    killed_term = leader_status->term;
    const auto kill_time = Clock::now();
    g.processes->kill9(*leader);
    bool recovered;
    double ms = 0;
    std::uint64_t ack_term = 0;
    {
      std::unique_lock<std::mutex> lock(mu);
      recovered = cv.wait_for(lock, 60s, [&] { return last_ack > kill_time; });
      if (recovered) {
        ms = std::chrono::duration<double, std::milli>(last_ack - kill_time).count();
        ack_term = last_ack_term;
      }
    }
    trial_results.push_back({{"trial", trial},
                             {"killed", "n" + std::to_string(*leader)},
                             {"killed_term", leader_status->term},
                             {"first_ack_term", recovered ? nlohmann::json(ack_term) : nullptr},
                             {"kill_to_first_ack_ms", recovered ? nlohmann::json(ms) : nullptr}});
    if (recovered) failover_ms.push_back(ms);
    std::cerr << "trial " << trial << ": killed n" << *leader << ", first ack after " << ms
              << " ms\n";
    Status st = g.processes->start(*leader, g.processes->peers(g.ids));
    if (!st.ok()) break;
    auto healthy = g.processes->wait_for_leader(g.ids, 60s);
    if (!healthy.ok()) break;
    auto ls = g.processes->status(*healthy);
    if (ls.ok()) g.processes->wait_for_commit(*leader, ls->commit_index, 60s);
  }
  stopping = true;
  for (int i = 0; i < 3000 && outstanding.load() > 0; ++i) std::this_thread::sleep_for(10ms);
  (*client)->close();

  nlohmann::json out;
  out["benchmark"] = "failover";
  out["replicas"] = flags.replicas;
  out["trials"] = trial_results;
  out["completed_trials"] = failover_ms.size();
  out["failover_ms"] = {
      {"p50", percentile(failover_ms, 0.5)},
      {"p99", percentile(failover_ms, 0.99)},
      {"max",
       failover_ms.empty() ? 0.0 : *std::max_element(failover_ms.begin(), failover_ms.end())}};
  std::cout << out.dump(2) << std::endl;
  return failover_ms.size() == static_cast<std::size_t>(trials) ? 0 : 1;
}

void add_common(CLI::App& command, CommonFlags& flags) {
  command.add_option("--replicas", flags.replicas, "Replicas in the group")
      ->check(CLI::Range(1, 9));
  command.add_option("--binary", flags.binary, "dledger-ledger executable");
  command.add_option("-p,--property", flags.properties, "Extra replica config key=value");
  command.add_flag("--keep-dir", flags.keep_dir, "Keep the temporary directory");
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"dledger-bench: ledger benchmarks against real replica processes (JSON output)"};
  app.require_subcommand(1);
  CommonFlags flags;
  int entry_bytes = 1024;
  int inflight = 256;
  double duration_s = 10;
  int fsync_samples = 200;
  int trials = 20;
  CLI::App* ledger = app.add_subcommand("ledger", "Append throughput and latency");
  add_common(*ledger, flags);
  ledger->add_option("--entry-bytes", entry_bytes)->check(CLI::Range(1, 16 << 20));
  ledger->add_option("--inflight", inflight)->check(CLI::Range(1, 100000));
  ledger->add_option("--duration-s", duration_s)->check(CLI::Range(0.1, 3600.0));
  ledger->add_option("--fsync-samples", fsync_samples)->check(CLI::Range(1, 100000));
  CLI::App* failover = app.add_subcommand("failover", "Leader kill -> first acknowledged append");
  add_common(*failover, flags);
  failover->add_option("--trials", trials)->check(CLI::Range(1, 1000));
  bench::RestartBenchOptions restart_options;
  CLI::App* restart = app.add_subcommand("restart", "Follower restart with a large log");
  add_common(*restart, flags);
  restart->add_option("--log-gib", restart_options.log_gib)->check(CLI::Range(0.001, 64.0));
  restart->add_option("--entry-bytes", restart_options.entry_bytes)->check(CLI::Range(1, 16 << 20));
  restart->add_option("--fill-inflight", restart_options.fill_inflight)->check(CLI::Range(1, 4096));
  restart->add_option("--trials", restart_options.trials)->check(CLI::Range(1, 1000));
  bench::ProduceBenchOptions produce_options;
  CLI::App* produce =
      app.add_subcommand("produce", "RocketMQ produce throughput against a broker group");
  add_produce_options(*produce, produce_options);
  bench::GroupFailoverOptions group_failover_options;
  CLI::App* group_failover = add_group_failover_command(app, group_failover_options);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 2;
  }
  if (produce->parsed()) return bench::run_produce_bench(produce_options);
  if (group_failover->parsed()) return bench::run_group_failover_bench(group_failover_options);
  if (ledger->parsed()) return run_ledger(flags, entry_bytes, inflight, duration_s, fsync_samples);
  if (restart->parsed()) {
    if (flags.replicas < 2) {
      std::cerr << "dledger-bench restart: --replicas must be at least 2\n";
      return 2;
    }
    if (flags.keep_dir) ::setenv("DLEDGER_KEEP_TEST_DIRS", "1", 1);
    restart_options.replicas = flags.replicas;
    restart_options.binary = flags.binary.empty() ? default_binary() : flags.binary;
    restart_options.extra_config = extra_config(flags);
    return bench::run_restart_bench(restart_options);
  }
  return run_failover(flags, trials);
}
