// Delayed messages (store/delay_levels.h, store/delay_scheduler.h): a send with DELAY and a
// CONSUMER_SEND_MSG_BACK become consumable in their real topic only once their level's delay
// passed on the (injected) clock, exactly once, with the progress replicated through the ledger.
#include <gtest/gtest.h>

#include <atomic>

#include "broker/remoting/message_codec.h"
#include "broker/remoting/message_properties.h"
#include "broker/store/delay_levels.h"
#include "broker/store/delay_scheduler.h"
#include "tests/broker/broker_group.h"
#include "tests/broker/broker_requests.h"

namespace dledger::broker {
namespace {

using namespace std::chrono_literals;
using remoting::RemotingCommand;
namespace resp = remoting::response_code;
namespace rc = remoting::request_code;

TEST(DelayLevels, DefaultIsRocketMqsEighteenLevels) {
  auto levels = store::default_delay_levels_ms();
  ASSERT_EQ(levels.size(), 18u);
  EXPECT_EQ(levels.front(), 1000);
  EXPECT_EQ(levels[4], 60000);
  EXPECT_EQ(levels.back(), 2 * 3600 * 1000);
}

TEST(DelayLevels, ParseAcceptsUnitsAndNamesTheBadItem) {
  auto levels = store::parse_delay_levels(" 2s  3m 1h 1d ");
  ASSERT_TRUE(levels.ok());
  EXPECT_EQ(*levels, (std::vector<std::int64_t>{2000, 180000, 3600000, 86400000}));
  auto bad = store::parse_delay_levels("1s 5x 10s");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().message.find("level 2 '5x'"), std::string::npos) << bad.error().message;
  EXPECT_FALSE(store::parse_delay_levels("").ok());
  EXPECT_FALSE(store::parse_delay_levels("0s").ok());
  EXPECT_FALSE(store::parse_delay_levels("-1s").ok());
}

class DelayDeliveryTest : public testing::SingleBrokerTest {
 protected:
  static void SetUpTestSuite() {
    start_group([](int, store::MessageStoreOptions& options, BrokerHandlers::Options&) {
      options.clock_ms = [] { return now_ms_.load(); };
    });
    if (::testing::Test::HasFatalFailure()) return;
    store::DelayScheduler::Options options;
    options.clock_ms = [] { return now_ms_.load(); };
    scheduler_ = new store::DelayScheduler(store(), options);  // not started
  }
  static void TearDownTestSuite() {
    delete scheduler_;
    scheduler_ = nullptr;
    SingleBrokerTest::TearDownTestSuite();
  }

  static RemotingCommand pull(const std::string& topic, std::int64_t offset) {
    return testing::pull_message_request("CG", topic, 0, offset);
  }
  static std::vector<remoting::MessageRecord> records_of(const RemotingCommand& reply) {
    return testing::pulled_records(reply);
  }

