#include "broker/programs/dledgerctl/remoting_session.h"

#include <algorithm>
#include <cstdlib>

#include <nlohmann/json.hpp>

#include "broker/remoting/codes.h"
#include "broker/remoting/json_util.h"

namespace dledger::ctl {
namespace {

namespace rc = remoting::request_code;
namespace resp = remoting::response_code;
using nlohmann::json;
using remoting::RemotingCommand;

Result<json> parse_body(std::string_view body, std::string_view what) {
  // Old fastjson writes bare integer keys ({0:"..."}); quote them before parsing.
  json parsed = json::parse(remoting::quote_fastjson_keys(body), nullptr, false);
  if (parsed.is_discarded()) {
    return make_error(ErrorCode::kInvalidArgument, std::string(what) + ": body is not JSON");
  }
  return parsed;
}

}  // namespace

Result<std::vector<std::string>> BrokerCommonOptions::namesrv_addresses() const {
  std::string text = namesrv;
  if (text.empty()) {
    const char* env = std::getenv(kNamesrvEnv);
    text = env != nullptr && *env != '\0' ? env : kDefaultNamesrv;
  }
  std::vector<std::string> unique;
  for (const std::string& address : split_address_list(text)) {
    auto valid = frontend::split_host_port(address);
    if (!valid.ok() || valid->second == 0) {
      return make_error(ErrorCode::kInvalidArgument,
                        "-n: '" + address + "' is not host:port with a port in [1, 65535]");
    }
    if (std::find(unique.begin(), unique.end(), address) == unique.end()) {
      unique.push_back(address);
    }
  }
  if (unique.empty()) return make_error(ErrorCode::kInvalidArgument, "-n: no name server given");
  return unique;
}

std::string response_code_text(std::int32_t code) {
  static const std::map<std::int32_t, const char*> names = {
      {resp::kSuccess, "SUCCESS"},
      {resp::kSystemError, "SYSTEM_ERROR"},
      {resp::kSystemBusy, "SYSTEM_BUSY"},
      {resp::kRequestCodeNotSupported, "REQUEST_CODE_NOT_SUPPORTED"},
      {resp::kFlushDiskTimeout, "FLUSH_DISK_TIMEOUT"},
      {resp::kSlaveNotAvailable, "SLAVE_NOT_AVAILABLE"},
      {resp::kFlushSlaveTimeout, "FLUSH_SLAVE_TIMEOUT"},
      {resp::kMessageIllegal, "MESSAGE_ILLEGAL"},
      {resp::kServiceNotAvailable, "SERVICE_NOT_AVAILABLE"},
      {resp::kNoPermission, "NO_PERMISSION"},
      {resp::kTopicNotExist, "TOPIC_NOT_EXIST"},
      {resp::kPullNotFound, "PULL_NOT_FOUND"},
      {resp::kPullRetryImmediately, "PULL_RETRY_IMMEDIATELY"},
      {resp::kPullOffsetMoved, "PULL_OFFSET_MOVED"},
      {resp::kQueryNotFound, "QUERY_NOT_FOUND"},
      {resp::kSubscriptionNotExist, "SUBSCRIPTION_NOT_EXIST"},
      {resp::kConsumerNotOnline, "CONSUMER_NOT_ONLINE"},
  };
  auto it = names.find(code);
  std::string name = it == names.end() ? "code" : it->second;
  return name + "(" + std::to_string(code) + ")";
}

Result<RemotingCommand> RemotingSession::invoke(const std::string& address,
                                                RemotingCommand request) {
  auto it = clients_.find(address);
  if (it == clients_.end() || !it->second->is_open()) {
    frontend::RemotingClient::Options options;
    options.connect_timeout = timeout_;
    auto connected = frontend::RemotingClient::connect(address, options);
    if (!connected.ok()) {
      return make_error(connected.error().code,
                        address + ": cannot connect: " + connected.error().message);
    }
    it = clients_.insert_or_assign(address, std::move(connected).value()).first;
  }
  const std::string what = std::string(remoting::request_code_name(request.code));
  auto reply = it->second->invoke_sync(std::move(request), timeout_);
  if (!reply.ok()) {
    clients_.erase(address);
    return make_error(reply.error().code, address + ": " + what + ": " + reply.error().message);
  }
  return reply;
}

Result<RemotingCommand> RemotingSession::invoke_ok(const std::string& address,
                                                   RemotingCommand request) {
  const std::string what = std::string(remoting::request_code_name(request.code));
  auto reply = invoke(address, std::move(request));
  if (!reply.ok() || reply->code == resp::kSuccess) return reply;
  ErrorCode code = ErrorCode::kUnavailable;
  if (reply->code == resp::kTopicNotExist || reply->code == resp::kQueryNotFound ||
      reply->code == resp::kConsumerNotOnline) {
    code = ErrorCode::kNotFound;
  } else if (reply->code == resp::kServiceNotAvailable) {
    code = ErrorCode::kNotLeader;
  }
  return make_error(code, address + ": " + what + ": " + response_code_text(reply->code) +
                              (reply->remark ? ": " + *reply->remark : std::string()));
}

Result<RemotingCommand> RemotingSession::ask_namesrvs(const std::vector<std::string>& namesrvs,
                                                      const RemotingCommand& request) {
  std::string failures;
  for (const std::string& address : namesrvs) {
    auto reply = invoke_ok(address, request);
    if (reply.ok() || reply.error().code == ErrorCode::kNotFound) return reply;
    failures += (failures.empty() ? "" : "; ") + reply.error().message;
  }
  return make_error(ErrorCode::kUnavailable, "no name server answered: " + failures);
}

Result<remoting::ClusterInfo> RemotingSession::cluster_info(
    const std::vector<std::string>& namesrvs) {
  auto reply = ask_namesrvs(namesrvs, remoting::make_request(rc::kGetBrokerClusterInfo, 0));
  if (!reply.ok()) return reply.error();
  return parse_cluster_info(reply->body);
}

Result<remoting::TopicRouteData> RemotingSession::topic_route(
    const std::vector<std::string>& namesrvs, const std::string& topic) {
  RemotingCommand request = remoting::make_request(rc::kGetRouteinfoByTopic, 0);
  request.ext_fields["topic"] = topic;
  auto reply = ask_namesrvs(namesrvs, request);
  if (!reply.ok()) return reply.error();
  return remoting::parse_topic_route_data(reply->body);
}

Result<std::vector<std::string>> RemotingSession::topic_list(
    const std::vector<std::string>& namesrvs) {
  auto reply =
      ask_namesrvs(namesrvs, remoting::make_request(rc::kGetAllTopicListFromNameserver, 0));
  if (!reply.ok()) return reply.error();
  return parse_topic_list(reply->body);
}

Result<RemotingCommand> RemotingSession::invoke_ok_first(const std::vector<std::string>& addresses,
                                                         const RemotingCommand& request) {
  std::string failures;
  ErrorCode last = ErrorCode::kUnavailable;
  for (const std::string& address : addresses) {
    auto reply = invoke_ok(address, request);
    if (reply.ok() || reply.error().code == ErrorCode::kNotFound) return reply;
    failures += (failures.empty() ? "" : "; ") + reply.error().message;
    last = reply.error().code;
  }
  if (addresses.empty()) failures = "no address";
  return make_error(last, "no replica answered: " + failures);
}

Result<remoting::ClusterInfo> parse_cluster_info(std::string_view body) {
  auto parsed = parse_body(body, "cluster info");
  if (!parsed.ok()) return parsed.error();
  const json& root = *parsed;
  remoting::ClusterInfo info;
  auto bad = [](const std::string& path, const std::string& expected) {
    return make_error(ErrorCode::kInvalidArgument, "cluster info: " + path + " is not " + expected);
  };
  if (!root.is_object()) return bad("the body", "an object");
  if (root.contains("brokerAddrTable")) {
    const json& table = root["brokerAddrTable"];
    if (!table.is_object()) return bad("brokerAddrTable", "an object");
    for (const auto& [name, entry] : table.items()) {
      const std::string path = "brokerAddrTable." + name;
      if (!entry.is_object()) return bad(path, "an object");
      remoting::BrokerData data;
      data.broker_name = entry.value("brokerName", name);
      if (entry.contains("cluster")) {
        if (!entry["cluster"].is_string()) return bad(path + ".cluster", "a string");
        data.cluster = entry["cluster"].get<std::string>();
      }
      if (entry.contains("brokerAddrs")) {
        if (!entry["brokerAddrs"].is_object()) return bad(path + ".brokerAddrs", "an object");
        for (const auto& [id_text, address] : entry["brokerAddrs"].items()) {
          const std::string id_path = path + ".brokerAddrs." + id_text;
          char* end = nullptr;
          const long long id = std::strtoll(id_text.c_str(), &end, 10);
          if (id_text.empty() || *end != '\0' || id < 0) return bad(id_path, "a brokerId >= 0");
          if (!address.is_string()) return bad(id_path, "a string");
          data.broker_addrs[id] = address.get<std::string>();
        }
      }
      info.broker_addr_table[name] = std::move(data);
    }
  }
  if (root.contains("clusterAddrTable")) {
    const json& table = root["clusterAddrTable"];
    if (!table.is_object()) return bad("clusterAddrTable", "an object");
    for (const auto& [cluster, names] : table.items()) {
      if (!names.is_array()) return bad("clusterAddrTable." + cluster, "an array");
      for (const json& name : names) {
        if (!name.is_string()) return bad("clusterAddrTable." + cluster + "[]", "a string");
        info.cluster_addr_table[cluster].insert(name.get<std::string>());
      }
    }
  }
  return info;
}

Result<std::vector<std::string>> parse_topic_list(std::string_view body) {
  auto parsed = parse_body(body, "topic list");
  if (!parsed.ok()) return parsed.error();
  const json& root = *parsed;
  if (!root.is_object() || !root.contains("topicList") || !root["topicList"].is_array()) {
    return make_error(ErrorCode::kInvalidArgument, "topic list: topicList is not an array");
  }
  std::vector<std::string> topics;
  for (const json& topic : root["topicList"]) {
    if (!topic.is_string()) {
      return make_error(ErrorCode::kInvalidArgument, "topic list: topicList[] is not a string");
    }
    topics.push_back(topic.get<std::string>());
  }
  std::sort(topics.begin(), topics.end());
  return topics;
}

std::vector<std::string> addresses_master_first(const remoting::BrokerData& data) {
  std::vector<std::string> out;
  for (const auto& [id, address] : data.broker_addrs) out.push_back(address);  // id 0 first
  return out;
}

const remoting::BrokerData* find_broker(const remoting::TopicRouteData& route,
                                        const std::string& broker_name) {
  for (const remoting::BrokerData& data : route.broker_datas) {
    if (data.broker_name == broker_name) return &data;
  }
  return nullptr;
}

}  // namespace dledger::ctl
