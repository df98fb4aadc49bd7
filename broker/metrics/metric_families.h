// Building blocks of the replicas' Prometheus metrics (admin::LedgerMetrics,
// broker::BrokerMetrics): families registered without constant labels, so several replicas (tests
// running three in one process) can share one Registry, and every series labelled with the
// replica's `group` and `member`. Header-only, library target dledger_metrics (brings
// prometheus-cpp::core).
#pragma once

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include <map>
#include <string>

namespace dledger::metrics {

using Labels = std::map<std::string, std::string>;

// {group, member}: the labels every series of a replica carries.
inline Labels replica_labels(const std::string& group, const std::string& member) {
  return {{"group", group}, {"member", member}};
}

// `labels` plus key=value (replacing an existing key).
inline Labels with_label(Labels labels, const std::string& key, const std::string& value) {
  labels[key] = value;
  return labels;
}

inline prometheus::Family<prometheus::Gauge>& gauge_family(prometheus::Registry& registry,
                                                           const std::string& name,
                                                           const std::string& help) {
  return prometheus::BuildGauge().Name(name).Help(help).Register(registry);
}

inline prometheus::Family<prometheus::Counter>& counter_family(prometheus::Registry& registry,
                                                               const std::string& name,
                                                               const std::string& help) {
  return prometheus::BuildCounter().Name(name).Help(help).Register(registry);
}

inline prometheus::Family<prometheus::Histogram>& histogram_family(prometheus::Registry& registry,
                                                                   const std::string& name,
                                                                   const std::string& help) {
  return prometheus::BuildHistogram().Name(name).Help(help).Register(registry);
}

// Sets one gauge of `family` per key of `values`, adding the series of new keys (labelled
// labels_of(key)) and removing those of keys no longer in `values`. `series` is the caller's
// record of the series it added; the caller serializes calls.
template <typename Key, typename LabelsOf>
void sync_gauges(prometheus::Family<prometheus::Gauge>& family,
                 std::map<Key, prometheus::Gauge*>& series, const std::map<Key, double>& values,
                 const LabelsOf& labels_of) {
  for (const auto& [key, value] : values) {
    auto it = series.find(key);
    if (it == series.end()) it = series.emplace(key, &family.Add(labels_of(key))).first;
    it->second->Set(value);
  }
  for (auto it = series.begin(); it != series.end();) {
    if (values.count(it->first) == 0) {
      family.Remove(it->second);
      it = series.erase(it);
    } else {
      ++it;
    }
  }
}

// Removes every series recorded in `series` from `family` (for destructors).
template <typename Metric, typename Key>
void remove_all(prometheus::Family<Metric>& family, const std::map<Key, Metric*>& series) {
  for (const auto& [key, metric] : series) family.Remove(metric);
}

}  // namespace dledger::metrics
