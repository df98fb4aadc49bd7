// KubeClient against the in-repo test API server (tests/kube/apiserver): CRUD, selectors,
// conflicts, status, watch, 410 relist signal, config loading, timeouts.
#include "operator/kube/kube_client.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <asio.hpp>
#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <thread>

#include "tests/kube/apiserver/api_server.h"

namespace dledger::op::kube {
namespace {

using nlohmann::json;

std::string temp_dir(const std::string& tag) {
  auto dir = std::filesystem::temp_directory_path() /
             ("dledger-kube-" + tag + "-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  return dir.string();
}

class KubeClientTest : public ::testing::Test {
 protected:
  void start(size_t event_window = 1000) {
    dledger::kube::ApiServerOptions options;
    options.crd_paths = {DLEDGER_CRD_PATH};
    options.event_window = event_window;
    auto server = dledger::kube::ApiServer::create(options);
    ASSERT_TRUE(server.ok()) << server.error().to_string();
    server_ = std::move(*server);
    auto port = server_->start(0);
    ASSERT_TRUE(port.ok()) << port.error().to_string();
    KubeConfig config;
    config.server = server_->base_url();
    config.request_timeout = std::chrono::milliseconds(5000);
    client_ = std::make_unique<KubeClient>(config);
  }
  void SetUp() override { start(); }
  void TearDown() override {
    if (server_) server_->stop();
  }

  static json config_map(const std::string& name, const std::string& app) {
    return {{"apiVersion", "v1"},
            {"kind", "ConfigMap"},
            {"metadata", {{"name", name}, {"labels", {{"app", app}}}}},
            {"data", {{"k", "v"}}}};
  }

  std::unique_ptr<dledger::kube::ApiServer> server_;
  std::unique_ptr<KubeClient> client_;
};

TEST(KubeClientPaths, CoreAndGroupResourcesHaveTheirApiPrefix) {
  EXPECT_EQ(object_path(resources::kConfigMaps, "ns1", "c"), "/api/v1/namespaces/ns1/configmaps/c");
  EXPECT_EQ(collection_path(resources::kStatefulSets, "default"),
            "/apis/apps/v1/namespaces/default/statefulsets");
  EXPECT_EQ(object_path(resources::kDLedgerGroups, "x", "g1"),
            "/apis/dledger.io/v1alpha1/namespaces/x/dledgergroups/g1");
}

TEST(KubeClientErrors, ConflictAndGoneMapToTheirCodesAndNameTheObject) {
  const std::string status =
      R"({"kind":"Status","apiVersion":"v1","status":"Failure","reason":"Conflict",)"
      R"("message":"Operation cannot be fulfilled","code":409})";
  Error conflict = api_error("update v1 configmaps default/c", 409, status);
  EXPECT_TRUE(is_conflict(conflict));
  EXPECT_NE(conflict.message.find("update v1 configmaps default/c: HTTP 409 Conflict"),
            std::string::npos)
      << conflict.message;
  EXPECT_TRUE(is_gone(api_error("watch", 410, "{}")));
  EXPECT_EQ(api_error("get", 503, "down").code, ErrorCode::kUnavailable);
}

TEST_F(KubeClientTest, CreateGetListAndDeleteRoundTrip) {
  ASSERT_TRUE(client_->create(resources::kConfigMaps, "default", config_map("a", "x")).ok());
  ASSERT_TRUE(client_->create(resources::kConfigMaps, "default", config_map("b", "y")).ok());

  auto got = client_->get(resources::kConfigMaps, "default", "a");
  ASSERT_TRUE(got.ok()) << got.error().to_string();
  EXPECT_EQ((*got)["data"]["k"], "v");
  EXPECT_FALSE((*got)["metadata"]["resourceVersion"].get<std::string>().empty());

  auto by_label = client_->list(resources::kConfigMaps, "default", {.label_selector = "app=y"});
  ASSERT_TRUE(by_label.ok()) << by_label.error().to_string();
  ASSERT_EQ(by_label->items.size(), 1u);
  EXPECT_EQ(by_label->items[0]["metadata"]["name"], "b");
  EXPECT_FALSE(by_label->resource_version.empty());

  auto by_field =
      client_->list(resources::kConfigMaps, "default", {.field_selector = "metadata.name=a"});
  ASSERT_TRUE(by_field.ok());
  ASSERT_EQ(by_field->items.size(), 1u);
  EXPECT_EQ(by_field->items[0]["metadata"]["name"], "a");

  auto duplicate = client_->create(resources::kConfigMaps, "default", config_map("a", "x"));
  ASSERT_FALSE(duplicate.ok());
  EXPECT_TRUE(is_conflict(duplicate.error())) << duplicate.error().to_string();

  ASSERT_TRUE(client_->delete_object(resources::kConfigMaps, "default", "a").ok());
  auto gone = client_->get(resources::kConfigMaps, "default", "a");
  ASSERT_FALSE(gone.ok());
  EXPECT_TRUE(is_not_found(gone.error()));
  EXPECT_NE(gone.error().message.find("get v1 configmaps default/a: HTTP 404"), std::string::npos)
      << gone.error().message;
}

TEST_F(KubeClientTest, StaleUpdateIsConflictAndRetryOnConflictRereadsAndSucceeds) {
  auto created = client_->create(resources::kConfigMaps, "default", config_map("c", "x"));
  ASSERT_TRUE(created.ok());
  json stale = *created;
  json fresh = *created;
  fresh["data"]["k"] = "first";
  ASSERT_TRUE(client_->update(resources::kConfigMaps, "default", fresh).ok());

  stale["data"]["k"] = "second";
  auto conflict = client_->update(resources::kConfigMaps, "default", stale);
  ASSERT_FALSE(conflict.ok());
  EXPECT_TRUE(is_conflict(conflict.error())) << conflict.error().to_string();
  EXPECT_NE(conflict.error().message.find("update v1 configmaps default/c"), std::string::npos);

  // The first attempt uses the stale copy; later attempts re-read.
  int attempts = 0;
  auto result = retry_on_conflict<json>([&]() -> Result<json> {
    json object = stale;
    if (attempts++ > 0) {
      auto current = client_->get(resources::kConfigMaps, "default", "c");
      if (!current.ok()) return current.error();
      object = *current;
    }
    object["data"]["k"] = "second";
    return client_->update(resources::kConfigMaps, "default", object);
  });
  ASSERT_TRUE(result.ok()) << result.error().to_string();
  EXPECT_EQ(attempts, 2);
  EXPECT_EQ(client_->get(resources::kConfigMaps, "default", "c")->at("data").at("k"), "second");
}

TEST_F(KubeClientTest, RetryOnConflictGivesUpAfterMaxAttempts) {
  int attempts = 0;
  auto result = retry_on_conflict<json>(
      [&]() -> Result<json> {
        ++attempts;
        return make_error(kConflict, "always stale");
      },
      3);
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(attempts, 3);
}

TEST_F(KubeClientTest, MergePatchAndStatusSubresourceOnCustomResource) {
  json group = {{"apiVersion", "dledger.io/v1alpha1"},
                {"kind", "DLedgerGroup"},
                {"metadata", {{"name", "g1"}}},
                {"spec", {{"image", "img:1"}, {"replicas", 3}}}};
  auto created = client_->create(resources::kDLedgerGroups, "default", group);
  ASSERT_TRUE(created.ok()) << created.error().to_string();

  auto patched =
      client_->patch(resources::kDLedgerGroups, "default", "g1", {{"spec", {{"replicas", 5}}}});
  ASSERT_TRUE(patched.ok()) << patched.error().to_string();
  EXPECT_EQ((*patched)["spec"]["replicas"], 5);
  EXPECT_EQ((*patched)["spec"]["image"], "img:1");

  json with_status = *patched;
  with_status["status"] = {{"replicas", 3}, {"observedGeneration", 2}};
  with_status["spec"]["replicas"] = 7;  // ignored by the status subresource
  auto written = client_->update_status(resources::kDLedgerGroups, "default", with_status);
  ASSERT_TRUE(written.ok()) << written.error().to_string();
  auto read = client_->get(resources::kDLedgerGroups, "default", "g1");
  ASSERT_TRUE(read.ok());
  EXPECT_EQ((*read)["status"]["replicas"], 3);
  EXPECT_EQ((*read)["spec"]["replicas"], 5);

  auto invalid =
      client_->patch(resources::kDLedgerGroups, "default", "g1", {{"spec", {{"replicas", 12}}}});
  ASSERT_FALSE(invalid.ok());
  EXPECT_EQ(invalid.error().code, ErrorCode::kInvalidArgument);
  EXPECT_NE(invalid.error().message.find("spec.replicas"), std::string::npos)
      << invalid.error().message;
}

TEST_F(KubeClientTest, WatchFromListVersionDeliversLaterChangesInOrder) {
  ASSERT_TRUE(client_->create(resources::kConfigMaps, "default", config_map("before", "x")).ok());
  auto listed = client_->list(resources::kConfigMaps, "default");
  ASSERT_TRUE(listed.ok());

  std::vector<std::pair<std::string, std::string>> seen;  // type, name
  std::thread writer([&] {
    (void)client_->create(resources::kConfigMaps, "default", config_map("w1", "x"));
    (void)client_->patch(resources::kConfigMaps, "default", "w1", {{"data", {{"k", "2"}}}});
    (void)client_->delete_object(resources::kConfigMaps, "default", "w1");
  });
  WatchOptions options;
  options.resource_version = listed->resource_version;
  options.timeout_seconds = 10;
  Status status =
      client_->watch(resources::kConfigMaps, "default", options, [&](const WatchEvent& event) {
        if (event.type == "BOOKMARK") return true;
        seen.emplace_back(event.type, event.object["metadata"]["name"].get<std::string>());
        return seen.size() < 3;
      });
  writer.join();
  ASSERT_TRUE(status.ok()) << status.error().to_string();
  ASSERT_EQ(seen.size(), 3u);
  EXPECT_EQ(seen[0], std::make_pair(std::string("ADDED"), std::string("w1")));
  EXPECT_EQ(seen[1], std::make_pair(std::string("MODIFIED"), std::string("w1")));
  EXPECT_EQ(seen[2], std::make_pair(std::string("DELETED"), std::string("w1")));
}

TEST_F(KubeClientTest, WatchEndsCleanlyWhenStopIsRequested) {
  std::stop_source stop;
  std::thread stopper([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    stop.request_stop();
  });
  WatchOptions options;
  options.timeout_seconds = 30;
  Status status = client_->watch(
      resources::kConfigMaps, "default", options, [](const WatchEvent&) { return true; },
      stop.get_token());
  stopper.join();
  EXPECT_TRUE(status.ok()) << status.error().to_string();
}

TEST_F(KubeClientTest, WatchFromVersionOlderThanTheEventWindowIsGone) {
  TearDown();
  start(/*event_window=*/2);
  auto listed = client_->list(resources::kConfigMaps, "default");
  ASSERT_TRUE(listed.ok());
  for (int i = 0; i < 5; ++i) {
    ASSERT_TRUE(
        client_->create(resources::kConfigMaps, "default", config_map("c" + std::to_string(i), "x"))
            .ok());
  }
  WatchOptions options;
  options.resource_version = listed->resource_version;
  options.timeout_seconds = 5;
  int delivered = 0;
  Status status =
      client_->watch(resources::kConfigMaps, "default", options, [&](const WatchEvent&) {
        ++delivered;
        return true;
      });
  ASSERT_FALSE(status.ok());
  EXPECT_TRUE(is_gone(status.error())) << status.error().to_string();
  EXPECT_EQ(delivered, 0);
}

TEST(KubeClientTimeouts, ServerThatNeverAnswersGivesTimeoutNamingTheRequest) {
  asio::io_context io;
  asio::ip::tcp::acceptor acceptor(io, {asio::ip::make_address("127.0.0.1"), 0});
  const auto port = acceptor.local_endpoint().port();
  asio::ip::tcp::socket held(io);
  std::thread accept_thread([&] {
    asio::error_code ignored;
    acceptor.accept(held, ignored);  // accept, read nothing, answer nothing
  });
  KubeConfig config;
  config.server = "http://127.0.0.1:" + std::to_string(port);
  config.request_timeout = std::chrono::milliseconds(300);
  KubeClient client(config);
  auto result = client.get(resources::kPods, "default", "p1");
  accept_thread.join();
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error().code, ErrorCode::kTimeout) << result.error().to_string();
  EXPECT_NE(result.error().message.find("get v1 pods default/p1"), std::string::npos);
}

TEST(KubeClientConfig, KubeconfigGivesServerTokenCaAndNamespace) {
  const std::string dir = temp_dir("kubeconfig");
  {
    std::ofstream(dir + "/ca.pem")
        << "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n";
    std::ofstream(dir + "/config") << R"(apiVersion: v1
kind: Config
current-context: prod
clusters:
- name: other
  cluster: {server: "https://other:1"}
- name: c1
  cluster:
    server: https://k8s.example:6443/
    certificate-authority: ca.pem
users:
- name: u1
  user: {token: abc123}
contexts:
- name: prod
  context: {cluster: c1, user: u1, namespace: brokers}
)";
  }
  auto config = load_kubeconfig(dir + "/config");
  ASSERT_TRUE(config.ok()) << config.error().to_string();
  EXPECT_EQ(config->server, "https://k8s.example:6443");
  EXPECT_EQ(config->bearer_token, "abc123");
  EXPECT_EQ(config->namespace_name, "brokers");
  EXPECT_NE(config->ca_pem.find("BEGIN CERTIFICATE"), std::string::npos);
  EXPECT_FALSE(config->insecure_skip_tls_verify);

