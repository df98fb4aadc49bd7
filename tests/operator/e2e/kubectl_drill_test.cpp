// Operator drills: the real kubectl against the test API server, the real dledger-operator
// process, and real dledger-broker pods run by the PodRunner, all inside a private mount and
// network namespace (drill_main.cpp). Each test starts everything itself:
//
//   kubectl --> test API server (in process) <-- dledger-operator (process)
//                      ^                              | admin HTTP via pod DNS names
//                      | StatefulSet, ConfigMap       v
//                  PodRunner  ------------>  dledger-broker pods on 127.0.0.10, .11, ...
//                                                 | register
//                                            dledger-namesrv (127.0.0.1:9876)
//
// Nothing asserts a duration: every wait polls with a generous limit. Logs of a failed test
// stay in its directory when DLEDGER_KEEP_TEST_DIRS is set; the operator log tail is printed on
// failure.
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <set>
#include <sstream>

#include <gtest/gtest.h>

#include "broker/admin/admin_client.h"
#include "operator/kube/kube_client.h"
#include "tests/common/kubectl.h"
#include "tests/common/test_net.h"
#include "tests/kube/apiserver/api_server.h"
#include "tests/kube/http_test_client.h"
#include "tests/operator/e2e/child_process.h"
#include "tests/operator/e2e/drill_messages.h"
#include "tests/operator/e2e/pod_runner.h"

namespace dledger::e2e {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;
using testing::eventually;
namespace kube = op::kube;
namespace test_api = dledger::kube;  // the in-repo test API server

constexpr const char* kNameServer = "127.0.0.1:9876";
constexpr const char* kGroup = "x";

using testing::CommandResult;
using testing::kubectl_path;

std::string tail_of(const std::string& path, std::size_t bytes = 3000) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  const std::string all = text.str();
  return all.size() > bytes ? all.substr(all.size() - bytes) : all;
}

// What the leader of the group reports about itself.
struct LeaderView {
  std::string pod;
  admin::ReplicaStatus status;
  int voters() const {
    return static_cast<int>(std::count_if(status.members.begin(), status.members.end(),
                                          [](const auto& m) { return m.voter; }));
  }
  int learners() const { return static_cast<int>(status.members.size()) - voters(); }
};

class OperatorDrillTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(access(kubectl_path().c_str(), X_OK), 0)
        << "kubectl 1.32 is needed at " << kubectl_path() << " (or set DLEDGER_KUBECTL)";
    char pattern[] = "/tmp/dledger-drill-XXXXXX";
    ASSERT_NE(mkdtemp(pattern), nullptr);
    dir_ = pattern;

    test_api::ApiServerOptions server_options;
    server_options.crd_paths = {DLEDGER_CRD_PATH};
    auto created = test_api::ApiServer::create(server_options);
    ASSERT_TRUE(created.ok()) << created.error().to_string();
    server_ = std::move(*created);
    ASSERT_TRUE(server_->start(0).ok());
    ASSERT_TRUE(test_api::write_kubeconfig(dir_ + "/kubeconfig", server_->base_url()).ok());
    auto config = kube::load_kubeconfig(dir_ + "/kubeconfig");
    ASSERT_TRUE(config.ok()) << config.error().to_string();
    client_ = std::make_unique<kube::KubeClient>(*config);

    ASSERT_TRUE(name_server_
                    .start({DLEDGER_NAMESRV_BINARY, "-p", "listenPort=9876", "-p", "logLevel=warn"},
                           dir_ + "/namesrv.log")
                    .ok());

    PodRunnerOptions runner_options;
    runner_options.broker_binary = DLEDGER_BROKER_BINARY;
    runner_options.work_dir = dir_ + "/runner";
    runner_options.hosts_file = "/etc/hosts";  // bind-mounted by drill_main.cpp
    runner_ = std::make_unique<PodRunner>(*client_, runner_options);
    runner_->start();
    start_operator();
  }

  void TearDown() override {
    if (HasFailure()) {
      std::cerr << "---- operator log (tail) ----\n"
                << tail_of(dir_ + "/operator.log") << "\n---- end ----\n";
      if (auto leader = find_leader()) {
        std::cerr << "leader " << leader->pod << " log tail:\n"
                  << tail_of(runner_->log_path(leader->pod), 1500) << "\n";
      }
    }
    operator_.kill();
    runner_.reset();  // kills the brokers
    name_server_.kill();
    if (server_) server_->stop();
    const char* keep = std::getenv("DLEDGER_KEEP_TEST_DIRS");
    if (keep == nullptr || *keep == '\0') {
      std::error_code ignored;
      std::filesystem::remove_all(dir_, ignored);
    } else {
      std::cerr << "drill files kept in " << dir_ << "\n";
    }
  }

  void start_operator() {
    ASSERT_TRUE(
        operator_
            .start({DLEDGER_OPERATOR_BINARY, "--kubeconfig", dir_ + "/kubeconfig", "--namespace",
                    "default", "--metrics-port", std::to_string(18080 + operator_starts_++)},
                   dir_ + "/operator.log")
            .ok());
  }

  CommandResult kubectl(const std::string& args) { return testing::run_kubectl(dir_, args, 120); }

  void apply_group(int replicas) {
    std::ofstream(dir_ + "/group.yaml")
        << "apiVersion: dledger.io/v1alpha1\nkind: DLedgerGroup\nmetadata:\n  name: " << kGroup
        << "\nspec:\n  replicas: " << replicas
        << "\n  image: dledger:drill\n  nameServer:\n    addresses: \"" << kNameServer
        << "\"\n  electionTimeoutMs:\n    min: 150\n    max: 300\n  heartbeatIntervalMs: 50\n"
        << "  config:\n    registerIntervalMs: \"1000\"\n";
    auto applied = kubectl("apply -f group.yaml");
    ASSERT_EQ(applied.exit_code, 0) << applied.output;
  }

  void wait_ready() {
    auto waited =
        kubectl(std::string("wait --for=condition=Ready dlg/") + kGroup + " --timeout=100s");
    ASSERT_EQ(waited.exit_code, 0) << waited.output << "\nstatus: " << group_json().dump(1);
  }

  json group_json() {
    auto group = client_->get(kube::resources::kDLedgerGroups, "default", kGroup);
    return group.ok() ? *group : json::object();
  }

  // The member that reports itself leader with the highest term, asked over its admin API.
  std::optional<LeaderView> find_leader() {
    std::optional<LeaderView> best;
    admin::AdminClient admin(admin::AdminClientOptions{1000ms, "", false});
    for (const auto& pod : runner_->running_pods()) {
      auto endpoint = runner_->endpoint(pod);
      if (!endpoint) continue;
      auto status = admin.status(endpoint->admin);
      if (!status.ok() || status->role != admin::kRoleLeader) continue;
      if (!best || status->term > best->status.term) best = LeaderView{pod, *status};
    }
    return best;
  }

  std::optional<std::string> leader_remoting_address() {
    auto leader = find_leader();
    if (!leader) return std::nullopt;
    auto endpoint = runner_->endpoint(leader->pod);
    if (!endpoint) return std::nullopt;
    return endpoint->remoting;
  }

  // Waits until the leader's committed membership has exactly `voters` voters and no learner.
  bool wait_for_voters(int voters, std::chrono::milliseconds limit = 90s) {
    return eventually(
        [&] {
          auto leader = find_leader();
          return leader && leader->voters() == voters && leader->learners() == 0 &&
                 !leader->status.membership_change_pending;
        },
        limit);
  }

  // Reads queue 0 of "drill" back from the leader: every message `producer` (stopped) saw
  // acknowledged must be there.
  void expect_every_acknowledged_message_stored(const DrillProducer& producer) {
    const auto acknowledged = producer.acknowledged();
    auto leader = leader_remoting_address();
    ASSERT_TRUE(leader.has_value());
    auto read = read_queue(*leader, "drill");
    ASSERT_TRUE(read.ok()) << read.error().to_string();
    RecordProperty("acknowledged", static_cast<int>(acknowledged.size()));
    RecordProperty("read_back", static_cast<int>(read->size()));
    RecordProperty("failed_send_attempts", producer.failed_attempts());
    const std::set<std::string> stored(read->begin(), read->end());
    std::vector<std::string> lost;
    for (const auto& body : acknowledged) {
      if (!stored.contains(body)) lost.push_back(body);
    }
    EXPECT_TRUE(lost.empty()) << lost.size() << " of " << acknowledged.size()
                              << " acknowledged messages missing, first " << lost.front();
    EXPECT_GE(read->size(), acknowledged.size());
  }

  // Starts a producer on topic "drill" once a leader accepts the topic, and waits for its first
  // 10 acknowledgements.
  std::unique_ptr<DrillProducer> start_producer() {
    EXPECT_TRUE(eventually(
        [&] {
          auto leader = leader_remoting_address();
          return leader && create_topic(*leader, "drill").ok();
        },
        30s));
    auto producer =
        std::make_unique<DrillProducer>([&] { return leader_remoting_address(); }, "drill");
    producer->start();
    EXPECT_TRUE(eventually([&] { return producer->acknowledged().size() >= 10; }, 30s));
    return producer;
  }

  // The StatefulSet's status as the pod runner wrote it ({} before).
  json stateful_set_status() {
    auto sts = client_->get(kube::resources::kStatefulSets, "default", kGroup);
    return sts.ok() ? (*sts).value("status", json::object()) : json::object();
  }
  std::string update_revision() { return stateful_set_status().value("updateRevision", ""); }

  // Pod name -> its controller-revision-hash label, for the pods that exist.
  std::map<std::string, std::string> pod_revisions() {
    std::map<std::string, std::string> out;
    auto pods = client_->list(kube::resources::kPods, "default");
    if (!pods.ok()) return out;
    for (const auto& pod : pods->items) {
      const json meta = pod.value("metadata", json::object());
      out[meta.value("name", "")] =
          meta.value("labels", json::object()).value("controller-revision-hash", "");
    }
    return out;
  }

  // Value of `sample` (name{labels} exactly as exposed) on the operator's /metrics, or -1.
  double operator_metric(const std::string& sample) {
    const auto port = static_cast<std::uint16_t>(18080 + operator_starts_ - 1);
    auto response = dledger::kube::testing::http_request(port, "GET", "/metrics");
    if (response.status != 200) return -1;
    std::istringstream lines(response.body);
    for (std::string line; std::getline(lines, line);) {
      if (line.rfind(sample + " ", 0) == 0) return std::stod(line.substr(sample.size() + 1));
    }
    return -1;
  }

  int count_events(const std::string& reason) {
    auto events = client_->list(
        kube::resources::kEvents, "default",
        {.label_selector = "", .field_selector = std::string("involvedObject.name=") + kGroup});
    if (!events.ok()) return -1;
    int count = 0;  // an aggregated Event counts every occurrence
    for (const auto& event : events->items) {
      if (event.value("reason", "") == reason) count += event.value("count", 1);
    }
    return count;
  }

  std::string dir_;
  std::unique_ptr<test_api::ApiServer> server_;
  std::unique_ptr<kube::KubeClient> client_;
  ChildProcess name_server_;
  ChildProcess operator_;
  std::unique_ptr<PodRunner> runner_;
  int operator_starts_ = 0;  // a fresh metrics port per start: a killed one may linger
};

