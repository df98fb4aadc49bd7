// The name server's request handlers as pure functions of (route table, request) -> response.
//
//   code  request                              reply
//   103   REGISTER_BROKER                      SUCCESS, ext haServerAddr / masterAddr
//   104   UNREGISTER_BROKER                    SUCCESS (also when nothing matched, as Java)
//   105   GET_ROUTEINFO_BY_TOPIC               SUCCESS + TopicRouteData body, or TOPIC_NOT_EXIST
//   106   GET_BROKER_CLUSTER_INFO              SUCCESS + ClusterInfo body
//   206   GET_ALL_TOPIC_LIST_FROM_NAMESERVER   SUCCESS + {"topicList":[...]}
// A request whose header or body does not parse is answered SYSTEM_ERROR (1) with a remark naming
// the field and value (compressed registration bodies included: they are not supported).
// Any other code: nullopt (the server answers REQUEST_CODE_NOT_SUPPORTED).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "broker/namesrv/route_table.h"
#include "broker/remoting/remoting_command.h"

namespace dledger::namesrv {

// Request codes handle_namesrv_request answers.
const std::vector<std::int32_t>& namesrv_request_codes();

// `connection_id` identifies the connection a REGISTER_BROKER came over (dropped on close).
std::optional<remoting::RemotingCommand> handle_namesrv_request(
    RouteTable& table, const remoting::RemotingCommand& request, std::uint64_t connection_id);

// {"topicList":["a","b"]}
std::string write_topic_list_body(const std::vector<std::string>& topics);

}  // namespace dledger::namesrv
