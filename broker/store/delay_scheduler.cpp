#include "broker/store/delay_scheduler.h"

#include <spdlog/spdlog.h>

#include "broker/base/thread_name.h"
#include "broker/remoting/message_codec.h"

namespace dledger::store {
namespace {

std::int64_t system_now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// The stored message behind a pull record (the fields a delivery copies).
StoredMessage from_record(const remoting::MessageRecord& record) {
  StoredMessage m;
  m.topic = record.topic;
  m.queue_id = record.queue_id;
  m.flag = record.flag;
  m.sys_flag = record.sys_flag;
  m.born_timestamp_ms = record.born_timestamp_ms;
  m.born_host = record.born_host;
  m.reconsume_times = record.reconsume_times;
  m.prepared_transaction_offset = record.prepared_transaction_offset;
  m.properties = record.properties;
  m.body = record.body;
  return m;
}

bool permanent(const Error& error) {
  return error.code == ErrorCode::kNotFound || error.code == ErrorCode::kInvalidArgument ||
         error.code == ErrorCode::kCorruption;
}

}  // namespace

DelayScheduler::DelayScheduler(MessageStore& store, Options options)
    : store_(store), options_(std::move(options)) {
  if (!options_.clock_ms) options_.clock_ms = system_now_ms;
  if (options_.read_batch == 0) options_.read_batch = 1;
}

DelayScheduler::~DelayScheduler() {
  stop();
}

void DelayScheduler::start() {
  std::lock_guard guard(mu_);
  if (thread_.joinable() || stopping_) return;
  thread_ = named_thread("store-delay", [this] {
    std::unique_lock lock(mu_);
    while (!stopping_) {
      lock.unlock();
      run_once();
      lock.lock();
      cv_.wait_for(lock, options_.interval, [this] { return stopping_; });
    }
  });
}

void DelayScheduler::stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

DelayScheduler::PassResult DelayScheduler::run_once() {
  PassResult total;
  if (!store_.ready_as_master()) return total;
  const auto& levels = store_.delay_levels_ms();
  const std::int64_t now = options_.clock_ms();
  for (std::size_t i = 0; i < levels.size(); ++i) {
    PassResult r = deliver_level(static_cast<std::int32_t>(i), levels[i], now);
    total.delivered += r.delivered;
    total.skipped += r.skipped;
  }
  return total;
}

DelayScheduler::PassResult DelayScheduler::deliver_level(std::int32_t queue_id,
                                                         std::int64_t delay_ms,
                                                         std::int64_t now_ms) {
  PassResult result;
  const std::string topic(kScheduleTopic);
  const std::string group(kScheduleProgressGroup);
  const std::int64_t min = store_.min_offset(topic, queue_id);
  const std::int64_t start =
      std::max(store_.query_offset(group, topic, queue_id).value_or(min), min);
  if (start >= store_.max_offset(topic, queue_id)) return result;
  std::int64_t progress = start;
  bool stop = false;
  while (!stop) {
    auto got = store_.get_messages(topic, queue_id, progress, options_.read_batch, 4u << 20);
    if (!got.ok() || got->status != GetStatus::kFound || got->count == 0) break;
    auto records = remoting::decode_message_records(got->records);
    if (!records.ok()) {
      spdlog::error("delay level {}: scheduled messages at queue offset {} do not decode: {}",
                    queue_id + 1, progress, records.error().to_string());
      break;
    }
    for (const auto& record : *records) {
      if (record.store_timestamp_ms + delay_ms > now_ms) {
        stop = true;
        break;
      }
      const std::string msg_id = remoting::offset_msg_id(record);
      auto delivered = delivered_form(from_record(record));
      if (delivered.ok()) {
        if (auto config = store_.topic(delivered->topic); config && config->write_queue_nums > 0) {
          delivered->queue_id %= config->write_queue_nums;
        }
        auto put = store_.put_message_sync(std::move(delivered).value());
        if (!put.ok()) {
          if (!permanent(put.error())) {
            stop = true;
            break;
          }
          spdlog::error(
              "delay level {}: scheduled message {} (queue offset {}) cannot be "
              "delivered and is skipped: {}",
              queue_id + 1, msg_id, record.queue_offset, put.error().to_string());
          ++result.skipped;
        } else {
          ++result.delivered;
        }
      } else {
        spdlog::error("delay level {}: scheduled message {} (queue offset {}) is skipped: {}",
                      queue_id + 1, msg_id, record.queue_offset, delivered.error().to_string());
        ++result.skipped;
      }
      progress = record.queue_offset + 1;
    }
    if (got->next_begin_offset >= store_.max_offset(topic, queue_id)) break;
  }
  if (progress > start) {
    Status committed = store_.commit_offset_sync(group, topic, queue_id, progress);
    if (!committed.ok()) {
      spdlog::warn(
          "delay level {}: progress {} not committed ({}); the next leader delivers "
          "from {} again",
          queue_id + 1, progress, committed.error().to_string(), start);
    }
  }
  return result;
}

}  // namespace dledger::store
