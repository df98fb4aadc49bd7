// dledgerctl: the dledger admin command line. One subcommand per file; each registers its flags
// and, when chosen, sets the action main() runs. Exit codes: 0 ok, 1 operation failed, 2 usage.
#include <iostream>

#include <CLI/CLI.hpp>

#include "broker/programs/dledgerctl/add_member_command.h"
#include "broker/programs/dledgerctl/append_command.h"
#include "broker/programs/dledgerctl/cli_common.h"
#include "broker/programs/dledgerctl/cluster_list_command.h"
#include "broker/programs/dledgerctl/consume_message_command.h"
#include "broker/programs/dledgerctl/consumer_connection_command.h"
#include "broker/programs/dledgerctl/consumer_progress_command.h"
#include "broker/programs/dledgerctl/get_command.h"
#include "broker/programs/dledgerctl/promote_member_command.h"
#include "broker/programs/dledgerctl/remove_member_command.h"
#include "broker/programs/dledgerctl/send_message_command.h"
#include "broker/programs/dledgerctl/status_command.h"
#include "broker/programs/dledgerctl/topic_list_command.h"
#include "broker/programs/dledgerctl/topic_status_command.h"
#include "broker/programs/dledgerctl/transfer_leader_command.h"
#include "broker/programs/dledgerctl/update_topic_command.h"

int main(int argc, char** argv) {
  using namespace dledger::ctl;
  CLI::App app{
      "dledgerctl: administer dledger replicas (admin HTTP endpoints) and broker clusters (name "
      "server and brokers)"};
  app.require_subcommand(1);
  CommandAction action;
  add_status_command(app, action);
  add_transfer_leader_command(app, action);
  add_add_member_command(app, action);
  add_promote_member_command(app, action);
  add_remove_member_command(app, action);
  add_append_command(app, action);
  add_get_command(app, action);
  add_cluster_list_command(app, action);
  add_topic_list_command(app, action);
  add_update_topic_command(app, action);
  add_send_message_command(app, action);
  add_consume_message_command(app, action);
  add_topic_status_command(app, action);
  add_consumer_progress_command(app, action);
  add_consumer_connection_command(app, action);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int code = app.exit(e);  // prints help or the error
    return code == 0 ? kExitOk : kExitUsage;
  }
  if (!action) return kExitUsage;
  return action(std::cout, std::cerr);
}
