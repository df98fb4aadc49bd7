// BrokerGroup: a name server and one DLedger broker group (dledger-namesrv + N dledger-broker
// processes) on 127.0.0.1, for the broker process tests and `dledger-bench produce`.
//
// Every process gets free ports and a log file under a private temporary directory; broker i
// ("n<i>") gets a broker.conf in the seed deployment's format (brokerClusterName, brokerName,
// brokerIP1, listenPort, namesrvAddr, storePathRootDir, storePathCommitLog, storePathConsumeQueue,
// storePathIndex, storeCheckpoint, abortFile, enableDLegerCommitLog, dLegerGroup, dLegerPeers,
// dLegerSelfId, sendMessageThreadPoolNums) plus ours (adminHost, adminPort, adminPeers,
// brokerPeers, then `extra_config`). Processes are stopped by PID (SIGKILL or SIGTERM); the
// destructor kills every one still running and removes the directory (kept when
// DLEDGER_KEEP_TEST_DIRS is set, for post-mortems).
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "broker/admin/admin_backend.h"
#include "broker/base/result.h"

namespace dledger::bench {

struct BrokerGroupOptions {
  std::string namesrv_binary;
  std::string broker_binary;
  int replicas = 3;
  std::string cluster_name = "RaftCluster";
  std::string broker_name = "RaftNode00";
  std::string extra_config;  // lines appended to every broker.conf
};

class BrokerGroup {
 public:
  explicit BrokerGroup(BrokerGroupOptions options);
  ~BrokerGroup();
  BrokerGroup(const BrokerGroup&) = delete;
  BrokerGroup& operator=(const BrokerGroup&) = delete;

  Status start_namesrv();
  // Writes broker i's config (first start only) and starts it. Errors if fork/exec fails.
  Status start_broker(int id);
  Status start_all();  // name server, then every broker
  void kill9_broker(int id);
  // SIGTERM, then waits (bounded) for exit; the exit status, -1 if it had to be killed.
  int terminate_broker(int id);
  bool broker_running(int id);
  // CPU time (user + system, seconds) broker `id` has used so far; nullopt when not running.
  std::optional<double> broker_cpu_seconds(int id) const;

  std::vector<int> ids() const;
  std::string namesrv_address() const;
  std::string broker_address(int id) const;  // remoting "127.0.0.1:listenPort"
  std::string admin_address(int id) const;
  std::string config_path(int id) const;
  std::string log_path(int id) const;
  std::string namesrv_log_path() const;
  std::string dir() const { return dir_; }
  // Broker id whose remoting address is `address`, or -1.
  int id_of_address(const std::string& address) const;

  Result<admin::ReplicaStatus> status(int id) const;
  // Waits (bounded by `limit`) until every broker in `ids` runs and exactly one reports role
  // leader, all naming it in the same term. Returns the leader's id.
  Result<int> wait_for_leader(const std::vector<int>& ids,
                              std::chrono::milliseconds limit = std::chrono::seconds(30));

 private:
  struct Broker {
    std::uint16_t listen_port = 0;
    std::uint16_t peer_port = 0;
    std::uint16_t admin_port = 0;
    pid_t pid = -1;
  };
  Status write_config(int id) const;

  BrokerGroupOptions options_;
  std::string dir_;
  std::uint16_t namesrv_port_ = 0;
  pid_t namesrv_pid_ = -1;
  std::map<int, Broker> brokers_;
};

}  // namespace dledger::bench
