// Horizontal scale with real processes on 127.0.0.1: one dledger-namesrv and TWO 3-replica
// DLedger groups, broker-a and broker-b, with the same brokerClusterName form one cluster.
//   - clusterList shows both groups, each with exactly one BID 0;
//   - `updateTopic -c <cluster>` creates the topic on both groups and the name server's route
//     (GET_ROUTEINFO_BY_TOPIC) lists 4 queues on each and both masters;
//   - dledgerctl sendMessage (round-robin over the route's writable queues, as a RocketMQ
//     producer) spreads messages over both groups; every message reads back from the group and
//     at the queue offset its acknowledgement named; the queues' max offsets agree;
//   - kill -9 broker-a's master: broker-b accepts every write sent to it meanwhile, broker-a
//     elects a new master, the route names it, and no acknowledged message is lost on either group.
// Every wait is bounded polling with a generous limit; nothing asserts a duration.
#include <gtest/gtest.h>

#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include "broker/frontend/remoting_client.h"
#include "broker/programs/dledger-bench/broker_group.h"
#include "broker/remoting/codes.h"
#include "broker/remoting/route_data.h"
#include "broker/remoting/send_header.h"
#include "tests/broker/broker_requests.h"
#include "tests/broker/process/process_test_support.h"
#include "tests/common/test_net.h"

namespace dledger {
namespace {

using bench::BrokerGroup;
using nlohmann::json;
using testing::CtlRun;
using namespace std::chrono_literals;

constexpr const char* kCluster = "ScaleCluster";
constexpr const char* kGroupA = "broker-a";
constexpr const char* kGroupB = "broker-b";
constexpr const char* kTopic = "ScaleTopic";
constexpr int kQueuesPerGroup = 4;
constexpr auto kRequestTimeout = 5s;

// An acknowledged send: which group stored it, where, and the UNIQ_KEY it carries.
struct Acked {
  std::string broker_name;
  int queue_id = 0;
  std::int64_t queue_offset = 0;
  std::string uniq_key;
};

// One request to `address` on a fresh connection.
Result<remoting::RemotingCommand> ask(const std::string& address,
                                      remoting::RemotingCommand request) {
  auto client = frontend::RemotingClient::connect(address);
  if (!client.ok()) return client.error();
  return (*client)->invoke_sync(std::move(request), kRequestTimeout);
}

// GET_ROUTEINFO_BY_TOPIC from the name server, parsed.
Result<remoting::TopicRouteData> topic_route(const std::string& namesrv, const std::string& topic) {
  remoting::RemotingCommand request =
      remoting::make_request(remoting::request_code::kGetRouteinfoByTopic, 0);
  request.ext_fields["topic"] = topic;
  auto reply = ask(namesrv, std::move(request));
  if (!reply.ok()) return reply.error();
  if (reply->code != remoting::response_code::kSuccess) {
    return make_error(ErrorCode::kNotFound,
                      "GET_ROUTEINFO_BY_TOPIC " + topic + ": code " + std::to_string(reply->code));
  }
  return remoting::parse_topic_route_data(reply->body);
}

// The master (BID 0) address of `broker_name` in `route`, "" when it has none.
std::string route_master(const remoting::TopicRouteData& route, const std::string& broker_name) {
  for (const remoting::BrokerData& data : route.broker_datas) {
    if (data.broker_name != broker_name) continue;
    auto master = data.broker_addrs.find(remoting::kMasterBrokerId);
    return master == data.broker_addrs.end() ? std::string() : master->second;
  }
  return "";
}

// GET_MAX_OFFSET of one queue on `address`; -1 when it did not answer with an offset.
std::int64_t max_offset(const std::string& address, const std::string& topic, int queue_id) {
  remoting::RemotingCommand request =
      remoting::make_request(remoting::request_code::kGetMaxOffset, 0);
  request.ext_fields["topic"] = topic;
  request.ext_fields["queueId"] = std::to_string(queue_id);
  auto reply = ask(address, std::move(request));
  if (!reply.ok() || reply->code != remoting::response_code::kSuccess) return -1;
  auto offset = reply->ext_fields.find("offset");
  if (offset == reply->ext_fields.end()) return -1;
  return std::stoll(offset->second);
}

class ScaleOutTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const bench::BrokerGroupOptions a = testing::fast_group_options(kCluster, kGroupA);
    group_a_ = std::make_unique<BrokerGroup>(a);
    ASSERT_TRUE(group_a_->start_all().ok());  // the cluster's one name server, then broker-a

