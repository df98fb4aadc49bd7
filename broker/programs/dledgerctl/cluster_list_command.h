// dledgerctl clusterList -n <namesrv> [--json]: one row per broker replica the name servers know
// (GET_BROKER_CLUSTER_INFO, 106), in the spirit of `mqadmin clusterList`:
//   CLUSTER  BROKER  BID  ADDRESS  ID  ROLE  TERM  COMMIT  LAST  LAG  ADMIN
// For each replica the broker is asked GET_BROKER_RUNTIME_INFO (28), which names its ledger
// member id and admin endpoint; TERM, COMMIT, LAST come from that endpoint's /status (from the
// runtime info when the admin endpoint does not answer), LAG from the /status of the group's
// leader (its last index minus the member's match index; "-" when no leader answered).
// A replica that does not answer gets ROLE "unreachable" and an error line on stderr naming its
// address. --json prints an array of row objects (docs in render_cluster_json).
// Exit 0 when the name server and every replica answered, 1 otherwise, 2 for bad flags.
#pragma once

#include <cstdint>
#include <iosfwd>
#include <optional>
#include <string>
#include <vector>

#include "broker/programs/dledgerctl/cli_common.h"
#include "broker/programs/dledgerctl/remoting_session.h"

namespace dledger::ctl {

struct ClusterRow {
  std::string cluster;
  std::string broker_name;
  std::int64_t broker_id = 0;
  std::string address;  // remoting address registered with the name server
  std::string self_id;  // "" when unknown
  std::string role;     // leader | follower | candidate | learner | unreachable | error
  std::optional<std::uint64_t> term;
  std::optional<std::uint64_t> commit_index;
  std::optional<std::uint64_t> last_index;
  std::optional<std::uint64_t> lag;
  std::string admin;  // admin endpoint, "" when unknown
  std::string error;  // why the row is incomplete, "" when complete
};

struct ClusterListOptions {
  BrokerCommonOptions common;
};

int run_cluster_list(const ClusterListOptions& options, std::ostream& out, std::ostream& err);

// Text table, header included (pure).
std::string render_cluster_table(const std::vector<ClusterRow>& rows);
// [{"cluster","brokerName","brokerId","address","selfId","role","term","commitIndex",
//   "lastIndex","lag","admin","error"}]; unknown numbers are null, "error" only when set.
std::string render_cluster_json(const std::vector<ClusterRow>& rows);

}  // namespace dledger::ctl
