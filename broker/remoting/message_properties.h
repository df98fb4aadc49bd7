// Message properties as RocketMQ stores and sends them: `key\x01value\x02key\x01value\x02`
// (NAME_VALUE_SEPARATOR 0x01, PROPERTY_SEPARATOR 0x02; the final 0x02 is optional on input).
// Well-known keys are listed in property_key.
#pragma once

#include <map>
#include <string>
#include <string_view>

#include "broker/base/result.h"

namespace dledger::remoting {

namespace property_key {
inline constexpr std::string_view kTags = "TAGS";
inline constexpr std::string_view kKeys = "KEYS";
inline constexpr std::string_view kUniqKey = "UNIQ_KEY";
inline constexpr std::string_view kWaitStoreMsgOk = "WAIT";
inline constexpr std::string_view kDelayTimeLevel = "DELAY";
inline constexpr std::string_view kRetryTopic = "RETRY_TOPIC";
inline constexpr std::string_view kRealTopic = "REAL_TOPIC";
inline constexpr std::string_view kRealQueueId = "REAL_QID";
inline constexpr std::string_view kProducerGroup = "PGROUP";
inline constexpr std::string_view kReconsumeTime = "RECONSUME_TIME";
inline constexpr std::string_view kMaxReconsumeTimes = "MAX_RECONSUME_TIMES";
inline constexpr std::string_view kOriginMessageId = "ORIGIN_MESSAGE_ID";
inline constexpr std::string_view kMinOffset = "MIN_OFFSET";
inline constexpr std::string_view kMaxOffset = "MAX_OFFSET";
inline constexpr std::string_view kTransactionPrepared = "TRAN_MSG";
}  // namespace property_key

inline constexpr char kNameValueSeparator = '\x01';
inline constexpr char kPropertySeparator = '\x02';

using MessageProperties = std::map<std::string, std::string>;

// Encodes in key order, each pair followed by 0x02. Errors: an empty key, or a key or value
// containing 0x01 or 0x02 (it would not decode back to the same map).
Result<std::string> encode_message_properties(const MessageProperties& properties);

// Decodes; empty input = empty map. Empty items (e.g. a doubled 0x02) are skipped, as Java does.
// Errors, naming the byte offset of the item: an item without 0x01, an empty key, a value that
// contains 0x01. A repeated key keeps its last value (Java's HashMap).
Result<MessageProperties> decode_message_properties(std::string_view text);

}  // namespace dledger::remoting
