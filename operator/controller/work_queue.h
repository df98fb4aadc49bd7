// WorkQueue: a rate-limited, de-duplicating queue of keys ("namespace/name"), as client-go's.
//
//   - add(key): the key is queued once however often it is added. A key being processed
//     (between get() and done()) is not handed to a second worker; adding it meanwhile makes
//     done() queue it again, so no change is lost and no key is reconciled concurrently.
//   - add_after(key, delay): queued when the clock reaches now + delay (the earliest wins).
//   - add_rate_limited(key): add_after with a per-key exponential backoff
//     (base_delay * 2^failures, capped at max_delay); forget(key) resets it after a success.
//   - get(): blocks until a key is ready or shut_down(); try_get() never blocks (tests).
//
// The clock is injectable; get() re-checks it at least every poll_interval, so a test clock
// advanced from another thread is noticed. Thread-safe.
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace dledger::op::controller {

using Clock = std::function<std::chrono::steady_clock::time_point()>;

struct WorkQueueOptions {
  std::chrono::milliseconds base_delay{5};
  std::chrono::milliseconds max_delay{300000};
  std::chrono::milliseconds poll_interval{50};
  Clock clock = [] { return std::chrono::steady_clock::now(); };
};

class WorkQueue {
 public:
  explicit WorkQueue(WorkQueueOptions options = {});

  void add(const std::string& key);
  void add_after(const std::string& key, std::chrono::milliseconds delay);
  // Returns the delay chosen.
  std::chrono::milliseconds add_rate_limited(const std::string& key);
  void forget(const std::string& key);
  int num_requeues(const std::string& key) const;

  // Blocks; std::nullopt once shut down.
  std::optional<std::string> get();
  std::optional<std::string> try_get();
  void done(const std::string& key);

  void shut_down();
  bool shutting_down() const;

  // Keys ready to be handed out (not counting delayed or in-process keys).
  size_t depth() const;
  // Keys waiting for their delay.
  size_t delayed() const;

 private:
  void promote_due_locked();
  std::optional<std::string> pop_locked();

  WorkQueueOptions options_;
  mutable std::mutex mutex_;
  std::condition_variable cv_;
  std::set<std::string> queued_set_;
  std::vector<std::string> queue_;  // FIFO of ready keys
  std::set<std::string> processing_;
  std::set<std::string> dirty_while_processing_;
  std::map<std::string, std::chrono::steady_clock::time_point> delayed_;
  std::map<std::string, int> failures_;
  bool shut_down_ = false;
};

}  // namespace dledger::op::controller
