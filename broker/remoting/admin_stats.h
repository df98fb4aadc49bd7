// Queue statistics requests of RocketMQ's admin tools (mqadmin topicStatus / consumerProgress,
// the dashboard, exporters) and their reply bodies.
//
//   code  request                fields                                  reply body
//   202   GET_TOPIC_STATS_INFO   topic (required)                        TopicStatsTable
//   208   GET_CONSUME_STATS      consumerGroup (required), topic         ConsumeStats
//                                (optional; absent or "" = every topic
//                                the group has committed offsets on)
//
// The bodies are what a RocketMQ 4.x broker writes with fastjson: maps keyed by MessageQueue
// with the key written as a JSON object, which is not standard JSON, fields in name order:
//
//   TopicStatsTable  {"offsetTable":{{"brokerName":"broker-a","queueId":0,"topic":"T"}:
//                      {"lastUpdateTimestamp":1700000000000,"maxOffset":42,"minOffset":0},...}}
//   ConsumeStats     {"consumeTps":0.0,"offsetTable":{{"brokerName":"broker-a","queueId":0,
//                      "topic":"T"}:{"brokerOffset":42,"consumerOffset":40,
//                      "lastTimestamp":1700000000000},...}}
//
// The parsers read that form (and the same maps with the key as a JSON string holding the
// object); every error names the body and the field at fault. Offsets are >= 0.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>

#include "broker/base/result.h"
#include "broker/remoting/remoting_command.h"

namespace dledger::remoting {

struct MessageQueueId {
  std::string topic;
  std::string broker_name;
  int32_t queue_id = 0;
  auto operator<=>(const MessageQueueId&) const = default;
};

struct TopicOffset {
  int64_t min_offset = 0;
  int64_t max_offset = 0;             // next offset to be written
  int64_t last_update_timestamp = 0;  // store time of the newest message; 0 when none
  bool operator==(const TopicOffset&) const = default;
};

struct TopicStatsTable {
  std::map<MessageQueueId, TopicOffset> offset_table;
  bool operator==(const TopicStatsTable&) const = default;
};

struct OffsetWrapper {
  int64_t broker_offset = 0;    // the queue's max offset
  int64_t consumer_offset = 0;  // the group's committed offset (0 when none)
  int64_t last_timestamp = 0;   // store time of the last consumed message; 0 when unknown
  bool operator==(const OffsetWrapper&) const = default;
};

struct ConsumeStats {
  std::map<MessageQueueId, OffsetWrapper> offset_table;
  double consume_tps = 0;
  bool operator==(const ConsumeStats&) const = default;
};

struct TopicStatsRequest {
  std::string topic;
};
RemotingCommand make_topic_stats_request(const std::string& topic);
Result<TopicStatsRequest> parse_topic_stats_request(const RemotingCommand& cmd);

struct ConsumeStatsRequest {
  std::string consumer_group;
  std::string topic;  // "" = every topic with an offset of the group
};
RemotingCommand make_consume_stats_request(const std::string& consumer_group,
                                           const std::string& topic);
Result<ConsumeStatsRequest> parse_consume_stats_request(const RemotingCommand& cmd);

std::string write_topic_stats_table(const TopicStatsTable& table);
Result<TopicStatsTable> parse_topic_stats_table(std::string_view body);
std::string write_consume_stats(const ConsumeStats& stats);
Result<ConsumeStats> parse_consume_stats(std::string_view body);

}  // namespace dledger::remoting
