// PodRunner: the kubelet and StatefulSet controller of the drills. It turns every StatefulSet in
// one namespace of the test API server into real `dledger-broker` processes on this machine:
//
//   StatefulSet <sts> (spec.replicas = R)            this machine
//   ---------------------------------------          -----------------------------------------
//   pod <sts>-i, i < R        -> Pod object      ->  dledger-broker -c
//   <work>/pods/<sts>-i/broker.conf
//                                (status.podIP,         -p storePathRootDir=<volume dir>/...
//                                 phase, Ready)         -p adminHost=127.0.0.N -p
//                                 brokerIP1=127.0.0.N
//                                                       -p listenPort=<30000 + N>
//   volumeClaimTemplates <c>  -> PVC <c>-<sts>-i ->  <work>/volumes/<c>-<sts>-i (kept across pod
//                                                    restarts; emptied when the PVC is new)
//   serviceName <hl>          -> /etc/hosts line  "127.0.0.N <sts>-i.<hl>.<ns>.svc
//   <...>.svc.<domain>"
//
// One pass (sync_once), repeated every poll_interval by start():
//   - a Pod whose object is gone (kubectl delete pod) or whose ordinal is >= replicas (scale
//     down) or whose StatefulSet is gone: its process gets SIGTERM (SIGKILL after 10 s);
//     objects of scaled-away ordinals are deleted;
//   - the StatefulSet's revision is "<sts>-<FNV-1a 32 of spec.template's JSON, hex>" (a changed
//     template, e.g. a new dledger.io/config-hash annotation, gives a new revision);
//   - a missing Pod below replicas: its PVCs are created when missing, its broker.conf is read from
//     the ConfigMap the pod template mounts as volume "config" (key broker-<i>.conf, the file the
//     rendered entrypoint picks; re-read on every start, so a recreated pod runs the config of the
//     current template), the Pod object is created from the CURRENT template (updateStrategy
//     OnDelete: a deleted pod comes back on the update revision) with label
//     controller-revision-hash = that revision, owned by the StatefulSet (so garbage collection
//     removes it with the group), and the process started;
//   - a process that exited on its own is restarted (restartPolicy Always), counted in
//     status.containerStatuses[0].restartCount;
//   - status (phase, podIP, Ready and ContainersReady from GET /readyz on the admin port) is
//     written when it changed; the StatefulSet's status likewise: replicas, readyReplicas,
//     updateRevision (the current template's), currentRevision (the previous one until every pod
//     runs the update revision), updatedReplicas/currentReplicas (pods labelled with each) and
//     observedGeneration = metadata.generation of the StatefulSet the pass read.
//
// Every deletion of a running pod's object (kubectl delete pod, an operator restart) is recorded
// with what the pod's admin /status said just before its process was stopped (deletions()):
// drills check the order of a rolling update and that no pod was leading when it was deleted.
//
// Deviations from a real cluster, on purpose: the pod template's command (a /bin/sh wrapper) and
// securityContext are not used: the runner execs the broker itself with the overrides above.
// listenPort is moved because the broker binds remoting on 0.0.0.0 (all pods share one network
// namespace); clients find the real port through the name server (brokerIP1:listenPort).
// preStop hooks are not run. PVCs of scaled-away ordinals are left to the operator.
// Pod IPs are stable per pod name for the runner's life (a real cluster may change them).
//
// The caller must run inside enter_private_namespaces() (private_namespace.h) when hosts_file is
// "/etc/hosts". Thread-safety: the accessors may be called from any thread while start() runs.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "broker/base/result.h"
#include "operator/kube/kube_client.h"
#include "tests/operator/e2e/child_process.h"

