// Any replica accepts client requests: a real 3-replica group in-process (BrokerGroup), every
// follower forwarding leader-only requests to the leader's remoting port. Sends, topic updates,
// offset commits, consumer-group membership and queue locks behave the same whichever replica
// the client talks to.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "broker/remoting/client_headers.h"
#include "broker/remoting/heartbeat.h"
#include "broker/remoting/lock_batch.h"
#include "broker/remoting/message_codec.h"
#include "broker/remoting/pull_header.h"
#include "tests/broker/broker_group.h"
#include "tests/broker/broker_requests.h"

namespace dledger::broker {
namespace {

using namespace std::chrono_literals;
using remoting::RemotingCommand;
using testing::BrokerGroup;
namespace rc = remoting::request_code;
namespace resp = remoting::response_code;

// Every replica's forwarder learns every member's remoting port (bound to port 0 at start).
void route_to_remoting_ports(BrokerGroup& group) {
  for (int i = 0; i < group.size(); ++i) {
    for (int j = 0; j < group.size(); ++j) {
      group.at(i).handlers->context().forwarder->set_client_address(
          static_cast<raft::NodeId>(j), "127.0.0.1:" + std::to_string(group.at(j).server->port()));
    }
  }
}

class LeaderRoutingTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    group_ = new BrokerGroup({});
    route_to_remoting_ports(*group_);
    master_ = group_->wait_for_master();
    ASSERT_GE(master_, 0);
    // Created through a follower: forwarded to the leader like every write.
    ASSERT_EQ(group_->create_topic(follower_index(0), "routed", 2), resp::kSuccess);
  }
  static void TearDownTestSuite() {
    delete group_;
    group_ = nullptr;
  }

  static int follower_index(int n) { return (master_ + 1 + n) % 3; }
  static frontend::RemotingClient& master() { return *group_->at(master_).client; }
  static frontend::RemotingClient& follower(int n) { return *group_->at(follower_index(n)).client; }

  static RemotingCommand invoke(frontend::RemotingClient& client, RemotingCommand request) {
    auto reply = client.invoke_sync(std::move(request), 10s);
    EXPECT_TRUE(reply.ok()) << reply.error().to_string();
    return reply.ok() ? *reply : RemotingCommand{};
  }

  static RemotingCommand heartbeat(const std::string& client_id, const std::string& group) {
    return testing::heartbeat_request(client_id, group, "routed");
  }

  static std::vector<std::string> consumer_list(frontend::RemotingClient& client,
                                                const std::string& group) {
    RemotingCommand list = remoting::make_request(rc::kGetConsumerListByGroup, 0);
    list.ext_fields = {{"consumerGroup", group}};
    RemotingCommand reply = invoke(client, list);
    if (reply.code != resp::kSuccess) return {};
    auto json = nlohmann::json::parse(reply.body);
    return json.at("consumerIdList").get<std::vector<std::string>>();
  }

  static RemotingCommand lock_request(std::int32_t code, const std::string& client_id,
                                      std::vector<int> queues) {
    remoting::LockBatchRequest body;
    body.consumer_group = "CG-orderly";
    body.client_id = client_id;
    for (int q : queues) body.mq_set.insert({"routed", "broker-a", q});
    RemotingCommand request = remoting::make_request(code, 0);
    request.body = remoting::write_lock_batch_body(body);
    return request;
  }
  static std::set<int> locked_queues(const RemotingCommand& reply) {
    std::set<int> out;
    if (reply.code != resp::kSuccess) return {-1};
    const auto body = nlohmann::json::parse(reply.body);
    for (const auto& mq : body.at("lockOKMQSet")) {
      out.insert(mq.at("queueId").get<int>());
    }
    return out;
  }

  static inline BrokerGroup* group_ = nullptr;
  static inline int master_ = -1;
};

TEST_F(LeaderRoutingTest, TopicCreatedThroughAFollowerExistsOnEveryReplica) {
  for (int i = 0; i < 3; ++i) {
    EXPECT_TRUE(dledger::testing::eventually([&] {
      return group_->at(i).store->topic("routed").has_value();
    })) << "replica "
        << i;
  }
}

