// dledgerctl append [--peers P] [--batch] [--json] [DATA...]: appends entries to a ledger group
// through its client protocol (not the admin API).
//   --peers       the replicas' CLIENT addresses, "n0-host:port;n1-host:port;..."; default
//                 $DLEDGER_PEERS, else n0-127.0.0.1:20911. The client finds the leader itself.
//   DATA...       one entry per argument; without arguments, one entry per line of stdin.
//   --batch       send all entries as one batch (consecutive indexes) instead of one by one.
// Prints "index I term T" per appended entry (or batch), or JSON lines with --json.
// Exit 0 when every append was acknowledged, 1 otherwise, 2 for bad flags.
#pragma once

#include <iosfwd>
#include <string>
#include <vector>

#include "broker/programs/dledgerctl/cli_common.h"

namespace dledger::ctl {

inline constexpr const char* kPeersEnv = "DLEDGER_PEERS";
inline constexpr const char* kDefaultClientPeers = "n0-127.0.0.1:20911";

struct AppendOptions {
  std::string peers;
  std::vector<std::string> data;
  bool batch = false;
  bool json = false;
  int timeout_ms = 10000;  // per append, with retries
};

int run_append(AppendOptions options, std::ostream& out, std::ostream& err);

}  // namespace dledger::ctl
