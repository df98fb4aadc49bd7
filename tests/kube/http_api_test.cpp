// The test API server over real HTTP: REST verbs, errors, subresources, watch and discovery.
#include <gtest/gtest.h>

#include "tests/kube/apiserver/api_server.h"
#include "tests/kube/http_test_client.h"

namespace dledger::kube {
namespace {

using nlohmann::json;
using testing::http_request;
using testing::HttpResponse;
using testing::WatchStream;

const std::string kGroups = "/apis/dledger.io/v1alpha1/namespaces/default/dledgergroups";
const std::string kPods = "/api/v1/namespaces/default/pods";
const std::map<std::string, std::string> kMergePatch = {
    {"Content-Type", "application/merge-patch+json"}};

class HttpApiTest : public ::testing::Test {
 protected:
  void SetUp() override { start({}); }
  void TearDown() override {
    if (server_) server_->stop();
  }
  void start(ApiServerOptions options) {
    if (server_) server_->stop();
    options.crd_paths = {DLEDGER_CRD_PATH};
    auto created = ApiServer::create(options);
    ASSERT_TRUE(created.ok()) << created.error().to_string();
    server_ = std::move(*created);
    auto bound = server_->start(0);
    ASSERT_TRUE(bound.ok()) << bound.error().to_string();
    port_ = *bound;
  }
  HttpResponse request(const std::string& method, const std::string& target,
                       const std::string& body = "",
                       const std::map<std::string, std::string>& headers = {}) {
    return http_request(port_, method, target, body, headers);
  }
  json create_group(const std::string& name, json spec = {{"image", "dledger:1"}}) {
    HttpResponse response = request("POST", kGroups,
                                    json{{"apiVersion", "dledger.io/v1alpha1"},
                                         {"kind", "DLedgerGroup"},
                                         {"metadata", {{"name", name}}},
                                         {"spec", spec}}
                                        .dump());
    EXPECT_EQ(response.status, 201) << response.body;
    return response.json();
  }
  json create_pod(const std::string& name, json labels = json::object()) {
    HttpResponse response =
        request("POST", kPods,
                json{{"apiVersion", "v1"},
                     {"kind", "Pod"},
                     {"metadata", {{"name", name}, {"labels", labels}}},
                     {"spec", {{"containers", {{{"name", "c"}, {"image", "busybox"}}}}}}}
                    .dump());
    EXPECT_EQ(response.status, 201) << response.body;
    return response.json();
  }

