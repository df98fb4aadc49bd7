// Informer: keeps a local cache of one resource type in one namespace up to date with
// list-then-watch, and reports every change as a key ("namespace/name") to a handler (usually
// WorkQueue::add, possibly mapped to the owning group).
//
//   run(stop):  list -> handler(key) for every object -> watch from the list's resourceVersion
//               -> on each event update the cache and call handler(key)
//               -> the server ended the stream: watch again from the last seen resourceVersion
//                  (BOOKMARK events advance it)
//               -> kGone (410, too old): relist (objects deleted meanwhile are reported too)
//               -> other errors: wait retry_delay, relist
//   resync:     every resync_period, handler(key) for every cached object (level-triggered
//               reconcilers then repair drift nobody announced).
// run() returns when `stop` is requested.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <stop_token>
#include <string>

#include <nlohmann/json.hpp>

#include "operator/kube/kube_client.h"

namespace dledger::op::controller {

struct InformerOptions {
  kube::ResourceType type;
  std::string namespace_name;
  kube::ListOptions selectors;
  int watch_timeout_seconds = 300;
  std::chrono::milliseconds resync_period{std::chrono::minutes(5)};
  std::chrono::milliseconds retry_delay{1000};
};

// "namespace/name" of an object.
std::string object_key(const nlohmann::json& object);

class Informer {
 public:
  using Handler =
      std::function<void(const std::string& key, const nlohmann::json& object, bool deleted)>;
  Informer(kube::KubeClient& client, InformerOptions options, Handler handler);

  void run(std::stop_token stop);

  std::optional<nlohmann::json> cached(const std::string& key) const;
  size_t size() const;
  bool has_synced() const { return synced_.load(); }
  int lists() const { return lists_.load(); }  // how many times it listed (relists + 1)

 private:
  Status list_and_replace();
  void resync_all();

  kube::KubeClient& client_;
  InformerOptions options_;
  Handler handler_;
  mutable std::mutex mutex_;
  std::map<std::string, nlohmann::json> cache_;
  std::string resource_version_;
  std::atomic<bool> synced_{false};
  std::atomic<int> lists_{0};
};

}  // namespace dledger::op::controller
