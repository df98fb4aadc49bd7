#include "broker/namesrv/namesrv_handlers.h"

#include <nlohmann/json.hpp>

#include "broker/remoting/client_headers.h"
#include "broker/remoting/codes.h"
#include "broker/remoting/register_broker.h"
#include "broker/remoting/route_data.h"

namespace dledger::namesrv {

using remoting::RemotingCommand;
namespace request_code = remoting::request_code;
namespace response_code = remoting::response_code;

namespace {

RemotingCommand error_reply(const RemotingCommand& request, const Error& error) {
  return remoting::make_response(request, response_code::kSystemError, error.message);
}

RemotingCommand register_broker(RouteTable& table, const RemotingCommand& request,
                                std::uint64_t connection_id) {
  auto header = remoting::parse_register_broker_request(request);
  if (!header.ok()) return error_reply(request, header.error());
  if (header->compressed) {
    return remoting::make_response(request, response_code::kSystemError,
                                   "REGISTER_BROKER: compressed bodies are not supported "
                                   "(set compressedRegister=false on the broker)");
  }
  remoting::RegisterBrokerBody body;
  if (!request.body.empty()) {
    auto parsed = remoting::parse_register_broker_body(request.body);
    if (!parsed.ok()) return error_reply(request, parsed.error());
    body = std::move(parsed).value();
  }
  auto result = table.register_broker(*header, body, connection_id);
  if (!result.ok()) return error_reply(request, result.error());
  auto reply = remoting::make_response(request, response_code::kSuccess);
  remoting::RegisterBrokerResponse response;
  response.ha_server_addr = result->ha_server_addr;
  response.master_addr = result->master_addr;
  remoting::write_register_broker_response(response, &reply);
  return reply;
}

RemotingCommand unregister_broker(RouteTable& table, const RemotingCommand& request) {
  auto header = remoting::parse_unregister_broker_request(request);
  if (!header.ok()) return error_reply(request, header.error());
  table.unregister_broker(*header);
  return remoting::make_response(request, response_code::kSuccess);
}

RemotingCommand route_by_topic(RouteTable& table, const RemotingCommand& request) {
  auto header = remoting::parse_get_route_info_request(request);
  if (!header.ok()) return error_reply(request, header.error());
  auto route = table.route(header->topic);
  if (!route) {
    return remoting::make_response(
        request, response_code::kTopicNotExist,
        "No topic route info in name server for the topic: " + header->topic);
  }
  auto reply = remoting::make_response(request, response_code::kSuccess);
  reply.body = remoting::write_topic_route_data(*route);
  return reply;
}

}  // namespace

const std::vector<std::int32_t>& namesrv_request_codes() {
  static const std::vector<std::int32_t> codes = {
      request_code::kRegisterBroker, request_code::kUnregisterBroker,
      request_code::kGetRouteinfoByTopic, request_code::kGetBrokerClusterInfo,
      request_code::kGetAllTopicListFromNameserver};
  return codes;
}

std::string write_topic_list_body(const std::vector<std::string>& topics) {
  nlohmann::json body = {{"topicList", topics}};
  return body.dump();
}

std::optional<RemotingCommand> handle_namesrv_request(RouteTable& table,
                                                      const RemotingCommand& request,
                                                      std::uint64_t connection_id) {
  switch (request.code) {
    case request_code::kRegisterBroker:
      return register_broker(table, request, connection_id);
    case request_code::kUnregisterBroker:
      return unregister_broker(table, request);
    case request_code::kGetRouteinfoByTopic:
      return route_by_topic(table, request);
    case request_code::kGetBrokerClusterInfo: {
      auto reply = remoting::make_response(request, response_code::kSuccess);
      reply.body = remoting::write_cluster_info(table.cluster_info());
      return reply;
    }
    case request_code::kGetAllTopicListFromNameserver: {
      auto reply = remoting::make_response(request, response_code::kSuccess);
      reply.body = write_topic_list_body(table.topics());
      return reply;
    }
    default:
      return std::nullopt;
  }
}

}  // namespace dledger::namesrv