    // broker-b registers with broker-a's name server: its broker.conf ends with a second
    // namesrvAddr line, and in broker.conf the last occurrence of a key wins. Its own group
    // object's name server is never started.
    bench::BrokerGroupOptions b = a;
    b.broker_name = kGroupB;
    b.extra_config = std::string(testing::kFastBrokerTimers) + "namesrvAddr = " + namesrv() + "\n";
    group_b_ = std::make_unique<BrokerGroup>(b);
    for (int id : group_b_->ids()) ASSERT_TRUE(group_b_->start_broker(id).ok());
  }

  std::string namesrv() const { return group_a_->namesrv_address(); }

  CtlRun ctl(std::vector<std::string> args) {
    args.push_back("-n");
    args.push_back(namesrv());
    return testing::run_dledgerctl(group_a_->dir(), std::move(args));
  }

  // Both groups registered with all three replicas and exactly one master each, a leader.
  static bool both_groups_have_one_master(const json& rows) {
    if (rows.size() != 6) return false;
    for (const char* name : {kGroupA, kGroupB}) {
      auto masters = testing::master_rows(rows, name);
      if (masters.size() != 1 || masters[0].value("role", "") != "leader") return false;
    }
    return true;
  }

  // Sends `count` messages through `dledgerctl sendMessage --count`, which picks the route's
  // writable queues round-robin; records every acknowledgement.
  void produce_round_robin(const std::string& body, int count) {
    CtlRun run =
        ctl({"sendMessage", "-t", kTopic, "-p", body, "--count", std::to_string(count), "--json"});
    ASSERT_EQ(run.exit_code, 0) << run.err;
    std::istringstream lines(run.out);
    std::string line;
    int acks = 0;
    while (std::getline(lines, line)) {
      json ack = json::parse(line, nullptr, false);
      ASSERT_TRUE(ack.is_object()) << line;
      ASSERT_EQ(ack.value("status", ""), "SEND_OK") << line;
      const std::string broker_name = ack.value("brokerName", "");
      EXPECT_EQ(ack.value("address", ""), master_of(broker_name)) << line;
      acked_.push_back({broker_name, ack.value("queueId", -1),
                        ack.value("queueOffset", std::int64_t{-1}), ack.value("uniqKey", "")});
      ++acks;
    }
    ASSERT_EQ(acks, count) << run.out;
  }

  // The master address the route names for `broker_name` now ("" when none).
  std::string master_of(const std::string& broker_name) {
    auto route = topic_route(namesrv(), kTopic);
    return route.ok() ? route_master(*route, broker_name) : std::string();
  }

  // Reads the whole topic back with consumeMessage and checks: every acknowledged message is
  // there once, in the group, queue and offset its acknowledgement named; no position twice;
  // offsets dense from 0 in every queue of every group; the masters' max offsets match.
  void expect_every_ack_readable() {
    CtlRun run = ctl({"consumeMessage", "-t", kTopic, "--max", "100000", "--json"});
    ASSERT_EQ(run.exit_code, 0) << run.err;
    json messages = json::parse(run.out, nullptr, false);
    ASSERT_TRUE(messages.is_array()) << run.out;
    using Position = std::tuple<std::string, int, std::int64_t>;
    std::map<Position, std::string> by_position;
    std::map<std::pair<std::string, int>, std::set<std::int64_t>> offsets;
    for (const json& m : messages) {
      const Position position{m.value("brokerName", ""), m.value("queueId", -1),
                              m.value("queueOffset", std::int64_t{-1})};
      EXPECT_TRUE(by_position.emplace(position, m.value("uniqKey", "")).second)
          << std::get<0>(position) << " queue " << std::get<1>(position) << " offset "
          << std::get<2>(position) << " read twice";
      offsets[{std::get<0>(position), std::get<1>(position)}].insert(std::get<2>(position));
    }
    for (const auto& [queue, seen] : offsets) {
      EXPECT_EQ(*seen.begin(), 0) << queue.first << " queue " << queue.second;
      EXPECT_EQ(*seen.rbegin(), static_cast<std::int64_t>(seen.size()) - 1)
          << queue.first << " queue " << queue.second << " has a gap";
      const std::string master = master_of(queue.first);
      EXPECT_EQ(max_offset(master, kTopic, queue.second), static_cast<std::int64_t>(seen.size()))
          << queue.first << " queue " << queue.second << " on " << master;
    }
    for (const Acked& ack : acked_) {
      auto found = by_position.find({ack.broker_name, ack.queue_id, ack.queue_offset});
      ASSERT_NE(found, by_position.end())
          << "acknowledged " << ack.uniq_key << " (" << ack.broker_name << " queue " << ack.queue_id
          << " offset " << ack.queue_offset << ") is missing";
      EXPECT_EQ(found->second, ack.uniq_key);
    }
  }

