// dledgerctl consumerConnection -n <namesrv> -g <group> [--json]: who consumes for a group, in
// the spirit of `mqadmin consumerConnection`. Every broker group the name servers know is asked
// GET_CONSUMER_CONNECTION_LIST (203) (its leader answers; the master is asked first, then the
// other replicas while one does not answer). Prints one row per client and broker group:
//   BROKER  CLIENT_ID  ADDRESS  LANGUAGE  VERSION
// then the group's consumeType, messageModel and consumeFromWhere (from the broker that answered
// first) and its subscriptions:
//   TOPIC  EXPRESSION
// --json prints {"consumerGroup","brokers":[{"brokerName","connections":[{"clientId",
// "clientAddr","language","version"}],"consumeType","messageModel","consumeFromWhere",
// "subscriptions":[{"topic","subString","expressionType"}]}]}.
// Exit 0 when at least one broker group knows live clients of the group and every broker group
// answered; 1 when none knows the group ("not online") or a broker group did not answer (stderr
// names it), 2 for bad flags.
#pragma once

#include <iosfwd>
#include <string>

#include "broker/programs/dledgerctl/cli_common.h"
#include "broker/programs/dledgerctl/remoting_session.h"

namespace dledger::ctl {

struct ConsumerConnectionOptions {
  BrokerCommonOptions common;
  std::string group;
};

int run_consumer_connection(const ConsumerConnectionOptions& options, std::ostream& out,
                            std::ostream& err);

}  // namespace dledger::ctl
