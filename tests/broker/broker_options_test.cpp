// BrokerOptions: broker.conf keys, defaults, and errors naming key and value.
#include "broker/broker/broker_options.h"

#include <gtest/gtest.h>

namespace dledger::broker {
namespace {

Properties base_props() {
  Properties p;
  p.set("brokerName", "broker-a");
  p.set("dLegerGroup", "broker-a");
  p.set("dLegerPeers", "n0-127.0.0.1:40911;n1-127.0.0.1:40912;n2-127.0.0.1:40913");
  p.set("dLegerSelfId", "n1");
  p.set("storePathRootDir", "/tmp/dledger-broker-options-test");
  return p;
}

TEST(BrokerOptions, DefaultsFollowRocketMQ) {
  Properties p = base_props();
  auto o = BrokerOptions::from_properties(p);
  ASSERT_TRUE(o.ok()) << o.error().to_string();
  EXPECT_EQ(o->cluster_name, "DefaultCluster");
  EXPECT_EQ(o->broker_name, "broker-a");
  EXPECT_EQ(o->broker_ip, "127.0.0.1");
  EXPECT_EQ(o->listen_port, 10911);
  EXPECT_TRUE(o->namesrv_addresses.empty());
  EXPECT_EQ(o->consume_queue_dir, "/tmp/dledger-broker-options-test/consumequeue");
  EXPECT_EQ(o->broker_address(), "127.0.0.1:10911");
  EXPECT_EQ(o->ledger.self_name, "n1");
  EXPECT_EQ(o->query_message_max_scan, 50000u);
  EXPECT_TRUE(p.unused_keys().empty());
}

TEST(BrokerOptions, ReadsEveryBrokerKeyAndAcceptsCompatibilityKeys) {
  Properties p = base_props();
  p.set("brokerClusterName", "c1");
  p.set("brokerIP1", "10.0.0.7");
  p.set("brokerIP2", "10.0.0.7");
  p.set("listenPort", "30911");
  p.set("namesrvAddr", "10.0.0.1:9876; 10.0.0.2:9876;");
  p.set("storePathConsumeQueue", "/data/cq");
  p.set("storePathCommitLog", "/data/commitlog");
  p.set("storePathIndex", "/data/index");
  p.set("storeCheckpoint", "/data/checkpoint");
  p.set("abortFile", "/data/abort");
  p.set("enableDLegerCommitLog", "true");
  p.set("sendMessageThreadPoolNums", "16");
  p.set("somethingElse", "x");
  auto o = BrokerOptions::from_properties(p);
  ASSERT_TRUE(o.ok()) << o.error().to_string();
  EXPECT_EQ(o->cluster_name, "c1");
  EXPECT_EQ(o->broker_address(), "10.0.0.7:30911");
  EXPECT_EQ(o->namesrv_addresses, (std::vector<std::string>{"10.0.0.1:9876", "10.0.0.2:9876"}));
  EXPECT_EQ(o->consume_queue_dir, "/data/cq");
  EXPECT_EQ(p.unused_keys(), std::vector<std::string>{"somethingElse"});
}

TEST(BrokerOptions, DisabledDLedgerCommitLogIsRefusedWithAnExplanation) {
  Properties p = base_props();
  p.set("enableDLegerCommitLog", "false");
  auto o = BrokerOptions::from_properties(p);
  ASSERT_FALSE(o.ok());
  EXPECT_NE(o.error().message.find("enableDLegerCommitLog"), std::string::npos);
  EXPECT_NE(o.error().message.find("always replicates"), std::string::npos);
}

TEST(BrokerOptions, InvalidValuesNameKeyAndValue) {
  {
    Properties p = base_props();
    p.set("listenPort", "70000");
    auto o = BrokerOptions::from_properties(p);
    ASSERT_FALSE(o.ok());
    EXPECT_NE(o.error().message.find("listenPort"), std::string::npos);
    EXPECT_NE(o.error().message.find("70000"), std::string::npos);
  }
  {
    Properties p = base_props();
    p.set("queryMessageMaxScan", "0");
    auto o = BrokerOptions::from_properties(p);
    ASSERT_FALSE(o.ok());
    EXPECT_NE(o.error().message.find("queryMessageMaxScan"), std::string::npos);
    p.set("queryMessageMaxScan", "200000");
    auto raised = BrokerOptions::from_properties(p);
    ASSERT_TRUE(raised.ok()) << raised.error().to_string();
    EXPECT_EQ(raised->query_message_max_scan, 200000u);
  }
  {
    Properties p = base_props();
    p.set("namesrvAddr", "10.0.0.1:9876;nameserver");
    auto o = BrokerOptions::from_properties(p);
    ASSERT_FALSE(o.ok());
    EXPECT_NE(o.error().message.find("namesrvAddr"), std::string::npos);
    EXPECT_NE(o.error().message.find("'nameserver'"), std::string::npos);
  }
  {
    // The log cannot hold segments above 2 GiB: refused when the file is read, not at open.
    Properties p = base_props();
    p.set("segmentBytes", "4294967296");
    auto o = BrokerOptions::from_properties(p);
    ASSERT_FALSE(o.ok());
    EXPECT_NE(o.error().message.find("segmentBytes"), std::string::npos);
    EXPECT_NE(o.error().message.find("4294967296"), std::string::npos);
    p.set("segmentBytes", "2147483648");
    EXPECT_TRUE(BrokerOptions::from_properties(p).ok());
  }
  {
    // Recovery reads the zero-filled tail: bounded at 64 MiB; 0 turns preallocation off.
    Properties p = base_props();
    p.set("preallocateBytes", "67108865");
    auto o = BrokerOptions::from_properties(p);
    ASSERT_FALSE(o.ok());
    EXPECT_NE(o.error().message.find("preallocateBytes"), std::string::npos);
    EXPECT_NE(o.error().message.find("67108865"), std::string::npos);
    p.set("preallocateBytes", "0");
    auto off = BrokerOptions::from_properties(p);
    ASSERT_TRUE(off.ok());
    EXPECT_EQ(off->ledger.preallocate_bytes, 0u);
  }
  {
    // The log's page-cache window: unlimited (0) by default; a negative size is refused.
    Properties p = base_props();
    auto defaults = BrokerOptions::from_properties(p);
    ASSERT_TRUE(defaults.ok());
    EXPECT_EQ(defaults->ledger.page_cache_bytes, 0u);
    p.set("logPageCacheBytes", "-1");
    auto o = BrokerOptions::from_properties(p);
    ASSERT_FALSE(o.ok());
    EXPECT_NE(o.error().message.find("logPageCacheBytes"), std::string::npos);
    p.set("logPageCacheBytes", "268435456");
    auto set = BrokerOptions::from_properties(p);
    ASSERT_TRUE(set.ok());
    EXPECT_EQ(set->ledger.page_cache_bytes, 268435456u);
  }
  {
    Properties p = base_props();
    p.set("maxInflightAppends", "0");
    auto o = BrokerOptions::from_properties(p);
    ASSERT_FALSE(o.ok());
    EXPECT_NE(o.error().message.find("maxInflightAppends"), std::string::npos);
    p.set("maxInflightAppends", "1");
    auto one = BrokerOptions::from_properties(p);
    ASSERT_TRUE(one.ok());
    EXPECT_EQ(one->ledger.max_inflight_appends, 1u);
  }
  {
    // Coalescing is on by default (one partial Append in flight); 4096 is the upper bound.
    Properties p = base_props();
    auto defaults = BrokerOptions::from_properties(p);
    ASSERT_TRUE(defaults.ok());
    EXPECT_EQ(defaults->ledger.max_partial_inflight_appends, 1u);
    p.set("maxPartialInflightAppends", "4097");
    auto o = BrokerOptions::from_properties(p);
    ASSERT_FALSE(o.ok());
    EXPECT_NE(o.error().message.find("maxPartialInflightAppends"), std::string::npos);
    EXPECT_NE(o.error().message.find("4097"), std::string::npos);
    p.set("maxPartialInflightAppends", "256");
    auto off = BrokerOptions::from_properties(p);
    ASSERT_TRUE(off.ok());
    EXPECT_EQ(off->ledger.max_partial_inflight_appends, 256u);
  }
  {
    Properties p = base_props();
    p.set("dLegerSelfId", "n9");
    EXPECT_FALSE(BrokerOptions::from_properties(p).ok());
  }
}

TEST(BrokerOptions, BrokerNameIsRequired) {
  Properties without;
  without.set("dLegerGroup", "g");
  without.set("dLegerPeers", "n0-127.0.0.1:40911");
  without.set("dLegerSelfId", "n0");
  auto o = BrokerOptions::from_properties(without);
  ASSERT_FALSE(o.ok());
  EXPECT_NE(o.error().message.find("brokerName"), std::string::npos);
}

TEST(BrokerOptions, BrokerPeersMapEveryMemberToItsRemotingAddress) {
  Properties p = base_props();
  p.set("brokerPeers", "n0-127.0.0.1:30911;n1-127.0.0.1:30921;n2-127.0.0.1:30931");
  auto o = BrokerOptions::from_properties(p);
  ASSERT_TRUE(o.ok()) << o.error().to_string();
  EXPECT_EQ(o->broker_peers,
            (std::map<raft::NodeId, std::string>{
                {0, "127.0.0.1:30911"}, {1, "127.0.0.1:30921"}, {2, "127.0.0.1:30931"}}));
  EXPECT_TRUE(BrokerOptions::from_properties(base_props())->broker_peers.empty());
}

TEST(BrokerOptions, InvalidBrokerPeersNameTheKeyAndValue) {
  for (const char* bad : {"n0-127.0.0.1:0", "n0-127.0.0.1:30911;n2-127.0.0.1:30931", "x"}) {
    Properties p = base_props();
    p.set("brokerPeers", bad);
    auto o = BrokerOptions::from_properties(p);
    ASSERT_FALSE(o.ok()) << bad;
    EXPECT_NE(o.error().message.find(std::string("brokerPeers = '") + bad + "'"), std::string::npos)
        << o.error().message;
  }
}

}  // namespace
}  // namespace dledger::broker
