// The broker's request handlers over a real 3-member ledger group in-process (MessageStore +
// RemotingServer per replica on 127.0.0.1), driven through RemotingClient.
#include "broker/broker/broker_handlers.h"

#include <gtest/gtest.h>

#include <atomic>
#include <future>
#include <thread>

#include "broker/base/properties.h"
#include "broker/broker/name_server_registration.h"
#include "broker/frontend/remoting_client.h"
#include "broker/remoting/admin_stats.h"
#include "broker/remoting/client_headers.h"
#include "broker/remoting/codes.h"
#include "broker/remoting/heartbeat.h"
#include "broker/remoting/message_codec.h"
#include "broker/remoting/message_properties.h"
#include "broker/remoting/pull_header.h"
#include "broker/remoting/register_broker.h"
#include "broker/remoting/send_header.h"
#include "broker/store/store_state.h"
#include "tests/broker/broker_group.h"
#include "tests/broker/broker_requests.h"

namespace dledger::broker {
namespace {

using namespace std::chrono_literals;
using remoting::RemotingCommand;
namespace rc = remoting::request_code;
namespace resp = remoting::response_code;
using testing::BrokerGroup;

class BrokerHandlersTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    group_ = new BrokerGroup({.replicas = 3});
    // Followers forward leader-only requests to the leader's remoting port.
    group_->route_forwarding_within_group();
    master_ = group_->wait_for_master();
    ASSERT_GE(master_, 0);
    ASSERT_EQ(group_->create_topic(master_, "orders", 2), resp::kSuccess);
  }
  static void TearDownTestSuite() {
    delete group_;
    group_ = nullptr;
  }

  static frontend::RemotingClient& master() { return *group_->at(master_).client; }
  static frontend::RemotingClient& follower() { return *group_->at((master_ + 1) % 3).client; }

  static RemotingCommand send_request(std::int32_t code, std::int32_t queue_id,
                                      const std::string& body, remoting::SerializeType type,
                                      const std::string& topic = "orders") {
    RemotingCommand cmd = remoting::make_request(code, 0);
    cmd.serialize_type = type;
    remoting::SendMessageRequest header;
    header.producer_group = "PG";
    header.topic = topic;
    header.default_topic = "TBW102";
    header.default_topic_queue_nums = 4;
    header.queue_id = queue_id;
    header.born_timestamp_ms = 1700000000000;
    header.properties = *remoting::encode_message_properties({{"TAGS", "TagA"}, {"KEYS", "k1"}});
    remoting::write_send_message_request(header, &cmd);
    cmd.body = body;
    return cmd;
  }

  static RemotingCommand pull_request(std::int32_t queue_id, std::int64_t offset,
                                      std::int32_t sys_flag, std::int64_t suspend_ms) {
    RemotingCommand cmd = remoting::make_request(rc::kPullMessage, 0);
    remoting::PullMessageRequest header;
    header.consumer_group = "CG";
    header.topic = "orders";
    header.queue_id = queue_id;
    header.queue_offset = offset;
    header.max_msg_nums = 32;
    header.sys_flag = sys_flag;
    header.commit_offset = 0;
    header.suspend_timeout_ms = suspend_ms;
    remoting::write_pull_message_request(header, &cmd);
    return cmd;
  }

  static inline BrokerGroup* group_ = nullptr;
  static inline int master_ = -1;
};

