// RouteTable: registration, routes, failover re-registration, expiry, connection close,
// unregistration, cluster info and topic listing — driven with a fake clock.
#include "broker/namesrv/route_table.h"

#include <gtest/gtest.h>

namespace dledger::namesrv {
namespace {

using remoting::RegisterBrokerBody;
using remoting::RegisterBrokerRequest;

RegisterBrokerRequest broker(const std::string& name, const std::string& addr, std::int64_t id,
                             const std::string& cluster = "c1") {
  RegisterBrokerRequest request;
  request.cluster_name = cluster;
  request.broker_name = name;
  request.broker_addr = addr;
  request.broker_id = id;
  request.ha_server_addr = addr + "-ha";
  return request;
}

RegisterBrokerBody topics(std::initializer_list<std::string> names, int queues = 4) {
  RegisterBrokerBody body;
  for (const auto& name : names) {
    remoting::TopicConfig config;
    config.topic_name = name;
    config.read_queue_nums = queues;
    config.write_queue_nums = queues;
    body.topic_config_table[name] = config;
  }
  return body;
}

class RouteTableTest : public ::testing::Test {
 protected:
  void register_ok(const RegisterBrokerRequest& request, const RegisterBrokerBody& body,
                   std::uint64_t connection = 1) {
    auto result = table_.register_broker(request, body, connection);
    ASSERT_TRUE(result.ok()) << result.error().message;
    ASSERT_EQ(table_.check_invariants(), "");
  }

