// dledgerctl get [--peers P] [--raw] [--json] INDEX...: reads committed entries by index through
// the ledger client protocol. --peers as for `append` (give a single replica to read from that
// replica). Prints "index I term T type normal: DATA" per entry, the bare bytes with --raw, or
// JSON lines with --json (invalid UTF-8 replaced). Exit 0 when every entry was read, 1 otherwise,
// 2 for bad flags.
#pragma once

#include <cstdint>
#include <iosfwd>
#include <string>
#include <vector>

#include "broker/programs/dledgerctl/cli_common.h"

namespace dledger::ctl {

struct GetOptions {
  std::string peers;
  std::vector<std::uint64_t> indexes;
  bool raw = false;
  bool json = false;
  int timeout_ms = 10000;
};

int run_get(GetOptions options, std::ostream& out, std::ostream& err);

}  // namespace dledger::ctl
