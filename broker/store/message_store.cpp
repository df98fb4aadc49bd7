#include "broker/store/message_store.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <future>
#include <map>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <thread>

#include "broker/base/thread_name.h"
#include "broker/store/state_checkpoint.h"
#include "broker/store/stored_records.h"

namespace dledger::store {
namespace {

using Clock = std::chrono::steady_clock;

std::int64_t system_clock_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

Error stopped_error() {
  return make_error(ErrorCode::kStopped, "message store is not running");
}

}  // namespace

struct MessageStore::Core : std::enable_shared_from_this<MessageStore::Core> {
  // Completes a waiter once its ledger index is applied. Called with the state (read-locked), or
  // nullptr when the store stops or the apply timed out; returns the callback to run unlocked.
  using Finisher =
      std::function<std::function<void()>(const StoreState* state, const Error* error)>;
  struct ApplyWaiter {
    std::uint64_t index = 0;
    Clock::time_point deadline;
    Finisher finish;
  };

  explicit Core(MessageStoreOptions o) : options(std::move(o)) {
    if (!options.clock_ms) options.clock_ms = system_clock_ms;
  }

  MessageStoreOptions options;
  ledger::LedgerServer* ledger = nullptr;

  mutable std::shared_mutex state_mu;
  StoreState state;
  std::atomic<std::uint64_t> applied{0};
  std::atomic<std::uint64_t> commit{0};
  std::atomic<bool> leading{false};
  std::atomic<std::uint32_t> leader_id{raft::kNoNode};
  std::atomic<std::uint64_t> term{0};
  // leader_hint()'s answer for (cached_leader, cached_term), so that it asks the ledger (a call
  // answered on its consensus thread) once per leader and term, not once per forwarded message.
  std::mutex hint_mu;
  raft::NodeId cached_leader = raft::kNoNode;
  std::uint64_t cached_term = 0;
  std::string cached_leader_address;
  std::atomic<bool> stopping{false};
  std::atomic<bool> started{false};

  std::mutex waiters_mu;
  std::multimap<std::uint64_t, ApplyWaiter> waiters;  // by ledger index

  // Bumped after every applied batch (and on stop); long-pollers and snapshot saves wait on it.
  std::mutex progress_mu;
  std::condition_variable progress_cv;
  std::uint64_t progress_seq = 0;

  std::thread applier;
  std::uint64_t last_checkpoint_index = 0;  // applier thread (and start/stop around it)

  // ---- waiting for apply ----

  void wait_applied(std::uint64_t index, Finisher finish) {
    {
      std::lock_guard<std::mutex> lock(waiters_mu);
      if (applied.load() < index && !stopping.load()) {
        waiters.emplace(
            index, ApplyWaiter{index, Clock::now() + options.apply_timeout, std::move(finish)});
        return;
      }
    }
    run_finisher(finish, stopping.load() && applied.load() < index);
  }

  void run_finisher(const Finisher& finish, bool stopped) {
    std::function<void()> callback;
    if (stopped) {
      Error e = stopped_error();
      callback = finish(nullptr, &e);
    } else {
      std::shared_lock lock(state_mu);
      callback = finish(&state, nullptr);
    }
    if (callback) callback();
  }

  // Completes the waiters whose entry is applied; with `expire`, also fails the overdue ones
  // (a full scan, done once per applier round rather than per applied batch).
  void complete_waiters(bool expire = false) {
    std::vector<ApplyWaiter> ready;
    std::vector<ApplyWaiter> expired;
    auto now = Clock::now();
    {
      std::lock_guard<std::mutex> lock(waiters_mu);
      std::uint64_t done = applied.load();
      while (!waiters.empty() && waiters.begin()->first <= done) {
        ready.push_back(std::move(waiters.begin()->second));
        waiters.erase(waiters.begin());
      }
      if (expire) {
        for (auto it = waiters.begin(); it != waiters.end();) {
          if (now >= it->second.deadline) {
            expired.push_back(std::move(it->second));
            it = waiters.erase(it);
          } else {
            ++it;
          }
        }
      }
    }
    if (!ready.empty()) {
      // One read lock for the whole batch; the callbacks (replies) run after it is released.
      std::vector<std::function<void()>> callbacks;
      callbacks.reserve(ready.size());
      {
        std::shared_lock lock(state_mu);
        for (auto& w : ready) callbacks.push_back(w.finish(&state, nullptr));
      }
      for (auto& callback : callbacks) {
        if (callback) callback();
      }
    }
    for (auto& w : expired) {
      Error e = make_error(ErrorCode::kTimeout, "ledger entry " + std::to_string(w.index) +
                                                    " is committed but was not applied within " +
                                                    std::to_string(options.apply_timeout.count()) +
                                                    " ms (applied index " +
                                                    std::to_string(applied.load()) + ")");
      auto callback = w.finish(nullptr, &e);
      if (callback) callback();
    }
  }