TEST_F(BrokerHandlersTest, SentMessagesArePulledBackWithBodyAndProperties) {
  auto json = master().invoke_sync(
      send_request(rc::kSendMessageV2, 0, "hello-json", remoting::SerializeType::kJson), 10s);
  ASSERT_TRUE(json.ok()) << json.error().to_string();
  ASSERT_EQ(json->code, resp::kSuccess) << json->remark.value_or("");
  auto sent = remoting::parse_send_message_response(*json);
  ASSERT_TRUE(sent.ok()) << sent.error().to_string();
  EXPECT_EQ(sent->queue_id, 0);
  EXPECT_EQ(sent->msg_id.size(), 32u);

  auto binary = master().invoke_sync(
      send_request(rc::kSendMessage, 0, "hello-binary", remoting::SerializeType::kRocketmq), 10s);
  ASSERT_TRUE(binary.ok());
  ASSERT_EQ(binary->code, resp::kSuccess) << binary->remark.value_or("");
  EXPECT_EQ(binary->serialize_type, remoting::SerializeType::kRocketmq);
  auto sent2 = remoting::parse_send_message_response(*binary);
  ASSERT_TRUE(sent2.ok());
  EXPECT_EQ(sent2->queue_offset, sent->queue_offset + 1);

  auto pulled = master().invoke_sync(pull_request(0, sent->queue_offset, 0, 0), 10s);
  ASSERT_TRUE(pulled.ok());
  ASSERT_EQ(pulled->code, resp::kSuccess) << pulled->remark.value_or("");
  auto header = remoting::parse_pull_message_response(*pulled);
  ASSERT_TRUE(header.ok());
  EXPECT_EQ(header->next_begin_offset, sent->queue_offset + 2);
  EXPECT_EQ(header->max_offset, sent->queue_offset + 2);
  auto records = remoting::decode_message_records(pulled->body);
  ASSERT_TRUE(records.ok()) << records.error().to_string();
  ASSERT_EQ(records->size(), 2u);
  EXPECT_EQ((*records)[0].body, "hello-json");
  EXPECT_EQ((*records)[1].body, "hello-binary");
  EXPECT_EQ((*records)[0].topic, "orders");
  EXPECT_EQ(remoting::offset_msg_id((*records)[0]), sent->msg_id);
  auto props = remoting::decode_message_properties((*records)[0].properties);
  ASSERT_TRUE(props.ok());
  EXPECT_EQ(props->at("TAGS"), "TagA");
  EXPECT_EQ(props->at("KEYS"), "k1");

  // Past the end without suspending: PULL_NOT_FOUND carrying the next offset.
  auto empty = master().invoke_sync(pull_request(0, sent->queue_offset + 2, 0, 0), 10s);
  ASSERT_TRUE(empty.ok());
  EXPECT_EQ(empty->code, resp::kPullNotFound);
  // Far past the end: PULL_OFFSET_MOVED.
  auto moved = master().invoke_sync(pull_request(0, sent->queue_offset + 100, 0, 0), 10s);
  ASSERT_TRUE(moved.ok());
  EXPECT_EQ(moved->code, resp::kPullOffsetMoved);
}

TEST_F(BrokerHandlersTest, SuspendedPullIsAnsweredByALaterSend) {
  RemotingCommand max = remoting::make_request(rc::kGetMaxOffset, 0);
  max.ext_fields = {{"topic", "orders"}, {"queueId", "1"}};
  auto max_reply = master().invoke_sync(max, 10s);
  ASSERT_TRUE(max_reply.ok());
  ASSERT_EQ(max_reply->code, resp::kSuccess);
  std::int64_t next = std::stoll(max_reply->ext_fields.at("offset"));

  auto pending =
      master().invoke(pull_request(1, next, remoting::pull_sys_flag::kSuspend, 20000), 30s);
  std::this_thread::sleep_for(100ms);
  auto sent = master().invoke_sync(
      send_request(rc::kSendMessageV2, 1, "wake-up", remoting::SerializeType::kJson), 10s);
  ASSERT_TRUE(sent.ok());
  ASSERT_EQ(sent->code, resp::kSuccess) << sent->remark.value_or("");
  auto pulled = pending.get();
  ASSERT_TRUE(pulled.ok()) << pulled.error().to_string();
  ASSERT_EQ(pulled->code, resp::kSuccess);
  auto records = remoting::decode_message_records(pulled->body);
  ASSERT_TRUE(records.ok());
  ASSERT_EQ(records->size(), 1u);
  EXPECT_EQ((*records)[0].body, "wake-up");
  EXPECT_EQ((*records)[0].queue_offset, next);
}

TEST_F(BrokerHandlersTest, ConsumerOffsetsAreCommittedAndQueried) {
  RemotingCommand update = remoting::make_request(rc::kUpdateConsumerOffset, 0);
  update.ext_fields = {{"consumerGroup", "CG-offsets"},
                       {"topic", "orders"},
                       {"queueId", "1"},
                       {"commitOffset", "7"}};
  auto updated = master().invoke_sync(update, 10s);
  ASSERT_TRUE(updated.ok());
  ASSERT_EQ(updated->code, resp::kSuccess) << updated->remark.value_or("");

  RemotingCommand query = remoting::make_request(rc::kQueryConsumerOffset, 0);
  query.ext_fields = {{"consumerGroup", "CG-offsets"}, {"topic", "orders"}, {"queueId", "1"}};
  auto queried = master().invoke_sync(query, 10s);
  ASSERT_TRUE(queried.ok());
  ASSERT_EQ(queried->code, resp::kSuccess);
  EXPECT_EQ(queried->ext_fields.at("offset"), "7");

  query.ext_fields["consumerGroup"] = "CG-never";
  auto missing = master().invoke_sync(query, 10s);
  ASSERT_TRUE(missing.ok());
  EXPECT_EQ(missing->code, resp::kQueryNotFound);

  RemotingCommand min = remoting::make_request(rc::kGetMinOffset, 0);
  min.ext_fields = {{"topic", "orders"}, {"queueId", "0"}};
  auto min_reply = master().invoke_sync(min, 10s);
  ASSERT_TRUE(min_reply.ok());
  EXPECT_EQ(min_reply->code, resp::kSuccess);
  EXPECT_EQ(min_reply->ext_fields.at("offset"), "0");
}

