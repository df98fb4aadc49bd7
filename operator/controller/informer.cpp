#include "operator/controller/informer.h"

#include <condition_variable>
#include <set>
#include <thread>

namespace dledger::op::controller {

using nlohmann::json;

std::string object_key(const json& object) {
  if (!object.is_object() || !object.contains("metadata") || !object["metadata"].is_object()) {
    return "";
  }
  const json& meta = object["metadata"];
  return meta.value("namespace", "") + "/" + meta.value("name", "");
}

Informer::Informer(kube::KubeClient& client, InformerOptions options, Handler handler)
    : client_(client), options_(std::move(options)), handler_(std::move(handler)) {}

std::optional<json> Informer::cached(const std::string& key) const {
  std::lock_guard lock(mutex_);
  auto it = cache_.find(key);
  if (it == cache_.end()) return std::nullopt;
  return it->second;
}

size_t Informer::size() const {
  std::lock_guard lock(mutex_);
  return cache_.size();
}

Status Informer::list_and_replace() {
  auto listed = client_.list(options_.type, options_.namespace_name, options_.selectors);
  ++lists_;
  if (!listed.ok()) return listed.error();
  std::map<std::string, json> fresh;
  for (auto& item : listed->items) {
    // Key first: json's operator= takes its argument by value, which would move `item` before
    // the left-hand side is evaluated.
    const std::string key = object_key(item);
    fresh[key] = std::move(item);
  }
  std::map<std::string, json> removed;
  {
    std::lock_guard lock(mutex_);
    for (auto& [key, object] : cache_) {
      if (fresh.count(key) == 0) removed[key] = object;
    }
    cache_ = fresh;
    resource_version_ = listed->resource_version;
  }
  for (const auto& [key, object] : removed) handler_(key, object, true);
  for (const auto& [key, object] : fresh) handler_(key, object, false);
  synced_ = true;
  return Status();
}

void Informer::resync_all() {
  std::map<std::string, json> snapshot;
  {
    std::lock_guard lock(mutex_);
    snapshot = cache_;
  }
  for (const auto& [key, object] : snapshot) handler_(key, object, false);
}

void Informer::run(std::stop_token stop) {
  std::jthread resync([this](std::stop_token resync_stop) {
    std::mutex wait_mutex;
    std::condition_variable_any wake;
    std::unique_lock lock(wait_mutex);
    while (!resync_stop.stop_requested()) {
      wake.wait_for(lock, resync_stop, options_.resync_period, [] { return false; });
      if (!resync_stop.stop_requested()) resync_all();
    }
  });
  std::stop_callback stop_resync(stop, [&resync] { resync.request_stop(); });

  bool need_list = true;
  while (!stop.stop_requested()) {
    if (need_list) {
      Status listed = list_and_replace();
      if (!listed.ok()) {
        std::mutex wait_mutex;
        std::condition_variable_any wake;
        std::unique_lock lock(wait_mutex);
        wake.wait_for(lock, stop, options_.retry_delay, [] { return false; });
        continue;
      }
      need_list = false;
    }
    kube::WatchOptions watch_options;
    {
      std::lock_guard lock(mutex_);
      watch_options.resource_version = resource_version_;
    }
    watch_options.label_selector = options_.selectors.label_selector;
    watch_options.field_selector = options_.selectors.field_selector;
    watch_options.timeout_seconds = options_.watch_timeout_seconds;
    Status watched = client_.watch(
        options_.type, options_.namespace_name, watch_options,
        [this](const kube::WatchEvent& event) {
          const std::string rv = event.object.is_object() && event.object.contains("metadata")
                                     ? event.object["metadata"].value("resourceVersion", "")
                                     : "";
          if (event.type == "BOOKMARK") {
            std::lock_guard lock(mutex_);
            if (!rv.empty()) resource_version_ = rv;
            return true;
          }
          const std::string key = object_key(event.object);
          const bool deleted = event.type == "DELETED";
          {
            std::lock_guard lock(mutex_);
            if (deleted) {
              cache_.erase(key);
            } else {
              cache_[key] = event.object;
            }
            if (!rv.empty()) resource_version_ = rv;
          }
          handler_(key, event.object, deleted);
          return true;
        },
        stop);
    if (!watched.ok()) need_list = true;  // kGone: too old; anything else: start over
    if (!watched.ok() && !kube::is_gone(watched.error())) {
      std::mutex wait_mutex;
      std::condition_variable_any wake;
      std::unique_lock lock(wait_mutex);
      wake.wait_for(lock, stop, options_.retry_delay, [] { return false; });
    }
  }
}

}  // namespace dledger::op::controller