namespace dledger::e2e {

struct PodRunnerOptions {
  std::string namespace_name = "default";
  std::string broker_binary;  // path of dledger-broker
  std::string work_dir;       // pods/<pod>/{broker.conf,broker.log}, volumes/<pvc>/
  std::string hosts_file;     // rewritten with the pod names (the bind-mounted /etc/hosts)
  std::string cluster_domain = "cluster.local";
  std::chrono::milliseconds poll_interval{200};
  int first_address = 10;  // pods get 127.0.0.<first_address>, 127.0.0.<first_address+1>, ...
  std::uint16_t remoting_port_base = 30000;  // listenPort = base + last address byte
};

// A running pod whose Pod object was deleted (or replaced under a new uid) while its ordinal
// stayed wanted, in the order the runner saw them. Scale-down stops are not recorded.
struct PodDeletion {
  std::string pod;
  std::string revision;   // controller-revision-hash of the deleted Pod object
  std::string self_id;    // from the pod's admin /status just before SIGTERM ("" if no answer)
  std::string role;       // leader | follower | candidate | learner, "" if no answer
  std::string leader_id;  // the leader the pod knew, "" if none or no answer
};

struct PodEndpoint {
  std::string ip;        // 127.0.0.N
  std::string remoting;  // ip:listenPort (as moved by the runner)
  std::string admin;     // ip:adminPort
};

class PodRunner {
 public:
  PodRunner(op::kube::KubeClient& client, PodRunnerOptions options);
  ~PodRunner();  // stop(), then SIGKILL every process
  PodRunner(const PodRunner&) = delete;
  PodRunner& operator=(const PodRunner&) = delete;

  // Runs sync_once every poll_interval on a background thread until stop(). Errors of a pass are
  // written to stderr and retried on the next pass.
  void start();
  void stop();
  // One pass (see above). Errors: API server failures (the pass stops there).
  Status sync_once();

  // Where pod `name` runs, once it has been started.
  std::optional<PodEndpoint> endpoint(const std::string& pod_name) const;
  // Pods with a running process, sorted.
  std::vector<std::string> running_pods() const;
  // Times pod `name` was started (first start included), across Pod object re-creations.
  int starts(const std::string& pod_name) const;
  // The pod's broker log (for failure messages).
  std::string log_path(const std::string& pod_name) const;
  // The broker.conf the pod's process was last started with.
  std::string config_path(const std::string& pod_name) const;
  // Deletions of running pods' objects so far, oldest first (see PodDeletion).
  std::vector<PodDeletion> deletions() const;

 private:
  struct StatefulSetView;
  struct Pod {
    std::string stateful_set;
    int ordinal = 0;
    std::string uid;       // of the Pod object the process belongs to
    std::string revision;  // its controller-revision-hash label
    ChildProcess process;
    int restarts = 0;
    bool ready = false;  // as last written to status
    nlohmann::json written_status;
  };

  Status sync_stateful_set(const StatefulSetView& sts,
                           const std::map<std::string, nlohmann::json>& pods,
                           const std::map<std::string, nlohmann::json>& pvcs);
  Status start_pod(const StatefulSetView& sts, int ordinal, const std::string& uid,
                   const std::string& revision);
  void stop_pod(const std::string& name);
  void record_deletion(const std::string& name);  // asks the pod's /status, before stop_pod
  Status write_pod_status(const std::string& name, const nlohmann::json& live);
  std::string address_of(const std::string& pod_name);     // allocates on first use
  std::string admin_address(const std::string& pod_name);  // "127.0.0.N:adminPort"; mutex_ held
  Status write_hosts();

  op::kube::KubeClient& client_;
  PodRunnerOptions options_;
  mutable std::mutex mutex_;  // guards the maps below
  std::map<std::string, Pod> pods_;
  std::map<std::string, int> address_byte_;       // pod name -> N of 127.0.0.N
  std::map<std::string, std::string> dns_names_;  // pod name -> "a.b.ns.svc a.b.ns.svc.domain"
  std::map<std::string, int> starts_;
  std::vector<PodDeletion> deletions_;
  std::map<std::string, std::string>
      current_revisions_;  // StatefulSet uid -> status.currentRevision
  std::map<std::string, std::uint16_t> admin_ports_;
  std::string hosts_written_;
  int next_address_byte_;
  std::jthread thread_;
};

}  // namespace dledger::e2e
