#include "broker/programs/dledger-broker/topic_change_trigger.h"

#include "broker/base/thread_name.h"

namespace dledger::programs {

TopicChangeTrigger::TopicChangeTrigger(store::MessageStore& store,
                                       std::chrono::milliseconds interval,
                                       std::function<void()> on_change)
    : store_(store), interval_(interval), on_change_(std::move(on_change)) {
  thread_ = named_thread("topic-trigger", [this] { run(); });
}

TopicChangeTrigger::~TopicChangeTrigger() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void TopicChangeTrigger::run() {
  std::vector<store::TopicConfig> last = store_.topics();
  std::unique_lock<std::mutex> lock(mu_);
  while (!cv_.wait_for(lock, interval_, [this] { return stopping_; })) {
    lock.unlock();
    std::vector<store::TopicConfig> now = store_.topics();
    if (now != last) {
      last = std::move(now);
      on_change_();
    }
    lock.lock();
  }
}

}  // namespace dledger::programs
