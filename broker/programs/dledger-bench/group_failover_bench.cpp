#include "broker/programs/dledger-bench/group_failover_bench.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <thread>

#include "broker/admin/admin_client.h"
#include "broker/frontend/remoting_client.h"
#include "broker/programs/dledger-bench/bench_stats.h"
#include "broker/programs/dledger-bench/broker_group.h"
#include "broker/programs/dledger-bench/tcp_forwarder.h"
#include "broker/programs/dledger-bench/topic_route.h"
#include "broker/remoting/codes.h"
#include "broker/remoting/message_codec.h"
#include "broker/remoting/message_properties.h"
#include "broker/remoting/pull_header.h"
#include "broker/remoting/send_header.h"

namespace dledger::bench {
namespace {

using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;
namespace fs = std::filesystem;
namespace rc = remoting::request_code;
namespace resp = remoting::response_code;
using nlohmann::json;
using remoting::RemotingCommand;

constexpr const char* kFailoverTopic = "GroupFailoverTopic";

json percentiles(std::vector<double> values) {
  if (values.empty()) return {{"p50", nullptr}, {"p99", nullptr}, {"max", nullptr}};
  std::sort(values.begin(), values.end());
  return {{"p50", percentile_of_sorted(values, 0.5)},
          {"p99", percentile_of_sorted(values, 0.99)},
          {"max", values.back()}};
}

// The body of message `seq`: recognisable and different for every message.
std::string message_body(std::uint64_t seq, std::size_t bytes) {
  std::string body = "gf-" + std::to_string(seq) + "-";
  for (std::size_t i = body.size(); i < bytes; ++i) {
    body.push_back(static_cast<char>('a' + (seq + i) % 26));
  }
  body.resize(bytes);
  return body;
}

// The producer: one synchronous send at a time to `address`; on any failure it reconnects and
// resends the same message at once. Every outcome is recorded with its issue and completion time.
class Producer {
 public:
  struct Ack {
    std::uint64_t seq = 0;
    std::int32_t queue_id = 0;
    std::int64_t queue_offset = 0;
    Clock::time_point issued;
    Clock::time_point done;
  };
  struct Failure {
    Clock::time_point done;
    std::string kind;  // "timeout", "connection_lost", "connect_failed", "code_<n>", "bad_reply"
  };

  Producer(std::string address, int queues, std::size_t message_bytes,
           std::chrono::milliseconds send_timeout)
      : address_(std::move(address)),
        queues_(queues),
        message_bytes_(message_bytes),
        send_timeout_(send_timeout) {}
  ~Producer() { stop(); }

  void start() {
    thread_ = std::thread([this] { run(); });
  }
  void stop() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
  }

  // Waits (bounded) until `predicate(acks)` holds; false on timeout.
  template <typename Predicate>
  bool wait_acks(Predicate predicate, std::chrono::milliseconds limit) {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, limit, [&] { return predicate(acks_); });
  }
  std::vector<Ack> acks() const {
    std::lock_guard lock(mu_);
    return acks_;
  }
  std::vector<Failure> failures() const {
    std::lock_guard lock(mu_);
    return failures_;
  }
  std::uint64_t reconnects() const { return reconnects_.load(); }

 private:
  void record_failure(std::string kind) {
    std::lock_guard lock(mu_);
    failures_.push_back({Clock::now(), std::move(kind)});
  }