  static inline std::atomic<std::int64_t> now_ms_{1'700'000'000'000};
  static inline store::DelayScheduler* scheduler_ = nullptr;
};

TEST_F(DelayDeliveryTest, DelayedSendIsConsumableOnlyAfterItsLevelAndExactlyOnce) {
  ASSERT_EQ(group_->create_topic(0, "delayed", 1), resp::kSuccess);
  auto sent = client().invoke_sync(
      testing::send_message_request("delayed", 0, "later", "TagL", {{"DELAY", "2"}}), 10s);
  ASSERT_TRUE(sent.ok());
  ASSERT_EQ(sent->code, resp::kSuccess) << sent->remark.value_or("");
  const std::string schedule(store::kScheduleTopic);
  EXPECT_EQ(store().max_offset(schedule, 1), 1);  // level 2 -> queue 1

  auto early = client().invoke_sync(pull("delayed", 0), 10s);
  ASSERT_TRUE(early.ok());
  EXPECT_EQ(early->code, resp::kPullNotFound);

  EXPECT_EQ(scheduler_->run_once().delivered, 0u);
  now_ms_ += 4999;  // level 2 = 5 s
  EXPECT_EQ(scheduler_->run_once().delivered, 0u);
  now_ms_ += 1;
  EXPECT_EQ(scheduler_->run_once().delivered, 1u);
  EXPECT_EQ(scheduler_->run_once().delivered, 0u);  // progress committed: no second delivery
  EXPECT_EQ(store().query_offset(std::string(store::kScheduleProgressGroup), schedule, 1), 1);

  auto due = client().invoke_sync(pull("delayed", 0), 10s);
  ASSERT_TRUE(due.ok());
  auto records = records_of(*due);
  ASSERT_EQ(records.size(), 1u);
  EXPECT_EQ(records[0].body, "later");
  EXPECT_EQ(records[0].topic, "delayed");
  EXPECT_EQ(records[0].queue_id, 0);
  auto props = remoting::decode_message_properties(records[0].properties);
  ASSERT_TRUE(props.ok());
  EXPECT_EQ(props->count("DELAY"), 0u);
  EXPECT_EQ(props->at("TAGS"), "TagL");
  EXPECT_EQ(props->at("REAL_TOPIC"), "delayed");
  EXPECT_EQ(props->at("REAL_QID"), "0");
}

TEST_F(DelayDeliveryTest, LevelsBeyondTheLastUseTheLastAndBadLevelsAreRefused) {
  ASSERT_EQ(group_->create_topic(0, "delayed-max", 1), resp::kSuccess);
  const std::string schedule(store::kScheduleTopic);
  std::int64_t before = store().max_offset(schedule, 17);
  auto sent = client().invoke_sync(
      testing::send_message_request("delayed-max", 0, "x", "", {{"DELAY", "99"}}), 10s);
  ASSERT_TRUE(sent.ok());
  ASSERT_EQ(sent->code, resp::kSuccess);
  EXPECT_EQ(store().max_offset(schedule, 17), before + 1);

  auto bad = client().invoke_sync(
      testing::send_message_request("delayed-max", 0, "x", "", {{"DELAY", "soon"}}), 10s);
  ASSERT_TRUE(bad.ok());
  EXPECT_EQ(bad->code, resp::kMessageIllegal);
  EXPECT_NE(bad->remark.value_or("").find("DELAY"), std::string::npos);

  // DELAY 0: no delay, consumable at once.
  auto now = client().invoke_sync(
      testing::send_message_request("delayed-max", 0, "now", "", {{"DELAY", "0"}}), 10s);
  ASSERT_TRUE(now.ok());
  ASSERT_EQ(now->code, resp::kSuccess);
  auto pulled = client().invoke_sync(pull("delayed-max", 0), 10s);
  ASSERT_TRUE(pulled.ok());
  auto records = records_of(*pulled);
  ASSERT_EQ(records.size(), 1u);
  EXPECT_EQ(records[0].body, "now");
}

TEST_F(DelayDeliveryTest, SendBackIsRetriedAfterItsDelayLevel) {
  ASSERT_EQ(group_->create_topic(0, "to-retry", 1), resp::kSuccess);
  auto sent =
      client().invoke_sync(testing::send_message_request("to-retry", 0, "fails-once", "T"), 10s);
  ASSERT_TRUE(sent.ok());
  ASSERT_EQ(sent->code, resp::kSuccess);
  auto pulled = client().invoke_sync(pull("to-retry", 0), 10s);
  ASSERT_TRUE(pulled.ok());
  auto originals = records_of(*pulled);
  ASSERT_EQ(originals.size(), 1u);

  RemotingCommand back = remoting::make_request(rc::kConsumerSendMsgBack, 0);
  back.ext_fields = {{"offset", std::to_string(originals[0].physical_offset)},
                     {"group", "CG-retry"},
                     {"delayLevel", "1"},  // 1 s
                     {"originTopic", "to-retry"}};
  auto backed = client().invoke_sync(back, 10s);
  ASSERT_TRUE(backed.ok());
  ASSERT_EQ(backed->code, resp::kSuccess) << backed->remark.value_or("");

  const std::string retry_topic = "%RETRY%CG-retry";
  auto early = client().invoke_sync(pull(retry_topic, 0), 10s);
  ASSERT_TRUE(early.ok());
  EXPECT_NE(early->code, resp::kSuccess);
  EXPECT_EQ(scheduler_->run_once().delivered, 0u);
  now_ms_ += 1000;
  EXPECT_EQ(scheduler_->run_once().delivered, 1u);

  auto retried = client().invoke_sync(pull(retry_topic, 0), 10s);
  ASSERT_TRUE(retried.ok());
  auto records = records_of(*retried);
  ASSERT_EQ(records.size(), 1u);
  EXPECT_EQ(records[0].body, "fails-once");
  EXPECT_EQ(records[0].reconsume_times, 1);
  auto props = remoting::decode_message_properties(records[0].properties);
  ASSERT_TRUE(props.ok());
  EXPECT_EQ(props->at("RETRY_TOPIC"), "to-retry");
  EXPECT_EQ(props->count("DELAY"), 0u);
}

}  // namespace
}  // namespace dledger::broker

