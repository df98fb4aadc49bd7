// The admin HTTP endpoint against docs/admin-api.md: probes, /status shape, /metrics, the
// mutating endpoints with their error statuses, authentication, and bad input.
#include "broker/admin/admin_http_server.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <memory>
#include <set>
#include <string>

#include "broker/admin/admin_client.h"
#include "broker/admin/ledger_metrics.h"
#include "tests/admin/fake_backend.h"

namespace dledger::admin {
namespace {

using nlohmann::json;
using testing::FakeBackend;
using namespace std::string_literals;

class AdminHttpServerTest : public ::testing::Test {
 protected:
  void start(ReplicaStatus initial, std::string token = "") {
    backend_ = std::make_shared<FakeBackend>(std::move(initial));
    AdminServerOptions options;
    options.host = "127.0.0.1";
    options.port = 0;
    options.token = std::move(token);
    auto server = AdminHttpServer::start(options, backend_);
    ASSERT_TRUE(server.ok()) << server.error().to_string();
    server_ = std::move(server).value();
  }

  HttpReply call(const std::string& method, const std::string& path, const std::string& body = "",
                 const std::string& authorization = "") {
    AdminClient client;
    auto reply = client.request(server_->address(), method, path, body, authorization);
    EXPECT_TRUE(reply.ok()) << reply.error().to_string();
    return reply.ok() ? *reply : HttpReply{};
  }

  static json body_json(const HttpReply& reply) {
    return json::parse(reply.body, nullptr, /*allow_exceptions=*/false);
  }

