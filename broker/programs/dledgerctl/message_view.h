// How dledgerctl shows a stored message (consumeMessage, queryMsgById): text cells that keep a
// table readable, and one JSON shape for both commands.
#pragma once

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

}  // namespace dledger::ctl
