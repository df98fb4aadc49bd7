// GET_TOPIC_STATS_INFO (202) / GET_CONSUME_STATS (208): request headers and the fastjson-form
// reply bodies (MessageQueue objects as map keys).
#include "broker/remoting/admin_stats.h"

#include <gtest/gtest.h>

#include "broker/remoting/codes.h"
#include "tests/remoting/test_util.h"

namespace dledger::remoting {
namespace {

using testing::expect_error;

// As a RocketMQ 4.x broker writes them (fastjson, fields in name order, MessageQueue keys as
// objects), with a brace and a quote inside a topic-like string to exercise the key scanner.
const char* kBrokerTopicStats =
    R"({"offsetTable":{{"brokerName":"broker-a","queueId":1,"topic":"TopicTest"}:)"
    R"({"lastUpdateTimestamp":1700000000456,"maxOffset":7,"minOffset":2},)"
    R"({"brokerName":"broker-a","queueId":0,"topic":"TopicTest"}:)"
    R"({"lastUpdateTimestamp":1700000000123,"maxOffset":42,"minOffset":0}}})";

const char* kBrokerConsumeStats =
    R"({"consumeTps":2.5,"offsetTable":{{"brokerName":"b{\"}","queueId":3,"topic":"T"}:)"
    R"({"brokerOffset":10,"consumerOffset":8,"lastTimestamp":1700000000999}}})";

TEST(AdminStats, TopicStatsTableFromABrokerIsReadQueueByQueue) {
  auto table = parse_topic_stats_table(kBrokerTopicStats);
  ASSERT_TRUE(table.ok()) << table.error().message;
  ASSERT_EQ(table->offset_table.size(), 2u);
  const TopicOffset& q0 = table->offset_table.at({"TopicTest", "broker-a", 0});
  EXPECT_EQ(q0.min_offset, 0);
  EXPECT_EQ(q0.max_offset, 42);
  EXPECT_EQ(q0.last_update_timestamp, 1700000000123);
  const TopicOffset& q1 = table->offset_table.at({"TopicTest", "broker-a", 1});
  EXPECT_EQ(q1.min_offset, 2);
  EXPECT_EQ(q1.max_offset, 7);
}

TEST(AdminStats, ConsumeStatsFromABrokerKeepsKeysWithBracesAndQuotesInStrings) {
  auto stats = parse_consume_stats(kBrokerConsumeStats);
  ASSERT_TRUE(stats.ok()) << stats.error().message;
  EXPECT_DOUBLE_EQ(stats->consume_tps, 2.5);
  ASSERT_EQ(stats->offset_table.size(), 1u);
  const auto& [mq, offset] = *stats->offset_table.begin();
  EXPECT_EQ(mq.broker_name, "b{\"}");
  EXPECT_EQ(mq.topic, "T");
  EXPECT_EQ(mq.queue_id, 3);
  EXPECT_EQ(offset.broker_offset, 10);
  EXPECT_EQ(offset.consumer_offset, 8);
  EXPECT_EQ(offset.last_timestamp, 1700000000999);
}

TEST(AdminStats, WrittenBodiesHaveTheBrokersShapeAndReadBackEqual) {
  TopicStatsTable table;
  table.offset_table[{"TopicTest", "broker-a", 0}] = {0, 42, 1700000000123};
  table.offset_table[{"TopicTest", "broker-a", 1}] = {2, 7, 1700000000456};
  std::string text = write_topic_stats_table(table);
  EXPECT_EQ(text, R"({"offsetTable":{{"brokerName":"broker-a","queueId":0,"topic":"TopicTest"}:)"
                  R"({"lastUpdateTimestamp":1700000000123,"maxOffset":42,"minOffset":0},)"
                  R"({"brokerName":"broker-a","queueId":1,"topic":"TopicTest"}:)"
                  R"({"lastUpdateTimestamp":1700000000456,"maxOffset":7,"minOffset":2}}})");
  auto table_again = parse_topic_stats_table(text);
  ASSERT_TRUE(table_again.ok()) << table_again.error().message;
  EXPECT_EQ(*table_again, table);

  ConsumeStats stats;
  stats.consume_tps = 0;
  stats.offset_table[{"%RETRY%cg", "broker-a", 0}] = {5, 5, 1700000000001};
  stats.offset_table[{"T", "broker-a", 0}] = {10, 0, 0};
  text = write_consume_stats(stats);
  EXPECT_EQ(text.rfind(R"({"consumeTps":0.0,"offsetTable":{{"brokerName":"broker-a",)", 0), 0u)
      << text;
  auto stats_again = parse_consume_stats(text);
  ASSERT_TRUE(stats_again.ok()) << stats_again.error().message;
  EXPECT_EQ(*stats_again, stats);
  EXPECT_EQ(write_consume_stats(ConsumeStats{}), R"({"consumeTps":0.0,"offsetTable":{}})");
}

TEST(AdminStats, KeysWrittenAsJsonStringsAreAcceptedToo) {
  auto table = parse_topic_stats_table(
      R"({"offsetTable":{"{\"brokerName\":\"b\",\"queueId\":2,\"topic\":\"T\"}":)"
      R"({"maxOffset":3}}})");
  ASSERT_TRUE(table.ok()) << table.error().message;
  EXPECT_EQ(table->offset_table.at({"T", "b", 2}).max_offset, 3);
  auto empty = parse_consume_stats(R"({"offsetTable":{}})");
  ASSERT_TRUE(empty.ok()) << empty.error().message;
  EXPECT_TRUE(empty->offset_table.empty());
}

TEST(AdminStats, MalformedBodiesAreErrorsNamingTheField) {
  expect_error(parse_topic_stats_table("not json"), {"TopicStatsTable"});
  expect_error(parse_topic_stats_table(R"({"offsetTable":{{"brokerName":"b","topic":"T"}:{}}})"),
               {"TopicStatsTable", "queueId"});
  expect_error(
      parse_topic_stats_table(
          R"({"offsetTable":{{"brokerName":"b","queueId":0,"topic":"T"}:{"maxOffset":-1}}})"),
      {"maxOffset"});
  expect_error(parse_topic_stats_table(R"({"offsetTable":{"plain":{"maxOffset":1}}})"),
               {"TopicStatsTable", "key"});
  expect_error(parse_topic_stats_table(R"({"offsetTable":{{"brokerName":"b","queueId":0)"),
               {"TopicStatsTable"});
  expect_error(parse_consume_stats(R"({"consumeTps":"fast","offsetTable":{}})"), {"consumeTps"});
  expect_error(parse_consume_stats(R"({"offsetTable":{{"brokerName":"b","queueId":0,"topic":"T"}:)"
                                   R"({},{"topic":"T","queueId":0,"brokerName":"b"}:{}}})"),
               {"twice"});
  expect_error(parse_consume_stats(R"([1,2])"), {"ConsumeStats"});
}

TEST(AdminStats, RequestsCarryTheirFieldsAndMissingOnesAreNamed) {
  RemotingCommand topic_stats = make_topic_stats_request("TopicTest");
  EXPECT_EQ(topic_stats.code, request_code::kGetTopicStatsInfo);
  auto parsed_topic = parse_topic_stats_request(topic_stats);
  ASSERT_TRUE(parsed_topic.ok()) << parsed_topic.error().message;
  EXPECT_EQ(parsed_topic->topic, "TopicTest");
  topic_stats.ext_fields.clear();
  expect_error(parse_topic_stats_request(topic_stats), {"topic"});

  RemotingCommand all_topics = make_consume_stats_request("cg", "");
  EXPECT_EQ(all_topics.code, request_code::kGetConsumeStats);
  EXPECT_EQ(all_topics.ext_fields.count("topic"), 0u);
  auto parsed_all = parse_consume_stats_request(all_topics);
  ASSERT_TRUE(parsed_all.ok()) << parsed_all.error().message;
  EXPECT_EQ(parsed_all->consumer_group, "cg");
  EXPECT_EQ(parsed_all->topic, "");
  auto parsed_one = parse_consume_stats_request(make_consume_stats_request("cg", "T"));
  ASSERT_TRUE(parsed_one.ok());
  EXPECT_EQ(parsed_one->topic, "T");
  all_topics.ext_fields.erase("consumerGroup");
  expect_error(parse_consume_stats_request(all_topics), {"consumerGroup"});
  expect_error(parse_consume_stats_request(make_topic_stats_request("T")),
               {"GET_CONSUME_STATS (208)"});
}

}  // namespace
}  // namespace dledger::remoting
