#include "broker/broker/name_server_registration.h"

#include <spdlog/spdlog.h>

#include "broker/base/thread_name.h"
#include "broker/broker/broker_handlers.h"
#include "broker/remoting/codes.h"
#include "broker/remoting/register_broker.h"

namespace dledger::broker {

NameServerRegistrar::NameServerRegistrar(Options options, store::MessageStore& store)
    : options_(std::move(options)), store_(store) {
  for (const auto& address : options_.namesrv_addresses) {
    registrations_[address] = Registration{address, false, -1};
  }
}

std::vector<NameServerRegistrar::Registration> NameServerRegistrar::registrations() const {
  std::lock_guard lock(registrations_mu_);
  std::vector<Registration> out;
  out.reserve(registrations_.size());
  for (const auto& [address, registration] : registrations_) out.push_back(registration);
  return out;
}

void NameServerRegistrar::record_outcome(const std::string& address, bool registered,
                                         std::int64_t broker_id) {
  std::lock_guard lock(registrations_mu_);
  Registration& r = registrations_[address];
  r.namesrv_address = address;
  r.registered = registered;
  r.broker_id = registered ? broker_id : -1;
}

NameServerRegistrar::~NameServerRegistrar() {
  stop();
}

void NameServerRegistrar::start() {
  if (options_.namesrv_addresses.empty() || thread_.joinable()) return;
  thread_ = named_thread("namesrv-reg", [this] { run(); });
}

void NameServerRegistrar::trigger() {
  {
    std::lock_guard lock(mu_);
    triggered_ = true;
  }
  cv_.notify_one();
}

void NameServerRegistrar::stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_one();
  if (thread_.joinable()) thread_.join();
  for (auto& [address, client] : clients_) {
    if (client) client->close();
  }
  clients_.clear();
}

std::optional<std::int64_t> NameServerRegistrar::current_broker_id() {
  if (store_.is_leader()) {
    if (store_.ready_as_master()) return 0;
    return std::nullopt;
  }
  if (store_.leader_hint().leader_id == raft::kNoNode || options_.self_id == raft::kNoNode) {
    return std::nullopt;
  }
  return static_cast<std::int64_t>(options_.self_id) + 1;
}

const std::string& NameServerRegistrar::advertised_address(std::int64_t broker_id) const {
  if (broker_id == 0 && !options_.group_address.empty()) return options_.group_address;
  return options_.broker_address;
}

void NameServerRegistrar::register_once(std::int64_t broker_id) {
  remoting::RegisterBrokerRequest header;
  header.broker_name = options_.broker_name;
  header.broker_addr = advertised_address(broker_id);
  header.cluster_name = options_.cluster_name;
  header.broker_id = broker_id;
  std::string body = remoting::write_register_broker_body(topic_config_body(store_));
  for (const auto& address : options_.namesrv_addresses) {
    auto& client = clients_[address];
    if (!client) {
      auto connected = frontend::RemotingClient::connect(address);
      if (!connected.ok()) {
        spdlog::warn("register with name server {}: {}", address, connected.error().to_string());
        record_outcome(address, false, broker_id);
        continue;
      }
      client = std::move(connected).value();
    }
    remoting::RemotingCommand request =
        remoting::make_request(remoting::request_code::kRegisterBroker, 0);
    remoting::write_register_broker_request(header, &request);
    request.body = body;
    auto reply = client->invoke_sync(std::move(request), std::chrono::milliseconds(3000));
    if (!reply.ok()) {
      spdlog::warn("register with name server {}: {}", address, reply.error().to_string());
      client->close();
      client.reset();
      record_outcome(address, false, broker_id);
      continue;
    }
    if (reply->code != remoting::response_code::kSuccess) {
      spdlog::warn("name server {} refused the registration: code {} {}", address, reply->code,
                   reply->remark.value_or(""));
    }
    record_outcome(address, reply->code == remoting::response_code::kSuccess, broker_id);
  }
}

void NameServerRegistrar::run() {
  std::unique_lock lock(mu_);
  while (!stopping_) {
    bool pending_master = store_.is_leader() && !store_.ready_as_master();
    auto wait = pending_master ? std::chrono::milliseconds(100) : options_.interval;
    cv_.wait_for(lock, wait, [this] { return triggered_ || stopping_; });
    if (stopping_) break;
    triggered_ = false;
    lock.unlock();
    auto broker_id = current_broker_id();
    if (broker_id) {
      if (broker_id != last_broker_id_) {
        spdlog::info("registering {} at {} as brokerId {}", options_.broker_name,
                     advertised_address(*broker_id), *broker_id);
      }
      register_once(*broker_id);
    }
    last_broker_id_ = broker_id;
    lock.lock();
  }
}

}  // namespace dledger::broker
