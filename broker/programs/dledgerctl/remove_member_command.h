// dledgerctl removeMember: removes a voter or learner (--id nN).
// Sent to the first reachable --admin; a NotLeader answer is followed to the leader once.
// Prints the committed configuration entry's index and term (or {"index","term"} with --json).
#pragma once

#include <CLI/CLI.hpp>

#include "broker/programs/dledgerctl/cli_common.h"

namespace dledger::ctl {

void add_remove_member_command(CLI::App& app, CommandAction& action);

}  // namespace dledger::ctl
