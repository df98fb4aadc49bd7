#include "broker/broker/queue_lock_table.h"

namespace dledger::broker {

QueueLockTable::QueueLockTable(std::chrono::milliseconds expiry, Clock clock)
    : expiry_(expiry), clock_(std::move(clock)) {
  if (!clock_) clock_ = [] { return std::chrono::steady_clock::now(); };
}

bool QueueLockTable::expired(const Lock& lock, std::chrono::steady_clock::time_point now) const {
  return now - lock.renewed > expiry_;
}

std::set<remoting::MessageQueue> QueueLockTable::lock(
    const std::string& group, const std::string& client_id,
    const std::set<remoting::MessageQueue>& queues) {
  std::lock_guard guard(mu_);
  auto now = clock_();
  std::set<remoting::MessageQueue> held;
  for (const auto& queue : queues) {
    auto [it, inserted] = locks_.try_emplace({group, queue}, Lock{client_id, now});
    Lock& lock = it->second;
    if (inserted || lock.client_id == client_id || expired(lock, now)) {
      lock.client_id = client_id;
      lock.renewed = now;
      held.insert(queue);
    }
  }
  return held;
}

void QueueLockTable::unlock(const std::string& group, const std::string& client_id,
                            const std::set<remoting::MessageQueue>& queues) {
  std::lock_guard guard(mu_);
  for (const auto& queue : queues) {
    auto it = locks_.find({group, queue});
    if (it != locks_.end() && it->second.client_id == client_id) locks_.erase(it);
  }
}

std::string QueueLockTable::holder(const std::string& group, const remoting::MessageQueue& queue) {
  std::lock_guard guard(mu_);
  auto it = locks_.find({group, queue});
  if (it == locks_.end() || expired(it->second, clock_())) return "";
  return it->second.client_id;
}

}  // namespace dledger::broker
