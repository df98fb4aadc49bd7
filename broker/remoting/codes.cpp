#include "broker/remoting/codes.h"

#include <array>

namespace dledger::remoting {

namespace {

constexpr std::array<std::string_view, 13> kLanguageNames = {
    "JAVA",  "CPP",  "DOTNET", "PYTHON", "DELPHI", "ERLANG", "RUBY",
    "OTHER", "HTTP", "GO",     "PHP",    "OMS",    "RUST"};

struct CodeName {
  int32_t code;
  std::string_view name;
};

constexpr CodeName kRequestNames[] = {
    {request_code::kSendMessage, "SEND_MESSAGE"},
    {request_code::kPullMessage, "PULL_MESSAGE"},
    {request_code::kQueryMessage, "QUERY_MESSAGE"},
    {request_code::kQueryConsumerOffset, "QUERY_CONSUMER_OFFSET"},
    {request_code::kUpdateConsumerOffset, "UPDATE_CONSUMER_OFFSET"},
    {request_code::kUpdateAndCreateTopic, "UPDATE_AND_CREATE_TOPIC"},
    {request_code::kGetAllTopicConfig, "GET_ALL_TOPIC_CONFIG"},
    {request_code::kGetBrokerRuntimeInfo, "GET_BROKER_RUNTIME_INFO"},
    {request_code::kSearchOffsetByTimestamp, "SEARCH_OFFSET_BY_TIMESTAMP"},
    {request_code::kGetMaxOffset, "GET_MAX_OFFSET"},
    {request_code::kGetMinOffset, "GET_MIN_OFFSET"},
    {request_code::kGetEarliestMsgStoretime, "GET_EARLIEST_MSG_STORETIME"},
    {request_code::kViewMessageById, "VIEW_MESSAGE_BY_ID"},
    {request_code::kHeartBeat, "HEART_BEAT"},
    {request_code::kUnregisterClient, "UNREGISTER_CLIENT"},
    {request_code::kConsumerSendMsgBack, "CONSUMER_SEND_MSG_BACK"},
    {request_code::kEndTransaction, "END_TRANSACTION"},
    {request_code::kGetConsumerListByGroup, "GET_CONSUMER_LIST_BY_GROUP"},
    {request_code::kCheckTransactionState, "CHECK_TRANSACTION_STATE"},
    {request_code::kNotifyConsumerIdsChanged, "NOTIFY_CONSUMER_IDS_CHANGED"},
    {request_code::kLockBatchMq, "LOCK_BATCH_MQ"},
    {request_code::kUnlockBatchMq, "UNLOCK_BATCH_MQ"},
    {request_code::kGetAllConsumerOffset, "GET_ALL_CONSUMER_OFFSET"},
    {request_code::kGetAllDelayOffset, "GET_ALL_DELAY_OFFSET"},
    {request_code::kRegisterBroker, "REGISTER_BROKER"},
    {request_code::kUnregisterBroker, "UNREGISTER_BROKER"},
    {request_code::kGetRouteinfoByTopic, "GET_ROUTEINFO_BY_TOPIC"},
    {request_code::kGetBrokerClusterInfo, "GET_BROKER_CLUSTER_INFO"},
    {request_code::kUpdateAndCreateSubscriptionGroup, "UPDATE_AND_CREATE_SUBSCRIPTIONGROUP"},
    {request_code::kGetAllSubscriptionGroupConfig, "GET_ALL_SUBSCRIPTIONGROUP_CONFIG"},
    {request_code::kGetTopicStatsInfo, "GET_TOPIC_STATS_INFO"},
    {request_code::kGetConsumerConnectionList, "GET_CONSUMER_CONNECTION_LIST"},
    {request_code::kGetProducerConnectionList, "GET_PRODUCER_CONNECTION_LIST"},
    {request_code::kGetAllTopicListFromNameserver, "GET_ALL_TOPIC_LIST_FROM_NAMESERVER"},
    {request_code::kDeleteSubscriptionGroup, "DELETE_SUBSCRIPTIONGROUP"},
    {request_code::kGetConsumeStats, "GET_CONSUME_STATS"},
    {request_code::kDeleteTopicInBroker, "DELETE_TOPIC_IN_BROKER"},
    {request_code::kDeleteTopicInNamesrv, "DELETE_TOPIC_IN_NAMESRV"},
    {request_code::kGetTopicsByCluster, "GET_TOPICS_BY_CLUSTER"},
    {request_code::kGetConsumerRunningInfo, "GET_CONSUMER_RUNNING_INFO"},
    {request_code::kConsumeMessageDirectly, "CONSUME_MESSAGE_DIRECTLY"},
    {request_code::kSendMessageV2, "SEND_MESSAGE_V2"},
    {request_code::kGetBrokerConsumeStats, "GET_BROKER_CONSUME_STATS"},
    {request_code::kSendBatchMessage, "SEND_BATCH_MESSAGE"},
    {request_code::kQueryConsumeQueue, "QUERY_CONSUME_QUEUE"},
    {request_code::kQueryDataVersion, "QUERY_DATA_VERSION"},
    {request_code::kSendReplyMessage, "SEND_REPLY_MESSAGE"},
    {request_code::kSendReplyMessageV2, "SEND_REPLY_MESSAGE_V2"},
};

}  // namespace

std::optional<std::string_view> language_name(uint8_t code) {
  if (code < kLanguageNames.size()) return kLanguageNames[code];
  return std::nullopt;
}

std::optional<uint8_t> language_from_name(std::string_view name) {
  for (std::size_t i = 0; i < kLanguageNames.size(); ++i) {
    if (kLanguageNames[i] == name) return static_cast<uint8_t>(i);
  }
  return std::nullopt;
}

std::string_view request_code_name(int32_t code) {
  for (const auto& entry : kRequestNames) {
    if (entry.code == code) return entry.name;
  }
  return "UNKNOWN";
}

}  // namespace dledger::remoting