  std::map<std::string, int> acks_per_group() const {
    std::map<std::string, int> count;
    for (const Acked& ack : acked_) ++count[ack.broker_name];
    return count;
  }

  std::unique_ptr<BrokerGroup> group_a_;
  std::unique_ptr<BrokerGroup> group_b_;
  std::vector<Acked> acked_;
};

// Sends to one master without pause on its own connection until stopped; every send must be
// acknowledged. Queues are taken round-robin.
class SteadyWriter {
 public:
  SteadyWriter(std::string broker_name, std::string address)
      : broker_name_(std::move(broker_name)), address_(std::move(address)) {
    thread_ = std::thread([this] { run(); });
  }
  ~SteadyWriter() { stop(); }

  void stop() {
    stopping_ = true;
    if (thread_.joinable()) thread_.join();
  }
  int sent() const { return sent_; }
  std::vector<Acked> acked() const { return acked_; }
  std::vector<std::string> failures() const { return failures_; }

 private:
  void run() {
    auto client = frontend::RemotingClient::connect(address_);
    if (!client.ok()) {
      failures_.push_back(address_ + ": " + client.error().message);
      return;
    }
    for (int i = 0; !stopping_; ++i) {
      const std::string key = broker_name_ + "-steady-" + std::to_string(i);
      const int queue_id = i % kQueuesPerGroup;
      auto reply = (*client)->invoke_sync(
          broker::testing::send_message_request(kTopic, queue_id, key, "", {{"UNIQ_KEY", key}}),
          kRequestTimeout);
      if (!reply.ok() || reply->code != remoting::response_code::kSuccess) {
        failures_.push_back(
            key + ": " +
            (reply.ok() ? "code " + std::to_string(reply->code) : reply.error().message));
        continue;
      }
      auto parsed = remoting::parse_send_message_response(*reply);
      if (!parsed.ok()) {
        failures_.push_back(key + ": " + parsed.error().message);
        continue;
      }
      acked_.push_back({broker_name_, parsed->queue_id, parsed->queue_offset, key});
      ++sent_;
    }
  }

  std::string broker_name_;
  std::string address_;
  std::atomic<bool> stopping_{false};
  std::atomic<int> sent_{0};
  std::vector<Acked> acked_;           // read after stop()
  std::vector<std::string> failures_;  // read after stop()
  std::thread thread_;
};

