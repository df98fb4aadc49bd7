// VIEW_MESSAGE_BY_ID (33): a client's viewMessage(msgId) decodes the broker address and the
// physical offset from an offset msgId and asks that broker for the message. Any replica answers
// from what it has applied (reads never expose uncommitted entries).
//
//   found                   -> SUCCESS, body = the message as one stored record (the format of a
//                              pull reply's body, with queue offset and store timestamp)
//   no such message here    -> SYSTEM_ERROR "can not find message by the offset, <offset>: <why>"
//                              (never stored, not applied on this replica yet, or retention
//                              removed it), as RocketMQ's broker answers
//   bad header              -> SYSTEM_ERROR naming the field
#include "broker/broker/broker_handlers.h"
#include "broker/remoting/client_headers.h"
#include "broker/remoting/codes.h"

namespace dledger::broker {

namespace resp = remoting::response_code;
using remoting::RemotingCommand;

frontend::Handler make_view_message_handler(BrokerContext& context) {
  return [&context](const RemotingCommand& request, frontend::Connection&,
                    frontend::Responder respond) {
    auto header = remoting::parse_view_message_request(request);
    if (!header.ok()) {
      respond(remoting::make_response(request, resp::kSystemError, header.error().message));
      return;
    }
    auto record = context.store->message_record_at(header->offset);
    if (!record.ok()) {
      respond(remoting::make_response(request, resp::kSystemError,
                                      "can not find message by the offset, " +
                                          std::to_string(header->offset) + ": " +
                                          record.error().message));
      return;
    }
    RemotingCommand response = remoting::make_response(request, resp::kSuccess);
    response.body = std::move(record).value();
    respond(std::move(response));
  };
}

}  // namespace dledger::broker
