// dledgerctl status: queries /status of every given replica and prints one row per replica
//   ID  ROLE  TERM  LEADER  COMMIT  LAST  LAG  ADDRESS
// LAG comes from the leader's view (the highest-term leader among the answers); "-" when no
// leader answered. A replica that does not answer gets a row with ROLE "unreachable" (or
// "error" for a malformed answer) and an error line on stderr naming its address. --json prints a
// JSON array of the /status objects, each with an extra "admin" field (failures:
// {"admin","error","message"}). Exit 0 when every replica answered, else 1.
#pragma once

#include <iosfwd>
#include <string>
#include <vector>

#include "broker/admin/admin_backend.h"
#include "broker/base/result.h"
#include "broker/programs/dledgerctl/cli_common.h"

namespace dledger::ctl {

struct StatusAnswer {
  std::string admin_address;
  Result<admin::ReplicaStatus> status;
};

struct StatusOptions {
  CommonOptions common;
};

int run_status(const StatusOptions& options, std::ostream& out, std::ostream& err);

// The text table, header included (pure; used by the command and its tests).
std::string render_status_table(const std::vector<StatusAnswer>& answers);
// The JSON array printed by --json.
std::string render_status_json(const std::vector<StatusAnswer>& answers);

}  // namespace dledger::ctl
