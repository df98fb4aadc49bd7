// JSON bodies: HeartbeatData, TopicRouteData, ClusterInfo, LockBatch, RegisterBrokerBody.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "broker/remoting/heartbeat.h"
#include "broker/remoting/json_util.h"
#include "broker/remoting/lock_batch.h"
#include "broker/remoting/register_broker.h"
#include "broker/remoting/route_data.h"
#include "tests/remoting/test_util.h"

namespace dledger::remoting {
namespace {

using testing::expect_error;

// As the Java 4.9 client (fastjson) writes it.
const char* kJavaHeartbeat =
    R"({"clientID":"10.0.0.5@12345","consumerDataSet":[{"consumeFromWhere":"CONSUME_FROM_FIRST_OFFSET",)"
    R"("consumeType":"CONSUME_PASSIVELY","groupName":"CG","messageModel":"CLUSTERING",)"
    R"("subscriptionDataSet":[{"classFilterMode":false,"codeSet":[2598919,2598920],)"
    R"("expressionType":"TAG","subString":"TagA || TagB","subVersion":1700000000000,)"
    R"("tagsSet":["TagA","TagB"],"topic":"TopicTest"},{"classFilterMode":false,"codeSet":[],)"
    R"("expressionType":"TAG","subString":"*","subVersion":1700000000001,"tagsSet":[],)"
    R"("topic":"%RETRY%CG"}],"unitMode":false}],"producerDataSet":[{"groupName":"CLIENT_INNER_PRODUCER"}]})";

TEST(Heartbeat, JavaClientBodyParses) {
  auto hb = parse_heartbeat_body(kJavaHeartbeat);
  ASSERT_TRUE(hb.ok()) << hb.error().to_string();
  EXPECT_EQ(hb->client_id, "10.0.0.5@12345");
  ASSERT_EQ(hb->producers.size(), 1u);
  EXPECT_EQ(hb->producers[0].group_name, "CLIENT_INNER_PRODUCER");
  ASSERT_EQ(hb->consumers.size(), 1u);
  const ConsumerData& c = hb->consumers[0];
  EXPECT_EQ(c.group_name, "CG");
  EXPECT_EQ(c.message_model, MessageModel::kClustering);
  EXPECT_EQ(c.consume_from_where, ConsumeFromWhere::kFirstOffset);
  ASSERT_EQ(c.subscriptions.size(), 2u);
  EXPECT_EQ(c.subscriptions[0].topic, "TopicTest");
  EXPECT_EQ(c.subscriptions[0].tags_set, (std::vector<std::string>{"TagA", "TagB"}));
  EXPECT_EQ(c.subscriptions[0].code_set, (std::vector<int32_t>{2598919, 2598920}));
  EXPECT_EQ(c.subscriptions[0].sub_version, 1700000000000LL);
  EXPECT_EQ(c.subscriptions[1].topic, "%RETRY%CG");
}

TEST(Heartbeat, WriterRoundTrips) {
  auto hb = parse_heartbeat_body(kJavaHeartbeat);
  ASSERT_TRUE(hb.ok());
  auto again = parse_heartbeat_body(write_heartbeat_body(*hb));
  ASSERT_TRUE(again.ok()) << again.error().to_string();
  EXPECT_EQ(*again, *hb);
}

TEST(Heartbeat, MinimalProducerOnlyBodyUsesDefaults) {
  auto hb = parse_heartbeat_body(
      R"({"clientID":"c","producerDataSet":[{"groupName":"PG"}],"consumerDataSet":[{"groupName":"CG","subscriptionDataSet":[{"topic":"T"}]}]})");
  ASSERT_TRUE(hb.ok()) << hb.error().to_string();
  EXPECT_EQ(hb->consumers[0].consume_from_where, ConsumeFromWhere::kLastOffset);
  EXPECT_EQ(hb->consumers[0].subscriptions[0].sub_string, "*");
  EXPECT_EQ(hb->consumers[0].subscriptions[0].expression_type, "TAG");
}

TEST(Heartbeat, BadBodiesNameTheJsonPath) {
  expect_error(parse_heartbeat_body("{"), {"HeartbeatData", "malformed JSON"});
  expect_error(parse_heartbeat_body("[]"), {"must be an object"});
  expect_error(parse_heartbeat_body(R"({"producerDataSet":[]})"), {"clientID", "missing"});
  expect_error(parse_heartbeat_body(R"({"clientID":"c","producerDataSet":[{}]})"),
               {"producerDataSet[0].groupName"});
  expect_error(
      parse_heartbeat_body(
          R"({"clientID":"c","consumerDataSet":[{"groupName":"CG","messageModel":"FANOUT"}]})"),
      {"consumerDataSet[0].messageModel", "'FANOUT'"});
  expect_error(
      parse_heartbeat_body(
          R"({"clientID":"c","consumerDataSet":[{"groupName":"CG","subscriptionDataSet":[{"topic":"T"},{"topic":5}]}]})"),
      {"consumerDataSet[0].subscriptionDataSet[1].topic", "string"});
  expect_error(
      parse_heartbeat_body(
          R"({"clientID":"c","consumerDataSet":[{"groupName":"CG","subscriptionDataSet":[{"topic":"T","codeSet":[1,"x"]}]}]})"),
      {"codeSet[1]"});
  expect_error(parse_heartbeat_body(R"({"clientID":"c","consumerDataSet":{}})"),
               {"consumerDataSet", "array"});
  expect_error(parse_heartbeat_body(
                   R"({"clientID":"c","consumerDataSet":[{"groupName":"CG","unitMode":"maybe"}]})"),
               {"unitMode"});
}

TEST(RouteData, WriterQuotesBrokerIdsAndRoundTrips) {
  TopicRouteData route;
  route.queue_datas.push_back({"broker-a", 4, 4, perm::kReadWrite, 0});
  route.broker_datas.push_back(
      {"DefaultCluster", "broker-a", {{0, "10.0.0.1:10911"}, {1, "10.0.0.2:10911"}}});
  std::string body = write_topic_route_data(route);
  EXPECT_EQ(body, R"({"brokerDatas":[{"brokerAddrs":{"0":"10.0.0.1:10911","1":"10.0.0.2:10911"},)"
                  R"("brokerName":"broker-a","cluster":"DefaultCluster"}],"filterServerTable":{},)"
                  R"("queueDatas":[{"brokerName":"broker-a","perm":6,"readQueueNums":4,)"
                  R"("topicSysFlag":0,"writeQueueNums":4}]})");
  auto parsed = parse_topic_route_data(body);
  ASSERT_TRUE(parsed.ok()) << parsed.error().to_string();
  EXPECT_EQ(*parsed, route);
}

TEST(RouteData, OldFastjsonUnquotedBrokerIdsParse) {
  auto parsed = parse_topic_route_data(
      R"({"brokerDatas":[{"brokerAddrs":{0:"10.0.0.1:10911", 1 :"a:1"},"brokerName":"b","cluster":"c"}],)"
      R"("queueDatas":[{"brokerName":"b","perm":6,"readQueueNums":2,"writeQueueNums":2}]})");
  ASSERT_TRUE(parsed.ok()) << parsed.error().to_string();
  EXPECT_EQ(parsed->broker_datas[0].broker_addrs.at(0), "10.0.0.1:10911");
  EXPECT_EQ(parsed->broker_datas[0].broker_addrs.at(1), "a:1");
  EXPECT_EQ(quote_fastjson_keys(R"({"s":"{0:1}",2:[3,4],"x":{5:6}})"),
            R"({"s":"{0:1}","2":[3,4],"x":{"5":6}})");
  EXPECT_EQ(quote_fastjson_keys(R"({{"a":"}\"","b":{"c":1}}:1,"k":{"v":2}})"),
            R"({"{\"a\":\"}\\\"\",\"b\":{\"c\":1}}":1,"k":{"v":2}})");
  expect_error(parse_topic_route_data(R"({"queueDatas":[{"brokerName":"b","perm":6}]})"),
               {"queueDatas[0].readQueueNums"});
  expect_error(
      parse_topic_route_data(R"({"brokerDatas":[{"brokerName":"b","brokerAddrs":{"x":"a"}}]})"),
      {"brokerDatas[0].brokerAddrs", "'x'"});
}

