// dledgerctl topicList -n <namesrv> [--json]: every topic some live broker serves
// (GET_ALL_TOPIC_LIST_FROM_NAMESERVER, 206), one per line, sorted; --json prints a JSON array.
// Exit 0 on an answer, 1 when no name server answered (stderr names each), 2 for bad flags.
#pragma once

#include <iosfwd>
#include <string>

#include "broker/programs/dledgerctl/cli_common.h"
#include "broker/programs/dledgerctl/remoting_session.h"

namespace dledger::ctl {

struct TopicListOptions {
  BrokerCommonOptions common;
};

int run_topic_list(const TopicListOptions& options, std::ostream& out, std::ostream& err);

}  // namespace dledger::ctl
