#include "broker/store/delay_levels.h"

#include <charconv>
#include <limits>

#include "broker/remoting/message_properties.h"

namespace dledger::store {
namespace {

namespace key = remoting::property_key;

std::optional<std::int64_t> parse_int(std::string_view text) {
  std::int64_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return value;
}

}  // namespace

Result<std::vector<std::int64_t>> parse_delay_levels(std::string_view text) {
  std::vector<std::int64_t> levels;
  std::size_t pos = 0;
  while (pos < text.size()) {
    if (text[pos] == ' ' || text[pos] == '\t') {
      ++pos;
      continue;
    }
    std::size_t end = text.find_first_of(" \t", pos);
    if (end == std::string_view::npos) end = text.size();
    std::string_view item = text.substr(pos, end - pos);
    const std::string where = "messageDelayLevel = '" + std::string(text) + "': level " +
                              std::to_string(levels.size() + 1) + " '" + std::string(item) + "'";
    std::int64_t unit_ms = 0;
    switch (item.back()) {
      case 's':
        unit_ms = 1000;
        break;
      case 'm':
        unit_ms = 60 * 1000;
        break;
      case 'h':
        unit_ms = 3600 * 1000;
        break;
      case 'd':
        unit_ms = 86400 * 1000;
        break;
      default:
        return make_error(ErrorCode::kInvalidArgument,
                          where + ": expected a number followed by s, m, h or d");
    }
    auto number = parse_int(item.substr(0, item.size() - 1));
    if (!number || *number <= 0 || *number > std::numeric_limits<std::int64_t>::max() / unit_ms) {
      return make_error(ErrorCode::kInvalidArgument,
                        where + ": expected a positive number followed by s, m, h or d");
    }
    levels.push_back(*number * unit_ms);
    if (levels.size() > kMaxDelayLevels) {
      return make_error(ErrorCode::kInvalidArgument,
                        "messageDelayLevel = '" + std::string(text) + "': more than " +
                            std::to_string(kMaxDelayLevels) + " levels");
    }
    pos = end;
  }
  if (levels.empty()) {
    return make_error(ErrorCode::kInvalidArgument, "messageDelayLevel = '" + std::string(text) +
                                                       "': expected at least one level");
  }
  return levels;
}

std::vector<std::int64_t> default_delay_levels_ms() {
  return parse_delay_levels(kDefaultMessageDelayLevel).value();
}

Result<std::int32_t> delay_level_of(const StoredMessage& message, std::size_t level_count) {
  if (message.properties.find(key::kDelayTimeLevel) == std::string::npos) return 0;
  auto properties = remoting::decode_message_properties(message.properties);
  if (!properties.ok()) return properties.error();
  auto it = properties->find(std::string(key::kDelayTimeLevel));
  if (it == properties->end()) return 0;
  auto level = parse_int(it->second);
  if (!level) {
    return make_error(ErrorCode::kInvalidArgument, "property DELAY = '" + it->second +
                                                       "': expected a delay level 1.." +
                                                       std::to_string(level_count));
  }
  if (*level <= 0 || level_count == 0) return 0;
  return static_cast<std::int32_t>(
      std::min<std::int64_t>(*level, static_cast<std::int64_t>(level_count)));
}

Status schedule_delayed(StoredMessage& message, std::int32_t level) {
  auto properties = remoting::decode_message_properties(message.properties);
  if (!properties.ok()) return properties.error();
  (*properties)[std::string(key::kRealTopic)] = message.topic;
  (*properties)[std::string(key::kRealQueueId)] = std::to_string(message.queue_id);
  auto encoded = remoting::encode_message_properties(*properties);
  if (!encoded.ok()) return encoded.error();
  message.properties = std::move(encoded).value();
  message.topic = std::string(kScheduleTopic);
  message.queue_id = level - 1;
  return Status();
}

Result<StoredMessage> delivered_form(const StoredMessage& scheduled) {
  auto properties = remoting::decode_message_properties(scheduled.properties);
  if (!properties.ok()) return properties.error();
  auto topic = properties->find(std::string(key::kRealTopic));
  auto queue = properties->find(std::string(key::kRealQueueId));
  if (topic == properties->end() || topic->second.empty()) {
    return make_error(ErrorCode::kCorruption, "scheduled message has no REAL_TOPIC property");
  }
  std::optional<std::int64_t> queue_id;
  if (queue != properties->end()) queue_id = parse_int(queue->second);
  if (!queue_id || *queue_id < 0 || *queue_id > std::numeric_limits<std::int32_t>::max()) {
    return make_error(ErrorCode::kCorruption,
                      "scheduled message has no valid REAL_QID property (" +
                          (queue == properties->end() ? std::string("missing") : queue->second) +
                          ")");
  }
  StoredMessage out = scheduled;
  out.topic = topic->second;
  out.queue_id = static_cast<std::int32_t>(*queue_id);
  properties->erase(std::string(key::kDelayTimeLevel));
  auto encoded = remoting::encode_message_properties(*properties);
  if (!encoded.ok()) return encoded.error();
  out.properties = std::move(encoded).value();
  return out;
}

}  // namespace dledger::store
