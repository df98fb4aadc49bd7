// Broker metrics (docs/packaging.md "Metrics reference", Broker table): sends and pulls through a
// real one-member broker group, then GET /metrics on a real admin HTTP server sharing the
// registry (as dledger-broker wires it) and the samples are checked.
#include "broker/broker/broker_metrics.h"

#include <gtest/gtest.h>
#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>

#include <sstream>

#include "broker/admin/admin_client.h"
#include "broker/admin/admin_http_server.h"
#include "broker/remoting/pull_header.h"
#include "tests/admin/fake_backend.h"
#include "tests/broker/broker_group.h"
#include "tests/broker/broker_requests.h"

namespace dledger::broker {
namespace {

using namespace std::chrono_literals;
namespace resp = remoting::response_code;

std::string render(prometheus::Registry& registry) {
  return prometheus::TextSerializer().Serialize(registry.Collect());
}

// The value of the sample line `series` (name{labels} exactly as rendered), or -1 when absent.
double sample(const std::string& text, const std::string& series) {
  std::istringstream lines(text);
  std::string line;
  while (std::getline(lines, line)) {
    if (line.rfind(series + " ", 0) == 0) return std::stod(line.substr(series.size() + 1));
  }
  return -1;
}

std::string series(const std::string& name, const std::string& extra_labels = "") {
  return name + R"({group="g",member="n0")" + (extra_labels.empty() ? "" : "," + extra_labels) +
         "}";
}

class BrokerMetricsTest : public testing::SingleBrokerTest {
 protected:
  static void SetUpTestSuite() {
    registry_ = std::make_shared<prometheus::Registry>();
    metrics_ = new BrokerMetrics(registry_, "g", "n0");
    start_group([](int, store::MessageStoreOptions&, BrokerHandlers::Options& handler_options) {
      handler_options.metrics = metrics_;
    });
    if (::testing::Test::HasFatalFailure()) return;
    admin::AdminServerOptions admin_options;
    admin_options.host = "127.0.0.1";
    admin_options.port = 0;
    admin_options.registry = registry_;
    auto started = admin::AdminHttpServer::start(
        admin_options,
        std::make_shared<admin::testing::FakeBackend>(admin::testing::leader_status()));
    ASSERT_TRUE(started.ok()) << started.error().to_string();
    admin_ = std::move(started).value().release();
  }
  static void TearDownTestSuite() {
    delete admin_;
    admin_ = nullptr;
    SingleBrokerTest::TearDownTestSuite();
    delete metrics_;
    metrics_ = nullptr;
    registry_.reset();
  }

  // The /metrics page as a scraper sees it.
  static std::string text() {
    admin::AdminClient client;
    auto reply = client.request(admin_->address(), "GET", "/metrics", "", "");
    EXPECT_TRUE(reply.ok()) << reply.error().to_string();
    if (!reply.ok()) return "";
    EXPECT_EQ(reply->status, 200);
    return reply->body;
  }

  static void send(const std::string& topic, std::int32_t queue_id, const std::string& body) {
    auto reply =
        client().invoke_sync(testing::send_message_request(topic, queue_id, body, "TagA"), 10s);
    ASSERT_TRUE(reply.ok()) << reply.error().to_string();
    ASSERT_EQ(reply->code, resp::kSuccess) << reply->remark.value_or("");
  }

