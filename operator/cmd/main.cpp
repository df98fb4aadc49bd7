// dledger-operator: watches DLedgerGroups (and their StatefulSets and pods) in one namespace and
// reconciles each group (operator/controller/reconciler.h).
//
//   dledger-operator [--kubeconfig PATH] [--namespace NS] [--metrics-port 8080] [--leader-elect]
//
// Configuration: --kubeconfig, else in-cluster (service account), else $KUBECONFIG or
// ~/.kube/config. Metrics (Prometheus text) on 0.0.0.0:<metrics-port>/metrics.
// With --leader-elect only the replica holding the Lease "dledger-operator" reconciles.
#include <prometheus/exposer.h>
#include <prometheus/registry.h>
#include <unistd.h>
#include <CLI/CLI.hpp>

#include <atomic>
#include <csignal>
#include <cstdlib>
#include <iostream>
#include <mutex>
#include <thread>

#include "operator/controller/informer.h"
#include "operator/controller/leader_election.h"
#include "operator/controller/operator_metrics.h"
#include "operator/controller/reconciler.h"
#include "operator/controller/work_queue.h"
#include "operator/kube/kube_client.h"

namespace {

using namespace dledger::op;  // NOLINT(google-build-using-namespace)

dledger::Result<kube::KubeConfig> load_config(const std::string& kubeconfig) {
  if (!kubeconfig.empty()) return kube::load_kubeconfig(kubeconfig);
  auto in_cluster =
      kube::load_in_cluster_config([](const char* name) { return std::getenv(name); });
  if (in_cluster.ok()) return in_cluster;
  if (const char* env = std::getenv("KUBECONFIG"); env != nullptr && *env != '\0') {
    return kube::load_kubeconfig(env);
  }
  if (const char* home = std::getenv("HOME"); home != nullptr) {
    return kube::load_kubeconfig(std::string(home) + "/.kube/config");
  }
  return in_cluster.error();
}

// "namespace/<owner group>" of an object owned by a DLedgerGroup, or "".
std::string owner_group_key(const nlohmann::json& object) {
  if (!object.contains("metadata")) return "";
  const auto& meta = object["metadata"];
  if (!meta.contains("ownerReferences") || !meta["ownerReferences"].is_array()) return "";
  for (const auto& ref : meta["ownerReferences"]) {
    if (ref.value("kind", "") == "DLedgerGroup") {
      return meta.value("namespace", "") + "/" + ref.value("name", "");
    }
  }
  return "";
}

// "namespace/<group>" of a pod the operator's StatefulSets run (label
// app.kubernetes.io/instance), or "".
std::string pod_group_key(const nlohmann::json& object) {
  if (!object.contains("metadata")) return "";
  const auto& meta = object["metadata"];
  const auto labels = meta.value("labels", nlohmann::json::object());
  const std::string instance = labels.value("app.kubernetes.io/instance", "");
  if (instance.empty()) return "";
  return meta.value("namespace", "") + "/" + instance;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"dledger-operator: runs DLedgerGroup resources"};
  std::string kubeconfig;
  std::string namespace_name;
  int metrics_port = 8080;
  bool leader_elect = false;
  app.add_option("--kubeconfig", kubeconfig, "kubeconfig file (default: in-cluster)");
  app.add_option("--namespace", namespace_name, "namespace to watch (default: the config's)");
  app.add_option("--metrics-port", metrics_port, "Prometheus metrics port")
      ->check(CLI::Range(1, 65535));
  app.add_flag("--leader-elect", leader_elect, "only the Lease holder reconciles");
  CLI11_PARSE(app, argc, argv);

  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  auto config = load_config(kubeconfig);
  if (!config.ok()) {
    std::cerr << "dledger-operator: " << config.error().to_string() << "\n";
    return 1;
  }
  if (namespace_name.empty()) namespace_name = config->namespace_name;
  kube::KubeClient client(*config);

  auto registry = std::make_shared<prometheus::Registry>();
  controller::OperatorMetrics metrics(*registry);
  std::unique_ptr<prometheus::Exposer> exposer;
  try {
    exposer = std::make_unique<prometheus::Exposer>("0.0.0.0:" + std::to_string(metrics_port));
    exposer->RegisterCollectable(registry);
  } catch (const std::exception& e) {
    std::cerr << "dledger-operator: metrics port " << metrics_port << ": " << e.what() << "\n";
    return 1;
  }

