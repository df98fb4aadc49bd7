// EventRecorder: core/v1 Events about an object, deduplicated like client-go's recorder.
//
// The first record(object, type, reason, message) creates an Event named
// "<object name>.<hex nanoseconds>" (count 1, firstTimestamp = lastTimestamp = now). Recording
// the same (object uid, type, reason, message) again within `dedup_window` of the previous
// occurrence PATCHes that Event instead (count + 1, lastTimestamp = now), so a decision repeated
// on every reconcile shows as one Event with a count rather than a flood of objects. After the
// window, or when the Event is gone (the API server expires Events after its TTL), a new Event
// is created. The cache is in memory and bounded (oldest entries are dropped); an operator restart
// starts a new series, as client-go does.
//
// Recording is best effort: API errors are swallowed (an Event must never fail a reconcile).
// Not thread-safe: one recorder per reconcile worker.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <string>

#include <nlohmann/json.hpp>

#include "operator/kube/kube_client.h"

namespace dledger::op::controller {

struct EventRecorderOptions {
  std::chrono::milliseconds dedup_window{std::chrono::minutes(10)};
  std::string component = "dledger-operator";
  std::size_t max_cached = 4096;
  std::function<std::chrono::system_clock::time_point()> clock;  // empty: the system clock
};

class EventRecorder {
 public:
  EventRecorder(kube::KubeClient& client, EventRecorderOptions options = {});

  // `object` needs apiVersion, kind and metadata.{name,namespace,uid}. type: Normal or Warning.
  void record(const nlohmann::json& object, const std::string& type, const std::string& reason,
              const std::string& message);

 private:
  struct Series {
    std::string namespace_name;
    std::string event_name;
    std::int64_t count = 0;
    std::chrono::system_clock::time_point last;
    std::uint64_t sequence = 0;  // insertion order, for eviction
  };
  std::chrono::system_clock::time_point now() const;
  bool bump(Series& series, std::chrono::system_clock::time_point at);
  void create(const nlohmann::json& object, const std::string& type, const std::string& reason,
              const std::string& message, std::chrono::system_clock::time_point at,
              const std::string& key);

  kube::KubeClient& client_;
  EventRecorderOptions options_;
  std::map<std::string, Series> series_;
  std::uint64_t sequence_ = 0;
};

// RFC 3339 UTC with seconds precision ("2026-01-02T03:04:05Z"), as Event timestamps use.
std::string format_rfc3339(std::chrono::system_clock::time_point at);

}  // namespace dledger::op::controller
