// dledgerctl consumeMessage -n <namesrv> -t <topic> [-g group] [--max N] [--json]
// A quick consume check with PULL_MESSAGE (11), queue by queue over the topic's route (every
// readable queue of every broker group; pulls go to the master, then to the slaves: every replica
// serves committed data).
//   without -g   reads each queue from its min offset (GET_MIN_OFFSET, 31); commits nothing;
//   with -g      starts at the group's committed offset (QUERY_CONSUMER_OFFSET, 14; the min offset
//                when the group has none) and commits where it stopped (UPDATE_CONSUMER_OFFSET,
//                15), so the next call continues there.
// Stops after --max messages in total (default 32). Prints
//   BROKER  QUEUE  OFFSET  MSGID  TAGS  KEYS  BODY
// or, with --json, an array of {"brokerName","queueId","queueOffset","msgId","uniqKey","tags",
// "keys","properties":{},"body","bornTimestamp","storeTimestamp"}. Bodies are printed as text
// (invalid UTF-8 replaced in JSON). Exit 0 when every queue was read, 1 otherwise (stderr names
// the address and the broker's answer), 2 for bad flags.
#pragma once

#include <iosfwd>
#include <string>

#include "broker/programs/dledgerctl/cli_common.h"
#include "broker/programs/dledgerctl/remoting_session.h"

namespace dledger::ctl {

struct ConsumeMessageOptions {
  BrokerCommonOptions common;
  std::string topic;
  std::string group;
  int max_messages = 32;
};

int run_consume_message(const ConsumeMessageOptions& options, std::ostream& out, std::ostream& err);

}  // namespace dledger::ctl