  std::unique_ptr<ApiServer> server_;
  uint16_t port_ = 0;
};

TEST_F(HttpApiTest, VersionAnswersMinor32) {
  HttpResponse response = request("GET", "/version?timeout=5s");
  ASSERT_EQ(response.status, 200);
  EXPECT_EQ(response.json()["minor"], "32");
  EXPECT_EQ(response.json()["gitVersion"], "v1.32.0");
}

TEST_F(HttpApiTest, DiscoveryListsResourcesShortNamesAndSubresources) {
  json groups = request("GET", "/apis").json();
  bool found = false;
  for (const auto& group : groups["groups"]) found = found || group["name"] == "dledger.io";
  EXPECT_TRUE(found);
  json resources = request("GET", "/apis/dledger.io/v1alpha1").json();
  std::map<std::string, json> by_name;
  for (const auto& resource : resources["resources"]) by_name[resource["name"]] = resource;
  EXPECT_EQ(by_name["dledgergroups"]["shortNames"], json({"dlg"}));
  EXPECT_EQ(by_name["dledgergroups"]["kind"], "DLedgerGroup");
  EXPECT_EQ(by_name["dledgergroups/scale"]["group"], "autoscaling");
  EXPECT_EQ(by_name["dledgergroups/scale"]["kind"], "Scale");
  EXPECT_TRUE(by_name.count("dledgergroups/status"));
  json core = request("GET", "/api/v1").json();
  bool pods = false;
  for (const auto& resource : core["resources"]) {
    if (resource["name"] == "pods") pods = resource["shortNames"] == json({"po"});
  }
  EXPECT_TRUE(pods);
  EXPECT_EQ(request("GET", "/apis/nothing.io/v1").status, 404);
  json openapi = request("GET", "/openapi/v3").json();
  EXPECT_TRUE(openapi["paths"].contains("apis/dledger.io/v1alpha1"));
  EXPECT_EQ(request("GET", "/openapi/v3/apis/dledger.io/v1alpha1").status, 200);
}

TEST_F(HttpApiTest, CreateTwiceIsAlreadyExistsStatus) {
  create_pod("p1");
  HttpResponse again = request(
      "POST", kPods, R"({"apiVersion":"v1","kind":"Pod","metadata":{"name":"p1"},"spec":{}})");
  EXPECT_EQ(again.status, 409);
  json status = again.json();
  EXPECT_EQ(status["kind"], "Status");
  EXPECT_EQ(status["status"], "Failure");
  EXPECT_EQ(status["reason"], "AlreadyExists");
  EXPECT_EQ(status["code"], 409);
  EXPECT_EQ(status["details"]["name"], "p1");
  EXPECT_EQ(status["message"], "pods \"p1\" already exists");
}

TEST_F(HttpApiTest, GetMissingIsNotFound) {
  HttpResponse response = request("GET", kGroups + "/nope");
  EXPECT_EQ(response.status, 404);
  EXPECT_EQ(response.json()["message"], "dledgergroups.dledger.io \"nope\" not found");
  EXPECT_EQ(response.json()["details"]["group"], "dledger.io");
}

TEST_F(HttpApiTest, CreatingInAMissingNamespaceIsNotFound) {
  HttpResponse response = request("POST", "/api/v1/namespaces/ghost/configmaps",
                                  R"({"metadata":{"name":"c"},"data":{}})");
  EXPECT_EQ(response.status, 404);
  EXPECT_EQ(response.json()["message"], "namespaces \"ghost\" not found");
}

TEST_F(HttpApiTest, ListFiltersByLabelAndFieldSelectorsAndCarriesResourceVersion) {
  create_pod("a", {{"app", "dledger"}, {"member", "n0"}});
  create_pod("b", {{"app", "dledger"}, {"member", "n1"}});
  create_pod("c", {{"app", "other"}});
  json list = request("GET", kPods + "?labelSelector=app%3Ddledger").json();
  EXPECT_EQ(list["kind"], "PodList");
  EXPECT_EQ(list["items"].size(), 2u);
  EXPECT_EQ(list["metadata"]["resourceVersion"],
            std::to_string(server_->store().resource_version()));
  json in_set = request("GET", kPods + "?labelSelector=member+in+(n1,n2)").json();
  ASSERT_EQ(in_set["items"].size(), 1u);
  EXPECT_EQ(in_set["items"][0]["metadata"]["name"], "b");
  json by_name = request("GET", kPods + "?fieldSelector=metadata.name%3Dc").json();
  ASSERT_EQ(by_name["items"].size(), 1u);
  EXPECT_EQ(by_name["items"][0]["metadata"]["name"], "c");
  json everywhere = request("GET", "/api/v1/pods").json();
  EXPECT_EQ(everywhere["items"].size(), 3u);
}

TEST_F(HttpApiTest, EventsFilterByInvolvedObject) {
  for (const char* uid : {"u1", "u2"}) {
    HttpResponse response = request(
        "POST", "/api/v1/namespaces/default/events",
        json{{"metadata", {{"generateName", "g1."}}},
             {"involvedObject",
              {{"kind", "DLedgerGroup"}, {"name", "g1"}, {"namespace", "default"}, {"uid", uid}}},
             {"reason", "Scaled"},
             {"type", "Normal"}}
            .dump());
    ASSERT_EQ(response.status, 201) << response.body;
  }
  json list = request("GET",
                      "/api/v1/namespaces/default/events?fieldSelector=involvedObject.kind%3D"
                      "DLedgerGroup%2CinvolvedObject.uid%3Du2%2CinvolvedObject.name%3Dg1")
                  .json();
  ASSERT_EQ(list["items"].size(), 1u);
  EXPECT_EQ(list["items"][0]["involvedObject"]["uid"], "u2");
}

TEST_F(HttpApiTest, PutWithStaleResourceVersionIsConflict) {
  json pod = create_pod("p1");
  json changed = pod;
  changed["metadata"]["labels"] = {{"x", "1"}};
  HttpResponse first = request("PUT", kPods + "/p1", changed.dump());
  ASSERT_EQ(first.status, 200) << first.body;
  EXPECT_NE(first.json()["metadata"]["resourceVersion"], pod["metadata"]["resourceVersion"]);
  HttpResponse stale = request("PUT", kPods + "/p1", changed.dump());
  EXPECT_EQ(stale.status, 409);
  EXPECT_EQ(stale.json()["reason"], "Conflict");
  EXPECT_EQ(stale.json()["message"],
            "Operation cannot be fulfilled on pods \"p1\": the object has been modified; please "
            "apply your changes to the latest version and try again");
}

TEST_F(HttpApiTest, CustomResourceIsDefaultedOnCreate) {
  json group = create_group("g1");
  EXPECT_EQ(group["spec"]["replicas"], 3);
  EXPECT_EQ(group["spec"]["storage"]["size"], "10Gi");
  EXPECT_EQ(group["metadata"]["generation"], 1);
  EXPECT_FALSE(group["metadata"]["uid"].get<std::string>().empty());
}

TEST_F(HttpApiTest, InvalidCustomResourceIs422WithCauses) {
  HttpResponse response =
      request("POST", kGroups,
              R"({"apiVersion":"dledger.io/v1alpha1","kind":"DLedgerGroup","metadata":{"name":"g9"},
          "spec":{"image":"i","replicas":12}})");
  ASSERT_EQ(response.status, 422);
  json status = response.json();
  EXPECT_EQ(status["reason"], "Invalid");
  EXPECT_EQ(status["details"]["kind"], "DLedgerGroup");
  EXPECT_EQ(status["details"]["causes"][0]["field"], "spec.replicas");
  EXPECT_EQ(status["details"]["causes"][0]["message"],
            "Invalid value: 12: spec.replicas in body should be less than or equal to 9");
  EXPECT_EQ(request("GET", kGroups + "/g9").status, 404);
}

TEST_F(HttpApiTest, UnknownFieldsAreRejectedWhenStrictAndPrunedWithAWarningOtherwise) {
  const std::string body =
      R"({"apiVersion":"dledger.io/v1alpha1","kind":"DLedgerGroup","metadata":{"name":"g2"},
          "spec":{"image":"i","bogus":1}})";
  HttpResponse strict = request("POST", kGroups + "?fieldValidation=Strict", body);
  ASSERT_EQ(strict.status, 400);
  EXPECT_EQ(strict.json()["message"],
            "DLedgerGroup in version \"v1alpha1\" cannot be handled as a DLedgerGroup: strict "
            "decoding error: unknown field \"spec.bogus\"");
  HttpResponse warned = request("POST", kGroups, body);
  ASSERT_EQ(warned.status, 201);
  EXPECT_FALSE(warned.json()["spec"].contains("bogus"));
  EXPECT_NE(warned.headers["warning"].find("unknown field"), std::string::npos);
}

