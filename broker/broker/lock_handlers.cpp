// LOCK_BATCH_MQ (41) and UNLOCK_BATCH_MQ (42) for orderly consumers: the leader's QueueLockTable
// (followers forward both, see broker_handlers.cpp). The lock reply's body lists the queues the
// client holds afterwards (lockOKMQSet); the unlock reply is a bare SUCCESS.
#include "broker/broker/broker_handlers.h"
#include "broker/remoting/codes.h"
#include "broker/remoting/lock_batch.h"

namespace dledger::broker {

namespace resp = remoting::response_code;
using remoting::RemotingCommand;

frontend::Handler make_lock_batch_handler(BrokerContext& context) {
  return [&context](const RemotingCommand& request, frontend::Connection&,
                    frontend::Responder respond) {
    auto body = remoting::parse_lock_batch_body(request.body);
    if (!body.ok()) {
      respond(remoting::make_response(request, resp::kSystemError, body.error().message));
      return;
    }
    auto locked = context.locks.lock(body->consumer_group, body->client_id, body->mq_set);
    RemotingCommand response = remoting::make_response(request, resp::kSuccess);
    response.body = remoting::write_lock_batch_response_body(locked);
    respond(std::move(response));
  };
}

frontend::Handler make_unlock_batch_handler(BrokerContext& context) {
  return [&context](const RemotingCommand& request, frontend::Connection&,
                    frontend::Responder respond) {
    auto body = remoting::parse_lock_batch_body(request.body);
    if (!body.ok()) {
      respond(remoting::make_response(request, resp::kSystemError, body.error().message));
      return;
    }
    context.locks.unlock(body->consumer_group, body->client_id, body->mq_set);
    respond(remoting::make_response(request, resp::kSuccess));
  };
}

}  // namespace dledger::broker
