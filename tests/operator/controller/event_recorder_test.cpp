// EventRecorder against the in-repo API server with an injected clock.
#include "operator/controller/event_recorder.h"

#include <gtest/gtest.h>

#include "tests/kube/apiserver/api_server.h"

namespace dledger::op::controller {
namespace {

using nlohmann::json;

class EventRecorderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto server = dledger::kube::ApiServer::create({});
    ASSERT_TRUE(server.ok()) << server.error().to_string();
    server_ = std::move(*server);
    ASSERT_TRUE(server_->start(0).ok());
    kube::KubeConfig config;
    config.server = server_->base_url();
    client_ = std::make_unique<kube::KubeClient>(config);
    EventRecorderOptions options;
    options.dedup_window = std::chrono::minutes(10);
    options.clock = [this] { return now_; };
    recorder_ = std::make_unique<EventRecorder>(*client_, options);
  }
  void TearDown() override { server_->stop(); }

  std::vector<json> events() { return client_->list(kube::resources::kEvents, "default")->items; }

  const json group_ = {{"apiVersion", "dledger.io/v1alpha1"},
                       {"kind", "DLedgerGroup"},
                       {"metadata", {{"name", "g1"}, {"namespace", "default"}, {"uid", "u-1"}}}};
  std::chrono::system_clock::time_point now_ =
      std::chrono::system_clock::from_time_t(1767323045);  // 2026-01-02T03:04:05Z
  std::unique_ptr<dledger::kube::ApiServer> server_;
  std::unique_ptr<kube::KubeClient> client_;
  std::unique_ptr<EventRecorder> recorder_;
};

TEST_F(EventRecorderTest, FirstEventNamesTheObjectWithCountOne) {
  recorder_->record(group_, "Normal", "ScaleStatefulSet", "starting pod 3");
  const auto all = events();
  ASSERT_EQ(all.size(), 1u);
  EXPECT_EQ(all[0]["involvedObject"]["kind"], "DLedgerGroup");
  EXPECT_EQ(all[0]["involvedObject"]["uid"], "u-1");
  EXPECT_EQ(all[0]["count"], 1);
  EXPECT_EQ(all[0]["firstTimestamp"], "2026-01-02T03:04:05Z");
  EXPECT_EQ(all[0]["source"]["component"], "dledger-operator");
  EXPECT_EQ(all[0]["metadata"]["name"].get<std::string>().rfind("g1.", 0), 0u);
}

TEST_F(EventRecorderTest, SameReasonAndMessageWithinTheWindowBumpsCountAndLastTimestamp) {
  recorder_->record(group_, "Warning", "QuorumAtRisk", "refusing to remove n2");
  now_ += std::chrono::minutes(3);
  recorder_->record(group_, "Warning", "QuorumAtRisk", "refusing to remove n2");
  now_ += std::chrono::minutes(9);  // within the window of the previous occurrence
  recorder_->record(group_, "Warning", "QuorumAtRisk", "refusing to remove n2");
  const auto all = events();
  ASSERT_EQ(all.size(), 1u);
  EXPECT_EQ(all[0]["count"], 3);
  EXPECT_EQ(all[0]["firstTimestamp"], "2026-01-02T03:04:05Z");
  EXPECT_EQ(all[0]["lastTimestamp"], "2026-01-02T03:16:05Z");
}

TEST_F(EventRecorderTest, DifferentMessageOrExpiredWindowGivesANewEvent) {
  recorder_->record(group_, "Normal", "RestartPod", "restarting pod 2");
  recorder_->record(group_, "Normal", "RestartPod", "restarting pod 1");
  EXPECT_EQ(events().size(), 2u);
  now_ += std::chrono::minutes(11);
  recorder_->record(group_, "Normal", "RestartPod", "restarting pod 1");
  const auto all = events();
  ASSERT_EQ(all.size(), 3u);
  for (const auto& event : all) EXPECT_EQ(event["count"], 1);
}

TEST_F(EventRecorderTest, DeletedEventIsRecreatedInsteadOfLost) {
  recorder_->record(group_, "Normal", "Promote", "promoting n3");
  const std::string name = events()[0]["metadata"]["name"];
  ASSERT_TRUE(client_->delete_object(kube::resources::kEvents, "default", name).ok());
  recorder_->record(group_, "Normal", "Promote", "promoting n3");
  const auto all = events();
  ASSERT_EQ(all.size(), 1u);
  EXPECT_EQ(all[0]["count"], 1);
}

}  // namespace
}  // namespace dledger::op::controller
