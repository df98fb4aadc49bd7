// Numeric constants of the RocketMQ 4.x remoting protocol: request codes, response codes and the
// language byte. Values are fixed by the wire protocol (RocketMQ 4.9 RequestCode / ResponseCode /
// LanguageCode); never renumber them.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace dledger::remoting {

// Request codes (RemotingCommand.code of a request).
namespace request_code {
inline constexpr int32_t kSendMessage = 10;
inline constexpr int32_t kPullMessage = 11;
inline constexpr int32_t kQueryMessage = 12;
inline constexpr int32_t kQueryConsumerOffset = 14;
inline constexpr int32_t kUpdateConsumerOffset = 15;
inline constexpr int32_t kUpdateAndCreateTopic = 17;
inline constexpr int32_t kGetAllTopicConfig = 21;
inline constexpr int32_t kGetBrokerRuntimeInfo = 28;
inline constexpr int32_t kSearchOffsetByTimestamp = 29;
inline constexpr int32_t kGetMaxOffset = 30;
inline constexpr int32_t kGetMinOffset = 31;
inline constexpr int32_t kGetEarliestMsgStoretime = 32;
inline constexpr int32_t kViewMessageById = 33;
inline constexpr int32_t kHeartBeat = 34;
inline constexpr int32_t kUnregisterClient = 35;
inline constexpr int32_t kConsumerSendMsgBack = 36;
inline constexpr int32_t kEndTransaction = 37;
inline constexpr int32_t kGetConsumerListByGroup = 38;
inline constexpr int32_t kCheckTransactionState = 39;
inline constexpr int32_t kNotifyConsumerIdsChanged = 40;
inline constexpr int32_t kLockBatchMq = 41;
inline constexpr int32_t kUnlockBatchMq = 42;
inline constexpr int32_t kGetAllConsumerOffset = 43;
inline constexpr int32_t kGetAllDelayOffset = 45;
inline constexpr int32_t kRegisterBroker = 103;
inline constexpr int32_t kUnregisterBroker = 104;
inline constexpr int32_t kGetRouteinfoByTopic = 105;
inline constexpr int32_t kGetBrokerClusterInfo = 106;
inline constexpr int32_t kUpdateAndCreateSubscriptionGroup = 200;
inline constexpr int32_t kGetAllSubscriptionGroupConfig = 201;
inline constexpr int32_t kGetTopicStatsInfo = 202;
inline constexpr int32_t kGetConsumerConnectionList = 203;
inline constexpr int32_t kGetProducerConnectionList = 204;
inline constexpr int32_t kGetAllTopicListFromNameserver = 206;
inline constexpr int32_t kDeleteSubscriptionGroup = 207;
inline constexpr int32_t kGetConsumeStats = 208;
inline constexpr int32_t kDeleteTopicInBroker = 215;
inline constexpr int32_t kDeleteTopicInNamesrv = 216;
inline constexpr int32_t kGetTopicsByCluster = 224;
inline constexpr int32_t kGetConsumerRunningInfo = 307;
inline constexpr int32_t kConsumeMessageDirectly = 309;
inline constexpr int32_t kSendMessageV2 = 310;
inline constexpr int32_t kGetBrokerConsumeStats = 317;
inline constexpr int32_t kSendBatchMessage = 320;
inline constexpr int32_t kQueryConsumeQueue = 321;
inline constexpr int32_t kQueryDataVersion = 322;
inline constexpr int32_t kSendReplyMessage = 324;
inline constexpr int32_t kSendReplyMessageV2 = 325;
}  // namespace request_code

// Response codes (RemotingCommand.code of a response).
namespace response_code {
inline constexpr int32_t kSuccess = 0;
inline constexpr int32_t kSystemError = 1;
inline constexpr int32_t kSystemBusy = 2;
inline constexpr int32_t kRequestCodeNotSupported = 3;
inline constexpr int32_t kFlushDiskTimeout = 10;
inline constexpr int32_t kSlaveNotAvailable = 11;
inline constexpr int32_t kFlushSlaveTimeout = 12;
inline constexpr int32_t kMessageIllegal = 13;
inline constexpr int32_t kServiceNotAvailable = 14;
inline constexpr int32_t kVersionNotSupported = 15;
inline constexpr int32_t kNoPermission = 16;
inline constexpr int32_t kTopicNotExist = 17;
inline constexpr int32_t kTopicExistAlready = 18;
inline constexpr int32_t kPullNotFound = 19;
inline constexpr int32_t kPullRetryImmediately = 20;
inline constexpr int32_t kPullOffsetMoved = 21;
inline constexpr int32_t kQueryNotFound = 22;
inline constexpr int32_t kSubscriptionParseFailed = 23;
inline constexpr int32_t kSubscriptionNotExist = 24;
inline constexpr int32_t kSubscriptionNotLatest = 25;
inline constexpr int32_t kSubscriptionGroupNotExist = 26;
inline constexpr int32_t kConsumerNotOnline = 206;
}  // namespace response_code

// Language byte of the binary header; the JSON header carries the name ("JAVA").
namespace language_code {
inline constexpr uint8_t kJava = 0;
inline constexpr uint8_t kCpp = 1;
inline constexpr uint8_t kDotnet = 2;
inline constexpr uint8_t kPython = 3;
inline constexpr uint8_t kDelphi = 4;
inline constexpr uint8_t kErlang = 5;
inline constexpr uint8_t kRuby = 6;
inline constexpr uint8_t kOther = 7;
inline constexpr uint8_t kHttp = 8;
inline constexpr uint8_t kGo = 9;
inline constexpr uint8_t kPhp = 10;
inline constexpr uint8_t kOms = 11;
inline constexpr uint8_t kRust = 12;
}  // namespace language_code

// "JAVA" for 0 ...; nullopt for a byte with no known name.
std::optional<std::string_view> language_name(uint8_t code);
// Inverse of language_name; nullopt for an unknown name (case-sensitive, as Java's enum).
std::optional<uint8_t> language_from_name(std::string_view name);

// Symbolic name of a request code ("SEND_MESSAGE_V2"), or "UNKNOWN" for codes not listed above.
// Used in error messages and logs.
std::string_view request_code_name(int32_t code);

}  // namespace dledger::remoting