// Polls `replica` with `request` until `done(reply)` holds (a follower applies a little later).
template <typename Done>
Result<RemotingCommand> invoke_until(frontend::RemotingClient& replica,
                                     const RemotingCommand& request, Done done) {
  Result<RemotingCommand> reply = make_error(ErrorCode::kTimeout, "never asked");
  for (int i = 0; i < 200; ++i) {
    reply = replica.invoke_sync(request, 10s);
    if (reply.ok() && done(*reply)) break;
    std::this_thread::sleep_for(20ms);
  }
  return reply;
}

TEST_F(BrokerHandlersTest, TopicStatsListEveryWriteQueueWithItsOffsetsAndNewestStoreTime) {
  ASSERT_EQ(group_->create_topic(master_, "stats", 2), resp::kSuccess);
  for (int i = 0; i < 3; ++i) {
    auto sent = master().invoke_sync(send_request(rc::kSendMessageV2, 0, "m" + std::to_string(i),
                                                  remoting::SerializeType::kJson, "stats"),
                                     10s);
    ASSERT_TRUE(sent.ok());
    ASSERT_EQ(sent->code, resp::kSuccess) << sent->remark.value_or("");
  }
  // Every replica answers from its own applied state, with the same numbers.
  for (frontend::RemotingClient* replica : {&master(), &follower()}) {
    auto reply = invoke_until(*replica, remoting::make_topic_stats_request("stats"),
                              [](const RemotingCommand& r) {
                                auto t = remoting::parse_topic_stats_table(r.body);
                                return t.ok() && t->offset_table.size() == 2 &&
                                       t->offset_table.begin()->second.max_offset == 3;
                              });
    ASSERT_TRUE(reply.ok()) << reply.error().to_string();
    ASSERT_EQ(reply->code, resp::kSuccess) << reply->remark.value_or("");
    auto table = remoting::parse_topic_stats_table(reply->body);
    ASSERT_TRUE(table.ok()) << table.error().to_string();
    ASSERT_EQ(table->offset_table.size(), 2u) << reply->body;
    const remoting::TopicOffset& q0 = table->offset_table.at({"stats", "broker-a", 0});
    EXPECT_EQ(q0.min_offset, 0);
    EXPECT_EQ(q0.max_offset, 3);
    EXPECT_GT(q0.last_update_timestamp, 1700000000000);
    const remoting::TopicOffset& q1 = table->offset_table.at({"stats", "broker-a", 1});
    EXPECT_EQ(q1.max_offset, 0);
    EXPECT_EQ(q1.last_update_timestamp, 0);
  }
  auto unknown = master().invoke_sync(remoting::make_topic_stats_request("no-such-topic"), 10s);
  ASSERT_TRUE(unknown.ok());
  EXPECT_EQ(unknown->code, resp::kTopicNotExist);
  EXPECT_NE(unknown->remark.value_or("").find("no-such-topic"), std::string::npos);
}

