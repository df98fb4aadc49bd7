// The real kubectl 1.32 (/usr/bin/kubectl) against the test API server. Each test gets its own
// HOME (so kubectl's discovery cache is per test) and a generated kubeconfig; every kubectl run
// is bounded by `timeout 60`. DLEDGER_KUBECTL overrides the kubectl path.
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <thread>

#include <gtest/gtest.h>

#include "tests/common/kubectl.h"
#include "tests/kube/apiserver/api_server.h"
#include "tests/kube/http_test_client.h"

namespace dledger::kube {
namespace {

using nlohmann::json;

using dledger::testing::CommandResult;
using dledger::testing::kubectl_path;

const std::string kGroups = "/apis/dledger.io/v1alpha1/namespaces/default/dledgergroups";

class KubectlTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(access(kubectl_path().c_str(), X_OK), 0)
        << "kubectl 1.32 is needed at " << kubectl_path() << " (or set DLEDGER_KUBECTL)";
    char pattern[] = "/tmp/dledger-kubectl-XXXXXX";
    ASSERT_NE(mkdtemp(pattern), nullptr);
    dir_ = pattern;
    ApiServerOptions options;
    options.crd_paths = {DLEDGER_CRD_PATH};
    auto created = ApiServer::create(options);
    ASSERT_TRUE(created.ok()) << created.error().to_string();
    server_ = std::move(*created);
    auto bound = server_->start(0);
    ASSERT_TRUE(bound.ok()) << bound.error().to_string();
    ASSERT_TRUE(write_kubeconfig(dir_ + "/kubeconfig", server_->base_url()).ok());
  }
  void TearDown() override {
    if (server_) server_->stop();
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
  }

  CommandResult kubectl(const std::string& args) {
    return dledger::testing::run_kubectl(dir_, args);
  }

  void write_file(const std::string& name, const std::string& text) {
    std::ofstream(dir_ + "/" + name) << text;
  }

  void write_group(const std::string& file, const std::string& name, const std::string& extra) {
    write_file(file, "apiVersion: dledger.io/v1alpha1\nkind: DLedgerGroup\nmetadata:\n  name: " +
                         name + "\nspec:\n  image: dledger:1\n" + extra);
  }

  std::optional<json> stored_group(const std::string& name) {
    return server_->store().get(ObjectKey{"dledger.io/v1alpha1/dledgergroups", "default", name});
  }

  testing::HttpResponse patch_status(const std::string& name, const json& status) {
    return testing::http_request(server_->port(), "PATCH", kGroups + "/" + name + "/status",
                                 json{{"status", status}}.dump(),
                                 {{"Content-Type", "application/merge-patch+json"}});
  }

  std::string dir_;
  std::unique_ptr<ApiServer> server_;
};

TEST_F(KubectlTest, ApplyCreatesTheGroupWithDefaultsAndReapplyIsUnchanged) {
  write_group("g1.yaml", "g1", "");
  CommandResult applied = kubectl("apply -f g1.yaml");
  ASSERT_EQ(applied.exit_code, 0) << applied.output;
  EXPECT_NE(applied.output.find("dledgergroup.dledger.io/g1 created"), std::string::npos)
      << applied.output;
  auto stored = stored_group("g1");
  ASSERT_TRUE(stored.has_value());
  EXPECT_EQ((*stored)["spec"]["replicas"], 3);
  EXPECT_EQ((*stored)["spec"]["storage"]["size"], "10Gi");
  EXPECT_TRUE((*stored)["metadata"]["annotations"].contains(
      "kubectl.kubernetes.io/last-applied-configuration"));

  CommandResult again = kubectl("apply -f g1.yaml");
  ASSERT_EQ(again.exit_code, 0) << again.output;
  EXPECT_NE(again.output.find("unchanged"), std::string::npos) << again.output;

  write_group("g1.yaml", "g1", "  replicas: 5\n");
  CommandResult changed = kubectl("apply -f g1.yaml");
  ASSERT_EQ(changed.exit_code, 0) << changed.output;
  EXPECT_NE(changed.output.find("configured"), std::string::npos) << changed.output;
  EXPECT_EQ((*stored_group("g1"))["spec"]["replicas"], 5);
  EXPECT_EQ((*stored_group("g1"))["metadata"]["generation"], 2);
}

