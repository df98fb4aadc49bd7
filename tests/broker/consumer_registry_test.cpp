// ConsumerRegistry: heartbeats, unregistering, connection close and the 120 s expiry.
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

}  // namespace
}  // namespace dledger::broker
