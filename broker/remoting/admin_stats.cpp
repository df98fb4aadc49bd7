#include "broker/remoting/admin_stats.h"

#include <cmath>
#include <vector>

#include "broker/remoting/codes.h"
#include "broker/remoting/ext_fields.h"
#include "broker/remoting/int_limits.h"
#include "broker/remoting/json_util.h"

namespace dledger::remoting {

namespace {

using nlohmann::json;

std::string message_queue_key(const MessageQueueId& mq) {
  std::string out = "{\"brokerName\":";
  out += dump_json(json(mq.broker_name));
  out += ",\"queueId\":" + std::to_string(mq.queue_id) + ",\"topic\":";
  out += dump_json(json(mq.topic));
  out += '}';
  return out;
}

// Parses "offsetTable" of `body` (what: "TopicStatsTable"), calling read_value(path, value_object,
// reader) for each entry after its MessageQueue key.
template <typename Value, typename ReadValue>
Result<std::map<MessageQueueId, Value>> parse_offset_table(const json& body, const char* what,
                                                           ReadValue read_value) {
  JsonBodyReader r(what);
  std::map<MessageQueueId, Value> table;
  if (!r.expect_object(body, "")) return r.error();
  const json* entries = r.object(body, "", "offsetTable", /*required=*/false);
  if (!r.ok()) return r.error();
  if (entries == nullptr) return table;
  for (const auto& [key_text, value] : entries->items()) {
    const std::string path = "offsetTable[" + quote_for_error(key_text) + "]";
    auto key = parse_json(key_text, std::string(what) + ": " + path + " key");
    if (!key.ok()) return key.error();
    if (!r.expect_object(*key, path + " key")) return r.error();
    MessageQueueId mq;
    mq.topic = r.string(*key, path, "topic", /*required=*/true);
    mq.broker_name = r.string(*key, path, "brokerName", /*required=*/true);
    mq.queue_id = static_cast<int32_t>(r.integer(*key, path, "queueId", true, 0, kI32Max));
    if (!r.expect_object(value, path)) return r.error();
    Value parsed = read_value(path, value, r);
    if (!r.ok()) return r.error();
    if (!table.emplace(std::move(mq), parsed).second) {
      r.fail(path, "", "names a queue that appears twice");
      return r.error();
    }
  }
  return table;
}

Result<json> parse_stats_body(std::string_view body, const char* what) {
  return parse_json(quote_fastjson_keys(body), what);
}

}  // namespace

RemotingCommand make_topic_stats_request(const std::string& topic) {
  RemotingCommand cmd = make_request(request_code::kGetTopicStatsInfo, 0);
  cmd.ext_fields["topic"] = topic;
  return cmd;
}

Result<TopicStatsRequest> parse_topic_stats_request(const RemotingCommand& cmd) {
  if (Status s = expect_request_code(cmd, {request_code::kGetTopicStatsInfo}); !s.ok()) {
    return s.error();
  }
  ExtFieldReader r(cmd);
  TopicStatsRequest req;
  req.topic = r.required_string("topic");
  if (!r.ok()) return r.error();
  return req;
}

RemotingCommand make_consume_stats_request(const std::string& consumer_group,
                                           const std::string& topic) {
  RemotingCommand cmd = make_request(request_code::kGetConsumeStats, 0);
  cmd.ext_fields["consumerGroup"] = consumer_group;
  if (!topic.empty()) cmd.ext_fields["topic"] = topic;
  return cmd;
}

Result<ConsumeStatsRequest> parse_consume_stats_request(const RemotingCommand& cmd) {
  if (Status s = expect_request_code(cmd, {request_code::kGetConsumeStats}); !s.ok()) {
    return s.error();
  }
  ExtFieldReader r(cmd);
  ConsumeStatsRequest req;
  req.consumer_group = r.required_string("consumerGroup");
  req.topic = r.optional_string("topic").value_or("");
  if (!r.ok()) return r.error();
  return req;
}

std::string write_topic_stats_table(const TopicStatsTable& table) {
  std::string out = "{\"offsetTable\":{";
  bool first = true;
  for (const auto& [mq, offset] : table.offset_table) {
    if (!first) out += ',';
    first = false;
    out += message_queue_key(mq);
    out += ":{\"lastUpdateTimestamp\":" + std::to_string(offset.last_update_timestamp) +
           ",\"maxOffset\":" + std::to_string(offset.max_offset) +
           ",\"minOffset\":" + std::to_string(offset.min_offset) + "}";
  }
  out += "}}";
  return out;
}

Result<TopicStatsTable> parse_topic_stats_table(std::string_view body) {
  auto parsed = parse_stats_body(body, "TopicStatsTable");
  if (!parsed.ok()) return parsed.error();
  auto table = parse_offset_table<TopicOffset>(
      *parsed, "TopicStatsTable",
      [](const std::string& path, const json& value, JsonBodyReader& r) {
        TopicOffset offset;
        offset.min_offset = r.integer(value, path, "minOffset", false, 0, kI64Max);
        offset.max_offset = r.integer(value, path, "maxOffset", false, 0, kI64Max);
        offset.last_update_timestamp =
            r.integer(value, path, "lastUpdateTimestamp", false, 0, kI64Max);
        return offset;
      });
  if (!table.ok()) return table.error();
  TopicStatsTable out;
  out.offset_table = std::move(table).value();
  return out;
}

std::string write_consume_stats(const ConsumeStats& stats) {
  std::string out = "{\"consumeTps\":" + dump_json(json(stats.consume_tps)) + ",\"offsetTable\":{";
  bool first = true;
  for (const auto& [mq, offset] : stats.offset_table) {
    if (!first) out += ',';
    first = false;
    out += message_queue_key(mq);
    out += ":{\"brokerOffset\":" + std::to_string(offset.broker_offset) +
           ",\"consumerOffset\":" + std::to_string(offset.consumer_offset) +
           ",\"lastTimestamp\":" + std::to_string(offset.last_timestamp) + "}";
  }
  out += "}}";
  return out;
}

Result<ConsumeStats> parse_consume_stats(std::string_view body) {
  auto parsed = parse_stats_body(body, "ConsumeStats");
  if (!parsed.ok()) return parsed.error();
  auto table = parse_offset_table<OffsetWrapper>(
      *parsed, "ConsumeStats", [](const std::string& path, const json& value, JsonBodyReader& r) {
        OffsetWrapper offset;
        offset.broker_offset = r.integer(value, path, "brokerOffset", false, 0, kI64Max);
        offset.consumer_offset = r.integer(value, path, "consumerOffset", false, 0, kI64Max);
        offset.last_timestamp = r.integer(value, path, "lastTimestamp", false, 0, kI64Max);
        return offset;
      });
  if (!table.ok()) return table.error();
  ConsumeStats out;
  out.offset_table = std::move(table).value();
  auto tps = parsed->find("consumeTps");
  if (tps != parsed->end() && tps->is_number()) {
    out.consume_tps = tps->get<double>();
    if (!std::isfinite(out.consume_tps) || out.consume_tps < 0) {
      return make_error(ErrorCode::kInvalidArgument,
                        "ConsumeStats: consumeTps " + dump_json(*tps) + " is not a rate");
    }
  } else if (tps != parsed->end() && !tps->is_null()) {
    return make_error(
        ErrorCode::kInvalidArgument,
        "ConsumeStats: consumeTps is a " + std::string(json_type_name(*tps)) + ", not a number");
  }
  return out;
}

}  // namespace dledger::remoting
