// QUERY_CONSUMER_OFFSET (14), UPDATE_CONSUMER_OFFSET (15) and the queue queries GET_MAX_OFFSET
// (30), GET_MIN_OFFSET (31), SEARCH_OFFSET_BY_TIMESTAMP (29), GET_EARLIEST_MSG_STORETIME (32).
// Queries read this replica's applied state; offset commits go through the ledger (leader only).
#include "broker/broker/broker_handlers.h"
#include "broker/remoting/codes.h"
#include "broker/remoting/offset_headers.h"

namespace dledger::broker {

namespace resp = remoting::response_code;
namespace rc = remoting::request_code;
using remoting::RemotingCommand;

frontend::Handler make_query_consumer_offset_handler(BrokerContext& context) {
  return [&context](const RemotingCommand& request, frontend::Connection&,
                    frontend::Responder respond) {
    auto header = remoting::parse_query_consumer_offset_request(request);
    if (!header.ok()) {
      respond(remoting::make_response(request, resp::kSystemError, header.error().message));
      return;
    }
    auto offset =
        context.store->query_offset(header->consumer_group, header->topic, header->queue_id);
    if (!offset) {
      respond(remoting::make_response(request, resp::kQueryNotFound,
                                      "no committed offset for group '" + header->consumer_group +
                                          "' on " + header->topic + ":" +
                                          std::to_string(header->queue_id)));
      return;
    }
    RemotingCommand response = remoting::make_response(request, resp::kSuccess);
    remoting::write_offset_response(*offset, &response);
    respond(std::move(response));
  };
}

frontend::Handler make_update_consumer_offset_handler(BrokerContext& context) {
  return [&context](const RemotingCommand& request, frontend::Connection&,
                    frontend::Responder respond) {
    auto header = remoting::parse_update_consumer_offset_request(request);
    if (!header.ok()) {
      respond(remoting::make_response(request, resp::kSystemError, header.error().message));
      return;
    }
    context.store->commit_offset(
        header->consumer_group, header->topic, header->queue_id, header->commit_offset,
        [request, respond](Status status) {
          if (!status.ok()) {
            respond(remoting::make_response(request, response_code_for(status.error()),
                                            remark_for(status.error())));
            return;
          }
          respond(remoting::make_response(request, resp::kSuccess));
        });
  };
}

frontend::Handler make_queue_offset_handler(BrokerContext& context) {
  return [&context](const RemotingCommand& request, frontend::Connection&,
                    frontend::Responder respond) {
    RemotingCommand response = remoting::make_response(request, resp::kSuccess);
    if (request.code == rc::kSearchOffsetByTimestamp) {
      auto header = remoting::parse_search_offset_request(request);
      if (!header.ok()) {
        respond(remoting::make_response(request, resp::kSystemError, header.error().message));
        return;
      }
      remoting::write_offset_response(context.store->search_offset_by_timestamp(
                                          header->topic, header->queue_id, header->timestamp_ms),
                                      &response);
      respond(std::move(response));
      return;
    }
    auto header = remoting::parse_queue_request(request);
    if (!header.ok()) {
      respond(remoting::make_response(request, resp::kSystemError, header.error().message));
      return;
    }
    if (request.code == rc::kGetMaxOffset) {
      remoting::write_offset_response(context.store->max_offset(header->topic, header->queue_id),
                                      &response);
    } else if (request.code == rc::kGetMinOffset) {
      remoting::write_offset_response(context.store->min_offset(header->topic, header->queue_id),
                                      &response);
    } else {
      auto time = context.store->earliest_store_time(header->topic, header->queue_id);
      if (!time) {
        respond(remoting::make_response(
            request, resp::kSystemError,
            "no message in " + header->topic + ":" + std::to_string(header->queue_id)));
        return;
      }
      remoting::write_timestamp_response(*time, &response);
    }
    respond(std::move(response));
  };
}

}  // namespace dledger::broker
