// LeaderForwarder against a stub leader (a RemotingServer on 127.0.0.1) with an injected role:
// what a follower sends, what its client gets back, and the 14 answers when forwarding cannot
// happen. QueueLockTable with an injected clock.
#include "broker/broker/leader_forwarder.h"

#include <gtest/gtest.h>

#include <future>
#include <mutex>

#include "broker/broker/queue_lock_table.h"
#include "broker/remoting/codes.h"
#include "tests/common/test_net.h"

namespace dledger::broker {
namespace {

using namespace std::chrono_literals;
using remoting::RemotingCommand;
namespace resp = remoting::response_code;
namespace rc = remoting::request_code;

// A follower (RemotingServer + LeaderForwarder) in front of a stub leader that records what it
// receives and answers SUCCESS with a body.
class ForwardingFixture : public ::testing::Test {
 protected:
  void SetUp() override {
    frontend::RemotingServer::Options options;
    options.host = "127.0.0.1";
    leader_ = std::make_unique<frontend::RemotingServer>(options);
    for (std::int32_t code : {rc::kSendMessageV2, rc::kUpdateConsumerOffset}) {
      leader_->register_handler(code, [this](const RemotingCommand& request, frontend::Connection&,
                                             frontend::Responder respond) {
        {
          std::lock_guard lock(mu_);
          received_.push_back(request);
        }
        RemotingCommand reply = remoting::make_response(request, resp::kSuccess, "from leader");
        reply.ext_fields["msgId"] = "ABC";
        reply.body = "leader-body";
        respond(std::move(reply));
      });
    }
    ASSERT_TRUE(leader_->start().ok());
  }
  void TearDown() override {
    if (follower_) follower_->stop();
    if (forwarder_) forwarder_->stop();
    leader_->stop();
  }

  // Starts the follower; `hint` is what its ledger says about the leader.
  void start_follower(ledger::LeaderHint hint, std::map<raft::NodeId, std::string> addresses) {
    LeaderForwarder::Options options;
    options.self_name = "n2";
    options.client_addresses = std::move(addresses);
    options.request_timeout = 10s;
    forwarder_ = std::make_unique<LeaderForwarder>(
        options, LeaderForwarder::RoleSource{[] { return false; }, [hint] { return hint; }});
    frontend::RemotingServer::Options server_options;
    server_options.host = "127.0.0.1";
    follower_ = std::make_unique<frontend::RemotingServer>(server_options);
    follower_->register_handler(
        rc::kSendMessageV2, [this](const RemotingCommand& request, frontend::Connection& conn,
                                   frontend::Responder respond) {
          if (!forwarder_->maybe_forward(request, respond, conn.remote_address())) {
            respond(remoting::make_response(request, resp::kSystemError, "served locally"));
          }
        });
    ASSERT_TRUE(follower_->start().ok());
    auto client = frontend::RemotingClient::connect(follower_address());
    ASSERT_TRUE(client.ok());
    client_ = std::move(client).value();
  }
  std::string leader_address() const { return "127.0.0.1:" + std::to_string(leader_->port()); }
  std::string follower_address() const { return "127.0.0.1:" + std::to_string(follower_->port()); }
  std::vector<RemotingCommand> received() {
    std::lock_guard lock(mu_);
    return received_;
  }

  std::unique_ptr<frontend::RemotingServer> leader_;
  std::unique_ptr<frontend::RemotingServer> follower_;
  std::unique_ptr<LeaderForwarder> forwarder_;
  std::unique_ptr<frontend::RemotingClient> client_;
  std::mutex mu_;
  std::vector<RemotingCommand> received_;
};

RemotingCommand send_request(const std::string& body) {
  RemotingCommand request = remoting::make_request(rc::kSendMessageV2, 0);
  request.ext_fields["b"] = "orders";
  request.body = body;
  return request;
}

TEST_F(ForwardingFixture, FollowerRelaysTheLeadersReplyAndMarksTheForwardedRequest) {
  start_follower({1, "127.0.0.1:1"}, {{1, leader_address()}});
  for (auto type : {remoting::SerializeType::kJson, remoting::SerializeType::kRocketmq}) {
    RemotingCommand request = send_request("payload");
    request.serialize_type = type;
    auto reply = client_->invoke_sync(request, 10s);
    ASSERT_TRUE(reply.ok()) << reply.error().to_string();
    EXPECT_EQ(reply->code, resp::kSuccess);
    EXPECT_EQ(reply->remark.value_or(""), "from leader");
    EXPECT_EQ(reply->ext_fields.at("msgId"), "ABC");
    EXPECT_EQ(reply->body, "leader-body");
    EXPECT_EQ(reply->serialize_type, type);
  }
  auto got = received();
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0].body, "payload");
  EXPECT_EQ(got[0].ext_fields.at("b"), "orders");
  EXPECT_EQ(got[0].ext_fields.at(kForwardedFromField), "n2");
  // The client's own address travels along (the leader's born host for sent messages).
  EXPECT_EQ(got[0].ext_fields.at(kForwardedClientField).rfind("127.0.0.1:", 0), 0u);
  EXPECT_EQ(got[1].serialize_type, remoting::SerializeType::kRocketmq);
}