  void run() {
    std::unique_ptr<frontend::RemotingClient> client;
    remoting::SendMessageRequest header;
    header.producer_group = "gfbench_producer";
    header.topic = kFailoverTopic;
    header.default_topic = "TBW102";
    header.default_topic_queue_nums = 4;
    auto properties = remoting::encode_message_properties({{"WAIT", "true"}});
    if (properties.ok()) header.properties = *properties;
    std::uint64_t seq = 0;
    while (!stop_) {
      if (!client || !client->is_open()) {
        if (client) client->close();
        client.reset();
        frontend::RemotingClient::Options options;
        options.connect_timeout = 1000ms;
        auto connected = frontend::RemotingClient::connect(address_, options);
        if (!connected.ok()) {
          record_failure("connect_failed");
          std::this_thread::sleep_for(1ms);
          continue;
        }
        client = std::move(connected).value();
        ++reconnects_;
      }
      header.queue_id = static_cast<std::int32_t>(seq % static_cast<std::uint64_t>(queues_));
      header.born_timestamp_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                                     std::chrono::system_clock::now().time_since_epoch())
                                     .count();
      RemotingCommand request = remoting::make_request(rc::kSendMessageV2, 0);
      remoting::write_send_message_request(header, &request);
      request.body = message_body(seq, message_bytes_);
      const auto issued = Clock::now();
      auto reply = client->invoke_sync(std::move(request), send_timeout_);
      const auto done = Clock::now();
      std::optional<remoting::SendMessageResponse> sent;
      std::string failure;
      if (!reply.ok()) {
        failure = reply.error().code == ErrorCode::kTimeout ? "timeout" : "connection_lost";
      } else if (reply->code != resp::kSuccess) {
        failure = "code_" + std::to_string(reply->code);
      } else if (auto parsed = remoting::parse_send_message_response(*reply); parsed.ok()) {
        sent = *parsed;
      } else {
        failure = "bad_reply";
      }
      if (!sent) {
        record_failure(failure);
        client->close();  // reconnect through the group address and resend at once
        continue;
      }
      {
        std::lock_guard lock(mu_);
        acks_.push_back({seq, sent->queue_id, sent->queue_offset, issued, done});
      }
      cv_.notify_all();
      ++seq;
    }
    if (client) client->close();
  }

  const std::string address_;
  const int queues_;
  const std::size_t message_bytes_;
  const std::chrono::milliseconds send_timeout_;
  std::atomic<bool> stop_{false};
  std::atomic<std::uint64_t> reconnects_{0};
  std::thread thread_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::vector<Ack> acks_;
  std::vector<Failure> failures_;
};

// The forwarder's backend list: every replica, or (with readiness polling) those whose /readyz
// answered 200 at the last poll, as a Service's endpoints follow its pods' readiness.
class Backends {
 public:
  void set_all(std::vector<std::string> remoting, std::vector<std::string> admin) {
    std::lock_guard lock(mu_);
    remoting_ = std::move(remoting);
    admin_ = std::move(admin);
    ready_.assign(remoting_.size(), true);
  }
  std::vector<std::string> current() const {
    std::lock_guard lock(mu_);
    std::vector<std::string> out;
    for (std::size_t i = 0; i < remoting_.size(); ++i) {
      if (ready_[i]) out.push_back(remoting_[i]);
    }
    return out;
  }
  void start_readiness_poll(std::chrono::milliseconds period) {
    poller_ = std::thread([this, period] {
      admin::AdminClientOptions options;
      options.timeout = 500ms;
      admin::AdminClient client(options);
      while (!stop_) {
        std::vector<std::string> admin;
        {
          std::lock_guard lock(mu_);
          admin = admin_;
        }
        std::vector<bool> ready;
        for (const std::string& address : admin) {
          auto reply = client.request(address, "GET", "/readyz", "");
          ready.push_back(reply.ok() && reply->status == 200);
        }
        {
          std::lock_guard lock(mu_);
          if (ready.size() == ready_.size()) ready_ = ready;
        }
        std::this_thread::sleep_for(period);
      }
    });
  }
  ~Backends() {
    stop_ = true;
    if (poller_.joinable()) poller_.join();
  }

 private:
  mutable std::mutex mu_;
  std::vector<std::string> remoting_;
  std::vector<std::string> admin_;
  std::vector<bool> ready_;
  std::atomic<bool> stop_{false};
  std::thread poller_;
};

// Every message of `queue` on the broker at `address`, by queue offset (records as stored).
Result<std::map<std::int64_t, remoting::MessageRecord>> read_queue(const std::string& address,
                                                                   int queue) {
  auto client = frontend::RemotingClient::connect(address);
  if (!client.ok()) return client.error();
  std::map<std::int64_t, remoting::MessageRecord> out;
  std::int64_t offset = 0;
  for (;;) {
    remoting::PullMessageRequest pull;
    pull.consumer_group = "gfbench_verifier";
    pull.topic = kFailoverTopic;
    pull.queue_id = queue;
    pull.queue_offset = offset;
    pull.max_msg_nums = 32;
    pull.commit_offset = -1;
    RemotingCommand request = remoting::make_request(rc::kPullMessage, 0);
    remoting::write_pull_message_request(pull, &request);
    auto reply = (*client)->invoke_sync(std::move(request), 10s);
    if (!reply.ok()) return reply.error();
    if (reply->code == resp::kPullNotFound) return out;  // past the last message
    if (reply->code != resp::kSuccess) {
      return make_error(ErrorCode::kInternal, "PULL_MESSAGE " + std::string(kFailoverTopic) + ":" +
                                                  std::to_string(queue) + "@" +
                                                  std::to_string(offset) + " from " + address +
                                                  " answered " + std::to_string(reply->code));
    }
    auto header = remoting::parse_pull_message_response(*reply);
    if (!header.ok()) return header.error();
    std::string_view records = reply->body;
    while (!records.empty()) {
      std::size_t used = 0;
      auto record = remoting::decode_message_record(records, &used);
      if (!record.ok()) return record.error();
      records.remove_prefix(used);
      out[record->queue_offset] = std::move(record).value();
    }
    if (header->next_begin_offset <= offset) return out;
    offset = header->next_begin_offset;
  }
}

