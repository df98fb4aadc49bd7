// QueueLockTable: the queue locks of orderly consumers (LOCK_BATCH_MQ (41) / UNLOCK_BATCH_MQ (42)),
// as RocketMQ's RebalanceLockManager keeps them.
//
// A lock is held per (consumer group, message queue) by one clientId. lock() grants every queue
// that is free, already held by the same client (renewal), or whose lock was not renewed for
// `expiry` (60 s, RocketMQ's rebalance.lockMaxLiveTime); it returns the queues the client holds
// afterwards. unlock() releases the queues the client holds and ignores the others.
//
// The table lives on the leader only (followers forward 41/42, see leader_forwarder.h) and is not
// replicated: after a leader change it starts empty and clients re-acquire their locks with their
// next renewal (every 20 s in RocketMQ clients). Thread-safe; the clock is injectable for tests.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <utility>

#include "broker/remoting/lock_batch.h"

namespace dledger::broker {

class QueueLockTable {
 public:
  using Clock = std::function<std::chrono::steady_clock::time_point()>;
  explicit QueueLockTable(std::chrono::milliseconds expiry = std::chrono::seconds(60),
                          Clock clock = {});

  std::set<remoting::MessageQueue> lock(const std::string& group, const std::string& client_id,
                                        const std::set<remoting::MessageQueue>& queues);
  void unlock(const std::string& group, const std::string& client_id,
              const std::set<remoting::MessageQueue>& queues);
  // The client holding the queue's lock now, "" when none (expired locks count as none).
  std::string holder(const std::string& group, const remoting::MessageQueue& queue);

 private:
  struct Lock {
    std::string client_id;
    std::chrono::steady_clock::time_point renewed;
  };
  bool expired(const Lock& lock, std::chrono::steady_clock::time_point now) const;

  std::chrono::milliseconds expiry_;
  Clock clock_;
  std::mutex mu_;
  std::map<std::pair<std::string, remoting::MessageQueue>, Lock> locks_;
};

}  // namespace dledger::broker