  std::shared_ptr<FakeBackend> backend_;
  std::unique_ptr<AdminHttpServer> server_;
};

TEST_F(AdminHttpServerTest, PortZeroBindsAFreePortAndReportsIt) {
  start(testing::leader_status());
  EXPECT_NE(server_->port(), 0);
  EXPECT_EQ(server_->address(), "127.0.0.1:" + std::to_string(server_->port()));
}

TEST_F(AdminHttpServerTest, HealthzAnswersOkWhileAlive) {
  start(testing::leader_status());
  HttpReply reply = call("GET", "/healthz");
  EXPECT_EQ(reply.status, 200);
  EXPECT_EQ(reply.body, "ok\n");
}

TEST_F(AdminHttpServerTest, ReadyzNeedsOpenLogAndLiveLeaderButNotQuorum) {
  ReplicaStatus s = testing::follower_status("127.0.0.1:1");
  s.log_open = false;
  s.leader_alive = false;
  start(s);
  EXPECT_EQ(call("GET", "/readyz").status, 503);

  backend_->edit([](ReplicaStatus& st) { st.log_open = true; });
  HttpReply no_leader = call("GET", "/readyz");
  EXPECT_EQ(no_leader.status, 503);
  EXPECT_NE(no_leader.body.find("no live leader"), std::string::npos) << no_leader.body;

  backend_->edit([](ReplicaStatus& st) { st.leader_alive = true; });
  EXPECT_EQ(call("GET", "/readyz").status, 200);

  // A leader is ready even if it cannot currently reach a quorum.
  backend_->edit([](ReplicaStatus& st) {
    st.role = kRoleLeader;
    st.leader_alive = false;
    for (MemberStatus& m : st.members) m.reachable = false;
  });
  EXPECT_EQ(call("GET", "/readyz").status, 200);
}

TEST_F(AdminHttpServerTest, StatusHasExactlyTheContractFields) {
  start(testing::leader_status());
  HttpReply reply = call("GET", "/status");
  ASSERT_EQ(reply.status, 200);
  EXPECT_NE(reply.content_type.find("application/json"), std::string::npos);
  json body = body_json(reply);
  ASSERT_TRUE(body.is_object()) << reply.body;

  std::set<std::string> keys;
  for (auto it = body.begin(); it != body.end(); ++it) keys.insert(it.key());
  const std::set<std::string> expected = {
      "group",           "self_id",        "role",         "term",
      "leader_id",       "leader_address", "leader_admin", "commit_index",
      "last_index",      "first_index",    "flush_mode",   "membership_change_pending",
      "transfer_target", "repair_until",   "members"};
  EXPECT_EQ(keys, expected);
  EXPECT_EQ(body["group"], "broker-a");
  EXPECT_EQ(body["role"], "leader");
  EXPECT_EQ(body["term"], 3);
  EXPECT_EQ(body["commit_index"], 1200);
  EXPECT_TRUE(body["transfer_target"].is_null());
  EXPECT_EQ(body["membership_change_pending"], false);
  ASSERT_EQ(body["members"].size(), 3u);

  const json& n2 = body["members"][2];
  std::set<std::string> member_keys;
  for (auto it = n2.begin(); it != n2.end(); ++it) member_keys.insert(it.key());
  EXPECT_EQ(member_keys, (std::set<std::string>{"id", "address", "voter", "role", "match_index",
                                                "lag", "reachable"}));
  EXPECT_EQ(n2["id"], "n2");
  EXPECT_EQ(n2["match_index"], 1199);
  EXPECT_EQ(n2["lag"], 1);
  EXPECT_EQ(n2["voter"], true);
}

TEST_F(AdminHttpServerTest, FollowerStatusReportsNullMatchIndexAndLag) {
  start(testing::follower_status("127.0.0.1:10980"));
  json body = body_json(call("GET", "/status"));
  ASSERT_TRUE(body.is_object());
  EXPECT_EQ(body["role"], "follower");
  for (const json& member : body["members"]) {
    EXPECT_TRUE(member["match_index"].is_null());
    EXPECT_TRUE(member["lag"].is_null());
  }
}

TEST_F(AdminHttpServerTest, MetricsShowLedgerFamiliesWithGroupAndMemberLabels) {
  start(testing::leader_status());
  LedgerMetrics metrics(server_->registry(), "broker-a", "n0");
  metrics.update(backend_->status());
  metrics.on_leader_change();
  metrics.observe_append_latency(0.002);
  metrics.set_disk_used(4096);

  HttpReply reply = call("GET", "/metrics");
  ASSERT_EQ(reply.status, 200);
  EXPECT_NE(reply.content_type.find("text/plain"), std::string::npos);
  const std::string& text = reply.body;
  for (const char* line : {
           R"(dledger_role{group="broker-a",member="n0",role="leader"} 1)",
           R"(dledger_role{group="broker-a",member="n0",role="follower"} 0)",
           R"(dledger_term{group="broker-a",member="n0"} 3)",
           R"(dledger_commit_index{group="broker-a",member="n0"} 1200)",
           R"(dledger_last_index{group="broker-a",member="n0"} 1200)",
           R"(dledger_leader_changes_total{group="broker-a",member="n0"} 1)",
           R"(dledger_elections_total{group="broker-a",member="n0"} 0)",
           R"(dledger_replication_lag_entries{group="broker-a",member="n0",peer="n2"} 1)",
           R"(dledger_append_latency_seconds_count{group="broker-a",member="n0"} 1)",
           R"(dledger_fsync_latency_seconds_count{group="broker-a",member="n0"} 0)",
           R"(dledger_pending_appends{group="broker-a",member="n0"} 0)",
           R"(dledger_disk_used_bytes{group="broker-a",member="n0"} 4096)",
       }) {
    EXPECT_NE(text.find(line), std::string::npos) << "missing: " << line << "\n" << text;
  }
}

TEST_F(AdminHttpServerTest, TransferOnLeaderMovesLeadership) {
  start(testing::leader_status());
  HttpReply reply = call("POST", "/v1/leadership/transfer", R"({"target":"n1"})");
  ASSERT_EQ(reply.status, 200) << reply.body;
  json body = body_json(reply);
  EXPECT_EQ(body["leader_id"], "n1");
  EXPECT_EQ(body["term"], 4);
  EXPECT_EQ(backend_->calls(), std::vector<std::string>{"transfer n1"});
  EXPECT_EQ(backend_->status().leader_id, "n1");
  EXPECT_EQ(backend_->status().role, kRoleFollower);
}

TEST_F(AdminHttpServerTest, TransferWithoutTargetLetsTheLeaderPick) {
  start(testing::leader_status());
  for (const char* body : {"", "{}", R"({"target":""})", R"({"target":null})"}) {
    backend_->set_status(testing::leader_status());
    HttpReply reply = call("POST", "/v1/leadership/transfer", body);
    ASSERT_EQ(reply.status, 200) << "body " << body << ": " << reply.body;
    EXPECT_EQ(body_json(reply)["leader_id"], "n1") << body;  // the caught-up voter
  }
  EXPECT_EQ(backend_->calls().back(), "transfer ");
}

TEST_F(AdminHttpServerTest, FollowerAnswersNotLeaderWithLeaderFields) {
  start(testing::follower_status("10.0.0.5:10980"));
  HttpReply reply = call("POST", "/v1/leadership/transfer", R"({"target":"n2"})");
  EXPECT_EQ(reply.status, 409);
  json body = body_json(reply);
  EXPECT_EQ(body["error"], "NotLeader");
  EXPECT_EQ(body["leader_id"], "n0");
  EXPECT_EQ(body["leader_admin"], "10.0.0.5:10980");
  EXPECT_TRUE(body["message"].is_string());
}

TEST_F(AdminHttpServerTest, ConcurrentChangesAnswerBusyOrTransferring) {
  start(testing::leader_status());
  backend_->edit([](ReplicaStatus& s) { s.membership_change_pending = true; });
  HttpReply busy = call("POST", "/v1/members", R"({"id":"n3","address":"h:40914"})");
  EXPECT_EQ(busy.status, 409);
  EXPECT_EQ(body_json(busy)["error"], "Busy");

  backend_->edit([](ReplicaStatus& s) {
    s.membership_change_pending = false;
    s.transfer_target = "n1";
  });
  HttpReply transferring = call("DELETE", "/v1/members/n2");
  EXPECT_EQ(transferring.status, 409);
  EXPECT_EQ(body_json(transferring)["error"], "Transferring");
}

TEST_F(AdminHttpServerTest, BackendErrorsMapToContractStatuses) {
  start(testing::leader_status());
  const std::pair<ErrorCode, int> cases[] = {
      {ErrorCode::kTimeout, 504},  {ErrorCode::kUnavailable, 503},
      {ErrorCode::kStopped, 503},  {ErrorCode::kInvalidArgument, 400},
      {ErrorCode::kNotFound, 404}, {ErrorCode::kInternal, 500}};
  for (const auto& [code, status] : cases) {
    backend_->fail_next(code, "injected");
    HttpReply reply = call("POST", "/v1/members/n2/promote");
    EXPECT_EQ(reply.status, status) << error_code_name(code);
    EXPECT_EQ(body_json(reply)["error"], error_code_name(code));
    EXPECT_EQ(body_json(reply)["message"], "injected");
  }
}

TEST_F(AdminHttpServerTest, MembershipChangesAnswerCommittedIndexAndTerm) {
  start(testing::leader_status());
  HttpReply added = call("POST", "/v1/members", R"({"id":"n3","address":"127.0.0.1:40914"})");
  ASSERT_EQ(added.status, 200) << added.body;
  EXPECT_EQ(body_json(added), (json{{"index", 1201}, {"term", 3}}));

  // The learner lags until it catches up: promotion is refused.
  HttpReply refused = call("POST", "/v1/members/n3/promote");
  EXPECT_EQ(refused.status, 409);
  EXPECT_EQ(body_json(refused)["error"], "Busy");

  backend_->edit([](ReplicaStatus& s) { s.members.back().lag = 0; });
  HttpReply promoted = call("POST", "/v1/members/n3/promote");
  ASSERT_EQ(promoted.status, 200) << promoted.body;
  EXPECT_EQ(body_json(promoted)["index"], 1202);
  EXPECT_TRUE(backend_->status().members.back().voter);

  HttpReply removed = call("DELETE", "/v1/members/n3");
  ASSERT_EQ(removed.status, 200) << removed.body;
  EXPECT_EQ(body_json(removed)["index"], 1203);
  EXPECT_EQ(backend_->status().members.size(), 3u);
  EXPECT_EQ(backend_->calls(), (std::vector<std::string>{"add n3 127.0.0.1:40914", "promote n3",
                                                         "promote n3", "remove n3"}));
}

TEST_F(AdminHttpServerTest, BadRequestBodiesAnswer400NamingTheProblem) {
  start(testing::leader_status());
  const std::pair<const char*, const char*> cases[] = {
      {"{", "not valid JSON"},
      {"[1,2]", "expected a JSON object"},
      {"", "got nothing"},
      {R"({"address":"h:1"})", "id: missing"},
      {R"({"id":"n3"})", "address: missing"},
      {R"({"id":5,"address":"h:1"})", "id: expected a string"},
      {R"({"id":"n3","address":"nohostport"})", "address: expected host:port"},
      {R"({"id":"n3","address":"h:70000"})", "port must be 1..65535"},
      {R"({"id":"n 3","address":"h:1"})", "id:"},
      {"{\"id\":\"\xff\xfe\",\"address\":\"h:1\"}", "not valid JSON"},
  };
  for (const auto& [body, expected] : cases) {
    HttpReply reply = call("POST", "/v1/members", body);
    EXPECT_EQ(reply.status, 400) << body;
    json parsed = body_json(reply);
    ASSERT_TRUE(parsed.is_object()) << reply.body;
    EXPECT_EQ(parsed["error"], "InvalidArgument");
    EXPECT_NE(parsed["message"].get<std::string>().find(expected), std::string::npos)
        << body << " -> " << parsed["message"];
  }
  HttpReply bad_target = call("POST", "/v1/leadership/transfer", R"({"target":7})");
  EXPECT_EQ(bad_target.status, 400);
  EXPECT_NE(bad_target.body.find("target: expected a string"), std::string::npos);
  HttpReply bad_escape = call("DELETE", "/v1/members/n%zz");
  EXPECT_EQ(bad_escape.status, 400);
  EXPECT_TRUE(backend_->calls().empty());
}

TEST_F(AdminHttpServerTest, UnknownPathsAre404AndWrongMethods405) {
  start(testing::leader_status());
  EXPECT_EQ(call("GET", "/nope").status, 404);
  EXPECT_EQ(call("GET", "/v1/members/n1/demote").status, 404);
  HttpReply wrong = call("GET", "/v1/members");
  EXPECT_EQ(wrong.status, 405);
  EXPECT_EQ(call("POST", "/status").status, 405);
  EXPECT_EQ(call("PUT", "/v1/members/n1").status, 405);
  EXPECT_TRUE(backend_->calls().empty());
}

TEST_F(AdminHttpServerTest, TokenGuardsMutatingRequestsOnly) {
  start(testing::leader_status(), "s3cret");
  HttpReply missing = call("POST", "/v1/leadership/transfer", R"({"target":"n1"})", "-");
  EXPECT_EQ(missing.status, 401);
  EXPECT_EQ(body_json(missing)["error"], "Unauthorized");
  EXPECT_EQ(call("POST", "/v1/leadership/transfer", "{}", "Bearer wrong").status, 401);
  EXPECT_EQ(call("POST", "/v1/leadership/transfer", "{}", "Bearer s3cret-and-more").status, 401);
  EXPECT_EQ(call("POST", "/v1/leadership/transfer", "{}", "Basic s3cret").status, 401);
  EXPECT_TRUE(backend_->calls().empty());

  // Reads stay open for probes and scrapers.
  EXPECT_EQ(call("GET", "/status", "", "-").status, 200);
  EXPECT_EQ(call("GET", "/metrics", "", "-").status, 200);

  HttpReply right = call("POST", "/v1/leadership/transfer", R"({"target":"n1"})", "Bearer s3cret");
  EXPECT_EQ(right.status, 200) << right.body;
  EXPECT_EQ(backend_->calls(), std::vector<std::string>{"transfer n1"});
}

TEST_F(AdminHttpServerTest, OversizedBodyIsRefused) {
  start(testing::leader_status());
  const std::string huge = R"({"id":"n3","address":")" + std::string(100 * 1024, 'a') + ":1\"}";
  HttpReply reply = call("POST", "/v1/members", huge);
  EXPECT_EQ(reply.status, 413);
  EXPECT_TRUE(backend_->calls().empty());
}

TEST_F(AdminHttpServerTest, SecondServerOnTheSamePortFailsNamingTheAddress) {
  start(testing::leader_status());
  AdminServerOptions options;
  options.host = "127.0.0.1";
  options.port = server_->port();
  auto second = AdminHttpServer::start(options, backend_);
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.error().code, ErrorCode::kUnavailable);
  EXPECT_NE(second.error().message.find(server_->address()), std::string::npos)
      << second.error().message;
  // The first server still serves.
  EXPECT_EQ(call("GET", "/healthz").status, 200);
}

TEST(ConstantTimeEquals, ComparesContentAndLength) {
  EXPECT_TRUE(constant_time_equals("abc", "abc"));
  EXPECT_TRUE(constant_time_equals("", ""));
  EXPECT_FALSE(constant_time_equals("abc", "abd"));
  EXPECT_FALSE(constant_time_equals("abc", "abc\0"s));
  EXPECT_FALSE(constant_time_equals("abc", "ab"));
  EXPECT_FALSE(constant_time_equals("", "a"));
}

}  // namespace
}  // namespace dledger::admin
