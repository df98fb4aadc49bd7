// The operator's /metrics after reconciles against the in-repo API server: names and labels
// exactly as docs/packaging.md's Operator table, values from what the reconciles did.
#include "operator/controller/operator_metrics.h"

#include <gtest/gtest.h>
#include <prometheus/exposer.h>

#include <sstream>

#include "tests/kube/http_test_client.h"
#include "tests/operator/controller/reconciler_fixture.h"

namespace dledger::op::controller {
namespace {

class OperatorMetricsTest : public ReconcilerTest {
 protected:
  void SetUp() override {
    ReconcilerTest::SetUp();
    registry_ = std::make_shared<prometheus::Registry>();
    metrics_ = std::make_unique<OperatorMetrics>(*registry_);
    exposer_ = std::make_unique<prometheus::Exposer>("127.0.0.1:0");
    exposer_->RegisterCollectable(registry_);
  }

  // One reconcile recorded the way dledger-operator records it.
  void reconcile(const std::string& key) {
    auto result = reconciler_->reconcile(key);
    if (result.ok()) {
      metrics_->record_success(key, *result, 0.002);
    } else {
      metrics_->record_failure(key, reconciler_->last_error_reason(), 0.002);
    }
  }

  std::string scrape() {
    const auto port = exposer_->GetListeningPorts().at(0);
    auto response = dledger::kube::testing::http_request(port, "GET", "/metrics", "", {});
    EXPECT_EQ(response.status, 200);
    return response.body;
  }

  // Value of the sample `name{labels}` (labels given in any order; all must match), or -1.
  static double sample(const std::string& text, const std::string& name,
                       const std::map<std::string, std::string>& labels) {
    std::istringstream lines(text);
    std::string line;
    while (std::getline(lines, line)) {
      if (line.rfind(name + "{", 0) != 0 && line.rfind(name + " ", 0) != 0) continue;
      const auto close = line.find('}');
      const std::string label_text = close == std::string::npos ? "" : line.substr(0, close);
      bool all = true;
      for (const auto& [key, value] : labels) {
        all &= label_text.find(key + "=\"" + value + "\"") != std::string::npos;
      }
      if (!all) continue;
      return std::stod(line.substr(line.rfind(' ') + 1));
    }
    return -1;
  }

