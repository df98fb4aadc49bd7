// Shared by the reconciler tests: the in-repo API server, a fake replica admin API (member
// statuses are a map from admin address "pod-<i>" to /status) and a fixture creating groups.
#pragma once

#include <gtest/gtest.h>

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "operator/controller/reconciler.h"
#include "tests/kube/apiserver/api_server.h"

namespace dledger::op::controller {

using nlohmann::json;
namespace resources = kube::resources;

class FakeMemberAdmin : public MemberAdmin {
 public:
  std::map<std::string, admin::ReplicaStatus> statuses;  // address -> /status
  std::vector<std::string> calls;
  std::string token;  // last use_admin_token()

  Result<admin::ReplicaStatus> status(const std::string& address) override {
    auto it = statuses.find(address);
    if (it == statuses.end()) return make_error(ErrorCode::kUnavailable, address + " down");
    return it->second;
  }
  Result<admin::ChangeResult> add_learner(const std::string& address, const std::string& id,
                                          const std::string& peer) override {
    calls.push_back("add_learner " + address + " " + id + " " + peer);
    return admin::ChangeResult{10, 1};
  }
  Result<admin::ChangeResult> promote(const std::string& address, const std::string& id) override {
    calls.push_back("promote " + address + " " + id);
    return admin::ChangeResult{11, 1};
  }
  Result<admin::ChangeResult> remove_member(const std::string& address,
                                            const std::string& id) override {
    calls.push_back("remove_member " + address + " " + id);
    return admin::ChangeResult{12, 1};
  }
  Result<admin::TransferResult> transfer_leadership(const std::string& address,
                                                    const std::string& target) override {
    calls.push_back("transfer " + address + " " + target);
    return admin::TransferResult{target, 2};
  }
  void use_admin_token(const std::string& t) override { token = t; }

  // A healthy group n0..n<members-1>, n<leader_ordinal> leading, every member answering.
  void healthy_group(int members, int pods, int leader_ordinal = 0) {
    statuses.clear();
    const std::string leader_id = "n" + std::to_string(leader_ordinal);
    admin::ReplicaStatus leader;
    leader.self_id = leader_id;
    leader.role = admin::kRoleLeader;
    leader.term = 4;
    leader.commit_index = 42;
    leader.leader_id = leader_id;
    for (int i = 0; i < members; ++i) {
      admin::MemberStatus member;
      member.id = "n" + std::to_string(i);
      member.voter = true;
      member.reachable = true;
      member.lag = 0;
      member.role = i == leader_ordinal ? admin::kRoleLeader : admin::kRoleFollower;
      leader.members.push_back(member);
    }
    for (int i = 0; i < pods; ++i) {
      admin::ReplicaStatus status = leader;
      if (i != leader_ordinal) {
        status.self_id = "n" + std::to_string(i);
        status.role = i < members ? admin::kRoleFollower : admin::kRoleLearner;
        status.leader_id = i < members ? leader_id : "";
      }
      statuses["pod-" + std::to_string(i)] = status;
    }
  }
};

class ReconcilerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dledger::kube::ApiServerOptions options;
    options.crd_paths = {DLEDGER_CRD_PATH};
    auto server = dledger::kube::ApiServer::create(options);
    ASSERT_TRUE(server.ok()) << server.error().to_string();
    server_ = std::move(*server);
    ASSERT_TRUE(server_->start(0).ok());
    kube::KubeConfig config;
    config.server = server_->base_url();
    client_ = std::make_unique<kube::KubeClient>(config);
    ReconcilerOptions options_r;
    options_r.now_rfc3339 = [] { return std::string("2026-01-02T03:04:05Z"); };
    reconciler_ = std::make_unique<Reconciler>(
        *client_, admin_,
        [](const api::DLedgerGroup&, int ordinal) { return "pod-" + std::to_string(ordinal); },
        options_r);
  }
  void TearDown() override { server_->stop(); }

  json create_group(const std::string& name, int replicas, json extra_spec = json::object()) {
    json spec = {{"image", "registry.example/dledger:1"}, {"replicas", replicas}};
    spec.update(extra_spec);
    json group = {{"apiVersion", "dledger.io/v1alpha1"},
                  {"kind", "DLedgerGroup"},
                  {"metadata", {{"name", name}}},
                  {"spec", spec}};
    auto created = client_->create(resources::kDLedgerGroups, "default", group);
    EXPECT_TRUE(created.ok()) << created.error().to_string();
    return created.ok() ? *created : json();
  }

  // Events in "default" with `reason` ("" = all).
  std::vector<json> events(const std::string& reason = "") {
    auto listed = client_->list(resources::kEvents, "default");
    EXPECT_TRUE(listed.ok());
    std::vector<json> out;
    if (!listed.ok()) return out;
    for (const auto& event : listed->items) {
      if (reason.empty() || event.value("reason", "") == reason) out.push_back(event);
    }
    return out;
  }

  static const api::Condition* condition(const api::DLedgerGroupStatus& status,
                                         std::string_view type) {
    return api::find_condition(status.conditions, type);
  }

  std::unique_ptr<dledger::kube::ApiServer> server_;
  std::unique_ptr<kube::KubeClient> client_;
  FakeMemberAdmin admin_;
  std::unique_ptr<Reconciler> reconciler_;
};

}  // namespace dledger::op::controller
