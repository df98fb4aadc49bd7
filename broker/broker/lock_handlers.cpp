// LOCK_BATCH_MQ (41) and UNLOCK_BATCH_MQ (42) for orderly consumers: the leader's QueueLockTable
// (followers forward both, see broker_handlers.cpp). The lock reply's body lists the queues the
// client holds afterwards (lockOKMQSet); the unlock reply is a bare SUCCESS.
#include "broker/broker/broker_handlers.h"
#include "broker/remoting/codes.h"
#include "broker/remoting/lock_batch.h"

namespace dledger::broker {

namespace resp = remoting::response_code;
using remoting::RemotingCommand;

namespace {

// A handler that parses the LockBatchRequestBody (SYSTEM_ERROR naming the field when malformed)
// and lets `act` build the reply.
template <typename Act>
frontend::Handler lock_body_handler(BrokerContext& context, Act act) {
  return [&context, act](const RemotingCommand& request, frontend::Connection&,
                         frontend::Responder respond) {
    auto body = remoting::parse_lock_batch_body(request.body);
    if (!body.ok()) {
      respond(remoting::make_response(request, resp::kSystemError, body.error().message));
      return;
    }
    respond(act(context.locks, request, *body));
  };
}

}  // namespace

frontend::Handler make_lock_batch_handler(BrokerContext& context) {
  return lock_body_handler(context, [](QueueLockTable& locks, const RemotingCommand& request,
                                       const remoting::LockBatchRequest& body) {
    auto locked = locks.lock(body.consumer_group, body.client_id, body.mq_set);
    RemotingCommand response = remoting::make_response(request, resp::kSuccess);
    response.body = remoting::write_lock_batch_response_body(locked);
    return response;
  });
}

frontend::Handler make_unlock_batch_handler(BrokerContext& context) {
  return lock_body_handler(context, [](QueueLockTable& locks, const RemotingCommand& request,
                                       const remoting::LockBatchRequest& body) {
    locks.unlock(body.consumer_group, body.client_id, body.mq_set);
    return remoting::make_response(request, resp::kSuccess);
  });
}

}  // namespace dledger::broker