  std::shared_ptr<prometheus::Registry> registry_;
  std::unique_ptr<OperatorMetrics> metrics_;
  std::unique_ptr<prometheus::Exposer> exposer_;
};

const std::map<std::string, std::string> kG1 = {{"namespace", "default"}, {"dledgergroup", "g1"}};

std::map<std::string, std::string> g1_with(const std::string& key, const std::string& value) {
  auto labels = kG1;
  labels[key] = value;
  return labels;
}

TEST_F(OperatorMetricsTest, ScrapeShowsReconcileResultsGroupGaugesAndMemberGauges) {
  create_group("g1", 3);
  reconcile("default/g1");  // creates the group: a step -> requeue
  admin_.healthy_group(3, 3);
  reconcile("default/g1");  // steady, Ready
  metrics_->set_queue_depth(2);

  const std::string text = scrape();
  EXPECT_EQ(sample(text, "dledger_operator_reconcile_total", g1_with("result", "requeue")), 1);
  EXPECT_EQ(sample(text, "dledger_operator_reconcile_total", g1_with("result", "success")), 1);
  EXPECT_EQ(sample(text, "dledger_operator_reconcile_duration_seconds_count", kG1), 2);
  EXPECT_EQ(
      sample(text, "dledger_operator_reconcile_duration_seconds_bucket", g1_with("le", "0.001")),
      0);
  EXPECT_EQ(sample(text, "dledger_operator_reconcile_duration_seconds_bucket", g1_with("le", "60")),
            2);
  EXPECT_EQ(sample(text, "dledger_operator_queue_depth", {}), 2);
  EXPECT_EQ(sample(text, "dledger_group_ready", kG1), 1);
  EXPECT_EQ(sample(text, "dledger_group_members", g1_with("state", "desired")), 3);
  EXPECT_EQ(sample(text, "dledger_group_members", g1_with("state", "current")), 3);
  EXPECT_EQ(sample(text, "dledger_group_members", g1_with("state", "ready")), 3);
  EXPECT_EQ(sample(text, "dledger_group_members", g1_with("state", "learners")), 0);
  auto n0 = g1_with("member", "n0");
  EXPECT_EQ(sample(text, "dledger_group_member_term", n0), 4);
  EXPECT_EQ(sample(text, "dledger_group_member_commit_index", n0), 42);
  n0["role"] = "leader";
  EXPECT_EQ(sample(text, "dledger_group_member_role", n0), 1);
  auto n1 = g1_with("member", "n1");
  n1["role"] = "follower";
  EXPECT_EQ(sample(text, "dledger_group_member_role", n1), 1);
  n1["role"] = "leader";
  EXPECT_EQ(sample(text, "dledger_group_member_role", n1), 0);
  // The label is `dledgergroup`, never `group`.
  EXPECT_EQ(text.find("{group=\""), std::string::npos) << text;
  EXPECT_EQ(text.find(",group=\""), std::string::npos) << text;
}

TEST_F(OperatorMetricsTest, MembershipChangesErrorsAndRemovedMembersAreReflected) {
  create_group("g1", 3, {{"adminTokenSecretRef", {{"name", "absent"}, {"key", "token"}}}});
  reconcile("default/g1");
  admin_.healthy_group(3, 3);
  ASSERT_TRUE(
      client_->patch(resources::kDLedgerGroups, "default", "g1", {{"spec", {{"replicas", 2}}}})
          .ok());
  // Scale-down: record that n2 will rejoin as a learner, then removing n2 needs the admin token,
  // whose Secret is missing.
  reconcile("default/g1");
  reconcile("default/g1");
  std::string text = scrape();
  EXPECT_EQ(sample(text, "dledger_operator_reconcile_errors_total",
                   g1_with("reason", "AdminTokenUnavailable")),
            1);
  EXPECT_EQ(sample(text, "dledger_operator_reconcile_total", g1_with("result", "error")), 1);

  json secret = {{"apiVersion", "v1"},
                 {"kind", "Secret"},
                 {"metadata", {{"name", "absent"}}},
                 {"data", {{"token", "dG9rZW4="}}}};
  ASSERT_TRUE(client_->create(resources::kSecrets, "default", secret).ok());
  reconcile("default/g1");
  admin_.healthy_group(2, 2);  // n2 removed, its pod gone
  reconcile("default/g1");     // StatefulSet 3 -> 2
  text = scrape();
  EXPECT_EQ(sample(text, "dledger_group_membership_changes_total", g1_with("operation", "remove")),
            1);
  EXPECT_EQ(sample(text, "dledger_group_members", g1_with("state", "desired")), 2);
  EXPECT_EQ(sample(text, "dledger_group_members", g1_with("state", "current")), 2);
  EXPECT_EQ(sample(text, "dledger_group_member_term", g1_with("member", "n2")), -1)
      << "removed member still exported";

  ASSERT_TRUE(client_->delete_object(resources::kDLedgerGroups, "default", "g1").ok());
  reconcile("default/g1");
  text = scrape();
  EXPECT_EQ(sample(text, "dledger_group_ready", kG1), -1);
  EXPECT_EQ(sample(text, "dledger_group_member_term", g1_with("member", "n0")), -1);
}

TEST_F(OperatorMetricsTest, InvalidSpecCountsAsAnErrorWithReasonInvalidSpec) {
  create_group("bad", 3, {{"config", {{"dLegerPeers", "n0-x:1"}}}});
  reconcile("default/bad");
  const std::string text = scrape();
  EXPECT_EQ(sample(text, "dledger_operator_reconcile_errors_total",
                   {{"namespace", "default"}, {"dledgergroup", "bad"}, {"reason", "InvalidSpec"}}),
            1);
  EXPECT_EQ(
      sample(text, "dledger_group_ready", {{"namespace", "default"}, {"dledgergroup", "bad"}}), 0);
}

}  // namespace
}  // namespace dledger::op::controller
