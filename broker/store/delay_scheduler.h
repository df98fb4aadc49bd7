// DelayScheduler: delivers delayed messages (delay_levels.h) from SCHEDULE_TOPIC_XXXX to their
// real topic once due. Runs on every replica, acts only on the one that is ready as master.
//
// One pass (run_once, every `interval` on the scheduler thread), per level L (queue L-1):
//
//   progress = committed offset of (kScheduleProgressGroup, SCHEDULE_TOPIC_XXXX, L-1)
//              (or the queue's min offset)
//   read scheduled messages from `progress` in queue order
//     due (store timestamp + delay_levels_ms[L-1] <= clock): put_message_sync(delivered form)
//     not due: stop this level (later ones in the queue are not due either: same delay,
//              non-decreasing store timestamps)
//   commit_offset_sync(progress after the last delivered message)     -- through the ledger
//
// Every step goes through the ledger, so every replica holds the same scheduled messages and the
// same progress; a new leader continues where the old one's last committed progress stands.
// A leader change between a delivery and its progress commit delivers those messages again
// (at-least-once, as RocketMQ's ScheduleMessageService): a delivered message is never lost.
// A message whose real topic no longer exists or cannot take it (kNotFound, kInvalidArgument),
// or whose REAL_TOPIC/REAL_QID is damaged, is skipped and logged with its msgId (it would
// otherwise block its level forever); REAL_QID beyond the topic's writeQueueNums wraps around.
// Other errors (lost leadership, overload) end the pass; the next pass retries.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <thread>

#include "broker/store/message_store.h"

namespace dledger::store {

class DelayScheduler {
 public:
  struct Options {
    // The same clock as MessageStoreOptions::clock_ms (store timestamps); system clock when empty.
    std::function<std::int64_t()> clock_ms;
    std::chrono::milliseconds interval{100};
    std::uint32_t read_batch = 32;  // scheduled messages read per level per round
  };
  struct PassResult {
    std::uint64_t delivered = 0;
    std::uint64_t skipped = 0;  // undeliverable, logged
  };

  DelayScheduler(MessageStore& store, Options options);
  ~DelayScheduler();
  DelayScheduler(const DelayScheduler&) = delete;
  DelayScheduler& operator=(const DelayScheduler&) = delete;

  // Starts the scheduler thread (calls run_once every interval). Idempotent.
  void start();
  // Stops and joins the thread. Idempotent; the destructor calls it.
  void stop();
  // One pass over every level; does nothing unless the store is ready as master.
  // Blocking (waits for the ledger): never call it from a store callback.
  PassResult run_once();

 private:
  PassResult deliver_level(std::int32_t queue_id, std::int64_t delay_ms, std::int64_t now_ms);

  MessageStore& store_;
  Options options_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace dledger::store
