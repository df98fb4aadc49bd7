// AdminClient against a real AdminHttpServer with fake backends: typed round trips, error codes
// mapped back, NotLeader followed once to the leader, unreachable endpoints named.
#include "broker/admin/admin_client.h"

#include <gtest/gtest.h>

#include <memory>

#include "broker/admin/admin_http_server.h"
#include "tests/admin/fake_backend.h"

namespace dledger::admin {
namespace {

using testing::FakeBackend;

struct Replica {
  std::shared_ptr<FakeBackend> backend;
  std::unique_ptr<AdminHttpServer> server;
};

Replica start_replica(ReplicaStatus initial, const std::string& token = "") {
  Replica replica;
  replica.backend = std::make_shared<FakeBackend>(std::move(initial));
  AdminServerOptions options;
  options.host = "127.0.0.1";
  options.port = 0;
  options.token = token;
  auto server = AdminHttpServer::start(options, replica.backend);
  EXPECT_TRUE(server.ok()) << server.error().to_string();
  if (server.ok()) replica.server = std::move(server).value();
  return replica;
}

TEST(AdminClientTest, StatusRoundTripsEveryContractField) {
  ReplicaStatus expected = testing::leader_status();
  expected.transfer_target = "n1";
  expected.repair_until = 17;
  expected.membership_change_pending = true;
  expected.members.push_back(
      {"n3", "[::1]:40914", false, kRoleLearner, std::nullopt, std::nullopt, false});
  Replica replica = start_replica(expected);
  ASSERT_TRUE(replica.server);

  AdminClient client;
  auto status = client.status(replica.server->address());
  ASSERT_TRUE(status.ok()) << status.error().to_string();
  // Readiness inputs are not part of the JSON.
  expected.log_open = false;
  expected.leader_alive = false;
  EXPECT_EQ(*status, expected);
}

TEST(AdminClientTest, AcceptsHttpSchemeInAddresses) {
  Replica replica = start_replica(testing::leader_status());
  ASSERT_TRUE(replica.server);
  AdminClient client;
  auto ready = client.ready("http://" + replica.server->address() + "/");
  ASSERT_TRUE(ready.ok()) << ready.error().to_string();
  EXPECT_TRUE(*ready);
}

TEST(AdminClientTest, MembershipCallsReturnCommittedIndex) {
  Replica replica = start_replica(testing::leader_status());
  ASSERT_TRUE(replica.server);
  AdminClient client;
  const std::string address = replica.server->address();

  auto added = client.add_learner(address, "n3", "127.0.0.1:40914");
  ASSERT_TRUE(added.ok()) << added.error().to_string();
  EXPECT_EQ(*added, (ChangeResult{1201, 3}));

  auto refused = client.promote(address, "n3");
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, ErrorCode::kBusy);
  EXPECT_NE(refused.error().message.find(address), std::string::npos) << refused.error().message;

  replica.backend->edit([](ReplicaStatus& s) { s.members.back().lag = 0; });
  auto promoted = client.promote(address, "n3");
  ASSERT_TRUE(promoted.ok()) << promoted.error().to_string();
  EXPECT_EQ(promoted->index, 1202u);

  auto removed = client.remove_member(address, "n3");
  ASSERT_TRUE(removed.ok()) << removed.error().to_string();
  EXPECT_EQ(removed->index, 1203u);

  auto missing = client.remove_member(address, "n9");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().code, ErrorCode::kNotFound);
}

TEST(AdminClientTest, NotLeaderIsFollowedOnceToTheLeader) {
  Replica leader = start_replica(testing::leader_status());
  ASSERT_TRUE(leader.server);
  Replica follower = start_replica(testing::follower_status(leader.server->address()));
  ASSERT_TRUE(follower.server);

  AdminClient client;
  auto added = client.add_learner(follower.server->address(), "n3", "127.0.0.1:40914");
  ASSERT_TRUE(added.ok()) << added.error().to_string();
  EXPECT_EQ(added->index, 1201u);
  EXPECT_EQ(follower.backend->calls(), std::vector<std::string>{"add n3 127.0.0.1:40914"});
  EXPECT_EQ(leader.backend->calls(), std::vector<std::string>{"add n3 127.0.0.1:40914"});
  EXPECT_EQ(leader.backend->status().members.back().id, "n3");

  auto moved = client.transfer_leadership(follower.server->address(), "n2");
  ASSERT_TRUE(moved.ok()) << moved.error().to_string();
  EXPECT_EQ(moved->leader_id, "n2");
  EXPECT_EQ(moved->term, 4u);
}

TEST(AdminClientTest, NotLeaderWithoutFollowingNamesTheLeader) {
  Replica follower = start_replica(testing::follower_status("10.1.2.3:10980"));
  ASSERT_TRUE(follower.server);
  AdminClientOptions options;
  options.follow_leader = false;
  AdminClient client(options);
  auto result = client.promote(follower.server->address(), "n2");
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error().code, ErrorCode::kNotLeader);
  EXPECT_NE(result.error().message.find("leader n0 at 10.1.2.3:10980"), std::string::npos)
      << result.error().message;
  EXPECT_EQ(client.last_leader().leader_id, "n0");
  EXPECT_EQ(client.last_leader().leader_admin, "10.1.2.3:10980");
}

TEST(AdminClientTest, TwoFollowersPointingAtEachOtherDoNotLoop) {
  Replica a = start_replica(testing::follower_status("127.0.0.1:1"));
  ASSERT_TRUE(a.server);
  Replica b = start_replica(testing::follower_status(a.server->address()));
  ASSERT_TRUE(b.server);
  a.backend->edit([&](ReplicaStatus& s) { s.leader_admin = b.server->address(); });

  AdminClient client;
  auto result = client.remove_member(a.server->address(), "n2");
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error().code, ErrorCode::kNotLeader);
  EXPECT_EQ(a.backend->calls().size(), 1u);
  EXPECT_EQ(b.backend->calls().size(), 1u);
}

TEST(AdminClientTest, TokenIsSentWhenConfigured) {
  Replica replica = start_replica(testing::leader_status(), "tok");
  ASSERT_TRUE(replica.server);
  AdminClient anonymous;
  auto refused = anonymous.transfer_leadership(replica.server->address(), "n1");
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.error().message.find("401"), std::string::npos) << refused.error().message;

  AdminClientOptions options;
  options.token = "tok";
  AdminClient client(options);
  auto moved = client.transfer_leadership(replica.server->address(), "n1");
  ASSERT_TRUE(moved.ok()) << moved.error().to_string();
}

TEST(AdminClientTest, UnreachableEndpointIsUnavailableNamingTheAddress) {
  Replica replica = start_replica(testing::leader_status());
  ASSERT_TRUE(replica.server);
  const std::string address = replica.server->address();
  replica.server->stop();

  AdminClientOptions options;
  options.timeout = std::chrono::milliseconds(2000);
  AdminClient client(options);
  auto status = client.status(address);
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.error().code, ErrorCode::kUnavailable);
  EXPECT_NE(status.error().message.find(address), std::string::npos) << status.error().message;
}

TEST(AdminClientTest, MalformedAddressIsInvalidArgument) {
  AdminClient client;
  for (const char* address : {"", "host", "host:", "host:0", "a b:1", "host:99999"}) {
    auto status = client.status(address);
    ASSERT_FALSE(status.ok()) << address;
    EXPECT_EQ(status.error().code, ErrorCode::kInvalidArgument) << address;
  }
}

}  // namespace
}  // namespace dledger::admin
