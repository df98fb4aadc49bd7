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

#include <iosfwd>
#include <string>

#include "broker/programs/dledgerctl/cli_common.h"
#include "broker/programs/dledgerctl/remoting_session.h"

namespace dledger::ctl {

struct TopicStatusOptions {
  BrokerCommonOptions common;
  std::string topic;
};

int run_topic_status(const TopicStatusOptions& options, std::ostream& out, std::ostream& err);

}  // namespace dledger::ctl