TEST_F(KubectlTest, ServerSideApplyCreatesThenUpdates) {
  write_group("g2.yaml", "g2", "  replicas: 1\n");
  CommandResult created = kubectl("apply --server-side -f g2.yaml");
  ASSERT_EQ(created.exit_code, 0) << created.output;
  EXPECT_NE(created.output.find("serverside-applied"), std::string::npos) << created.output;
  write_group("g2.yaml", "g2", "  replicas: 5\n");
  CommandResult updated = kubectl("apply --server-side -f g2.yaml");
  ASSERT_EQ(updated.exit_code, 0) << updated.output;
  EXPECT_EQ((*stored_group("g2"))["spec"]["replicas"], 5);
}

TEST_F(KubectlTest, GetShowsThePrinterColumns) {
  write_group("g1.yaml", "g1", "");
  ASSERT_EQ(kubectl("apply -f g1.yaml").exit_code, 0);
  ASSERT_EQ(patch_status("g1", {{"replicas", 3},
                                {"readyReplicas", 2},
                                {"leader", {{"pod", "g1-0"}, {"id", "n0"}}},
                                {"term", 7}})
                .status,
            200);
  CommandResult listed = kubectl("get dlg");
  ASSERT_EQ(listed.exit_code, 0) << listed.output;
  EXPECT_NE(listed.output.find("NAME   REPLICAS   READY   LEADER   TERM   AGE"), std::string::npos)
      << listed.output;
  EXPECT_NE(listed.output.find("g1     3          2       g1-0     7"), std::string::npos)
      << listed.output;
}

TEST_F(KubectlTest, JsonpathReadsTheDefaultedReplicas) {
  write_group("g1.yaml", "g1", "");
  ASSERT_EQ(kubectl("apply -f g1.yaml").exit_code, 0);
  CommandResult replicas = kubectl("get dlg g1 -o jsonpath='{.spec.replicas}'");
  ASSERT_EQ(replicas.exit_code, 0) << replicas.output;
  EXPECT_EQ(replicas.output, "3");
}

TEST_F(KubectlTest, ScaleChangesSpecReplicasThroughTheScaleSubresource) {
  write_group("g1.yaml", "g1", "");
  ASSERT_EQ(kubectl("apply -f g1.yaml").exit_code, 0);
  CommandResult scaled = kubectl("scale dlg/g1 --replicas=5");
  ASSERT_EQ(scaled.exit_code, 0) << scaled.output;
  EXPECT_NE(scaled.output.find("dledgergroup.dledger.io/g1 scaled"), std::string::npos);
  EXPECT_EQ((*stored_group("g1"))["spec"]["replicas"], 5);

  CommandResult guarded = kubectl("scale dlg/g1 --current-replicas=5 --replicas=7");
  ASSERT_EQ(guarded.exit_code, 0) << guarded.output;
  EXPECT_EQ((*stored_group("g1"))["spec"]["replicas"], 7);
  CommandResult wrong_current = kubectl("scale dlg/g1 --current-replicas=1 --replicas=3");
  EXPECT_NE(wrong_current.exit_code, 0) << wrong_current.output;
  CommandResult too_many = kubectl("scale dlg/g1 --replicas=12");
  EXPECT_NE(too_many.exit_code, 0);
  EXPECT_NE(too_many.output.find("should be less than or equal to 9"), std::string::npos)
      << too_many.output;
  EXPECT_EQ((*stored_group("g1"))["spec"]["replicas"], 7);
}

