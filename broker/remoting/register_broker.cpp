#include "broker/remoting/register_broker.h"

#include "broker/remoting/ext_fields.h"
#include "broker/remoting/int_limits.h"
#include "broker/remoting/json_util.h"

namespace dledger::remoting {

using nlohmann::json;

Result<RegisterBrokerRequest> parse_register_broker_request(const RemotingCommand& cmd) {
  if (cmd.code != request_code::kRegisterBroker) {
    return make_error(ErrorCode::kInvalidArgument,
                      "request code " + std::to_string(cmd.code) + " is not REGISTER_BROKER (103)");
  }
  ExtFieldReader r(cmd);
  RegisterBrokerRequest req;
  req.broker_name = r.required_string("brokerName");
  req.broker_addr = r.required_string("brokerAddr");
  req.cluster_name = r.required_string("clusterName");
  req.ha_server_addr = r.optional_string("haServerAddr").value_or("");
  req.broker_id = r.required_int("brokerId", 0, kI64Max);
  req.compressed = r.optional_bool("compressed", false);
  req.body_crc32 = static_cast<int32_t>(r.optional_int("bodyCrc32", kI32Min, kI32Max).value_or(0));
  if (!r.ok()) return r.error();
  return req;
}

void write_register_broker_request(const RegisterBrokerRequest& req, RemotingCommand* cmd) {
  auto& f = cmd->ext_fields;
  f["brokerName"] = req.broker_name;
  f["brokerAddr"] = req.broker_addr;
  f["clusterName"] = req.cluster_name;
  f["haServerAddr"] = req.ha_server_addr;
  f["brokerId"] = std::to_string(req.broker_id);
  f["compressed"] = req.compressed ? "true" : "false";
  f["bodyCrc32"] = std::to_string(req.body_crc32);
}

Result<UnregisterBrokerRequest> parse_unregister_broker_request(const RemotingCommand& cmd) {
  if (cmd.code != request_code::kUnregisterBroker) {
    return make_error(ErrorCode::kInvalidArgument, "request code " + std::to_string(cmd.code) +
                                                       " is not UNREGISTER_BROKER (104)");
  }
  ExtFieldReader r(cmd);
  UnregisterBrokerRequest req;
  req.broker_name = r.required_string("brokerName");
  req.broker_addr = r.required_string("brokerAddr");
  req.cluster_name = r.required_string("clusterName");
  req.broker_id = r.required_int("brokerId", 0, kI64Max);
  if (!r.ok()) return r.error();
  return req;
}

void write_register_broker_response(const RegisterBrokerResponse& response, RemotingCommand* cmd) {
  cmd->ext_fields["haServerAddr"] = response.ha_server_addr;
  cmd->ext_fields["masterAddr"] = response.master_addr;
}

Result<RegisterBrokerBody> parse_register_broker_body(std::string_view text) {
  auto parsed = parse_json(text, "RegisterBrokerBody");
  if (!parsed.ok()) return parsed.error();
  JsonBodyReader r("RegisterBrokerBody");
  RegisterBrokerBody body;
  if (!r.expect_object(*parsed, "")) return r.error();
  if (const json* wrapper = r.object(*parsed, "", "topicConfigSerializeWrapper", true)) {
    const std::string wpath = "topicConfigSerializeWrapper";
    if (const json* table = r.object(*wrapper, wpath, "topicConfigTable", false)) {
      for (const auto& [name, item] : table->items()) {
        std::string path = wpath + ".topicConfigTable." + name;
        if (!r.expect_object(item, path)) break;
        TopicConfig config;
        config.topic_name = r.string(item, path, "topicName", false, name);
        if (r.ok() && config.topic_name != name) {
          r.fail(path, "topicName",
                 "= " + quote_for_error(config.topic_name) + " differs from its table key");
        }
        config.read_queue_nums =
            static_cast<int32_t>(r.integer(item, path, "readQueueNums", true, 0, kI32Max));
        config.write_queue_nums =
            static_cast<int32_t>(r.integer(item, path, "writeQueueNums", true, 0, kI32Max));
        config.perm = static_cast<int32_t>(r.integer(item, path, "perm", true, 0, kI32Max));
        config.topic_filter_type = r.string(item, path, "topicFilterType", false, "SINGLE_TAG");
        config.topic_sys_flag =
            static_cast<int32_t>(r.integer(item, path, "topicSysFlag", false, 0, kI32Max));
        config.order = r.boolean(item, path, "order", false);
        if (!r.ok()) break;
        body.topic_config_table[name] = std::move(config);
      }
    }
    if (const json* version = r.object(*wrapper, wpath, "dataVersion", false)) {
      std::string vpath = wpath + ".dataVersion";
      body.data_version.timestamp_ms =
          r.integer(*version, vpath, "timestamp", false, kI64Min, kI64Max);
      body.data_version.counter = r.integer(*version, vpath, "counter", false, kI64Min, kI64Max);
    }
  }
  if (const json* list = r.array(*parsed, "", "filterServerList", false)) {
    for (std::size_t i = 0; i < list->size(); ++i) {
      if (!(*list)[i].is_string()) {
        r.fail("", "filterServerList[" + std::to_string(i) + "]", "must be a string");
        break;
      }
      body.filter_server_list.push_back((*list)[i].get<std::string>());
    }
  }
  if (!r.ok()) return r.error();
  return body;
}

std::string write_register_broker_body(const RegisterBrokerBody& body) {
  json table = json::object();
  for (const auto& [name, c] : body.topic_config_table) {
    table[name] = {{"topicName", c.topic_name},
                   {"readQueueNums", c.read_queue_nums},
                   {"writeQueueNums", c.write_queue_nums},
                   {"perm", c.perm},
                   {"topicFilterType", c.topic_filter_type},
                   {"topicSysFlag", c.topic_sys_flag},
                   {"order", c.order}};
  }
  json out = json::object();
  out["topicConfigSerializeWrapper"] = {
      {"topicConfigTable", std::move(table)},
      {"dataVersion",
       {{"timestamp", body.data_version.timestamp_ms}, {"counter", body.data_version.counter}}}};
  out["filterServerList"] = body.filter_server_list;
  return dump_json(out);
}

}  // namespace dledger::remoting
