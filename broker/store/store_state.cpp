#include "broker/store/store_state.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cassert>
#include <type_traits>

#include "broker/base/bytes.h"
#include "broker/base/crc32c.h"

namespace dledger::store {
namespace {

constexpr std::uint32_t kSnapshotMagic = 0x53534C44u;  // "DLSS"
constexpr std::uint8_t kSnapshotVersion = 1;

}  // namespace

std::int64_t physical_offset_of(std::uint64_t ledger_index, std::uint32_t batch_position) {
  return static_cast<std::int64_t>((ledger_index << kBatchPositionBits) | batch_position);
}

MessageLocation location_of(std::int64_t physical_offset) {
  auto raw = static_cast<std::uint64_t>(physical_offset);
  return MessageLocation{raw >> kBatchPositionBits,
                         static_cast<std::uint32_t>(raw & ((1u << kBatchPositionBits) - 1))};
}

const char* get_status_name(GetStatus status) {
  switch (status) {
    case GetStatus::kFound:
      return "FOUND";
    case GetStatus::kNoMessageInQueue:
      return "NO_MESSAGE_IN_QUEUE";
    case GetStatus::kOffsetTooSmall:
      return "OFFSET_TOO_SMALL";
    case GetStatus::kOffsetOverflowOne:
      return "OFFSET_OVERFLOW_ONE";
    case GetStatus::kOffsetOverflowBadly:
      return "OFFSET_OVERFLOW_BADLY";
    case GetStatus::kNoMatchedLogicQueue:
      return "NO_MATCHED_LOGIC_QUEUE";
  }
  return "UNKNOWN";
}

void StoreState::apply(std::uint64_t index, raft::EntryType type, std::string_view data) {
  if (index != applied_index_ + 1) {
    // A caller bug: entries must arrive in order without gaps.
    spdlog::critical("store: entry {} applied after {}; ignoring it", index, applied_index_);
    return;
  }
  if (type != raft::EntryType::kNormal) {
    applied_index_ = index;
    return;
  }
  if (is_put_entry(data)) {
    // Applying a put needs topic, queue and timestamp only: no copy of bodies or properties.
    auto put = decode_put_summary(data);
    if (put.ok()) {
      apply_put(index, put->topic, put->queue_id, put->store_timestamp_ms, put->count);
      applied_index_ = index;
      return;
    }
    skip_entry(index, data, put.error());
    return;
  }
  auto command = decode_command(data);
  if (!command.ok()) {
    skip_entry(index, data, command.error());
    return;
  }
  apply_command(index, *command);
}

void StoreState::skip_entry(std::uint64_t index, std::string_view data, const Error& error) {
  ++skipped_entries_;
  spdlog::error("store: ledger entry {} ({} bytes) is not a valid store command and is skipped: {}",
                index, data.size(), error.to_string());
  applied_index_ = index;
}

void StoreState::apply_command(std::uint64_t index, const StoreCommand& command) {
  std::visit(
      [&](const auto& c) {
        using T = std::decay_t<decltype(c)>;
        if constexpr (std::is_same_v<T, PutMessageCommand>) {
          apply_put(index, c.message.topic, c.message.queue_id, c.message.store_timestamp_ms, 1);
        } else if constexpr (std::is_same_v<T, PutBatchCommand>) {
          if (c.messages.empty()) return;
          // Validated: every message of a batch has the first one's topic and queue.
          apply_put(index, c.messages[0].topic, c.messages[0].queue_id,
                    c.messages[0].store_timestamp_ms,
                    static_cast<std::uint32_t>(c.messages.size()));
        } else if constexpr (std::is_same_v<T, UpdateTopicCommand>) {
          topics_[c.config.name] = c.config;
        } else if constexpr (std::is_same_v<T, DeleteTopicCommand>) {
          topics_.erase(c.topic);
          std::erase_if(offsets_, [&](const auto& kv) { return kv.first.topic == c.topic; });
          for (auto it = queues_.lower_bound(QueueKey{c.topic, 0});
               it != queues_.end() && it->first.first == c.topic; ++it) {
            it->second.entries.clear();
            it->second.min_offset = it->second.next_offset;  // offsets are never reused
          }
        } else {
          offsets_[ConsumerOffsetKey{c.group, c.topic, c.queue_id}] = c.offset;
        }
      },
      command);
  applied_index_ = index;
}

void StoreState::apply_put(std::uint64_t index, std::string_view topic, std::int32_t queue_id,
                           std::int64_t store_timestamp_ms, std::uint32_t count) {
  std::int64_t ts = std::max(store_timestamp_ms, last_store_timestamp_ms_);
  last_store_timestamp_ms_ = ts;
  ConsumeQueue& q = queues_[QueueKey{std::string(topic), queue_id}];
  for (std::uint32_t position = 0; position < count; ++position) {
    // Invariant (O(1) per message): entries follow ledger order with non-decreasing timestamps.
    assert(q.entries.empty() || q.entries.back().ledger_index < index ||
           (q.entries.back().ledger_index == index && q.entries.back().batch_position < position));
    assert(q.entries.empty() || q.entries.back().store_timestamp_ms <= ts);
    q.entries.push_back(ConsumeQueueEntry{index, position, ts});
    ++q.next_offset;
  }
}

std::optional<TopicConfig> StoreState::topic(const std::string& name) const {
  auto it = topics_.find(name);
  if (it == topics_.end()) return std::nullopt;
  return it->second;
}

std::vector<TopicConfig> StoreState::topics() const {
  std::vector<TopicConfig> out;
  out.reserve(topics_.size());
  for (const auto& [name, config] : topics_) out.push_back(config);
  return out;
}

std::optional<std::int64_t> StoreState::consumer_offset(const ConsumerOffsetKey& key) const {
  auto it = offsets_.find(key);
  if (it == offsets_.end()) return std::nullopt;
  return it->second;
}

const StoreState::ConsumeQueue* StoreState::find_queue(const std::string& topic,
                                                       std::int32_t queue_id) const {
  auto it = queues_.find(QueueKey{topic, queue_id});
  return it == queues_.end() ? nullptr : &it->second;
}

bool StoreState::has_queue(const std::string& topic, std::int32_t queue_id) const {
  return find_queue(topic, queue_id) != nullptr;
}

std::int64_t StoreState::min_offset(const std::string& topic, std::int32_t queue_id) const {
  const ConsumeQueue* q = find_queue(topic, queue_id);
  return q ? q->min_offset : 0;
}

std::int64_t StoreState::max_offset(const std::string& topic, std::int32_t queue_id) const {
  const ConsumeQueue* q = find_queue(topic, queue_id);
  return q ? q->next_offset : 0;
}

std::optional<std::int64_t> StoreState::earliest_store_time(const std::string& topic,
                                                            std::int32_t queue_id) const {
  const ConsumeQueue* q = find_queue(topic, queue_id);
  if (!q || q->entries.empty()) return std::nullopt;
  return q->entries.front().store_timestamp_ms;
}

std::optional<std::int64_t> StoreState::store_time_at(const std::string& topic,
                                                      std::int32_t queue_id,
                                                      std::int64_t offset) const {
  const ConsumeQueue* q = find_queue(topic, queue_id);
  if (!q || offset < q->min_offset || offset >= q->next_offset) return std::nullopt;
  auto position = static_cast<std::size_t>(offset - q->min_offset);
  if (position >= q->entries.size()) return std::nullopt;
  return q->entries[position].store_timestamp_ms;
}

std::int64_t StoreState::search_offset_by_timestamp(const std::string& topic, std::int32_t queue_id,
                                                    std::int64_t timestamp_ms) const {
  const ConsumeQueue* q = find_queue(topic, queue_id);
  if (!q) return 0;
  auto it = std::lower_bound(
      q->entries.begin(), q->entries.end(), timestamp_ms,
      [](const ConsumeQueueEntry& e, std::int64_t ts) { return e.store_timestamp_ms < ts; });
  return q->min_offset + static_cast<std::int64_t>(it - q->entries.begin());
}

ReadPlan StoreState::plan_read(const std::string& topic, std::int32_t queue_id, std::int64_t offset,
                               std::uint32_t max_count) const {
  ReadPlan plan;
  const ConsumeQueue* q = find_queue(topic, queue_id);
  if (!q) {
    plan.status = GetStatus::kNoMatchedLogicQueue;
    plan.next_begin_offset = 0;
    return plan;
  }
  plan.min_offset = q->min_offset;
  plan.max_offset = q->next_offset;
  if (q->entries.empty()) {
    plan.status = GetStatus::kNoMessageInQueue;
    plan.next_begin_offset = q->next_offset;
    if (offset == q->next_offset) plan.status = GetStatus::kOffsetOverflowOne;
    return plan;
  }
  if (offset < q->min_offset) {
    plan.status = GetStatus::kOffsetTooSmall;
    plan.next_begin_offset = q->min_offset;
    return plan;
  }
  if (offset == q->next_offset) {
    plan.status = GetStatus::kOffsetOverflowOne;
    plan.next_begin_offset = offset;
    return plan;
  }
  if (offset > q->next_offset) {
    plan.status = GetStatus::kOffsetOverflowBadly;
    plan.next_begin_offset = q->next_offset;
    return plan;
  }
  plan.status = GetStatus::kFound;
  auto first = static_cast<std::size_t>(offset - q->min_offset);
  std::size_t count = std::min<std::size_t>(max_count, q->entries.size() - first);
  plan.entries.reserve(count);
  for (std::size_t i = 0; i < count; ++i) {
    plan.entries.emplace_back(offset + static_cast<std::int64_t>(i), q->entries[first + i]);
  }
  plan.next_begin_offset = offset + static_cast<std::int64_t>(count);
  return plan;
}

std::optional<std::int64_t> StoreState::queue_offset_of(const std::string& topic,
                                                        std::int32_t queue_id,
                                                        MessageLocation location) const {
  const ConsumeQueue* q = find_queue(topic, queue_id);
  if (!q) return std::nullopt;
  auto it = std::lower_bound(
      q->entries.begin(), q->entries.end(), location,
      [](const ConsumeQueueEntry& e, const MessageLocation& l) {
        return e.ledger_index < l.ledger_index ||
               (e.ledger_index == l.ledger_index && e.batch_position < l.batch_position);
      });
  if (it == q->entries.end() || it->ledger_index != location.ledger_index ||
      it->batch_position != location.batch_position) {
    return std::nullopt;
  }
  return q->min_offset + static_cast<std::int64_t>(it - q->entries.begin());
}

std::uint64_t StoreState::oldest_ledger_index() const {
  std::uint64_t oldest = 0;
  for (const auto& [key, q] : queues_) {
    if (q.entries.empty()) continue;
    std::uint64_t front = q.entries.front().ledger_index;
    if (oldest == 0 || front < oldest) oldest = front;
  }
  return oldest;
}

void StoreState::trim_before(std::uint64_t first_ledger_index) {
  for (auto& [key, q] : queues_) {
    while (!q.entries.empty() && q.entries.front().ledger_index < first_ledger_index) {
      q.entries.pop_front();
      ++q.min_offset;
    }
  }
}

std::string StoreState::save_snapshot(std::uint64_t snapshot_index) const {
  std::string out;
  ByteWriter w(&out);
  w.u32(kSnapshotMagic);
  w.u8(kSnapshotVersion);
  w.u8(0);
  w.u16(0);
  w.u64(snapshot_index);
  w.u64(applied_index_);
  w.i64(last_store_timestamp_ms_);
  w.u64(skipped_entries_);
  w.u32(static_cast<std::uint32_t>(topics_.size()));
  for (const auto& [name, c] : topics_) {
    w.blob16(c.name);
    w.i32(c.read_queue_nums);
    w.i32(c.write_queue_nums);
    w.i32(c.perm);
    w.i32(c.topic_sys_flag);
  }
  w.u32(static_cast<std::uint32_t>(offsets_.size()));
  for (const auto& [key, offset] : offsets_) {
    w.blob16(key.group);
    w.blob16(key.topic);
    w.i32(key.queue_id);
    w.i64(offset);
  }
  w.u32(static_cast<std::uint32_t>(queues_.size()));
  for (const auto& [key, q] : queues_) {
    auto first = std::upper_bound(
        q.entries.begin(), q.entries.end(), snapshot_index,
        [](std::uint64_t index, const ConsumeQueueEntry& e) { return index < e.ledger_index; });
    auto kept = static_cast<std::size_t>(q.entries.end() - first);
    w.blob16(key.first);
    w.i32(key.second);
    w.i64(q.next_offset - static_cast<std::int64_t>(kept));
    w.i64(q.next_offset);
    w.u32(static_cast<std::uint32_t>(kept));
    for (auto it = first; it != q.entries.end(); ++it) {
      w.u64(it->ledger_index);
      w.u32(it->batch_position);
      w.i64(it->store_timestamp_ms);
    }
  }
  w.u32(crc32c(out));
  return out;
}

Result<StoreState> StoreState::load_snapshot(std::string_view data) {
  auto corrupt = [](std::string message) {
    return make_error(ErrorCode::kCorruption, "store snapshot: " + std::move(message));
  };
  if (data.size() < 44) {
    return corrupt("only " + std::to_string(data.size()) + " bytes, shorter than the header");
  }
  ByteReader crc_reader(data.substr(data.size() - 4));
  std::uint32_t stored_crc = crc_reader.u32();
  std::string_view body = data.substr(0, data.size() - 4);
  if (crc32c(body) != stored_crc) {
    return corrupt("CRC32C mismatch (checksum at offset " + std::to_string(data.size() - 4) + ")");
  }
  ByteReader r(body);
  if (r.u32() != kSnapshotMagic) return corrupt("bad magic at offset 0");
  std::uint8_t version = r.u8();
  if (version != kSnapshotVersion) {
    return corrupt("unsupported version " + std::to_string(version) + " at offset 4");
  }
  r.u8();
  r.u16();
  StoreState state;
  r.u64();  // snapshot index: informational, the entries kept are already above it
  state.applied_index_ = r.u64();
  state.last_store_timestamp_ms_ = r.i64();
  state.skipped_entries_ = r.u64();
  std::uint32_t n_topics = r.u32();
  for (std::uint32_t i = 0; i < n_topics && r.ok(); ++i) {
    TopicConfig c;
    c.name = std::string(r.blob16());
    c.read_queue_nums = r.i32();
    c.write_queue_nums = r.i32();
    c.perm = r.i32();
    c.topic_sys_flag = r.i32();
    if (!r.ok()) break;
    if (Status s = validate_topic_config(c); !s.ok()) {
      return corrupt("topic " + std::to_string(i) + " near offset " + std::to_string(r.position()) +
                     ": " + s.error().message);
    }
    state.topics_[c.name] = c;
  }
  std::uint32_t n_offsets = r.u32();
  for (std::uint32_t i = 0; i < n_offsets && r.ok(); ++i) {
    ConsumerOffsetKey key;
    key.group = std::string(r.blob16());
    key.topic = std::string(r.blob16());
    key.queue_id = r.i32();
    std::int64_t offset = r.i64();
    if (r.ok()) state.offsets_[key] = offset;
  }
  std::uint32_t n_queues = r.u32();
  for (std::uint32_t i = 0; i < n_queues && r.ok(); ++i) {
    std::string topic = std::string(r.blob16());
    std::int32_t queue_id = r.i32();
    ConsumeQueue q;
    q.min_offset = r.i64();
    q.next_offset = r.i64();
    std::uint32_t n_entries = r.u32();
    if (!r.ok()) break;
    if (n_entries > r.remaining() / 20 || q.min_offset < 0 ||
        q.next_offset - q.min_offset != static_cast<std::int64_t>(n_entries)) {
      return corrupt("queue " + topic + "/" + std::to_string(queue_id) + " near offset " +
                     std::to_string(r.position()) + " has inconsistent bounds");
    }
    for (std::uint32_t j = 0; j < n_entries && r.ok(); ++j) {
      ConsumeQueueEntry e;
      e.ledger_index = r.u64();
      e.batch_position = r.u32();
      e.store_timestamp_ms = r.i64();
      q.entries.push_back(e);
    }
    state.queues_[QueueKey{std::move(topic), queue_id}] = std::move(q);
  }
  if (!r.ok()) return corrupt("truncated near offset " + std::to_string(r.position()));
  if (!r.at_end()) {
    return corrupt(std::to_string(r.remaining()) + " trailing bytes at offset " +
                   std::to_string(r.position()));
  }
  std::string violation = state.check_invariants();
  if (!violation.empty()) return corrupt(violation);
  return state;
}

std::string StoreState::check_invariants() const {
  for (const auto& [key, q] : queues_) {
    std::string name = key.first + "/" + std::to_string(key.second);
    if (q.next_offset - q.min_offset != static_cast<std::int64_t>(q.entries.size())) {
      return "queue " + name + ": next offset " + std::to_string(q.next_offset) + " - min offset " +
             std::to_string(q.min_offset) + " != " + std::to_string(q.entries.size()) + " entries";
    }
    for (std::size_t i = 0; i < q.entries.size(); ++i) {
      const auto& e = q.entries[i];
      if (e.ledger_index > applied_index_) {
        return "queue " + name + ": entry points at ledger index " +
               std::to_string(e.ledger_index) + " above the applied index " +
               std::to_string(applied_index_);
      }
      if (i > 0) {
        const auto& p = q.entries[i - 1];
        bool increasing = p.ledger_index < e.ledger_index ||
                          (p.ledger_index == e.ledger_index && p.batch_position < e.batch_position);
        if (!increasing) {
          return "queue " + name + ": entries at queue offsets " +
                 std::to_string(q.min_offset + static_cast<std::int64_t>(i) - 1) + " and " +
                 std::to_string(q.min_offset + static_cast<std::int64_t>(i)) +
                 " are not in ledger order";
        }
        if (p.store_timestamp_ms > e.store_timestamp_ms) {
          return "queue " + name + ": store timestamps go back at queue offset " +
                 std::to_string(q.min_offset + static_cast<std::int64_t>(i));
        }
      }
    }
  }
  return "";
}

}  // namespace dledger::store
