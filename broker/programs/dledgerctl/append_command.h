// dledgerctl append [--peers P] [--batch] [--json] [DATA...]: appends entries to a ledger group
// through its client protocol (not the admin API).
//   --peers       the replicas' CLIENT addresses, "n0-host:port;n1-host:port;..."; default
//                 $DLEDGER_PEERS, else n0-127.0.0.1:20911. The client finds the leader itself.
//   DATA...       one entry per argument; without arguments, one entry per line of stdin.
//   --batch       send all entries as one batch (consecutive indexes) instead of one by one.
// Prints "index I term T" per appended entry (or batch), or JSON lines with --json.
// Exit 0 when every append was acknowledged, 1 otherwise, 2 for bad flags.
#pragma once

#include <CLI/CLI.hpp>

#include "broker/programs/dledgerctl/cli_common.h"

namespace dledger::ctl {

inline constexpr const char* kPeersEnv = "DLEDGER_PEERS";
inline constexpr const char* kDefaultClientPeers = "n0-127.0.0.1:20911";

void add_append_command(CLI::App& app, CommandAction& action);

}  // namespace dledger::ctl
