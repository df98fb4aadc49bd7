// NameServer end to end over real sockets: brokers register with RemotingClient, clients query
// routes and cluster info, a DLedger-style failover re-registers the slave's address as master.
#include "broker/namesrv/name_server.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <thread>

#include "broker/frontend/remoting_client.h"
#include "broker/remoting/codes.h"
#include "broker/remoting/register_broker.h"
#include "broker/remoting/route_data.h"

namespace dledger::namesrv {
namespace {

using namespace std::chrono_literals;
using frontend::RemotingClient;
using remoting::RemotingCommand;
namespace request_code = remoting::request_code;
namespace response_code = remoting::response_code;

RemotingCommand register_request(const std::string& cluster, const std::string& name,
                                 const std::string& addr, std::int64_t id,
                                 std::initializer_list<std::string> topic_names) {
  RemotingCommand cmd = remoting::make_request(request_code::kRegisterBroker, 0);
  remoting::RegisterBrokerRequest header;
  header.cluster_name = cluster;
  header.broker_name = name;
  header.broker_addr = addr;
  header.broker_id = id;
  header.ha_server_addr = "";
  remoting::write_register_broker_request(header, &cmd);
  remoting::RegisterBrokerBody body;
  for (const auto& topic : topic_names) {
    remoting::TopicConfig config;
    config.topic_name = topic;
    config.read_queue_nums = 4;
    config.write_queue_nums = 4;
    body.topic_config_table[topic] = config;
  }
  cmd.body = remoting::write_register_broker_body(body);
  return cmd;
}

RemotingCommand route_request(const std::string& topic) {
  RemotingCommand cmd = remoting::make_request(request_code::kGetRouteinfoByTopic, 0);
  cmd.ext_fields["topic"] = topic;
  return cmd;
}

class NameServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    NameServerOptions options;
    options.host = "127.0.0.1";
    options.port = 0;
    options.io_threads = 2;
    auto started = NameServer::start(options);
    ASSERT_TRUE(started.ok()) << started.error().message;
    server_ = std::move(started).value();
    address_ = "127.0.0.1:" + std::to_string(server_->port());
  }

  std::unique_ptr<RemotingClient> connect() {
    auto client = RemotingClient::connect(address_);
    EXPECT_TRUE(client.ok());
    return client.ok() ? std::move(client).value() : nullptr;
  }

  RemotingCommand call(RemotingClient& client, RemotingCommand request) {
    auto reply = client.invoke_sync(std::move(request), 10s);
    EXPECT_TRUE(reply.ok()) << (reply.ok() ? "" : reply.error().message);
    return reply.ok() ? std::move(reply).value() : RemotingCommand{};
  }

  std::unique_ptr<NameServer> server_;
  std::string address_;
};

