// dledgerctl topicList -n <namesrv> [--json]: every topic some live broker serves
// (GET_ALL_TOPIC_LIST_FROM_NAMESERVER, 206), one per line, sorted; --json prints a JSON array.
// Exit 0 on an answer, 1 when no name server answered (stderr names each), 2 for bad flags.
#pragma once

#include <CLI/CLI.hpp>

#include "broker/programs/dledgerctl/cli_common.h"

namespace dledger::ctl {

void add_topic_list_command(CLI::App& app, CommandAction& action);

}  // namespace dledger::ctl