TEST(RouteData, ClusterInfoShape) {
  ClusterInfo info;
  info.broker_addr_table["broker-a"] = {"DefaultCluster", "broker-a", {{0, "10.0.0.1:10911"}}};
  info.cluster_addr_table["DefaultCluster"] = {"broker-a"};
  EXPECT_EQ(write_cluster_info(info),
            R"({"brokerAddrTable":{"broker-a":{"brokerAddrs":{"0":"10.0.0.1:10911"},)"
            R"("brokerName":"broker-a","cluster":"DefaultCluster"}},)"
            R"("clusterAddrTable":{"DefaultCluster":["broker-a"]}})");
}

TEST(LockBatch, RequestParsesAndReplyListsLockedQueues) {
  auto req = parse_lock_batch_body(
      R"({"consumerGroup":"CG","clientId":"c@1","mqSet":[{"topic":"T","brokerName":"b","queueId":1},)"
      R"({"topic":"T","brokerName":"b","queueId":0}]})");
  ASSERT_TRUE(req.ok()) << req.error().to_string();
  EXPECT_EQ(req->mq_set.size(), 2u);
  EXPECT_EQ(req->mq_set.begin()->queue_id, 0);
  auto again = parse_lock_batch_body(write_lock_batch_body(*req));
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(*again, *req);
  EXPECT_EQ(write_lock_batch_response_body({MessageQueue{"T", "b", 0}}),
            R"({"lockOKMQSet":[{"brokerName":"b","queueId":0,"topic":"T"}]})");
  expect_error(
      parse_lock_batch_body(
          R"({"consumerGroup":"CG","clientId":"c","mqSet":[{"topic":"T","brokerName":"b","queueId":-1}]})"),
      {"mqSet[0].queueId"});
}

