// GET_BROKER_RUNTIME_INFO (28): what `mqadmin clusterList` asks every broker, answered with this
// replica's ledger state so that `dledgerctl clusterList` can show one row per member and find
// its admin endpoint.
//
// Reply: SUCCESS, body KVTable JSON {"table":{key: string value}} with the keys
//   brokerVersionDesc    "dledger"
//   brokerName           broker (group) name
//   dLegerGroup          ledger group name
//   dLegerSelfId         this member's id, e.g. "n0"
//   dLegerRole           leader | follower | candidate | learner (docs/admin-api.md)
//   dLegerTerm           current term (decimal)
//   dLegerLeaderId       the known leader's id, "" when none
//   dLegerCommitIndex    commit index (decimal)
//   dLegerLastIndex      last log index (decimal)
//   adminAddress         "host:port" of this replica's admin HTTP endpoint (/status, /metrics);
//                        the admin host when it is a concrete address, else brokerIP1
// The request carries no fields. The status comes from the admin backend (cheap, non-blocking).
#pragma once

#include <functional>
#include <string>

#include "broker/admin/admin_backend.h"
#include "broker/frontend/remoting_server.h"

namespace dledger::programs {

struct RuntimeInfoStatic {
  std::string broker_name;
  std::string admin_address;
};

// The KVTable body for `status` (pure; used by the handler and its tests).
std::string runtime_info_body(const RuntimeInfoStatic& info, const admin::ReplicaStatus& status);

// The admin address brokers advertise: admin_host unless it is a wildcard ("0.0.0.0", "::",
// ""), else broker_ip; with admin_port.
std::string advertised_admin_address(const std::string& admin_host, const std::string& broker_ip,
                                     std::uint16_t admin_port);

frontend::Handler make_runtime_info_handler(RuntimeInfoStatic info,
                                            std::function<admin::ReplicaStatus()> status);

}  // namespace dledger::programs