TEST_F(ScaleOutTest, TwoGroupsShareOneClusterAndSurviveAMasterKill) {
  // 1-2. clusterList: both groups of one cluster, three replicas each, exactly one BID 0 each.
  json rows = testing::wait_for_cluster(group_a_->dir(), namesrv(), both_groups_have_one_master);
  ASSERT_TRUE(both_groups_have_one_master(rows));
  std::map<std::string, int> replicas;
  for (const json& row : rows) {
    EXPECT_EQ(row.value("cluster", ""), kCluster);
    ++replicas[row.value("brokerName", "")];
  }
  EXPECT_EQ(replicas, (std::map<std::string, int>{{kGroupA, 3}, {kGroupB, 3}}));
  const std::string master_a = testing::master_rows(rows, kGroupA)[0].value("address", "");
  const std::string master_b = testing::master_rows(rows, kGroupB)[0].value("address", "");
  ASSERT_GE(group_a_->id_of_address(master_a), 0) << master_a;
  ASSERT_GE(group_b_->id_of_address(master_b), 0) << master_b;

  // 3. updateTopic -c: the topic on both groups; the route has 4+4 queues and both masters.
  CtlRun created = ctl({"updateTopic", "-c", kCluster, "-t", kTopic, "--read-queues",
                        std::to_string(kQueuesPerGroup), "--write-queues",
                        std::to_string(kQueuesPerGroup), "--json"});
  ASSERT_EQ(created.exit_code, 0) << created.err;
  EXPECT_NE(created.out.find(kGroupA), std::string::npos) << created.out;
  EXPECT_NE(created.out.find(kGroupB), std::string::npos) << created.out;
  remoting::TopicRouteData route;
  ASSERT_TRUE(testing::eventually(
      [&] {
        auto got = topic_route(namesrv(), kTopic);
        if (!got.ok()) return false;
        route = *got;
        return route.queue_datas.size() == 2 && route.broker_datas.size() == 2;
      },
      60s))
      << "the route of " << kTopic << " never named both groups";
  std::map<std::string, remoting::QueueData> queues;
  for (const remoting::QueueData& q : route.queue_datas) queues[q.broker_name] = q;
  for (const char* name : {kGroupA, kGroupB}) {
    ASSERT_EQ(queues.count(name), 1u) << name;
    EXPECT_EQ(queues[name].read_queue_nums, kQueuesPerGroup) << name;
    EXPECT_EQ(queues[name].write_queue_nums, kQueuesPerGroup) << name;
    EXPECT_EQ(queues[name].perm, remoting::perm::kReadWrite) << name;
  }
  EXPECT_EQ(route_master(route, kGroupA), master_a);
  EXPECT_EQ(route_master(route, kGroupB), master_b);

  // 4. A round-robin producer spreads 4 messages over each of the 8 queues.
  constexpr int kRounds = 4;
  produce_round_robin("spread", kRounds * 2 * kQueuesPerGroup);
  std::map<std::pair<std::string, int>, int> per_queue;
  for (const Acked& ack : acked_) ++per_queue[{ack.broker_name, ack.queue_id}];
  for (const char* name : {kGroupA, kGroupB}) {
    for (int q = 0; q < kQueuesPerGroup; ++q) {
      EXPECT_EQ((per_queue[{name, q}]), kRounds) << name << " queue " << q;
      EXPECT_EQ(max_offset(master_of(name), kTopic, q), kRounds) << name << " queue " << q;
    }
  }
  expect_every_ack_readable();

  // 5. kill -9 broker-a's master while a writer keeps sending to broker-b's master.
  SteadyWriter writer(kGroupB, master_b);
  ASSERT_TRUE(testing::eventually([&] { return writer.sent() >= 5; }, 60s));
  group_a_->kill9_broker(group_a_->id_of_address(master_a));
  std::string new_master_a;
  ASSERT_TRUE(testing::eventually(
      [&] {
        new_master_a = master_of(kGroupA);
        return !new_master_a.empty() && new_master_a != master_a;
      },
      60s))
      << "the route never named a new master of " << kGroupA;
  EXPECT_GE(group_a_->id_of_address(new_master_a), 0) << new_master_a;
  EXPECT_EQ(master_of(kGroupB), master_b);
  const int sent_at_failover = writer.sent();
  ASSERT_TRUE(testing::eventually([&] { return writer.sent() >= sent_at_failover + 5; }, 60s));
  writer.stop();
  EXPECT_TRUE(writer.failures().empty()) << writer.failures().size() << " sends to " << kGroupB
                                         << " failed, first: " << writer.failures().front();
  const std::vector<Acked> steady = writer.acked();
  acked_.insert(acked_.end(), steady.begin(), steady.end());

  // clusterList agrees: broker-a has one leader BID 0 (the new one), the old one is gone.
  rows = testing::wait_for_cluster(group_a_->dir(), namesrv(), [&](const json& r) {
    auto masters = testing::master_rows(r, kGroupA);
    return masters.size() == 1 && masters[0].value("address", "") == new_master_a &&
           masters[0].value("role", "") == "leader";
  });
  for (const json& row : rows) EXPECT_NE(row.value("address", ""), master_a);

  // Both groups take the round-robin producer's writes again; nothing acknowledged is lost.
  const auto before = acks_per_group();
  produce_round_robin("after-kill", 2 * 2 * kQueuesPerGroup);
  const auto after = acks_per_group();
  EXPECT_EQ(after.at(kGroupA) - before.at(kGroupA), 2 * kQueuesPerGroup);
  EXPECT_EQ(after.at(kGroupB) - before.at(kGroupB), 2 * kQueuesPerGroup);
  expect_every_ack_readable();
}

}  // namespace
}  // namespace dledger
