#include "broker/programs/dledger-bench/restart_bench.h"

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <filesystem>
#include <iostream>
#include <mutex>
#include <nlohmann/json.hpp>
#include <thread>

#include "broker/admin/admin_client.h"
#include "broker/ledger/client/ledger_client.h"
#include "broker/programs/dledger-bench/bench_stats.h"
#include "broker/programs/dledger-bench/process_group.h"

namespace dledger::bench {
namespace {

using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;
namespace fs = std::filesystem;

std::uint64_t dir_bytes(const std::string& dir) {
  std::uint64_t total = 0;
  std::error_code ec;
  for (const auto& f : fs::recursive_directory_iterator(dir, ec)) {
    if (f.is_regular_file(ec)) total += f.file_size(ec);
  }
  return total;
}

// Keeps `window` appends of `payload` in flight until `total_bytes` were acknowledged (or an
// append fails). Returns the number of acknowledged appends. A completion decides under the lock
// whether to issue the next append and touches nothing after unlocking unless it did (then the
// waiter cannot return before that append completes too).
Result<std::uint64_t> fill(client::LedgerClient& client, const std::string& payload, int window,
                           std::uint64_t total_bytes) {
  const std::uint64_t wanted = (total_bytes + payload.size() - 1) / payload.size();
  std::mutex mu;
  std::condition_variable cv;
  std::uint64_t issued = 0;
  std::uint64_t acked = 0;
  std::uint64_t finished = 0;
  std::optional<Error> failure;
  std::function<void()> send = [&] {
    client.append(payload, [&](Result<ledger::AppendResult> r) {
      bool more = false;
      {
        std::lock_guard<std::mutex> lock(mu);
        ++finished;
        if (r.ok()) {
          ++acked;
        } else if (!failure) {
          failure = r.error();
        }
        more = issued < wanted && !failure;
        if (more) ++issued;
        cv.notify_all();
      }
      if (more) send();
    });
  };
  {
    std::lock_guard<std::mutex> lock(mu);
    issued = std::min<std::uint64_t>(wanted, static_cast<std::uint64_t>(window));
  }
  for (std::uint64_t i = 0; i < std::min<std::uint64_t>(wanted, window); ++i) send();
  std::unique_lock<std::mutex> lock(mu);
  cv.wait(lock, [&] { return finished == issued; });
  if (failure) return *failure;
  return acked;
}

// Small appends in the background, so that a restarted follower has new entries to accept.
class TrickleWriter {
 public:
  explicit TrickleWriter(client::LedgerClient& client) : client_(client) {
    thread_ = std::thread([this] {
      while (!stop_) {
        (void)client_.append_sync("restart-probe");
        std::this_thread::sleep_for(2ms);
      }
    });
  }
  ~TrickleWriter() {
    stop_ = true;
    thread_.join();
  }

