// CommitNotifier: lets reader threads block until the commit index passes a value (long-polling
// consumers). publish() is called by the consensus thread; wait() by anyone.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>

namespace dledger::ledger {

class CommitNotifier {
 public:
  void publish(std::uint64_t commit_index) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (commit_index <= commit_ && !stopped_) return;
      if (commit_index > commit_) commit_ = commit_index;
    }
    cv_.notify_all();
  }
  // Wakes every waiter for good (shutdown).
  void stop() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      stopped_ = true;
    }
    cv_.notify_all();
  }
  std::uint64_t current() const {
    std::lock_guard<std::mutex> lock(mu_);
    return commit_;
  }
  // Returns the commit index once it exceeds `after_index`, or whatever it is at the timeout.
  std::uint64_t wait(std::uint64_t after_index, std::chrono::milliseconds timeout) {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait_for(lock, timeout, [&] { return commit_ > after_index || stopped_; });
    return commit_;
  }

 private:
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::uint64_t commit_ = 0;
  bool stopped_ = false;
};

}  // namespace dledger::ledger
