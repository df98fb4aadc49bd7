#include "operator/controller/event_recorder.h"

#include <algorithm>
#include <cstdio>
#include <ctime>

namespace dledger::op::controller {

using nlohmann::json;

std::string format_rfc3339(std::chrono::system_clock::time_point at) {
  const std::time_t seconds = std::chrono::system_clock::to_time_t(at);
  std::tm utc{};
  gmtime_r(&seconds, &utc);
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &utc);
  return text;
}

EventRecorder::EventRecorder(kube::KubeClient& client, EventRecorderOptions options)
    : client_(client), options_(std::move(options)) {}

std::chrono::system_clock::time_point EventRecorder::now() const {
  return options_.clock ? options_.clock() : std::chrono::system_clock::now();
}

bool EventRecorder::bump(Series& series, std::chrono::system_clock::time_point at) {
  const json patch = {{"count", series.count + 1}, {"lastTimestamp", format_rfc3339(at)}};
  auto patched =
      client_.patch(kube::resources::kEvents, series.namespace_name, series.event_name, patch);
  if (!patched.ok()) return false;
  ++series.count;
  series.last = at;
  return true;
}

void EventRecorder::create(const json& object, const std::string& type, const std::string& reason,
                           const std::string& message, std::chrono::system_clock::time_point at,
                           const std::string& key) {
  const json meta = object.value("metadata", json::object());
  const std::string ns = meta.value("namespace", "default");
  const std::string ts = format_rfc3339(at);
  const auto nanos = std::chrono::duration_cast<std::chrono::nanoseconds>(at.time_since_epoch());
  char suffix[40];
  // The sequence keeps names unique when the clock does not move (tests, coarse clocks).
  std::snprintf(suffix, sizeof suffix, "%llx",
                static_cast<unsigned long long>(nanos.count()) + ++sequence_);
  const std::string name = meta.value("name", "object") + "." + suffix;
  json event = {{"apiVersion", "v1"},
                {"kind", "Event"},
                {"metadata", {{"name", name}, {"namespace", ns}}},
                {"involvedObject",
                 {{"apiVersion", object.value("apiVersion", "")},
                  {"kind", object.value("kind", "")},
                  {"name", meta.value("name", "")},
                  {"namespace", ns},
                  {"uid", meta.value("uid", "")},
                  {"resourceVersion", meta.value("resourceVersion", "")}}},
                {"type", type},
                {"reason", reason},
                {"message", message},
                {"count", 1},
                {"firstTimestamp", ts},
                {"lastTimestamp", ts},
                {"source", {{"component", options_.component}}},
                {"reportingComponent", options_.component}};
  if (!client_.create(kube::resources::kEvents, ns, event).ok()) return;  // best effort
  if (series_.size() >= options_.max_cached) {
    auto oldest = std::min_element(
        series_.begin(), series_.end(),
        [](const auto& a, const auto& b) { return a.second.sequence < b.second.sequence; });
    series_.erase(oldest);
  }
  series_[key] = Series{ns, name, 1, at, sequence_};
}

void EventRecorder::record(const json& object, const std::string& type, const std::string& reason,
                           const std::string& message) {
  const json meta = object.value("metadata", json::object());
  const std::string key = meta.value("namespace", "") + "/" + meta.value("name", "") + "/" +
                          meta.value("uid", "") + "\n" + type + "\n" + reason + "\n" + message;
  const auto at = now();
  auto it = series_.find(key);
  if (it != series_.end() && at - it->second.last <= options_.dedup_window &&
      bump(it->second, at)) {
    return;
  }
  create(object, type, reason, message, at, key);
}

}  // namespace dledger::op::controller
