// dledgerctl transferLeader [--to nN] [--if-leader]: moves leadership of the group.
//   --to nN       the new leader; omitted = any caught-up voter (the leader picks).
//   --if-leader   act only if the addressed replica (exactly one --admin) leads right now;
//                 exits 0 without doing anything when it does not. Used by the Kubernetes
//                 preStop hook so a leader hands over before its pod stops. NotLeader answers
//                 are not followed in this mode.
// Without --if-leader the request goes to the first reachable --admin and follows a NotLeader
// answer to the leader once.
#pragma once

#include <iosfwd>
#include <string>

#include "broker/programs/dledgerctl/cli_common.h"

namespace dledger::ctl {

struct TransferLeaderOptions {
  CommonOptions common;
  std::string to;
  bool if_leader = false;
};

int run_transfer_leader(const TransferLeaderOptions& options, std::ostream& out, std::ostream& err);

}  // namespace dledger::ctl
