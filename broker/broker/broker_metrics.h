// BrokerMetrics: the broker's Prometheus metrics (contract: docs/packaging.md "Metrics reference",
// Broker table), registered on a shared Registry (normally AdminHttpServer::registry(), next to
// admin::LedgerMetrics). Every series carries `group` and `member` like the ledger metrics; the
// families have no constant labels, so several replicas (tests) can share one registry.
//
//   counted by the handlers as requests complete:
//   dledger_broker_messages_in_total{topic}    counter  messages acknowledged to producers (the
//                                                       leader's store put succeeded)
//   dledger_broker_bytes_in_total{topic}       counter  request body bytes of those sends
//   dledger_broker_messages_out_total{topic}   counter  messages returned by PULL_MESSAGE
//   dledger_broker_bytes_out_total{topic}      counter  stored-record bytes returned by pulls
//   dledger_broker_produce_latency_seconds     histogram  send arrival -> reply, sends that reached
//                                                       the store (success or failure)
//   dledger_broker_pull_latency_seconds        histogram  one pull read from the store -> reply
//                                                       (time a long-poll was held excluded)
//   set by refresh() from BrokerMetrics::Sources (the program calls it periodically):
//   dledger_broker_consumer_lag_messages{consumer_group,topic,queue_id}  gauge  max offset minus
//                                                       the committed offset (>= 0)
//   dledger_broker_held_pulls                  gauge    long-polling pulls held now
//   dledger_broker_connected_clients           gauge    open connections on listenPort
//   dledger_broker_namesrv_registered{namesrv} gauge    1 when the last REGISTER_BROKER to that
//                                                       name server succeeded, else 0
//   dledger_broker_registered_broker_id{namesrv} gauge  brokerId of that registration, -1 if none
//
// Histogram buckets: 100 us .. 10 s. Thread-safe (prometheus-cpp metrics are atomic; the per-label
// maps are guarded). The destructor removes this replica's series from the registry.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include "broker/broker/name_server_registration.h"
#include "broker/metrics/metric_families.h"
#include "broker/store/message_store.h"

namespace dledger::broker {

class BrokerMetrics {
 public:
  // Where refresh() reads the gauges from; any member may be empty (its gauges stay unset).
  struct Sources {
    const store::MessageStore* store = nullptr;      // consumer lag
    std::function<std::size_t()> held_pulls;         // PullSuspender::held
    std::function<std::size_t()> connected_clients;  // RemotingServer::stats().connections_open
    std::function<std::vector<NameServerRegistrar::Registration>()> registrations;
  };

  BrokerMetrics(std::shared_ptr<prometheus::Registry> registry, std::string group,
                std::string member);
  ~BrokerMetrics();
  BrokerMetrics(const BrokerMetrics&) = delete;
  BrokerMetrics& operator=(const BrokerMetrics&) = delete;

  // Bucket upper bounds (seconds) of both latency histograms.
  static std::vector<double> latency_buckets_seconds();

  // A send that reached the store finished: observes the latency since `arrived`; when `ok`,
  // counts `messages` and `bytes` in for `topic`.
  void on_send_done(const std::string& topic, bool ok, std::uint64_t messages, std::uint64_t bytes,
                    std::chrono::steady_clock::time_point arrived);
  // A pull read finished: observes the latency since `started`, counts what it returned.
  void on_pull_done(const std::string& topic, std::uint64_t messages, std::uint64_t bytes,
                    std::chrono::steady_clock::time_point started);

  // Sets the gauges from `sources`; lag series of offsets no longer committed are removed.
  void refresh(const Sources& sources);

 private:
  using LagKey = std::tuple<std::string, std::string, std::int32_t>;  // group, topic, queue
  std::map<std::string, std::string> labels() const;
  prometheus::Counter& per_topic(prometheus::Family<prometheus::Counter>* family,
                                 std::map<std::string, prometheus::Counter*>& series,
                                 const std::string& topic);

  std::shared_ptr<prometheus::Registry> registry_;
  std::string group_;
  std::string member_;

  std::mutex mu_;  // guards the series maps below
  prometheus::Family<prometheus::Counter>* messages_in_family_;
  std::map<std::string, prometheus::Counter*> messages_in_;
  prometheus::Family<prometheus::Counter>* bytes_in_family_;
  std::map<std::string, prometheus::Counter*> bytes_in_;
  prometheus::Family<prometheus::Counter>* messages_out_family_;
  std::map<std::string, prometheus::Counter*> messages_out_;
  prometheus::Family<prometheus::Counter>* bytes_out_family_;
  std::map<std::string, prometheus::Counter*> bytes_out_;
  prometheus::Family<prometheus::Histogram>* produce_latency_family_;
  prometheus::Histogram* produce_latency_;
  prometheus::Family<prometheus::Histogram>* pull_latency_family_;
  prometheus::Histogram* pull_latency_;
  prometheus::Family<prometheus::Gauge>* lag_family_;
  std::map<LagKey, prometheus::Gauge*> lag_;
  prometheus::Family<prometheus::Gauge>* held_pulls_family_;
  prometheus::Gauge* held_pulls_;
  prometheus::Family<prometheus::Gauge>* connected_clients_family_;
  prometheus::Gauge* connected_clients_;
  prometheus::Family<prometheus::Gauge>* registered_family_;
  std::map<std::string, prometheus::Gauge*> registered_;
  prometheus::Family<prometheus::Gauge>* registered_id_family_;
  std::map<std::string, prometheus::Gauge*> registered_id_;
};

// Calls metrics.refresh(sources) every `period` on its own thread until destroyed.
class BrokerMetricsRefresher {
 public:
  BrokerMetricsRefresher(BrokerMetrics& metrics, BrokerMetrics::Sources sources,
                         std::chrono::milliseconds period);
  ~BrokerMetricsRefresher();
  BrokerMetricsRefresher(const BrokerMetricsRefresher&) = delete;
  BrokerMetricsRefresher& operator=(const BrokerMetricsRefresher&) = delete;

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
  std::thread thread_;
};

}  // namespace dledger::broker
