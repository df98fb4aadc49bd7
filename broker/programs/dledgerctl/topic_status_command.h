// dledgerctl topicStatus -n <namesrv> -t <topic> [--json]: the offsets of every queue of a topic,
// in the spirit of `mqadmin topicStatus`. The topic's route comes from the name servers; each
// broker group in it is asked GET_TOPIC_STATS_INFO (202) on its master, then on its other
// replicas while one does not answer. One row per queue:
//   BROKER  QID  MIN  MAX  LAST_UPDATED
// MAX is the next offset to be written (MAX - MIN messages retained), LAST_UPDATED the store time
// of the newest message (UTC, "-" for an empty queue). --json prints an array of
// {"brokerName","queueId","minOffset","maxOffset","lastUpdateTimestamp"}.
// Exit 0 when every broker group answered, 1 when the topic is unknown or a group did not
// answer (stderr names it and each replica's error; the others are still printed), 2 for bad
// flags.
#pragma once

#include <CLI/CLI.hpp>

#include "broker/programs/dledgerctl/cli_common.h"

namespace dledger::ctl {

void add_topic_status_command(CLI::App& app, CommandAction& action);

}  // namespace dledger::ctl
