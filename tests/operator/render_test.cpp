// Properties of the rendered objects that must hold for every group, beyond the golden files.
#include "operator/render/render.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "broker/base/properties.h"
#include "operator/render/manifest_yaml.h"
#include "operator/render/names.h"
#include "tests/operator/test_group.h"

namespace dledger::op::render {
namespace {

using nlohmann::json;
using ::testing::HasSubstr;
using ::testing::Not;

api::DLedgerGroup admitted(const json& spec_patch) {
  auto a = testing::admit_spec(spec_patch);
  EXPECT_TRUE(a.ok()) << testing::errors_of(a);
  return a.group;
}

RenderOptions members(int n) {
  RenderOptions o;
  o.membership_replicas = n;
  return o;
}

DesiredObjects render_ok(const api::DLedgerGroup& g, const RenderOptions& o) {
  auto r = render_group(g, o);
  EXPECT_TRUE(r.ok()) << r.error().to_string();
  return r.ok() ? std::move(r).value() : DesiredObjects{};
}

Properties parse_conf(const std::string& text, const std::string& name) {
  auto p = Properties::parse(text, name);
  EXPECT_TRUE(p.ok()) << p.error().to_string();
  return p.ok() ? std::move(p).value() : Properties{};
}

TEST(Render, PeersListEveryMemberByStablePodDnsName) {
  const auto g = admitted({});
  EXPECT_EQ(render_peers(g, 0, members(3)),
            "n0-g1-0.g1-headless.default.svc:40911;n1-g1-1.g1-headless.default.svc:40911;"
            "n2-g1-2.g1-headless.default.svc:40911");
  RenderOptions with_domain = members(1);
  with_domain.cluster_domain = "cluster.local";
  EXPECT_EQ(render_peers(g, 0, with_domain), "n0-g1-0.g1-headless.default.svc.cluster.local:40911");
}

TEST(Render, EveryMemberConfParsesAndNamesItselfAndTheSamePeers) {
  const auto g = admitted({{"replicas", 5}});
  const auto objects = render_ok(g, members(5));
  const json& data = objects.config_map["data"];
  ASSERT_EQ(data.size(), 5u);
  for (int i = 0; i < 5; ++i) {
    const std::string file = "broker-" + std::to_string(i) + ".conf";
    ASSERT_TRUE(data.contains(file));
    const auto props = parse_conf(data[file], file);
    EXPECT_EQ(*props.get_string("dLegerSelfId", std::nullopt), "n" + std::to_string(i));
    EXPECT_EQ(*props.get_string("dLegerPeers", std::nullopt), render_peers(g, i, members(5)));
    EXPECT_EQ(*props.get_string("dLegerGroup", std::nullopt), "g1");
    EXPECT_EQ(*props.get_string("brokerName", std::nullopt), "g1");
    EXPECT_EQ(*props.get_string("storePathRootDir", std::nullopt), "/data/store");
    EXPECT_EQ(*props.get_bool("enableDLegerCommitLog", false), true);
    EXPECT_EQ(*props.get_int("listenPort", 0, 1, 65535), 10911);
    EXPECT_EQ(*props.get_int("adminPort", 0, 1, 65535), 10980);
    EXPECT_EQ(*props.get_string("flushMode", std::nullopt), "sync");
    EXPECT_EQ(*props.get_int("electionTimeoutMinMs", 0, 0, 1 << 30), 150);
    EXPECT_EQ(*props.get_int("electionTimeoutMaxMs", 0, 0, 1 << 30), 300);
    EXPECT_EQ(*props.get_int("heartbeatIntervalMs", 0, 0, 1 << 30), 50);
    EXPECT_FALSE(props.has("dLegerJoining")) << "members of a new group bootstrap it";
    EXPECT_TRUE(props.warnings().empty()) << "a key was written twice in " << file;
  }
}

TEST(Render, UserOverridesAreAppendedAfterOperatorKeys) {
  const auto g = admitted({{"config", {{"fileReservedTime", "24"}, {"appendTimeoutMs", "900"}}}});
  const std::string conf = render_broker_conf(g, 0, members(3));
  const auto overrides = conf.find("# spec.config overrides\n");
  ASSERT_NE(overrides, std::string::npos);
  EXPECT_GT(overrides, conf.find("dLegerSelfId=n0"));
  EXPECT_EQ(conf.substr(overrides),
            "# spec.config overrides\nappendTimeoutMs=900\nfileReservedTime=24\n");
}

RenderOptions growing(int bootstrap, int membership) {
  RenderOptions o = members(membership);
  o.bootstrap_replicas = bootstrap;
  return o;
}

TEST(Render, MembershipReplicasDrivesStatefulSetConfigAndPdbNotSpecReplicas) {
  const auto g = admitted({{"replicas", 5}});
  const auto objects = render_ok(g, growing(3, 4));
  EXPECT_EQ(objects.stateful_set["spec"]["replicas"], 4);
  EXPECT_EQ(objects.config_map["data"].size(), 4u);
  EXPECT_THAT(render_peers(g, 3, growing(3, 4)), Not(HasSubstr("n4-")));
  EXPECT_EQ(objects.pod_disruption_budget["spec"]["maxUnavailable"], 1);
}

TEST(Render, BootstrapMembersKeepTheSameFileWhileTheGroupScales) {
  const auto g = admitted({{"replicas", 5}});
  const std::string at_start = render_broker_conf(g, 0, members(3));
  for (int membership = 1; membership <= 9; ++membership) {
    EXPECT_EQ(render_broker_conf(g, 0, growing(3, membership)), at_start) << membership;
  }
  EXPECT_EQ(render_broker_conf(g, 2, growing(3, 5)), render_broker_conf(g, 2, members(3)));
}

TEST(Render, JoiningMembersAreMarkedAndListTheCurrentMembership) {
  const auto g = admitted({{"replicas", 5}});
  const auto objects = render_ok(g, growing(3, 5));
  for (int i = 0; i < 5; ++i) {
    const std::string file = "broker-" + std::to_string(i) + ".conf";
    const auto props = parse_conf(objects.config_map["data"][file], file);
    const bool joining = i >= 3;
    EXPECT_EQ(*props.get_bool("dLegerJoining", false), joining) << file;
    const std::string peers = *props.get_string("dLegerPeers", std::nullopt);
    EXPECT_EQ(peers.find("n4-") != std::string::npos, joining) << file;
    EXPECT_NE(peers.find("n" + std::to_string(i) + "-g1-" + std::to_string(i) + "."),
              std::string::npos)
        << file << " must list itself";
  }
  EXPECT_FALSE(is_joining_member(2, growing(3, 5)));
  EXPECT_TRUE(is_joining_member(3, growing(3, 5)));
  // Lowered after n1 was removed: a re-added n1 joins instead of bootstrapping.
  EXPECT_TRUE(is_joining_member(1, growing(1, 3)));
  EXPECT_THAT(render_broker_conf(g, 1, growing(1, 3)), HasSubstr("dLegerJoining=true\n"));
}

TEST(Render, ScalingDoesNotChangeThePodTemplate) {
  const auto g = admitted({{"replicas", 5}, {"preferredLeader", "n4"}});
  const auto three = render_ok(g, members(3));
  const auto five = render_ok(g, members(5));
  EXPECT_EQ(three.stateful_set["spec"]["template"], five.stateful_set["spec"]["template"]);
  EXPECT_NE(three.config_map, five.config_map);
}

TEST(Render, ConfigChangesChangeThePodTemplateHash) {
  const auto base = render_ok(admitted({}), members(3));
  for (const json& patch :
       {json{{"config", {{"fileReservedTime", "1"}}}}, json{{"flushMode", "async"}},
        json{{"heartbeatIntervalMs", 60}}, json{{"ports", {{"admin", 10981}}}}}) {
    const auto changed = render_ok(admitted(patch), members(3));
    const auto annotation = [](const DesiredObjects& o) {
      return o.stateful_set["spec"]["template"]["metadata"]["annotations"][kConfigHashAnnotation];
    };
    EXPECT_NE(annotation(base), annotation(changed)) << patch.dump();
  }
}

TEST(Render, PreferredLeaderWrittenOnlyIntoFilesThatListIt) {
  const auto g = admitted({{"replicas", 5}, {"preferredLeader", "n3"}});
  EXPECT_THAT(render_broker_conf(g, 0, members(3)), Not(HasSubstr("preferredLeaderId")));
  // n3 joined a group bootstrapped with 3: only the joiners' files list it.
  EXPECT_THAT(render_broker_conf(g, 0, growing(3, 4)), Not(HasSubstr("preferredLeaderId")));
  EXPECT_THAT(render_broker_conf(g, 3, growing(3, 4)), HasSubstr("preferredLeaderId=n3\n"));
  EXPECT_THAT(render_broker_conf(g, 0, members(5)), HasSubstr("preferredLeaderId=n3\n"));
}

TEST(Render, DisruptionBudgetNeverAllowsLosingQuorum) {
  const auto g = admitted({});
  for (int n = 1; n <= 9; ++n) {
    const auto pdb = render_pod_disruption_budget(g, members(n));
    const int max_unavailable = pdb["spec"]["maxUnavailable"];
    EXPECT_GE(n - max_unavailable, n / 2 + 1) << n << " members";
    EXPECT_EQ(max_unavailable, n - (n / 2 + 1)) << n << " members";
  }
  EXPECT_EQ(max_unavailable_members(1), 0);
  EXPECT_EQ(max_unavailable_members(2), 0);
  EXPECT_EQ(max_unavailable_members(3), 1);
  EXPECT_EQ(max_unavailable_members(5), 2);
}

TEST(Render, EveryObjectIsControlledByTheGroup) {
  const auto g = admitted({{"monitoring", {{"serviceMonitor", {{"enabled", true}}}}}});
  const auto objects = render_ok(g, members(3));
  ASSERT_EQ(objects.all().size(), 6u);
  for (const auto& o : objects.all()) {
    ASSERT_EQ(o["metadata"]["ownerReferences"].size(), 1u) << o["kind"];
    const json& ref = o["metadata"]["ownerReferences"][0];
    EXPECT_EQ(ref["uid"], "uid-g1");
    EXPECT_EQ(ref["kind"], "DLedgerGroup");
    EXPECT_EQ(ref["apiVersion"], "dledger.io/v1alpha1");
    EXPECT_EQ(ref["controller"], true);
    EXPECT_EQ(ref["blockOwnerDeletion"], true);
    EXPECT_EQ(o["metadata"]["namespace"], "default");
    EXPECT_EQ(o["metadata"]["labels"]["app.kubernetes.io/managed-by"], "dledger-operator");
  }
}

TEST(Render, ServiceMonitorOnlyWhenEnabledAndScrapesAdminMetrics) {
  EXPECT_FALSE(render_ok(admitted({}), members(3)).service_monitor.has_value());
  const auto objects =
      render_ok(admitted({{"monitoring", {{"serviceMonitor", {{"enabled", true}}}}}}), members(3));
  ASSERT_TRUE(objects.service_monitor.has_value());
  const json& endpoint = (*objects.service_monitor)["spec"]["endpoints"][0];
  EXPECT_EQ(endpoint["port"], "admin");
  EXPECT_EQ(endpoint["path"], "/metrics");
  EXPECT_EQ(endpoint["interval"], "30s");
  // Selects exactly the headless Service (which also lists not-ready members).
  const json& selector = (*objects.service_monitor)["spec"]["selector"]["matchLabels"];
  const json& headless_labels = objects.headless_service["metadata"]["labels"];
  for (const auto& [k, v] : selector.items()) EXPECT_EQ(headless_labels[k], v) << k;
  EXPECT_NE(objects.client_service["metadata"]["labels"][kServiceRoleLabel],
            selector[kServiceRoleLabel]);
}

TEST(Render, PodRunsHardenedAndProbesTheAdminPort) {
  const auto sts = render_ok(admitted({}), members(3)).stateful_set;
  const json& pod = sts["spec"]["template"]["spec"];
  const json& c = pod["containers"][0];
  EXPECT_EQ(sts["spec"]["podManagementPolicy"], "Parallel");
  EXPECT_EQ(sts["spec"]["serviceName"], "g1-headless");
  EXPECT_EQ(pod["securityContext"]["runAsNonRoot"], true);
  EXPECT_EQ(pod["securityContext"]["runAsUser"], 10001);
  EXPECT_EQ(pod["securityContext"]["fsGroup"], 10001);
  EXPECT_EQ(pod["securityContext"]["seccompProfile"]["type"], "RuntimeDefault");
  EXPECT_EQ(c["securityContext"]["readOnlyRootFilesystem"], true);
  EXPECT_EQ(c["securityContext"]["allowPrivilegeEscalation"], false);
  EXPECT_EQ(c["securityContext"]["capabilities"]["drop"], json::array({"ALL"}));
  EXPECT_EQ(c["readinessProbe"]["httpGet"]["path"], "/readyz");
  EXPECT_EQ(c["livenessProbe"]["httpGet"]["path"], "/healthz");
  EXPECT_EQ(c["startupProbe"]["httpGet"]["path"], "/healthz");
  EXPECT_EQ(c["readinessProbe"]["httpGet"]["port"], "admin");
  EXPECT_EQ(
      c["lifecycle"]["preStop"]["exec"]["command"],
      json::array({"dledgerctl", "transferLeader", "--if-leader", "--admin", "127.0.0.1:10980"}));
  EXPECT_GE(pod["terminationGracePeriodSeconds"].get<int>(), 60);
  EXPECT_THAT(c["command"][2].get<std::string>(), HasSubstr("exec dledger-broker \"$@\""));
  EXPECT_THAT(c["command"][2].get<std::string>(),
              HasSubstr("-c \"/etc/dledger/broker-${ordinal}.conf\""));
  // Every declared mount has a volume (or the claim template).
  std::set<std::string> volumes = {"data"};
  for (const auto& v : pod["volumes"]) volumes.insert(v["name"]);
  for (const auto& m : c["volumeMounts"]) EXPECT_EQ(volumes.count(m["name"]), 1u) << m["name"];
  EXPECT_EQ(sts["spec"]["volumeClaimTemplates"][0]["metadata"]["name"], "data");
}

TEST(Render, SecretsReachThePodOnlyThroughSecretRefs) {
  const auto g = admitted({{"adminTokenSecretRef", {{"name", "tok"}, {"key", "token"}}},
                           {"groupSecretRef", {{"name", "peers"}, {"key", "secret"}}}});
  const auto objects = render_ok(g, members(3));
  EXPECT_THAT(objects.config_map.dump(), Not(HasSubstr("adminToken")));
  EXPECT_THAT(objects.config_map.dump(), Not(HasSubstr("groupSecret")));
  const json& c = objects.stateful_set["spec"]["template"]["spec"]["containers"][0];
  json secret_refs = json::array();
  for (const auto& e : c["env"]) {
    if (e.contains("valueFrom") && e["valueFrom"].contains("secretKeyRef")) {
      secret_refs.push_back(e["valueFrom"]["secretKeyRef"]);
    }
  }
  EXPECT_EQ(secret_refs,
            json::parse(R"([{"key":"token","name":"tok"},{"key":"secret","name":"peers"}])"));
  EXPECT_THAT(c["command"][2].get<std::string>(),
              HasSubstr("-p \"adminToken=${DLEDGER_ADMIN_TOKEN}\""));
}

TEST(Render, UserPodFieldsAreCopiedAndCannotReplaceSelectorLabels) {
  const json affinity = {{"nodeAffinity", {{"x", 1}}}};
  const auto g = admitted({{"pod",
                            {{"labels", {{"team", "a"}}},
                             {"annotations", {{"note", "b"}}},
                             {"nodeSelector", {{"disk", "ssd"}}},
                             {"affinity", affinity},
                             {"priorityClassName", "high"},
                             {"serviceAccountName", "sa"}}}});
  const auto objects = render_ok(g, members(3));
  const json& tpl = objects.stateful_set["spec"]["template"];
  EXPECT_EQ(tpl["metadata"]["labels"]["team"], "a");
  EXPECT_EQ(tpl["metadata"]["labels"]["app.kubernetes.io/instance"], "g1");
  EXPECT_EQ(tpl["metadata"]["annotations"]["note"], "b");
  EXPECT_EQ(tpl["spec"]["nodeSelector"]["disk"], "ssd");
  EXPECT_EQ(tpl["spec"]["affinity"], affinity);
  EXPECT_EQ(tpl["spec"]["priorityClassName"], "high");
  EXPECT_EQ(tpl["spec"]["serviceAccountName"], "sa");
}

TEST(Render, SelectorStringMatchesSelectorLabels) {
  EXPECT_EQ(selector_string(admitted({})),
            "app.kubernetes.io/component=broker,app.kubernetes.io/instance=g1,"
            "app.kubernetes.io/name=dledger");
}

TEST(Render, RefusesInputsItCannotRenderCompletely) {
  const auto g = admitted({});
  EXPECT_FALSE(render_group(g, members(0)).ok());
  EXPECT_FALSE(render_group(g, members(10)).ok());
  EXPECT_FALSE(render_group(g, growing(-1, 3)).ok());
  EXPECT_FALSE(render_group(g, growing(10, 3)).ok());
  auto no_uid = g;
  no_uid.metadata.uid.clear();
  auto r = render_group(no_uid, members(3));
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.error().message, HasSubstr("metadata.uid"));
  auto no_ns = g;
  no_ns.metadata.namespace_name.clear();
  EXPECT_THAT(render_group(no_ns, members(3)).error().message, HasSubstr("metadata.namespace"));
}

TEST(Render, ManagedNameServerPointsAtItsService) {
  const auto g = admitted({{"nameServer", {{"managed", true}}}});
  EXPECT_EQ(name_server_addresses(g, members(3)), "g1-namesrv.default.svc:9876");
  EXPECT_EQ(name_server_addresses(admitted({}), members(3)), "");
  EXPECT_THAT(render_broker_conf(admitted({}), 0, members(3)), Not(HasSubstr("namesrvAddr")));
}

TEST(Render, OutputIsDeterministic) {
  const auto g = admitted({{"replicas", 5}, {"config", {{"b", "1"}, {"a", "2"}}}});
  EXPECT_EQ(json(render_ok(g, members(5)).all()).dump(),
            json(render_ok(g, members(5)).all()).dump());
}

}  // namespace
}  // namespace dledger::op::render

