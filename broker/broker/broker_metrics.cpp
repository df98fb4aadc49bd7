#include "broker/broker/broker_metrics.h"

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include <algorithm>
#include <set>

namespace dledger::broker {
namespace {

std::map<std::string, std::string> with(std::map<std::string, std::string> labels,
                                        const std::string& key, const std::string& value) {
  labels[key] = value;
  return labels;
}

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

// Sets one gauge per key of `values`, adding series for new keys and removing those of keys gone.
template <typename Key>
void sync_gauges(prometheus::Family<prometheus::Gauge>* family,
                 std::map<Key, prometheus::Gauge*>& series, const std::map<Key, double>& values,
                 const std::function<std::map<std::string, std::string>(const Key&)>& labels_of) {
  for (const auto& [key, value] : values) {
    auto it = series.find(key);
    if (it == series.end()) it = series.emplace(key, &family->Add(labels_of(key))).first;
    it->second->Set(value);
  }
  for (auto it = series.begin(); it != series.end();) {
    if (values.count(it->first) == 0) {
      family->Remove(it->second);
      it = series.erase(it);
    } else {
      ++it;
    }
  }
}

}  // namespace

std::vector<double> BrokerMetrics::latency_buckets_seconds() {
  return {0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
          0.05,   0.1,     0.25,   0.5,   1.0,    2.5,   5.0,  10.0};
}

BrokerMetrics::BrokerMetrics(std::shared_ptr<prometheus::Registry> registry, std::string group,
                             std::string member)
    : registry_(std::move(registry)), group_(std::move(group)), member_(std::move(member)) {
  prometheus::Registry& r = *registry_;
  const auto base = labels();
  messages_in_family_ = &prometheus::BuildCounter()
                             .Name("dledger_broker_messages_in_total")
                             .Help("Messages acknowledged to producers (leader, once stored)")
                             .Register(r);
  bytes_in_family_ = &prometheus::BuildCounter()
                          .Name("dledger_broker_bytes_in_total")
                          .Help("Request body bytes of the sends acknowledged to producers")
                          .Register(r);
  messages_out_family_ = &prometheus::BuildCounter()
                              .Name("dledger_broker_messages_out_total")
                              .Help("Messages returned to consumers by pull requests")
                              .Register(r);
  bytes_out_family_ = &prometheus::BuildCounter()
                           .Name("dledger_broker_bytes_out_total")
                           .Help("Stored-record bytes returned to consumers by pull requests")
                           .Register(r);
  produce_latency_family_ = &prometheus::BuildHistogram()
                                 .Name("dledger_broker_produce_latency_seconds")
                                 .Help("Send request arrival to response, seconds")
                                 .Register(r);
  produce_latency_ = &produce_latency_family_->Add(base, latency_buckets_seconds());
  pull_latency_family_ = &prometheus::BuildHistogram()
                              .Name("dledger_broker_pull_latency_seconds")
                              .Help(
                                  "Pull read from the store to response (long-poll hold "
                                  "excluded), seconds")
                              .Register(r);
  pull_latency_ = &pull_latency_family_->Add(base, latency_buckets_seconds());
  lag_family_ = &prometheus::BuildGauge()
                     .Name("dledger_broker_consumer_lag_messages")
                     .Help("Messages between a group's committed offset and the queue's max offset")
                     .Register(r);
  held_pulls_family_ = &prometheus::BuildGauge()
                            .Name("dledger_broker_held_pulls")
                            .Help("Long-polling pull requests held now")
                            .Register(r);
  held_pulls_ = &held_pulls_family_->Add(base);
  connected_clients_family_ = &prometheus::BuildGauge()
                                   .Name("dledger_broker_connected_clients")
                                   .Help("Open client connections on the broker's listenPort")
                                   .Register(r);
  connected_clients_ = &connected_clients_family_->Add(base);
  registered_family_ = &prometheus::BuildGauge()
                            .Name("dledger_broker_namesrv_registered")
                            .Help("1 when the last registration with the name server succeeded")
                            .Register(r);
  registered_id_family_ = &prometheus::BuildGauge()
                               .Name("dledger_broker_registered_broker_id")
                               .Help("brokerId of the last successful registration, -1 if none")
                               .Register(r);
}

BrokerMetrics::~BrokerMetrics() {
  std::lock_guard lock(mu_);
  for (auto& [topic, c] : messages_in_) messages_in_family_->Remove(c);
  for (auto& [topic, c] : bytes_in_) bytes_in_family_->Remove(c);
  for (auto& [topic, c] : messages_out_) messages_out_family_->Remove(c);
  for (auto& [topic, c] : bytes_out_) bytes_out_family_->Remove(c);
  produce_latency_family_->Remove(produce_latency_);
  pull_latency_family_->Remove(pull_latency_);
  for (auto& [key, g] : lag_) lag_family_->Remove(g);
  held_pulls_family_->Remove(held_pulls_);
  connected_clients_family_->Remove(connected_clients_);
  for (auto& [address, g] : registered_) registered_family_->Remove(g);
  for (auto& [address, g] : registered_id_) registered_id_family_->Remove(g);
}

std::map<std::string, std::string> BrokerMetrics::labels() const {
  return {{"group", group_}, {"member", member_}};
}

prometheus::Counter& BrokerMetrics::per_topic(prometheus::Family<prometheus::Counter>* family,
                                              std::map<std::string, prometheus::Counter*>& series,
                                              const std::string& topic) {
  auto it = series.find(topic);
  if (it == series.end()) {
    it = series.emplace(topic, &family->Add(with(labels(), "topic", topic))).first;
  }
  return *it->second;
}

void BrokerMetrics::on_send_done(const std::string& topic, bool ok, std::uint64_t messages,
                                 std::uint64_t bytes,
                                 std::chrono::steady_clock::time_point arrived) {
  produce_latency_->Observe(seconds_since(arrived));
  if (!ok) return;
  std::lock_guard lock(mu_);
  per_topic(messages_in_family_, messages_in_, topic).Increment(static_cast<double>(messages));
  per_topic(bytes_in_family_, bytes_in_, topic).Increment(static_cast<double>(bytes));
}

void BrokerMetrics::on_pull_done(const std::string& topic, std::uint64_t messages,
                                 std::uint64_t bytes,
                                 std::chrono::steady_clock::time_point started) {
  pull_latency_->Observe(seconds_since(started));
  std::lock_guard lock(mu_);
  per_topic(messages_out_family_, messages_out_, topic).Increment(static_cast<double>(messages));
  per_topic(bytes_out_family_, bytes_out_, topic).Increment(static_cast<double>(bytes));
}

void BrokerMetrics::refresh(const Sources& sources) {
  if (sources.held_pulls) held_pulls_->Set(static_cast<double>(sources.held_pulls()));
  if (sources.connected_clients) {
    connected_clients_->Set(static_cast<double>(sources.connected_clients()));
  }
  std::map<LagKey, double> lag;
  if (sources.store != nullptr) {
    for (const auto& [key, offset] : sources.store->consumer_offsets()) {
      std::int64_t max = sources.store->max_offset(key.topic, key.queue_id);
      lag[LagKey{key.group, key.topic, key.queue_id}] =
          static_cast<double>(std::max<std::int64_t>(0, max - offset));
    }
  }
  std::map<std::string, double> registered;
  std::map<std::string, double> registered_id;
  if (sources.registrations) {
    for (const auto& r : sources.registrations()) {
      registered[r.namesrv_address] = r.registered ? 1.0 : 0.0;
      registered_id[r.namesrv_address] = static_cast<double>(r.broker_id);
    }
  }
  std::lock_guard lock(mu_);
  const auto base = labels();
  if (sources.store != nullptr) {
    sync_gauges<LagKey>(lag_family_, lag_, lag, [&base](const LagKey& key) {
      auto l = with(base, "consumer_group", std::get<0>(key));
      l["topic"] = std::get<1>(key);
      l["queue_id"] = std::to_string(std::get<2>(key));
      return l;
    });
  }
  if (sources.registrations) {
    auto by_address = [&base](const std::string& address) {
      return with(base, "namesrv", address);
    };
    sync_gauges<std::string>(registered_family_, registered_, registered, by_address);
    sync_gauges<std::string>(registered_id_family_, registered_id_, registered_id, by_address);
  }
}

BrokerMetricsRefresher::BrokerMetricsRefresher(BrokerMetrics& metrics,
                                               BrokerMetrics::Sources sources,
                                               std::chrono::milliseconds period) {
  thread_ = std::thread([this, &metrics, sources = std::move(sources), period] {
    std::unique_lock lock(mu_);
    while (!stop_) {
      lock.unlock();
      metrics.refresh(sources);
      lock.lock();
      cv_.wait_for(lock, period, [this] { return stop_; });
    }
  });
}

BrokerMetricsRefresher::~BrokerMetricsRefresher() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  cv_.notify_one();
  thread_.join();
}

}  // namespace dledger::broker
