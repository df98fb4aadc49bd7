#include "broker/programs/dledgerctl/producer_connection_command.h"

#include <ostream>
#include <vector>

#include <nlohmann/json.hpp>

#include "broker/remoting/codes.h"
#include "broker/remoting/heartbeat.h"

namespace dledger::ctl {
namespace {

using nlohmann::json;
namespace resp = remoting::response_code;

struct Row {
  std::string broker_name;
  std::string replica;
  remoting::ClientConnection client;
};

}  // namespace

int run_producer_connection(const ProducerConnectionOptions& options, std::ostream& out,
                            std::ostream& err) {
  auto namesrvs = options.common.namesrv_addresses();
  if (!namesrvs.ok()) {
    err << "dledgerctl producerConnection: " << namesrvs.error().message << "\n";
    return kExitUsage;
  }
  RemotingSession session(options.common.timeout());
  std::vector<remoting::BrokerData> brokers;
  if (!options.topic.empty()) {
    auto route = session.topic_route(*namesrvs, options.topic);
    if (!route.ok()) {
      err << "dledgerctl producerConnection: topic " << options.topic << ": "
          << route.error().message << "\n";
      return kExitFailed;
    }
    brokers = route->broker_datas;
  } else {
    auto info = session.cluster_info(*namesrvs);
    if (!info.ok()) return report_error(err, info.error());
    for (const auto& [name, broker] : info->broker_addr_table) brokers.push_back(broker);
  }

  remoting::RemotingCommand request =
      remoting::make_request(remoting::request_code::kGetProducerConnectionList, 0);
  request.ext_fields["producerGroup"] = options.group;
  std::vector<Row> rows;
  bool every_replica_answered = true;
  for (const remoting::BrokerData& broker : brokers) {
    for (const std::string& address : addresses_master_first(broker)) {
      auto reply = session.invoke(address, request);
      if (!reply.ok()) {
        every_replica_answered = false;
        err << "dledgerctl producerConnection: " << broker.broker_name << ": "
            << reply.error().message << "\n";
        continue;
      }
      if (reply->code == resp::kSystemError &&
          reply->remark.value_or("").find("not exist") != std::string::npos) {
        continue;  // no client of the group on this replica
      }
      if (reply->code != resp::kSuccess) {
        every_replica_answered = false;
        err << "dledgerctl producerConnection: " << broker.broker_name << ": " << address << ": "
            << response_code_text(reply->code) << ": " << reply->remark.value_or("") << "\n";
        continue;
      }
      auto connection = remoting::parse_producer_connection(reply->body);
      if (!connection.ok()) {
        every_replica_answered = false;
        err << "dledgerctl producerConnection: " << broker.broker_name << ": " << address
            << ": reply body: " << connection.error().message << "\n";
        continue;
      }
      for (auto& client : connection->connections) {
        rows.push_back({broker.broker_name, address, std::move(client)});
      }
    }
  }
  if (rows.empty() && every_replica_answered) {
    err << "dledgerctl producerConnection: the producer group " << options.group
        << " has no client connected to any replica\n";
    return kExitFailed;
  }
  if (options.common.json) {
    json connections = json::array();
    for (const Row& row : rows) {
      connections.push_back({{"brokerName", row.broker_name},
                             {"replica", row.replica},
                             {"clientId", row.client.client_id},
                             {"clientAddr", row.client.client_addr},
                             {"language", row.client.language},
                             {"version", row.client.version}});
    }
    out << json{{"producerGroup", options.group}, {"connections", std::move(connections)}}.dump(
               2, ' ', false, json::error_handler_t::replace)
        << "\n";
  } else if (!rows.empty()) {
    std::vector<std::vector<std::string>> table{
        {"BROKER", "REPLICA", "CLIENT_ID", "ADDRESS", "LANGUAGE", "VERSION"}};
    for (const Row& row : rows) {
      table.push_back({row.broker_name, row.replica, row.client.client_id,
                       row.client.client_addr.empty() ? "-" : row.client.client_addr,
                       row.client.language, std::to_string(row.client.version)});
    }
    out << render_columns(table);
  }
  return every_replica_answered ? kExitOk : kExitFailed;
}

}  // namespace dledger::ctl
