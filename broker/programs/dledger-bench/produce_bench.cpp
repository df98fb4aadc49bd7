#include "broker/programs/dledger-bench/produce_bench.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <mutex>
#include <nlohmann/json.hpp>
#include <thread>

#include <unistd.h>

#include "broker/frontend/remoting_client.h"
#include "broker/programs/dledger-bench/bench_stats.h"
#include "broker/programs/dledger-bench/broker_group.h"
#include "broker/programs/dledger-bench/process_group.h"
#include "broker/remoting/codes.h"
#include "broker/remoting/message_properties.h"
#include "broker/remoting/route_data.h"
#include "broker/remoting/send_header.h"

namespace dledger::bench {
namespace {

using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;
namespace fs = std::filesystem;
namespace rc = remoting::request_code;
namespace resp = remoting::response_code;
using remoting::RemotingCommand;

constexpr const char* kBenchTopic = "BenchTopic";

std::string sibling_binary(const std::string& name) {
  std::error_code ec;
  fs::path self = fs::read_symlink("/proc/self/exe", ec);
  if (ec) return name;
  return (self.parent_path().parent_path() / name / name).string();
}

Result<RemotingCommand> call(const std::string& address, RemotingCommand request) {
  auto client = frontend::RemotingClient::connect(address);
  if (!client.ok()) return client.error();
  return (*client)->invoke_sync(std::move(request), 5s);
}

// Creates the topic on the leader, then waits until the name server routes it to a master.
// Returns the master's address.
Result<std::string> prepare_topic(BrokerGroup& group, int leader, int queues) {
  const auto deadline = Clock::now() + 60s;
  std::string last = "no attempt";
  bool created = false;
  while (Clock::now() < deadline) {
    if (!created) {
      RemotingCommand update = remoting::make_request(rc::kUpdateAndCreateTopic, 0);
      update.ext_fields["topic"] = kBenchTopic;
      update.ext_fields["readQueueNums"] = std::to_string(queues);
      update.ext_fields["writeQueueNums"] = std::to_string(queues);
      update.ext_fields["perm"] = "6";
      auto reply = call(group.broker_address(leader), update);
      created = reply.ok() && reply->code == resp::kSuccess;
      if (!created) {
        last = reply.ok() ? "UPDATE_AND_CREATE_TOPIC answered " + std::to_string(reply->code)
                          : reply.error().message;
      }
    }
    if (created) {
      RemotingCommand route_request = remoting::make_request(rc::kGetRouteinfoByTopic, 0);
      route_request.ext_fields["topic"] = kBenchTopic;
      auto reply = call(group.namesrv_address(), route_request);
      if (reply.ok() && reply->code == resp::kSuccess) {
        auto route = remoting::parse_topic_route_data(reply->body);
        if (route.ok()) {
          for (const auto& broker : route->broker_datas) {
            auto master = broker.broker_addrs.find(remoting::kMasterBrokerId);
            if (master != broker.broker_addrs.end()) return master->second;
          }
        }
      }
      last = "the name server has no master route for " + std::string(kBenchTopic) + " yet";
    }
    std::this_thread::sleep_for(100ms);
  }
  return make_error(ErrorCode::kTimeout, last);
}

// One synchronous producer: at most one send outstanding; the next is issued from the reply's
// callback (on its connection's io thread), so 64 producers need no 64 threads.
struct ProducerState {
  int index = 0;
  frontend::RemotingClient* client = nullptr;
  std::uint64_t sent = 0;
  std::vector<double> latencies_ms;  // touched only by the connection's io thread
  std::uint64_t errors = 0;
  std::string last_error;
};

struct LoopShared {
  const std::string* body = nullptr;
  int queues = 1;
  remoting::SendMessageRequest header;  // read-only once the loops run
  std::atomic<bool> measuring{false};
  std::atomic<bool> stop{false};
  std::atomic<std::uint64_t> completed{0};  // replies and failures, all producers
  std::mutex mu;
  std::condition_variable all_stopped;
  int running = 0;  // guarded by mu
};

struct CpuSample {
  double brokers_s = 0;
  double client_s = 0;
};

void producer_stopped(LoopShared& shared) {
  std::lock_guard<std::mutex> lock(shared.mu);
  if (--shared.running == 0) shared.all_stopped.notify_all();
}

void send_next(LoopShared& shared, ProducerState& producer) {
  if (shared.stop.load()) return producer_stopped(shared);
  remoting::SendMessageRequest header = shared.header;
  header.queue_id =
      static_cast<std::int32_t>((producer.sent++ + static_cast<std::uint64_t>(producer.index)) %
                                static_cast<std::uint64_t>(shared.queues));
  header.born_timestamp_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                                 std::chrono::system_clock::now().time_since_epoch())
                                 .count();
  RemotingCommand request = remoting::make_request(rc::kSendMessageV2, 0);
  remoting::write_send_message_request(header, &request);
  request.body = *shared.body;
  const bool measured = shared.measuring.load();
  const auto start = Clock::now();
  producer.client->invoke_async(
      std::move(request), 10s,
      [&shared, &producer, measured, start](Result<RemotingCommand> reply) {
        const double ms = std::chrono::duration<double, std::milli>(Clock::now() - start).count();
        shared.completed.fetch_add(1, std::memory_order_relaxed);
        if (!reply.ok() || reply->code != resp::kSuccess) {
          if (measured) ++producer.errors;
          producer.last_error = reply.ok() ? "send answered " + std::to_string(reply->code) +
                                                 (reply->remark ? ": " + *reply->remark : "")
                                           : reply.error().message;
          // A lost connection (or an unencodable request) ends this producer; a timeout does not.
          if (!reply.ok() && reply.error().code != ErrorCode::kTimeout) {
            return producer_stopped(shared);
          }
        } else if (measured && shared.measuring.load()) {
          producer.latencies_ms.push_back(ms);
        }
        send_next(shared, producer);
      });
}

}  // namespace

