// QUERY_MESSAGE (12, query_message_handler.cpp over message_query.h): messages found by one of
// their KEYS or by their UNIQ_KEY within an inclusive store-time range, across the topic's
// queues, with RocketMQ's maxNum caps, both header encodings, QUERY_NOT_FOUND when nothing
// matches, and a scan budget that stops early and says so. One-member group in-process with an
// injected store clock.
#include <gtest/gtest.h>

#include <atomic>
#include <climits>

#include "broker/broker/message_query.h"
#include "broker/remoting/client_headers.h"
#include "broker/remoting/message_codec.h"
#include "tests/broker/broker_group.h"
#include "tests/broker/broker_requests.h"

namespace dledger::broker {
namespace {

using namespace std::chrono_literals;
using remoting::RemotingCommand;
namespace resp = remoting::response_code;

// The store clock of the fixtures' brokers: each message below is stored at a chosen time.
std::atomic<std::int64_t> store_now_ms{0};

store::StoredMessage message_with(std::map<std::string, std::string> properties) {
  store::StoredMessage m;
  m.properties = *remoting::encode_message_properties(properties);
  return m;
}

TEST(MessageHasKey, MatchesWholeSpaceSeparatedKeysOrTheUniqKey) {
  auto m = message_with({{"KEYS", "order-1  shared "}, {"UNIQ_KEY", "U1"}});
  EXPECT_TRUE(message_has_key(m, "order-1", false));
  EXPECT_TRUE(message_has_key(m, "shared", false));
  EXPECT_FALSE(message_has_key(m, "order", false));  // whole keys only
  EXPECT_FALSE(message_has_key(m, "U1", false));     // the UNIQ_KEY is not one of the KEYS
  EXPECT_TRUE(message_has_key(m, "U1", true));
  EXPECT_FALSE(message_has_key(m, "order-1", true));
  EXPECT_FALSE(message_has_key(message_with({}), "order-1", false));
  EXPECT_FALSE(message_has_key(message_with({}), "U1", true));
  store::StoredMessage undecodable;
  undecodable.properties = "KEYS";  // no value separator
  EXPECT_FALSE(message_has_key(undecodable, "KEYS", false));
}

// Topic "keyed", 2 queues:  time  queue  body  KEYS              UNIQ_KEY
//                           1000  0      a0    "order-1 shared"  U0
//                           2000  1      a1    "order-2 shared"  U1
//                           3000  0      a2    "order-3"         U2
//                           4000  1      a3    "shared"          U3
//                           5000  0      a4    -                 U4
void store_keyed_messages(frontend::RemotingClient& client, testing::BrokerGroup& group) {
  ASSERT_EQ(group.create_topic(0, "keyed", 2), resp::kSuccess);
  const std::vector<std::tuple<std::int64_t, std::int32_t, std::string, std::string>> messages = {
      {1000, 0, "a0", "order-1 shared"},
      {2000, 1, "a1", "order-2 shared"},
      {3000, 0, "a2", "order-3"},
      {4000, 1, "a3", "shared"},
      {5000, 0, "a4", ""}};
  int i = 0;
  for (const auto& [time, queue, body, keys] : messages) {
    store_now_ms = time;
    std::map<std::string, std::string> properties = {{"UNIQ_KEY", "U" + std::to_string(i++)}};
    if (!keys.empty()) properties["KEYS"] = keys;
    auto reply = client.invoke_sync(
        testing::send_message_request("keyed", queue, body, "", properties), 10s);
    ASSERT_TRUE(reply.ok());
    ASSERT_EQ(reply->code, resp::kSuccess) << reply->remark.value_or("");
  }
}

void use_store_clock(int, store::MessageStoreOptions& store_options, BrokerHandlers::Options&) {
  store_options.clock_ms = [] { return store_now_ms.load(); };
}

RemotingCommand query_request(const std::string& key, bool unique = false, std::int64_t begin = 0,
                              std::int64_t end = INT64_MAX, std::int32_t max_num = 32,
                              const std::string& topic = "keyed") {
  return remoting::make_query_message_request({.topic = topic,
                                               .key = key,
                                               .max_num = max_num,
                                               .begin_ms = begin,
                                               .end_ms = end,
                                               .unique_key = unique});
}

std::vector<std::string> bodies_of(const RemotingCommand& reply) {
  auto records = remoting::decode_message_records(reply.body);
  EXPECT_TRUE(records.ok()) << records.error().to_string();
  std::vector<std::string> out;
  if (records.ok()) {
    for (const auto& r : *records) out.push_back(r.body);
  }
  std::sort(out.begin(), out.end());
  return out;
}

class QueryMessageTest : public testing::SingleBrokerTest {
 protected:
  static void SetUpTestSuite() {
    start_group(use_store_clock);
    if (::testing::Test::HasFatalFailure()) return;
    store_keyed_messages(client(), *group_);
  }
  static RemotingCommand query(RemotingCommand request) {
    auto reply = client().invoke_sync(std::move(request), 10s);
    EXPECT_TRUE(reply.ok());
    return reply.ok() ? std::move(reply).value() : RemotingCommand{};
  }
};

TEST_F(QueryMessageTest, AKeyFindsEveryMessageCarryingItAcrossTheTopicsQueues) {
  RemotingCommand shared = query(query_request("shared"));
  ASSERT_EQ(shared.code, resp::kSuccess) << shared.remark.value_or("");
  EXPECT_EQ(bodies_of(shared), (std::vector<std::string>{"a0", "a1", "a3"}));
  EXPECT_FALSE(shared.remark.has_value());
  // The records are what a pull returns: topic, queue, offsets and properties intact.
  auto records = remoting::decode_message_records(shared.body);
  ASSERT_TRUE(records.ok());
  for (const auto& r : *records) {
    EXPECT_EQ(r.topic, "keyed");
    auto pulled = client().invoke_sync(
        testing::pull_message_request("g", "keyed", r.queue_id, r.queue_offset, 1), 10s);
    ASSERT_TRUE(pulled.ok());
    auto pulled_records = testing::pulled_records(*pulled);
    ASSERT_EQ(pulled_records.size(), 1u);
    EXPECT_EQ(pulled_records[0].body, r.body);
    EXPECT_EQ(pulled_records[0].physical_offset, r.physical_offset);
    EXPECT_EQ(pulled_records[0].properties, r.properties);
  }
  EXPECT_EQ(bodies_of(query(query_request("order-2"))), (std::vector<std::string>{"a1"}));
  // The reply header carries RocketMQ's two index fields (required by its clients).
  EXPECT_TRUE(shared.ext_fields.contains("indexLastUpdateTimestamp"));
  EXPECT_TRUE(shared.ext_fields.contains("indexLastUpdatePhyoffset"));
}

TEST_F(QueryMessageTest, OnlyWholeKeysMatchAndNoMatchIsQueryNotFound) {
  for (const char* key : {"order", "shared2", "U0", "absent"}) {
    RemotingCommand reply = query(query_request(key));
    EXPECT_EQ(reply.code, resp::kQueryNotFound) << key;
    EXPECT_NE(reply.remark.value_or("").find("can not find message"), std::string::npos);
  }
}

TEST_F(QueryMessageTest, TheTimeRangeIsInclusiveOfStoreTimes) {
  EXPECT_EQ(bodies_of(query(query_request("shared", false, 2000, 4000))),
            (std::vector<std::string>{"a1", "a3"}));
  EXPECT_EQ(bodies_of(query(query_request("shared", false, 1000, 1000))),
            (std::vector<std::string>{"a0"}));
  EXPECT_EQ(query(query_request("shared", false, 2001, 3999)).code, resp::kQueryNotFound);
  EXPECT_EQ(query(query_request("shared", false, 5001, INT64_MAX)).code, resp::kQueryNotFound);
  EXPECT_EQ(query(query_request("shared", false, 4000, 1000)).code, resp::kQueryNotFound);
}

TEST_F(QueryMessageTest, AUniqueKeyQueryMatchesTheUniqKeyOnly) {
  EXPECT_EQ(bodies_of(query(query_request("U2", true))), (std::vector<std::string>{"a2"}));
  EXPECT_EQ(bodies_of(query(query_request("U4", true, 4500))), (std::vector<std::string>{"a4"}));
  EXPECT_EQ(query(query_request("order-3", true)).code, resp::kQueryNotFound);
  // A unique-key query ignores maxNum (RocketMQ uses its default of 32 there).
  EXPECT_EQ(bodies_of(query(query_request("U1", true, 0, INT64_MAX, 0))),
            (std::vector<std::string>{"a1"}));
}

TEST_F(QueryMessageTest, MaxNumCapsTheMatches) {
  RemotingCommand two = query(query_request("shared", false, 0, INT64_MAX, 2));
  ASSERT_EQ(two.code, resp::kSuccess);
  EXPECT_EQ(bodies_of(two).size(), 2u);
  EXPECT_FALSE(two.remark.has_value());  // enough found: nothing left unsaid
  EXPECT_EQ(query(query_request("shared", false, 0, INT64_MAX, 0)).code, resp::kQueryNotFound);
}

TEST_F(QueryMessageTest, TheBinaryHeaderEncodingIsAnsweredTheSame) {
  RemotingCommand request = query_request("shared", false, 2000, 4000);
  request.serialize_type = remoting::SerializeType::kRocketmq;
  RemotingCommand reply = query(std::move(request));
  ASSERT_EQ(reply.code, resp::kSuccess) << reply.remark.value_or("");
  EXPECT_EQ(reply.serialize_type, remoting::SerializeType::kRocketmq);
  EXPECT_EQ(bodies_of(reply), (std::vector<std::string>{"a1", "a3"}));
}

TEST_F(QueryMessageTest, AnUnknownTopicOrABadHeaderGetsAnErrorNamingIt) {
  RemotingCommand unknown = query(query_request("shared", false, 0, INT64_MAX, 32, "nope"));
  EXPECT_EQ(unknown.code, resp::kQueryNotFound);
  EXPECT_NE(unknown.remark.value_or("").find("'nope'"), std::string::npos);

  struct Case {
    std::string field;
    std::optional<std::string> value;  // nullopt: removed
  };
  for (const Case& c : std::vector<Case>{{"key", std::nullopt},
                                         {"key", ""},
                                         {"topic", std::nullopt},
                                         {"maxNum", "-1"},
                                         {"beginTimestamp", "soon"},
                                         {"endTimestamp", std::nullopt},
                                         {"_UNIQUE_KEY_QUERY", "yes"}}) {
    RemotingCommand request = query_request("shared");
    if (c.value) {
      request.ext_fields[c.field] = *c.value;
    } else {
      request.ext_fields.erase(c.field);
    }
    RemotingCommand reply = query(std::move(request));
    EXPECT_EQ(reply.code, resp::kSystemError) << c.field;
    EXPECT_NE(reply.remark.value_or("").find(c.field), std::string::npos)
        << c.field << ": " << reply.remark.value_or("");
  }
}

TEST_F(QueryMessageTest, TheScanReadsOnlyTheTimeRangesMessages) {
  MessageQuery q;
  q.topic = "keyed";
  q.key = "shared";
  q.begin_ms = 2000;
  q.end_ms = 3000;
  auto result = query_messages(store(), q);
  ASSERT_TRUE(result.ok()) << result.error().to_string();
  EXPECT_EQ(result->count, 1u);    // a1
  EXPECT_EQ(result->scanned, 2u);  // a1 (queue 1) and a2 (queue 0): nothing outside the range
  EXPECT_TRUE(result->complete);
}

class QueryMessageBudgetTest : public testing::SingleBrokerTest {
 protected:
  static void SetUpTestSuite() {
    start_group([](int i, store::MessageStoreOptions& s, BrokerHandlers::Options& h) {
      use_store_clock(i, s, h);
      h.max_query_scan = 2;
    });
    if (::testing::Test::HasFatalFailure()) return;
    store_keyed_messages(client(), *group_);
  }
};

TEST_F(QueryMessageBudgetTest, AScanStoppedByItsBudgetSaysMoreMayMatch) {
  // Queue 0 is read first: a0 (match) and a2 use up the budget of 2 before queue 1.
  auto found = client().invoke_sync(query_request("shared"), 10s);
  ASSERT_TRUE(found.ok());
  ASSERT_EQ(found->code, resp::kSuccess);
  EXPECT_EQ(bodies_of(*found), (std::vector<std::string>{"a0"}));
  EXPECT_NE(found->remark.value_or("").find("stopped after reading 2 messages"), std::string::npos)
      << found->remark.value_or("");
  // Nothing found within the budget: QUERY_NOT_FOUND, saying the range was not fully read.
  auto missing = client().invoke_sync(query_request("order-2"), 10s);
  ASSERT_TRUE(missing.ok());
  EXPECT_EQ(missing->code, resp::kQueryNotFound);
  EXPECT_NE(missing->remark.value_or("").find("narrow the time range"), std::string::npos)
      << missing->remark.value_or("");
  // A narrower range fits the budget and finds it.
  auto narrow = client().invoke_sync(query_request("order-2", false, 2000, 2000), 10s);
  ASSERT_TRUE(narrow.ok());
  EXPECT_EQ(bodies_of(*narrow), (std::vector<std::string>{"a1"}));
}

}  // namespace
}  // namespace dledger::broker
