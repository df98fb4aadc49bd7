// dledgerctl consumerProgress -n <namesrv> -g <group> [-t <topic>] [--json]: how far a consumer
// group is behind, in the spirit of `mqadmin consumerProgress -g`. Every broker group the name
// servers know (with -t: every broker group of the topic's route) is asked GET_CONSUME_STATS
// (208) on its master, then on its other replicas while one does not answer. Without -t the
// brokers report every topic the group has committed offsets on (its %RETRY% topic included).
// One row per queue, then the total:
//   TOPIC  BROKER  QID  BROKER_OFFSET  CONSUMER_OFFSET  DIFF  LAST_CONSUMED
// DIFF = BROKER_OFFSET - CONSUMER_OFFSET (messages not yet consumed); LAST_CONSUMED is the store
// time of the last consumed message (UTC, "-" when unknown).
//   Diff Total: <sum of DIFF>
// --json prints {"consumerGroup","diffTotal","queues":[{"topic","brokerName","queueId",
// "brokerOffset","consumerOffset","diff","lastTimestamp"}]}.
// Exit 0 when every broker group answered, 1 when one did not (stderr names it; the others are
// still printed) or the topic is unknown, 2 for bad flags.
#pragma once

#include <iosfwd>
#include <string>

#include "broker/programs/dledgerctl/cli_common.h"
#include "broker/programs/dledgerctl/remoting_session.h"

namespace dledger::ctl {

struct ConsumerProgressOptions {
  BrokerCommonOptions common;
  std::string group;
  std::string topic;  // "" = every topic the group has offsets on
};

int run_consumer_progress(const ConsumerProgressOptions& options, std::ostream& out,
                          std::ostream& err);

}  // namespace dledger::ctl
