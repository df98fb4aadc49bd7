#include "broker/remoting/lock_batch.h"

#include <limits>

#include "broker/remoting/json_util.h"

namespace dledger::remoting {

using nlohmann::json;

namespace {

json mq_set_json(const std::set<MessageQueue>& set) {
  json out = json::array();
  for (const auto& mq : set) {
    out.push_back({{"brokerName", mq.broker_name}, {"queueId", mq.queue_id}, {"topic", mq.topic}});
  }
  return out;
}

}  // namespace

Result<LockBatchRequest> parse_lock_batch_body(std::string_view body) {
  auto parsed = parse_json(body, "LockBatchRequestBody");
  if (!parsed.ok()) return parsed.error();
  JsonBodyReader r("LockBatchRequestBody");
  LockBatchRequest req;
  if (!r.expect_object(*parsed, "")) return r.error();
  req.consumer_group = r.string(*parsed, "", "consumerGroup", true);
  req.client_id = r.string(*parsed, "", "clientId", true);
  if (const json* set = r.array(*parsed, "", "mqSet", false)) {
    for (std::size_t i = 0; i < set->size() && r.ok(); ++i) {
      std::string path = "mqSet[" + std::to_string(i) + "]";
      const json& item = (*set)[i];
      if (!r.expect_object(item, path)) break;
      MessageQueue mq;
      mq.topic = r.string(item, path, "topic", true);
      mq.broker_name = r.string(item, path, "brokerName", true);
      mq.queue_id = static_cast<int32_t>(
          r.integer(item, path, "queueId", true, 0, std::numeric_limits<int32_t>::max()));
      req.mq_set.insert(std::move(mq));
    }
  }
  if (!r.ok()) return r.error();
  return req;
}

std::string write_lock_batch_body(const LockBatchRequest& request) {
  json out = json::object();
  out["clientId"] = request.client_id;
  out["consumerGroup"] = request.consumer_group;
  out["mqSet"] = mq_set_json(request.mq_set);
  return dump_json(out);
}

std::string write_lock_batch_response_body(const std::set<MessageQueue>& locked) {
  json out = json::object();
  out["lockOKMQSet"] = mq_set_json(locked);
  return dump_json(out);
}

}  // namespace dledger::remoting
