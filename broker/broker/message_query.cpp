#include "broker/broker/message_query.h"

#include <algorithm>
#include <string_view>

#include "broker/remoting/message_properties.h"

namespace dledger::broker {

namespace {

// Entries read per get_messages call (bounds the plan and the locks held per step).
constexpr std::uint64_t kScanStep = 256;

}  // namespace

bool message_has_key(const store::StoredMessage& message, const std::string& key, bool unique_key) {
  auto properties = remoting::decode_message_properties(message.properties);
  if (!properties.ok()) return false;
  const std::string_view wanted_property =
      unique_key ? remoting::property_key::kUniqKey : remoting::property_key::kKeys;
  auto it = properties->find(std::string(wanted_property));
  if (it == properties->end()) return false;
  if (unique_key) return it->second == key;
  std::string_view keys = it->second;
  while (!keys.empty()) {
    const std::size_t space = keys.find(' ');
    if (keys.substr(0, space) == key) return true;
    if (space == std::string_view::npos) break;
    keys.remove_prefix(space + 1);
  }
  return false;
}

Result<MessageQueryResult> query_messages(store::MessageStore& store, const MessageQuery& query) {
  auto topic = store.topic(query.topic);
  if (!topic) {
    return make_error(ErrorCode::kNotFound, "topic '" + query.topic + "' does not exist");
  }
  MessageQueryResult result;
  if (query.max_num == 0 || query.begin_ms > query.end_ms) return result;
  const store::MessageFilter filter = [&query](const store::StoredMessage& message) {
    return message_has_key(message, query.key, query.unique_key);
  };
  const std::int32_t queues = std::max(topic->read_queue_nums, topic->write_queue_nums);
  for (std::int32_t queue = 0; queue < queues; ++queue) {
    std::int64_t offset = store.search_offset_by_timestamp(query.topic, queue, query.begin_ms);
    // The first offset stored after end_ms (the queue's max offset when there is none).
    const std::int64_t stop = query.end_ms == INT64_MAX ? store.max_offset(query.topic, queue)
                                                        : store.search_offset_by_timestamp(
                                                              query.topic, queue, query.end_ms + 1);
    while (offset < stop) {
      if (result.count >= query.max_num) return result;  // complete: enough found
      if (result.scanned >= query.max_scan || result.records.size() >= query.max_bytes) {
        result.complete = false;
        return result;
      }
      const std::uint64_t step = std::min(
          {kScanStep, static_cast<std::uint64_t>(stop - offset), query.max_scan - result.scanned});
      const auto want =
          static_cast<std::uint32_t>(std::min<std::uint64_t>(step, query.max_num - result.count));
      auto got = store.get_messages(query.topic, queue, offset, want,
                                    query.max_bytes - result.records.size(), filter,
                                    static_cast<std::uint32_t>(step));
      if (!got.ok()) return got.error();
      if (got->status == store::GetStatus::kOffsetTooSmall && got->next_begin_offset > offset) {
        offset = got->next_begin_offset;  // retention removed the start of the range meanwhile
        continue;
      }
      if (got->status != store::GetStatus::kFound || got->next_begin_offset <= offset) break;
      result.scanned += static_cast<std::uint64_t>(got->next_begin_offset - offset);
      result.records += got->records;
      result.count += got->count;
      offset = got->next_begin_offset;
    }
  }
  return result;
}

}  // namespace dledger::broker