TEST_F(BrokerHandlersTest, ConsumeStatsShowTheGroupsCommittedOffsetAgainstEachQueue) {
  ASSERT_EQ(group_->create_topic(master_, "progress", 2), resp::kSuccess);
  for (int i = 0; i < 4; ++i) {
    auto sent = master().invoke_sync(send_request(rc::kSendMessageV2, 1, "p" + std::to_string(i),
                                                  remoting::SerializeType::kJson, "progress"),
                                     10s);
    ASSERT_TRUE(sent.ok());
    ASSERT_EQ(sent->code, resp::kSuccess) << sent->remark.value_or("");
  }
  RemotingCommand commit = remoting::make_request(rc::kUpdateConsumerOffset, 0);
  commit.ext_fields = {{"consumerGroup", "CG-progress"},
                       {"topic", "progress"},
                       {"queueId", "1"},
                       {"commitOffset", "3"}};
  auto committed = master().invoke_sync(commit, 10s);
  ASSERT_TRUE(committed.ok());
  ASSERT_EQ(committed->code, resp::kSuccess) << committed->remark.value_or("");

  // Without a topic: every topic the group has offsets on. Through a follower too (forwarded).
  for (frontend::RemotingClient* replica : {&master(), &follower()}) {
    auto reply = replica->invoke_sync(remoting::make_consume_stats_request("CG-progress", ""), 10s);
    ASSERT_TRUE(reply.ok()) << reply.error().to_string();
    ASSERT_EQ(reply->code, resp::kSuccess) << reply->remark.value_or("");
    auto stats = remoting::parse_consume_stats(reply->body);
    ASSERT_TRUE(stats.ok()) << stats.error().to_string();
    ASSERT_EQ(stats->offset_table.size(), 2u) << reply->body;
    const remoting::OffsetWrapper& q1 = stats->offset_table.at({"progress", "broker-a", 1});
    EXPECT_EQ(q1.broker_offset, 4);
    EXPECT_EQ(q1.consumer_offset, 3);
    EXPECT_GT(q1.last_timestamp, 1700000000000);
    const remoting::OffsetWrapper& q0 = stats->offset_table.at({"progress", "broker-a", 0});
    EXPECT_EQ(q0.broker_offset, 0);
    EXPECT_EQ(q0.consumer_offset, 0);
    EXPECT_EQ(q0.last_timestamp, 0);
  }
  // A group without offsets has no rows; a named topic is reported even without offsets.
  auto none = master().invoke_sync(remoting::make_consume_stats_request("CG-none", ""), 10s);
  ASSERT_TRUE(none.ok());
  auto none_stats = remoting::parse_consume_stats(none->body);
  ASSERT_TRUE(none_stats.ok());
  EXPECT_TRUE(none_stats->offset_table.empty()) << none->body;
  auto named =
      master().invoke_sync(remoting::make_consume_stats_request("CG-none", "progress"), 10s);
  ASSERT_TRUE(named.ok());
  auto named_stats = remoting::parse_consume_stats(named->body);
  ASSERT_TRUE(named_stats.ok());
  EXPECT_EQ(named_stats->offset_table.size(), 2u) << named->body;
  EXPECT_EQ(named_stats->offset_table.at({"progress", "broker-a", 1}).consumer_offset, 0);
}

TEST_F(BrokerHandlersTest, HeartbeatMakesTheClientAConsumerOfItsGroup) {
  auto hb_reply = master().invoke_sync(
      testing::heartbeat_request("10.0.0.5@1234", "CG-heartbeat", "orders"), 10s);
  ASSERT_TRUE(hb_reply.ok());
  ASSERT_EQ(hb_reply->code, resp::kSuccess) << hb_reply->remark.value_or("");
  // Answered once the group's retry topic is applied on the master.
  EXPECT_TRUE(group_->at(master_).store->topic("%RETRY%CG-heartbeat").has_value());

  RemotingCommand list = remoting::make_request(rc::kGetConsumerListByGroup, 0);
  list.ext_fields = {{"consumerGroup", "CG-heartbeat"}};
  auto listed = master().invoke_sync(list, 10s);
  ASSERT_TRUE(listed.ok());
  ASSERT_EQ(listed->code, resp::kSuccess);
  EXPECT_EQ(listed->body, remoting::write_consumer_list_body({"10.0.0.5@1234"}));

  RemotingCommand unregister = remoting::make_request(rc::kUnregisterClient, 0);
  unregister.ext_fields = {{"clientID", "10.0.0.5@1234"}, {"consumerGroup", "CG-heartbeat"}};
  auto unregistered = master().invoke_sync(unregister, 10s);
  ASSERT_TRUE(unregistered.ok());
  EXPECT_EQ(unregistered->code, resp::kSuccess);
  auto after = master().invoke_sync(list, 10s);
  ASSERT_TRUE(after.ok());
  EXPECT_NE(after->code, resp::kSuccess);
}

