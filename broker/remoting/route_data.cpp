#include "broker/remoting/route_data.h"

#include "broker/remoting/int_limits.h"
#include "broker/remoting/json_util.h"

namespace dledger::remoting {

using nlohmann::json;

namespace {

json broker_data_json(const BrokerData& broker) {
  json addrs = json::object();
  for (const auto& [id, addr] : broker.broker_addrs) addrs[std::to_string(id)] = addr;
  return json{{"brokerAddrs", std::move(addrs)},
              {"brokerName", broker.broker_name},
              {"cluster", broker.cluster}};
}

}  // namespace

std::string write_topic_route_data(const TopicRouteData& route) {
  json queues = json::array();
  for (const auto& q : route.queue_datas) {
    queues.push_back({{"brokerName", q.broker_name},
                      {"perm", q.perm},
                      {"readQueueNums", q.read_queue_nums},
                      {"topicSysFlag", q.topic_sys_flag},
                      {"writeQueueNums", q.write_queue_nums}});
  }
  json brokers = json::array();
  for (const auto& b : route.broker_datas) brokers.push_back(broker_data_json(b));
  json body = json::object();
  body["brokerDatas"] = std::move(brokers);
  body["filterServerTable"] = json::object();
  body["queueDatas"] = std::move(queues);
  return dump_json(body);
}

Result<TopicRouteData> parse_topic_route_data(std::string_view body) {
  auto parsed = parse_json(quote_fastjson_keys(body), "TopicRouteData");
  if (!parsed.ok()) return parsed.error();
  JsonBodyReader r("TopicRouteData");
  TopicRouteData route;
  if (!r.expect_object(*parsed, "")) return r.error();
  if (const json* queues = r.array(*parsed, "", "queueDatas", false)) {
    for (std::size_t i = 0; i < queues->size() && r.ok(); ++i) {
      std::string path = "queueDatas[" + std::to_string(i) + "]";
      const json& item = (*queues)[i];
      if (!r.expect_object(item, path)) break;
      QueueData q;
      q.broker_name = r.string(item, path, "brokerName", true);
      q.read_queue_nums =
          static_cast<int32_t>(r.integer(item, path, "readQueueNums", true, 0, kI32Max));
      q.write_queue_nums =
          static_cast<int32_t>(r.integer(item, path, "writeQueueNums", true, 0, kI32Max));
      q.perm = static_cast<int32_t>(r.integer(item, path, "perm", true, 0, kI32Max));
      q.topic_sys_flag =
          static_cast<int32_t>(r.integer(item, path, "topicSysFlag", false, 0, kI32Max));
      route.queue_datas.push_back(std::move(q));
    }
  }
  if (const json* brokers = r.array(*parsed, "", "brokerDatas", false)) {
    for (std::size_t i = 0; i < brokers->size() && r.ok(); ++i) {
      std::string path = "brokerDatas[" + std::to_string(i) + "]";
      const json& item = (*brokers)[i];
      if (!r.expect_object(item, path)) break;
      BrokerData b;
      b.cluster = r.string(item, path, "cluster", false);
      b.broker_name = r.string(item, path, "brokerName", true);
      if (const json* addrs = r.object(item, path, "brokerAddrs", true)) {
        for (const auto& [key, value] : addrs->items()) {
          auto id = parse_decimal_int(key);
          if (!id || *id < -1 || *id > kI64Max) {
            r.fail(path, "brokerAddrs", "key " + quote_for_error(key) + " is not a brokerId");
            break;
          }
          if (!value.is_string()) {
            r.fail(path, "brokerAddrs." + key, "must be a string");
            break;
          }
          b.broker_addrs[*id] = value.get<std::string>();
        }
      }
      route.broker_datas.push_back(std::move(b));
    }
  }
  if (!r.ok()) return r.error();
  return route;
}

std::string write_cluster_info(const ClusterInfo& info) {
  json brokers = json::object();
  for (const auto& [name, data] : info.broker_addr_table) brokers[name] = broker_data_json(data);
  json clusters = json::object();
  for (const auto& [cluster, names] : info.cluster_addr_table) {
    clusters[cluster] = json(std::vector<std::string>(names.begin(), names.end()));
  }
  json body = json::object();
  body["brokerAddrTable"] = std::move(brokers);
  body["clusterAddrTable"] = std::move(clusters);
  return dump_json(body);
}

}  // namespace dledger::remoting