  std::int64_t now_ms_ = 1'000'000;
  RouteTable table_{[this] { return now_ms_; }, 120'000};
};

TEST_F(RouteTableTest, RouteListsQueuesAndAddressesOfEveryBrokerServingTheTopic) {
  register_ok(broker("a", "10.0.0.1:10911", 0), topics({"T", "U"}, 8), 1);
  register_ok(broker("a", "10.0.0.2:10911", 1), topics({"T", "U"}, 8), 2);
  register_ok(broker("b", "10.0.1.1:10911", 0), topics({"T"}, 4), 3);

  auto route = table_.route("T");
  ASSERT_TRUE(route.has_value());
  ASSERT_EQ(route->queue_datas.size(), 2u);
  EXPECT_EQ(route->queue_datas[0].broker_name, "a");
  EXPECT_EQ(route->queue_datas[0].write_queue_nums, 8);
  EXPECT_EQ(route->queue_datas[1].broker_name, "b");
  EXPECT_EQ(route->queue_datas[1].read_queue_nums, 4);
  ASSERT_EQ(route->broker_datas.size(), 2u);
  EXPECT_EQ(route->broker_datas[0].broker_addrs,
            (std::map<std::int64_t, std::string>{{0, "10.0.0.1:10911"}, {1, "10.0.0.2:10911"}}));
  EXPECT_EQ(route->broker_datas[0].cluster, "c1");

  auto u = table_.route("U");
  ASSERT_TRUE(u.has_value());
  ASSERT_EQ(u->broker_datas.size(), 1u);
  EXPECT_EQ(u->broker_datas[0].broker_name, "a");
}

TEST_F(RouteTableTest, UnknownTopicHasNoRoute) {
  register_ok(broker("a", "h1:1", 0), topics({"T"}));
  EXPECT_FALSE(table_.route("nope").has_value());
  EXPECT_FALSE(table_.route("TBW102").has_value());  // no default auto-create route
}

TEST_F(RouteTableTest, SlaveRegistrationReturnsMasterAddressAndHaAddress) {
  register_ok(broker("a", "h1:1", 0), topics({"T"}));
  auto result = table_.register_broker(broker("a", "h2:1", 1), topics({"T"}), 2);
  ASSERT_TRUE(result.ok());
  EXPECT_EQ(result->master_addr, "h1:1");
  EXPECT_EQ(result->ha_server_addr, "h1:1-ha");
  auto master = table_.register_broker(broker("a", "h1:1", 0), topics({"T"}), 1);
  ASSERT_TRUE(master.ok());
  EXPECT_EQ(master->master_addr, "");
}

TEST_F(RouteTableTest, AddressReRegisteredUnderNewBrokerIdReplacesItsOldId) {
  register_ok(broker("a", "h1:1", 0), topics({"T"}), 1);
  register_ok(broker("a", "h2:1", 1), topics({"T"}), 2);
  register_ok(broker("a", "h3:1", 2), topics({"T"}), 3);
  // Failover: h2 becomes master (id 0); the old master h1 is displaced from id 0.
  register_ok(broker("a", "h2:1", 0), topics({"T"}), 2);
  auto route = table_.route("T");
  ASSERT_TRUE(route.has_value());
  EXPECT_EQ(route->broker_datas[0].broker_addrs,
            (std::map<std::int64_t, std::string>{{0, "h2:1"}, {2, "h3:1"}}));
  // The old master comes back as a slave.
  register_ok(broker("a", "h1:1", 1), topics({"T"}), 4);
  route = table_.route("T");
  EXPECT_EQ(route->broker_datas[0].broker_addrs,
            (std::map<std::int64_t, std::string>{{0, "h2:1"}, {1, "h1:1"}, {2, "h3:1"}}));
}

TEST_F(RouteTableTest, MasterRegistrationDefinesTopicsAndLaggingSlaveDoesNotShrinkThem) {
  register_ok(broker("a", "h1:1", 0), topics({"T", "U"}));
  register_ok(broker("a", "h2:1", 1), topics({"T"}));  // lagging slave
  EXPECT_TRUE(table_.route("U").has_value());
  register_ok(broker("a", "h1:1", 0), topics({"T"}));  // the master deleted U
  EXPECT_FALSE(table_.route("U").has_value());
  EXPECT_EQ(table_.topics(), std::vector<std::string>{"T"});
}

TEST_F(RouteTableTest, SlaveDefinesTopicsWhileNoMasterIsRegistered) {
  register_ok(broker("a", "h2:1", 1), topics({"T"}));
  EXPECT_TRUE(table_.route("T").has_value());
}

TEST_F(RouteTableTest, SilentBrokersExpireAndTheirTopicsGoWithTheLastAddress) {
  register_ok(broker("a", "h1:1", 0), topics({"T"}));
  now_ms_ += 60'000;
  register_ok(broker("a", "h2:1", 1), topics({"T"}));
  now_ms_ += 60'001;  // h1 silent for 120.001 s, h2 for 60.001 s
  EXPECT_EQ(table_.expire_silent_brokers(), std::vector<std::string>{"h1:1"});
  EXPECT_EQ(table_.check_invariants(), "");
  auto route = table_.route("T");
  ASSERT_TRUE(route.has_value());
  EXPECT_EQ(route->broker_datas[0].broker_addrs,
            (std::map<std::int64_t, std::string>{{1, "h2:1"}}));
  now_ms_ += 60'000;
  EXPECT_EQ(table_.expire_silent_brokers(), std::vector<std::string>{"h2:1"});
  EXPECT_FALSE(table_.route("T").has_value());
  EXPECT_TRUE(table_.cluster_info().broker_addr_table.empty());
  EXPECT_TRUE(table_.cluster_info().cluster_addr_table.empty());
  EXPECT_TRUE(table_.topics().empty());
  EXPECT_EQ(table_.check_invariants(), "");
}

TEST_F(RouteTableTest, ReRegistrationKeepsBrokerAlive) {
  register_ok(broker("a", "h1:1", 0), topics({"T"}));
  for (int i = 0; i < 10; ++i) {
    now_ms_ += 30'000;
    register_ok(broker("a", "h1:1", 0), topics({"T"}));
    EXPECT_TRUE(table_.expire_silent_brokers().empty());
  }
  EXPECT_TRUE(table_.route("T").has_value());
}

TEST_F(RouteTableTest, ClosedConnectionDropsTheBrokersRegisteredOverIt) {
  register_ok(broker("a", "h1:1", 0), topics({"T"}), 7);
  register_ok(broker("a", "h2:1", 1), topics({"T"}), 8);
  EXPECT_TRUE(table_.on_connection_closed(99).empty());
  EXPECT_EQ(table_.on_connection_closed(7), std::vector<std::string>{"h1:1"});
  EXPECT_EQ(table_.check_invariants(), "");
  auto route = table_.route("T");
  ASSERT_TRUE(route.has_value());
  EXPECT_EQ(route->broker_datas[0].broker_addrs,
            (std::map<std::int64_t, std::string>{{1, "h2:1"}}));
}

TEST_F(RouteTableTest, ReRegistrationOverNewConnectionSurvivesCloseOfTheOldOne) {
  register_ok(broker("a", "h1:1", 0), topics({"T"}), 7);
  register_ok(broker("a", "h1:1", 0), topics({"T"}), 9);  // the broker reconnected
  EXPECT_TRUE(table_.on_connection_closed(7).empty());
  EXPECT_TRUE(table_.route("T").has_value());
}

TEST_F(RouteTableTest, UnregisterRemovesOnlyTheMatchingIdAndAddress) {
  register_ok(broker("a", "h1:1", 0), topics({"T"}));
  register_ok(broker("a", "h2:1", 1), topics({"T"}));
  remoting::UnregisterBrokerRequest stale{"a", "h9:1", "c1", 1};
  EXPECT_FALSE(table_.unregister_broker(stale));
  remoting::UnregisterBrokerRequest slave{"a", "h2:1", "c1", 1};
  EXPECT_TRUE(table_.unregister_broker(slave));
  EXPECT_EQ(table_.check_invariants(), "");
  EXPECT_EQ(table_.route("T")->broker_datas[0].broker_addrs,
            (std::map<std::int64_t, std::string>{{0, "h1:1"}}));
  remoting::UnregisterBrokerRequest master{"a", "h1:1", "c1", 0};
  EXPECT_TRUE(table_.unregister_broker(master));
  EXPECT_FALSE(table_.route("T").has_value());
  EXPECT_EQ(table_.check_invariants(), "");
}

TEST_F(RouteTableTest, ClusterInfoGroupsBrokerNamesByCluster) {
  register_ok(broker("a", "h1:1", 0, "c1"), topics({"T"}));
  register_ok(broker("a", "h2:1", 1, "c1"), topics({"T"}));
  register_ok(broker("b", "h3:1", 0, "c1"), topics({"T"}));
  register_ok(broker("x", "h4:1", 0, "c2"), topics({"X"}));
  auto info = table_.cluster_info();
  EXPECT_EQ(info.cluster_addr_table,
            (std::map<std::string, std::set<std::string>>{{"c1", {"a", "b"}}, {"c2", {"x"}}}));
  ASSERT_EQ(info.broker_addr_table.size(), 3u);
  EXPECT_EQ(info.broker_addr_table.at("a").broker_addrs,
            (std::map<std::int64_t, std::string>{{0, "h1:1"}, {1, "h2:1"}}));
  EXPECT_EQ(info.broker_addr_table.at("x").cluster, "c2");
  // Moving a brokerName to another cluster leaves the old cluster.
  register_ok(broker("x", "h4:1", 0, "c1"), topics({"X"}));
  info = table_.cluster_info();
  EXPECT_EQ(info.cluster_addr_table,
            (std::map<std::string, std::set<std::string>>{{"c1", {"a", "b", "x"}}}));
}

TEST_F(RouteTableTest, TopicListIsSortedUnionOfAllBrokersTopics) {
  register_ok(broker("a", "h1:1", 0), topics({"T", "B"}));
  register_ok(broker("b", "h2:1", 0), topics({"Z", "T"}));
  EXPECT_EQ(table_.topics(), (std::vector<std::string>{"B", "T", "Z"}));
}

TEST_F(RouteTableTest, AddressReusedByAnotherBrokerNameLeavesTheOldName) {
  register_ok(broker("a", "h1:1", 0), topics({"T"}));
  register_ok(broker("b", "h1:1", 0), topics({"U"}));
  EXPECT_FALSE(table_.route("T").has_value());
  EXPECT_EQ(table_.cluster_info().broker_addr_table.count("a"), 0u);
}

TEST_F(RouteTableTest, InvalidRegistrationsAreRefused) {
  auto empty_name = table_.register_broker(broker("", "h1:1", 0), topics({"T"}), 1);
  ASSERT_FALSE(empty_name.ok());
  EXPECT_EQ(empty_name.error().code, ErrorCode::kInvalidArgument);
  auto empty_addr = table_.register_broker(broker("a", "", 0), topics({"T"}), 1);
  ASSERT_FALSE(empty_addr.ok());
  auto negative = table_.register_broker(broker("a", "h1:1", -1), topics({"T"}), 1);
  ASSERT_FALSE(negative.ok());
  EXPECT_NE(negative.error().message.find("-1"), std::string::npos);
  EXPECT_TRUE(table_.topics().empty());
}

}  // namespace
}  // namespace dledger::namesrv