TEST_F(HttpApiTest, StatusSubresourceChangesOnlyStatusAndMainEndpointIgnoresStatus) {
  create_group("g1");
  HttpResponse status_patch =
      request("PATCH", kGroups + "/g1/status",
              R"({"spec":{"replicas":7},"status":{"readyReplicas":2,"replicas":3}})", kMergePatch);
  ASSERT_EQ(status_patch.status, 200) << status_patch.body;
  json after_status = status_patch.json();
  EXPECT_EQ(after_status["status"]["readyReplicas"], 2);
  EXPECT_EQ(after_status["spec"]["replicas"], 3);
  EXPECT_EQ(after_status["metadata"]["generation"], 1);

  HttpResponse main_patch =
      request("PATCH", kGroups + "/g1", R"({"spec":{"replicas":5},"status":{"readyReplicas":9}})",
              kMergePatch);
  ASSERT_EQ(main_patch.status, 200) << main_patch.body;
  EXPECT_EQ(main_patch.json()["spec"]["replicas"], 5);
  EXPECT_EQ(main_patch.json()["status"]["readyReplicas"], 2);
  EXPECT_EQ(main_patch.json()["metadata"]["generation"], 2);

  HttpResponse bad_status =
      request("PATCH", kGroups + "/g1/status",
              R"({"status":{"conditions":[{"type":"Ready","status":"Yes"}]}})", kMergePatch);
  EXPECT_EQ(bad_status.status, 422);
}

