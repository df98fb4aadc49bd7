#include "broker/programs/dledgerctl/message_view.h"

#include <utility>
#include <vector>

#include "broker/programs/dledgerctl/cli_common.h"

namespace dledger::ctl {

std::string printable(const std::string& text) {
  std::string out;
  for (char c : text) {
    out.push_back(static_cast<unsigned char>(c) < 0x20 ? '.' : c);
  }
  return out.empty() ? "-" : out;
}

std::string property(const remoting::MessageProperties& properties, std::string_view key) {
  auto it = properties.find(std::string(key));
  return it == properties.end() ? std::string() : it->second;
}

nlohmann::json message_json(const remoting::MessageRecord& record,
                            const remoting::MessageProperties& properties) {
  nlohmann::json all = nlohmann::json::object();
  for (const auto& [key, value] : properties) all[key] = value;
  return {{"queueId", record.queue_id},
          {"queueOffset", record.queue_offset},
          {"msgId", remoting::offset_msg_id(record)},
          {"uniqKey", property(properties, remoting::property_key::kUniqKey)},
          {"tags", property(properties, remoting::property_key::kTags)},
          {"keys", property(properties, remoting::property_key::kKeys)},
          {"properties", std::move(all)},
          {"body", record.body},
          {"bornTimestamp", record.born_timestamp_ms},
          {"storeTimestamp", record.store_timestamp_ms}};
}

namespace {

// The record's properties; none (and `error` set, when given) if they do not decode.
remoting::MessageProperties decoded_properties(const remoting::MessageRecord& record,
                                               std::string* error = nullptr) {
  auto decoded = remoting::decode_message_properties(record.properties);
  if (decoded.ok()) return *decoded;
  if (error != nullptr) {
    *error = decoded.error().message.empty() ? "cannot decode" : decoded.error().message;
  }
  return {};
}

}  // namespace

void print_message_detail(std::ostream& out, const remoting::MessageRecord& record,
                          const std::string& broker_name, const std::string& address) {
  std::string undecodable;
  const remoting::MessageProperties properties = decoded_properties(record, &undecodable);
  std::string all;
  for (const auto& [key, value] : properties) {
    all += (all.empty() ? "" : ", ") + key + "=" + printable(value);
  }
  if (!undecodable.empty()) all = "(undecodable: " + undecodable + ")";
  const std::vector<std::pair<std::string, std::string>> fields = {
      {"msgId", remoting::offset_msg_id(record)},
      {"brokerName", broker_name},
      {"address", address},
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
}

nlohmann::json message_detail_json(const remoting::MessageRecord& record,
                                   const std::string& broker_name, const std::string& address) {
  nlohmann::json message = message_json(record, decoded_properties(record));
  message["brokerName"] = broker_name;
  message["address"] = address;
  message["topic"] = record.topic;
  message["physicalOffset"] = record.physical_offset;
  message["storeHost"] = record.store_host.to_string();
  message["bornHost"] = record.born_host.to_string();
  message["reconsumeTimes"] = record.reconsume_times;
  message["sysFlag"] = record.sys_flag;
  message["bodyBytes"] = record.body.size();
  return message;
}

}  // namespace dledger::ctl
