#include "tests/kube/apiserver/object_store.h"

#include <ctime>
#include <set>

namespace dledger::kube {

using nlohmann::json;

std::string now_rfc3339() {
  std::time_t now = std::time(nullptr);
  std::tm utc{};
  gmtime_r(&now, &utc);
  char buffer[32];
  std::strftime(buffer, sizeof(buffer), "%Y-%m-%dT%H:%M:%SZ", &utc);
  return buffer;
}

ObjectStore::ObjectStore(size_t event_window)
    : event_window_(event_window == 0 ? 1 : event_window), random_(std::random_device{}()) {}

uint64_t ObjectStore::resource_version() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return rv_;
}

uint64_t ObjectStore::oldest_watchable_rv() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return dropped_through_rv_;
}

std::optional<json> ObjectStore::get(const ObjectKey& key) const {
  std::lock_guard<std::mutex> lock(mutex_);
  auto it = objects_.find(key);
  if (it == objects_.end()) return std::nullopt;
  return it->second;
}

std::vector<json> ObjectStore::list(const std::string& resource_id, const std::string& ns,
                                    uint64_t* snapshot_rv) const {
  std::lock_guard<std::mutex> lock(mutex_);
  std::vector<json> items;
  for (const auto& [key, object] : objects_) {
    if (key.resource_id != resource_id) continue;
    if (!ns.empty() && key.ns != ns) continue;
    items.push_back(object);
  }
  if (snapshot_rv != nullptr) *snapshot_rv = rv_;
  return items;
}

uint64_t ObjectStore::next_rv_locked() {
  return ++rv_;
}

std::string ObjectStore::new_uid_locked() {
  const uint64_t high = random_();
  const uint64_t low = random_();
  char buffer[40];
  std::snprintf(buffer, sizeof(buffer), "%08x-%04x-4%03x-%04x-%012llx",
                static_cast<unsigned>(high >> 32), static_cast<unsigned>((high >> 16) & 0xffff),
                static_cast<unsigned>(high & 0xfff),
                static_cast<unsigned>(0x8000 | ((low >> 48) & 0x3fff)),
                static_cast<unsigned long long>(low & 0xffffffffffffULL));
  return buffer;
}

void ObjectStore::record_locked(const std::string& type, const ObjectKey& key, const json& object,
                                const json& previous) {
  events_.push_back(WatchEvent{rv_, type, key.resource_id, key.ns, object, previous});
  while (events_.size() > event_window_) {
    dropped_through_rv_ = events_.front().resource_version;
    events_.pop_front();
  }
  changed_.notify_all();
}

StoreOutcome ObjectStore::create(const ObjectKey& key, json object, bool with_generation,
                                 const ResourceNames& names) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (objects_.count(key) != 0) {
    return StoreOutcome{json(), already_exists(names.group, names.plural, key.name)};
  }
  json& metadata = object["metadata"];
  metadata["name"] = key.name;
  if (!key.ns.empty()) metadata["namespace"] = key.ns;
  metadata["uid"] = new_uid_locked();
  metadata["creationTimestamp"] = now_rfc3339();
  metadata.erase("deletionTimestamp");
  if (with_generation) metadata["generation"] = 1;
  metadata["resourceVersion"] = std::to_string(next_rv_locked());
  objects_[key] = object;
  record_locked("ADDED", key, object);
  return StoreOutcome{object, std::nullopt};
}

StoreOutcome ObjectStore::update(const ObjectKey& key, const Edit& edit,
                                 const GenerationRule& bump_generation,
                                 const ResourceNames& names) {
  std::lock_guard<std::mutex> lock(mutex_);
  auto it = objects_.find(key);
  if (it == objects_.end()) {
    return StoreOutcome{json(), not_found(names.group, names.plural, key.name)};
  }
  const json before = it->second;
  json after = before;
  if (auto error = edit(after)) return StoreOutcome{json(), std::move(error)};
  if (!after.is_object()) after = json::object();
  json& metadata = after["metadata"];
  if (!metadata.is_object()) metadata = json::object();
  // Fields the server owns.
  for (const char* owned : {"uid", "creationTimestamp", "deletionTimestamp", "generation"}) {
    if (before["metadata"].contains(owned)) {
      metadata[owned] = before["metadata"][owned];
    } else {
      metadata.erase(owned);
    }
  }
  metadata["name"] = key.name;
  if (!key.ns.empty()) metadata["namespace"] = key.ns;
  metadata["resourceVersion"] = before["metadata"]["resourceVersion"];
  if (after == before) return StoreOutcome{before, std::nullopt};
  if (bump_generation && metadata.contains("generation") && bump_generation(before, after)) {
    metadata["generation"] = metadata["generation"].get<int64_t>() + 1;
  }
  metadata["resourceVersion"] = std::to_string(next_rv_locked());
  const bool finalized = metadata.contains("deletionTimestamp") &&
                         (!metadata.contains("finalizers") || metadata["finalizers"].empty());
  if (finalized) {
    erase_locked(key);
    record_locked("DELETED", key, after);
    collect_garbage_locked();
    return StoreOutcome{after, std::nullopt};
  }
  it->second = after;
  record_locked("MODIFIED", key, after, before);
  return StoreOutcome{after, std::nullopt};
}