  void fail_all_waiters() {
    std::multimap<std::uint64_t, ApplyWaiter> all;
    {
      std::lock_guard<std::mutex> lock(waiters_mu);
      all.swap(waiters);
    }
    for (auto& [index, w] : all) run_finisher(w.finish, applied.load() < index);
  }

  void announce_progress() {
    {
      std::lock_guard<std::mutex> lock(progress_mu);
      ++progress_seq;
    }
    progress_cv.notify_all();
  }

  // ---- applier ----

  // Restores the checkpoint if it is ahead of the current state (a snapshot may have been
  // installed already).
  void restore_checkpoint() {
    if (options.checkpoint_dir.empty()) return;
    auto loaded = read_state_checkpoint(options.checkpoint_dir);
    if (!loaded.ok()) {
      if (loaded.error().code != ErrorCode::kNotFound) {
        spdlog::warn(
            "store: ignoring the consume-queue checkpoint ({}); rebuilding from the ledger",
            loaded.error().to_string());
      }
      return;
    }
    std::unique_lock lock(state_mu);
    if (loaded->applied_index() <= state.applied_index()) return;
    state = std::move(loaded).value();
    applied.store(state.applied_index());
    last_checkpoint_index = state.applied_index();
    spdlog::info("store: restored consume queues from the checkpoint at ledger index {}",
                 state.applied_index());
  }

  void write_checkpoint() {
    if (options.checkpoint_dir.empty()) return;
    std::string bytes;
    std::uint64_t index = 0;
    {
      std::shared_lock lock(state_mu);
      index = state.applied_index();
      if (index == last_checkpoint_index) return;
      bytes = state.save_snapshot(0);
    }
    Status written = write_state_checkpoint(options.checkpoint_dir, bytes);
    if (!written.ok()) {
      spdlog::warn("store: cannot write the consume-queue checkpoint: {}",
                   written.error().to_string());
      return;
    }
    last_checkpoint_index = index;
  }

