#include "operator/controller/work_queue.h"

#include <algorithm>
#include <vector>

namespace dledger::op::controller {

WorkQueue::WorkQueue(WorkQueueOptions options) : options_(std::move(options)) {}

void WorkQueue::add(const std::string& key) {
  {
    std::lock_guard lock(mutex_);
    if (shut_down_) return;
    delayed_.erase(key);
    if (processing_.count(key) != 0) {
      dirty_while_processing_.insert(key);
      return;
    }
    if (!queued_set_.insert(key).second) return;
    queue_.push_back(key);
  }
  cv_.notify_one();
}

void WorkQueue::add_after(const std::string& key, std::chrono::milliseconds delay) {
  if (delay <= std::chrono::milliseconds::zero()) {
    add(key);
    return;
  }
  {
    std::lock_guard lock(mutex_);
    if (shut_down_ || queued_set_.count(key) != 0) return;
    const auto when = options_.clock() + delay;
    auto [it, inserted] = delayed_.emplace(key, when);
    if (!inserted) it->second = std::min(it->second, when);
  }
  cv_.notify_one();
}

std::chrono::milliseconds WorkQueue::add_rate_limited(const std::string& key) {
  std::chrono::milliseconds delay;
  {
    std::lock_guard lock(mutex_);
    const int failures = failures_[key]++;
    // base * 2^failures without overflow: stop doubling once past the cap.
    delay = options_.base_delay;
    for (int i = 0; i < failures && delay < options_.max_delay; ++i) delay *= 2;
    delay = std::min(delay, options_.max_delay);
  }
  add_after(key, delay);
  return delay;
}

void WorkQueue::forget(const std::string& key) {
  std::lock_guard lock(mutex_);
  failures_.erase(key);
}

int WorkQueue::num_requeues(const std::string& key) const {
  std::lock_guard lock(mutex_);
  auto it = failures_.find(key);
  return it == failures_.end() ? 0 : it->second;
}

void WorkQueue::promote_due_locked() {
  const auto now = options_.clock();
  for (auto it = delayed_.begin(); it != delayed_.end();) {
    if (it->second > now) {
      ++it;
      continue;
    }
    const std::string key = it->first;
    it = delayed_.erase(it);
    if (processing_.count(key) != 0) {
      dirty_while_processing_.insert(key);
    } else if (queued_set_.insert(key).second) {
      queue_.push_back(key);
    }
  }
}

std::optional<std::string> WorkQueue::pop_locked() {
  if (queue_.empty()) return std::nullopt;
  std::string key = queue_.front();
  queue_.erase(queue_.begin());
  queued_set_.erase(key);
  processing_.insert(key);
  return key;
}

std::optional<std::string> WorkQueue::get() {
  std::unique_lock lock(mutex_);
  for (;;) {
    if (shut_down_) return std::nullopt;
    promote_due_locked();
    if (auto key = pop_locked()) return key;
    cv_.wait_for(lock, options_.poll_interval);
  }
}

std::optional<std::string> WorkQueue::try_get() {
  std::lock_guard lock(mutex_);
  if (shut_down_) return std::nullopt;
  promote_due_locked();
  return pop_locked();
}

void WorkQueue::done(const std::string& key) {
  {
    std::lock_guard lock(mutex_);
    processing_.erase(key);
    if (dirty_while_processing_.erase(key) == 0 || shut_down_) return;
    if (queued_set_.insert(key).second) queue_.push_back(key);
  }
  cv_.notify_one();
}

void WorkQueue::shut_down() {
  {
    std::lock_guard lock(mutex_);
    shut_down_ = true;
  }
  cv_.notify_all();
}

bool WorkQueue::shutting_down() const {
  std::lock_guard lock(mutex_);
  return shut_down_;
}

size_t WorkQueue::depth() const {
  std::lock_guard lock(mutex_);
  return queue_.size();
}

size_t WorkQueue::delayed() const {
  std::lock_guard lock(mutex_);
  return delayed_.size();
}

}  // namespace dledger::op::controller
