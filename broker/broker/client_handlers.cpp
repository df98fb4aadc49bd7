// HEART_BEAT (34), UNREGISTER_CLIENT (35), GET_CONSUMER_LIST_BY_GROUP (38): the consumer
// registry (local to this replica: clients heart-beat to every broker they use).
#include "broker/broker/broker_handlers.h"
#include "broker/remoting/client_headers.h"
#include "broker/remoting/codes.h"
#include "broker/remoting/heartbeat.h"

namespace dledger::broker {

namespace resp = remoting::response_code;
using remoting::RemotingCommand;

frontend::Handler make_heartbeat_handler(BrokerContext& context) {
  return [&context](const RemotingCommand& request, frontend::Connection& conn,
                    frontend::Responder respond) {
    auto heartbeat = remoting::parse_heartbeat_body(request.body);
    if (!heartbeat.ok()) {
      respond(remoting::make_response(request, resp::kSystemError, heartbeat.error().message));
      return;
    }
    context.consumers.heartbeat(*heartbeat, conn.id());
    respond(remoting::make_response(request, resp::kSuccess));
  };
}

frontend::Handler make_unregister_client_handler(BrokerContext& context) {
  return [&context](const RemotingCommand& request, frontend::Connection&,
                    frontend::Responder respond) {
    auto header = remoting::parse_unregister_client_request(request);
    if (!header.ok()) {
      respond(remoting::make_response(request, resp::kSystemError, header.error().message));
      return;
    }
    if (header->consumer_group) {
      context.consumers.unregister(header->client_id, header->consumer_group);
    } else if (!header->producer_group) {
      context.consumers.unregister(header->client_id, std::nullopt);
    }
    respond(remoting::make_response(request, resp::kSuccess));
  };
}

frontend::Handler make_consumer_list_handler(BrokerContext& context) {
  return [&context](const RemotingCommand& request, frontend::Connection&,
                    frontend::Responder respond) {
    auto header = remoting::parse_get_consumer_list_by_group_request(request);
    if (!header.ok()) {
      respond(remoting::make_response(request, resp::kSystemError, header.error().message));
      return;
    }
    auto ids = context.consumers.consumers(header->consumer_group);
    if (ids.empty()) {
      respond(remoting::make_response(request, resp::kSystemError,
                                      "no consumer of group '" + header->consumer_group + "'"));
      return;
    }
    RemotingCommand response = remoting::make_response(request, resp::kSuccess);
    response.body = remoting::write_consumer_list_body(ids);
    respond(std::move(response));
  };
}

}  // namespace dledger::broker
