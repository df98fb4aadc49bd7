// The seed deployment's drill, automated with real processes on 127.0.0.1: dledger-namesrv and
// three dledger-broker replicas started from broker.conf files in the seed's format, driven only
// through dledgerctl (clusterList, updateTopic, topicList, sendMessage, consumeMessage,
// queryMsgById, queryMsgByKey, queryMsgByUniqueKey), as an operator would:
//   produce and consume; clusterList shows exactly one BID 0; kill -9 the master; clusterList
//   shows a new master; producing and consuming work, and a message the dead master stored is
//   found by its msgId, its key and its UNIQ_KEY; restart the old master: it returns as a
//   slave and catches up; no acknowledged message is lost and no queue offset is used twice.
// Every wait is bounded polling with a generous limit; nothing asserts a duration.
#include <gtest/gtest.h>

#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <vector>

#include "broker/programs/dledger-bench/broker_group.h"
#include "tests/broker/process/process_test_support.h"
#include "tests/common/test_net.h"

namespace dledger {
namespace {

using bench::BrokerGroup;
using nlohmann::json;
using namespace std::chrono_literals;

constexpr const char* kTopic = "DrillTopic";
constexpr const char* kCluster = "RaftCluster";

using testing::CtlRun;

struct Acked {
  std::string body;
  int queue_id = 0;
  std::int64_t queue_offset = 0;
  std::string msg_id;    // offset msgId: names the replica that stored it
  std::string uniq_key;  // the client-generated msgId (UNIQ_KEY)
};

class BrokerDrillTest : public ::testing::Test {
 protected:
  void SetUp() override {
    group_ = std::make_unique<BrokerGroup>(testing::fast_group_options(kCluster, "RaftNode00"));
    ASSERT_TRUE(group_->start_all().ok());
  }

  CtlRun ctl(std::vector<std::string> args) {
    args.push_back("-n");
    args.push_back(group_->namesrv_address());
    return testing::run_dledgerctl(group_->dir(), std::move(args));
  }

  template <typename Condition>
  json wait_for_cluster(Condition condition) {
    return testing::wait_for_cluster(group_->dir(), group_->namesrv_address(), condition);
  }

  static std::vector<json> masters(const json& rows) { return testing::master_rows(rows); }

  // Sends `count` messages "<prefix>-<i>" through dledgerctl sendMessage; records the acks.
  void produce(const std::string& prefix, int count) {
    for (int i = 0; i < count; ++i) {
      const std::string body = prefix + "-" + std::to_string(i);
      CtlRun run = ctl(
          {"sendMessage", "-t", kTopic, "-p", body, "--tags", "drill", "--keys", body, "--json"});
      ASSERT_EQ(run.exit_code, 0) << body << ": " << run.err;
      json ack = json::parse(run.out, nullptr, false);
      ASSERT_TRUE(ack.is_object()) << run.out;
      EXPECT_EQ(ack.value("status", ""), "SEND_OK");
      acked_.push_back({body, ack.value("queueId", -1), ack.value("queueOffset", -1LL),
                        ack.value("msgId", ""), ack.value("uniqKey", "")});
    }
  }

  // Reads the whole topic back with consumeMessage and checks: every acknowledged message is
  // there once, at the queue and offset its acknowledgement named; no (queue, offset) twice;
  // offsets dense from 0 in every queue.
  void expect_every_ack_consumable() {
    CtlRun run = ctl({"consumeMessage", "-t", kTopic, "--max", "100000", "--json"});
    ASSERT_EQ(run.exit_code, 0) << run.err;
    json messages = json::parse(run.out, nullptr, false);
    ASSERT_TRUE(messages.is_array()) << run.out;
    std::map<std::pair<int, std::int64_t>, std::string> by_position;
    std::map<int, std::set<std::int64_t>> offsets;
    for (const json& m : messages) {
      const auto position =
          std::make_pair(m.value("queueId", -1), m.value("queueOffset", std::int64_t{-1}));
      EXPECT_TRUE(by_position.emplace(position, m.value("body", "")).second)
          << "queue " << position.first << " offset " << position.second << " read twice";
      offsets[position.first].insert(position.second);
      EXPECT_EQ(m.value("tags", ""), "drill");
    }
    for (const auto& [queue, seen] : offsets) {
      ASSERT_FALSE(seen.empty());
      EXPECT_EQ(*seen.begin(), 0) << "queue " << queue;
      EXPECT_EQ(*seen.rbegin(), static_cast<std::int64_t>(seen.size()) - 1)
          << "queue " << queue << " has a gap";
    }
    for (const Acked& ack : acked_) {
      auto found = by_position.find({ack.queue_id, ack.queue_offset});
      ASSERT_NE(found, by_position.end())
          << "acknowledged " << ack.body << " (queue " << ack.queue_id << " offset "
          << ack.queue_offset << ") is missing";
      EXPECT_EQ(found->second, ack.body);
    }
  }