TEST_F(HttpApiTest, ScaleSubresourceReadsAndWritesSpecReplicas) {
  create_group("g1");
  ASSERT_EQ(request("PATCH", kGroups + "/g1/status",
                    R"({"status":{"replicas":3,"selector":"app=dledger"}})", kMergePatch)
                .status,
            200);
  json scale = request("GET", kGroups + "/g1/scale").json();
  EXPECT_EQ(scale["kind"], "Scale");
  EXPECT_EQ(scale["apiVersion"], "autoscaling/v1");
  EXPECT_EQ(scale["spec"]["replicas"], 3);
  EXPECT_EQ(scale["status"]["replicas"], 3);
  EXPECT_EQ(scale["status"]["selector"], "app=dledger");

  HttpResponse patched =
      request("PATCH", kGroups + "/g1/scale", R"({"spec":{"replicas":5}})", kMergePatch);
  ASSERT_EQ(patched.status, 200) << patched.body;
  EXPECT_EQ(patched.json()["spec"]["replicas"], 5);
  EXPECT_EQ(request("GET", kGroups + "/g1").json()["spec"]["replicas"], 5);

  json stale = scale;  // carries the old resourceVersion
  stale["spec"]["replicas"] = 7;
  EXPECT_EQ(request("PUT", kGroups + "/g1/scale", stale.dump(), {}).status, 409);
  HttpResponse too_many =
      request("PATCH", kGroups + "/g1/scale", R"({"spec":{"replicas":12}})", kMergePatch);
  EXPECT_EQ(too_many.status, 422);
  EXPECT_EQ(request("GET", kGroups + "/g1").json()["spec"]["replicas"], 5);
}

TEST_F(HttpApiTest, StatefulSetScaleUsesMatchLabelsAsSelector) {
  HttpResponse created = request(
      "POST", "/apis/apps/v1/namespaces/default/statefulsets",
      R"({"metadata":{"name":"s"},"spec":{"replicas":1,"selector":{"matchLabels":{"app":"x"}}}})");
  ASSERT_EQ(created.status, 201);
  json scale = request("GET", "/apis/apps/v1/namespaces/default/statefulsets/s/scale").json();
  EXPECT_EQ(scale["status"]["selector"], "app=x");
  EXPECT_EQ(scale["spec"]["replicas"], 1);
}

TEST_F(HttpApiTest, StrategicMergePatchDropsDirectivesAndServerSideApplyCreatesThenMerges) {
  create_pod("p1");
  HttpResponse strategic = request(
      "PATCH", kPods + "/p1",
      R"({"metadata":{"labels":{"a":"b"}},"spec":{"$setElementOrder/containers":[{"name":"c"}],
          "containers":[{"name":"c","image":"busybox:2"}]}})",
      {{"Content-Type", "application/strategic-merge-patch+json"}});
  ASSERT_EQ(strategic.status, 200) << strategic.body;
  EXPECT_EQ(strategic.json()["spec"]["containers"][0]["image"], "busybox:2");
  EXPECT_FALSE(strategic.json()["spec"].contains("$setElementOrder/containers"));

  const std::map<std::string, std::string> apply = {
      {"Content-Type", "application/apply-patch+yaml"}};
  const std::string manifest =
      R"({"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"cm"},"data":{"k":"v"}})";
  HttpResponse created =
      request("PATCH", "/api/v1/namespaces/default/configmaps/cm?fieldManager=t", manifest, apply);
  EXPECT_EQ(created.status, 201) << created.body;
  HttpResponse merged =
      request("PATCH", "/api/v1/namespaces/default/configmaps/cm?fieldManager=t",
              "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm\ndata:\n  k2: v2\n", apply);
  ASSERT_EQ(merged.status, 200) << merged.body;
  EXPECT_EQ(merged.json()["data"], (json{{"k", "v"}, {"k2", "v2"}}));
  EXPECT_EQ(request("PATCH", kPods + "/p1", "{}", {{"Content-Type", "text/plain"}}).status, 415);
}