  auto missing = load_kubeconfig(dir + "/config", "nope");
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.error().message.find("no context named \"nope\""), std::string::npos);
  std::filesystem::remove_all(dir);
}

TEST(KubeClientConfig, KubeconfigWithClientCertificateIsRejectedNamingTheUser) {
  const std::string dir = temp_dir("kubeconfig-cert");
  std::ofstream(dir + "/config") << R"(current-context: x
clusters: [{name: c, cluster: {server: "https://h:1"}}]
users: [{name: admin, user: {client-certificate-data: QUJD}}]
contexts: [{name: x, context: {cluster: c, user: admin}}]
)";
  auto config = load_kubeconfig(dir + "/config");
  ASSERT_FALSE(config.ok());
  EXPECT_NE(config.error().message.find("users[admin].client-certificate-data"), std::string::npos)
      << config.error().message;
  std::filesystem::remove_all(dir);
}

TEST(KubeClientConfig, InClusterConfigReadsServiceAccountFiles) {
  const std::string dir = temp_dir("sa");
  std::ofstream(dir + "/token") << "tok\n";
  std::ofstream(dir + "/ca.crt") << "PEM";
  std::ofstream(dir + "/namespace") << "ops";
  std::map<std::string, std::string> env = {{"KUBERNETES_SERVICE_HOST", "10.0.0.1"},
                                            {"KUBERNETES_SERVICE_PORT", "443"}};
  auto getenv_fn = [&](const char* name) -> const char* {
    auto it = env.find(name);
    return it == env.end() ? nullptr : it->second.c_str();
  };
  auto config = load_in_cluster_config(getenv_fn, dir);
  ASSERT_TRUE(config.ok()) << config.error().to_string();
  EXPECT_EQ(config->server, "https://10.0.0.1:443");
  EXPECT_EQ(config->bearer_token, "tok");
  EXPECT_EQ(config->ca_pem, "PEM");
  EXPECT_EQ(config->namespace_name, "ops");

  env.clear();
  auto outside = load_in_cluster_config(getenv_fn, dir);
  ASSERT_FALSE(outside.ok());
  EXPECT_NE(outside.error().message.find("KUBERNETES_SERVICE_HOST"), std::string::npos);
  std::filesystem::remove_all(dir);
}

TEST_F(KubeClientTest, KubeconfigWrittenForTheTestServerReachesIt) {
  const std::string dir = temp_dir("kc-live");
  ASSERT_TRUE(dledger::kube::write_kubeconfig(dir + "/config", server_->base_url()).ok());
  auto config = load_kubeconfig(dir + "/config");
  ASSERT_TRUE(config.ok()) << config.error().to_string();
  KubeClient client(*config);
  auto listed = client.list(resources::kConfigMaps, config->namespace_name);
  EXPECT_TRUE(listed.ok()) << listed.error().to_string();
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace dledger::op::kube
