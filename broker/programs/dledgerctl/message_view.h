// How dledgerctl shows a stored message (consumeMessage, queryMsgById, queryMsgByKey): text cells
// that keep a table readable, and one JSON shape for both commands.
#pragma once

#include <ostream>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "broker/remoting/message_codec.h"
#include "broker/remoting/message_properties.h"

namespace dledger::ctl {

// `text` with control characters shown as '.', "-" when empty.
std::string printable(const std::string& text);
// The property `key`, "" when absent.
std::string property(const remoting::MessageProperties& properties, std::string_view key);
// {"queueId","queueOffset","msgId","uniqKey","tags","keys","properties":{},"body",
//  "bornTimestamp","storeTimestamp"}; the body as text (invalid UTF-8 is replaced when dumped
// with error_handler_t::replace).
nlohmann::json message_json(const remoting::MessageRecord& record,
                            const remoting::MessageProperties& properties);

// One message in full, as queryMsgById and queryMsgByKey print it: one "field: value" line each
// (msgId, brokerName, address, topic, queueId, queueOffset, physicalOffset, tags, keys, uniqKey,
// storeHost, bornHost, bornTimestamp, storeTimestamp, reconsumeTimes, properties, bodyBytes,
// body), where `address` is the replica that answered and `broker_name` its group ("-" when
// unknown).
void print_message_detail(std::ostream& out, const remoting::MessageRecord& record,
                          const std::string& broker_name, const std::string& address);
// The same as JSON: message_json's fields plus brokerName, address, topic, physicalOffset,
// storeHost, bornHost, reconsumeTimes, sysFlag and bodyBytes.
nlohmann::json message_detail_json(const remoting::MessageRecord& record,
                                   const std::string& broker_name, const std::string& address);

}  // namespace dledger::ctl