TEST_F(BrokerHandlersTest, ConsumerConnectionListsClientsWithTheAddressTheyConnectFrom) {
  // One client heart-beats to the master, one to a follower (relayed to the master).
  auto direct = master().invoke_sync(
      testing::heartbeat_request("10.0.0.7@1", "CG-connection", "orders", "TagA"), 10s);
  ASSERT_TRUE(direct.ok());
  ASSERT_EQ(direct->code, resp::kSuccess) << direct->remark.value_or("");
  RemotingCommand via_follower =
      testing::heartbeat_request("10.0.0.8@2", "CG-connection", "orders", "TagA");
  via_follower.version = 373;
  auto relayed = follower().invoke_sync(via_follower, 10s);
  ASSERT_TRUE(relayed.ok());
  ASSERT_EQ(relayed->code, resp::kSuccess) << relayed->remark.value_or("");

  RemotingCommand request = remoting::make_request(rc::kGetConsumerConnectionList, 0);
  request.ext_fields = {{"consumerGroup", "CG-connection"}};
  // The leader's view, through either replica.
  for (frontend::RemotingClient* replica : {&master(), &follower()}) {
    auto reply = replica->invoke_sync(request, 10s);
    ASSERT_TRUE(reply.ok()) << reply.error().to_string();
    ASSERT_EQ(reply->code, resp::kSuccess) << reply->remark.value_or("");
    auto connection = remoting::parse_consumer_connection(reply->body);
    ASSERT_TRUE(connection.ok()) << connection.error().to_string();
    ASSERT_EQ(connection->connections.size(), 2u) << reply->body;
    EXPECT_EQ(connection->connections[0].client_id, "10.0.0.7@1");
    EXPECT_EQ(connection->connections[1].client_id, "10.0.0.8@2");
    EXPECT_EQ(connection->connections[1].version, 373);
    EXPECT_EQ(connection->connections[1].language, "JAVA");
    for (const auto& client : connection->connections) {
      EXPECT_EQ(client.client_addr.rfind("127.0.0.1:", 0), 0u) << client.client_addr;
    }
    ASSERT_EQ(connection->subscriptions.size(), 1u);
    EXPECT_EQ(connection->subscriptions[0].topic, "orders");
    EXPECT_EQ(connection->subscriptions[0].sub_string, "TagA");
  }

  request.ext_fields["consumerGroup"] = "CG-nobody";
  auto offline = master().invoke_sync(request, 10s);
  ASSERT_TRUE(offline.ok());
  EXPECT_EQ(offline->code, resp::kConsumerNotOnline);
  EXPECT_NE(offline->remark.value_or("").find("CG-nobody"), std::string::npos);
}

TEST_F(BrokerHandlersTest, ProducerConnectionListsTheProducersConnectedToEachReplica) {
  // A producer heart-beats to the master, another (with a consumer group too, so the heartbeat is
  // relayed to the leader) to a follower: each replica lists its own producers only.
  auto producer_heartbeat = [](const std::string& client, bool with_consumer) {
    remoting::HeartbeatData data;
    data.client_id = client;
    data.producers.push_back({"PG-connection"});
    if (with_consumer) data.consumers.push_back({.group_name = "CG-producers"});
    RemotingCommand cmd = remoting::make_request(rc::kHeartBeat, 0);
    cmd.version = 395;
    cmd.body = remoting::write_heartbeat_body(data);
    return cmd;
  };
  struct Producer {
    frontend::RemotingClient* replica;
    std::string client;
  };
  const std::vector<Producer> producers = {{&master(), "10.0.0.7@1"}, {&follower(), "10.0.0.8@2"}};
  for (const auto& [replica, client] : producers) {
    auto sent = replica->invoke_sync(producer_heartbeat(client, replica == &follower()), 10s);
    ASSERT_TRUE(sent.ok());
    ASSERT_EQ(sent->code, resp::kSuccess) << sent->remark.value_or("");
  }
  RemotingCommand request = remoting::make_request(rc::kGetProducerConnectionList, 0);
  request.ext_fields = {{"producerGroup", "PG-connection"}};
  for (const auto& [replica, client] : producers) {
    auto reply = replica->invoke_sync(request, 10s);
    ASSERT_TRUE(reply.ok()) << reply.error().to_string();
    ASSERT_EQ(reply->code, resp::kSuccess) << reply->remark.value_or("");
    auto connection = remoting::parse_producer_connection(reply->body);
    ASSERT_TRUE(connection.ok()) << connection.error().to_string();
    ASSERT_EQ(connection->connections.size(), 1u) << reply->body;
    EXPECT_EQ(connection->connections[0].client_id, client);
    EXPECT_EQ(connection->connections[0].language, "JAVA");
    EXPECT_EQ(connection->connections[0].version, 395);
    EXPECT_EQ(connection->connections[0].client_addr.rfind("127.0.0.1:", 0), 0u);
  }
  // UNREGISTER_CLIENT with the producer group forgets it on that replica.
  RemotingCommand leave = remoting::make_request(rc::kUnregisterClient, 0);
  leave.ext_fields = {{"clientID", "10.0.0.8@2"}, {"producerGroup", "PG-connection"}};
  auto left = follower().invoke_sync(leave, 10s);
  ASSERT_TRUE(left.ok());
  EXPECT_EQ(left->code, resp::kSuccess);
  auto gone = follower().invoke_sync(request, 10s);
  ASSERT_TRUE(gone.ok());
  EXPECT_EQ(gone->code, resp::kSystemError);
  EXPECT_EQ(gone->remark.value_or(""), "the producer group[PG-connection] not exist");
  // A header without the group names the field.
  auto bad = master().invoke_sync(remoting::make_request(rc::kGetProducerConnectionList, 0), 10s);
  ASSERT_TRUE(bad.ok());
  EXPECT_EQ(bad->code, resp::kSystemError);
  EXPECT_NE(bad->remark.value_or("").find("producerGroup"), std::string::npos);
}

