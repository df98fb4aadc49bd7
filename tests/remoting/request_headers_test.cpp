// Typed parsers for every request code the broker and name server handle: good input, missing
// fields, malformed and out-of-range values. Error messages must name the field and the value.
#include <gtest/gtest.h>

#include "broker/remoting/client_headers.h"
#include "broker/remoting/ext_fields.h"
#include "broker/remoting/offset_headers.h"
#include "broker/remoting/pull_header.h"
#include "broker/remoting/register_broker.h"
#include "broker/remoting/send_header.h"
#include "tests/remoting/test_util.h"

namespace dledger::remoting {
namespace {

RemotingCommand request(int32_t code, std::map<std::string, std::string> fields) {
  RemotingCommand cmd = make_request(code, 1);
  cmd.ext_fields = std::move(fields);
  return cmd;
}

// Expects `result` to fail with a message containing every string of `needles`.
using testing::expect_error;

std::map<std::string, std::string> v2_fields() {
  return {{"a", "PG"},
          {"b", "TopicTest"},
          {"c", "TBW102"},
          {"d", "4"},
          {"e", "2"},
          {"f", "0"},
          {"g", "1700000000000"},
          {"h", "0"},
          {"i", std::string("TAGS\x01TagA\x02UNIQ_KEY\x01"
                            "ABC\x02WAIT\x01true\x02")},
          {"j", "0"},
          {"k", "false"},
          {"m", "false"}};
}

TEST(SendHeader, V2ShortNamesParse) {
  auto req = parse_send_message_request(request(request_code::kSendMessageV2, v2_fields()));
  ASSERT_TRUE(req.ok()) << req.error().to_string();
  EXPECT_EQ(req->producer_group, "PG");
  EXPECT_EQ(req->topic, "TopicTest");
  EXPECT_EQ(req->default_topic, "TBW102");
  EXPECT_EQ(req->default_topic_queue_nums, 4);
  EXPECT_EQ(req->queue_id, 2);
  EXPECT_EQ(req->born_timestamp_ms, 1700000000000LL);
  EXPECT_EQ(req->reconsume_times, 0);
  EXPECT_FALSE(req->unit_mode);
  EXPECT_FALSE(req->max_reconsume_times.has_value());
  EXPECT_FALSE(req->batch);
}

TEST(SendHeader, LongNamesOfSendMessageGiveTheSameRequest) {
  RemotingCommand v2 = request(request_code::kSendMessageV2, v2_fields());
  auto short_form = parse_send_message_request(v2);
  ASSERT_TRUE(short_form.ok());
  RemotingCommand v1 = make_request(request_code::kSendMessage, 1);
  write_send_message_request(*short_form, &v1);
  EXPECT_EQ(v1.ext_fields.at("producerGroup"), "PG");
  EXPECT_EQ(v1.ext_fields.at("defaultTopicQueueNums"), "4");
  auto long_form = parse_send_message_request(v1);
  ASSERT_TRUE(long_form.ok()) << long_form.error().to_string();
  EXPECT_EQ(*long_form, *short_form);
}

TEST(SendHeader, BatchCodeAlwaysMeansBatch) {
  auto req = parse_send_message_request(request(request_code::kSendBatchMessage, v2_fields()));
  ASSERT_TRUE(req.ok());
  EXPECT_TRUE(req->batch);
}

TEST(SendHeader, JsonNumbersAndBooleansFromAliOnsAreAccepted) {
  // ali-ons sends numbers and booleans; the JSON header decoder turned them into text.
  const std::string header =
      R"({"code":310,"language":"JAVA","version":121,"opaque":1,"flag":0,"extFields":{)"
      R"("a":"PG","b":"T","c":"TBW102","d":4,"e":1,"f":0,"g":1700000000000,"h":0,)"
      R"("i":"","j":0,"k":false,"l":16,"m":false}})";
  auto cmd = decode_header(SerializeType::kJson, header);
  ASSERT_TRUE(cmd.ok()) << cmd.error().to_string();
  auto req = parse_send_message_request(*cmd);
  ASSERT_TRUE(req.ok()) << req.error().to_string();
  EXPECT_EQ(req->queue_id, 1);
  EXPECT_EQ(req->max_reconsume_times, 16);
  EXPECT_FALSE(req->unit_mode);
}

TEST(SendHeader, MissingAndBadFieldsAreNamed) {
  auto missing = v2_fields();
  missing.erase("b");
  expect_error(parse_send_message_request(request(310, missing)),
               {"SEND_MESSAGE_V2 (310)", "'b' (topic)", "missing"});

  auto bad_queue = v2_fields();
  bad_queue["e"] = "x1";
  expect_error(parse_send_message_request(request(310, bad_queue)),
               {"'e' (queueId)", "'x1'", "not a decimal integer"});

  auto range = v2_fields();
  range["e"] = "-2";
  expect_error(parse_send_message_request(request(310, range)), {"'e' (queueId)", "-2", "outside"});

  auto overflow = v2_fields();
  overflow["d"] = "2147483648";
  expect_error(parse_send_message_request(request(310, overflow)), {"defaultTopicQueueNums"});

  auto bad_bool = v2_fields();
  bad_bool["k"] = "yes";
  expect_error(parse_send_message_request(request(310, bad_bool)), {"'k' (unitMode)", "'yes'"});

  auto bad_topic = v2_fields();
  bad_topic["b"] = "bad topic";
  expect_error(parse_send_message_request(request(310, bad_topic)), {"'b'", "'bad topic'"});

  auto long_topic = v2_fields();
  long_topic["b"] = std::string(128, 't');
  expect_error(parse_send_message_request(request(310, long_topic)), {"1..127"});

  auto bad_props = v2_fields();
  bad_props["i"] = "TAGS";
  expect_error(parse_send_message_request(request(310, bad_props)), {"'i' (properties)"});

  auto v1_missing = request(request_code::kSendMessage, {{"producerGroup", "PG"}});
  expect_error(parse_send_message_request(v1_missing), {"SEND_MESSAGE (10)", "'topic'"});

  expect_error(parse_send_message_request(request(request_code::kPullMessage, v2_fields())),
               {"not a send request"});
}

TEST(SendHeader, ResponseCarriesMsgIdQueueIdAndOffset) {
  RemotingCommand response = make_response(make_request(310, 1), response_code::kSuccess);
  write_send_message_response({"0A00000100002A9F0000000000001234", 2, 99, std::nullopt}, &response);
  EXPECT_EQ(response.ext_fields.at("queueOffset"), "99");
  auto parsed = parse_send_message_response(response);
  ASSERT_TRUE(parsed.ok()) << parsed.error().to_string();
  EXPECT_EQ(parsed->msg_id, "0A00000100002A9F0000000000001234");
  EXPECT_EQ(parsed->queue_id, 2);
  EXPECT_EQ(parsed->queue_offset, 99);
  response.ext_fields.erase("msgId");
  expect_error(parse_send_message_response(response), {"response (code 0)", "'msgId'"});
}

std::map<std::string, std::string> pull_fields() {
  return {{"consumerGroup", "CG"},  {"topic", "T"},
          {"queueId", "1"},         {"queueOffset", "10"},
          {"maxMsgNums", "32"},     {"sysFlag", "7"},
          {"commitOffset", "8"},    {"suspendTimeoutMillis", "15000"},
          {"subscription", "TagA"}, {"subVersion", "1700000000000"},
          {"expressionType", "TAG"}};
}

TEST(PullHeader, AllFieldsParseAndSysFlagBitsDecode) {
  auto req = parse_pull_message_request(request(request_code::kPullMessage, pull_fields()));
  ASSERT_TRUE(req.ok()) << req.error().to_string();
  EXPECT_EQ(req->queue_offset, 10);
  EXPECT_EQ(req->max_msg_nums, 32);
  EXPECT_TRUE(req->has_commit_offset());
  EXPECT_TRUE(req->suspend());
  EXPECT_TRUE(req->has_subscription());
  EXPECT_FALSE(req->class_filter());
  EXPECT_EQ(req->subscription, "TagA");
  EXPECT_EQ(req->suspend_timeout_ms, 15000);

  RemotingCommand again = make_request(request_code::kPullMessage, 2);
  write_pull_message_request(*req, &again);
  auto reparsed = parse_pull_message_request(again);
  ASSERT_TRUE(reparsed.ok());
  EXPECT_EQ(*reparsed, *req);
}

TEST(PullHeader, OptionalFieldsDefault) {
  auto fields = pull_fields();
  fields.erase("subscription");
  fields.erase("subVersion");
  fields.erase("expressionType");
  auto req = parse_pull_message_request(request(request_code::kPullMessage, fields));
  ASSERT_TRUE(req.ok()) << req.error().to_string();
  EXPECT_FALSE(req->subscription.has_value());
  EXPECT_EQ(req->sub_version, 0);
  EXPECT_EQ(req->expression_type, "TAG");
}

TEST(PullHeader, MissingAndBadFieldsAreNamed) {
  for (const char* key : {"consumerGroup", "topic", "queueId", "queueOffset", "maxMsgNums",
                          "sysFlag", "commitOffset", "suspendTimeoutMillis"}) {
    auto fields = pull_fields();
    fields.erase(key);
    expect_error(parse_pull_message_request(request(11, fields)),
                 {"PULL_MESSAGE (11)", std::string("'") + key + "'", "missing"});
  }
  auto negative = pull_fields();
  negative["queueOffset"] = "-5";
  expect_error(parse_pull_message_request(request(11, negative)), {"'queueOffset'", "-5"});
  auto zero = pull_fields();
  zero["maxMsgNums"] = "0";
  expect_error(parse_pull_message_request(request(11, zero)), {"'maxMsgNums'"});
  auto huge = pull_fields();
  huge["queueOffset"] = "99999999999999999999";
  expect_error(parse_pull_message_request(request(11, huge)), {"'queueOffset'"});
  auto spaces = pull_fields();
  spaces["queueId"] = " 1";
  expect_error(parse_pull_message_request(request(11, spaces)), {"'queueId'", "' 1'"});
}

TEST(PullHeader, ResponseRequiresAllFourOffsets) {
  RemotingCommand response = make_response(make_request(11, 1), response_code::kSuccess);
  write_pull_message_response({0, 11, 0, 11}, &response);
  auto parsed = parse_pull_message_response(response);
  ASSERT_TRUE(parsed.ok());
  EXPECT_EQ(*parsed, (PullMessageResponse{0, 11, 0, 11}));
  response.ext_fields.erase("minOffset");
  expect_error(parse_pull_message_response(response), {"'minOffset'"});
}

TEST(OffsetHeaders, QueryAndUpdateConsumerOffset) {
  auto query = parse_query_consumer_offset_request(
      request(14, {{"consumerGroup", "CG"}, {"topic", "T"}, {"queueId", "3"}}));
  ASSERT_TRUE(query.ok());
  EXPECT_EQ(query->queue_id, 3);
  expect_error(parse_query_consumer_offset_request(request(14, {{"topic", "T"}, {"queueId", "3"}})),
               {"QUERY_CONSUMER_OFFSET (14)", "'consumerGroup'"});

  auto update = parse_update_consumer_offset_request(request(
      15, {{"consumerGroup", "CG"}, {"topic", "T"}, {"queueId", "3"}, {"commitOffset", "42"}}));
  ASSERT_TRUE(update.ok());
  EXPECT_EQ(update->commit_offset, 42);
  expect_error(
      parse_update_consumer_offset_request(request(
          15, {{"consumerGroup", "CG"}, {"topic", "T"}, {"queueId", "3"}, {"commitOffset", "-2"}})),
      {"'commitOffset'", "-2"});
  expect_error(parse_update_consumer_offset_request(request(14, {})), {"is not"});
}

TEST(OffsetHeaders, MaxMinEarliestAndSearch) {
  for (int32_t code : {30, 31, 32}) {
    auto req = parse_queue_request(request(code, {{"topic", "T"}, {"queueId", "0"}}));
    ASSERT_TRUE(req.ok()) << code;
    EXPECT_EQ(req->topic, "T");
    expect_error(parse_queue_request(request(code, {{"topic", "T"}})), {"'queueId'"});
  }
  expect_error(parse_queue_request(request(29, {{"topic", "T"}, {"queueId", "0"}})),
               {"GET_MAX_OFFSET (30) or GET_MIN_OFFSET (31)"});

  auto search = parse_search_offset_request(
      request(29, {{"topic", "T"}, {"queueId", "1"}, {"timestamp", "1700000000000"}}));
  ASSERT_TRUE(search.ok());
  EXPECT_EQ(search->timestamp_ms, 1700000000000LL);
  expect_error(parse_search_offset_request(
                   request(29, {{"topic", "T"}, {"queueId", "1"}, {"timestamp", "soon"}})),
               {"'timestamp'", "'soon'"});

  RemotingCommand reply;
  write_offset_response(17, &reply);
  write_timestamp_response(99, &reply);
  EXPECT_EQ(reply.ext_fields.at("offset"), "17");
  EXPECT_EQ(reply.ext_fields.at("timestamp"), "99");
}

TEST(ClientHeaders, UnregisterClientAndConsumerList) {
  auto unregister = parse_unregister_client_request(
      request(35, {{"clientID", "10.0.0.5@1"}, {"consumerGroup", "CG"}}));
  ASSERT_TRUE(unregister.ok());
  EXPECT_EQ(unregister->client_id, "10.0.0.5@1");
  EXPECT_EQ(unregister->consumer_group, "CG");
  EXPECT_FALSE(unregister->producer_group.has_value());
  expect_error(parse_unregister_client_request(request(35, {{"clientID", ""}})),
               {"'clientID'", "empty"});

  auto list = parse_get_consumer_list_by_group_request(request(38, {{"consumerGroup", "CG"}}));
  ASSERT_TRUE(list.ok());
  EXPECT_EQ(list->consumer_group, "CG");
  expect_error(parse_get_consumer_list_by_group_request(request(38, {})), {"'consumerGroup'"});
  EXPECT_EQ(write_consumer_list_body({"a@1", "b@2"}), R"({"consumerIdList":["a@1","b@2"]})");
}

TEST(ClientHeaders, ConsumerSendMsgBack) {
  auto back = parse_consumer_send_msg_back_request(request(36, {{"offset", "1234"},
                                                                {"group", "CG"},
                                                                {"delayLevel", "0"},
                                                                {"originMsgId", "ID"},
                                                                {"originTopic", "T"},
                                                                {"maxReconsumeTimes", "16"}}));
  ASSERT_TRUE(back.ok()) << back.error().to_string();
  EXPECT_EQ(back->offset, 1234);
  EXPECT_EQ(back->max_reconsume_times, 16);
  EXPECT_EQ(back->origin_topic, "T");
  EXPECT_FALSE(back->unit_mode);
  expect_error(parse_consumer_send_msg_back_request(
                   request(36, {{"offset", "1"}, {"group", "CG"}, {"delayLevel", "x"}})),
               {"CONSUMER_SEND_MSG_BACK (36)", "'delayLevel'", "'x'"});
  expect_error(parse_consumer_send_msg_back_request(request(36, {{"group", "CG"}})), {"'offset'"});
}

TEST(ClientHeaders, GetRouteInfo) {
  auto route = parse_get_route_info_request(request(105, {{"topic", "TopicTest"}}));
  ASSERT_TRUE(route.ok());
  EXPECT_EQ(route->topic, "TopicTest");
  expect_error(parse_get_route_info_request(request(105, {})),
               {"GET_ROUTEINFO_BY_TOPIC (105)", "'topic'"});
}

TEST(RegisterBrokerHeaders, RegisterAndUnregister) {
  RegisterBrokerRequest req{
      "broker-a", "10.0.0.1:10911", "DefaultCluster", "10.0.0.1:10912", 0, false, 12345};
  RemotingCommand cmd = make_request(request_code::kRegisterBroker, 1);
  write_register_broker_request(req, &cmd);
  auto parsed = parse_register_broker_request(cmd);
  ASSERT_TRUE(parsed.ok()) << parsed.error().to_string();
  EXPECT_EQ(*parsed, req);
  cmd.ext_fields["brokerId"] = "-1";
  expect_error(parse_register_broker_request(cmd), {"REGISTER_BROKER (103)", "'brokerId'", "-1"});
  cmd.ext_fields.erase("clusterName");
  expect_error(parse_register_broker_request(cmd), {"'clusterName'"});

  auto unregister = parse_unregister_broker_request(request(
      104, {{"brokerName", "b"}, {"brokerAddr", "a:1"}, {"clusterName", "c"}, {"brokerId", "1"}}));
  ASSERT_TRUE(unregister.ok());
  EXPECT_EQ(unregister->broker_id, 1);

  RemotingCommand reply;
  write_register_broker_response({"ha:1", "master:2"}, &reply);
  EXPECT_EQ(reply.ext_fields.at("masterAddr"), "master:2");
}

TEST(ExtFieldReader, KeepsTheFirstError) {
  RemotingCommand cmd = request(request_code::kPullMessage, {{"a", "x"}, {"b", "y"}});
  ExtFieldReader r(cmd);
  r.required_int("a", 0, 10);
  r.required_int("b", 0, 10);
  r.required_string("c");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("'a'"), std::string::npos);
  EXPECT_EQ(r.error().message.find("'b'"), std::string::npos);
}

TEST(ExtFieldReader, BooleansAreCaseInsensitiveAndIntegersAcceptPlusSign) {
  RemotingCommand cmd = request(1, {{"t", "TRUE"}, {"f", "False"}, {"n", "+7"}});
  ExtFieldReader r(cmd);
  EXPECT_TRUE(r.optional_bool("t", false));
  EXPECT_FALSE(r.optional_bool("f", true));
  EXPECT_TRUE(r.optional_bool("absent", true));
  EXPECT_EQ(r.required_int("n", 0, 10), 7);
  EXPECT_TRUE(r.ok());
}

}  // namespace
}  // namespace dledger::remoting
