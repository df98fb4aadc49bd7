// BrokerOptions: the broker.conf keys of a dledger broker (RocketMQ names), plus the ledger keys
// of LedgerOptions (broker/ledger/server/ledger_options.h).
//
//   brokerClusterName        cluster name registered with the name servers [DefaultCluster]
//   brokerName               broker (group) name (required)
//   brokerIP1                address clients reach this broker at [127.0.0.1]
//   listenPort               remoting port [10911]
//   namesrvAddr              "host:port;host:port" name servers [none: no registration]
//   storePathRootDir         data root [./store] (also read by LedgerOptions)
//   storePathConsumeQueue    consume-queue checkpoint directory [<root>/consumequeue]
//   storePathCommitLog, storePathIndex, storeCheckpoint, abortFile, sendMessageThreadPoolNums,
//   brokerRole, flushDiskType, brokerId, deleteWhen, brokerIP2 (the master/slave HA address,
//   unused in DLedger mode)
//                            accepted for compatibility, not used (the ledger decides roles and
//                            flushing; brokerId follows the role)
//   enableDLegerCommitLog    must be absent or true: this broker always replicates through its
//                            ledger; false is refused with an explanation
//   registerIntervalMs       name-server registration period [30000]
//   remotingIoThreads        remoting server io threads [2]
//   maxSuspendedPulls        long-polling pulls held at once; beyond, answered at once [10000]
//   queryMessageMaxScan      messages one QUERY_MESSAGE (lookup by key) reads at most; a wider
//                            time range is answered with what was found and a remark [50000]
//   logLevel                 trace | debug | info | warn | error [info]
//   brokerPeers              remoting addresses of the group's members, dLegerPeers format
//                            ("n0-10.0.0.1:10911;n1-..."); a follower forwards leader-only
//                            requests to the leader's entry [derived: the leader's dLegerPeers
//                            host with this broker's listenPort]
//   brokerGroupAddress       group-address mode: one "host:port" in front of every replica (e.g.
//                            a Kubernetes Service); the leader registers it, not its own address,
//                            as the master (brokerId 0), so clients reconnect through it to a
//                            live replica (which forwards writes) without a route refresh.
//                            Followers still register their own addresses [none: direct mode]
// Every invalid value is an error naming the key and the value. Unknown keys are reported by
// unknown_keys (the program warns about them).
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "broker/base/properties.h"
#include "broker/base/result.h"
#include "broker/ledger/server/ledger_options.h"

namespace dledger::broker {

struct BrokerOptions {
  std::string cluster_name = "DefaultCluster";
  std::string broker_name;
  std::string broker_ip = "127.0.0.1";
  std::uint16_t listen_port = 10911;
  std::vector<std::string> namesrv_addresses;  // "host:port" each
  std::string consume_queue_dir;               // store checkpoint directory
  std::uint32_t register_interval_ms = 30000;
  int remoting_io_threads = 2;
  std::uint32_t max_suspended_pulls = 10000;
  std::uint64_t query_message_max_scan = 50000;
  std::string log_level = "info";
  std::map<raft::NodeId, std::string> broker_peers;  // brokerPeers, empty when absent
  std::string group_address;                         // brokerGroupAddress, empty in direct mode
  ledger::LedgerOptions ledger;

  // "brokerIP1:listenPort", the address registered with the name servers.
  std::string broker_address() const;

  // Reads and validates every key above (and the ledger keys); marks them used in `props`.
  static Result<BrokerOptions> from_properties(const Properties& props);
};

// Splits a namesrvAddr value ("a:1;b:2", blanks and empty items ignored). Errors name the item
// that is not host:port with a port in [1, 65535].
Result<std::vector<std::string>> parse_namesrv_addresses(const std::string& text);

}  // namespace dledger::broker
