// ObjectStore: the in-memory "etcd" of the test API server.
//
// Objects are JSON documents keyed by (resource id, namespace, name); resource id is
// "<group>/<version>/<plural>" ("v1/pods" for core). One global counter hands out
// resourceVersions: every create/update/delete takes the next value, writes it to
// metadata.resourceVersion (a decimal string) and appends a WatchEvent to a bounded log of the
// last `event_window` events. Watches read that log: a watch from a resourceVersion older than
// the oldest retained event is Expired (410), as with a compacted etcd.
//
// Deletion is immediate unless metadata.finalizers is non-empty: then metadata.deletionTimestamp
// is set (MODIFIED) and the object goes away once an update empties its finalizers (DELETED).
// Deleting an object also deletes, recursively, every object whose ownerReferences all point at
// objects that no longer exist (background garbage collection, done synchronously).
// Deleting a namespace deletes every object in it.
//
// Thread-safe: one mutex; watchers block on a condition variable.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <random>
#include <string>
#include <tuple>
#include <vector>

#include <nlohmann/json.hpp>

#include "tests/kube/apiserver/api_error.h"

namespace dledger::kube {

struct ObjectKey {
  std::string resource_id;
  std::string ns;
  std::string name;
  auto operator<=>(const ObjectKey&) const = default;
};

struct WatchEvent {
  uint64_t resource_version = 0;
  std::string type;  // ADDED, MODIFIED, DELETED
  std::string resource_id;
  std::string ns;
  nlohmann::json object;
  nlohmann::json previous;  // MODIFIED: the object before the change (null otherwise)
};

struct StoreOutcome {
  nlohmann::json object;  // the stored (or deleted) object
  std::optional<ApiError> error;
  bool ok() const { return !error.has_value(); }
};

// Naming for errors: how the caller's resource is spelled in Status messages.
struct ResourceNames {
  std::string group;
  std::string plural;
};

class ObjectStore {
 public:
  explicit ObjectStore(size_t event_window = 1000);

  // Current global resourceVersion (the RV of the latest change; 0 when nothing changed yet).
  uint64_t resource_version() const;

  std::optional<nlohmann::json> get(const ObjectKey& key) const;
  // Every object of `resource_id` in `ns` (all namespaces when ns is empty), sorted by
  // namespace then name, and the resourceVersion the snapshot reflects.
  std::vector<nlohmann::json> list(const std::string& resource_id, const std::string& ns,
                                   uint64_t* snapshot_rv) const;

  // Stores a new object: fills metadata.uid, resourceVersion, creationTimestamp and (when
  // `with_generation`) generation=1. 409 AlreadyExists when the key is taken.
  StoreOutcome create(const ObjectKey& key, nlohmann::json object, bool with_generation,
                      const ResourceNames& names);

  // Read-modify-write under the store lock. `edit` gets a copy of the stored object and returns
  // an error to abort. An edit that changes nothing keeps the resourceVersion (no event). The
  // store restores uid/creationTimestamp/name/namespace, sets the new resourceVersion and, when
  // `bump_generation` says so for (old, new), increments metadata.generation.
  using Edit = std::function<std::optional<ApiError>(nlohmann::json& object)>;
  using GenerationRule =
      std::function<bool(const nlohmann::json& before, const nlohmann::json& after)>;
  StoreOutcome update(const ObjectKey& key, const Edit& edit, const GenerationRule& bump_generation,
                      const ResourceNames& names);

  // Deletes (or, with finalizers, marks for deletion) and garbage-collects dependents.
  // `precondition_uid` / `precondition_rv` (when non-empty) must match or 409 Conflict.
  StoreOutcome remove(const ObjectKey& key, const ResourceNames& names,
                      const std::string& precondition_uid = "",
                      const std::string& precondition_rv = "");

  // Watch support. Returns events with resourceVersion > after_rv that `filter` accepts,
  // waiting until at least one event (of any resource) newer than after_rv exists, `deadline`
  // passes or `cancelled` is set. `next_after_rv` is where the next call should continue.
  struct WatchBatch {
    bool expired = false;  // after_rv is older than the retained window
    std::vector<WatchEvent> events;
    uint64_t next_after_rv = 0;
  };
  WatchBatch wait_for_events(uint64_t after_rv,
                             const std::function<bool(const WatchEvent&)>& filter,
                             std::chrono::steady_clock::time_point deadline,
                             const std::atomic<bool>& cancelled);
  // Wakes every waiting watcher (used on shutdown after setting their cancel flags).
  void wake_watchers();

  // Smallest resourceVersion a watch may start after without being Expired.
  uint64_t oldest_watchable_rv() const;

 private:
  uint64_t next_rv_locked();
  void record_locked(const std::string& type, const ObjectKey& key, const nlohmann::json& object,
                     const nlohmann::json& previous = nullptr);
  void erase_locked(const ObjectKey& key);
  void collect_garbage_locked();
  std::string new_uid_locked();

  mutable std::mutex mutex_;
  std::condition_variable changed_;
  std::map<ObjectKey, nlohmann::json> objects_;
  std::deque<WatchEvent> events_;
  size_t event_window_;
  uint64_t rv_ = 0;
  uint64_t dropped_through_rv_ = 0;  // RV of the newest event evicted from the window
  std::mt19937_64 random_;
};

// RFC 3339 UTC timestamp of now, second precision ("2026-11-26T10:24:27Z").
std::string now_rfc3339();

}  // namespace dledger::kube