  controller::WorkQueue queue;
  auto admin = controller::make_admin_client_member_admin(std::chrono::milliseconds(5000), "");
  controller::Reconciler reconciler(client, *admin, controller::dns_admin_address_resolver());

  std::atomic<bool> leading{!leader_elect};
  std::stop_source stop;

  controller::InformerOptions groups_options{kube::resources::kDLedgerGroups, namespace_name};
  controller::Informer groups(
      client, groups_options,
      [&](const std::string& key, const nlohmann::json&, bool) { queue.add(key); });
  controller::InformerOptions sts_options{kube::resources::kStatefulSets, namespace_name};
  sts_options.selectors.label_selector = "app.kubernetes.io/managed-by=dledger-operator";
  controller::Informer stateful_sets(client, sts_options,
                                     [&](const std::string&, const nlohmann::json& object, bool) {
                                       const std::string key = owner_group_key(object);
                                       if (!key.empty()) queue.add(key);
                                     });

  // Pods: a deleted, restarted or newly ready member is looked at at once (a leader change
  // shows in status and as an Event without waiting for the resync).
  controller::InformerOptions pods_options{kube::resources::kPods, namespace_name};
  pods_options.selectors.label_selector = "app.kubernetes.io/managed-by=dledger-operator";
  controller::Informer pods(client, pods_options,
                            [&](const std::string&, const nlohmann::json& object, bool) {
                              const std::string key = pod_group_key(object);
                              if (!key.empty()) queue.add(key);
                            });

  std::jthread groups_thread([&](std::stop_token) { groups.run(stop.get_token()); });
  std::jthread sts_thread([&](std::stop_token) { stateful_sets.run(stop.get_token()); });
  std::jthread pods_thread([&](std::stop_token) { pods.run(stop.get_token()); });
  std::jthread election_thread;
  if (leader_elect) {
    controller::LeaderElectionOptions election;
    election.namespace_name = namespace_name;
    char host[256] = {};
    gethostname(host, sizeof host - 1);
    election.identity = std::string(host) + "_" + std::to_string(getpid());
    election_thread = std::jthread([&, election](std::stop_token) {
      controller::LeaderElector elector(client, election);
      auto last_renewed = std::chrono::steady_clock::now();
      while (!stop.stop_requested()) {
        auto acquired = elector.try_acquire_or_renew();
        const auto now = std::chrono::steady_clock::now();
        if (acquired.ok() && *acquired) {
          last_renewed = now;
          if (!leading.exchange(true)) std::cerr << "dledger-operator: acquired the lease\n";
        } else if (leading &&
                   now - last_renewed > std::chrono::seconds(election.lease_duration_seconds)) {
          // Could not renew within the lease: another replica may lead now. Exit so Kubernetes
          // restarts us cleanly (no reconcile may run without the lease).
          std::cerr << "dledger-operator: lost the lease, exiting\n";
          std::_Exit(1);
        }
        for (int i = 0; i < 20 && !stop.stop_requested(); ++i) {
          std::this_thread::sleep_for(std::chrono::milliseconds(100));
        }
      }
    });
  }

  std::jthread worker([&](std::stop_token) {
    while (auto key = queue.get()) {
      metrics.set_queue_depth(queue.depth());
      if (!leading) {
        queue.done(*key);
        queue.add_after(*key, std::chrono::seconds(2));
        continue;
      }
      const auto started = std::chrono::steady_clock::now();
      auto result = reconciler.reconcile(*key);
      const double seconds =
          std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
      if (result.ok()) {
        metrics.record_success(*key, *result, seconds);
        queue.forget(*key);
        queue.done(*key);
        if (result->requeue_after.count() > 0) queue.add_after(*key, result->requeue_after);
      } else {
        metrics.record_failure(*key, reconciler.last_error_reason(), seconds);
        std::cerr << "dledger-operator: reconcile " << *key << " ("
                  << reconciler.last_error_reason() << "): " << result.error().to_string() << "\n";
        queue.done(*key);
        queue.add_rate_limited(*key);
      }
    }
  });

  std::cerr << "dledger-operator: watching namespace " << namespace_name << " on " << config->server
            << ", metrics on :" << metrics_port << "\n";
  int received = 0;
  sigwait(&signals, &received);
  std::cerr << "dledger-operator: signal " << received << ", stopping\n";
  stop.request_stop();
  queue.shut_down();
  return 0;
}
