#include "broker/programs/dledgerctl/query_msg_by_id_command.h"

#include <algorithm>
#include <optional>
#include <ostream>

#include <nlohmann/json.hpp>

#include "broker/programs/dledgerctl/message_view.h"
#include "broker/remoting/codes.h"
#include "broker/remoting/message_codec.h"
#include "broker/remoting/message_properties.h"

namespace dledger::ctl {
namespace {

using nlohmann::json;

// Where to ask, in order: the replica named in the msgId, then the other replicas of its
// broker group (master first); when no group lists that replica any more (it died and its
// registration was replaced or expired), every group's replicas. A physical offset means
// something only in the group that stored it, so an answer counts only if the message it
// returns carries the same msgId (store host and offset), which rules out another group's
// message at the same offset.
struct Candidate {
  std::string broker_name;  // "-" when unknown
  std::string address;
};

std::vector<Candidate> candidates(const remoting::ClusterInfo* info, const std::string& stored_by) {
  std::vector<Candidate> out;
  std::string stored_by_group = "-";
  if (info != nullptr) {
    for (const auto& [name, broker] : info->broker_addr_table) {
      auto addresses = addresses_master_first(broker);
      if (std::find(addresses.begin(), addresses.end(), stored_by) != addresses.end()) {
        stored_by_group = name;
      }
    }
  }
  out.push_back({stored_by_group, stored_by});
  if (info == nullptr) return out;
  for (const auto& [name, broker] : info->broker_addr_table) {
    if (stored_by_group != "-" && name != stored_by_group) continue;
    for (const std::string& address : addresses_master_first(broker)) {
      if (address != stored_by) out.push_back({name, address});
    }
  }
  return out;
}

}  // namespace

int run_query_msg_by_id(const QueryMsgByIdOptions& options, std::ostream& out, std::ostream& err) {
  auto id = remoting::decode_offset_msg_id(options.msg_id);
  if (!id.ok()) {
    err << "dledgerctl queryMsgById: -i: " << id.error().message << "\n";
    return kExitUsage;
  }
  auto namesrvs = options.common.namesrv_addresses();
  if (!namesrvs.ok()) {
    err << "dledgerctl queryMsgById: " << namesrvs.error().message << "\n";
    return kExitUsage;
  }
  RemotingSession session(options.common.timeout());
  const std::string stored_by = id->store_host.to_string();

  std::string namesrv_error;
  auto info = session.cluster_info(*namesrvs);
  if (!info.ok()) namesrv_error = info.error().message;
  const std::vector<Candidate> asked = candidates(info.ok() ? &*info : nullptr, stored_by);

  remoting::RemotingCommand request =
      remoting::make_request(remoting::request_code::kViewMessageById, 0);
  request.ext_fields["offset"] = std::to_string(id->physical_offset);
  // The canonical (upper-case) form of the requested id, as offset_msg_id prints it.
  const std::string wanted = remoting::encode_offset_msg_id(id->store_host, id->physical_offset);
  const Candidate* answered = nullptr;
  std::optional<remoting::MessageRecord> found;
  std::string errors;  // each address with its answer (invoke_ok's errors name it)
  auto note = [&errors](const std::string& error) {
    errors += (errors.empty() ? "" : "; ") + error;
  };
  for (const Candidate& candidate : asked) {
    auto reply = session.invoke_ok(candidate.address, request);
    if (!reply.ok()) {
      note(reply.error().message);
      continue;
    }
    auto records = remoting::decode_message_records(reply->body);
    if (!records.ok() || records->size() != 1) {
      note(candidate.address + ": VIEW_MESSAGE_BY_ID body: " +
           (records.ok() ? std::to_string(records->size()) + " messages instead of 1"
                         : records.error().message));
      continue;
    }
    if (const std::string got = remoting::offset_msg_id(records->front()); got != wanted) {
      note(candidate.address + ": holds another message at that offset (msgId " + got + ")");
      continue;
    }
    answered = &candidate;
    found = std::move(records->front());
    break;
  }
  if (!found) {
    err << "dledgerctl queryMsgById: message " << options.msg_id << " not found: " << errors;
    if (!namesrv_error.empty()) {
      err << " (the other replicas of its group are unknown: " << namesrv_error << ")";
    }
    err << "\n";
    return kExitFailed;
  }
  const remoting::MessageRecord& record = *found;
  auto decoded = remoting::decode_message_properties(record.properties);
  remoting::MessageProperties properties = decoded.ok() ? *decoded : remoting::MessageProperties{};

  if (options.common.json) {
    json message = message_json(record, properties);
    message["brokerName"] = answered->broker_name;
    message["address"] = answered->address;
    message["topic"] = record.topic;
    message["physicalOffset"] = record.physical_offset;
    message["storeHost"] = record.store_host.to_string();
    message["bornHost"] = record.born_host.to_string();
    message["reconsumeTimes"] = record.reconsume_times;
    message["sysFlag"] = record.sys_flag;
    message["bodyBytes"] = record.body.size();
    out << message.dump(2, ' ', false, json::error_handler_t::replace) << "\n";
    return kExitOk;
  }
  std::string all;
  for (const auto& [key, value] : properties) {
    all += (all.empty() ? "" : ", ") + key + "=" + printable(value);
  }
  if (!decoded.ok()) all = "(undecodable: " + decoded.error().message + ")";
  const std::vector<std::pair<std::string, std::string>> fields = {
      {"msgId", remoting::offset_msg_id(record)},
      {"brokerName", answered->broker_name},
      {"address", answered->address},
      {"topic", record.topic},
      {"queueId", std::to_string(record.queue_id)},
      {"queueOffset", std::to_string(record.queue_offset)},
      {"physicalOffset", std::to_string(record.physical_offset)},
      {"tags", printable(property(properties, remoting::property_key::kTags))},
      {"keys", printable(property(properties, remoting::property_key::kKeys))},
      {"uniqKey", printable(property(properties, remoting::property_key::kUniqKey))},
      {"storeHost", record.store_host.to_string()},
      {"bornHost", record.born_host.to_string()},
      {"bornTimestamp", format_unix_ms(record.born_timestamp_ms)},
      {"storeTimestamp", format_unix_ms(record.store_timestamp_ms)},
      {"reconsumeTimes", std::to_string(record.reconsume_times)},
      {"properties", all.empty() ? "-" : all},
      {"bodyBytes", std::to_string(record.body.size())},
      {"body", printable(record.body)},
  };
  for (const auto& [name, value] : fields) {
    out << name << ":" << std::string(16 - name.size(), ' ') << value << "\n";
  }
  return kExitOk;
}

}  // namespace dledger::ctl