TEST_F(OperatorDrillTest, AppliedGroupBecomesReadyWithExactlyOneLeader) {
  apply_group(3);
  wait_ready();

  const json status = group_json()["status"];
  int leaders = 0;
  for (const auto& member : status.value("members", json::array())) {
    if (member.value("role", "") == "leader") ++leaders;
  }
  EXPECT_EQ(leaders, 1) << status.dump(1);
  EXPECT_EQ(status.value("members", json::array()).size(), 3u);
  EXPECT_EQ(status.value("readyReplicas", 0), 3);
  const std::string leader_pod = status.value("leader", json::object()).value("pod", "");
  ASSERT_FALSE(leader_pod.empty()) << status.dump(1);
  auto leader = find_leader();
  ASSERT_TRUE(leader.has_value());
  EXPECT_EQ(leader->pod, leader_pod);

  // Printer columns with values: NAME REPLICAS READY LEADER TERM AGE.
  auto table = kubectl("get dlg");
  ASSERT_EQ(table.exit_code, 0) << table.output;
  std::istringstream lines(table.output);
  std::string header;
  std::string row;
  std::getline(lines, header);
  std::getline(lines, row);
  std::istringstream header_words(header);
  std::vector<std::string> columns{std::istream_iterator<std::string>(header_words), {}};
  EXPECT_EQ(columns,
            (std::vector<std::string>{"NAME", "REPLICAS", "READY", "LEADER", "TERM", "AGE"}))
      << table.output;
  std::istringstream row_words(row);
  std::vector<std::string> cells{std::istream_iterator<std::string>(row_words), {}};
  ASSERT_EQ(cells.size(), 6u) << table.output;
  EXPECT_EQ(cells[0], kGroup);
  EXPECT_EQ(cells[1], "3");
  EXPECT_EQ(cells[2], "3");
  EXPECT_EQ(cells[3], leader_pod);
  EXPECT_EQ(cells[4], std::to_string(status.value("term", 0)));

  // The pods as kubectl shows them: three, Running and ready (the runner polls /readyz, so a
  // pod's Ready may trail the group's status by a poll).
  const std::vector<std::string> expected_rows = {"x-0 1/1 Running", "x-1 1/1 Running",
                                                  "x-2 1/1 Running"};
  std::vector<std::string> pod_rows;
  std::string pods_output;
  EXPECT_TRUE(eventually(
      [&] {
        auto pods = kubectl("get pods --no-headers");
        pods_output = pods.output;
        pod_rows.clear();
        std::istringstream pod_lines(pods.output);
        for (std::string line; std::getline(pod_lines, line);) {
          std::istringstream words(line);
          std::string name, ready, phase;
          words >> name >> ready >> phase;
          pod_rows.push_back(name + " " + ready + " " + phase);
        }
        return pods.exit_code == 0 && pod_rows == expected_rows;
      },
      30s))
      << pods_output;
}

