// LOCK_BATCH_MQ (41) / UNLOCK_BATCH_MQ (42) bodies, used by orderly consumers.
//
//   request body: {"consumerGroup":"CG","clientId":"10.0.0.5@1","mqSet":[{"topic":"T",
//                  "brokerName":"broker-a","queueId":0}]}
//   lock reply body: {"lockOKMQSet":[{"brokerName":"broker-a","queueId":0,"topic":"T"}]}
#pragma once

#include <cstdint>
#include <set>
#include <string>
#include <string_view>
#include <tuple>

#include "broker/base/result.h"

namespace dledger::remoting {

struct MessageQueue {
  std::string topic;
  std::string broker_name;
  int32_t queue_id = 0;

  auto operator<=>(const MessageQueue&) const = default;
  bool operator==(const MessageQueue&) const = default;
};

struct LockBatchRequest {
  std::string consumer_group;
  std::string client_id;
  std::set<MessageQueue> mq_set;
  bool operator==(const LockBatchRequest&) const = default;
};

// Errors name the JSON path ("LockBatchRequestBody: mqSet[2].queueId ...").
Result<LockBatchRequest> parse_lock_batch_body(std::string_view body);
std::string write_lock_batch_body(const LockBatchRequest& request);
std::string write_lock_batch_response_body(const std::set<MessageQueue>& locked);

}  // namespace dledger::remoting
