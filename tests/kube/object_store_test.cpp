#include "tests/kube/apiserver/object_store.h"

#include <thread>

#include <gtest/gtest.h>

namespace dledger::kube {
namespace {

using nlohmann::json;

const ResourceNames kPods{"", "pods"};
const ResourceNames kSets{"apps", "statefulsets"};

ObjectKey pod(const std::string& name) {
  return ObjectKey{"v1/pods", "default", name};
}

json named(const std::string& name) {
  return {{"metadata", {{"name", name}}}, {"spec", json::object()}};
}

std::atomic<bool> never_cancelled{false};

std::chrono::steady_clock::time_point soon() {
  return std::chrono::steady_clock::now() + std::chrono::milliseconds(200);
}

TEST(ObjectStore, CreateAssignsIdentityAndIncreasingResourceVersions) {
  ObjectStore store;
  StoreOutcome first = store.create(pod("a"), named("a"), false, kPods);
  StoreOutcome second = store.create(pod("b"), named("b"), true, kPods);
  ASSERT_TRUE(first.ok());
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(first.object["metadata"]["resourceVersion"], "1");
  EXPECT_EQ(second.object["metadata"]["resourceVersion"], "2");
  EXPECT_NE(first.object["metadata"]["uid"], second.object["metadata"]["uid"]);
  EXPECT_FALSE(first.object["metadata"].contains("generation"));
  EXPECT_EQ(second.object["metadata"]["generation"], 1);
  EXPECT_EQ(first.object["metadata"]["namespace"], "default");
  EXPECT_EQ(store.resource_version(), 2u);
}

TEST(ObjectStore, CreatingAnExistingNameIsAlreadyExists) {
  ObjectStore store;
  ASSERT_TRUE(store.create(pod("a"), named("a"), false, kPods).ok());
  StoreOutcome again = store.create(pod("a"), named("a"), false, kPods);
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.error->code, 409);
  EXPECT_EQ(again.error->reason, "AlreadyExists");
  EXPECT_EQ(again.error->message, "pods \"a\" already exists");
}

TEST(ObjectStore, UpdateThatChangesNothingKeepsTheResourceVersion) {
  ObjectStore store;
  ASSERT_TRUE(store.create(pod("a"), named("a"), false, kPods).ok());
  StoreOutcome same = store.update(
      pod("a"), [](json&) { return std::nullopt; }, nullptr, kPods);
  ASSERT_TRUE(same.ok());
  EXPECT_EQ(same.object["metadata"]["resourceVersion"], "1");
  EXPECT_EQ(store.resource_version(), 1u);
}

TEST(ObjectStore, UpdateCannotChangeServerOwnedMetadataAndBumpsGenerationByRule) {
  ObjectStore store;
  StoreOutcome created =
      store.create(ObjectKey{"apps/v1/statefulsets", "default", "s"}, named("s"), true, kSets);
  ASSERT_TRUE(created.ok());
  auto spec_changed = [](const json& before, const json& after) {
    return before["spec"] != after["spec"];
  };
  StoreOutcome updated = store.update(
      ObjectKey{"apps/v1/statefulsets", "default", "s"},
      [](json& object) {
        object["metadata"]["uid"] = "forged";
        object["metadata"]["generation"] = 99;
        object["spec"]["replicas"] = 3;
        return std::optional<ApiError>();
      },
      spec_changed, kSets);
  ASSERT_TRUE(updated.ok());
  EXPECT_EQ(updated.object["metadata"]["uid"], created.object["metadata"]["uid"]);
  EXPECT_EQ(updated.object["metadata"]["generation"], 2);
  StoreOutcome status_only = store.update(
      ObjectKey{"apps/v1/statefulsets", "default", "s"},
      [](json& object) {
        object["status"]["replicas"] = 3;
        return std::optional<ApiError>();
      },
      spec_changed, kSets);
  EXPECT_EQ(status_only.object["metadata"]["generation"], 2);
  EXPECT_EQ(status_only.object["metadata"]["resourceVersion"], "3");
}

TEST(ObjectStore, DeletingAnOwnerDeletesDependentsRecursively) {
  ObjectStore store;
  StoreOutcome owner = store.create(pod("owner"), named("owner"), false, kPods);
  json child = named("child");
  child["metadata"]["ownerReferences"] = {{{"uid", owner.object["metadata"]["uid"]}}};
  StoreOutcome child_created = store.create(pod("child"), child, false, kPods);
  json grandchild = named("grandchild");
  grandchild["metadata"]["ownerReferences"] = {{{"uid", child_created.object["metadata"]["uid"]}}};
  ASSERT_TRUE(store.create(pod("grandchild"), grandchild, false, kPods).ok());
  ASSERT_TRUE(store.create(pod("unrelated"), named("unrelated"), false, kPods).ok());

  ASSERT_TRUE(store.remove(pod("owner"), kPods).ok());
  EXPECT_FALSE(store.get(pod("child")).has_value());
  EXPECT_FALSE(store.get(pod("grandchild")).has_value());
  EXPECT_TRUE(store.get(pod("unrelated")).has_value());
}

TEST(ObjectStore, FinalizersDelayDeletionUntilRemoved) {
  ObjectStore store;
  json object = named("a");
  object["metadata"]["finalizers"] = {"dledger.io/cleanup"};
  ASSERT_TRUE(store.create(pod("a"), object, false, kPods).ok());
  StoreOutcome marked = store.remove(pod("a"), kPods);
  ASSERT_TRUE(marked.ok());
  ASSERT_TRUE(store.get(pod("a")).has_value());
  EXPECT_TRUE((*store.get(pod("a")))["metadata"].contains("deletionTimestamp"));
  ASSERT_TRUE(store
                  .update(
                      pod("a"),
                      [](json& stored) {
                        stored["metadata"]["finalizers"] = json::array();
                        return std::optional<ApiError>();
                      },
                      nullptr, kPods)
                  .ok());
  EXPECT_FALSE(store.get(pod("a")).has_value());
}

TEST(ObjectStore, DeletePreconditionOnStaleResourceVersionIsConflict) {
  ObjectStore store;
  ASSERT_TRUE(store.create(pod("a"), named("a"), false, kPods).ok());
  StoreOutcome outcome = store.remove(pod("a"), kPods, "", "999");
  ASSERT_FALSE(outcome.ok());
  EXPECT_EQ(outcome.error->reason, "Conflict");
  EXPECT_TRUE(store.get(pod("a")).has_value());
}

TEST(ObjectStore, WatchReturnsEventsAfterTheGivenResourceVersionInOrder) {
  ObjectStore store;
  ASSERT_TRUE(store.create(pod("a"), named("a"), false, kPods).ok());
  ASSERT_TRUE(store.create(pod("b"), named("b"), false, kPods).ok());
  ASSERT_TRUE(store.remove(pod("a"), kPods).ok());
  auto all = [](const WatchEvent&) { return true; };
  ObjectStore::WatchBatch batch = store.wait_for_events(1, all, soon(), never_cancelled);
  ASSERT_FALSE(batch.expired);
  ASSERT_EQ(batch.events.size(), 2u);
  EXPECT_EQ(batch.events[0].type, "ADDED");
  EXPECT_EQ(batch.events[0].object["metadata"]["name"], "b");
  EXPECT_EQ(batch.events[1].type, "DELETED");
  EXPECT_EQ(batch.events[1].object["metadata"]["resourceVersion"], "3");
  EXPECT_EQ(batch.next_after_rv, 3u);
  ObjectStore::WatchBatch idle = store.wait_for_events(3, all, soon(), never_cancelled);
  EXPECT_TRUE(idle.events.empty());
  EXPECT_EQ(idle.next_after_rv, 3u);
}

TEST(ObjectStore, WatchFromBeforeTheRetainedWindowIsExpired) {
  ObjectStore store(2);
  for (const char* name : {"a", "b", "c", "d"}) {
    ASSERT_TRUE(store.create(pod(name), named(name), false, kPods).ok());
  }
  auto all = [](const WatchEvent&) { return true; };
  EXPECT_TRUE(store.wait_for_events(1, all, soon(), never_cancelled).expired);
  ObjectStore::WatchBatch retained = store.wait_for_events(2, all, soon(), never_cancelled);
  EXPECT_FALSE(retained.expired);
  EXPECT_EQ(retained.events.size(), 2u);
}

TEST(ObjectStore, WaitingWatcherWakesOnAChangeFromAnotherThread) {
  ObjectStore store;
  std::thread writer([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    (void)store.create(pod("late"), named("late"), false, kPods);
  });
  auto batch = store.wait_for_events(
      0, [](const WatchEvent&) { return true; },
      std::chrono::steady_clock::now() + std::chrono::seconds(10), never_cancelled);
  writer.join();
  ASSERT_EQ(batch.events.size(), 1u);
  EXPECT_EQ(batch.events[0].object["metadata"]["name"], "late");
}

TEST(ObjectStore, DeletingANamespaceDeletesItsObjects) {
  ObjectStore store;
  ASSERT_TRUE(
      store.create(ObjectKey{"v1/namespaces", "", "team"}, named("team"), false, {"", "namespaces"})
          .ok());
  ASSERT_TRUE(store.create(ObjectKey{"v1/pods", "team", "p"}, named("p"), false, kPods).ok());
  ASSERT_TRUE(store.remove(ObjectKey{"v1/namespaces", "", "team"}, {"", "namespaces"}).ok());
  EXPECT_FALSE(store.get(ObjectKey{"v1/pods", "team", "p"}).has_value());
}

}  // namespace
}  // namespace dledger::kube
