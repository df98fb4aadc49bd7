// Request builders shared by the broker handler tests: SEND_MESSAGE_V2 with tags, PULL_MESSAGE,
// UPDATE_CONSUMER_OFFSET, HEART_BEAT; and the records of a pull reply. Header-only.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "broker/remoting/codes.h"
#include "broker/remoting/heartbeat.h"
#include "broker/remoting/message_codec.h"
#include "broker/remoting/message_properties.h"
#include "broker/remoting/pull_header.h"
#include "broker/remoting/remoting_command.h"
#include "broker/remoting/send_header.h"

namespace dledger::broker::testing {

// SEND_MESSAGE_V2 of one message to (topic, queue_id) with the TAGS property when `tags` is set.
inline remoting::RemotingCommand send_message_request(
    const std::string& topic, std::int32_t queue_id, const std::string& body,
    const std::string& tags = "", std::map<std::string, std::string> properties = {}) {
  remoting::RemotingCommand cmd = remoting::make_request(remoting::request_code::kSendMessageV2, 0);
  remoting::SendMessageRequest header;
  header.producer_group = "PG";
  header.topic = topic;
  header.default_topic = "TBW102";
  header.default_topic_queue_nums = 4;
  header.queue_id = queue_id;
  header.born_timestamp_ms = 1700000000000;
  if (!tags.empty()) properties["TAGS"] = tags;
  header.properties = *remoting::encode_message_properties(properties);
  remoting::write_send_message_request(header, &cmd);
  cmd.body = body;
  return cmd;
}

// PULL_MESSAGE without suspension or commit, up to `max_msg_nums` messages.
inline remoting::RemotingCommand pull_message_request(const std::string& group,
                                                      const std::string& topic,
                                                      std::int32_t queue_id, std::int64_t offset,
                                                      std::int32_t max_msg_nums = 32) {
  remoting::RemotingCommand cmd = remoting::make_request(remoting::request_code::kPullMessage, 0);
  remoting::PullMessageRequest header;
  header.consumer_group = group;
  header.topic = topic;
  header.queue_id = queue_id;
  header.queue_offset = offset;
  header.max_msg_nums = max_msg_nums;
  header.sys_flag = 0;
  header.commit_offset = 0;
  header.suspend_timeout_ms = 0;
  remoting::write_pull_message_request(header, &cmd);
  return cmd;
}

inline remoting::RemotingCommand update_offset_request(const std::string& group,
                                                       const std::string& topic,
                                                       std::int32_t queue_id, std::int64_t offset) {
  remoting::RemotingCommand cmd =
      remoting::make_request(remoting::request_code::kUpdateConsumerOffset, 0);
  cmd.ext_fields = {{"consumerGroup", group},
                    {"topic", topic},
                    {"queueId", std::to_string(queue_id)},
                    {"commitOffset", std::to_string(offset)}};
  return cmd;
}

// HEART_BEAT of consumer `client_id` in `group`, subscribed to `topic` with the tag expression
// `expression` (every tag by default) at `sub_version`.
inline remoting::RemotingCommand heartbeat_request(const std::string& client_id,
                                                   const std::string& group,
                                                   const std::string& topic,
                                                   const std::string& expression = "*",
                                                   std::int64_t sub_version = 0) {
  remoting::HeartbeatData data;
  data.client_id = client_id;
  remoting::ConsumerData consumer;
  consumer.group_name = group;
  remoting::SubscriptionData subscription;
  subscription.topic = topic;
  subscription.sub_string = expression;
  subscription.sub_version = sub_version;
  consumer.subscriptions.push_back(subscription);
  data.consumers.push_back(consumer);
  remoting::RemotingCommand cmd = remoting::make_request(remoting::request_code::kHeartBeat, 0);
  cmd.body = remoting::write_heartbeat_body(data);
  return cmd;
}

// The records of a PULL_MESSAGE reply: empty unless it is SUCCESS; an undecodable body fails
// the calling test.
inline std::vector<remoting::MessageRecord> pulled_records(const remoting::RemotingCommand& reply) {
  if (reply.code != remoting::response_code::kSuccess) return {};
  auto records = remoting::decode_message_records(reply.body);
  EXPECT_TRUE(records.ok()) << records.error().to_string();
  return records.ok() ? *records : std::vector<remoting::MessageRecord>{};
}

}  // namespace dledger::broker::testing
