// PULL_MESSAGE subscriptions (pull_handler.cpp): tag filtering from the pull's own expression or
// from the group's heartbeat, nextBeginOffset moving past skipped messages, and the RocketMQ
// error codes for missing, stale or unparsable subscriptions. One-member group in-process.
#include <gtest/gtest.h>

#include "broker/broker/tag_filter.h"
#include "broker/remoting/heartbeat.h"
#include "broker/remoting/message_codec.h"
#include "broker/remoting/message_properties.h"
#include "tests/broker/broker_group.h"
#include "tests/broker/broker_requests.h"

namespace dledger::broker {
namespace {

using namespace std::chrono_literals;
using remoting::RemotingCommand;
namespace resp = remoting::response_code;
namespace rc = remoting::request_code;

TEST(TagFilter, StarAndEmptySelectEverything) {
  for (const char* expression : {"*", "", "  *  "}) {
    auto filter = TagFilter::parse(expression, "TAG");
    ASSERT_TRUE(filter.ok()) << expression;
    EXPECT_TRUE(filter->matches_all());
    EXPECT_TRUE(filter->matches_tag(nullptr));
  }
}

TEST(TagFilter, OrListMatchesExactTagsOnly) {
  auto filter = TagFilter::parse(" TagA || TagB ||", "");
  ASSERT_TRUE(filter.ok());
  EXPECT_FALSE(filter->matches_all());
  EXPECT_EQ(filter->tags(), (std::set<std::string>{"TagA", "TagB"}));
  const std::string a = "TagA", c = "TagC", prefix = "Tag";
  EXPECT_TRUE(filter->matches_tag(&a));
  EXPECT_FALSE(filter->matches_tag(&c));
  EXPECT_FALSE(filter->matches_tag(&prefix));
  EXPECT_FALSE(filter->matches_tag(nullptr));  // untagged messages match only "*"
}

TEST(TagFilter, RefusesSql92AndExpressionsWithoutTags) {
  auto sql = TagFilter::parse("a > 1", "SQL92");
  ASSERT_FALSE(sql.ok());
  EXPECT_NE(sql.error().message.find("SQL92"), std::string::npos);
  EXPECT_FALSE(TagFilter::parse("||  ||", "TAG").ok());
}

TEST(TagFilter, HeartbeatSubscriptionUsesSubStringOrTagsSet) {
  remoting::SubscriptionData sub;
  sub.sub_string = "X || Y";
  auto from_string = TagFilter::from_subscription(sub);
  ASSERT_TRUE(from_string.ok());
  EXPECT_EQ(from_string->tags(), (std::set<std::string>{"X", "Y"}));
  sub.sub_string = "";
  sub.tags_set = {"Z"};
  auto from_set = TagFilter::from_subscription(sub);
  ASSERT_TRUE(from_set.ok());
  EXPECT_EQ(from_set->tags(), (std::set<std::string>{"Z"}));
}

class PullFilterTest : public testing::SingleBrokerTest {
 protected:
  static void SetUpTestSuite() {
    start_group();
    if (::testing::Test::HasFatalFailure()) return;
    ASSERT_EQ(group_->create_topic(0, "tagged", 1), resp::kSuccess);
    // Queue 0 of "tagged": offsets 0..5 with tags A, B, A, (none), C, B.
    for (const auto& [body, tag] : std::vector<std::pair<std::string, std::string>>{
             {"m0", "A"}, {"m1", "B"}, {"m2", "A"}, {"m3", ""}, {"m4", "C"}, {"m5", "B"}}) {
      auto reply = client().invoke_sync(testing::send_message_request("tagged", 0, body, tag), 10s);
      ASSERT_TRUE(reply.ok());
      ASSERT_EQ(reply->code, resp::kSuccess) << reply->remark.value_or("");
    }
  }
  static RemotingCommand pull(const std::string& group, std::int64_t offset,
                              std::optional<std::string> subscription, std::int32_t max = 32,
                              std::int64_t sub_version = 0) {
    RemotingCommand cmd = remoting::make_request(rc::kPullMessage, 0);
    remoting::PullMessageRequest header;
    header.consumer_group = group;
    header.topic = "tagged";
    header.queue_id = 0;
    header.queue_offset = offset;
    header.max_msg_nums = max;
    header.sys_flag = subscription ? remoting::pull_sys_flag::kSubscription : 0;
    header.subscription = subscription;
    header.sub_version = sub_version;
    remoting::write_pull_message_request(header, &cmd);
    return cmd;
  }

  // Bodies of a SUCCESS reply, and its nextBeginOffset.
  static std::pair<std::vector<std::string>, std::int64_t> bodies(const RemotingCommand& reply) {
    std::vector<std::string> out;
    auto header = remoting::parse_pull_message_response(reply);
    EXPECT_TRUE(header.ok());
    for (const auto& r : testing::pulled_records(reply)) out.push_back(r.body);
    return {out, header.ok() ? header->next_begin_offset : -1};
  }