namespace dledger::op::render {
namespace {

TEST(ManifestYaml, QuotesWhatWouldReadBackAsAnotherType) {
  const json object = {
      {"a", "true"},         {"b", "10"},         {"c", "1e3"}, {"d", "10Gi"}, {"e", "n0"},
      {"f", "h:1"},          {"g", ""},           {"h", 5},     {"i", false},  {"j", nullptr},
      {"k", json::object()}, {"l", json::array()}};
  EXPECT_EQ(to_yaml(object),
            "a: \"true\"\nb: \"10\"\nc: \"1e3\"\nd: 10Gi\ne: n0\nf: \"h:1\"\ng: \"\"\nh: 5\n"
            "i: false\nj: null\nk: {}\nl: []\n");
}

TEST(ManifestYaml, MultiLineStringsBecomeLiteralBlocks) {
  const json object = {{"data", {{"broker-0.conf", "a=1\nb=2\n"}, {"odd", " lead\n"}}},
                       {"list", {{{"x", 1}, {"y", {1, 2}}}, "s"}}};
  EXPECT_EQ(to_yaml(object),
            "data:\n  broker-0.conf: |\n    a=1\n    b=2\n  odd: \" lead\\n\"\nlist:\n"
            "  - x: 1\n    \"y\":\n      - 1\n      - 2\n  - s\n");
}

}  // namespace
}  // namespace dledger::op::render