  static inline std::shared_ptr<prometheus::Registry> registry_;
  static inline BrokerMetrics* metrics_ = nullptr;
  static inline admin::AdminHttpServer* admin_ = nullptr;
};

TEST_F(BrokerMetricsTest, SendsAndPullsAreCountedPerTopic) {
  ASSERT_EQ(group_->create_topic(0, "metrics-a", 1), resp::kSuccess);
  ASSERT_EQ(group_->create_topic(0, "metrics-b", 1), resp::kSuccess);
  send("metrics-a", 0, "12345");
  send("metrics-a", 0, "678");
  send("metrics-b", 0, "x");

  auto pulled = client().invoke_sync(testing::pull_message_request("CG", "metrics-a", 0, 0), 10s);
  ASSERT_TRUE(pulled.ok());
  ASSERT_EQ(pulled->code, resp::kSuccess);
  // Nothing more to read: answered PULL_NOT_FOUND, counted as a pull returning nothing.
  auto empty = client().invoke_sync(testing::pull_message_request("CG", "metrics-a", 0, 2), 10s);
  ASSERT_TRUE(empty.ok());
  ASSERT_EQ(empty->code, resp::kPullNotFound);

  std::string t = text();
  EXPECT_EQ(sample(t, series("dledger_broker_messages_in_total", R"(topic="metrics-a")")), 2);
  EXPECT_EQ(sample(t, series("dledger_broker_messages_in_total", R"(topic="metrics-b")")), 1);
  EXPECT_EQ(sample(t, series("dledger_broker_bytes_in_total", R"(topic="metrics-a")")), 8);
  EXPECT_EQ(sample(t, series("dledger_broker_bytes_in_total", R"(topic="metrics-b")")), 1);
  EXPECT_EQ(sample(t, series("dledger_broker_messages_out_total", R"(topic="metrics-a")")), 2);
  EXPECT_EQ(sample(t, series("dledger_broker_bytes_out_total", R"(topic="metrics-a")")),
            static_cast<double>(pulled->body.size()));
  EXPECT_EQ(sample(t, series("dledger_broker_messages_out_total", R"(topic="metrics-b")")), -1);
  EXPECT_EQ(sample(t, series("dledger_broker_produce_latency_seconds_count")), 3);
  EXPECT_EQ(sample(t, series("dledger_broker_produce_latency_seconds_bucket", R"(le="+Inf")")), 3);
  EXPECT_EQ(sample(t, series("dledger_broker_pull_latency_seconds_count")), 2);
  EXPECT_GT(sample(t, series("dledger_broker_produce_latency_seconds_sum")), 0);
}

TEST_F(BrokerMetricsTest, RefusedSendIsTimedButNotCounted) {
  ASSERT_EQ(group_->create_topic(0, "metrics-refused", 1), resp::kSuccess);
  double before = sample(text(), series("dledger_broker_produce_latency_seconds_count"));
  // A body over the store's max_message_bytes (4 MiB) is refused by the store.
  auto reply = client().invoke_sync(
      testing::send_message_request("metrics-refused", 0, std::string((4u << 20) + 1, 'x')), 10s);
  ASSERT_TRUE(reply.ok()) << reply.error().to_string();
  ASSERT_NE(reply->code, resp::kSuccess);
  std::string t = text();
  EXPECT_EQ(sample(t, series("dledger_broker_messages_in_total", R"(topic="metrics-refused")")),
            -1);
  EXPECT_EQ(sample(t, series("dledger_broker_produce_latency_seconds_count")), before + 1);
}

TEST_F(BrokerMetricsTest, ConsumerLagIsMaxOffsetMinusCommittedOffset) {
  ASSERT_EQ(group_->create_topic(0, "metrics-lag", 2), resp::kSuccess);
  for (int i = 0; i < 5; ++i) send("metrics-lag", 1, "m" + std::to_string(i));
  auto committed =
      client().invoke_sync(testing::update_offset_request("CG-lag", "metrics-lag", 1, 2), 10s);
  ASSERT_TRUE(committed.ok());
  ASSERT_EQ(committed->code, resp::kSuccess);

  BrokerMetrics::Sources sources;
  sources.store = group_->at(0).store.get();
  metrics_->refresh(sources);
  // Labels render sorted by name.
  const std::string lag =
      R"(dledger_broker_consumer_lag_messages{consumer_group="CG-lag",group="g",member="n0",)"
      R"(queue_id="1",topic="metrics-lag"})";
  EXPECT_EQ(sample(text(), lag), 3);

  committed =
      client().invoke_sync(testing::update_offset_request("CG-lag", "metrics-lag", 1, 5), 10s);
  ASSERT_TRUE(committed.ok());
  ASSERT_EQ(committed->code, resp::kSuccess);
  metrics_->refresh(sources);
  EXPECT_EQ(sample(text(), lag), 0);
}

TEST(BrokerMetricsGauges, GaugesFollowTheirSourcesAndVanishWithTheReplica) {
  auto registry = std::make_shared<prometheus::Registry>();
  auto metrics = std::make_unique<BrokerMetrics>(registry, "g", "n0");
  std::vector<NameServerRegistrar::Registration> registrations = {{"10.0.0.1:9876", true, 0},
                                                                  {"10.0.0.2:9876", false, -1}};
  BrokerMetrics::Sources sources;
  sources.held_pulls = [] { return std::size_t{4}; };
  sources.connected_clients = [] { return std::size_t{7}; };
  sources.registrations = [&registrations] { return registrations; };
  metrics->refresh(sources);
  std::string t = render(*registry);
  EXPECT_EQ(sample(t, series("dledger_broker_held_pulls")), 4);
  EXPECT_EQ(sample(t, series("dledger_broker_connected_clients")), 7);
  EXPECT_EQ(sample(t, series("dledger_broker_namesrv_registered", R"(namesrv="10.0.0.1:9876")")),
            1);
  EXPECT_EQ(sample(t, series("dledger_broker_namesrv_registered", R"(namesrv="10.0.0.2:9876")")),
            0);
  EXPECT_EQ(sample(t, series("dledger_broker_registered_broker_id", R"(namesrv="10.0.0.1:9876")")),
            0);
  EXPECT_EQ(sample(t, series("dledger_broker_registered_broker_id", R"(namesrv="10.0.0.2:9876")")),
            -1);

  registrations.pop_back();
  metrics->refresh(sources);
  t = render(*registry);
  EXPECT_EQ(sample(t, series("dledger_broker_namesrv_registered", R"(namesrv="10.0.0.2:9876")")),
            -1);

  metrics.reset();
  EXPECT_EQ(render(*registry).find("member=\"n0\""), std::string::npos);
}

}  // namespace
}  // namespace dledger::broker