// Handlers that wait for a commit (topic creation) answer from the store's thread: the io thread
// serves the requests behind them meanwhile. When UPDATE_AND_CREATE_TOPIC blocked its io thread,
// the reply to a request sent right after it on the same connection could never come first.
TEST_F(BrokerHandlersTest, ARequestWaitingForACommitDoesNotHoldUpTheRequestsBehindIt) {
  int overtaken = 0;
  for (int i = 0; i < 5; ++i) {
    std::atomic<int> arrivals{0};
    std::promise<std::pair<int, std::int32_t>> update_done;
    std::promise<std::pair<int, std::int32_t>> query_done;
    RemotingCommand create = remoting::make_request(rc::kUpdateAndCreateTopic, 0);
    create.ext_fields = {{"topic", "overtaken-" + std::to_string(i)},
                         {"readQueueNums", "1"},
                         {"writeQueueNums", "1"}};
    RemotingCommand min = remoting::make_request(rc::kGetMinOffset, 0);
    min.ext_fields = {{"topic", "orders"}, {"queueId", "0"}};
    auto record = [&arrivals](std::promise<std::pair<int, std::int32_t>>& done) {
      return [&arrivals, &done](Result<RemotingCommand> reply) {
        done.set_value({++arrivals, reply.ok() ? reply->code : -1});
      };
    };
    master().invoke_async(create, 10s, record(update_done));
    master().invoke_async(min, 10s, record(query_done));
    auto update = update_done.get_future().get();
    auto query = query_done.get_future().get();
    EXPECT_EQ(update.second, resp::kSuccess);
    EXPECT_EQ(query.second, resp::kSuccess);
    if (query.first < update.first) ++overtaken;
  }
  EXPECT_GT(overtaken, 0);
}

TEST_F(BrokerHandlersTest, ForwardedSendReachingAFollowerIsRefusedNamingTheLeader) {
  RemotingCommand send =
      send_request(rc::kSendMessageV2, 0, "to-follower", remoting::SerializeType::kJson);
  send.ext_fields[kForwardedFromField] = "n9";
  auto reply = follower().invoke_sync(send, 10s);
  ASSERT_TRUE(reply.ok());
  EXPECT_EQ(reply->code, resp::kServiceNotAvailable);
  EXPECT_NE(reply->remark.value_or("").find("n" + std::to_string(master_)), std::string::npos)
      << reply->remark.value_or("");
}

TEST_F(BrokerHandlersTest, SendToAnUnknownTopicIsTopicNotExist) {
  RemotingCommand send = send_request(rc::kSendMessageV2, 0, "x", remoting::SerializeType::kJson);
  send.ext_fields["b"] = "no-such-topic";
  auto reply = master().invoke_sync(send, 10s);
  ASSERT_TRUE(reply.ok());
  EXPECT_EQ(reply->code, resp::kTopicNotExist);
}

