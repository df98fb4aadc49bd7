// LedgerMetrics: the ledger's Prometheus metrics (names from docs/admin-api.md), registered on a
// shared Registry (normally AdminHttpServer::registry()). Every series carries the labels
// `group` and `member`; the families themselves have no constant labels, so several replicas
// (e.g. tests running three in one process) can share one registry.
//
//   dledger_role{group,member,role}          gauge, 1 for the current role, 0 for the other three
//   dledger_term, dledger_commit_index, dledger_last_index                         gauges
//   dledger_leader_changes_total, dledger_elections_total                         counters
//   dledger_replication_lag_entries{peer}   gauge per peer, leader only (removed otherwise)
//   dledger_append_latency_seconds, dledger_fsync_latency_seconds   histograms, 50us .. 5s
//   dledger_pending_appends, dledger_disk_used_bytes                                gauges
//
// Thread-safe: prometheus-cpp metrics are atomic; update() serializes peer bookkeeping.
// The destructor removes this replica's series from the registry.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "broker/admin/admin_backend.h"
#include "broker/metrics/metric_families.h"

namespace dledger::admin {

class LedgerMetrics {
 public:
  LedgerMetrics(std::shared_ptr<prometheus::Registry> registry, std::string group,
                std::string member);
  ~LedgerMetrics();
  LedgerMetrics(const LedgerMetrics&) = delete;
  LedgerMetrics& operator=(const LedgerMetrics&) = delete;

  // Bucket upper bounds (seconds) of both latency histograms.
  static std::vector<double> latency_buckets_seconds();

  // Sets role, term, commit/last index and the per-peer lag from a status snapshot. Peers
  // without a known lag (or no longer members) lose their lag series.
  void update(const ReplicaStatus& status);
  void observe_append_latency(double seconds);
  void observe_fsync_latency(double seconds);
  void on_leader_change();
  void on_election();
  void set_pending_appends(std::uint64_t count);
  void set_disk_used(std::uint64_t bytes);

 private:
  std::map<std::string, std::string> labels() const;

  std::shared_ptr<prometheus::Registry> registry_;
  std::string group_;
  std::string member_;

  prometheus::Family<prometheus::Gauge>* role_family_;
  std::map<std::string, prometheus::Gauge*> role_gauges_;  // by role string
  prometheus::Family<prometheus::Gauge>* term_family_;
  prometheus::Gauge* term_;
  prometheus::Family<prometheus::Gauge>* commit_index_family_;
  prometheus::Gauge* commit_index_;
  prometheus::Family<prometheus::Gauge>* last_index_family_;
  prometheus::Gauge* last_index_;
  prometheus::Family<prometheus::Counter>* leader_changes_family_;
  prometheus::Counter* leader_changes_;
  prometheus::Family<prometheus::Counter>* elections_family_;
  prometheus::Counter* elections_;
  prometheus::Family<prometheus::Histogram>* append_latency_family_;
  prometheus::Histogram* append_latency_;
  prometheus::Family<prometheus::Histogram>* fsync_latency_family_;
  prometheus::Histogram* fsync_latency_;
  prometheus::Family<prometheus::Gauge>* pending_appends_family_;
  prometheus::Gauge* pending_appends_;
  prometheus::Family<prometheus::Gauge>* disk_used_family_;
  prometheus::Gauge* disk_used_;

  std::mutex lag_mutex_;
  prometheus::Family<prometheus::Gauge>* lag_family_;
  std::map<std::string, prometheus::Gauge*> lag_gauges_;  // by peer id
};

}  // namespace dledger::admin
