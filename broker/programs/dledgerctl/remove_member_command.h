// dledgerctl removeMember: removes a voter or learner (--id nN).
// Sent to the first reachable --admin; a NotLeader answer is followed to the leader once.
// Prints the committed configuration entry's index and term (or {"index","term"} with --json).
#pragma once

#include <iosfwd>
#include <string>

#include "broker/programs/dledgerctl/cli_common.h"

namespace dledger::ctl {

struct RemoveMemberOptions {
  CommonOptions common;
  std::string id;
};

int run_remove_member(const RemoveMemberOptions& options, std::ostream& out, std::ostream& err);

}  // namespace dledger::ctl