TEST_F(OperatorDrillTest, ScalingToFiveAndBackWhileProducingLosesNoAcknowledgedMessage) {
  apply_group(3);
  wait_ready();
  auto started = start_producer();
  ASSERT_FALSE(HasFailure());
  DrillProducer& producer = *started;

  auto up = kubectl(std::string("scale dlg/") + kGroup + " --replicas=5");
  ASSERT_EQ(up.exit_code, 0) << up.output;
  ASSERT_TRUE(wait_for_voters(5)) << group_json()["status"].dump(1);
  wait_ready();
  EXPECT_EQ(group_json()["status"].value("replicas", 0), 5);
  const std::size_t acked_at_five = producer.acknowledged().size();

  auto down = kubectl(std::string("scale dlg/") + kGroup + " --replicas=3");
  ASSERT_EQ(down.exit_code, 0) << down.output;
  ASSERT_TRUE(wait_for_voters(3)) << group_json()["status"].dump(1);
  wait_ready();
  ASSERT_TRUE(
      eventually([&] { return producer.acknowledged().size() >= acked_at_five + 10; }, 30s));
  producer.stop();

  // Scaled-away pods are stopped and their volumes released (whenScaled: Delete).
  EXPECT_TRUE(eventually([&] { return runner_->running_pods().size() == 3; }, 30s));
  EXPECT_TRUE(eventually(
      [&] {
        auto pvcs = client_->list(kube::resources::kPersistentVolumeClaims, "default");
        return pvcs.ok() && pvcs->items.size() == 3;
      },
      30s));

  expect_every_acknowledged_message_stored(producer);
}