TEST_F(LeaderRoutingTest, SendThroughAFollowerIsAcknowledgedAndReadableOnEveryReplica) {
  RemotingCommand sent = invoke(follower(0), testing::send_message_request("routed", 0, "via-f0"));
  ASSERT_EQ(sent.code, resp::kSuccess) << sent.remark.value_or("");
  auto ack = remoting::parse_send_message_response(sent);
  ASSERT_TRUE(ack.ok()) << ack.error().to_string();
  EXPECT_EQ(ack->queue_id, 0);

  for (int i = 0; i < 3; ++i) {
    // Committed on the leader before the ack; followers apply it shortly after.
    ASSERT_TRUE(dledger::testing::eventually([&] {
      return group_->at(i).store->max_offset("routed", 0) > ack->queue_offset;
    })) << "replica "
        << i;
    RemotingCommand pulled =
        invoke(*group_->at(i).client,
               testing::pull_message_request("CG", "routed", 0, ack->queue_offset, 1));
    ASSERT_EQ(pulled.code, resp::kSuccess) << "replica " << i << ": " << pulled.remark.value_or("");
    auto records = remoting::decode_message_records(pulled.body);
    ASSERT_TRUE(records.ok());
    ASSERT_EQ(records->size(), 1u);
    EXPECT_EQ((*records)[0].body, "via-f0");
    EXPECT_EQ(remoting::offset_msg_id((*records)[0]), ack->msg_id);
  }
}

TEST_F(LeaderRoutingTest, OffsetCommittedThroughAFollowerIsReadFromAnotherReplica) {
  RemotingCommand committed =
      invoke(follower(0), testing::update_offset_request("CG-routed", "routed", 1, 42));
  ASSERT_EQ(committed.code, resp::kSuccess) << committed.remark.value_or("");

  RemotingCommand query = remoting::make_request(rc::kQueryConsumerOffset, 0);
  query.ext_fields = {{"consumerGroup", "CG-routed"}, {"topic", "routed"}, {"queueId", "1"}};
  ASSERT_TRUE(dledger::testing::eventually([&] {
    RemotingCommand reply = invoke(follower(1), query);
    return reply.code == resp::kSuccess && reply.ext_fields["offset"] == "42";
  }));
  RemotingCommand on_master = invoke(master(), query);
  ASSERT_EQ(on_master.code, resp::kSuccess);
  EXPECT_EQ(on_master.ext_fields.at("offset"), "42");
}

TEST_F(LeaderRoutingTest, CommitOffsetCarriedByAPullToAFollowerReachesEveryReplica) {
  RemotingCommand pull = testing::pull_message_request("CG-pull-commit", "routed", 1, 0);
  remoting::PullMessageRequest header = *remoting::parse_pull_message_request(pull);
  header.sys_flag |= remoting::pull_sys_flag::kCommitOffset;
  header.commit_offset = 5;
  remoting::write_pull_message_request(header, &pull);
  invoke(follower(1), pull);
  for (int i = 0; i < 3; ++i) {
    EXPECT_TRUE(dledger::testing::eventually([&] {
      return group_->at(i).store->query_offset("CG-pull-commit", "routed", 1) == 5;
    })) << "replica "
        << i;
  }
}

TEST_F(LeaderRoutingTest, HeartbeatsThroughTwoReplicasMakeOneGroupSeenFromTheThird) {
  ASSERT_EQ(invoke(follower(0), heartbeat("client-A@1", "CG-members")).code, resp::kSuccess);
  ASSERT_EQ(invoke(master(), heartbeat("client-B@2", "CG-members")).code, resp::kSuccess);
  const std::vector<std::string> both{"client-A@1", "client-B@2"};
  EXPECT_EQ(consumer_list(follower(1), "CG-members"), both);
  EXPECT_EQ(consumer_list(follower(0), "CG-members"), both);
  EXPECT_EQ(consumer_list(master(), "CG-members"), both);

  RemotingCommand unregister = remoting::make_request(rc::kUnregisterClient, 0);
  unregister.ext_fields = {{"clientID", "client-A@1"}, {"consumerGroup", "CG-members"}};
  ASSERT_EQ(invoke(follower(1), unregister).code, resp::kSuccess);
  EXPECT_EQ(consumer_list(follower(0), "CG-members"), std::vector<std::string>{"client-B@2"});
}

