#include "broker/remoting/heartbeat.h"

#include <algorithm>

#include "broker/remoting/int_limits.h"
#include "broker/remoting/json_util.h"

namespace dledger::remoting {

using nlohmann::json;

namespace {

std::string index_path(std::string_view base, const char* key, std::size_t i) {
  std::string path(base);
  if (!path.empty()) path += ".";
  return path + key + "[" + std::to_string(i) + "]";
}

SubscriptionData read_subscription(JsonBodyReader& r, const json& item, const std::string& path) {
  SubscriptionData sub;
  if (!r.expect_object(item, path)) return sub;
  sub.topic = r.string(item, path, "topic", true);
  if (r.ok() && sub.topic.empty()) r.fail(path, "topic", "must not be empty");
  sub.sub_string = r.string(item, path, "subString", false, "*");
  if (const json* tags = r.array(item, path, "tagsSet", false)) {
    for (std::size_t i = 0; i < tags->size(); ++i) {
      if (!(*tags)[i].is_string()) {
        r.fail(path, "tagsSet[" + std::to_string(i) + "]", "must be a string");
        break;
      }
      sub.tags_set.push_back((*tags)[i].get<std::string>());
    }
  }
  if (const json* codes = r.array(item, path, "codeSet", false)) {
    for (std::size_t i = 0; i < codes->size(); ++i) {
      auto code = json_to_int((*codes)[i], "", kI32Min, kI32Max);
      if (!code.ok()) {
        r.fail(path, "codeSet[" + std::to_string(i) + "]", code.error().message.substr(1));
        break;
      }
      sub.code_set.push_back(static_cast<int32_t>(*code));
    }
  }
  sub.sub_version = r.integer(item, path, "subVersion", false, kI64Min, kI64Max, 0);
  sub.expression_type = r.string(item, path, "expressionType", false, "TAG");
  sub.class_filter_mode = r.boolean(item, path, "classFilterMode", false);
  return sub;
}

json subscription_json(const SubscriptionData& s) {
  return {{"topic", s.topic},
          {"subString", s.sub_string},
          {"tagsSet", s.tags_set},
          {"codeSet", s.code_set},
          {"subVersion", s.sub_version},
          {"expressionType", s.expression_type},
          {"classFilterMode", s.class_filter_mode}};
}

MessageModel read_message_model(JsonBodyReader& r, const json& item, const std::string& path) {
  std::string model = r.string(item, path, "messageModel", false, "CLUSTERING");
  if (model == "BROADCASTING") return MessageModel::kBroadcasting;
  if (model != "CLUSTERING" && r.ok()) {
    r.fail(path, "messageModel",
           "= " + quote_for_error(model) + " is not CLUSTERING or BROADCASTING");
  }
  return MessageModel::kClustering;
}

ConsumeFromWhere read_consume_from_where(JsonBodyReader& r, const json& item,
                                         const std::string& path) {
  std::string from = r.string(item, path, "consumeFromWhere", false, "CONSUME_FROM_LAST_OFFSET");
  if (from == "CONSUME_FROM_FIRST_OFFSET") return ConsumeFromWhere::kFirstOffset;
  if (from == "CONSUME_FROM_TIMESTAMP") return ConsumeFromWhere::kTimestamp;
  if (from != "CONSUME_FROM_LAST_OFFSET" &&
      from != "CONSUME_FROM_LAST_OFFSET_AND_FROM_MIN_WHEN_BOOT_FIRST" &&
      from != "CONSUME_FROM_MIN_OFFSET" && from != "CONSUME_FROM_MAX_OFFSET" && r.ok()) {
    r.fail(path, "consumeFromWhere", "= " + quote_for_error(from) + " is not a known value");
  }
  return ConsumeFromWhere::kLastOffset;
}

ConsumerData read_consumer(JsonBodyReader& r, const json& item, const std::string& path) {
  ConsumerData consumer;
  if (!r.expect_object(item, path)) return consumer;
  consumer.group_name = r.string(item, path, "groupName", true);
  if (r.ok() && consumer.group_name.empty()) r.fail(path, "groupName", "must not be empty");
  consumer.consume_type = r.string(item, path, "consumeType", false, "CONSUME_PASSIVELY");
  consumer.message_model = read_message_model(r, item, path);
  consumer.consume_from_where = read_consume_from_where(r, item, path);
  consumer.unit_mode = r.boolean(item, path, "unitMode", false);
  if (const json* subs = r.array(item, path, "subscriptionDataSet", false)) {
    for (std::size_t i = 0; i < subs->size() && r.ok(); ++i) {
      consumer.subscriptions.push_back(
          read_subscription(r, (*subs)[i], index_path(path, "subscriptionDataSet", i)));
    }
  }
  return consumer;
}

}  // namespace

std::string_view message_model_name(MessageModel model) {
  return model == MessageModel::kBroadcasting ? "BROADCASTING" : "CLUSTERING";
}

std::string_view consume_from_where_name(ConsumeFromWhere where) {
  switch (where) {
    case ConsumeFromWhere::kLastOffset:
      return "CONSUME_FROM_LAST_OFFSET";
    case ConsumeFromWhere::kFirstOffset:
      return "CONSUME_FROM_FIRST_OFFSET";
    case ConsumeFromWhere::kTimestamp:
      return "CONSUME_FROM_TIMESTAMP";
  }
  return "CONSUME_FROM_LAST_OFFSET";
}

Result<HeartbeatData> parse_heartbeat_body(std::string_view body) {
  auto parsed = parse_json(body, "HeartbeatData");
  if (!parsed.ok()) return parsed.error();
  JsonBodyReader r("HeartbeatData");
  HeartbeatData heartbeat;
  if (!r.expect_object(*parsed, "")) return r.error();
  heartbeat.client_id = r.string(*parsed, "", "clientID", true);
  if (r.ok() && heartbeat.client_id.empty()) r.fail("", "clientID", "must not be empty");
  if (const json* producers = r.array(*parsed, "", "producerDataSet", false)) {
    for (std::size_t i = 0; i < producers->size() && r.ok(); ++i) {
      std::string path = index_path("", "producerDataSet", i);
      const json& item = (*producers)[i];
      if (!r.expect_object(item, path)) break;
      ProducerData producer;
      producer.group_name = r.string(item, path, "groupName", true);
      if (r.ok() && producer.group_name.empty()) r.fail(path, "groupName", "must not be empty");
      heartbeat.producers.push_back(std::move(producer));
    }
  }
  if (const json* consumers = r.array(*parsed, "", "consumerDataSet", false)) {
    for (std::size_t i = 0; i < consumers->size() && r.ok(); ++i) {
      heartbeat.consumers.push_back(
          read_consumer(r, (*consumers)[i], index_path("", "consumerDataSet", i)));
    }
  }
  if (!r.ok()) return r.error();
  return heartbeat;
}

std::string write_heartbeat_body(const HeartbeatData& heartbeat) {
  json body = json::object();
  body["clientID"] = heartbeat.client_id;
  json producers = json::array();
  for (const auto& p : heartbeat.producers) producers.push_back({{"groupName", p.group_name}});
  body["producerDataSet"] = std::move(producers);
  json consumers = json::array();
  for (const auto& c : heartbeat.consumers) {
    json subs = json::array();
    for (const auto& s : c.subscriptions) subs.push_back(subscription_json(s));
    consumers.push_back(
        {{"groupName", c.group_name},
         {"consumeType", c.consume_type},
         {"messageModel", std::string(message_model_name(c.message_model))},
         {"consumeFromWhere", std::string(consume_from_where_name(c.consume_from_where))},
         {"unitMode", c.unit_mode},
         {"subscriptionDataSet", std::move(subs)}});
  }
  body["consumerDataSet"] = std::move(consumers);
  return dump_json(body);
}

namespace {

json connection_set_json(const std::vector<ClientConnection>& connections) {
  json clients = json::array();
  for (const ClientConnection& c : connections) {
    clients.push_back({{"clientAddr", c.client_addr},
                       {"clientId", c.client_id},
                       {"language", c.language},
                       {"version", c.version}});
  }
  return clients;
}

// Reads "connectionSet" of `body` (sorted by client id); errors are left in `r`.
std::vector<ClientConnection> read_connection_set(JsonBodyReader& r, const json& body) {
  std::vector<ClientConnection> out;
  if (const json* clients = r.array(body, "", "connectionSet", false)) {
    for (std::size_t i = 0; i < clients->size() && r.ok(); ++i) {
      const std::string path = index_path("", "connectionSet", i);
      const json& item = (*clients)[i];
      if (!r.expect_object(item, path)) break;
      ClientConnection client;
      client.client_id = r.string(item, path, "clientId", true);
      client.client_addr = r.string(item, path, "clientAddr", false);
      client.language = r.string(item, path, "language", false, "OTHER");
      client.version =
          static_cast<int32_t>(r.integer(item, path, "version", false, kI32Min, kI32Max));
      out.push_back(std::move(client));
    }
  }
  std::sort(out.begin(), out.end(), [](const ClientConnection& a, const ClientConnection& b) {
    return a.client_id < b.client_id;
  });
  return out;
}

}  // namespace

std::string write_consumer_connection(const ConsumerConnection& connection) {
  json clients = connection_set_json(connection.connections);
  json table = json::object();
  for (const SubscriptionData& s : connection.subscriptions) table[s.topic] = subscription_json(s);
  json body = {
      {"connectionSet", std::move(clients)},
      {"consumeFromWhere", std::string(consume_from_where_name(connection.consume_from_where))},
      {"consumeType", connection.consume_type},
      {"messageModel", std::string(message_model_name(connection.message_model))},
      {"subscriptionTable", std::move(table)}};
  return dump_json(body);
}

Result<ConsumerConnection> parse_consumer_connection(std::string_view body) {
  auto parsed = parse_json(body, "ConsumerConnection");
  if (!parsed.ok()) return parsed.error();
  JsonBodyReader r("ConsumerConnection");
  ConsumerConnection out;
  if (!r.expect_object(*parsed, "")) return r.error();
  out.connections = read_connection_set(r, *parsed);
  out.consume_type = r.string(*parsed, "", "consumeType", false, "CONSUME_PASSIVELY");
  out.message_model = read_message_model(r, *parsed, "");
  out.consume_from_where = read_consume_from_where(r, *parsed, "");
  if (const json* table = r.object(*parsed, "", "subscriptionTable", false)) {
    for (const auto& [topic, item] : table->items()) {
      if (!r.ok()) break;
      const std::string path = "subscriptionTable." + topic;
      out.subscriptions.push_back(read_subscription(r, item, path));
      if (r.ok() && out.subscriptions.back().topic != topic) {
        r.fail(path, "topic",
               "= " + quote_for_error(out.subscriptions.back().topic) +
                   " is not the topic it is listed under");
      }
    }
  }
  if (!r.ok()) return r.error();
  return out;
}

std::string write_producer_connection(const ProducerConnection& connection) {
  return dump_json(json{{"connectionSet", connection_set_json(connection.connections)}});
}

Result<ProducerConnection> parse_producer_connection(std::string_view body) {
  auto parsed = parse_json(body, "ProducerConnection");
  if (!parsed.ok()) return parsed.error();
  JsonBodyReader r("ProducerConnection");
  ProducerConnection out;
  if (!r.expect_object(*parsed, "")) return r.error();
  out.connections = read_connection_set(r, *parsed);
  if (!r.ok()) return r.error();
  return out;
}

}  // namespace dledger::remoting
