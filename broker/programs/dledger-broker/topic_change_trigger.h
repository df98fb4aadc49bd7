// TopicChangeTrigger: calls `on_change` soon after this replica's topic set changes (a topic
// created, updated or deleted through the ledger), so the broker registers with the name servers
// at once, as a RocketMQ broker does after UPDATE_AND_CREATE_TOPIC, instead of at the next
// periodic registration (30 s by default). Polls MessageStore::topics() every `interval` on its
// own thread; the callback must not block (NameServerRegistrar::trigger does not).
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

#include "broker/store/message_store.h"

namespace dledger::programs {

class TopicChangeTrigger {
 public:
  TopicChangeTrigger(store::MessageStore& store, std::chrono::milliseconds interval,
                     std::function<void()> on_change);
  ~TopicChangeTrigger();  // stops and joins the thread
  TopicChangeTrigger(const TopicChangeTrigger&) = delete;
  TopicChangeTrigger& operator=(const TopicChangeTrigger&) = delete;

 private:
  void run();

  store::MessageStore& store_;
  std::chrono::milliseconds interval_;
  std::function<void()> on_change_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace dledger::programs