TEST_F(OperatorDrillTest, DeletingTheLeaderPodElectsAnotherLeaderAndRecovers) {
  apply_group(3);
  wait_ready();
  const json before = group_json()["status"];
  const std::string old_leader = before.value("leader", json::object()).value("pod", "");
  const std::int64_t old_term = before.value("term", 0);
  ASSERT_FALSE(old_leader.empty());
  const int leader_changes_before = count_events("LeaderChanged");

  auto deleted = kubectl("delete pod " + old_leader);
  ASSERT_EQ(deleted.exit_code, 0) << deleted.output;

  // Another member takes over; the deleted pod comes back with its data and rejoins.
  ASSERT_TRUE(eventually(
      [&] {
        auto leader = find_leader();
        return leader && leader->status.term > static_cast<std::uint64_t>(old_term);
      },
      60s));
  ASSERT_TRUE(eventually([&] { return runner_->starts(old_leader) == 2; }, 60s));
  ASSERT_TRUE(eventually(
      [&] {
        const json status = group_json()["status"];
        bool ready = false;
        for (const auto& c : status.value("conditions", json::array())) {
          if (c.value("type", "") == "Ready") ready = c.value("status", "") == "True";
        }
        return ready && status.value("term", 0) > old_term && status.value("readyReplicas", 0) == 3;
      },
      60s))
      << group_json()["status"].dump(1);
  wait_ready();
  EXPECT_TRUE(
      eventually([&] { return count_events("LeaderChanged") > leader_changes_before; }, 30s))
      << kubectl("get events").output;
}

TEST_F(OperatorDrillTest, OperatorKilledAtRandomPointsDuringScalingConverges) {
  apply_group(3);
  wait_ready();
  const unsigned seed = std::random_device{}();
  SCOPED_TRACE("seed " + std::to_string(seed));
  std::mt19937 random(seed);
  std::uniform_int_distribution<int> delay_ms(200, 1500);
  auto kill_and_restart_a_few_times = [&](int times) {
    for (int i = 0; i < times; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(delay_ms(random)));
      operator_.kill();  // SIGKILL
      start_operator();
    }
  };

  auto up = kubectl(std::string("scale dlg/") + kGroup + " --replicas=5");
  ASSERT_EQ(up.exit_code, 0) << up.output;
  kill_and_restart_a_few_times(4);
  ASSERT_TRUE(wait_for_voters(5)) << group_json()["status"].dump(1);
  wait_ready();

  auto down = kubectl(std::string("scale dlg/") + kGroup + " --replicas=3");
  ASSERT_EQ(down.exit_code, 0) << down.output;
  kill_and_restart_a_few_times(4);
  ASSERT_TRUE(wait_for_voters(3)) << group_json()["status"].dump(1);
  wait_ready();
  const json status = group_json()["status"];
  EXPECT_EQ(status.value("replicas", 0), 3);
  EXPECT_EQ(status.value("members", json::array()).size(), 3u);
  auto sts = client_->get(kube::resources::kStatefulSets, "default", kGroup);
  ASSERT_TRUE(sts.ok());
  EXPECT_EQ((*sts)["spec"].value("replicas", 0), 3);
  EXPECT_TRUE(eventually([&] { return runner_->running_pods().size() == 3; }, 30s));
}