  static void heartbeat(const std::string& client_id, const std::string& group,
                        const std::string& topic, const std::string& expression,
                        std::int64_t sub_version) {
    auto reply = client().invoke_sync(
        testing::heartbeat_request(client_id, group, topic, expression, sub_version), 10s);
    ASSERT_TRUE(reply.ok());
    ASSERT_EQ(reply->code, resp::kSuccess);
  }
};

TEST_F(PullFilterTest, PullSubscriptionReturnsOnlyMatchingTagsAndSkipsTheRest) {
  auto reply = client().invoke_sync(pull("CG-expr", 0, "A || C"), 10s);
  ASSERT_TRUE(reply.ok());
  ASSERT_EQ(reply->code, resp::kSuccess);
  auto [got, next] = bodies(*reply);
  EXPECT_EQ(got, (std::vector<std::string>{"m0", "m2", "m4"}));
  EXPECT_EQ(next, 6);  // past m5 (B), which was read and skipped

  auto all = client().invoke_sync(pull("CG-expr", 0, "*"), 10s);
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(bodies(*all).first.size(), 6u);
}

TEST_F(PullFilterTest, MaxMsgNumsCountsMatchingMessagesAndNextOffsetFollowsTheLastReturned) {
  auto reply = client().invoke_sync(pull("CG-max", 0, "B", 1), 10s);
  ASSERT_TRUE(reply.ok());
  ASSERT_EQ(reply->code, resp::kSuccess);
  auto [got, next] = bodies(*reply);
  EXPECT_EQ(got, (std::vector<std::string>{"m1"}));
  EXPECT_EQ(next, 2);
  auto second = client().invoke_sync(pull("CG-max", next, "B", 1), 10s);
  ASSERT_TRUE(second.ok());
  auto [got2, next2] = bodies(*second);
  EXPECT_EQ(got2, (std::vector<std::string>{"m5"}));
  EXPECT_EQ(next2, 6);
}

TEST_F(PullFilterTest, NothingMatchingAnswersRetryImmediatelyPastTheSkippedMessages) {
  auto reply = client().invoke_sync(pull("CG-none", 2, "Nope"), 10s);
  ASSERT_TRUE(reply.ok());
  EXPECT_EQ(reply->code, resp::kPullRetryImmediately);
  auto header = remoting::parse_pull_message_response(*reply);
  ASSERT_TRUE(header.ok());
  EXPECT_EQ(header->next_begin_offset, 6);
  EXPECT_EQ(header->max_offset, 6);
  EXPECT_TRUE(reply->body.empty());
}

TEST_F(PullFilterTest, HeartbeatSubscriptionIsUsedWhenThePullCarriesNone) {
  heartbeat("10.0.0.9@1", "CG-hb", "tagged", "B", 100);
  auto reply = client().invoke_sync(pull("CG-hb", 0, std::nullopt, 32, 100), 10s);
  ASSERT_TRUE(reply.ok());
  ASSERT_EQ(reply->code, resp::kSuccess) << reply->remark.value_or("");
  auto [got, next] = bodies(*reply);
  EXPECT_EQ(got, (std::vector<std::string>{"m1", "m5"}));
  EXPECT_EQ(next, 6);
}

TEST_F(PullFilterTest, StaleHeartbeatSubscriptionIsSubscriptionNotLatest) {
  heartbeat("10.0.0.9@2", "CG-stale", "tagged", "A", 100);
  auto reply = client().invoke_sync(pull("CG-stale", 0, std::nullopt, 32, 200), 10s);
  ASSERT_TRUE(reply.ok());
  EXPECT_EQ(reply->code, resp::kSubscriptionNotLatest);
  EXPECT_NE(reply->remark.value_or("").find("not latest"), std::string::npos);
}

TEST_F(PullFilterTest, KnownGroupWithoutThisTopicIsSubscriptionNotExist) {
  heartbeat("10.0.0.9@3", "CG-other", "another-topic", "*", 1);
  auto reply = client().invoke_sync(pull("CG-other", 0, std::nullopt), 10s);
  ASSERT_TRUE(reply.ok());
  EXPECT_EQ(reply->code, resp::kSubscriptionNotExist);
  EXPECT_NE(reply->remark.value_or("").find("tagged"), std::string::npos);
}

TEST_F(PullFilterTest, GroupWithoutHeartbeatAndSubscriptionGetsEveryMessage) {
  auto reply = client().invoke_sync(pull("CG-tool", 0, std::nullopt), 10s);
  ASSERT_TRUE(reply.ok());
  ASSERT_EQ(reply->code, resp::kSuccess);
  EXPECT_EQ(bodies(*reply).first.size(), 6u);
}

TEST_F(PullFilterTest, BadExpressionsAreParseFailedOrNoPermission) {
  auto empty_tags = client().invoke_sync(pull("CG-bad", 0, "||"), 10s);
  ASSERT_TRUE(empty_tags.ok());
  EXPECT_EQ(empty_tags->code, resp::kSubscriptionParseFailed);

  RemotingCommand sql = pull("CG-bad", 0, "a > 1");
  sql.ext_fields["expressionType"] = "SQL92";
  auto refused = client().invoke_sync(sql, 10s);
  ASSERT_TRUE(refused.ok());
  EXPECT_EQ(refused->code, resp::kNoPermission);
}

}  // namespace
}  // namespace dledger::broker
