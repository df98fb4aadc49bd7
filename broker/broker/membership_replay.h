// MembershipReplayer: after a leader change, tells the new leader which consumers are connected
// to this replica, so consumer-group membership is whole again at once instead of after the
// clients' next heartbeats (30 s).
//
// A thread polls the ledger's leader every `poll_interval`. When the leader becomes another
// replica (a new leader id, not this one), every live client of this replica's own connections
// (ConsumerRegistry::direct_clients) is sent to it as a HEART_BEAT through the LeaderForwarder.
// Failures are logged at debug level only: the clients' own next heartbeats repair them.
#pragma once

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "broker/ledger/raft/types.h"

namespace dledger::broker {

struct BrokerContext;

class MembershipReplayer {
 public:
  MembershipReplayer(BrokerContext& context, std::chrono::milliseconds poll_interval);
  ~MembershipReplayer();
  MembershipReplayer(const MembershipReplayer&) = delete;
  MembershipReplayer& operator=(const MembershipReplayer&) = delete;

  // Joins the thread. Idempotent.
  void stop();
  // Replays every direct client to the current leader now (also used by the thread).
  void replay();

 private:
  void run();

  BrokerContext& context_;
  std::chrono::milliseconds poll_interval_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace dledger::broker