  void run_applier() {
    auto next_checkpoint = Clock::now() + options.checkpoint_interval;
    auto next_retention_check = Clock::now();
    bool reported_gap = false;
    while (!stopping.load()) {
      std::uint64_t next = applied.load() + 1;
      auto waited_from = Clock::now();
      std::uint64_t c = ledger->wait_for_commit(next - 1, std::chrono::milliseconds(100));
      if (c > commit.load()) commit.store(c);
      complete_waiters(/*expire=*/true);
      if (Clock::now() >= next_checkpoint) {
        write_checkpoint();
        next_checkpoint = Clock::now() + options.checkpoint_interval;
      }
      if (Clock::now() >= next_retention_check) {
        check_retention();
        next_retention_check = Clock::now() + options.retention_check_interval;
      }
      if (c < next) {
        // The ledger returns at once when it is stopped: do not spin.
        if (Clock::now() - waited_from < std::chrono::milliseconds(5)) {
          std::this_thread::sleep_for(std::chrono::milliseconds(20));
        }
        continue;
      }
      auto entries = ledger->read(next, options.apply_read_bytes);
      if (!entries.ok()) {
        if (entries.error().code == ErrorCode::kOutOfRange && skip_missing_prefix(next)) continue;
        if (!reported_gap) {
          spdlog::error("store: cannot read committed ledger entry {}: {}; retrying", next,
                        entries.error().to_string());
          reported_gap = true;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
        continue;
      }
      reported_gap = false;
      if (entries->empty()) continue;
      {
        std::unique_lock lock(state_mu);
        for (raft::EntryBatch::View e : *entries) {
          if (e.index <= state.applied_index()) continue;  // a snapshot load overtook this read
          if (e.index != state.applied_index() + 1) break;
          state.apply(e.index, e.type, e.data);
        }
        applied.store(state.applied_index());
      }
      complete_waiters();
      announce_progress();
    }
  }

  // The entry after the applied index is below the ledger's first index (entries were compacted
  // into a snapshot this store never loaded). Returns true when it skipped ahead.
  bool skip_missing_prefix(std::uint64_t next) {
    auto probe = ledger->get(next);
    if (probe.ok() || probe.error().code != ErrorCode::kOutOfRange) return false;
    std::uint64_t c = commit.load();
    if (next > c) return false;
    std::uint64_t first = first_readable(next, c);
    if (first == 0 || first <= next) return false;
    spdlog::critical(
        "store: ledger entries {}..{} are gone and no store snapshot covering them was loaded; "
        "consume queues continue at ledger index {} and queue offsets of messages before it are "
        "lost on this replica",
        next, first - 1, first);
    {
      std::unique_lock lock(state_mu);
      while (state.applied_index() + 1 < first) {
        state.apply(state.applied_index() + 1, raft::EntryType::kNoOp, {});
      }
      applied.store(state.applied_index());
    }
    complete_waiters();
    announce_progress();
    return true;
  }

  // Smallest readable index in [lo, hi] assuming everything below some point is gone; 0 if none.
  std::uint64_t first_readable(std::uint64_t lo, std::uint64_t hi) {
    auto readable = [&](std::uint64_t i) {
      auto r = ledger->get(i);
      return r.ok() || r.error().code != ErrorCode::kOutOfRange;
    };
    if (!readable(hi)) return 0;
    while (lo < hi) {
      std::uint64_t mid = lo + (hi - lo) / 2;
      if (readable(mid)) {
        hi = mid;
      } else {
        lo = mid + 1;
      }
    }
    return lo;
  }

  // Retention: when the oldest ledger entry a consume queue points at can no longer be read,
  // find the ledger's first readable index and drop the queue entries below it.
  void check_retention() {
    std::uint64_t oldest = 0;
    std::uint64_t upto = 0;
    {
      std::shared_lock lock(state_mu);
      oldest = oldest_referenced_index();
      upto = state.applied_index();
    }
    if (oldest == 0 || upto == 0) return;
    auto probe = ledger->get(oldest);
    if (probe.ok() || probe.error().code != ErrorCode::kOutOfRange) return;
    std::uint64_t first = first_readable(oldest, upto);
    if (first == 0) first = upto + 1;
    std::unique_lock lock(state_mu);
    state.trim_before(first);
    spdlog::info("store: ledger entries below {} were removed by retention; consume queues trimmed",
                 first);
  }

  // Smallest ledger index any consume queue still points at (0 when none).
  std::uint64_t oldest_referenced_index() const { return state.oldest_ledger_index(); }

  // ---- puts and commands ----

  Status check_writable(const std::vector<StoredMessage>& messages) {
    if (messages.empty()) {
      return make_error(ErrorCode::kInvalidArgument, "a batch needs at least one message");
    }
    std::uint64_t total = 0;
    for (const auto& m : messages) total += m.body.size() + m.properties.size();
    if (total > options.max_message_bytes) {
      return make_error(ErrorCode::kInvalidArgument, "message body and properties are " +
                                                         std::to_string(total) +
                                                         " bytes, more than the allowed " +
                                                         std::to_string(options.max_message_bytes));
    }
    const StoredMessage& first = messages.front();
    std::shared_lock lock(state_mu);
    auto config = state.topic(first.topic);
    if (!config) {
      return make_error(ErrorCode::kNotFound, "topic '" + first.topic + "' does not exist");
    }
    if ((config->perm & perm::kWrite) == 0) {
      return make_error(ErrorCode::kInvalidArgument, "topic '" + first.topic +
                                                         "' is not writable (perm " +
                                                         std::to_string(config->perm) + ")");
    }
    if (first.queue_id < 0 || first.queue_id >= config->write_queue_nums) {
      return make_error(ErrorCode::kInvalidArgument,
                        "queueId " + std::to_string(first.queue_id) + " of topic '" + first.topic +
                            "' is outside 0.." + std::to_string(config->write_queue_nums - 1) +
                            " (writeQueueNums)");
    }
    return Status();
  }

  Error not_leader_error() {
    ledger::LedgerStatus status = ledger->status();
    std::string message = "this replica is not the leader";
    if (status.leader_id != raft::kNoNode) {
      message += "; leader is " + raft::node_name(status.leader_id) +
                 (status.leader_address.empty() ? "" : " at " + status.leader_address);
    } else {
      message += "; no leader is known yet";
    }
    return make_error(ErrorCode::kNotLeader, message);
  }

  void put(std::vector<StoredMessage> messages, bool batch, PutCallback done) {
    if (!started.load() || stopping.load()) return done(stopped_error());
    // A follower's topic table may lag: answer NotLeader (with the leader) before judging topics.
    if (!leading.load()) return done(not_leader_error());
    if (Status s = check_writable(messages); !s.ok()) return done(s.error());
    if (!batch && !options.delay_levels_ms.empty() && messages.front().topic != kScheduleTopic) {
      // Delayed message: its real topic is writable (checked above); park it in the schedule
      // topic, which needs no topic config (delay_levels.h).
      auto level = delay_level_of(messages.front(), options.delay_levels_ms.size());
      if (!level.ok()) return done(level.error());
      if (*level > 0) {
        if (Status s = schedule_delayed(messages.front(), *level); !s.ok()) return done(s.error());
      }
    }
    std::int64_t now = options.clock_ms();
    for (auto& m : messages) {
      m.store_timestamp_ms = now;
      m.store_host = options.store_host;
      // The IPv6 bits describe the hosts; derive them so the record always encodes.
      m.sys_flag &=
          ~(remoting::message_sys_flag::kStoreHostV6 | remoting::message_sys_flag::kBornHostV6);
      if (m.store_host.is_ipv6()) m.sys_flag |= remoting::message_sys_flag::kStoreHostV6;
      if (m.born_host.is_ipv6()) m.sys_flag |= remoting::message_sys_flag::kBornHostV6;
    }
    std::string topic = messages.front().topic;
    std::int32_t queue_id = messages.front().queue_id;
    auto count = static_cast<std::uint32_t>(messages.size());
    StoreCommand command = batch ? StoreCommand(PutBatchCommand{std::move(messages)})
                                 : StoreCommand(PutMessageCommand{std::move(messages.front())});
    auto data = encode_command(command);
    if (!data.ok()) return done(data.error());
    remoting::HostAddress host = options.store_host;
    auto self = shared_from_this();
    const auto started_at = std::chrono::steady_clock::now();
    ledger->append(std::move(data).value(), [self, topic = std::move(topic), queue_id, count, host,
                                             started_at, done = std::move(done)](
                                                Result<ledger::AppendResult> appended) mutable {
      if (!appended.ok()) return done(appended.error());
      self->observe_append(started_at);
      std::uint64_t index = appended->index;
      self->wait_applied(
          index,
          // Called once: moves `done` into the callback it returns.
          [topic = std::move(topic), queue_id, count, host, index, done = std::move(done)](
              const StoreState* applied_state,
              const Error* error) mutable -> std::function<void()> {
            if (error) return [done = std::move(done), e = *error] { done(e); };
            PutResult result;
            result.queue_id = queue_id;
            result.ledger_index = index;
            result.msg_ids.reserve(count);
            for (std::uint32_t i = 0; i < count; ++i) {
              auto offset =
                  applied_state->queue_offset_of(topic, queue_id, MessageLocation{index, i});
              if (!offset) {
                Error e = make_error(
                    ErrorCode::kInternal,
                    "ledger entry " + std::to_string(index) + " was applied but its message " +
                        std::to_string(i) + " is not in queue " + topic + "/" +
                        std::to_string(queue_id) + " (topic deleted or retention ran meanwhile)");
                return [done = std::move(done), e] { done(e); };
              }
              std::int64_t physical = physical_offset_of(index, i);
              if (i == 0) {
                result.queue_offset = *offset;
                result.physical_offset = physical;
              }
              result.msg_ids.push_back(remoting::encode_offset_msg_id(host, physical));
            }
            result.msg_id = result.msg_ids.front();
            return [done = std::move(done), result = std::move(result)]() mutable {
              done(std::move(result));
            };
          });
    });
  }

  void observe_append(std::chrono::steady_clock::time_point started_at) const {
    if (!options.on_append_committed) return;
    options.on_append_committed(
        std::chrono::duration<double>(std::chrono::steady_clock::now() - started_at).count());
  }

  // Appends a non-message command and completes once applied.
  void submit(const StoreCommand& command, DoneCallback done) {
    if (!started.load() || stopping.load()) return done(stopped_error());
    auto data = encode_command(command);
    if (!data.ok()) return done(data.error());
    auto self = shared_from_this();
    const auto started_at = std::chrono::steady_clock::now();
    ledger->append(std::move(data).value(), [self, started_at, done = std::move(done)](
                                                Result<ledger::AppendResult> appended) mutable {
      if (!appended.ok()) return done(appended.error());
      self->observe_append(started_at);
      self->wait_applied(
          appended->index,
          [done = std::move(done)](const StoreState*,
                                   const Error* error) mutable -> std::function<void()> {
            if (error) return [done = std::move(done), e = *error] { done(e); };
            return [done = std::move(done)] { done(Status()); };
          });
    });
  }

  Status submit_sync(const StoreCommand& command) {
    std::promise<Status> promise;
    auto future = promise.get_future();
    submit(command, [&promise](Status s) { promise.set_value(std::move(s)); });
    return future.get();
  }

  // ---- snapshots ----

  std::string save_snapshot(std::uint64_t index) {
    std::unique_lock lock(progress_mu);
    bool reached = progress_cv.wait_for(lock, options.snapshot_apply_wait, [&] {
      return applied.load() >= index || stopping.load() || !started.load();
    });
    lock.unlock();
    std::shared_lock state_lock(state_mu);
    if (!reached || state.applied_index() < index) {
      spdlog::error(
          "store: snapshot at ledger index {} taken while only {} entries are applied; a replica "
          "installing it re-applies from {}",
          index, state.applied_index(), state.applied_index() + 1);
    }
    return state.save_snapshot(index);
  }

  void load_snapshot(std::uint64_t index, const std::string& data) {
    auto loaded = StoreState::load_snapshot(data);
    if (!loaded.ok()) {
      spdlog::critical("store: cannot load the store snapshot of ledger index {}: {}", index,
                       loaded.error().to_string());
      return;
    }
    {
      std::unique_lock lock(state_mu);
      state = std::move(loaded).value();
      applied.store(state.applied_index());
    }
    spdlog::info("store: loaded snapshot of ledger index {} (store state at index {})", index,
                 applied.load());
    complete_waiters();
    announce_progress();
  }
};

// ---------------------------------------------------------------------------------------------

MessageStore::MessageStore(MessageStoreOptions options)
    : core_(std::make_shared<Core>(std::move(options))) {}

MessageStore::~MessageStore() {
  stop();
}

ledger::SnapshotHooks MessageStore::snapshot_hooks() {
  ledger::SnapshotHooks hooks;
  std::weak_ptr<Core> weak = core_;
  hooks.save = [weak](std::uint64_t index) -> std::string {
    auto core = weak.lock();
    return core ? core->save_snapshot(index) : std::string();
  };
  hooks.load = [weak](std::uint64_t index, const std::string& data) {
    if (auto core = weak.lock()) core->load_snapshot(index, data);
  };
  return hooks;
}

Status MessageStore::start(ledger::LedgerServer* ledger) {
  if (!ledger) return make_error(ErrorCode::kInvalidArgument, "message store needs a ledger");
  if (core_->started.exchange(true)) {
    return make_error(ErrorCode::kInvalidArgument, "message store already started");
  }
  core_->ledger = ledger;
  std::weak_ptr<Core> weak = core_;
  ledger->on_soft_state_change([weak](const raft::SoftState& soft) {
    if (auto core = weak.lock()) {
      core->leading.store(soft.role == raft::Role::kLeader);
      core->leader_id.store(soft.leader);
      core->term.store(soft.term);
    }
  });
  ledger->on_commit([weak](std::uint64_t commit_index) {
    if (auto core = weak.lock()) {
      if (commit_index > core->commit.load()) core->commit.store(commit_index);
    }
  });
  ledger::LedgerStatus status = ledger->status();
  core_->leading.store(status.role == raft::Role::kLeader);
  core_->leader_id.store(status.leader_id);
  core_->term.store(status.term);
  if (status.commit_index > core_->commit.load()) core_->commit.store(status.commit_index);
  core_->restore_checkpoint();
  core_->applier = named_thread("store-apply", [core = core_.get()] { core->run_applier(); });
  return Status();
}

void MessageStore::stop() {
  if (core_->stopping.exchange(true)) return;
  core_->announce_progress();
  if (core_->applier.joinable()) {
    core_->applier.join();
    core_->write_checkpoint();
  }
  core_->fail_all_waiters();
}

void MessageStore::put_message(StoredMessage message, PutCallback done) {
  std::vector<StoredMessage> one;
  one.push_back(std::move(message));
  core_->put(std::move(one), false, std::move(done));
}

void MessageStore::put_batch(std::vector<StoredMessage> messages, PutCallback done) {
  core_->put(std::move(messages), true, std::move(done));
}

Result<PutResult> MessageStore::put_message_sync(StoredMessage message) {
  std::promise<Result<PutResult>> promise;
  auto future = promise.get_future();
  put_message(std::move(message),
              [&promise](Result<PutResult> r) { promise.set_value(std::move(r)); });
  return future.get();
}

Result<PutResult> MessageStore::put_batch_sync(std::vector<StoredMessage> messages) {
  std::promise<Result<PutResult>> promise;
  auto future = promise.get_future();
  put_batch(std::move(messages),
            [&promise](Result<PutResult> r) { promise.set_value(std::move(r)); });
  return future.get();
}

Result<GetMessagesResult> MessageStore::get_messages(const std::string& topic,
                                                     std::int32_t queue_id, std::int64_t offset,
                                                     std::uint32_t max_count,
                                                     std::uint64_t max_bytes) {
  return get_messages(topic, queue_id, offset, max_count, max_bytes, MessageFilter(), max_count);
}

Result<GetMessagesResult> MessageStore::get_messages(
    const std::string& topic, std::int32_t queue_id, std::int64_t offset, std::uint32_t max_count,
    std::uint64_t max_bytes, const MessageFilter& filter, std::uint32_t max_scan) {
  if (!core_->started.load()) return stopped_error();
  max_count = std::max<std::uint32_t>(max_count, 1);
  max_scan = std::max(max_scan, max_count);
  ReadPlan plan;
  {
    std::shared_lock lock(core_->state_mu);
    plan = core_->state.plan_read(topic, queue_id, offset, filter ? max_scan : max_count);
  }
  GetMessagesResult result;
  result.status = plan.status;
  result.min_offset = plan.min_offset;
  result.max_offset = plan.max_offset;
  result.next_begin_offset = plan.next_begin_offset;
  if (plan.status != GetStatus::kFound) return result;
  ledger::LedgerServer* ledger = core_->ledger;
  auto built = build_stored_records(
      plan,
      [ledger](std::uint64_t index) -> Result<std::string> {
        auto entry = ledger->get(index);
        if (!entry.ok()) return entry.error();
        return std::move(entry->data);
      },
      max_bytes, filter, max_count);
  if (!built.ok()) {
    if (built.error().code == ErrorCode::kOutOfRange) {
      // Retention removed the entry after the plan was made.
      result.status = GetStatus::kOffsetTooSmall;
      std::shared_lock lock(core_->state_mu);
      result.min_offset = core_->state.min_offset(topic, queue_id);
      result.next_begin_offset = std::max(result.min_offset, offset + 1);
      return result;
    }
    return built.error();
  }
  result.records = std::move(built->records);
  result.count = built->count;
  result.skipped = built->skipped;
  result.next_begin_offset = built->next_begin_offset;
  return result;
}

Result<StoredMessage> MessageStore::message_at(std::int64_t physical_offset) const {
  if (!core_->started.load()) return stopped_error();
  if (physical_offset < 0) {
    return invalid_argument("physical offset " + std::to_string(physical_offset) + " is negative");
  }
  const MessageLocation location = location_of(physical_offset);
  auto not_found = [&](const std::string& why) {
    return make_error(ErrorCode::kNotFound,
                      "no message at physical offset " + std::to_string(physical_offset) +
                          " (ledger entry " + std::to_string(location.ledger_index) +
                          ", position " + std::to_string(location.batch_position) + "): " + why);
  };
  // Reads never expose what this replica has not applied.
  if (location.ledger_index == 0 || location.ledger_index > core_->applied.load()) {
    return not_found("not applied on this replica");
  }
  auto entry = core_->ledger->get(location.ledger_index);
  if (!entry.ok()) {
    if (entry.error().code == ErrorCode::kOutOfRange) return not_found("removed by retention");
    return entry.error();
  }
  auto command = decode_command(entry->data);
  if (!command.ok()) {
    return make_error(
        ErrorCode::kCorruption,
        "ledger entry " + std::to_string(location.ledger_index) + ": " + command.error().message);
  }
  const StoredMessage* message = store::message_at(*command, location.batch_position);
  if (message == nullptr) return not_found("that entry holds no message there");
  return *message;
}

Result<std::string> MessageStore::message_record_at(std::int64_t physical_offset) const {
  auto message = message_at(physical_offset);
  if (!message.ok()) return message.error();
  std::optional<std::int64_t> queue_offset;
  std::optional<std::int64_t> store_time;
  {
    std::shared_lock lock(core_->state_mu);
    queue_offset = core_->state.queue_offset_of(message->topic, message->queue_id,
                                                location_of(physical_offset));
    if (queue_offset) {
      store_time = core_->state.store_time_at(message->topic, message->queue_id, *queue_offset);
    }
  }
  if (!queue_offset || !store_time) {
    return make_error(ErrorCode::kNotFound,
                      "the message at physical offset " + std::to_string(physical_offset) +
                          " is no longer in consume queue " + message->topic + ":" +
                          std::to_string(message->queue_id) + " (retention)");
  }
  std::string record;
  Status encoded = remoting::append_message_record(
      to_message_record(*message, *queue_offset, physical_offset, *store_time), &record);
  if (!encoded.ok()) return encoded.error();
  return record;
}

std::int64_t MessageStore::min_offset(const std::string& topic, std::int32_t queue_id) const {
  std::shared_lock lock(core_->state_mu);
  return core_->state.min_offset(topic, queue_id);
}

std::int64_t MessageStore::max_offset(const std::string& topic, std::int32_t queue_id) const {
  std::shared_lock lock(core_->state_mu);
  return core_->state.max_offset(topic, queue_id);
}

std::int64_t MessageStore::search_offset_by_timestamp(const std::string& topic,
                                                      std::int32_t queue_id,
                                                      std::int64_t timestamp_ms) const {
  std::shared_lock lock(core_->state_mu);
  return core_->state.search_offset_by_timestamp(topic, queue_id, timestamp_ms);
}

std::optional<std::int64_t> MessageStore::earliest_store_time(const std::string& topic,
                                                              std::int32_t queue_id) const {
  std::shared_lock lock(core_->state_mu);
  return core_->state.earliest_store_time(topic, queue_id);
}

std::optional<std::int64_t> MessageStore::store_time_at(const std::string& topic,
                                                        std::int32_t queue_id,
                                                        std::int64_t offset) const {
  std::shared_lock lock(core_->state_mu);
  return core_->state.store_time_at(topic, queue_id, offset);
}

bool MessageStore::wait_for_message(const std::string& topic, std::int32_t queue_id,
                                    std::int64_t offset, std::chrono::milliseconds timeout) {
  auto deadline = Clock::now() + timeout;
  while (true) {
    std::uint64_t seq = 0;
    {
      std::lock_guard<std::mutex> lock(core_->progress_mu);
      seq = core_->progress_seq;
    }
    if (max_offset(topic, queue_id) > offset) return true;
    if (core_->stopping.load()) return false;
    std::unique_lock<std::mutex> lock(core_->progress_mu);
    if (!core_->progress_cv.wait_until(
            lock, deadline, [&] { return core_->progress_seq != seq || core_->stopping.load(); })) {
      lock.unlock();
      return max_offset(topic, queue_id) > offset;
    }
  }
}

void MessageStore::commit_offset(const std::string& group, const std::string& topic,
                                 std::int32_t queue_id, std::int64_t offset, DoneCallback done) {
  core_->submit(CommitOffsetCommand{group, topic, queue_id, offset}, std::move(done));
}

Status MessageStore::commit_offset_sync(const std::string& group, const std::string& topic,
                                        std::int32_t queue_id, std::int64_t offset) {
  return core_->submit_sync(CommitOffsetCommand{group, topic, queue_id, offset});
}

std::optional<std::int64_t> MessageStore::query_offset(const std::string& group,
                                                       const std::string& topic,
                                                       std::int32_t queue_id) const {
  std::shared_lock lock(core_->state_mu);
  return core_->state.consumer_offset(ConsumerOffsetKey{group, topic, queue_id});
}

const std::vector<std::int64_t>& MessageStore::delay_levels_ms() const {
  return core_->options.delay_levels_ms;
}

std::vector<std::pair<ConsumerOffsetKey, std::int64_t>> MessageStore::consumer_offsets() const {
  std::shared_lock lock(core_->state_mu);
  const auto& offsets = core_->state.consumer_offsets();
  return {offsets.begin(), offsets.end()};
}

void MessageStore::update_topic(const TopicConfig& config, DoneCallback done) {
  core_->submit(UpdateTopicCommand{config}, std::move(done));
}

Status MessageStore::update_topic(const TopicConfig& config) {
  return core_->submit_sync(UpdateTopicCommand{config});
}

Status MessageStore::delete_topic(const std::string& topic) {
  return core_->submit_sync(DeleteTopicCommand{topic});
}

std::optional<TopicConfig> MessageStore::topic(const std::string& name) const {
  std::shared_lock lock(core_->state_mu);
  return core_->state.topic(name);
}

std::vector<TopicConfig> MessageStore::topics() const {
  std::shared_lock lock(core_->state_mu);
  return core_->state.topics();
}

std::uint64_t MessageStore::applied_index() const {
  return core_->applied.load();
}
std::uint64_t MessageStore::commit_index() const {
  return core_->commit.load();
}
bool MessageStore::caught_up() const {
  return core_->applied.load() >= core_->commit.load();
}
bool MessageStore::is_leader() const {
  return core_->leading.load();
}

bool MessageStore::ready_as_master() {
  if (!core_->started.load() || core_->stopping.load() || !core_->leading.load()) return false;
  ledger::LedgerStatus status = core_->ledger->status();
  // Not "log end == commit index": under steady writes a leader's log always ends past its
  // commit index, and it would never become master.
  return status.role == raft::Role::kLeader && status.term_start_index != 0 &&
         status.commit_index >= status.term_start_index &&
         core_->applied.load() >= status.term_start_index;
}

ledger::LeaderHint MessageStore::leader_hint() {
  ledger::LeaderHint hint;
  if (!core_->started.load()) return hint;
  const raft::NodeId leader = core_->leader_id.load();
  const std::uint64_t term = core_->term.load();
  {
    std::lock_guard lock(core_->hint_mu);
    if (leader != raft::kNoNode && leader == core_->cached_leader && term == core_->cached_term) {
      hint.leader_id = leader;
      hint.leader_address = core_->cached_leader_address;
      return hint;
    }
  }
  ledger::LedgerStatus status = core_->ledger->status();
  hint.leader_id = status.leader_id;
  hint.leader_address = status.leader_address;
  if (status.leader_address.empty()) return hint;  // the membership may not name it yet
  std::lock_guard lock(core_->hint_mu);
  core_->cached_leader = status.leader_id;
  core_->cached_term = status.term;
  core_->cached_leader_address = status.leader_address;
  return hint;
}

std::uint64_t MessageStore::skipped_entries() const {
  std::shared_lock lock(core_->state_mu);
  return core_->state.skipped_entries();
}

std::string MessageStore::state_fingerprint() const {
  std::shared_lock lock(core_->state_mu);
  return core_->state.fingerprint();
}

}  // namespace dledger::store