void ObjectStore::erase_locked(const ObjectKey& key) {
  objects_.erase(key);
}

StoreOutcome ObjectStore::remove(const ObjectKey& key, const ResourceNames& names,
                                 const std::string& precondition_uid,
                                 const std::string& precondition_rv) {
  std::lock_guard<std::mutex> lock(mutex_);
  auto it = objects_.find(key);
  if (it == objects_.end()) {
    return StoreOutcome{json(), not_found(names.group, names.plural, key.name)};
  }
  json object = it->second;
  const json& metadata = object["metadata"];
  if (!precondition_uid.empty() && metadata.value("uid", "") != precondition_uid) {
    return StoreOutcome{json(),
                        conflict(names.group, names.plural, key.name,
                                 "Precondition failed: UID in precondition: " + precondition_uid +
                                     ", UID in object meta: " + metadata.value("uid", ""))};
  }
  if (!precondition_rv.empty() && metadata.value("resourceVersion", "") != precondition_rv) {
    return StoreOutcome{
        json(), conflict(names.group, names.plural, key.name,
                         "the object has been modified; please apply your changes to the latest "
                         "version and try again")};
  }
  if (metadata.contains("finalizers") && !metadata["finalizers"].empty()) {
    if (!metadata.contains("deletionTimestamp")) {
      object["metadata"]["deletionTimestamp"] = now_rfc3339();
      object["metadata"]["resourceVersion"] = std::to_string(next_rv_locked());
      it->second = object;
      record_locked("MODIFIED", key, object);
    }
    return StoreOutcome{object, std::nullopt};
  }
  object["metadata"]["resourceVersion"] = std::to_string(next_rv_locked());
  erase_locked(key);
  record_locked("DELETED", key, object);
  if (key.resource_id == "v1/namespaces") {
    std::vector<ObjectKey> contained;
    for (const auto& [other, unused] : objects_) {
      if (other.ns == key.name) contained.push_back(other);
    }
    for (const auto& other : contained) {
      json gone = objects_[other];
      gone["metadata"]["resourceVersion"] = std::to_string(next_rv_locked());
      erase_locked(other);
      record_locked("DELETED", other, gone);
    }
  }
  collect_garbage_locked();
  return StoreOutcome{object, std::nullopt};
}

void ObjectStore::collect_garbage_locked() {
  // Repeat until stable: deleting a dependent may orphan its own dependents.
  for (bool progress = true; progress;) {
    progress = false;
    std::set<std::string> live_uids;
    for (const auto& [key, object] : objects_) {
      live_uids.insert(object["metadata"].value("uid", ""));
    }
    std::vector<ObjectKey> orphans;
    for (const auto& [key, object] : objects_) {
      const json& metadata = object["metadata"];
      if (!metadata.contains("ownerReferences") || !metadata["ownerReferences"].is_array() ||
          metadata["ownerReferences"].empty()) {
        continue;
      }
      bool any_owner_alive = false;
      for (const auto& owner : metadata["ownerReferences"]) {
        if (owner.is_object() && live_uids.count(owner.value("uid", "")) != 0) {
          any_owner_alive = true;
        }
      }
      if (!any_owner_alive) orphans.push_back(key);
    }
    for (const auto& key : orphans) {
      json object = objects_[key];
      object["metadata"]["resourceVersion"] = std::to_string(next_rv_locked());
      erase_locked(key);
      record_locked("DELETED", key, object);
      progress = true;
    }
  }
}

ObjectStore::WatchBatch ObjectStore::wait_for_events(
    uint64_t after_rv, const std::function<bool(const WatchEvent&)>& filter,
    std::chrono::steady_clock::time_point deadline, const std::atomic<bool>& cancelled) {
  std::unique_lock<std::mutex> lock(mutex_);
  WatchBatch batch;
  batch.next_after_rv = after_rv;
  if (after_rv < dropped_through_rv_) {
    batch.expired = true;
    return batch;
  }
  changed_.wait_until(lock, deadline, [&] { return cancelled.load() || rv_ > after_rv; });
  if (after_rv < dropped_through_rv_) {
    batch.expired = true;
    return batch;
  }
  for (const auto& event : events_) {
    if (event.resource_version <= after_rv) continue;
    if (filter(event)) batch.events.push_back(event);
  }
  batch.next_after_rv = std::max(after_rv, rv_);
  return batch;
}

void ObjectStore::wake_watchers() {
  std::lock_guard<std::mutex> lock(mutex_);
  changed_.notify_all();
}

}  // namespace dledger::kube
