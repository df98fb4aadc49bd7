// dledgerctl queryMsgByKey -t <topic> -k <key> and queryMsgByUniqueKey -t <topic> -i <msgId>:
// messages by one of their KEYS, or by the UNIQ_KEY a producer's SendResult reports as msgId,
// in the spirit of `mqadmin queryMsgByKey` / `queryMsgByUniqueKey`. QUERY_MESSAGE (12) goes to
// every broker group of the topic's route (each group's replicas in turn, master first, until
// one answers); the broker scans the store-time range [--begin-ms, --end-ms] (default: all;
// for a unique key, from a day before the time the msgId carries), at most 64 messages per
// group (--max, default 32).
// Prints each message as queryMsgById does, with a blank line between them, or, with --json,
// an array of queryMsgById's objects. A group whose scan stopped at its budget before the end
// of the range gets a warning on stderr (narrow the range to see everything).
// Exit 0 when some message was found; 1 when none was (stderr names every group with its
// answer); 2 for bad flags.
#pragma once

#include <cstdint>
#include <iosfwd>
#include <optional>
#include <string>

#include "broker/programs/dledgerctl/remoting_session.h"

namespace dledger::ctl {

struct QueryMsgByKeyOptions {
  BrokerCommonOptions common;
  std::string topic;
  std::string key;
  bool unique_key = false;  // queryMsgByUniqueKey
  std::optional<std::int64_t> begin_ms;
  std::optional<std::int64_t> end_ms;
  int max = 32;
};

int run_query_msg_by_key(const QueryMsgByKeyOptions& options, std::ostream& out, std::ostream& err);

}  // namespace dledger::ctl
