// UPDATE_AND_CREATE_TOPIC (17) and GET_ALL_TOPIC_CONFIG (21), for dledgerctl / mqadmin.
//
// 17 ext fields: topic (required), readQueueNums [8], writeQueueNums [8], perm [6],
// topicSysFlag [0]. The topic config goes through the ledger (leader only). Note: the update
// waits for the commit on the io thread (an admin request, rare).
#include <chrono>

#include "broker/broker/broker_handlers.h"
#include "broker/remoting/codes.h"
#include "broker/remoting/ext_fields.h"
#include "broker/remoting/json_util.h"

namespace dledger::broker {

namespace resp = remoting::response_code;
using remoting::RemotingCommand;

remoting::RegisterBrokerBody topic_config_body(store::MessageStore& store) {
  remoting::RegisterBrokerBody body;
  for (const auto& t : store.topics()) {
    remoting::TopicConfig config;
    config.topic_name = t.name;
    config.read_queue_nums = t.read_queue_nums;
    config.write_queue_nums = t.write_queue_nums;
    config.perm = t.perm;
    config.topic_sys_flag = t.topic_sys_flag;
    body.topic_config_table[t.name] = config;
  }
  body.data_version.timestamp_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                                       std::chrono::system_clock::now().time_since_epoch())
                                       .count();
  body.data_version.counter = static_cast<std::int64_t>(store.applied_index());
  return body;
}

frontend::Handler make_update_topic_handler(BrokerContext& context) {
  return [&context](const RemotingCommand& request, frontend::Connection&,
                    frontend::Responder respond) {
    remoting::ExtFieldReader reader(request);
    store::TopicConfig config;
    config.name = reader.required_string("topic");
    config.read_queue_nums =
        static_cast<std::int32_t>(reader.optional_int("readQueueNums", 1, 1024).value_or(8));
    config.write_queue_nums =
        static_cast<std::int32_t>(reader.optional_int("writeQueueNums", 1, 1024).value_or(8));
    config.perm = static_cast<std::int32_t>(reader.optional_int("perm", 0, 7).value_or(6));
    config.topic_sys_flag =
        static_cast<std::int32_t>(reader.optional_int("topicSysFlag", 0, INT32_MAX).value_or(0));
    if (!reader.ok()) {
      respond(remoting::make_response(request, resp::kSystemError, reader.error().message));
      return;
    }
    Status valid = remoting::validate_topic_name(config.name);
    if (!valid.ok()) {
      respond(remoting::make_response(request, resp::kSystemError, valid.error().message));
      return;
    }
    // Answered once the change is applied, from the store's thread: the io thread goes on
    // serving the connection meanwhile.
    context.store->update_topic(config, [reply = remoting::make_response(request, resp::kSuccess),
                                         respond](Status st) {
      if (st.ok()) return respond(reply);
      RemotingCommand failed = reply;
      failed.code = st.error().code == ErrorCode::kInvalidArgument ? resp::kSystemError
                                                                   : response_code_for(st.error());
      failed.remark = remark_for(st.error());
      respond(std::move(failed));
    });
  };
}

frontend::Handler make_all_topic_config_handler(BrokerContext& context) {
  return [&context](const RemotingCommand& request, frontend::Connection&,
                    frontend::Responder respond) {
    auto full = remoting::parse_json(
        remoting::write_register_broker_body(topic_config_body(*context.store)), "topic configs");
    RemotingCommand response = remoting::make_response(request, resp::kSuccess);
    if (full.ok() && full->contains("topicConfigSerializeWrapper")) {
      response.body = remoting::dump_json((*full)["topicConfigSerializeWrapper"]);
    }
    respond(std::move(response));
  };
}

}  // namespace dledger::broker
