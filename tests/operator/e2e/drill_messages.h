// Messages for the drills: a producer that keeps sending numbered messages to the current
// leader through the RocketMQ remoting protocol while the group changes under it, and a
// consumer that reads a queue back from offset 0. Together they check "no acknowledged message
// is lost": every body the producer saw acknowledged must be read back.
#pragma once

#include <atomic>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "broker/base/result.h"

namespace dledger::e2e {

// Remoting "host:port" of the broker that leads now, or nullopt when none is known.
using LeaderLocator = std::function<std::optional<std::string>()>;

// UPDATE_AND_CREATE_TOPIC with one read and one write queue, sent to `address`.
Status create_topic(const std::string& address, const std::string& topic);

// Every message body of queue 0 of `topic` at `address`, in queue order (PULL_MESSAGE from
// offset 0 until PULL_NOT_FOUND).
Result<std::vector<std::string>> read_queue(const std::string& address, const std::string& topic);

// Sends "m-<n>" for n = 0, 1, 2, ... one at a time to the leader `locate` names. A message
// counts as acknowledged only when the broker answered SUCCESS; any failure (no leader,
// connection refused, not leader, timeout) re-locates the leader and resends the same n (the
// log may then hold a duplicate, never a gap among acknowledged messages).
class DrillProducer {
 public:
  DrillProducer(LeaderLocator locate, std::string topic);
  ~DrillProducer();
  void start();
  void stop();
  std::vector<std::string> acknowledged() const;
  int failed_attempts() const { return failed_attempts_; }

 private:
  void run(std::stop_token stop);

  LeaderLocator locate_;
  std::string topic_;
  mutable std::mutex mutex_;
  std::vector<std::string> acknowledged_;
  std::atomic<int> failed_attempts_{0};
  std::jthread thread_;
};

}  // namespace dledger::e2e
