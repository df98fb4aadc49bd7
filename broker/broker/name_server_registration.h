// NameServerRegistrar: registers this broker with every name server (REGISTER_BROKER, 103) every
// `interval` and at once after trigger() (called on each ledger role change).
//
// brokerId follows the ledger role (RocketMQ DLedger role passthrough):
//   leader that MessageStore::ready_as_master() -> 0 (master); a leader not yet ready is retried
//   every 100 ms and not registered meanwhile;
//   follower with a known leader              -> self id number + 1 (n0 -> 1);
//   no known leader (election)                -> not registered this round.
// Group-address mode (Options::group_address not empty): registrations as master (brokerId 0)
// advertise the group address instead of broker_address; followers advertise broker_address.
// The body carries the store's topic configs. Failures are logged and retried next round; one
// connection per name server is kept and reopened after an error. Runs on its own thread.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "broker/frontend/remoting_client.h"
#include "broker/ledger/raft/types.h"
#include "broker/store/message_store.h"

namespace dledger::broker {

class NameServerRegistrar {
 public:
  struct Options {
    std::string cluster_name = "DefaultCluster";
    std::string broker_name;
    std::string broker_address;  // "ip:port" clients use
    std::string group_address;   // "host:port" advertised as master's address; empty = direct
    std::vector<std::string> namesrv_addresses;
    std::chrono::milliseconds interval{30000};
    raft::NodeId self_id = raft::kNoNode;
  };
  NameServerRegistrar(Options options, store::MessageStore& store);
  ~NameServerRegistrar();
  NameServerRegistrar(const NameServerRegistrar&) = delete;
  NameServerRegistrar& operator=(const NameServerRegistrar&) = delete;

  void start();
  // Registers as soon as possible (role change). Safe from any thread, including the ledger's
  // consensus thread (does not block).
  void trigger();
  void stop();

  // The brokerId this replica would register with now, or nullopt (see the table above).
  std::optional<std::int64_t> current_broker_id();
  // The address registered under `broker_id` (the group address for 0 in group-address mode).
  const std::string& advertised_address(std::int64_t broker_id) const;

  // Outcome of the last REGISTER_BROKER sent to each name server (for metrics): `registered` is
  // true when that name server answered SUCCESS, false after an error or a refusal, and for a
  // name server not tried yet. Thread-safe.
  struct Registration {
    std::string namesrv_address;
    bool registered = false;
    std::int64_t broker_id = -1;  // brokerId of the last successful registration, -1 when none
  };
  std::vector<Registration> registrations() const;

 private:
  void run();
  void register_once(std::int64_t broker_id);
  void record_outcome(const std::string& address, bool registered, std::int64_t broker_id);

  Options options_;
  store::MessageStore& store_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool triggered_ = true;
  bool stopping_ = false;
  std::thread thread_;
  std::map<std::string, std::unique_ptr<frontend::RemotingClient>> clients_;  // thread only
  std::optional<std::int64_t> last_broker_id_;
  mutable std::mutex registrations_mu_;
  std::map<std::string, Registration> registrations_;  // by name server address
};

}  // namespace dledger::broker