struct ReplicaCheck {
  std::uint64_t stored = 0;  // messages in the topic on this replica
  std::uint64_t missing = 0;
  std::uint64_t wrong_body = 0;
  std::string error;
  bool ok() const { return error.empty() && missing == 0 && wrong_body == 0; }
};

// Every acknowledged (queue, offset) must hold the body that was sent.
ReplicaCheck check_replica(const std::string& address, int queues,
                           const std::vector<Producer::Ack>& acks, std::size_t message_bytes) {
  ReplicaCheck check;
  std::vector<std::map<std::int64_t, remoting::MessageRecord>> stored;
  for (int queue = 0; queue < queues; ++queue) {
    auto read = read_queue(address, queue);
    if (!read.ok()) {
      check.error = read.error().to_string();
      return check;
    }
    check.stored += read->size();
    stored.push_back(std::move(read).value());
  }
  for (const Producer::Ack& ack : acks) {
    if (ack.queue_id < 0 || ack.queue_id >= queues) {
      ++check.missing;
      continue;
    }
    const auto& queue = stored[static_cast<std::size_t>(ack.queue_id)];
    auto found = queue.find(ack.queue_offset);
    if (found == queue.end()) {
      ++check.missing;
    } else if (found->second.body != message_body(ack.seq, message_bytes)) {
      ++check.wrong_body;
    }
  }
  return check;
}

std::string sibling(const std::string& name) {
  std::error_code ec;
  fs::path self = fs::read_symlink("/proc/self/exe", ec);
  return ec ? name : (self.parent_path().parent_path() / name / name).string();
}

struct TrialResult {
  json report;
  std::optional<double> first_success_ms;
  std::optional<double> longest_gap_ms;
};

