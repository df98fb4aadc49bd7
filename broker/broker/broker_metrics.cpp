#include "broker/broker/broker_metrics.h"

#include <algorithm>

#include "broker/base/thread_name.h"
#include "broker/metrics/metric_families.h"

namespace dledger::broker {

using metrics::counter_family;
using metrics::gauge_family;
using metrics::histogram_family;
using metrics::with_label;

namespace {

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
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
  messages_in_family_ = &counter_family(r, "dledger_broker_messages_in_total",
                                        "Messages acknowledged to producers (leader, once stored)");
  bytes_in_family_ = &counter_family(r, "dledger_broker_bytes_in_total",
                                     "Request body bytes of the sends acknowledged to producers");
  messages_out_family_ = &counter_family(r, "dledger_broker_messages_out_total",
                                         "Messages returned to consumers by pull requests");
  bytes_out_family_ = &counter_family(r, "dledger_broker_bytes_out_total",
                                      "Stored-record bytes returned to consumers by pull requests");
  produce_latency_family_ = &histogram_family(r, "dledger_broker_produce_latency_seconds",
                                              "Send request arrival to response, seconds");
  produce_latency_ = &produce_latency_family_->Add(base, latency_buckets_seconds());
  pull_latency_family_ =
      &histogram_family(r, "dledger_broker_pull_latency_seconds",
                        "Pull read from the store to response (long-poll hold excluded), seconds");
  pull_latency_ = &pull_latency_family_->Add(base, latency_buckets_seconds());
  lag_family_ =
      &gauge_family(r, "dledger_broker_consumer_lag_messages",
                    "Messages between a group's committed offset and the queue's max offset");
  held_pulls_family_ =
      &gauge_family(r, "dledger_broker_held_pulls", "Long-polling pull requests held now");
  held_pulls_ = &held_pulls_family_->Add(base);
  connected_clients_family_ = &gauge_family(r, "dledger_broker_connected_clients",
                                            "Open client connections on the broker's listenPort");
  connected_clients_ = &connected_clients_family_->Add(base);
  registered_family_ = &gauge_family(r, "dledger_broker_namesrv_registered",
                                     "1 when the last registration with the name server succeeded");
  registered_id_family_ = &gauge_family(r, "dledger_broker_registered_broker_id",
                                        "brokerId of the last successful registration, -1 if none");
}

BrokerMetrics::~BrokerMetrics() {
  std::lock_guard lock(mu_);
  metrics::remove_all(*messages_in_family_, messages_in_);
  metrics::remove_all(*bytes_in_family_, bytes_in_);
  metrics::remove_all(*messages_out_family_, messages_out_);
  metrics::remove_all(*bytes_out_family_, bytes_out_);
  produce_latency_family_->Remove(produce_latency_);
  pull_latency_family_->Remove(pull_latency_);
  metrics::remove_all(*lag_family_, lag_);
  held_pulls_family_->Remove(held_pulls_);
  connected_clients_family_->Remove(connected_clients_);
  metrics::remove_all(*registered_family_, registered_);
  metrics::remove_all(*registered_id_family_, registered_id_);
}

std::map<std::string, std::string> BrokerMetrics::labels() const {
  return metrics::replica_labels(group_, member_);
}

prometheus::Counter& BrokerMetrics::per_topic(prometheus::Family<prometheus::Counter>* family,
                                              std::map<std::string, prometheus::Counter*>& series,
                                              const std::string& topic) {
  auto it = series.find(topic);
  if (it == series.end()) {
    it = series.emplace(topic, &family->Add(with_label(labels(), "topic", topic))).first;
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
    metrics::sync_gauges(*lag_family_, lag_, lag, [&base](const LagKey& key) {
      auto l = with_label(base, "consumer_group", std::get<0>(key));
      l["topic"] = std::get<1>(key);
      l["queue_id"] = std::to_string(std::get<2>(key));
      return l;
    });
  }
  if (sources.registrations) {
    auto by_address = [&base](const std::string& address) {
      return with_label(base, "namesrv", address);
    };
    metrics::sync_gauges(*registered_family_, registered_, registered, by_address);
    metrics::sync_gauges(*registered_id_family_, registered_id_, registered_id, by_address);
  }
}

BrokerMetricsRefresher::BrokerMetricsRefresher(BrokerMetrics& metrics,
                                               BrokerMetrics::Sources sources,
                                               std::chrono::milliseconds period) {
  thread_ = named_thread("broker-metrics", [this, &metrics, sources = std::move(sources), period] {
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
