// dledgerctl promoteMember: turns a learner into a voter (--id nN). The leader refuses while the
// learner lags. Sent to the first reachable --admin; a NotLeader answer is followed to the leader
// once. Prints the committed configuration entry's index and term (or {"index","term"} with
// --json).
#pragma once

#include <iosfwd>
#include <string>

#include "broker/programs/dledgerctl/cli_common.h"

namespace dledger::ctl {

struct PromoteMemberOptions {
  CommonOptions common;
  std::string id;
};

int run_promote_member(const PromoteMemberOptions& options, std::ostream& out, std::ostream& err);

}  // namespace dledger::ctl
