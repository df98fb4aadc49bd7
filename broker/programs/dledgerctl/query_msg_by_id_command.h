// dledgerctl queryMsgById -i <msgId> [-n <namesrv>] [--json]: one message by its offset msgId
// (the msgId of a SEND_OK; `offsetMsgId` in the Java client), in the spirit of
// `mqadmin queryMsgById`. The msgId carries the address of the replica that stored the message
// and its physical offset. VIEW_MESSAGE_BY_ID (33) goes to that replica first, then to the other
// replicas of its broker group as the name servers list them (master first): after a failover
// the replica that stored it may be gone, and every replica serves what it has applied. When no
// group lists that replica any more, every group's replicas are asked. An answer counts only if
// the message it returns has the requested msgId (store host and offset): a physical offset
// means something only in the group that stored it.
// Prints one "field: value" line each:
//   msgId, brokerName (- when no name server knows the address), address (the replica that
//   answered), topic, queueId, queueOffset, physicalOffset, tags, keys, uniqKey, storeHost,
//   bornHost, bornTimestamp, storeTimestamp, reconsumeTimes, properties (k=v, ...), bodyBytes,
//   body (control characters shown as '.')
// or, with --json, one object: consumeMessage's fields plus brokerName, address, topic,
// physicalOffset, storeHost, bornHost, reconsumeTimes, sysFlag and bodyBytes.
// Exit 0 when found; 1 when no replica has it or none answered (stderr names every address
// with its answer); 2 for bad flags or a malformed msgId.
#pragma once

#include <iosfwd>
#include <string>

#include "broker/programs/dledgerctl/cli_common.h"
#include "broker/programs/dledgerctl/remoting_session.h"

namespace dledger::ctl {

struct QueryMsgByIdOptions {
  BrokerCommonOptions common;
  std::string msg_id;
};

int run_query_msg_by_id(const QueryMsgByIdOptions& options, std::ostream& out, std::ostream& err);

}  // namespace dledger::ctl
