#include "broker/programs/dledger-broker/runtime_info_handler.h"

#include <nlohmann/json.hpp>

#include "broker/remoting/codes.h"

namespace dledger::programs {

std::string runtime_info_body(const RuntimeInfoStatic& info, const admin::ReplicaStatus& status) {
  nlohmann::json table = {
      {"brokerVersionDesc", "dledger"},
      {"brokerName", info.broker_name},
      {"dLegerGroup", status.group},
      {"dLegerSelfId", status.self_id},
      {"dLegerRole", status.role},
      {"dLegerTerm", std::to_string(status.term)},
      {"dLegerLeaderId", status.leader_id},
      {"dLegerCommitIndex", std::to_string(status.commit_index)},
      {"dLegerLastIndex", std::to_string(status.last_index)},
      {"adminAddress", info.admin_address},
  };
  return nlohmann::json{{"table", table}}.dump(-1, ' ', false,
                                               nlohmann::json::error_handler_t::replace);
}

std::string advertised_admin_address(const std::string& admin_host, const std::string& broker_ip,
                                     std::uint16_t admin_port) {
  const bool wildcard = admin_host.empty() || admin_host == "0.0.0.0" || admin_host == "::";
  std::string host = wildcard ? broker_ip : admin_host;
  if (host.find(':') != std::string::npos) host = "[" + host + "]";
  return host + ":" + std::to_string(admin_port);
}

frontend::Handler make_runtime_info_handler(RuntimeInfoStatic info,
                                            std::function<admin::ReplicaStatus()> status) {
  return [info = std::move(info), status = std::move(status)](
             const remoting::RemotingCommand& request, frontend::Connection&,
             frontend::Responder respond) {
    remoting::RemotingCommand response =
        remoting::make_response(request, remoting::response_code::kSuccess);
    response.body = runtime_info_body(info, status());
    respond(std::move(response));
  };
}

}  // namespace dledger::programs