int run_produce_bench(const ProduceBenchOptions& options) {
  if (options.keep_dir) ::setenv("DLEDGER_KEEP_TEST_DIRS", "1", 1);
  BrokerGroupOptions group_options;
  group_options.namesrv_binary =
      options.namesrv_binary.empty() ? sibling_binary("dledger-namesrv") : options.namesrv_binary;
  group_options.broker_binary =
      options.broker_binary.empty() ? sibling_binary("dledger-broker") : options.broker_binary;
  group_options.replicas = options.replicas;
  std::string flush_mode = "sync";
  // The bench's defaults first: a later line wins, so -p key=value overrides them.
  group_options.extra_config += "logLevel = warn\n";
  for (const std::string& property : options.properties) {
    group_options.extra_config += property + "\n";
    if (property.rfind("flushMode=", 0) == 0) flush_mode = property.substr(10);
  }
  BrokerGroup group(group_options);
  if (Status started = group.start_all(); !started.ok()) {
    std::cerr << "dledger-bench produce: " << started.error().message << "\n";
    return 1;
  }
  auto leader = group.wait_for_leader(group.ids(), 60s);
  if (!leader.ok()) {
    std::cerr << "dledger-bench produce: " << leader.error().message << "\n";
    return 1;
  }
  auto master = prepare_topic(group, *leader, options.queues);
  if (!master.ok()) {
    std::cerr << "dledger-bench produce: " << master.error().message << " (logs in " << group.dir()
              << ")\n";
    return 1;
  }

  std::string target = *master;
  if (options.via_follower) {
    for (int id : group.ids()) {
      if (id != *leader) {
        target = group.broker_address(id);
        break;
      }
    }
    if (target == *master) {
      std::cerr << "dledger-bench produce: --via-follower needs --replicas 2 or more\n";
      return 2;
    }
  }

  const std::string body(static_cast<std::size_t>(options.message_bytes), 'm');
  const int connection_count = std::min(options.connections, options.producers);
  std::vector<std::unique_ptr<frontend::RemotingClient>> connections;
  for (int c = 0; c < connection_count; ++c) {
    auto client = frontend::RemotingClient::connect(target);
    if (!client.ok()) {
      std::cerr << "dledger-bench produce: cannot connect to " << target << ": "
                << client.error().message << "\n";
      return 1;
    }
    connections.push_back(std::move(client).value());
  }
  auto properties = remoting::encode_message_properties({{"WAIT", "true"}});
  if (!properties.ok()) {
    std::cerr << "dledger-bench produce: " << properties.error().message << "\n";
    return 1;
  }
  std::vector<ProducerState> producers(static_cast<std::size_t>(options.producers));
  LoopShared shared;
  shared.body = &body;
  shared.queues = options.queues;
  shared.header.producer_group = "bench_producer";
  shared.header.topic = kBenchTopic;
  shared.header.default_topic = "TBW102";
  shared.header.default_topic_queue_nums = 4;
  shared.header.properties = *properties;
  shared.running = options.producers;
  for (int p = 0; p < options.producers; ++p) {
    ProducerState& producer = producers[static_cast<std::size_t>(p)];
    producer.index = p;
    producer.client = connections[static_cast<std::size_t>(p % connection_count)].get();
    send_next(shared, producer);
  }

  const std::vector<int> broker_ids = group.ids();
  auto cpu_now = [&] {
    CpuSample sample;
    for (int id : broker_ids) sample.brokers_s += group.broker_cpu_seconds(id).value_or(0);
    sample.client_s = process_cpu_seconds(::getpid()).value_or(0);
    return sample;
  };
  std::this_thread::sleep_for(std::chrono::duration<double>(options.warmup_s));
  const std::uint64_t sent_before = shared.completed.load();
  const CpuSample cpu_before = cpu_now();
  shared.measuring = true;
  const auto measure_start = Clock::now();
  std::this_thread::sleep_for(std::chrono::duration<double>(options.duration_s));
  shared.measuring = false;
  const double elapsed_s = std::chrono::duration<double>(Clock::now() - measure_start).count();
  const CpuSample cpu_after = cpu_now();
  const std::uint64_t completed_in_window = shared.completed.load() - sent_before;
  {
    shared.stop = true;
    std::unique_lock<std::mutex> lock(shared.mu);
    // Every producer has at most one send outstanding, answered or timed out within 10 s.
    shared.all_stopped.wait(lock, [&] { return shared.running == 0; });
  }
  for (auto& client : connections) client->close();

  std::vector<double> latencies;
  std::uint64_t errors = 0;
  std::string last_error;
  for (ProducerState& r : producers) {
    latencies.insert(latencies.end(), r.latencies_ms.begin(), r.latencies_ms.end());
    errors += r.errors;
    if (!r.last_error.empty()) last_error = r.last_error;
  }
  std::sort(latencies.begin(), latencies.end());
  const double messages = static_cast<double>(latencies.size());
  // CPU per acknowledged send in the window (sends that completed in it, successful or not:
  // each cost the brokers a request). Robust on a shared machine, unlike msgs/s.
  const double per_msg =
      completed_in_window == 0 ? 0.0 : 1e6 / static_cast<double>(completed_in_window);
  nlohmann::json out = {
      {"benchmark", "produce"},
      {"producers", options.producers},
      {"connections", connection_count},
      {"message_bytes", options.message_bytes},
      {"queues", options.queues},
      {"replicas", options.replicas},
      {"flush_mode", flush_mode},
      {"via_follower", options.via_follower},
      {"duration_s", elapsed_s},
      {"messages", latencies.size()},
      {"errors", errors},
      {"msgs_per_s", messages / elapsed_s},
      {"mib_per_s", messages * options.message_bytes / elapsed_s / (1024.0 * 1024.0)},
      {"latency_ms",
       {{"p50", percentile_of_sorted(latencies, 0.5)},
        {"p99", percentile_of_sorted(latencies, 0.99)},
        {"p999", percentile_of_sorted(latencies, 0.999)},
        {"max", latencies.empty() ? 0.0 : latencies.back()}}},
      {"brokers_cpu_us_per_msg", (cpu_after.brokers_s - cpu_before.brokers_s) * per_msg},
      {"client_cpu_us_per_msg", (cpu_after.client_s - cpu_before.client_s) * per_msg},
      {"brokers_cpu_cores", (cpu_after.brokers_s - cpu_before.brokers_s) / elapsed_s},
      {"client_cpu_cores", (cpu_after.client_s - cpu_before.client_s) / elapsed_s}};
  if (!last_error.empty()) out["last_error"] = last_error;
  std::cout << out.dump(2) << std::endl;
  if (latencies.empty()) {
    std::cerr << "dledger-bench produce: no send succeeded (logs in " << group.dir() << ")\n";
    return 1;
  }
  return 0;
}

}  // namespace dledger::bench
