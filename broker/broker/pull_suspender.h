// PullSuspender: holds long-polling PULL_MESSAGE requests (sysFlag bit 2) until a message at the
// requested queue offset is available or suspendTimeoutMillis passes, then runs their retry.
//
// One thread checks the held requests against the store's max offsets every `check_interval`
// and at once when notify() is called (the send handler calls it after a local put). Held
// requests are bounded (`max_held`): hold() returns false when full and the caller answers at
// once. stop() runs every held retry (they answer PULL_NOT_FOUND) and joins the thread.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <list>
#include <mutex>
#include <string>
#include <thread>

#include "broker/store/message_store.h"

namespace dledger::broker {

class PullSuspender {
 public:
  PullSuspender(store::MessageStore& store, std::size_t max_held,
                std::chrono::milliseconds check_interval = std::chrono::milliseconds(5));
  ~PullSuspender();
  PullSuspender(const PullSuspender&) = delete;
  PullSuspender& operator=(const PullSuspender&) = delete;

  // Runs `retry` (on the suspender thread) once max_offset(topic, queue_id) > offset, or at the
  // deadline, or at stop(). False (retry not kept) when full or stopped.
  bool hold(std::string topic, std::int32_t queue_id, std::int64_t offset,
            std::chrono::milliseconds timeout, std::function<void()> retry);
  void notify();
  void stop();
  std::size_t held() const;

 private:
  struct Held {
    std::string topic;
    std::int32_t queue_id = 0;
    std::int64_t offset = 0;
    std::chrono::steady_clock::time_point deadline;
    std::function<void()> retry;
  };
  void run();

  store::MessageStore& store_;
  const std::size_t max_held_;
  const std::chrono::milliseconds check_interval_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::list<Held> held_;
  bool notified_ = false;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace dledger::broker