 private:
  client::LedgerClient& client_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

std::optional<std::uint64_t> match_index_of(const admin::ReplicaStatus& leader, int id) {
  for (const auto& m : leader.members) {
    if (m.id == "n" + std::to_string(id)) return m.match_index;
  }
  return std::nullopt;
}

}  // namespace

int run_restart_bench(const RestartBenchOptions& options) {
  ProcessGroup group(options.binary, options.extra_config);
  std::vector<int> ids;
  for (int i = 0; i < options.replicas; ++i) {
    group.add_member(i);
    ids.push_back(i);
  }
  for (int id : ids) {
    Status st = group.start(id, group.peers(ids));
    if (!st.ok()) {
      std::cerr << "dledger-bench: " << st.error().to_string() << "\n";
      return 1;
    }
  }
  auto leader = group.wait_for_leader(ids);
  if (!leader.ok()) {
    std::cerr << "dledger-bench: " << leader.error().to_string() << "\n";
    return 1;
  }

  client::LedgerClientOptions client_options;
  client_options.peers = group.client_peers(ids);
  client_options.request_timeout = 60s;
  auto client = client::LedgerClient::create(client_options);
  if (!client.ok()) {
    std::cerr << "dledger-bench: " << client.error().to_string() << "\n";
    return 1;
  }

  const auto fill_start = Clock::now();
  const auto log_bytes_wanted = static_cast<std::uint64_t>(options.log_gib * (1ull << 30));
  auto filled = fill(**client, std::string(static_cast<std::size_t>(options.entry_bytes), 'r'),
                     options.fill_inflight, log_bytes_wanted);
  if (!filled.ok()) {
    std::cerr << "dledger-bench: fill failed: " << filled.error().to_string() << "\n";
    return 1;
  }
  const double fill_s = ms_between(fill_start, Clock::now()) / 1000.0;
  std::cerr << "filled " << *filled << " entries in " << fill_s << " s\n";

  admin::AdminClientOptions admin_options;
  admin_options.timeout = 2s;
  admin::AdminClient admin(admin_options);
  nlohmann::json trials = nlohmann::json::array();
  std::vector<double> ready_ms;
  std::vector<double> match_ms;
  std::uint64_t victim_log_bytes = 0;
  {
    TrickleWriter trickle(**client);
    for (int trial = 0; trial < options.trials; ++trial) {
      auto current = group.wait_for_leader(ids, 60s);
      if (!current.ok()) break;
      const int victim = (*current + 1 + trial % (options.replicas - 1)) % options.replicas;
      auto before = group.status(*current);
      if (!before.ok() || !group.wait_for_commit(victim, before->commit_index, 120s)) break;

      group.kill9(victim);
      victim_log_bytes = dir_bytes(group.data_dir(victim));
      auto leader_status = group.status(*current);
      if (!leader_status.ok()) break;
      const std::uint64_t leader_last_at_restart = leader_status->last_index;

      const auto exec_time = Clock::now();
      if (!group.start(victim, group.peers(ids)).ok()) break;
      std::optional<double> ready;
      std::optional<double> matched;
      const auto deadline = exec_time + 60s;
      while (Clock::now() < deadline && !(ready && matched)) {
        if (!ready) {
          auto r = admin.ready(group.admin_address(victim));
          if (r.ok() && *r) ready = ms_between(exec_time, Clock::now());
        }
        if (!matched) {
          auto s = group.status(*current);
          auto match = s.ok() ? match_index_of(*s, victim) : std::nullopt;
          if (match && *match > leader_last_at_restart) {
            matched = ms_between(exec_time, Clock::now());
          }
        }
        std::this_thread::sleep_for(2ms);
      }
      trials.push_back(
          {{"trial", trial},
           {"victim", "n" + std::to_string(victim)},
           {"victim_log_bytes", victim_log_bytes},
           {"exec_to_ready_ms", ready ? nlohmann::json(*ready) : nullptr},
           {"exec_to_match_advanced_ms", matched ? nlohmann::json(*matched) : nullptr}});
      std::cerr << "trial " << trial << ": n" << victim << " ready after "
                << (ready ? *ready : -1.0) << " ms, match index advanced after "
                << (matched ? *matched : -1.0) << " ms\n";
      if (!ready || !matched) break;
      ready_ms.push_back(*ready);
      match_ms.push_back(*matched);
    }
  }
  (*client)->close();

  nlohmann::json out;
  out["benchmark"] = "restart";
  out["replicas"] = options.replicas;
  out["entry_bytes"] = options.entry_bytes;
  out["fill_entries"] = *filled;
  out["fill_s"] = fill_s;
  out["fill_mib_per_s"] =
      static_cast<double>(*filled) * options.entry_bytes / fill_s / (1024.0 * 1024.0);
  out["victim_log_bytes"] = victim_log_bytes;
  out["trials"] = trials;
  auto summary = [](const std::vector<double>& v) {
    return nlohmann::json{{"p50", percentile(v, 0.5)},
                          {"max", v.empty() ? 0.0 : *std::max_element(v.begin(), v.end())}};
  };
  out["exec_to_ready_ms"] = summary(ready_ms);
  out["exec_to_match_advanced_ms"] = summary(match_ms);
  std::cout << out.dump(2) << std::endl;
  return ready_ms.size() == static_cast<std::size_t>(options.trials) ? 0 : 1;
}

}  // namespace dledger::bench
