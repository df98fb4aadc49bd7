// Reconciler: level-triggered reconcile of one DLedgerGroup key ("namespace/name").
//
// One pass:
//   1. GET the group (gone -> nothing to do: owned objects are garbage-collected).
//   2. Decode + validate (api::admit_dledger_group). Invalid -> status condition Ready=False
//      reason InvalidSpec (message = every field error) and a Warning Event; nothing else is
//      touched.
//   3. Observe: the StatefulSet, each pod's /status through MemberAdmin at the address the
//      injected resolver gives (production: <pod>.<headless>.<ns>.svc:<adminPort>), the
//      membership as the leader reports it, data-volume PVCs.
//   4. plan_next_step (scale_plan.h) -> at most ONE membership/scaling step.
//   5. Render (operator/render) with the membership size the step implies and the recorded
//      bootstrap size (annotation dledger.io/bootstrap-replicas, written before anything is
//      created), then create-or-update every owned object: update only when the live object
//      lacks something desired (fields the server defaults are kept), with its resourceVersion,
//      retrying on 409.
//   5b. Membership steady: plan_rollout_step (rollout_plan.h) on the StatefulSet as applied and
//      the pods' controller-revision-hash labels -> at most ONE pod restart or leader transfer.
//   6. Perform the step: admin calls (add learner, promote, transfer, remove; bearer token from
//      spec.adminTokenSecretRef), pod or PVC deletion; Events for decisions, and
//      a LeaderChanged Event when the leader differs from the one status recorded.
//   7. Write status (update_status, retried on 409): replicas, readyReplicas, selector, leader,
//      term, members[], conditions Ready/Available/Progressing/Degraded, observedGeneration.
// The result says when to look again (sooner while a step is in progress).
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>

#include "broker/admin/admin_backend.h"
#include "broker/base/result.h"
#include "operator/api/dledgergroup_types.h"
#include "operator/controller/event_recorder.h"
#include "operator/controller/rollout_plan.h"
#include "operator/controller/scale_plan.h"
#include "operator/kube/kube_client.h"

