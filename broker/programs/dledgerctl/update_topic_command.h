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

#include <iosfwd>
#include <string>

#include "broker/programs/dledgerctl/cli_common.h"
#include "broker/programs/dledgerctl/remoting_session.h"

namespace dledger::ctl {

struct UpdateTopicOptions {
  BrokerCommonOptions common;
  std::string topic;
  int read_queues = 8;
  int write_queues = 8;
  int perm = 6;
  std::string broker_address;
  std::string cluster;
};

int run_update_topic(const UpdateTopicOptions& options, std::ostream& out, std::ostream& err);

}  // namespace dledger::ctl
