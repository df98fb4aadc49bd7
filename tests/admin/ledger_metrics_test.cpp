// LedgerMetrics: families and labels from docs/admin-api.md, role series flipping, per-peer lag
// series appearing and disappearing, and clean removal on destruction.
#include "broker/admin/ledger_metrics.h"

#include <gtest/gtest.h>
#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>

#include "tests/admin/fake_backend.h"

namespace dledger::admin {
namespace {

std::string render(prometheus::Registry& registry) {
  return prometheus::TextSerializer().Serialize(registry.Collect());
}

bool contains(const std::string& text, const std::string& needle) {
  return text.find(needle) != std::string::npos;
}

TEST(LedgerMetrics, RoleSeriesFollowTheCurrentRole) {
  auto registry = std::make_shared<prometheus::Registry>();
  LedgerMetrics metrics(registry, "g", "n1");
  ReplicaStatus status = testing::follower_status("h:1");
  metrics.update(status);
  std::string text = render(*registry);
  EXPECT_TRUE(contains(text, R"(dledger_role{group="g",member="n1",role="follower"} 1)")) << text;
  EXPECT_TRUE(contains(text, R"(dledger_role{group="g",member="n1",role="leader"} 0)"));
  EXPECT_TRUE(contains(text, R"(dledger_role{group="g",member="n1",role="candidate"} 0)"));
  EXPECT_TRUE(contains(text, R"(dledger_role{group="g",member="n1",role="learner"} 0)"));

  status.role = kRoleCandidate;
  status.term = 9;
  metrics.update(status);
  metrics.on_election();
  text = render(*registry);
  EXPECT_TRUE(contains(text, R"(dledger_role{group="g",member="n1",role="candidate"} 1)"));
  EXPECT_TRUE(contains(text, R"(dledger_role{group="g",member="n1",role="follower"} 0)"));
  EXPECT_TRUE(contains(text, R"(dledger_term{group="g",member="n1"} 9)"));
  EXPECT_TRUE(contains(text, R"(dledger_elections_total{group="g",member="n1"} 1)"));
}

TEST(LedgerMetrics, LagSeriesExistOnlyWhileLeading) {
  auto registry = std::make_shared<prometheus::Registry>();
  LedgerMetrics metrics(registry, "g", "n0");
  ReplicaStatus status = testing::leader_status();
  metrics.update(status);
  std::string text = render(*registry);
  EXPECT_TRUE(
      contains(text, R"(dledger_replication_lag_entries{group="g",member="n0",peer="n1"} 0)"))
      << text;
  EXPECT_TRUE(
      contains(text, R"(dledger_replication_lag_entries{group="g",member="n0",peer="n2"} 1)"));
  EXPECT_FALSE(contains(text, R"(peer="n0")")) << "no lag series for the leader itself";

  status.members.pop_back();  // n2 removed
  metrics.update(status);
  EXPECT_FALSE(contains(render(*registry), R"(peer="n2")"));

  metrics.update(testing::follower_status("h:1"));
  EXPECT_FALSE(contains(render(*registry), "dledger_replication_lag_entries{"));
}

TEST(LedgerMetrics, HistogramsUseBucketsFrom50MicrosecondsTo5Seconds) {
  auto registry = std::make_shared<prometheus::Registry>();
  LedgerMetrics metrics(registry, "g", "n0");
  metrics.observe_fsync_latency(0.00003);
  metrics.observe_fsync_latency(0.003);
  metrics.observe_append_latency(10.0);
  metrics.set_pending_appends(7);
  const std::string text = render(*registry);
  EXPECT_TRUE(
      contains(text, R"(dledger_fsync_latency_seconds_bucket{group="g",member="n0",le="5e-05"} 1)"))
      << text;
  EXPECT_TRUE(
      contains(text, R"(dledger_fsync_latency_seconds_bucket{group="g",member="n0",le="5"} 2)"));
  EXPECT_TRUE(
      contains(text, R"(dledger_append_latency_seconds_bucket{group="g",member="n0",le="5"} 0)"));
  EXPECT_TRUE(contains(
      text, R"(dledger_append_latency_seconds_bucket{group="g",member="n0",le="+Inf"} 1)"));
  EXPECT_TRUE(contains(text, R"(dledger_pending_appends{group="g",member="n0"} 7)"));
  const auto buckets = LedgerMetrics::latency_buckets_seconds();
  EXPECT_DOUBLE_EQ(buckets.front(), 0.00005);
  EXPECT_DOUBLE_EQ(buckets.back(), 5.0);
}

TEST(LedgerMetrics, TwoReplicasShareARegistryAndRemoveTheirSeries) {
  auto registry = std::make_shared<prometheus::Registry>();
  LedgerMetrics n0(registry, "g", "n0");
  {
    LedgerMetrics n1(registry, "g", "n1");
    n0.set_disk_used(1);
    n1.set_disk_used(2);
    const std::string text = render(*registry);
    EXPECT_TRUE(contains(text, R"(dledger_disk_used_bytes{group="g",member="n0"} 1)")) << text;
    EXPECT_TRUE(contains(text, R"(dledger_disk_used_bytes{group="g",member="n1"} 2)"));
  }
  const std::string text = render(*registry);
  EXPECT_TRUE(contains(text, R"(dledger_disk_used_bytes{group="g",member="n0"} 1)"));
  EXPECT_FALSE(contains(text, R"(member="n1")")) << text;
}

}  // namespace
}  // namespace dledger::admin