namespace dledger::broker {
namespace {

using namespace std::chrono_literals;
using testing::BrokerGroup;
namespace resp = remoting::response_code;

// Three replicas with schedulers driven by hand: the progress a leader commits reaches every
// replica, and the next leader neither repeats those deliveries nor misses later ones.
TEST(DelayFailover, NewLeaderContinuesFromTheReplicatedProgress) {
  static std::atomic<std::int64_t> now_ms{1'800'000'000'000};
  BrokerGroup group(
      {.replicas = 3,
       .configure = [](int, store::MessageStoreOptions& options, BrokerHandlers::Options&) {
         options.clock_ms = [] { return now_ms.load(); };
       }});
  std::vector<std::unique_ptr<store::DelayScheduler>> schedulers;
  for (int i = 0; i < 3; ++i) {
    store::DelayScheduler::Options options;
    options.clock_ms = [] { return now_ms.load(); };
    schedulers.push_back(std::make_unique<store::DelayScheduler>(*group.at(i).store, options));
  }
  int first = group.wait_for_master();
  ASSERT_GE(first, 0);
  ASSERT_EQ(group.create_topic(first, "failover", 1), resp::kSuccess);
  for (const char* body : {"d0", "d1"}) {
    auto sent = group.at(first).client->invoke_sync(
        testing::send_message_request("failover", 0, body, "", {{"DELAY", "1"}}), 10s);
    ASSERT_TRUE(sent.ok());
    ASSERT_EQ(sent->code, resp::kSuccess) << sent->remark.value_or("");
  }
  now_ms += 1000;
  const int follower = (first + 1) % 3;
  EXPECT_EQ(schedulers[follower]->run_once().delivered, 0u);  // followers never deliver
  EXPECT_EQ(schedulers[first]->run_once().delivered, 2u);

  const std::string schedule(store::kScheduleTopic);
  const std::string progress_group(store::kScheduleProgressGroup);
  for (int i = 0; i < 3; ++i) {
    EXPECT_TRUE(dledger::testing::eventually([&] {
      return group.at(i).store->query_offset(progress_group, schedule, 0) == 2 &&
             group.at(i).store->max_offset("failover", 0) == 2;
    })) << "replica "
        << i;
  }

  group.stop(first);
  int second = group.wait_for_master();
  ASSERT_GE(second, 0);
  ASSERT_NE(second, first);
  EXPECT_EQ(schedulers[second]->run_once().delivered, 0u);  // nothing delivered twice
  auto sent = group.at(second).client->invoke_sync(
      testing::send_message_request("failover", 0, "d2", "", {{"DELAY", "1"}}), 10s);
  ASSERT_TRUE(sent.ok());
  ASSERT_EQ(sent->code, resp::kSuccess) << sent->remark.value_or("");
  EXPECT_EQ(schedulers[second]->run_once().delivered, 0u);  // not due yet
  now_ms += 1000;
  EXPECT_EQ(schedulers[second]->run_once().delivered, 1u);

  auto pulled = group.at(second).client->invoke_sync(
      testing::pull_message_request("CG", "failover", 0, 0), 10s);
  ASSERT_TRUE(pulled.ok());
  ASSERT_EQ(pulled->code, resp::kSuccess);
  auto records = remoting::decode_message_records(pulled->body);
  ASSERT_TRUE(records.ok());
  std::vector<std::string> bodies;
  for (const auto& r : *records) bodies.push_back(r.body);
  EXPECT_EQ(bodies, (std::vector<std::string>{"d0", "d1", "d2"}));
  schedulers.clear();
}

}  // namespace
}  // namespace dledger::broker
