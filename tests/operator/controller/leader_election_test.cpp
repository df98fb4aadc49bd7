#include "operator/controller/leader_election.h"

#include <gtest/gtest.h>

#include "tests/kube/apiserver/api_server.h"

namespace dledger::op::controller {
namespace {

using std::chrono::seconds;
using std::chrono::system_clock;

const system_clock::time_point kT0 = system_clock::time_point(seconds(1767323045));

TEST(LeaseDecision, MissingLeaseIsCreatedOwnLeaseRenewedLiveForeignLeaseWaitedOn) {
  EXPECT_EQ(decide_lease_action(std::nullopt, "a", kT0), LeaseAction::kCreate);
  LeaseState lease{"a", 15, kT0, 0};
  EXPECT_EQ(decide_lease_action(lease, "a", kT0 + seconds(100)), LeaseAction::kRenew);
  EXPECT_EQ(decide_lease_action(lease, "b", kT0 + seconds(15)), LeaseAction::kWait);
  EXPECT_EQ(decide_lease_action(lease, "b", kT0 + seconds(16)), LeaseAction::kTakeOver);
  LeaseState released{"", 15, kT0, 3};
  EXPECT_EQ(decide_lease_action(released, "b", kT0), LeaseAction::kTakeOver);
}

TEST(LeaseDecision, MicroTimeRoundTrips) {
  const auto time = kT0 + std::chrono::microseconds(123456);
  const std::string text = format_micro_time(time);
  EXPECT_EQ(text, "2026-01-02T03:04:05.123456Z");
  EXPECT_EQ(parse_micro_time(text), time);
  EXPECT_EQ(parse_micro_time("2026-01-02T03:04:05Z"), kT0);
  EXPECT_EQ(parse_micro_time("yesterday"), std::nullopt);
}

TEST(LeaderElector, OnlyOneCandidateLeadsUntilTheLeaseExpiresThenTheOtherTakesOver) {
  dledger::kube::ApiServerOptions server_options;
  auto server = dledger::kube::ApiServer::create(server_options);
  ASSERT_TRUE(server.ok()) << server.error().to_string();
  ASSERT_TRUE((*server)->start(0).ok());
  kube::KubeConfig config;
  config.server = (*server)->base_url();
  kube::KubeClient client(config);

  system_clock::time_point now = kT0;
  auto options_for = [&](const std::string& identity) {
    LeaderElectionOptions options;
    options.identity = identity;
    options.lease_duration_seconds = 15;
    options.clock = [&now] { return now; };
    return options;
  };
  LeaderElector a(client, options_for("a"));
  LeaderElector b(client, options_for("b"));

  ASSERT_EQ(a.try_acquire_or_renew().value(), true);
  EXPECT_EQ(b.try_acquire_or_renew().value(), false);
  now += seconds(10);
  EXPECT_EQ(a.try_acquire_or_renew().value(), true);  // renewed at t0+10
  now += seconds(20);                                 // a stops renewing; expired at t0+25
  EXPECT_EQ(b.try_acquire_or_renew().value(), true);
  EXPECT_EQ(a.try_acquire_or_renew().value(), false);

  auto lease = client.get(kube::resources::kLeases, "default", "dledger-operator");
  ASSERT_TRUE(lease.ok());
  EXPECT_EQ((*lease)["spec"]["holderIdentity"], "b");
  EXPECT_EQ((*lease)["spec"]["leaseTransitions"], 1);
  (*server)->stop();
}

}  // namespace
}  // namespace dledger::op::controller
