// ConsumerRegistry: heartbeats, unregistering, connection close and the 120 s expiry, for
// consumer groups and for the producer groups connected to this replica.
#include "broker/broker/consumer_registry.h"

#include <gtest/gtest.h>

namespace dledger::broker {
namespace {

remoting::HeartbeatData heartbeat_of(const std::string& client, const std::string& group) {
  remoting::HeartbeatData hb;
  hb.client_id = client;
  remoting::ConsumerData consumer;
  consumer.group_name = group;
  remoting::SubscriptionData sub;
  sub.topic = "orders";
  sub.sub_string = "TagA";
  consumer.subscriptions.push_back(sub);
  hb.consumers.push_back(consumer);
  return hb;
}

TEST(ConsumerRegistry, ClientsWithoutHeartbeatFor120SecondsExpire) {
  auto now = std::chrono::steady_clock::time_point{} + std::chrono::hours(1);
  ConsumerRegistry registry(std::chrono::seconds(120), [&] { return now; });
  registry.heartbeat(heartbeat_of("c1", "G"), 1);
  now += std::chrono::seconds(60);
  registry.heartbeat(heartbeat_of("c2", "G"), 2);
  EXPECT_EQ(registry.consumers("G"), (std::vector<std::string>{"c1", "c2"}));
  now += std::chrono::seconds(61);
  EXPECT_EQ(registry.consumers("G"), std::vector<std::string>{"c2"});
  ASSERT_TRUE(registry.subscription("G", "orders").has_value());
  EXPECT_EQ(registry.subscription("G", "orders")->sub_string, "TagA");
}

TEST(ConsumerRegistry, UnregisterAndConnectionCloseForgetTheClient) {
  ConsumerRegistry registry;
  registry.heartbeat(heartbeat_of("c1", "G"), 1);
  registry.heartbeat(heartbeat_of("c2", "G"), 2);
  registry.unregister("c1", std::string("G"));
  EXPECT_EQ(registry.consumers("G"), std::vector<std::string>{"c2"});
  registry.connection_closed(2);
  EXPECT_TRUE(registry.consumers("G").empty());
  EXPECT_FALSE(registry.subscription("G", "orders").has_value());
}

TEST(ConsumerRegistry, RelayedClientsAreMembersButNotReportedAsThisReplicasOwn) {
  ConsumerRegistry registry;
  registry.heartbeat(heartbeat_of("direct", "G"), 1);
  registry.heartbeat(heartbeat_of("relayed", "G"), 2, /*relayed=*/true);
  registry.heartbeat(heartbeat_of("direct", "H"), 1);
  EXPECT_EQ(registry.consumers("G"), (std::vector<std::string>{"direct", "relayed"}));

  auto own = registry.direct_clients();
  ASSERT_EQ(own.size(), 1u);
  EXPECT_EQ(own[0].heartbeat.client_id, "direct");
  ASSERT_EQ(own[0].heartbeat.consumers.size(), 2u);
  EXPECT_EQ(own[0].heartbeat.consumers[0].group_name, "G");
  EXPECT_EQ(own[0].heartbeat.consumers[1].group_name, "H");
  EXPECT_EQ(own[0].heartbeat.consumers[0].subscriptions[0].sub_string, "TagA");

  // Closing the relaying connection forgets the relayed client but reports nothing to pass on.
  EXPECT_TRUE(registry.connection_closed(2).empty());
  EXPECT_EQ(registry.consumers("G"), std::vector<std::string>{"direct"});
  auto forgotten = registry.connection_closed(1);
  EXPECT_EQ(forgotten,
            (std::vector<std::pair<std::string, std::string>>{{"G", "direct"}, {"H", "direct"}}));
}

TEST(ConsumerRegistry, ConnectionListsEveryLiveClientWithWhereItConnectsFrom) {
  auto now = std::chrono::steady_clock::time_point{} + std::chrono::hours(1);
  ConsumerRegistry registry(std::chrono::seconds(120), [&] { return now; });
  EXPECT_FALSE(registry.connection("G").has_value());
  registry.heartbeat(heartbeat_of("c2", "G"), 2, false, {"10.0.0.2:5000", 0, 373});
  now += std::chrono::seconds(1);
  remoting::HeartbeatData newer = heartbeat_of("c1", "G");
  newer.consumers[0].consume_from_where = remoting::ConsumeFromWhere::kFirstOffset;
  remoting::SubscriptionData retry;
  retry.topic = "%RETRY%G";
  newer.consumers[0].subscriptions.push_back(retry);
  registry.heartbeat(newer, 1, /*relayed=*/true, {"10.0.0.1:6000", 200, 1});

  auto connection = registry.connection("G");
  ASSERT_TRUE(connection.has_value());
  ASSERT_EQ(connection->connections.size(), 2u);
  EXPECT_EQ(connection->connections[0].client_id, "c1");
  EXPECT_EQ(connection->connections[0].client_addr, "10.0.0.1:6000");
  EXPECT_EQ(connection->connections[0].language, "OTHER");  // 200 is no known language
  EXPECT_EQ(connection->connections[1].client_id, "c2");
  EXPECT_EQ(connection->connections[1].client_addr, "10.0.0.2:5000");
  EXPECT_EQ(connection->connections[1].language, "JAVA");
  EXPECT_EQ(connection->connections[1].version, 373);
  // Settings of the most recent heartbeat; subscriptions of every client, by topic.
  EXPECT_EQ(connection->consume_from_where, remoting::ConsumeFromWhere::kFirstOffset);
  ASSERT_EQ(connection->subscriptions.size(), 2u);
  EXPECT_EQ(connection->subscriptions[0].topic, "%RETRY%G");
  EXPECT_EQ(connection->subscriptions[1].topic, "orders");

  // The replayed form of a direct client keeps its details.
  auto own = registry.direct_clients();
  ASSERT_EQ(own.size(), 1u);
  EXPECT_EQ(own[0].details, (ClientDetails{"10.0.0.2:5000", 0, 373}));

  now += std::chrono::seconds(200);
  EXPECT_FALSE(registry.connection("G").has_value());
}

remoting::HeartbeatData producer_heartbeat(const std::string& client,
                                           std::vector<std::string> groups) {
  remoting::HeartbeatData hb;
  hb.client_id = client;
  for (auto& group : groups) hb.producers.push_back({std::move(group)});
  return hb;
}

TEST(ConsumerRegistry, ProducerGroupsListTheirOwnClientsUntilTheyLeave) {
  auto now = std::chrono::steady_clock::time_point{} + std::chrono::hours(1);
  ConsumerRegistry registry(std::chrono::seconds(120), [&] { return now; });
  EXPECT_FALSE(registry.producer_connection("PG").has_value());
  registry.heartbeat(producer_heartbeat("p2", {"PG", "OTHER"}), 2, false,
                     {"10.0.0.7:5002", remoting::language_code::kJava, 395});
  registry.heartbeat(producer_heartbeat("p1", {"PG"}), 1, false,
                     {"10.0.0.6:5001", remoting::language_code::kCpp, 1});
  // A relayed heartbeat is another replica's client: not listed here.
  registry.heartbeat(producer_heartbeat("p3", {"PG"}), 3, /*relayed=*/true, {"10.0.0.8:5003"});

  auto pg = registry.producer_connection("PG");
  ASSERT_TRUE(pg.has_value());
  ASSERT_EQ(pg->connections.size(), 2u);
  EXPECT_EQ(pg->connections[0], (remoting::ClientConnection{"p1", "10.0.0.6:5001", "CPP", 1}));
  EXPECT_EQ(pg->connections[1], (remoting::ClientConnection{"p2", "10.0.0.7:5002", "JAVA", 395}));
  EXPECT_TRUE(registry.consumers("PG").empty()) << "producers are not consumers";

  registry.unregister_producer("p1", "PG");
  ASSERT_EQ(registry.producer_connection("PG")->connections.size(), 1u);
  // Closing p2's connection forgets it in every group, without anything to pass on.
  EXPECT_TRUE(registry.connection_closed(2).empty());
  EXPECT_FALSE(registry.producer_connection("PG").has_value());
  EXPECT_FALSE(registry.producer_connection("OTHER").has_value());

  registry.heartbeat(producer_heartbeat("p4", {"PG"}), 4);
  now += std::chrono::seconds(121);
  EXPECT_FALSE(registry.producer_connection("PG").has_value()) << "expired";
}

}  // namespace
}  // namespace dledger::broker
