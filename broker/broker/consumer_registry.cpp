#include "broker/broker/consumer_registry.h"

namespace dledger::broker {

ConsumerRegistry::ConsumerRegistry(std::chrono::milliseconds expiry, Clock clock)
    : expiry_(expiry), clock_(std::move(clock)) {
  if (!clock_) clock_ = [] { return std::chrono::steady_clock::now(); };
}

void ConsumerRegistry::heartbeat(const remoting::HeartbeatData& heartbeat,
                                 std::uint64_t connection_id, bool relayed, ClientDetails details) {
  std::lock_guard lock(mu_);
  auto now = clock_();
  for (const auto& consumer : heartbeat.consumers) {
    Client& client = groups_[consumer.group_name][heartbeat.client_id];
    client.connection_id = connection_id;
    client.relayed = relayed;
    client.data = consumer;
    client.details = details;
    client.last_heartbeat = now;
  }
  if (relayed) return;
  for (const auto& producer : heartbeat.producers) {
    producers_[producer.group_name][heartbeat.client_id] = {connection_id, details, now};
  }
}

std::vector<DirectClient> ConsumerRegistry::direct_clients() {
  std::lock_guard lock(mu_);
  expire_locked();
  std::map<std::string, DirectClient> by_client;
  for (const auto& [group, clients] : groups_) {
    for (const auto& [id, client] : clients) {
      if (client.relayed) continue;
      DirectClient& direct = by_client[id];
      direct.heartbeat.client_id = id;
      direct.heartbeat.consumers.push_back(client.data);
      direct.details = client.details;
    }
  }
  std::vector<DirectClient> out;
  for (auto& [id, direct] : by_client) out.push_back(std::move(direct));
  return out;
}

void ConsumerRegistry::unregister(const std::string& client_id,
                                  const std::optional<std::string>& group) {
  std::lock_guard lock(mu_);
  for (auto it = groups_.begin(); it != groups_.end();) {
    if (!group || it->first == *group) it->second.erase(client_id);
    it = it->second.empty() ? groups_.erase(it) : std::next(it);
  }
}

void ConsumerRegistry::unregister_producer(const std::string& client_id, const std::string& group) {
  std::lock_guard lock(mu_);
  auto it = producers_.find(group);
  if (it == producers_.end()) return;
  it->second.erase(client_id);
  if (it->second.empty()) producers_.erase(it);
}

std::vector<std::pair<std::string, std::string>> ConsumerRegistry::connection_closed(
    std::uint64_t connection_id) {
  std::lock_guard lock(mu_);
  for (auto it = producers_.begin(); it != producers_.end();) {
    std::erase_if(it->second,
                  [&](const auto& kv) { return kv.second.connection_id == connection_id; });
    it = it->second.empty() ? producers_.erase(it) : std::next(it);
  }
  std::vector<std::pair<std::string, std::string>> forgotten;
  for (auto it = groups_.begin(); it != groups_.end();) {
    std::erase_if(it->second, [&](const auto& kv) {
      if (kv.second.connection_id != connection_id) return false;
      if (!kv.second.relayed) forgotten.emplace_back(it->first, kv.first);
      return true;
    });
    it = it->second.empty() ? groups_.erase(it) : std::next(it);
  }
  return forgotten;
}

void ConsumerRegistry::expire_locked() {
  auto now = clock_();
  auto expire = [&](auto& groups) {
    for (auto it = groups.begin(); it != groups.end();) {
      std::erase_if(it->second,
                    [&](const auto& kv) { return now - kv.second.last_heartbeat > expiry_; });
      it = it->second.empty() ? groups.erase(it) : std::next(it);
    }
  };
  expire(groups_);
  expire(producers_);
}

namespace {

// One row of a connection list (GET_CONSUMER_CONNECTION_LIST / GET_PRODUCER_CONNECTION_LIST).
remoting::ClientConnection client_connection(const std::string& id, const ClientDetails& details) {
  return remoting::ClientConnection{
      id, details.address, std::string(remoting::language_name(details.language).value_or("OTHER")),
      details.version};
}

}  // namespace

std::optional<remoting::ProducerConnection> ConsumerRegistry::producer_connection(
    const std::string& group) {
  std::lock_guard lock(mu_);
  expire_locked();
  auto it = producers_.find(group);
  if (it == producers_.end() || it->second.empty()) return std::nullopt;
  remoting::ProducerConnection out;
  for (const auto& [id, producer] : it->second) {  // by client id
    out.connections.push_back(client_connection(id, producer.details));
  }
  return out;
}

std::vector<std::string> ConsumerRegistry::consumers(const std::string& group) {
  std::lock_guard lock(mu_);
  expire_locked();
  std::vector<std::string> ids;
  auto it = groups_.find(group);
  if (it == groups_.end()) return ids;
  for (const auto& [id, client] : it->second) ids.push_back(id);
  return ids;
}

std::optional<remoting::SubscriptionData> ConsumerRegistry::subscription(const std::string& group,
                                                                         const std::string& topic) {
  std::lock_guard lock(mu_);
  expire_locked();
  auto it = groups_.find(group);
  if (it == groups_.end()) return std::nullopt;
  for (const auto& [id, client] : it->second) {
    for (const auto& sub : client.data.subscriptions) {
      if (sub.topic == topic) return sub;
    }
  }
  return std::nullopt;
}

std::optional<remoting::ConsumerConnection> ConsumerRegistry::connection(const std::string& group) {
  std::lock_guard lock(mu_);
  expire_locked();
  auto it = groups_.find(group);
  if (it == groups_.end() || it->second.empty()) return std::nullopt;
  remoting::ConsumerConnection out;
  const Client* latest = nullptr;
  std::map<std::string, remoting::SubscriptionData> subscriptions;
  for (const auto& [id, client] : it->second) {  // by client id
    out.connections.push_back(client_connection(id, client.details));
    if (latest == nullptr || client.last_heartbeat > latest->last_heartbeat) latest = &client;
    for (const auto& sub : client.data.subscriptions) subscriptions[sub.topic] = sub;
  }
  out.consume_type = latest->data.consume_type;
  out.message_model = latest->data.message_model;
  out.consume_from_where = latest->data.consume_from_where;
  for (auto& [topic, sub] : subscriptions) out.subscriptions.push_back(std::move(sub));
  return out;
}

}  // namespace dledger::broker
