// dledgerctl sendMessage -n <namesrv> -t <topic> -p <body> [--tags T] [--keys K] [--count N]
//                        [--group G] [--retries R] [--json]
// A quick produce check, as a RocketMQ producer does it: the topic's route from the name server
// (GET_ROUTEINFO_BY_TOPIC, 105), then SEND_MESSAGE_V2 (310) to the master (BID 0) of a group
// that has a writable queue, queues taken round robin from a random start. A send refused by
// the broker or failing on the network is retried on a fresh route (and the next queue) up to
// --retries times (default 2), as producers do after a failover. Properties: TAGS, KEYS, a random
// UNIQ_KEY, WAIT=true. Prints one line per message:
//   SEND_OK msgId=<offset msgId> broker=<name> address=<addr> queueId=<q> queueOffset=<o>
// or, with --json, one JSON object per line {"status","msgId","uniqKey","brokerName","address",
// "queueId","queueOffset"}. Exit 0 when every message was acknowledged, 1 otherwise (stderr
// names the address and the broker's answer), 2 for bad flags.
#pragma once

#include <iosfwd>
#include <string>

#include "broker/programs/dledgerctl/cli_common.h"
#include "broker/programs/dledgerctl/remoting_session.h"

namespace dledger::ctl {

struct SendMessageOptions {
  BrokerCommonOptions common;
  std::string topic;
  std::string body;
  std::string tags;
  std::string keys;
  std::string group = "dledgerctl_producer";
  int count = 1;
  int retries = 2;
};

int run_send_message(const SendMessageOptions& options, std::ostream& out, std::ostream& err);

}  // namespace dledger::ctl
