// MessageStore: RocketMQ topics, queues, consume queues and consumer offsets on top of the
// replicated ledger. Runs on EVERY replica.
//
//   front end ──put_message / commit_offset / update_topic──▶ encode (leader stamps store time and
//        │                                                   store host) ─▶ LedgerServer::append
//        │                                                                        │ committed
//        │      ┌──────────── applier thread (one per replica) ◀── read + wait_for_commit
//        │      ▼
//        │   StoreState (topics, consumer offsets, consume queues) ── notifies put waiters and
//        │      ▲                                                     long-polling readers
//        └──get_messages / offsets / topics (shared lock; record bytes read from the ledger)
//
// Guarantees:
//   - Reads only see applied entries, and only committed entries are applied.
//   - put_* and commit/update/delete complete once the entry is committed AND applied here, so a
//     reader on this replica sees the effect right after the callback.
//   - An acknowledged offset commit is in the ledger: it survives leader changes.
//   - caught_up(): applied index == commit index. ready_as_master(): this replica leads and has
//     committed and applied the first entry of its term, hence every entry written under earlier
//     leaders (role passthrough rule; holds under steady writes, unlike "log end == commit").
//
// Errors (ErrorCode): kNotLeader (message names the leader; see leader_hint()), kOverloaded,
// kTimeout, kDiskFull, kStopped, kTransferring from the ledger; kNotFound for an unknown topic;
// kInvalidArgument for a bad field, a queueId >= writeQueueNums, a topic without write permission
// or a message larger than max_message_bytes.
//
// Lifetime: create, pass snapshot_hooks() to LedgerServer::start, then start(ledger). Call stop()
// before stopping the ledger. Callbacks may run on the ledger's consensus thread or on the applier
// thread: keep them short and do not call blocking MessageStore methods from them.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "broker/base/result.h"
#include "broker/ledger/server/ledger_server.h"
#include "broker/remoting/message_codec.h"
#include "broker/store/delay_levels.h"
#include "broker/store/store_command.h"
#include "broker/store/store_state.h"
#include "broker/store/stored_records.h"

namespace dledger::store {

struct MessageStoreOptions {
  // Written into every message this replica stores while leading; part of the msgId.
  remoting::HostAddress store_host = remoting::HostAddress::ipv4(127, 0, 0, 1, 10911);
  // Wall clock in ms for store timestamps (the leader's clock; injectable for tests).
  std::function<std::int64_t()> clock_ms;
  // Largest body + properties of one message, and of a whole batch.
  std::uint64_t max_message_bytes = 4u << 20;
  // Bytes the applier reads from the ledger per round.
  std::uint64_t apply_read_bytes = 4u << 20;
  // A committed put/commit whose local apply takes longer fails with kTimeout.
  std::chrono::milliseconds apply_timeout{10000};
  // How often the applier checks whether retention removed ledger entries.
  std::chrono::milliseconds retention_check_interval{1000};
  // How long a snapshot save waits for the applier to reach the snapshot index.
  std::chrono::milliseconds snapshot_apply_wait{30000};
  // storePathConsumeQueue: where the consume-queue checkpoint lives (state_checkpoint.h); empty
  // disables it. Written every checkpoint_interval when something was applied, and at stop().
  // On start a valid checkpoint replaces the rebuild of the entries it covers.
  std::string checkpoint_dir;
  std::chrono::milliseconds checkpoint_interval{60000};
  // Delay levels in ms (messageDelayLevel, delay_levels.h). put_message stores a message whose
  // DELAY property is > 0 in SCHEDULE_TOPIC_XXXX instead (after checking its real topic is
  // writable); a DelayScheduler moves it back when due. Empty: DELAY is ignored. Batches
  // (put_batch) are never delayed.
  std::vector<std::int64_t> delay_levels_ms = default_delay_levels_ms();
  // Optional: called (on a ledger thread) with the seconds from handing an entry to the ledger
  // until it committed, for every successful append (messages and other commands).
  // dledger-broker feeds dledger_append_latency_seconds with it. Must not block.
  std::function<void(double seconds)> on_append_committed;
};

struct PutResult {
  std::int32_t queue_id = 0;
  std::int64_t queue_offset = 0;     // of the first message
  std::int64_t physical_offset = 0;  // of the first message
  std::string msg_id;                // offset msgId of the first message
  std::vector<std::string> msg_ids;  // one per message (batch)
  std::uint64_t ledger_index = 0;
};
using PutCallback = std::function<void(Result<PutResult>)>;
using DoneCallback = std::function<void(Status)>;

struct GetMessagesResult {
  GetStatus status = GetStatus::kNoMatchedLogicQueue;
  std::string records;  // RocketMQ stored records back to back (pull reply body)
  std::uint32_t count = 0;
  std::int64_t min_offset = 0;
  std::int64_t max_offset = 0;
  std::int64_t next_begin_offset = 0;
  // Filtered reads only: entries the filter rejected. status kFound with count 0 and skipped > 0
  // means nothing matched up to next_begin_offset (RocketMQ NO_MATCHED_MESSAGE).
  std::uint32_t skipped = 0;
};

class MessageStore {
 public:
  explicit MessageStore(MessageStoreOptions options = {});
  ~MessageStore();
  MessageStore(const MessageStore&) = delete;
  MessageStore& operator=(const MessageStore&) = delete;

