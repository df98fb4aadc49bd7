// dledgerctl addMember: adds a replica as a learner (--id nN --address host:peerPort). It receives
// the log but does not vote until promoteMember. Sent to the first reachable --admin; a NotLeader
// answer is followed to the leader once. Prints the committed configuration entry's index and term
// (or {"index","term"} with --json).
#pragma once

#include <iosfwd>
#include <string>

#include "broker/programs/dledgerctl/cli_common.h"

namespace dledger::ctl {

struct AddMemberOptions {
  CommonOptions common;
  std::string id;
  std::string address;
};

int run_add_member(const AddMemberOptions& options, std::ostream& out, std::ostream& err);

}  // namespace dledger::ctl