TEST_F(NameServerTest, RoutesAndClusterInfoFollowRegistrationsAndFailover) {
  auto master = connect();
  auto slave = connect();
  auto other = connect();
  auto client = connect();
  ASSERT_TRUE(master && slave && other && client);

  auto reply = call(*master, register_request("c1", "g1", "127.0.0.1:10911", 0, {"T", "U"}));
  EXPECT_EQ(reply.code, response_code::kSuccess);
  reply = call(*slave, register_request("c1", "g1", "127.0.0.1:10912", 1, {"T", "U"}));
  EXPECT_EQ(reply.code, response_code::kSuccess);
  EXPECT_EQ(reply.ext_fields["masterAddr"], "127.0.0.1:10911");
  reply = call(*other, register_request("c1", "g2", "127.0.0.1:10921", 0, {"T"}));
  EXPECT_EQ(reply.code, response_code::kSuccess);

  reply = call(*client, route_request("T"));
  ASSERT_EQ(reply.code, response_code::kSuccess);
  auto route = remoting::parse_topic_route_data(reply.body);
  ASSERT_TRUE(route.ok()) << route.error().message;
  ASSERT_EQ(route->broker_datas.size(), 2u);
  EXPECT_EQ(route->broker_datas[0].broker_name, "g1");
  EXPECT_EQ(route->broker_datas[0].broker_addrs,
            (std::map<std::int64_t, std::string>{{0, "127.0.0.1:10911"}, {1, "127.0.0.1:10912"}}));
  EXPECT_EQ(route->broker_datas[1].broker_addrs,
            (std::map<std::int64_t, std::string>{{0, "127.0.0.1:10921"}}));
  ASSERT_EQ(route->queue_datas.size(), 2u);
  EXPECT_EQ(route->queue_datas[0].write_queue_nums, 4);

  reply = call(*client, remoting::make_request(request_code::kGetBrokerClusterInfo, 0));
  ASSERT_EQ(reply.code, response_code::kSuccess);
  auto cluster = nlohmann::json::parse(reply.body);
  EXPECT_EQ(cluster["clusterAddrTable"]["c1"], nlohmann::json::array({"g1", "g2"}));
  EXPECT_EQ(cluster["brokerAddrTable"]["g1"]["brokerAddrs"]["1"], "127.0.0.1:10912");

  reply = call(*client, remoting::make_request(request_code::kGetAllTopicListFromNameserver, 0));
  ASSERT_EQ(reply.code, response_code::kSuccess);
  EXPECT_EQ(nlohmann::json::parse(reply.body)["topicList"], nlohmann::json::array({"T", "U"}));

  // Failover: the old master dies (its connection closes), the slave re-registers as id 0.
  master->close();
  reply = call(*slave, register_request("c1", "g1", "127.0.0.1:10912", 0, {"T", "U"}));
  EXPECT_EQ(reply.code, response_code::kSuccess);
  // The closed connection is noticed asynchronously; wait until the route shows exactly one
  // address for g1 (bounded by attempts, not by time assertions).
  std::map<std::int64_t, std::string> g1_addrs;
  for (int attempt = 0; attempt < 500; ++attempt) {
    reply = call(*client, route_request("U"));
    ASSERT_EQ(reply.code, response_code::kSuccess);
    route = remoting::parse_topic_route_data(reply.body);
    ASSERT_TRUE(route.ok());
    ASSERT_EQ(route->broker_datas.size(), 1u);
    g1_addrs = route->broker_datas[0].broker_addrs;
    if (g1_addrs.size() == 1) break;
    std::this_thread::sleep_for(10ms);
  }
  EXPECT_EQ(g1_addrs, (std::map<std::int64_t, std::string>{{0, "127.0.0.1:10912"}}));
}

TEST_F(NameServerTest, FailoverWithoutCloseListsTheNewMasterOnce) {
  auto slave = connect();
  auto master = connect();
  auto client = connect();
  ASSERT_TRUE(master && slave && client);
  call(*master, register_request("c1", "g1", "10.0.0.1:10911", 0, {"T"}));
  call(*slave, register_request("c1", "g1", "10.0.0.2:10911", 1, {"T"}));
  call(*slave, register_request("c1", "g1", "10.0.0.2:10911", 0, {"T"}));
  auto reply = call(*client, route_request("T"));
  ASSERT_EQ(reply.code, response_code::kSuccess);
  auto route = remoting::parse_topic_route_data(reply.body);
  ASSERT_TRUE(route.ok());
  ASSERT_EQ(route->broker_datas.size(), 1u);
  EXPECT_EQ(route->broker_datas[0].broker_addrs,
            (std::map<std::int64_t, std::string>{{0, "10.0.0.2:10911"}}));
}

TEST_F(NameServerTest, UnknownTopicIsTopicNotExist) {
  auto client = connect();
  ASSERT_TRUE(client);
  auto reply = call(*client, route_request("missing"));
  EXPECT_EQ(reply.code, response_code::kTopicNotExist);
  ASSERT_TRUE(reply.remark.has_value());
  EXPECT_NE(reply.remark->find("missing"), std::string::npos);
}

TEST_F(NameServerTest, BinaryHeaderQueriesAreAnsweredInBinary) {
  auto client = connect();
  ASSERT_TRUE(client);
  call(*client, register_request("c1", "g1", "10.0.0.1:10911", 0, {"T"}));
  RemotingCommand request = route_request("T");
  request.serialize_type = remoting::SerializeType::kRocketmq;
  auto reply = call(*client, request);
  EXPECT_EQ(reply.code, response_code::kSuccess);
  EXPECT_EQ(reply.serialize_type, remoting::SerializeType::kRocketmq);
}