  std::unique_ptr<BrokerGroup> group_;
  std::vector<Acked> acked_;
};

TEST_F(BrokerDrillTest, MasterKillFailsOverWithoutLosingAcknowledgedMessages) {
  // A group of three with exactly one master, as clusterList shows it.
  json rows = wait_for_cluster([&](const json& r) {
    return r.size() == 3 && masters(r).size() == 1 && masters(r)[0].value("role", "") == "leader";
  });
  ASSERT_EQ(masters(rows).size(), 1u);
  for (const json& row : rows) {
    EXPECT_EQ(row.value("cluster", ""), kCluster);
    EXPECT_EQ(row.value("brokerName", ""), "RaftNode00");
  }
  const std::string old_master = masters(rows)[0].value("address", "");
  const int old_id = group_->id_of_address(old_master);
  ASSERT_GE(old_id, 0) << old_master;

  CtlRun created = ctl({"updateTopic", "-c", kCluster, "-t", kTopic, "-r", "4", "-w", "4"});
  ASSERT_EQ(created.exit_code, 0) << created.err;
  ASSERT_TRUE(testing::eventually(
      [&] { return ctl({"topicList"}).out.find(kTopic) != std::string::npos; }, 60s))
      << "the name server never listed " << kTopic;

  produce("before", 20);
  expect_every_ack_consumable();

  // kill -9 the master; a new one takes over BID 0.
  group_->kill9_broker(old_id);
  rows = wait_for_cluster([&](const json& r) {
    auto m = masters(r);
    return m.size() == 1 && m[0].value("address", "") != old_master &&
           m[0].value("role", "") == "leader";
  });
  ASSERT_EQ(masters(rows).size(), 1u);
  for (const json& row : rows) EXPECT_NE(row.value("address", ""), old_master);
  const std::string new_master = masters(rows)[0].value("address", "");

  produce("after-kill", 20);
  expect_every_ack_consumable();

  // A message the killed master stored, by its msgId (which names the dead replica):
  // dledgerctl queryMsgById asks the rest of its group.
  CtlRun viewed = ctl({"queryMsgById", "-i", acked_.front().msg_id, "--json"});
  ASSERT_EQ(viewed.exit_code, 0) << viewed.err;
  json message = json::parse(viewed.out, nullptr, false);
  ASSERT_TRUE(message.is_object()) << viewed.out;
  EXPECT_EQ(message.value("body", ""), acked_.front().body);
  EXPECT_EQ(message.value("queueId", -1), acked_.front().queue_id);
  EXPECT_EQ(message.value("queueOffset", std::int64_t{-1}), acked_.front().queue_offset);
  EXPECT_EQ(message.value("brokerName", ""), "RaftNode00");
  EXPECT_NE(message.value("address", ""), old_master);
  // The same message by its key (each message's key is its body) and by its UNIQ_KEY: the
  // surviving replicas answer QUERY_MESSAGE.
  for (const std::vector<std::string>& lookup :
       {std::vector<std::string>{"queryMsgByKey", "-t", kTopic, "-k", acked_.front().body},
        std::vector<std::string>{"queryMsgByUniqueKey", "-t", kTopic, "-i",
                                 acked_.front().uniq_key}}) {
    std::vector<std::string> args = lookup;
    args.push_back("--json");
    CtlRun found = ctl(args);
    ASSERT_EQ(found.exit_code, 0) << lookup[0] << ": " << found.err;
    json messages = json::parse(found.out, nullptr, false);
    ASSERT_TRUE(messages.is_array()) << found.out;
    ASSERT_EQ(messages.size(), 1u) << found.out;
    EXPECT_EQ(messages[0].value("body", ""), acked_.front().body);
    EXPECT_EQ(messages[0].value("msgId", ""), acked_.front().msg_id);
    EXPECT_EQ(messages[0].value("uniqKey", ""), acked_.front().uniq_key);
  }

  // The old master returns as a slave (BID = selfId + 1) and catches up (lag 0, same commit).
  ASSERT_TRUE(group_->start_broker(old_id).ok());
  rows = wait_for_cluster([&](const json& r) {
    if (r.size() != 3 || masters(r).size() != 1) return false;
    for (const json& row : r) {
      if (row.value("address", "") != old_master) continue;
      return row.value("brokerId", -1) == old_id + 1 && row.value("role", "") == "follower" &&
             row["lag"].is_number() && row["lag"].get<std::int64_t>() == 0;
    }
    return false;
  });
  EXPECT_EQ(masters(rows).size(), 1u);
  EXPECT_EQ(masters(rows)[0].value("address", ""), new_master);

  produce("after-rejoin", 10);
  expect_every_ack_consumable();
  // The rejoined replica has every acknowledged entry: its commit index reaches the master's.
  auto master_status = group_->status(group_->id_of_address(new_master));
  ASSERT_TRUE(master_status.ok());
  EXPECT_TRUE(testing::eventually(
      [&] {
        auto s = group_->status(old_id);
        return s.ok() && s->commit_index >= master_status->commit_index &&
               s->last_index >= master_status->last_index;
      },
      60s))
      << "the old master never caught up to index " << master_status->last_index;
  EXPECT_EQ(acked_.size(), 50u);
}

// mqadmin's topicStatus / consumerProgress habits: dledgerctl asks the brokers GET_TOPIC_STATS_INFO
// (202) and GET_CONSUME_STATS (208) and the numbers match what was produced and consumed.
TEST_F(BrokerDrillTest, TopicStatusAndConsumerProgressMatchWhatWasProducedAndConsumed) {
  wait_for_cluster([&](const json& r) { return r.size() == 3 && masters(r).size() == 1; });
  CtlRun created = ctl({"updateTopic", "-c", kCluster, "-t", kTopic, "-r", "4", "-w", "4"});
  ASSERT_EQ(created.exit_code, 0) << created.err;
  ASSERT_TRUE(testing::eventually(
      [&] { return ctl({"topicList"}).out.find(kTopic) != std::string::npos; }, 60s));
  produce("progress", 12);

  // dledgerctl asks the master first but takes a follower's answer when the master is slow to
  // answer (a loaded sanitizer run); a follower may not have applied the last sends yet, so
  // poll until the figures add up, then check every field of the last answer.
  CtlRun status;
  json queues;
  EXPECT_TRUE(testing::eventually(
      [&] {
        status = ctl({"topicStatus", "-t", kTopic, "--json"});
        queues = json::parse(status.out, nullptr, false);
        std::int64_t total = 0;
        for (const json& q : queues.is_array() ? queues : json::array()) {
          total += q.value("maxOffset", std::int64_t{0});
        }
        return status.exit_code == 0 && total == 12;
      },
      30s));
  ASSERT_EQ(status.exit_code, 0) << status.err;
  ASSERT_TRUE(queues.is_array()) << status.out;
  ASSERT_EQ(queues.size(), 4u) << status.out;
  std::int64_t stored = 0;
  for (const json& q : queues) {
    EXPECT_EQ(q.value("brokerName", ""), "RaftNode00");
    EXPECT_EQ(q.value("minOffset", std::int64_t{-1}), 0);
    const auto max = q.value("maxOffset", std::int64_t{-1});
    stored += max;
    EXPECT_EQ(q.value("lastUpdateTimestamp", std::int64_t{0}) > 0, max > 0) << q.dump();
  }
  EXPECT_EQ(stored, 12);

  // A group consumes 5 messages and commits; 7 remain.
  CtlRun consumed = ctl({"consumeMessage", "-t", kTopic, "-g", "drill-group", "--max", "5"});
  ASSERT_EQ(consumed.exit_code, 0) << consumed.err;
  CtlRun progress;
  json report;
  EXPECT_TRUE(testing::eventually(
      [&] {
        progress = ctl({"consumerProgress", "-g", "drill-group", "--json"});
        report = json::parse(progress.out, nullptr, false);
        return progress.exit_code == 0 && report.is_object() &&
               report.value("diffTotal", std::int64_t{-1}) == 7;
      },
      30s));
  ASSERT_EQ(progress.exit_code, 0) << progress.err;
  ASSERT_TRUE(report.is_object()) << progress.out;
  EXPECT_EQ(report.value("consumerGroup", ""), "drill-group");
  EXPECT_EQ(report.value("diffTotal", std::int64_t{-1}), 7) << progress.out;
  std::int64_t consumer_offsets = 0;
  for (const json& q : report["queues"]) {
    EXPECT_EQ(q.value("topic", ""), kTopic);
    consumer_offsets += q.value("consumerOffset", std::int64_t{0});
    EXPECT_EQ(q.value("diff", std::int64_t{-1}), q.value("brokerOffset", std::int64_t{0}) -
                                                     q.value("consumerOffset", std::int64_t{0}));
  }
  EXPECT_EQ(consumer_offsets, 5);
  CtlRun text = ctl({"consumerProgress", "-g", "drill-group", "-t", kTopic});
  ASSERT_EQ(text.exit_code, 0) << text.err;
  EXPECT_NE(text.out.find("Diff Total: 7"), std::string::npos) << text.out;
  EXPECT_NE(text.out.find("CONSUMER_OFFSET"), std::string::npos) << text.out;

  CtlRun unknown = ctl({"topicStatus", "-t", "NoSuchTopic"});
  EXPECT_EQ(unknown.exit_code, 1);
  EXPECT_NE(unknown.err.find("NoSuchTopic"), std::string::npos) << unknown.err;
}

}  // namespace
}  // namespace dledger
