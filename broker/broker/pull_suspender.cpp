#include "broker/broker/pull_suspender.h"

#include <vector>

#include "broker/base/thread_name.h"

namespace dledger::broker {

PullSuspender::PullSuspender(store::MessageStore& store, std::size_t max_held,
                             std::chrono::milliseconds check_interval)
    : store_(store), max_held_(max_held), check_interval_(check_interval) {
  thread_ = named_thread("pull-suspender", [this] { run(); });
}

PullSuspender::~PullSuspender() {
  stop();
}

bool PullSuspender::hold(std::string topic, std::int32_t queue_id, std::int64_t offset,
                         std::chrono::milliseconds timeout, std::function<void()> retry) {
  std::lock_guard lock(mu_);
  if (stopping_ || held_.size() >= max_held_) return false;
  held_.push_back(Held{std::move(topic), queue_id, offset,
                       std::chrono::steady_clock::now() + timeout, std::move(retry)});
  return true;
}

void PullSuspender::notify() {
  {
    std::lock_guard lock(mu_);
    notified_ = true;
  }
  cv_.notify_one();
}

std::size_t PullSuspender::held() const {
  std::lock_guard lock(mu_);
  return held_.size();
}

void PullSuspender::stop() {
  {
    std::lock_guard lock(mu_);
    if (stopping_ && !thread_.joinable()) return;
    stopping_ = true;
  }
  cv_.notify_one();
  if (thread_.joinable()) thread_.join();
}

void PullSuspender::run() {
  std::unique_lock lock(mu_);
  while (true) {
    cv_.wait_for(lock, check_interval_, [this] { return notified_ || stopping_; });
    notified_ = false;
    bool stopping = stopping_;
    // Pick the ready ones under the lock; run their retries without it.
    std::vector<std::function<void()>> ready;
    auto now = std::chrono::steady_clock::now();
    for (auto it = held_.begin(); it != held_.end();) {
      if (stopping || now >= it->deadline ||
          store_.max_offset(it->topic, it->queue_id) > it->offset) {
        ready.push_back(std::move(it->retry));
        it = held_.erase(it);
      } else {
        ++it;
      }
    }
    lock.unlock();
    for (auto& retry : ready) retry();
    lock.lock();
    if (stopping && held_.empty()) return;
  }
}

}  // namespace dledger::broker