TEST_F(OperatorDrillTest, ConfigChangeRollsFollowersFirstAndTheLeaderLastLosingNoMessage) {
  apply_group(3);
  wait_ready();
  const std::vector<std::string> pods = {"x-0", "x-1", "x-2"};
  auto all_on = [&](const std::string& revision) {
    std::map<std::string, std::string> expected;
    for (const auto& pod : pods) expected[pod] = revision;
    return pod_revisions() == expected;
  };
  std::string old_revision;
  ASSERT_TRUE(eventually(
      [&] {
        old_revision = update_revision();
        return !old_revision.empty() && all_on(old_revision);
      },
      30s))
      << "revisions " << json(pod_revisions()).dump();
  auto started = start_producer();
  ASSERT_FALSE(HasFailure());
  DrillProducer& producer = *started;
  ASSERT_TRUE(runner_->deletions().empty());

  // registerIntervalMs is a broker.conf override: it changes the rendered ConfigMap and the pod
  // template's dledger.io/config-hash annotation, so the StatefulSet gets a new revision.
  auto patched = kubectl(std::string("patch dlg/") + kGroup +
                         R"( --type merge -p '{"spec":{"config":{"registerIntervalMs":"1500"}}}')");
  ASSERT_EQ(patched.exit_code, 0) << patched.output;
  std::string new_revision;
  ASSERT_TRUE(eventually(
      [&] {
        new_revision = update_revision();
        return !new_revision.empty() && new_revision != old_revision;
      },
      30s));
  ASSERT_TRUE(eventually([&] { return all_on(new_revision); }, 120s))
      << "revisions " << json(pod_revisions()).dump() << "\nstatus "
      << group_json()["status"].dump(1);
  wait_ready();
  const std::size_t acked_after_roll = producer.acknowledged().size();
  ASSERT_TRUE(
      eventually([&] { return producer.acknowledged().size() >= acked_after_roll + 10; }, 30s));
  producer.stop();

  // One restart per pod, each of an old-revision pod that was not leading when deleted:
  // followers first (highest ordinal first), then the pod the followers named as their leader,
  // after it handed leadership over.
  const auto deletions = runner_->deletions();
  std::vector<std::string> order;
  for (const auto& deletion : deletions) {
    order.push_back(deletion.pod + " (" + deletion.role + ", leader " + deletion.leader_id + ")");
  }
  const std::string story = json(order).dump();
  RecordProperty("restarts", story);
  ASSERT_EQ(deletions.size(), 3u) << story;
  std::set<std::string> restarted;
  for (const auto& deletion : deletions) {
    restarted.insert(deletion.pod);
    EXPECT_EQ(deletion.revision, old_revision) << story;
    EXPECT_FALSE(deletion.role.empty()) << story;  // it answered /status before SIGTERM
    EXPECT_NE(deletion.role, "leader") << story;
  }
  EXPECT_EQ(restarted, std::set<std::string>(pods.begin(), pods.end())) << story;
  const PodDeletion& last = deletions[2];
  EXPECT_EQ(deletions[0].leader_id, last.self_id) << story;
  EXPECT_EQ(deletions[1].leader_id, last.self_id) << story;
  EXPECT_GT(deletions[0].pod, deletions[1].pod) << story;  // x-0..x-2: one digit, so text order
  EXPECT_NE(last.leader_id, last.self_id) << story;        // the transfer happened before

  // Every pod runs again, once restarted, with the new config.
  for (const auto& pod : pods) {
    EXPECT_EQ(runner_->starts(pod), 2) << pod;
    std::ifstream conf(runner_->config_path(pod));
    std::stringstream text;
    text << conf.rdbuf();
    EXPECT_NE(text.str().find("registerIntervalMs=1500\n"), std::string::npos) << pod << ":\n"
                                                                               << text.str();
  }
  EXPECT_EQ(stateful_set_status().value("updatedReplicas", 0), 3) << stateful_set_status().dump();
  EXPECT_TRUE(eventually(
      [&] { return stateful_set_status().value("currentRevision", "") == new_revision; }, 30s))
      << stateful_set_status().dump();
  EXPECT_EQ(count_events("RestartPod"), 3) << kubectl("get events").output;
  EXPECT_EQ(
      operator_metric(
          R"(dledger_group_pod_restarts_total{dledgergroup="x",namespace="default",reason="ConfigChanged"})"),
      3);
  expect_every_acknowledged_message_stored(producer);
}

}  // namespace
}  // namespace dledger::e2e