TEST_F(HttpApiTest, DeleteReturnsTheObjectAndCollectsOwnedObjects) {
  json group = create_group("g1");
  json owned = {{"metadata",
                 {{"name", "g1"},
                  {"ownerReferences",
                   {{{"apiVersion", "dledger.io/v1alpha1"},
                     {"kind", "DLedgerGroup"},
                     {"name", "g1"},
                     {"uid", group["metadata"]["uid"]}}}}}},
                {"spec", {{"replicas", 3}}}};
  ASSERT_EQ(request("POST", "/apis/apps/v1/namespaces/default/statefulsets", owned.dump()).status,
            201);
  HttpResponse deleted =
      request("DELETE", kGroups + "/g1", R"({"propagationPolicy":"Background"})");
  ASSERT_EQ(deleted.status, 200);
  EXPECT_EQ(deleted.json()["metadata"]["name"], "g1");
  EXPECT_EQ(request("GET", kGroups + "/g1").status, 404);
  EXPECT_EQ(request("GET", "/apis/apps/v1/namespaces/default/statefulsets/g1").status, 404);
  EXPECT_EQ(request("DELETE", kGroups + "/g1").status, 404);
}

TEST_F(HttpApiTest, WatchStreamsChangesAfterTheGivenResourceVersion) {
  json first = create_pod("before");
  const std::string rv = first["metadata"]["resourceVersion"];
  WatchStream watch(port_, kPods + "?watch=true&resourceVersion=" + rv);
  ASSERT_EQ(watch.status(), 200);
  json created = create_pod("after");
  ASSERT_EQ(request("PATCH", kPods + "/after", R"({"metadata":{"labels":{"x":"y"}}})", kMergePatch)
                .status,
            200);
  ASSERT_EQ(request("DELETE", kPods + "/after").status, 200);
  std::vector<std::string> seen;
  for (int i = 0; i < 3; ++i) {
    auto event = watch.next_change();
    ASSERT_TRUE(event.has_value());
    EXPECT_EQ((*event)["object"]["metadata"]["name"], "after");
    seen.push_back((*event)["type"]);
  }
  EXPECT_EQ(seen, (std::vector<std::string>{"ADDED", "MODIFIED", "DELETED"}));
}

TEST_F(HttpApiTest, WatchWithoutResourceVersionStartsWithCurrentObjects) {
  create_pod("existing");
  WatchStream watch(port_, kPods + "?watch=true&timeoutSeconds=1");
  auto event = watch.next_change();
  ASSERT_TRUE(event.has_value());
  EXPECT_EQ((*event)["type"], "ADDED");
  EXPECT_EQ((*event)["object"]["metadata"]["name"], "existing");
  EXPECT_FALSE(watch.next_change().has_value());  // timeoutSeconds ends the stream cleanly
}

TEST_F(HttpApiTest, WatchFromAnExpiredResourceVersionSendsA410ErrorEvent) {
  ApiServerOptions options;
  options.event_window = 2;
  start(options);
  for (const char* name : {"a", "b", "c", "d"}) create_pod(name);
  WatchStream watch(port_, kPods + "?watch=true&resourceVersion=1");
  ASSERT_EQ(watch.status(), 200);
  auto event = watch.next();
  ASSERT_TRUE(event.has_value());
  EXPECT_EQ((*event)["type"], "ERROR");
  EXPECT_EQ((*event)["object"]["code"], 410);
  EXPECT_EQ((*event)["object"]["reason"], "Expired");
  EXPECT_FALSE(watch.next().has_value());
}

