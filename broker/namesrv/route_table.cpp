#include "broker/namesrv/route_table.h"

namespace dledger::namesrv {

using remoting::kMasterBrokerId;

RouteTable::RouteTable(std::function<std::int64_t()> now_ms, std::int64_t broker_expire_ms)
    : now_ms_(std::move(now_ms)), broker_expire_ms_(broker_expire_ms) {}

Result<RouteTable::RegisterResult> RouteTable::register_broker(
    const remoting::RegisterBrokerRequest& request, const remoting::RegisterBrokerBody& body,
    std::uint64_t connection_id) {
  if (request.cluster_name.empty() || request.broker_name.empty() || request.broker_addr.empty()) {
    return make_error(ErrorCode::kInvalidArgument,
                      "REGISTER_BROKER: clusterName, brokerName and brokerAddr must not be empty "
                      "(clusterName='" +
                          request.cluster_name + "', brokerName='" + request.broker_name +
                          "', brokerAddr='" + request.broker_addr + "')");
  }
  if (request.broker_id < 0) {
    return make_error(
        ErrorCode::kInvalidArgument,
        "REGISTER_BROKER: brokerId = " + std::to_string(request.broker_id) + ": expected >= 0");
  }
  // The address may have served another brokerName before (a reused pod IP): forget that.
  auto previous = live_.find(request.broker_addr);
  if (previous != live_.end() && previous->second.broker_name != request.broker_name) {
    remove_address(request.broker_addr);
  }

  BrokerEntry& entry = brokers_[request.broker_name];
  if (!entry.cluster.empty() && entry.cluster != request.cluster_name) {
    auto old = clusters_.find(entry.cluster);
    if (old != clusters_.end()) {
      old->second.erase(request.broker_name);
      if (old->second.empty()) clusters_.erase(old);
    }
  }
  entry.cluster = request.cluster_name;
  clusters_[request.cluster_name].insert(request.broker_name);

  // One id per address: a promoted slave's old id entry goes.
  for (auto it = entry.addrs.begin(); it != entry.addrs.end();) {
    if (it->second == request.broker_addr && it->first != request.broker_id) {
      it = entry.addrs.erase(it);
    } else {
      ++it;
    }
  }
  // The id may have belonged to another address (the old master): that address is no longer
  // listed under this brokerName; it stays live only if it still has an id here.
  auto same_id = entry.addrs.find(request.broker_id);
  std::string displaced;
  if (same_id != entry.addrs.end() && same_id->second != request.broker_addr) {
    displaced = same_id->second;
  }
  entry.addrs[request.broker_id] = request.broker_addr;
  if (!displaced.empty()) {
    bool still_listed = false;
    for (const auto& [id, addr] : entry.addrs) still_listed = still_listed || addr == displaced;
    if (!still_listed) live_.erase(displaced);
  }

  LiveBroker& live = live_[request.broker_addr];
  live.broker_name = request.broker_name;
  live.last_update_ms = now_ms_();
  live.connection_id = connection_id;
  live.ha_server_addr = request.ha_server_addr;

  if (request.broker_id == kMasterBrokerId || entry.addrs.count(kMasterBrokerId) == 0) {
    set_queue_data(request.broker_name, body);
  }

  RegisterResult result;
  if (request.broker_id != kMasterBrokerId) {
    auto master = entry.addrs.find(kMasterBrokerId);
    if (master != entry.addrs.end()) {
      result.master_addr = master->second;
      auto master_live = live_.find(master->second);
      if (master_live != live_.end()) result.ha_server_addr = master_live->second.ha_server_addr;
    }
  }
  return result;
}

void RouteTable::set_queue_data(const std::string& broker_name,
                                const remoting::RegisterBrokerBody& body) {
  for (auto it = topics_.begin(); it != topics_.end();) {
    if (body.topic_config_table.count(it->first) == 0) {
      it->second.erase(broker_name);
      if (it->second.empty()) {
        it = topics_.erase(it);
        continue;
      }
    }
    ++it;
  }
  for (const auto& [name, config] : body.topic_config_table) {
    remoting::QueueData queue;
    queue.broker_name = broker_name;
    queue.read_queue_nums = config.read_queue_nums;
    queue.write_queue_nums = config.write_queue_nums;
    queue.perm = config.perm;
    queue.topic_sys_flag = config.topic_sys_flag;
    topics_[name][broker_name] = queue;
  }
}

bool RouteTable::unregister_broker(const remoting::UnregisterBrokerRequest& request) {
  auto entry = brokers_.find(request.broker_name);
  if (entry == brokers_.end()) return false;
  auto id = entry->second.addrs.find(request.broker_id);
  if (id == entry->second.addrs.end() || id->second != request.broker_addr) return false;
  remove_address(request.broker_addr);
  return true;
}

void RouteTable::remove_address(const std::string& addr) {
  auto live = live_.find(addr);
  if (live == live_.end()) return;
  const std::string broker_name = live->second.broker_name;
  live_.erase(live);
  auto entry = brokers_.find(broker_name);
  if (entry == brokers_.end()) return;
  for (auto it = entry->second.addrs.begin(); it != entry->second.addrs.end();) {
    it = it->second == addr ? entry->second.addrs.erase(it) : std::next(it);
  }
  if (entry->second.addrs.empty()) drop_broker_name(broker_name);
}

void RouteTable::drop_broker_name(const std::string& broker_name) {
  auto entry = brokers_.find(broker_name);
  if (entry == brokers_.end()) return;
  auto cluster = clusters_.find(entry->second.cluster);
  if (cluster != clusters_.end()) {
    cluster->second.erase(broker_name);
    if (cluster->second.empty()) clusters_.erase(cluster);
  }
  brokers_.erase(entry);
  for (auto it = topics_.begin(); it != topics_.end();) {
    it->second.erase(broker_name);
    it = it->second.empty() ? topics_.erase(it) : std::next(it);
  }
}

std::optional<remoting::TopicRouteData> RouteTable::route(const std::string& topic) const {
  auto found = topics_.find(topic);
  if (found == topics_.end() || found->second.empty()) return std::nullopt;
  remoting::TopicRouteData route;
  for (const auto& [broker_name, queue] : found->second) {
    auto entry = brokers_.find(broker_name);
    if (entry == brokers_.end()) continue;
    route.queue_datas.push_back(queue);
    remoting::BrokerData data;
    data.cluster = entry->second.cluster;
    data.broker_name = broker_name;
    data.broker_addrs = entry->second.addrs;
    route.broker_datas.push_back(std::move(data));
  }
  if (route.queue_datas.empty()) return std::nullopt;
  return route;
}

remoting::ClusterInfo RouteTable::cluster_info() const {
  remoting::ClusterInfo info;
  for (const auto& [broker_name, entry] : brokers_) {
    remoting::BrokerData data;
    data.cluster = entry.cluster;
    data.broker_name = broker_name;
    data.broker_addrs = entry.addrs;
    info.broker_addr_table[broker_name] = std::move(data);
  }
  info.cluster_addr_table = clusters_;
  return info;
}

std::vector<std::string> RouteTable::topics() const {
  std::vector<std::string> names;
  names.reserve(topics_.size());
  for (const auto& [name, queues] : topics_) names.push_back(name);
  return names;
}

std::vector<std::string> RouteTable::expire_silent_brokers() {
  const std::int64_t now = now_ms_();
  std::vector<std::string> expired;
  for (const auto& [addr, live] : live_) {
    if (now - live.last_update_ms > broker_expire_ms_) expired.push_back(addr);
  }
  for (const auto& addr : expired) remove_address(addr);
  return expired;
}

std::vector<std::string> RouteTable::on_connection_closed(std::uint64_t connection_id) {
  std::vector<std::string> dropped;
  for (const auto& [addr, live] : live_) {
    if (live.connection_id == connection_id) dropped.push_back(addr);
  }
  for (const auto& addr : dropped) remove_address(addr);
  return dropped;
}

std::string RouteTable::check_invariants() const {
  std::size_t listed = 0;
  for (const auto& [broker_name, entry] : brokers_) {
    if (entry.addrs.empty()) return "brokerName " + broker_name + " has no address";
    auto cluster = clusters_.find(entry.cluster);
    if (cluster == clusters_.end() || cluster->second.count(broker_name) == 0) {
      return "brokerName " + broker_name + " missing from cluster " + entry.cluster;
    }
    std::set<std::string> seen;
    for (const auto& [id, addr] : entry.addrs) {
      if (!seen.insert(addr).second) return "address " + addr + " listed twice in " + broker_name;
      auto live = live_.find(addr);
      if (live == live_.end() || live->second.broker_name != broker_name) {
        return "address " + addr + " of " + broker_name + " is not live under that name";
      }
      ++listed;
    }
  }
  if (listed != live_.size()) return "live addresses not listed under any brokerName";
  for (const auto& [cluster, names] : clusters_) {
    for (const auto& name : names) {
      auto entry = brokers_.find(name);
      if (entry == brokers_.end() || entry->second.cluster != cluster) {
        return "cluster " + cluster + " lists unknown or moved brokerName " + name;
      }
    }
  }
  for (const auto& [topic, queues] : topics_) {
    if (queues.empty()) return "topic " + topic + " has no queue data";
    for (const auto& [name, queue] : queues) {
      if (brokers_.count(name) == 0) return "topic " + topic + " names unknown broker " + name;
    }
  }
  return {};
}

}  // namespace dledger::namesrv
