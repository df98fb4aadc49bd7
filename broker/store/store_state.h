// StoreState: the message store's deterministic state machine. It is fed committed ledger entries
// in index order (apply) and holds everything derived from them:
//
//   topic table        name -> TopicConfig                         (UpdateTopic / DeleteTopic)
//   consumer offsets   (group, topic, queueId) -> offset           (CommitOffset)
//   consume queues     (topic, queueId) -> dense queue offsets min..next-1, each pointing at
//                      (ledger index, position in batch, store timestamp)   (PutMessage / PutBatch)
//
// Determinism: the state after apply(1..n) is a function of the entries 1..n only (no clocks, no
// host names, no randomness). Every replica applies the same committed entries and therefore holds
// the same state; tests compare fingerprint()s.
//
// Offsets and ids:
//   - queue offsets are dense per (topic, queueId) and never reused: a DeleteTopic empties the
//     queues but keeps their next offset; retention raises min offsets only.
//   - physical offset = ledger index << 20 | position in batch (kBatchPositionBits); unique for
//     the message's lifetime and the same on every replica. msgId = store host + physical offset.
//   - store timestamps: the leader writes its clock into the entry; apply uses
//     max(entry timestamp, last applied store timestamp) so timestamps never go back inside the
//     store (search by timestamp is a binary search) and are identical on all replicas.
//
// Corrupt entries (bad magic, CRC, field) and kNoOp/kConfig entries only advance the applied
// index; corrupt ones are logged with their index and counted in skipped_entries().
//
// Not thread-safe: MessageStore guards it with a reader/writer lock.
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <tuple>
#include <utility>
#include <vector>

#include "broker/base/result.h"
#include "broker/ledger/raft/types.h"
#include "broker/store/store_command.h"

namespace dledger::store {

inline constexpr int kBatchPositionBits = 20;

// Physical offset of the message at `batch_position` of ledger entry `ledger_index`.
std::int64_t physical_offset_of(std::uint64_t ledger_index, std::uint32_t batch_position);
struct MessageLocation {
  std::uint64_t ledger_index = 0;
  std::uint32_t batch_position = 0;
  bool operator==(const MessageLocation&) const = default;
};
MessageLocation location_of(std::int64_t physical_offset);

struct ConsumeQueueEntry {
  std::uint64_t ledger_index = 0;
  std::uint32_t batch_position = 0;
  std::int64_t store_timestamp_ms = 0;
  bool operator==(const ConsumeQueueEntry&) const = default;
};

// RocketMQ GetMessageStatus values the front end maps to pull reply codes.
enum class GetStatus {
  kFound,
  kNoMessageInQueue,     // queue exists but holds nothing (min == max)
  kOffsetTooSmall,       // offset < min offset (removed by retention or DeleteTopic)
  kOffsetOverflowOne,    // offset == max offset: nothing new yet (long-poll)
  kOffsetOverflowBadly,  // offset > max offset
  kNoMatchedLogicQueue,  // no such (topic, queueId)
};
const char* get_status_name(GetStatus status);

// What a read of a consume queue found: entries to materialize, plus the queue bounds.
struct ReadPlan {
  GetStatus status = GetStatus::kNoMatchedLogicQueue;
  std::int64_t min_offset = 0;
  std::int64_t max_offset = 0;         // next offset to be written
  std::int64_t next_begin_offset = 0;  // where the consumer should continue if nothing is read
  std::vector<std::pair<std::int64_t, ConsumeQueueEntry>> entries;  // (queue offset, entry)
};

struct ConsumerOffsetKey {
  std::string group;
  std::string topic;
  std::int32_t queue_id = 0;
  auto operator<=>(const ConsumerOffsetKey&) const = default;
};

class StoreState {
 public:
  // Applies the committed entry at `index`, which must be applied_index() + 1.
  void apply(std::uint64_t index, raft::EntryType type, std::string_view data);
  // Applies an already decoded command (used by apply; exposed for tests).
  void apply_command(std::uint64_t index, const StoreCommand& command);

  std::uint64_t applied_index() const { return applied_index_; }
  std::uint64_t skipped_entries() const { return skipped_entries_; }
  std::int64_t last_store_timestamp_ms() const { return last_store_timestamp_ms_; }

  // Topics.
  std::optional<TopicConfig> topic(const std::string& name) const;
  std::vector<TopicConfig> topics() const;

