#include "operator/controller/informer.h"

#include <gtest/gtest.h>

#include <mutex>
#include <thread>

#include "tests/kube/apiserver/api_server.h"

namespace dledger::op::controller {
namespace {

using nlohmann::json;

TEST(Informer, ListsThenWatchesChangesAndResyncsEveryKeyPeriodically) {
  dledger::kube::ApiServerOptions server_options;
  auto server = dledger::kube::ApiServer::create(server_options);
  ASSERT_TRUE(server.ok()) << server.error().to_string();
  ASSERT_TRUE((*server)->start(0).ok());
  kube::KubeConfig config;
  config.server = (*server)->base_url();
  kube::KubeClient client(config);
  auto config_map = [](const std::string& name) {
    return json{{"apiVersion", "v1"}, {"kind", "ConfigMap"}, {"metadata", {{"name", name}}}};
  };
  ASSERT_TRUE(client.create(kube::resources::kConfigMaps, "default", config_map("before")).ok());

  std::mutex mutex;
  std::map<std::string, int> seen;  // key -> notifications
  std::set<std::string> deleted;
  InformerOptions options{kube::resources::kConfigMaps, "default"};
  options.watch_timeout_seconds = 2;
  options.resync_period = std::chrono::milliseconds(100);
  Informer informer(client, options, [&](const std::string& key, const json&, bool gone) {
    std::lock_guard lock(mutex);
    ++seen[key];
    if (gone) deleted.insert(key);
  });
  std::stop_source stop;
  std::thread runner([&] { informer.run(stop.get_token()); });
  auto wait_for = [&](auto condition) {
    for (int i = 0; i < 500; ++i) {
      {
        std::lock_guard lock(mutex);
        if (condition()) return true;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return false;
  };
  EXPECT_TRUE(wait_for([&] { return seen.count("default/before") != 0; }));
  ASSERT_TRUE(client.create(kube::resources::kConfigMaps, "default", config_map("after")).ok());
  EXPECT_TRUE(wait_for([&] { return seen.count("default/after") != 0; }));
  EXPECT_TRUE(informer.cached("default/after").has_value());
  ASSERT_TRUE(client.delete_object(kube::resources::kConfigMaps, "default", "after").ok());
  EXPECT_TRUE(wait_for([&] { return deleted.count("default/after") != 0; }));
  // Resync re-announces unchanged objects.
  EXPECT_TRUE(wait_for([&] { return seen["default/before"] >= 3; }));
  stop.request_stop();
  runner.join();
  EXPECT_FALSE(informer.cached("default/after").has_value());
  EXPECT_TRUE(informer.has_synced());
  (*server)->stop();
}

}  // namespace
}  // namespace dledger::op::controller