// Kills the master once and measures what the producer sees (see the header).
TrialResult run_trial(int trial, BrokerGroup& group, Producer& producer,
                      const GroupFailoverOptions& options) {
  TrialResult result;
  json& report = result.report;
  report["trial"] = trial;
  auto leader = group.wait_for_leader(group.ids(), 60s);
  if (!leader.ok()) {
    report["error"] = "no leader before the kill: " + leader.error().message;
    return result;
  }
  const auto old_status = group.status(*leader);
  const std::uint64_t old_term = old_status.ok() ? old_status->term : 0;
  // Steady sending through this leader for --steady-ms.
  const std::size_t acked_before = producer.acks().size();
  std::this_thread::sleep_for(std::chrono::milliseconds(options.steady_ms));
  if (!producer.wait_acks([&](const auto& acks) { return acks.size() >= acked_before + 20; },
                          30s)) {
    report["error"] = "the producer is not sending before the kill";
    return result;
  }
  const auto kill_time = Clock::now();
  group.kill9_broker(*leader);
  report["killed"] = "n" + std::to_string(*leader);

  // Poll the survivors for the new leader while waiting for the producer's first success.
  std::optional<double> new_leader_ms;
  std::string new_leader;
  std::optional<Clock::time_point> first_success;
  const auto give_up = kill_time + 60s;
  while (Clock::now() < give_up && !(first_success && new_leader_ms)) {
    if (!new_leader_ms) {
      for (int id : group.ids()) {
        if (id == *leader) continue;
        auto status = group.status(id);
        if (status.ok() && status->role == "leader" && status->term > old_term) {
          new_leader_ms = ms_between(kill_time, Clock::now());
          new_leader = status->self_id;
        }
      }
    }
    if (!first_success) {
      producer.wait_acks(
          [&](const auto& acks) {
            for (auto it = acks.rbegin(); it != acks.rend() && it->done > kill_time; ++it) {
              if (it->issued > kill_time) first_success = it->done;
            }
            return first_success.has_value();
          },
          10ms);
    } else {
      std::this_thread::sleep_for(10ms);
    }
  }
  if (!first_success) {
    report["error"] = "no successful send within 60 s of the kill";
    return result;
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(options.settle_ms));
  const auto window_start = kill_time - std::chrono::milliseconds(options.steady_ms);
  const auto window_end = *first_success + std::chrono::milliseconds(options.settle_ms);

  // Longest gap between consecutive successes, and the failures, within the window.
  std::optional<Clock::time_point> previous;
  double longest_gap_ms = 0;
  for (const auto& ack : producer.acks()) {
    if (ack.done < window_start || ack.done > window_end) continue;
    if (previous) longest_gap_ms = std::max(longest_gap_ms, ms_between(*previous, ack.done));
    previous = ack.done;
  }
  std::map<std::string, int> failures_by_kind;
  int failed_sends = 0;
  for (const auto& failure : producer.failures()) {
    if (failure.done < kill_time || failure.done > window_end) continue;
    ++failures_by_kind[failure.kind];
    ++failed_sends;
  }
  result.first_success_ms = ms_between(kill_time, *first_success);
  result.longest_gap_ms = longest_gap_ms;
  report["kill_to_first_success_ms"] = *result.first_success_ms;
  report["longest_gap_ms"] = longest_gap_ms;
  report["kill_to_new_leader_ms"] = new_leader_ms ? json(*new_leader_ms) : json(nullptr);
  report["new_leader"] = new_leader;
  report["failed_sends"] = failed_sends;
  report["failures_by_kind"] = failures_by_kind;

  // Restart the victim; the next trial starts once it follows and has caught up.
  const auto restart_time = Clock::now();
  if (Status started = group.start_broker(*leader); !started.ok()) {
    report["error"] = "restarting the victim: " + started.error().message;
    return result;
  }
  auto current = group.wait_for_leader(group.ids(), 60s);
  bool caught_up = false;
  const auto catch_up_deadline = Clock::now() + 60s;
  while (current.ok() && !caught_up && Clock::now() < catch_up_deadline) {
    auto leader_status = group.status(*current);
    auto victim_status = group.status(*leader);
    caught_up = leader_status.ok() && victim_status.ok() && victim_status->role == "follower" &&
                victim_status->commit_index >= leader_status->commit_index;
    if (!caught_up) std::this_thread::sleep_for(20ms);
  }
  if (!caught_up) {
    report["error"] = "the restarted victim did not catch up as a follower within 60 s";
    result.first_success_ms.reset();
    return result;
  }
  report["victim_rejoined_ms"] = ms_between(restart_time, Clock::now());
  std::cerr << "trial " << trial << ": killed n" << *leader << ", new leader after "
            << (new_leader_ms ? *new_leader_ms : -1) << " ms, first success after "
            << *result.first_success_ms << " ms, longest gap " << longest_gap_ms << " ms\n";
  return result;
}

}  // namespace