TEST(RegisterBrokerBody, RoundTripsAndValidates) {
  RegisterBrokerBody body;
  body.topic_config_table["TopicTest"] = {"TopicTest", 4, 4, 6, "SINGLE_TAG", 0, false};
  body.data_version = {1700000000000LL, 3};
  auto parsed = parse_register_broker_body(write_register_broker_body(body));
  ASSERT_TRUE(parsed.ok()) << parsed.error().to_string();
  EXPECT_EQ(*parsed, body);
  expect_error(
      parse_register_broker_body(
          R"({"topicConfigSerializeWrapper":{"topicConfigTable":{"T":{"readQueueNums":4,"writeQueueNums":-1,"perm":6}}}})"),
      {"topicConfigTable.T.writeQueueNums"});
  expect_error(parse_register_broker_body("{}"), {"topicConfigSerializeWrapper", "missing"});
}

// As a RocketMQ 4.x broker answers GET_CONSUMER_CONNECTION_LIST (fastjson, fields by name).
TEST(Bodies, ConsumerConnectionFromABrokerReadsBackAndWritesTheSameFields) {
  auto parsed = parse_consumer_connection(
      R"({"connectionSet":[{"clientAddr":"10.0.0.9:53211","clientId":"10.0.0.9@77",)"
      R"("language":"JAVA","version":373},{"clientAddr":"10.0.0.5:1","clientId":"10.0.0.5@1",)"
      R"("language":"CPP","version":1}],"consumeFromWhere":"CONSUME_FROM_FIRST_OFFSET",)"
      R"("consumeType":"CONSUME_PASSIVELY","messageModel":"CLUSTERING","subscriptionTable":)"
      R"({"T":{"classFilterMode":false,"codeSet":[2598919],"expressionType":"TAG",)"
      R"("subString":"TagA","subVersion":1700000000000,"tagsSet":["TagA"],"topic":"T"}}})");
  ASSERT_TRUE(parsed.ok()) << parsed.error().to_string();
  ASSERT_EQ(parsed->connections.size(), 2u);
  EXPECT_EQ(parsed->connections[0].client_id, "10.0.0.5@1");  // sorted by client id
  EXPECT_EQ(parsed->connections[1].client_addr, "10.0.0.9:53211");
  EXPECT_EQ(parsed->connections[1].version, 373);
  EXPECT_EQ(parsed->consume_from_where, ConsumeFromWhere::kFirstOffset);
  ASSERT_EQ(parsed->subscriptions.size(), 1u);
  EXPECT_EQ(parsed->subscriptions[0].tags_set, std::vector<std::string>{"TagA"});
  auto again = parse_consumer_connection(write_consumer_connection(*parsed));
  ASSERT_TRUE(again.ok()) << again.error().to_string();
  EXPECT_EQ(*again, *parsed);

  expect_error(parse_consumer_connection(R"({"connectionSet":[{"clientAddr":"a"}]})"),
               {"connectionSet[0].clientId"});
  expect_error(parse_consumer_connection(R"({"subscriptionTable":{"T":{"topic":"U"}}})"),
               {"subscriptionTable.T.topic", "'U'"});
  expect_error(parse_consumer_connection(R"({"messageModel":"BOTH"})"), {"messageModel"});
}

TEST(Bodies, ProducerConnectionFromABrokerReadsBackAndWritesTheSameFields) {
  const std::string body =
      R"({"connectionSet":[{"clientAddr":"10.0.0.9:53212","clientId":"10.0.0.9@77",)"
      R"("language":"JAVA","version":395},{"clientAddr":"10.0.0.5:2","clientId":"10.0.0.5@1",)"
      R"("language":"CPP","version":1}]})";
  auto parsed = parse_producer_connection(body);
  ASSERT_TRUE(parsed.ok()) << parsed.error().to_string();
  ASSERT_EQ(parsed->connections.size(), 2u);
  EXPECT_EQ(parsed->connections[0],
            (ClientConnection{"10.0.0.5@1", "10.0.0.5:2", "CPP", 1}));  // sorted by client id
  EXPECT_EQ(parsed->connections[1].version, 395);
  auto again = parse_producer_connection(write_producer_connection(*parsed));
  ASSERT_TRUE(again.ok()) << again.error().to_string();
  EXPECT_EQ(*again, *parsed);
  EXPECT_EQ(write_producer_connection(*parsed).find(R"({"connectionSet":[{"clientAddr":)"), 0u);

  expect_error(parse_producer_connection(R"({"connectionSet":[{"clientAddr":"a"}]})"),
               {"connectionSet[0].clientId"});
  expect_error(parse_producer_connection(R"({"connectionSet":{}})"), {"connectionSet"});
  expect_error(parse_producer_connection("[]"), {"ProducerConnection"});
}

}  // namespace
}  // namespace dledger::remoting