TEST_F(KubectlTest, InvalidGroupIsRejectedWithTheServersMessage) {
  write_group("g9.yaml", "g9", "  replicas: 12\n");
  CommandResult rejected = kubectl("apply -f g9.yaml");
  EXPECT_NE(rejected.exit_code, 0);
  EXPECT_NE(rejected.output.find("The DLedgerGroup \"g9\" is invalid: spec.replicas: Invalid "
                                 "value: 12: spec.replicas in body should be less than or equal "
                                 "to 9"),
            std::string::npos)
      << rejected.output;
  EXPECT_FALSE(stored_group("g9").has_value());

  write_group("g8.yaml", "g8", "  bogus: 1\n");
  CommandResult unknown = kubectl("apply -f g8.yaml");
  EXPECT_NE(unknown.exit_code, 0);
  EXPECT_NE(unknown.output.find("unknown field \"spec.bogus\""), std::string::npos)
      << unknown.output;
  EXPECT_FALSE(stored_group("g8").has_value());
}

TEST_F(KubectlTest, DeleteRemovesTheGroup) {
  write_group("g1.yaml", "g1", "");
  ASSERT_EQ(kubectl("apply -f g1.yaml").exit_code, 0);
  CommandResult deleted = kubectl("delete dlg g1");
  ASSERT_EQ(deleted.exit_code, 0) << deleted.output;
  EXPECT_NE(deleted.output.find("dledgergroup.dledger.io \"g1\" deleted"), std::string::npos);
  EXPECT_FALSE(stored_group("g1").has_value());
  CommandResult missing = kubectl("get dlg g1");
  EXPECT_NE(missing.exit_code, 0);
  EXPECT_NE(missing.output.find("NotFound"), std::string::npos) << missing.output;
}

TEST_F(KubectlTest, WaitSucceedsOnceReadyIsReportedForTheCurrentGeneration) {
  write_group("g1.yaml", "g1", "");
  ASSERT_EQ(kubectl("apply -f g1.yaml").exit_code, 0);
  std::thread reporter([&] {
    const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (server_->active_watches() == 0 && std::chrono::steady_clock::now() < give_up) {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    const int64_t generation = (*stored_group("g1"))["metadata"]["generation"];
    patch_status("g1", {{"observedGeneration", generation},
                        {"conditions",
                         {{{"type", "Ready"},
                           {"status", "True"},
                           {"reason", "QuorumReady"},
                           {"message", "3/3 members ready"},
                           {"lastTransitionTime", "2026-01-01T00:00:00Z"},
                           {"observedGeneration", generation}}}}});
  });
  CommandResult waited = kubectl("wait --for=condition=Ready dlg/g1 --timeout=20s");
  reporter.join();
  ASSERT_EQ(waited.exit_code, 0) << waited.output;
  EXPECT_NE(waited.output.find("dledgergroup.dledger.io/g1 condition met"), std::string::npos)
      << waited.output;
}

TEST_F(KubectlTest, GetPodsWatchReceivesAnAddedEvent) {
  CommandResult watched;
  std::thread watcher([&] { watched = kubectl("get pods -w"); });
  const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (server_->active_watches() == 0 && std::chrono::steady_clock::now() < give_up) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  const bool watching = server_->active_watches() > 0;
  auto created = testing::http_request(server_->port(), "POST", "/api/v1/namespaces/default/pods",
                                       R"({"apiVersion":"v1","kind":"Pod","metadata":{"name":"p1"},
          "spec":{"containers":[{"name":"c","image":"busybox"}]}})");
  server_->close_watches();  // a cleanly closed stream ends `kubectl get -w`
  watcher.join();
  ASSERT_TRUE(watching) << watched.output;
  ASSERT_EQ(created.status, 201) << created.body;
  EXPECT_EQ(watched.exit_code, 0) << watched.output;
  EXPECT_NE(watched.output.find("p1"), std::string::npos) << watched.output;
  EXPECT_NE(watched.output.find("Pending"), std::string::npos) << watched.output;
}

}  // namespace
}  // namespace dledger::kube