TEST_F(LeaderRoutingTest, ClientWhoseFollowerConnectionClosesLeavesTheGroup) {
  auto own = frontend::RemotingClient::connect(
      "127.0.0.1:" + std::to_string(group_->at(follower_index(1)).server->port()));
  ASSERT_TRUE(own.ok());
  ASSERT_EQ(invoke(**own, heartbeat("client-C@3", "CG-closing")).code, resp::kSuccess);
  ASSERT_EQ(invoke(master(), heartbeat("client-D@4", "CG-closing")).code, resp::kSuccess);
  EXPECT_EQ(consumer_list(follower(0), "CG-closing"),
            (std::vector<std::string>{"client-C@3", "client-D@4"}));
  (*own)->close();
  EXPECT_TRUE(dledger::testing::eventually([&] {
    return consumer_list(follower(0), "CG-closing") == std::vector<std::string>{"client-D@4"};
  }));
}

TEST_F(LeaderRoutingTest, QueueLocksConflictBetweenClientsWhereverTheyAsk) {
  EXPECT_EQ(locked_queues(invoke(follower(0), lock_request(rc::kLockBatchMq, "A", {0, 1}))),
            (std::set<int>{0, 1}));
  EXPECT_EQ(locked_queues(invoke(follower(1), lock_request(rc::kLockBatchMq, "B", {0, 1}))),
            std::set<int>{});
  EXPECT_EQ(locked_queues(invoke(master(), lock_request(rc::kLockBatchMq, "B", {1}))),
            std::set<int>{});
  // A renews through another replica, then releases queue 1 there: B gets exactly queue 1.
  EXPECT_EQ(locked_queues(invoke(follower(1), lock_request(rc::kLockBatchMq, "A", {0, 1}))),
            (std::set<int>{0, 1}));
  ASSERT_EQ(invoke(follower(1), lock_request(rc::kUnlockBatchMq, "A", {1})).code, resp::kSuccess);
  EXPECT_EQ(locked_queues(invoke(follower(0), lock_request(rc::kLockBatchMq, "B", {0, 1}))),
            std::set<int>{1});
}

TEST_F(LeaderRoutingTest, MalformedLockBodyIsAnErrorNamingTheField) {
  RemotingCommand bad = remoting::make_request(rc::kLockBatchMq, 0);
  bad.body = R"({"consumerGroup":"CG","mqSet":[]})";
  RemotingCommand reply = invoke(follower(0), bad);
  EXPECT_EQ(reply.code, resp::kSystemError);
  EXPECT_NE(reply.remark.value_or("").find("clientId"), std::string::npos)
      << reply.remark.value_or("");
}

// After a leader change every replica still forwards to the (new) leader, and the new leader
// learns at once which consumers are connected to the other replicas.
TEST(LeaderChangeRoutingTest, NewLeaderKnowsEveryGroupMemberAndFollowersForwardToIt) {
  BrokerGroup group({});
  route_to_remoting_ports(group);
  const int old_leader = group.wait_for_master();
  ASSERT_GE(old_leader, 0);
  const int connected = (old_leader + 1) % 3;   // where the consumer is connected
  const int new_leader = (old_leader + 2) % 3;  // never saw the consumer's heartbeats
  ASSERT_EQ(group.create_topic(connected, "after-change", 1), resp::kSuccess);

  RemotingCommand hb = testing::heartbeat_request("client-E@5", "CG-change", "after-change");
  auto beat = group.at(connected).client->invoke_sync(hb, 10s);
  ASSERT_TRUE(beat.ok());
  ASSERT_EQ(beat->code, resp::kSuccess) << beat->remark.value_or("");

  Status moved =
      group.at(old_leader).ledger->transfer_leadership(static_cast<raft::NodeId>(new_leader), 10s);
  ASSERT_TRUE(moved.ok()) << moved.error().to_string();
  ASSERT_EQ(group.wait_for_master(), new_leader);

  RemotingCommand list = remoting::make_request(rc::kGetConsumerListByGroup, 0);
  list.ext_fields = {{"consumerGroup", "CG-change"}};
  EXPECT_TRUE(dledger::testing::eventually([&] {
    auto reply = group.at(new_leader).client->invoke_sync(list, 10s);
    return reply.ok() && reply->code == resp::kSuccess &&
           reply->body == remoting::write_consumer_list_body({"client-E@5"});
  }));

  // The old leader is a follower now: its writes go to the new leader.
  auto sent = group.at(old_leader)
                  .client->invoke_sync(
                      testing::send_message_request("after-change", 0, "to-the-old-leader"), 10s);
  ASSERT_TRUE(sent.ok());
  ASSERT_EQ(sent->code, resp::kSuccess) << sent->remark.value_or("");
  EXPECT_EQ(group.at(new_leader).store->max_offset("after-change", 0), 1);
}

}  // namespace
}  // namespace dledger::broker
