// dledgerctl: the dledger admin command line. One subcommand per file; each registers its flags
// and, when chosen, sets the action main() runs. Exit codes: 0 ok, 1 operation failed, 2 usage.
#include <iostream>

#include <CLI/CLI.hpp>

#include "broker/programs/dledgerctl/add_member_command.h"
#include "broker/programs/dledgerctl/append_command.h"
#include "broker/programs/dledgerctl/cli_common.h"
#include "broker/programs/dledgerctl/get_command.h"
#include "broker/programs/dledgerctl/promote_member_command.h"
#include "broker/programs/dledgerctl/remove_member_command.h"
#include "broker/programs/dledgerctl/status_command.h"
#include "broker/programs/dledgerctl/transfer_leader_command.h"

int main(int argc, char** argv) {
  using namespace dledger::ctl;
  CLI::App app{"dledgerctl: administer dledger replicas through their admin HTTP endpoints"};
  app.require_subcommand(1);
  CommandAction action;
  add_status_command(app, action);
  add_transfer_leader_command(app, action);
  add_add_member_command(app, action);
  add_promote_member_command(app, action);
  add_remove_member_command(app, action);
  add_append_command(app, action);
  add_get_command(app, action);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int code = app.exit(e);  // prints help or the error
    return code == 0 ? kExitOk : kExitUsage;
  }
  if (!action) return kExitUsage;
  return action(std::cout, std::cerr);
}