TEST_F(ForwardingFixture, OnewayRequestIsForwardedOneway) {
  start_follower({1, ""}, {{1, leader_address()}});
  RemotingCommand request = send_request("oneway-payload");
  ASSERT_TRUE(client_->invoke_oneway(request).ok());
  ASSERT_TRUE(dledger::testing::eventually([&] { return received().size() == 1; }));
  EXPECT_EQ(received()[0].body, "oneway-payload");
  EXPECT_TRUE(received()[0].is_oneway());
}

TEST_F(ForwardingFixture, NoKnownLeaderIsServiceNotAvailable) {
  start_follower({raft::kNoNode, ""}, {});
  auto reply = client_->invoke_sync(send_request("x"), 10s);
  ASSERT_TRUE(reply.ok());
  EXPECT_EQ(reply->code, resp::kServiceNotAvailable);
  EXPECT_NE(reply->remark.value_or("").find("no leader is known"), std::string::npos)
      << reply->remark.value_or("");
  EXPECT_TRUE(received().empty());
}

TEST_F(ForwardingFixture, UnreachableLeaderIsServiceNotAvailableNamingIt) {
  // A port nothing listens on (bound and released).
  std::string dead = "127.0.0.1:" + std::to_string(dledger::testing::free_port());
  start_follower({1, "127.0.0.1:1"}, {{1, dead}});
  auto reply = client_->invoke_sync(send_request("x"), 10s);
  ASSERT_TRUE(reply.ok());
  EXPECT_EQ(reply->code, resp::kServiceNotAvailable);
  std::string remark = reply->remark.value_or("");
  EXPECT_NE(remark.find("n1 at " + dead), std::string::npos) << remark;
}

TEST_F(ForwardingFixture, ForwardedRequestIsNeverForwardedAgain) {
  start_follower({1, ""}, {{1, leader_address()}});
  RemotingCommand request = send_request("loop?");
  request.ext_fields[kForwardedFromField] = "n0";
  auto reply = client_->invoke_sync(request, 10s);
  ASSERT_TRUE(reply.ok());
  EXPECT_EQ(reply->code, resp::kServiceNotAvailable);
  std::string remark = reply->remark.value_or("");
  EXPECT_NE(remark.find("forwarded by n0"), std::string::npos) << remark;
  EXPECT_NE(remark.find("n1"), std::string::npos) << remark;
  EXPECT_TRUE(received().empty());
}

TEST_F(ForwardingFixture, LeaderServesLocally) {
  LeaderForwarder forwarder({}, {[] { return true; }, [] { return ledger::LeaderHint{}; }});
  EXPECT_FALSE(forwarder.maybe_forward(send_request("x"), frontend::Responder{}));
}

TEST(DeriveClientAddress, UsesThePeerHostWithTheListenPort) {
  EXPECT_EQ(*derive_client_address("10.0.0.7:20911", 10911), "10.0.0.7:10911");
  EXPECT_EQ(*derive_client_address("broker-a-1.svc:40911", 30911), "broker-a-1.svc:30911");
  EXPECT_EQ(*derive_client_address("[::1]:20911", 10911), "[::1]:10911");
  EXPECT_FALSE(derive_client_address("no-port", 10911).ok());
}

TEST(QueueLockTable, LockIsExclusiveUntilUnlockedOrExpired) {
  auto now = std::chrono::steady_clock::time_point{} + std::chrono::hours(1);
  QueueLockTable table(60s, [&now] { return now; });
  remoting::MessageQueue q0{"T", "broker-a", 0};
  remoting::MessageQueue q1{"T", "broker-a", 1};
  EXPECT_EQ(table.lock("CG", "A", {q0, q1}), (std::set<remoting::MessageQueue>{q0, q1}));
  EXPECT_TRUE(table.lock("CG", "B", {q0, q1}).empty());
  EXPECT_EQ(table.lock("OTHER", "B", {q0}), (std::set<remoting::MessageQueue>{q0}));
  table.unlock("CG", "B", {q0});  // not B's: ignored
  EXPECT_EQ(table.holder("CG", q0), "A");
  table.unlock("CG", "A", {q0});
  EXPECT_EQ(table.lock("CG", "B", {q0, q1}), (std::set<remoting::MessageQueue>{q0}));

  now += 59s;
  EXPECT_EQ(table.lock("CG", "A", {q1}), (std::set<remoting::MessageQueue>{q1}));  // renewal
  now += 59s;
  EXPECT_EQ(table.holder("CG", q0), "");  // B's lock on q0 is 118 s old
  EXPECT_EQ(table.lock("CG", "A", {q0, q1}), (std::set<remoting::MessageQueue>{q0, q1}));
}

}  // namespace
}  // namespace dledger::broker