int run_group_failover_bench(const GroupFailoverOptions& options) {
  if (options.keep_dir) ::setenv("DLEDGER_KEEP_TEST_DIRS", "1", 1);
  auto fail = [](const std::string& why) {
    std::cerr << "dledger-bench group-failover: " << why << "\n";
    return 1;
  };
  Backends backends;
  TcpForwarder::Options forwarder_options;
  forwarder_options.backends = [&backends] { return backends.current(); };
  auto forwarder = TcpForwarder::start(forwarder_options);
  if (!forwarder.ok()) return fail(forwarder.error().message);
  const std::string group_address = (*forwarder)->address();

  BrokerGroupOptions group_options;
  group_options.namesrv_binary =
      options.namesrv_binary.empty() ? sibling("dledger-namesrv") : options.namesrv_binary;
  group_options.broker_binary =
      options.broker_binary.empty() ? sibling("dledger-broker") : options.broker_binary;
  group_options.replicas = options.replicas;
  group_options.extra_config = "brokerGroupAddress = " + group_address + "\nlogLevel = warn\n";
  for (const std::string& property : options.properties) {
    group_options.extra_config += property + "\n";
  }
  BrokerGroup group(group_options);
  std::vector<std::string> remoting_addresses;
  std::vector<std::string> admin_addresses;
  for (int id : group.ids()) {
    remoting_addresses.push_back(group.broker_address(id));
    admin_addresses.push_back(group.admin_address(id));
  }
  backends.set_all(remoting_addresses, admin_addresses);
  if (options.readiness_poll_ms > 0) {
    backends.start_readiness_poll(std::chrono::milliseconds(options.readiness_poll_ms));
  }
  if (Status started = group.start_all(); !started.ok()) return fail(started.error().message);
  if (auto leader = group.wait_for_leader(group.ids(), 60s); !leader.ok()) {
    return fail(leader.error().message);
  }
  // The topic is created through the group address (any replica; followers forward it).
  auto master = create_topic_and_wait_for_master(group_address, group.namesrv_address(),
                                                 kFailoverTopic, options.queues, 60s);
  if (!master.ok()) return fail(master.error().message + " (logs in " + group.dir() + ")");
  if (*master != group_address) {
    return fail("the route names " + *master + " as master, not the group address " +
                group_address + " (logs in " + group.dir() + ")");
  }

  Producer producer(*master, options.queues, static_cast<std::size_t>(options.message_bytes),
                    std::chrono::milliseconds(options.send_timeout_ms));
  producer.start();
  if (!producer.wait_acks([](const auto& acks) { return acks.size() >= 20; }, 60s)) {
    producer.stop();
    return fail("no send succeeded through " + *master + " (logs in " + group.dir() + ")");
  }

  json trials = json::array();
  std::vector<double> first_success_ms;
  std::vector<double> longest_gap_ms;
  std::string trial_error;
  for (int trial = 0; trial < options.trials; ++trial) {
    TrialResult result = run_trial(trial, group, producer, options);
    trials.push_back(result.report);
    if (result.report.contains("error")) {
      trial_error = "trial " + std::to_string(trial) + ": " +
                    result.report["error"].get<std::string>() + " (logs in " + group.dir() + ")";
      break;
    }
    first_success_ms.push_back(*result.first_success_ms);
    longest_gap_ms.push_back(*result.longest_gap_ms);
  }
  producer.stop();
  const auto acks = producer.acks();
  const auto failures = producer.failures();

  // Read every acknowledged message back from every running replica (each has caught up unless
  // a trial failed; a follower that is still applying gets a few more seconds).
  json replica_reports = json::array();
  bool verified = true;
  for (int id : group.ids()) {
    if (!group.broker_running(id)) continue;
    ReplicaCheck check;
    const auto deadline = Clock::now() + 30s;
    do {
      check = check_replica(group.broker_address(id), options.queues, acks,
                            static_cast<std::size_t>(options.message_bytes));
      if (!check.ok()) std::this_thread::sleep_for(200ms);
    } while (!check.ok() && Clock::now() < deadline);
    json entry = {{"replica", "n" + std::to_string(id)},
                  {"stored", check.stored},
                  {"missing", check.missing},
                  {"wrong_body", check.wrong_body},
                  {"ok", check.ok()}};
    if (!check.error.empty()) entry["error"] = check.error;
    replica_reports.push_back(entry);
    verified = verified && check.ok() && check.stored >= acks.size();
  }
  verified = verified && !replica_reports.empty();

  const auto stats = (*forwarder)->stats();
  json out = {{"benchmark", "group-failover"},
              {"replicas", options.replicas},
              {"message_bytes", options.message_bytes},
              {"queues", options.queues},
              {"send_timeout_ms", options.send_timeout_ms},
              {"group_address", group_address},
              {"route_master_address", *master},
              {"readiness_poll_ms", options.readiness_poll_ms},
              {"trials", trials},
              {"completed_trials", first_success_ms.size()},
              {"kill_to_first_success_ms", percentiles(first_success_ms)},
              {"longest_gap_ms", percentiles(longest_gap_ms)},
              {"acknowledged", acks.size()},
              {"failed_sends", failures.size()},
              {"producer_connections", producer.reconnects()},
              {"forwarder",
               {{"accepted", stats.accepted},
                {"paired", stats.paired},
                {"backend_connect_failures", stats.backend_connect_failures},
                {"closed_without_backend", stats.closed_without_backend}}},
              {"verification", {{"ok", verified}, {"replicas", replica_reports}}}};
  std::cout << out.dump(2) << std::endl;
  if (!trial_error.empty()) return fail(trial_error);
  if (!verified)
    return fail("an acknowledged message is missing or differs (logs in " + group.dir() + ")");
  return 0;
}

}  // namespace dledger::bench
