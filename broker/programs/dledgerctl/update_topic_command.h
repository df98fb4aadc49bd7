// dledgerctl updateTopic -t <topic> [-r readQueues] [-w writeQueues] [-p perm]
//                        (-b <broker addr> | -c <cluster> -n <namesrv>) [--json]
// Creates or updates a topic (UPDATE_AND_CREATE_TOPIC, 17), as `mqadmin updateTopic`:
//   -b   on the broker at that remoting address (any replica of a group: a follower forwards to
//        its leader, or answers SERVICE_NOT_AVAILABLE naming it);
//   -c   on the master (BID 0) of every broker group of the cluster, as the name server lists it.
// Queue counts default to 8, perm to 6 (read + write). Prints one line per broker group
// ("create topic T on broker-a (127.0.0.1:10911): OK"), or JSON lines with --json.
// Exit 0 when every group accepted it, 1 otherwise (stderr names the address and the broker's
// answer), 2 for bad flags (also: a topic name RocketMQ would refuse).
#pragma once

#include <CLI/CLI.hpp>

#include "broker/programs/dledgerctl/cli_common.h"

namespace dledger::ctl {

void add_update_topic_command(CLI::App& app, CommandAction& action);

}  // namespace dledger::ctl
