// dledgerctl producerConnection -n <namesrv> -g <producerGroup> [-t <topic>] [--json]: which
// clients of a producer group are connected, in the spirit of `mqadmin producerConnection`.
// Each replica knows only the producers connected to it (a producer may write through any
// replica behind a group address), so every replica of every broker group is asked
// GET_PRODUCER_CONNECTION_LIST (204): the groups of the topic's route with -t, else every group
// the name servers know. Prints one row per client and replica:
//   BROKER  REPLICA  CLIENT_ID  ADDRESS  LANGUAGE  VERSION
// --json prints {"producerGroup","connections":[{"brokerName","replica","clientId",
// "clientAddr","language","version"}]}.
// Exit 0 when some replica lists a client and every replica answered; 1 when none lists one or a
// replica did not answer (stderr names it), 2 for bad flags.
#pragma once

#include <iosfwd>
#include <string>

#include "broker/programs/dledgerctl/cli_common.h"
#include "broker/programs/dledgerctl/remoting_session.h"

namespace dledger::ctl {

struct ProducerConnectionOptions {
  BrokerCommonOptions common;
  std::string group;
  std::string topic;  // "" = every broker group
};

int run_producer_connection(const ProducerConnectionOptions& options, std::ostream& out,
                            std::ostream& err);

}  // namespace dledger::ctl