TEST_F(BrokerHandlersTest, MasterRegistersAsBrokerIdZeroAndFollowerAsSelfIdPlusOne) {
  std::mutex mu;
  std::map<std::string, std::int64_t> registered;  // brokerAddr -> brokerId
  std::string topics_seen;
  frontend::RemotingServer::Options stub_options;
  stub_options.host = "127.0.0.1";
  frontend::RemotingServer name_server(stub_options);
  name_server.register_handler(
      rc::kRegisterBroker,
      [&](const RemotingCommand& request, frontend::Connection&, frontend::Responder respond) {
        auto header = remoting::parse_register_broker_request(request);
        auto body = remoting::parse_register_broker_body(request.body);
        if (header.ok() && body.ok()) {
          std::lock_guard lock(mu);
          registered[header->broker_addr] = header->broker_id;
          if (body->topic_config_table.count("orders")) topics_seen = "orders";
        }
        respond(remoting::make_response(request, resp::kSuccess));
      });
  ASSERT_TRUE(name_server.start().ok());
  const int follower_index = (master_ + 1) % 3;
  auto make = [&](int i) {
    NameServerRegistrar::Options o;
    o.broker_name = "broker-a";
    o.broker_address = "127.0.0.1:" + std::to_string(20000 + i);
    o.namesrv_addresses = {"127.0.0.1:" + std::to_string(name_server.port())};
    o.self_id = static_cast<raft::NodeId>(i);
    return std::make_unique<NameServerRegistrar>(o, *group_->at(i).store);
  };
  auto master_registrar = make(master_);
  auto follower_registrar = make(follower_index);
  master_registrar->start();
  follower_registrar->start();
  auto deadline = std::chrono::steady_clock::now() + 20s;
  bool both = false;
  while (!both && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(10ms);
    std::lock_guard lock(mu);
    both = registered.size() == 2;
  }
  master_registrar->stop();
  follower_registrar->stop();
  name_server.stop();
  ASSERT_TRUE(both);
  EXPECT_EQ(registered.at("127.0.0.1:" + std::to_string(20000 + master_)), 0);
  EXPECT_EQ(registered.at("127.0.0.1:" + std::to_string(20000 + follower_index)),
            follower_index + 1);
  EXPECT_EQ(topics_seen, "orders");
}

TEST_F(BrokerHandlersTest, SentBackMessageIsScheduledForTheRetryTopicOfTheGroup) {
  auto sent = master().invoke_sync(
      send_request(rc::kSendMessageV2, 1, "retry-me", remoting::SerializeType::kJson), 10s);
  ASSERT_TRUE(sent.ok());
  ASSERT_EQ(sent->code, resp::kSuccess) << sent->remark.value_or("");
  auto reply = remoting::parse_send_message_response(*sent);
  ASSERT_TRUE(reply.ok());
  auto pulled = master().invoke_sync(pull_request(1, reply->queue_offset, 0, 0), 10s);
  ASSERT_TRUE(pulled.ok());
  auto records = remoting::decode_message_records(pulled->body);
  ASSERT_TRUE(records.ok());
  ASSERT_FALSE(records->empty());

  RemotingCommand back = remoting::make_request(rc::kConsumerSendMsgBack, 0);
  back.ext_fields = {{"offset", std::to_string((*records)[0].physical_offset)},
                     {"group", "CG-retry"},
                     {"delayLevel", "0"},
                     {"originMsgId", reply->msg_id}};
  auto backed = master().invoke_sync(back, 10s);
  ASSERT_TRUE(backed.ok());
  ASSERT_EQ(backed->code, resp::kSuccess) << backed->remark.value_or("");

  // delayLevel 0 means "3 + reconsume times" (RocketMQ): the first retry copy is parked in
  // SCHEDULE_TOPIC_XXXX, queue level-1 = 2, addressed to the group's retry topic.
  // That system topic is not pullable by clients, so read it from the master's store.
  auto parked = group_->at(master_).store->get_messages("SCHEDULE_TOPIC_XXXX", 2, 0, 32, 1 << 20);
  ASSERT_TRUE(parked.ok()) << parked.error().to_string();
  auto copies = remoting::decode_message_records(parked->records);
  ASSERT_TRUE(copies.ok());
  ASSERT_EQ(copies->size(), 1u);
  EXPECT_EQ((*copies)[0].body, "retry-me");
  EXPECT_EQ((*copies)[0].reconsume_times, 1);
  auto props = remoting::decode_message_properties((*copies)[0].properties);
  ASSERT_TRUE(props.ok());
  EXPECT_EQ(props->at("REAL_TOPIC"), "%RETRY%CG-retry");
  EXPECT_EQ(props->at("DELAY"), "3");
  EXPECT_EQ(props->at("RETRY_TOPIC"), "orders");
  EXPECT_EQ(props->at("ORIGIN_MESSAGE_ID"), reply->msg_id);
  EXPECT_EQ(props->at("TAGS"), "TagA");
}

