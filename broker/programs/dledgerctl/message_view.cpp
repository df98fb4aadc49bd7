#include "broker/programs/dledgerctl/message_view.h"

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

}  // namespace dledger::ctl
