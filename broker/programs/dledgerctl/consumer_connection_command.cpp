#include "broker/programs/dledgerctl/consumer_connection_command.h"

#include <ostream>

#include <nlohmann/json.hpp>

#include "broker/programs/dledgerctl/remoting_session.h"
#include "broker/remoting/codes.h"
#include "broker/remoting/heartbeat.h"

namespace dledger::ctl {
namespace {

using nlohmann::json;

}  // namespace

int run_consumer_connection(const ConsumerConnectionOptions& options, std::ostream& out,
                            std::ostream& err) {
  auto namesrvs = options.common.namesrv_addresses();
  if (!namesrvs.ok()) {
    err << "dledgerctl consumerConnection: " << namesrvs.error().message << "\n";
    return kExitUsage;
  }
  RemotingSession session(options.common.timeout());
  auto info = session.cluster_info(*namesrvs);
  if (!info.ok()) return report_error(err, info.error());

  remoting::RemotingCommand request =
      remoting::make_request(remoting::request_code::kGetConsumerConnectionList, 0);
  request.ext_fields["consumerGroup"] = options.group;
  std::vector<std::pair<std::string, remoting::ConsumerConnection>> online;  // by broker name
  bool every_group_answered = true;
  for (const auto& [name, broker] : info->broker_addr_table) {
    auto connection =
        ask_broker_group(session, broker, request, remoting::parse_consumer_connection);
    if (!connection.ok() && connection.error().code == ErrorCode::kNotFound) continue;  // offline
    if (!connection.ok()) {
      every_group_answered = false;
      err << "dledgerctl consumerConnection: " << name << ": " << connection.error().message
          << "\n";
      continue;
    }
    online.emplace_back(name, std::move(connection).value());
  }
  if (online.empty() && every_group_answered) {
    err << "dledgerctl consumerConnection: the consumer group " << options.group
        << " has no live client on any broker\n";
    return kExitFailed;
  }

  if (options.common.json) {
    json brokers = json::array();
    for (const auto& [name, connection] : online) {
      json clients = json::array();
      for (const auto& c : connection.connections) {
        clients.push_back({{"clientId", c.client_id},
                           {"clientAddr", c.client_addr},
                           {"language", c.language},
                           {"version", c.version}});
      }
      json subscriptions = json::array();
      for (const auto& s : connection.subscriptions) {
        subscriptions.push_back({{"topic", s.topic},
                                 {"subString", s.sub_string},
                                 {"expressionType", s.expression_type}});
      }
      brokers.push_back(
          {{"brokerName", name},
           {"connections", std::move(clients)},
           {"consumeType", connection.consume_type},
           {"messageModel", std::string(remoting::message_model_name(connection.message_model))},
           {"consumeFromWhere",
            std::string(remoting::consume_from_where_name(connection.consume_from_where))},
           {"subscriptions", std::move(subscriptions)}});
    }
    json body = {{"consumerGroup", options.group}, {"brokers", std::move(brokers)}};
    out << body.dump(2, ' ', false, json::error_handler_t::replace) << "\n";
  } else if (!online.empty()) {
    std::vector<std::vector<std::string>> clients{
        {"BROKER", "CLIENT_ID", "ADDRESS", "LANGUAGE", "VERSION"}};
    for (const auto& [name, connection] : online) {
      for (const auto& c : connection.connections) {
        clients.push_back({name, c.client_id, c.client_addr.empty() ? "-" : c.client_addr,
                           c.language, std::to_string(c.version)});
      }
    }
    const remoting::ConsumerConnection& first = online.front().second;
    out << render_columns(clients) << "\nconsumeType: " << first.consume_type
        << "  messageModel: " << remoting::message_model_name(first.message_model)
        << "  consumeFromWhere: " << remoting::consume_from_where_name(first.consume_from_where)
        << "\n\n";
    std::vector<std::vector<std::string>> subscriptions{{"TOPIC", "EXPRESSION"}};
    for (const auto& s : first.subscriptions) subscriptions.push_back({s.topic, s.sub_string});
    out << render_columns(subscriptions);
  }
  return every_group_answered ? kExitOk : kExitFailed;
}

}  // namespace dledger::ctl