  // Consumer offsets. nullopt when nothing was committed for the key.
  std::optional<std::int64_t> consumer_offset(const ConsumerOffsetKey& key) const;
  const std::map<ConsumerOffsetKey, std::int64_t>& consumer_offsets() const { return offsets_; }

  // Consume queues. Unknown queues report 0 for min and max.
  bool has_queue(const std::string& topic, std::int32_t queue_id) const;
  std::int64_t min_offset(const std::string& topic, std::int32_t queue_id) const;
  std::int64_t max_offset(const std::string& topic, std::int32_t queue_id) const;
  // Store timestamp of the oldest retained message; nullopt for an empty or unknown queue.
  std::optional<std::int64_t> earliest_store_time(const std::string& topic,
                                                  std::int32_t queue_id) const;
  // Store timestamp of the message at queue offset `offset`; nullopt when that offset is not
  // retained (below the min offset, at or past the max offset) or the queue is unknown.
  std::optional<std::int64_t> store_time_at(const std::string& topic, std::int32_t queue_id,
                                            std::int64_t offset) const;
  // The first retained queue offset whose store timestamp >= timestamp_ms; max offset when none.
  std::int64_t search_offset_by_timestamp(const std::string& topic, std::int32_t queue_id,
                                          std::int64_t timestamp_ms) const;
  // Up to max_count entries from `offset` on (see GetStatus for the edge cases).
  ReadPlan plan_read(const std::string& topic, std::int32_t queue_id, std::int64_t offset,
                     std::uint32_t max_count) const;
  // Queue offset of the message at (ledger_index, batch_position) in the given queue, if retained.
  std::optional<std::int64_t> queue_offset_of(const std::string& topic, std::int32_t queue_id,
                                              MessageLocation location) const;

  // Smallest ledger index any consume queue points at; 0 when all queues are empty.
  std::uint64_t oldest_ledger_index() const;
  // Retention: drops consume-queue entries pointing below `first_ledger_index` (their ledger
  // segments are gone). Min offsets rise accordingly; max offsets never change.
  void trim_before(std::uint64_t first_ledger_index);

  // Snapshot bytes for the ledger snapshot taken at `snapshot_index` (<= applied_index()).
  // Format (little-endian): u32 magic "DLSS", u8 version 1, u8 0, u16 0, u64 snapshot index,
  // u64 applied index, i64 last store timestamp, u64 skipped entries; u32 n topics
  // (str16 name, i32 read, i32 write, i32 perm, i32 sysflag); u32 n offsets (str16 group,
  // str16 topic, i32 queueId, i64 offset); u32 n queues (str16 topic, i32 queueId, i64 min,
  // i64 next, u32 n entries (u64 ledger index, u32 position, i64 store ts)); u32 CRC32C of all
  // preceding bytes. Only queue entries above `snapshot_index` are kept: a replica that installs
  // the snapshot has no ledger entries at or below it.
  std::string save_snapshot(std::uint64_t snapshot_index) const;
  // kCorruption (naming the byte offset) for damaged bytes.
  static Result<StoreState> load_snapshot(std::string_view data);

  // Byte-exact summary of the whole state (save_snapshot(0)); equal on replicas that applied the
  // same entries.
  std::string fingerprint() const { return save_snapshot(0); }

  // Invariants (checked by tests and debug builds): next == min + entries.size(); ledger indexes
  // strictly increase along each queue; no entry above applied_index(). Returns the first
  // violation, "" when none.
  std::string check_invariants() const;

 private:
  struct ConsumeQueue {
    std::int64_t min_offset = 0;
    std::int64_t next_offset = 0;
    std::deque<ConsumeQueueEntry> entries;
  };
  using QueueKey = std::pair<std::string, std::int32_t>;

  const ConsumeQueue* find_queue(const std::string& topic, std::int32_t queue_id) const;
  // Appends the `count` messages of put entry `index` to (topic, queue_id).
  void apply_put(std::uint64_t index, std::string_view topic, std::int32_t queue_id,
                 std::int64_t store_timestamp_ms, std::uint32_t count);
  // Counts and logs an entry that is not a valid store command; it only advances the index.
  void skip_entry(std::uint64_t index, std::string_view data, const Error& error);

  std::uint64_t applied_index_ = 0;
  std::uint64_t skipped_entries_ = 0;
  std::int64_t last_store_timestamp_ms_ = 0;
  std::map<std::string, TopicConfig> topics_;
  std::map<ConsumerOffsetKey, std::int64_t> offsets_;
  std::map<QueueKey, ConsumeQueue> queues_;
};

}  // namespace dledger::store