TEST_F(HttpApiTest, WatchSendsBookmarksWhenAllowed) {
  ApiServerOptions options;
  options.bookmark_interval_ms = 20;
  start(options);
  WatchStream watch(port_, kPods + "?watch=true&resourceVersion=1&allowWatchBookmarks=true");
  auto event = watch.next();
  ASSERT_TRUE(event.has_value());
  EXPECT_EQ((*event)["type"], "BOOKMARK");
  EXPECT_EQ((*event)["object"]["kind"], "Pod");
  EXPECT_EQ((*event)["object"]["metadata"]["resourceVersion"],
            std::to_string(server_->store().resource_version()));
}

TEST_F(HttpApiTest, WatchFiltersByFieldSelector) {
  WatchStream watch(port_,
                    kPods + "?watch=true&resourceVersion=1&fieldSelector=metadata.name%3Dp2");
  create_pod("p1");
  create_pod("p2");
  auto event = watch.next_change();
  ASSERT_TRUE(event.has_value());
  EXPECT_EQ((*event)["object"]["metadata"]["name"], "p2");
}

TEST_F(HttpApiTest, WatchWithLabelSelectorSeesObjectsEnterAndLeaveTheSelection) {
  create_pod("p1");
  const std::string rv = std::to_string(server_->store().resource_version());
  WatchStream watch(port_,
                    kPods + "?watch=true&resourceVersion=" + rv + "&labelSelector=role%3Dleader");
  for (const char* role : {"leader", "follower"}) {
    ASSERT_EQ(request("PATCH", kPods + "/p1",
                      json{{"metadata", {{"labels", {{"role", role}}}}}}.dump(), kMergePatch)
                  .status,
              200);
  }
  auto entered = watch.next_change();
  ASSERT_TRUE(entered.has_value());
  EXPECT_EQ((*entered)["type"], "ADDED");
  auto left = watch.next_change();
  ASSERT_TRUE(left.has_value());
  EXPECT_EQ((*left)["type"], "DELETED");
  EXPECT_EQ((*left)["object"]["metadata"]["labels"]["role"], "follower");
}

TEST_F(HttpApiTest, TableOutputUsesPrinterColumns) {
  create_group("g1");
  ASSERT_EQ(
      request("PATCH", kGroups + "/g1/status",
              R"({"status":{"replicas":3,"readyReplicas":2,"leader":{"pod":"g1-0"},"term":4}})",
              kMergePatch)
          .status,
      200);
  HttpResponse response =
      request("GET", kGroups + "?limit=500", "",
              {{"Accept", "application/json;as=Table;v=v1;g=meta.k8s.io,application/json"}});
  ASSERT_EQ(response.status, 200);
  json table = response.json();
  EXPECT_EQ(table["kind"], "Table");
  std::vector<std::string> names;
  for (const auto& column : table["columnDefinitions"]) names.push_back(column["name"]);
  EXPECT_EQ(names,
            (std::vector<std::string>{"Name", "Replicas", "Ready", "Leader", "Term", "Age"}));
  ASSERT_EQ(table["rows"].size(), 1u);
  const json& cells = table["rows"][0]["cells"];
  EXPECT_EQ(cells[0], "g1");
  EXPECT_EQ(cells[2], 2);
  EXPECT_EQ(cells[3], "g1-0");
  EXPECT_EQ(cells[4], 4);
  EXPECT_EQ(table["rows"][0]["object"]["kind"], "PartialObjectMetadata");
}

TEST_F(HttpApiTest, KeepAliveServesSeveralRequestsOnOneConnection) {
  testing::HttpConnection connection(port_);
  for (int i = 0; i < 3; ++i) {
    connection.send_request("GET", "/version", "", {});
    HttpResponse response;
    ASSERT_TRUE(connection.read_head(response));
    response.body = connection.read_body(response);
    EXPECT_EQ(response.status, 200);
    EXPECT_EQ(response.json()["major"], "1");
  }
}

}  // namespace
}  // namespace dledger::kube