namespace dledger::op::controller {

inline constexpr const char* kBootstrapReplicasAnnotation = "dledger.io/bootstrap-replicas";
inline constexpr const char* kInvalidSpecReason = "InvalidSpec";
// Pod label the StatefulSet controller sets to the revision the pod was created from.
inline constexpr const char* kControllerRevisionHashLabel = "controller-revision-hash";

// Reconciler::last_error_reason() values (label `reason` of
// dledger_operator_reconcile_errors_total; kInvalidSpecReason is counted there too).
inline constexpr const char* kReasonKubeApiError = "KubeApiError";  // reading the cluster failed
inline constexpr const char* kReasonApplyFailed = "ApplyFailed";    // creating/updating objects
inline constexpr const char* kReasonRenderFailed = "RenderFailed";
inline constexpr const char* kReasonStatusUpdateFailed = "StatusUpdateFailed";
inline constexpr const char* kReasonAdminUnreachable = "AdminUnreachable";      // timeout, refused
inline constexpr const char* kReasonAdminRequestFailed = "AdminRequestFailed";  // replica said no
inline constexpr const char* kReasonAdminTokenUnavailable = "AdminTokenUnavailable";
inline constexpr const char* kReasonDeleteFailed = "DeleteFailed";  // pod or volume
// Event reason when the observed leader differs from status.leader (or was elected again in a
// later term).
inline constexpr const char* kLeaderChangedReason = "LeaderChanged";

// The replica admin operations the reconciler needs (broker/admin/admin_client.h in
// production; a fake in tests).
class MemberAdmin {
 public:
  virtual ~MemberAdmin() = default;
  virtual Result<admin::ReplicaStatus> status(const std::string& admin_address) = 0;
  virtual Result<admin::ChangeResult> add_learner(const std::string& admin_address,
                                                  const std::string& id,
                                                  const std::string& peer_address) = 0;
  virtual Result<admin::ChangeResult> promote(const std::string& admin_address,
                                              const std::string& id) = 0;
  virtual Result<admin::ChangeResult> remove_member(const std::string& admin_address,
                                                    const std::string& id) = 0;
  virtual Result<admin::TransferResult> transfer_leadership(const std::string& admin_address,
                                                            const std::string& target) = 0;
  // Bearer token for the mutating calls that follow ("" = none). The reconciler sets it from
  // spec.adminTokenSecretRef before every mutating call.
  virtual void use_admin_token(const std::string& token) { (void)token; }
};

// MemberAdmin over admin::AdminClient (the token comes from spec.adminTokenSecretRef, read by
// the caller).
std::unique_ptr<MemberAdmin> make_admin_client_member_admin(std::chrono::milliseconds timeout,
                                                            const std::string& token);

// Admin "host:port" of member `ordinal`.
using AdminAddressResolver = std::function<std::string(const api::DLedgerGroup&, int ordinal)>;
// <pod>.<headless>.<ns>.svc[.<domain>]:<adminPort>
AdminAddressResolver dns_admin_address_resolver(const std::string& cluster_domain = "");

struct ReconcilerOptions {
  std::string cluster_domain;
  std::uint64_t catch_up_lag = 100;
  std::chrono::milliseconds requeue_while_progressing{2000};
  std::chrono::milliseconds resync{std::chrono::minutes(1)};
  std::function<std::string()> now_rfc3339;  // empty: the system clock
  EventRecorderOptions events;               // deduplication window, clock
};

struct ReconcileResult {
  std::chrono::milliseconds requeue_after{0};  // 0: only on the next change/resync
  Step step;                                   // what was planned (and performed)
  api::DLedgerGroupStatus status;              // what was written
  // For metrics: per member observations (ordinal -> status) of this pass.
  std::vector<std::pair<int, admin::ReplicaStatus>> observed_members;
  bool group_found = false;  // false: the group does not exist (any more)
  int desired_replicas = 0;  // spec.replicas
  bool performed = false;    // `step` acted on the cluster or a replica (and succeeded)
};

class Reconciler {
 public:
  Reconciler(kube::KubeClient& client, MemberAdmin& admin, AdminAddressResolver resolver,
             ReconcilerOptions options = {});

  // key = "namespace/name". Errors are transient (the caller requeues with backoff).
  Result<ReconcileResult> reconcile(const std::string& key);
  // CamelCase reason of the last failed reconcile (kReason* above); "" after a success.
  const std::string& last_error_reason() const { return last_error_reason_; }

 private:
  // Creates or updates `desired`; returns the object as stored.
  Result<nlohmann::json> apply_object(const kube::ResourceType& type, const std::string& ns,
                                      const nlohmann::json& desired);
  void emit_event(const nlohmann::json& group, const std::string& type, const std::string& reason,
                  const std::string& message);
  Status write_status(const std::string& ns, const std::string& name,
                      const api::DLedgerGroupStatus& status);
  std::string now() const;
  Result<ObservedRollout> observe_rollout(const api::DLedgerGroup& group,
                                          const nlohmann::json& live_sts);

  kube::KubeClient& client_;
  MemberAdmin& admin_;
  AdminAddressResolver resolver_;
  ReconcilerOptions options_;
  EventRecorder events_;
  std::string last_error_reason_;
};

// True when every field of `desired` is present in `live` with the same value (objects
// recursively; arrays element-wise with equal length). Fields only in `live` (server defaults,
// clusterIP, status) do not count as differences.
bool json_contains(const nlohmann::json& live, const nlohmann::json& desired);
// `live` with `desired` merged in (objects recursively, everything else replaced).
nlohmann::json json_overlay(nlohmann::json live, const nlohmann::json& desired);

}  // namespace dledger::op::controller