TEST_F(BrokerHandlersTest, ViewMessageByIdReturnsTheRecordAPullReturnsFromAnyReplica) {
  auto sent = master().invoke_sync(
      send_request(rc::kSendMessageV2, 1, "view-me", remoting::SerializeType::kJson), 10s);
  ASSERT_TRUE(sent.ok());
  ASSERT_EQ(sent->code, resp::kSuccess) << sent->remark.value_or("");
  auto reply = remoting::parse_send_message_response(*sent);
  ASSERT_TRUE(reply.ok());
  // What a client's viewMessage(msgId) does: decode the offset msgId, ask for its offset.
  auto id = remoting::decode_offset_msg_id(reply->msg_id);
  ASSERT_TRUE(id.ok()) << id.error().to_string();
  auto view = [](std::int64_t offset) {
    RemotingCommand cmd = remoting::make_request(rc::kViewMessageById, 0);
    cmd.ext_fields = {{"offset", std::to_string(offset)}};
    return cmd;
  };
  auto pulled = master().invoke_sync(pull_request(1, reply->queue_offset, 0, 0), 10s);
  ASSERT_TRUE(pulled.ok());
  auto pulled_records = remoting::decode_message_records(pulled->body);
  ASSERT_TRUE(pulled_records.ok());
  ASSERT_FALSE(pulled_records->empty());

  // The master, and a follower once it has applied the entry, answer with the pulled record.
  for (frontend::RemotingClient* client : {&master(), &follower()}) {
    RemotingCommand answer;
    ASSERT_TRUE(dledger::testing::eventually([&] {
      auto got = client->invoke_sync(view(id->physical_offset), 10s);
      if (!got.ok()) return false;
      answer = std::move(got).value();
      return answer.code == resp::kSuccess;
    })) << answer.remark.value_or("");
    auto records = remoting::decode_message_records(answer.body);
    ASSERT_TRUE(records.ok()) << records.error().to_string();
    ASSERT_EQ(records->size(), 1u);
    const remoting::MessageRecord& r = (*records)[0];
    EXPECT_EQ(r.body, "view-me");
    EXPECT_EQ(r.topic, "orders");
    EXPECT_EQ(r.queue_id, 1);
    EXPECT_EQ(r.queue_offset, reply->queue_offset);
    EXPECT_EQ(r.physical_offset, id->physical_offset);
    EXPECT_EQ(remoting::offset_msg_id(r), reply->msg_id);
    std::string pulled_bytes;
    ASSERT_TRUE(remoting::append_message_record((*pulled_records)[0], &pulled_bytes).ok());
    EXPECT_EQ(answer.body, pulled_bytes);
  }

  // Offsets naming no message: past everything stored, and the group's first ledger entry
  // (not a message). SYSTEM_ERROR, as RocketMQ's broker answers.
  for (std::int64_t offset :
       {id->physical_offset + (std::int64_t{1} << 40), store::physical_offset_of(1, 0)}) {
    auto missing = master().invoke_sync(view(offset), 10s);
    ASSERT_TRUE(missing.ok());
    EXPECT_EQ(missing->code, resp::kSystemError);
    EXPECT_NE(missing->remark.value_or("").find("can not find message by the offset, " +
                                                std::to_string(offset)),
              std::string::npos)
        << missing->remark.value_or("");
  }
  // A header without the offset names the field.
  auto bad = master().invoke_sync(remoting::make_request(rc::kViewMessageById, 0), 10s);
  ASSERT_TRUE(bad.ok());
  EXPECT_EQ(bad->code, resp::kSystemError);
  EXPECT_NE(bad->remark.value_or("").find("offset"), std::string::npos);
}

TEST_F(BrokerHandlersTest, UnreachableNameServerDoesNotStopTheRegistrar) {
  NameServerRegistrar::Options o;
  o.broker_name = "broker-a";
  o.broker_address = "127.0.0.1:20100";
  o.namesrv_addresses = {"127.0.0.1:" + std::to_string(dledger::testing::free_port())};
  o.interval = 100ms;
  o.self_id = static_cast<raft::NodeId>(master_);
  NameServerRegistrar registrar(o, *group_->at(master_).store);
  registrar.start();
  registrar.trigger();
  std::this_thread::sleep_for(300ms);
  EXPECT_EQ(registrar.current_broker_id(), std::optional<std::int64_t>(0));
  registrar.stop();
}

}  // namespace
}  // namespace dledger::broker
