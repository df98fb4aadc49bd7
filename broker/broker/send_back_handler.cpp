// CONSUMER_SEND_MSG_BACK (36): a consumer failed to process a message; store a copy for a later
// retry. Leader only.
//
//   the original is read back from the ledger by its physical offset (ext `offset`);
//   reconsumeTimes + 1 > maxReconsumeTimes (default 16) or delayLevel < 0
//                          -> topic %DLQ%<group> (dead letters)
//   otherwise              -> topic %RETRY%<group>
// The target topic is created (1 queue, read+write) when missing, without blocking the io thread.
// The copy keeps body, flag and born fields, gets reconsumeTimes + 1, the properties RETRY_TOPIC
// (original topic, kept when already set) and ORIGIN_MESSAGE_ID, and DELAY (the request's
// delayLevel, or 3 + reconsumeTimes when it is 0; none for dead letters).
#include "broker/broker/broker_handlers.h"
#include "broker/broker/retry_topic.h"
#include "broker/remoting/client_headers.h"
#include "broker/remoting/codes.h"
#include "broker/remoting/message_properties.h"
#include "broker/store/store_command.h"
#include "broker/store/store_state.h"

namespace dledger::broker {

namespace resp = remoting::response_code;
using remoting::RemotingCommand;

frontend::Handler make_send_back_handler(BrokerContext& context) {
  return [&context](const RemotingCommand& request, frontend::Connection&,
                    frontend::Responder respond) {
    auto header = remoting::parse_consumer_send_msg_back_request(request);
    if (!header.ok()) {
      respond(remoting::make_response(request, resp::kSystemError, header.error().message));
      return;
    }
    if (!context.store->is_leader()) {
      auto hint = context.store->leader_hint();
      Error not_leader =
          make_error(ErrorCode::kNotLeader,
                     "leader is " + raft::node_name(hint.leader_id) +
                         (hint.leader_address.empty() ? "" : " at " + hint.leader_address));
      respond(remoting::make_response(request, resp::kServiceNotAvailable, remark_for(not_leader)));
      return;
    }
    auto original = context.store->message_at(header->offset);
    if (!original.ok()) {
      respond(remoting::make_response(request, resp::kSystemError,
                                      "CONSUMER_SEND_MSG_BACK offset " +
                                          std::to_string(header->offset) + ": " +
                                          original.error().to_string()));
      return;
    }
    store::StoredMessage copy = std::move(original).value();
    const std::int32_t max_reconsume = header->max_reconsume_times.value_or(16);
    const std::int32_t reconsume = copy.reconsume_times + 1;
    const bool dead = header->delay_level < 0 || reconsume > max_reconsume;
    const std::string topic =
        dead ? dead_letter_topic_name(header->group) : retry_topic_name(header->group);
    auto props = remoting::decode_message_properties(copy.properties);
    remoting::MessageProperties properties = props.ok() ? *props : remoting::MessageProperties{};
    properties.try_emplace(std::string(remoting::property_key::kRetryTopic), copy.topic);
    properties[std::string(remoting::property_key::kOriginMessageId)] =
        header->origin_msg_id.value_or(
            remoting::encode_offset_msg_id(copy.store_host, header->offset));
    const std::string delay_key(remoting::property_key::kDelayTimeLevel);
    if (dead) {
      properties.erase(delay_key);
    } else {
      const std::int32_t level =
          header->delay_level == 0 ? 3 + copy.reconsume_times : header->delay_level;
      properties[delay_key] = std::to_string(level);
    }
    auto encoded = remoting::encode_message_properties(properties);
    if (!encoded.ok()) {
      respond(remoting::make_response(request, resp::kSystemError, encoded.error().message));
      return;
    }
    copy.topic = topic;
    copy.queue_id = 0;
    copy.reconsume_times = reconsume;
    copy.properties = std::move(encoded).value();
    copy.sys_flag &= ~remoting::message_sys_flag::kStoreHostV6;
    BrokerContext* ctx = &context;
    auto message = std::make_shared<store::StoredMessage>(std::move(copy));
    // The topic is created first when missing; the copy is stored once that is applied (on the
    // store's thread, so the io thread never waits for a commit).
    ensure_group_topic(*context.store, topic, [ctx, request, respond, message](Status created) {
      if (!created.ok()) {
        respond(remoting::make_response(request, response_code_for(created.error()),
                                        remark_for(created.error())));
        return;
      }
      ctx->store->put_message(
          std::move(*message), [ctx, request, respond](Result<store::PutResult> result) {
            if (!result.ok()) {
              respond(remoting::make_response(request, response_code_for(result.error()),
                                              remark_for(result.error())));
              return;
            }
            respond(remoting::make_response(request, resp::kSuccess));
            ctx->suspender->notify();
          });
    });
  };
}

}  // namespace dledger::broker