  // Hooks for LedgerServer::start: topic configs, consumer offsets and consume-queue positions go
  // into the ledger's snapshots and come back on install.
  ledger::SnapshotHooks snapshot_hooks();
  // Starts the applier over `ledger` (which must outlive stop()). Consume queues are restored from
  // the checkpoint when one is configured and valid, then rebuilt by applying the ledger's
  // committed entries after it (from the ledger's first index without one). kInvalidArgument if
  // started twice or with no ledger.
  Status start(ledger::LedgerServer* ledger);
  // Stops the applier; waiting callers fail with kStopped. Idempotent.
  void stop();

  // Leader only. `message.store_*` fields and the sysFlag IPv6 bits (0x10, 0x20) are set here.
  // Completes on another thread.
  void put_message(StoredMessage message, PutCallback done);
  // All messages must share topic and queueId (one ledger entry; offsets consecutive).
  void put_batch(std::vector<StoredMessage> messages, PutCallback done);
  Result<PutResult> put_message_sync(StoredMessage message);
  Result<PutResult> put_batch_sync(std::vector<StoredMessage> messages);

  // Up to max_count (at least 1) records from queue offset `offset`, at most max_bytes (at least
  // one record when any is available). Statuses as RocketMQ's GetMessageStatus.
  Result<GetMessagesResult> get_messages(const std::string& topic, std::int32_t queue_id,
                                         std::int64_t offset, std::uint32_t max_count,
                                         std::uint64_t max_bytes);
  // The same, returning only the messages `filter` accepts: looks at up to max_scan queue entries
  // (at least max_count) from `offset`; rejected ones are skipped but next_begin_offset moves past
  // them (see GetMessagesResult::skipped).
  Result<GetMessagesResult> get_messages(const std::string& topic, std::int32_t queue_id,
                                         std::int64_t offset, std::uint32_t max_count,
                                         std::uint64_t max_bytes, const MessageFilter& filter,
                                         std::uint32_t max_scan);
  // The message whose physical offset (the offset its offset msgId carries) is
  // `physical_offset`, as applied on this replica. kNotFound when no applied message has that
  // offset (never stored, not applied here yet, or removed by retention); kInvalidArgument for
  // a negative offset; kCorruption when its ledger entry is not a store command.
  Result<StoredMessage> message_at(std::int64_t physical_offset) const;
  // The same message as the record a consumer pulls (with its queue offset and store
  // timestamp): the body of a VIEW_MESSAGE_BY_ID reply. kNotFound also when its consume-queue
  // entry is gone (retention).
  Result<std::string> message_record_at(std::int64_t physical_offset) const;
  std::int64_t min_offset(const std::string& topic, std::int32_t queue_id) const;
  std::int64_t max_offset(const std::string& topic, std::int32_t queue_id) const;
  std::int64_t search_offset_by_timestamp(const std::string& topic, std::int32_t queue_id,
                                          std::int64_t timestamp_ms) const;
  std::optional<std::int64_t> earliest_store_time(const std::string& topic,
                                                  std::int32_t queue_id) const;
  // Store timestamp of the retained message at queue offset `offset` (StoreState::store_time_at).
  std::optional<std::int64_t> store_time_at(const std::string& topic, std::int32_t queue_id,
                                            std::int64_t offset) const;
  // Blocks until the queue's max offset exceeds `offset`, the timeout passes or the store stops;
  // true when a message at `offset` (or beyond) is available. For long-polling pulls.
  bool wait_for_message(const std::string& topic, std::int32_t queue_id, std::int64_t offset,
                        std::chrono::milliseconds timeout);

  // Consumer offsets: commit goes through the ledger (leader only).
  void commit_offset(const std::string& group, const std::string& topic, std::int32_t queue_id,
                     std::int64_t offset, DoneCallback done);
  Status commit_offset_sync(const std::string& group, const std::string& topic,
                            std::int32_t queue_id, std::int64_t offset);
  std::optional<std::int64_t> query_offset(const std::string& group, const std::string& topic,
                                           std::int32_t queue_id) const;
  // Every committed consumer offset (a copy of the applied state), ordered by key.
  std::vector<std::pair<ConsumerOffsetKey, std::int64_t>> consumer_offsets() const;

  // Topics (create or update / delete go through the ledger; leader only). The asynchronous
  // form calls `done` on another thread once the change is applied (or has failed); the
  // synchronous forms block until then and must not be called where blocking stalls others
  // (remoting io threads, the ledger's consensus thread).
  void update_topic(const TopicConfig& config, DoneCallback done);
  Status update_topic(const TopicConfig& config);
  Status delete_topic(const std::string& topic);
  std::optional<TopicConfig> topic(const std::string& name) const;
  std::vector<TopicConfig> topics() const;

  // messageDelayLevel in ms (MessageStoreOptions::delay_levels_ms).
  const std::vector<std::int64_t>& delay_levels_ms() const;

  // Progress and role.
  std::uint64_t applied_index() const;
  std::uint64_t commit_index() const;
  bool caught_up() const;
  bool is_leader() const;
  bool ready_as_master();
  // The leader this replica knows of. Cheap on every call (the send path of a follower asks for
  // every message it forwards): the leader's address is looked up in the ledger's status only
  // when the leader or the term changed since the last call.
  ledger::LeaderHint leader_hint();
  std::uint64_t skipped_entries() const;
  // Byte-exact summary of the state (StoreState::fingerprint), for replica comparisons.
  std::string state_fingerprint() const;

 private:
  struct Core;
  std::shared_ptr<Core> core_;
};

}  // namespace dledger::store