TEST_F(NameServerTest, MalformedRegistrationIsRefusedNamingTheField) {
  auto client = connect();
  ASSERT_TRUE(client);
  RemotingCommand bad = register_request("c1", "g1", "10.0.0.1:10911", 0, {"T"});
  bad.ext_fields["brokerId"] = "minus-one";
  auto reply = call(*client, bad);
  EXPECT_EQ(reply.code, response_code::kSystemError);
  ASSERT_TRUE(reply.remark.has_value());
  EXPECT_NE(reply.remark->find("brokerId"), std::string::npos);

  RemotingCommand bad_body = register_request("c1", "g1", "10.0.0.1:10911", 0, {"T"});
  bad_body.body = "{not json";
  reply = call(*client, bad_body);
  EXPECT_EQ(reply.code, response_code::kSystemError);

  RemotingCommand compressed = register_request("c1", "g1", "10.0.0.1:10911", 0, {"T"});
  compressed.ext_fields["compressed"] = "true";
  reply = call(*client, compressed);
  EXPECT_EQ(reply.code, response_code::kSystemError);

  reply = call(*client, route_request("T"));
  EXPECT_EQ(reply.code, response_code::kTopicNotExist);
}

TEST_F(NameServerTest, UnregisteredBrokerLeavesTheRoute) {
  auto client = connect();
  ASSERT_TRUE(client);
  call(*client, register_request("c1", "g1", "10.0.0.1:10911", 0, {"T"}));
  RemotingCommand unregister = remoting::make_request(request_code::kUnregisterBroker, 0);
  unregister.ext_fields = {{"brokerName", "g1"},
                           {"brokerAddr", "10.0.0.1:10911"},
                           {"clusterName", "c1"},
                           {"brokerId", "0"}};
  EXPECT_EQ(call(*client, unregister).code, response_code::kSuccess);
  EXPECT_EQ(call(*client, route_request("T")).code, response_code::kTopicNotExist);
}

TEST(NameServerExpiryTest, BrokerThatStopsRegisteringIsDroppedByTheScanner) {
  NameServerOptions options;
  options.host = "127.0.0.1";
  options.port = 0;
  options.broker_expire_ms = 200;
  options.scan_interval_ms = 20;
  auto started = NameServer::start(options);
  ASSERT_TRUE(started.ok());
  auto client = RemotingClient::connect("127.0.0.1:" + std::to_string((*started)->port()));
  ASSERT_TRUE(client.ok());
  auto reply =
      (*client)->invoke_sync(register_request("c1", "g1", "10.0.0.1:10911", 0, {"T"}), 10s);
  ASSERT_TRUE(reply.ok());
  ASSERT_EQ(reply->code, response_code::kSuccess);
  // The connection stays open; only silence expires the broker. Poll a bounded number of times.
  int code = response_code::kSuccess;
  for (int attempt = 0; attempt < 1000 && code == response_code::kSuccess; ++attempt) {
    auto route = (*client)->invoke_sync(route_request("T"), 10s);
    ASSERT_TRUE(route.ok());
    code = route->code;
    if (code == response_code::kSuccess) std::this_thread::sleep_for(10ms);
  }
  EXPECT_EQ(code, response_code::kTopicNotExist);
}

TEST(NameServerOptionsTest, KeysAreReadWithDefaultsAndInvalidValuesNameKeyAndValue) {
  auto props = Properties::parse("listenPort = 9999\nbrokerExpireSeconds = 30\n", "ns.conf");
  ASSERT_TRUE(props.ok());
  auto options = NameServerOptions::from_properties(*props);
  ASSERT_TRUE(options.ok());
  EXPECT_EQ(options->port, 9999);
  EXPECT_EQ(options->broker_expire_ms, 30'000);
  EXPECT_EQ(options->io_threads, 4);
  EXPECT_TRUE(props->unused_keys().empty());

  auto bad = Properties::parse("brokerExpireSeconds = soon\n", "ns.conf");
  ASSERT_TRUE(bad.ok());
  auto refused = NameServerOptions::from_properties(*bad);
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.error().message.find("brokerExpireSeconds"), std::string::npos);
  EXPECT_NE(refused.error().message.find("soon"), std::string::npos);
}

}  // namespace
}  // namespace dledger::namesrv
