#include "operator/controller/reconciler.h"

#include <algorithm>

#include "broker/admin/admin_client.h"
#include "operator/api/json_codec.h"
#include "operator/api/validation.h"
#include "operator/controller/rollout_plan.h"
#include "operator/controller/secret_value.h"
#include "operator/render/names.h"
#include "operator/render/render.h"

namespace dledger::op::controller {
namespace {

using nlohmann::json;
namespace reason = api::reason;
namespace condition = api::condition;

class AdminClientMemberAdmin final : public MemberAdmin {
 public:
  AdminClientMemberAdmin(std::chrono::milliseconds timeout, const std::string& token)
      : client_(admin::AdminClientOptions{timeout, token, true}) {}
  void use_admin_token(const std::string& token) override {
    if (token == client_.options().token) return;
    admin::AdminClientOptions options = client_.options();
    options.token = token;
    client_ = admin::AdminClient(options);
  }
  Result<admin::ReplicaStatus> status(const std::string& address) override {
    return client_.status(address);
  }
  Result<admin::ChangeResult> add_learner(const std::string& address, const std::string& id,
                                          const std::string& peer) override {
    return client_.add_learner(address, id, peer);
  }
  Result<admin::ChangeResult> promote(const std::string& address, const std::string& id) override {
    return client_.promote(address, id);
  }
  Result<admin::ChangeResult> remove_member(const std::string& address,
                                            const std::string& id) override {
    return client_.remove_member(address, id);
  }
  Result<admin::TransferResult> transfer_leadership(const std::string& address,
                                                    const std::string& target) override {
    return client_.transfer_leadership(address, target);
  }

 private:
  admin::AdminClient client_;
};

std::pair<std::string, std::string> split_key(const std::string& key) {
  const auto slash = key.find('/');
  if (slash == std::string::npos) return {"default", key};
  return {key.substr(0, slash), key.substr(slash + 1)};
}

int parse_int(const std::string& text, int fallback) {
  try {
    size_t used = 0;
    const int value = std::stoi(text, &used);
    return used == text.size() ? value : fallback;
  } catch (const std::exception&) {
    return fallback;
  }
}

api::Condition make_condition(std::string_view type, bool status, std::string_view why,
                              const std::string& message, std::int64_t generation) {
  api::Condition c;
  c.type = std::string(type);
  c.status = status ? "True" : "False";
  c.reason = std::string(why);
  c.message = message;
  c.observed_generation = generation;
  return c;
}

}  // namespace

std::unique_ptr<MemberAdmin> make_admin_client_member_admin(std::chrono::milliseconds timeout,
                                                            const std::string& token) {
  return std::make_unique<AdminClientMemberAdmin>(timeout, token);
}

AdminAddressResolver dns_admin_address_resolver(const std::string& cluster_domain) {
  return [cluster_domain](const api::DLedgerGroup& group, int ordinal) {
    return render::pod_dns_name(group, ordinal, cluster_domain) + ":" +
           std::to_string(group.spec.ports.admin);
  };
}

bool json_contains(const json& live, const json& desired) {
  if (desired.is_object()) {
    if (!live.is_object()) return false;
    for (const auto& [key, value] : desired.items()) {
      if (!live.contains(key) || !json_contains(live[key], value)) return false;
    }
    return true;
  }
  if (desired.is_array()) {
    if (!live.is_array() || live.size() != desired.size()) return false;
    for (size_t i = 0; i < desired.size(); ++i) {
      if (!json_contains(live[i], desired[i])) return false;
    }
    return true;
  }
  if (desired.is_number() && live.is_number()) return desired == live;  // 1 vs 1.0
  return live == desired;
}

json json_overlay(json live, const json& desired) {
  if (!desired.is_object() || !live.is_object()) return desired;
  for (const auto& [key, value] : desired.items()) {
    live[key] = live.contains(key) ? json_overlay(live[key], value) : value;
  }
  return live;
}

Reconciler::Reconciler(kube::KubeClient& client, MemberAdmin& admin, AdminAddressResolver resolver,
                       ReconcilerOptions options)
    : client_(client),
      admin_(admin),
      resolver_(std::move(resolver)),
      options_(std::move(options)),
      events_(client, options_.events) {}

std::string Reconciler::now() const {
  return options_.now_rfc3339 ? options_.now_rfc3339()
                              : format_rfc3339(std::chrono::system_clock::now());
}

Result<json> Reconciler::apply_object(const kube::ResourceType& type, const std::string& ns,
                                      const json& desired) {
  const std::string name = desired["metadata"]["name"].get<std::string>();
  auto applied = kube::retry_on_conflict<json>([&]() -> Result<json> {
    auto live = client_.get(type, ns, name);
    if (!live.ok()) {
      if (!kube::is_not_found(live.error())) return live.error();
      return client_.create(type, ns, desired);  // AlreadyExists is a conflict: retried
    }
    if (json_contains(*live, desired)) return *live;
    json updated = json_overlay(*live, desired);
    updated["metadata"]["resourceVersion"] = (*live)["metadata"]["resourceVersion"];
    return client_.update(type, ns, updated);
  });
  if (!applied.ok()) return applied.error();
  return *applied;
}

void Reconciler::emit_event(const json& group, const std::string& type, const std::string& why,
                            const std::string& message) {
  events_.record(group, type, why, message);
}

Status Reconciler::write_status(const std::string& ns, const std::string& name,
                                const api::DLedgerGroupStatus& status) {
  auto written = kube::retry_on_conflict<json>([&]() -> Result<json> {
    auto live = client_.get(kube::resources::kDLedgerGroups, ns, name);
    if (!live.ok()) return live.error();
    json object = *live;
    object["status"] = api::encode_status(status);
    if (object["status"] == (*live).value("status", json::object())) return object;
    return client_.update_status(kube::resources::kDLedgerGroups, ns, object);
  });
  if (!written.ok()) return written.error();
  return Status();
}

Result<ObservedRollout> Reconciler::observe_rollout(const api::DLedgerGroup& group,
                                                    const json& live_sts) {
  ObservedRollout rollout;
  rollout.desired_image = group.spec.image;
  const json status = live_sts.value("status", json::object());
  const std::string update_revision = status.value("updateRevision", "");
  if (update_revision.empty()) return rollout;  // no StatefulSet controller reports revisions
  rollout.update_revision = update_revision;
  // live_sts is the StatefulSet as this pass left it: a template it just changed raised the
  // generation, and updateRevision is the previous template's until the controller catches up.
  const auto generation = live_sts["metadata"].value("generation", std::int64_t{0});
  rollout.revision_stale = status.value("observedGeneration", std::int64_t{0}) < generation;

  const std::string ns = group.metadata.namespace_name;
  auto pods =
      client_.list(kube::resources::kPods, ns, {.label_selector = render::selector_string(group)});
  if (!pods.ok()) return pods.error();
  const std::string prefix = render::statefulset_name(group) + "-";
  for (const auto& pod : pods->items) {
    const json meta = pod.value("metadata", json::object());
    const std::string pod_name = meta.value("name", "");
    if (pod_name.rfind(prefix, 0) != 0) continue;
    ObservedPod observed;
    observed.ordinal = parse_int(pod_name.substr(prefix.size()), -1);
    if (observed.ordinal < 0) continue;
    observed.revision =
        meta.value("labels", json::object()).value(kControllerRevisionHashLabel, "");
    observed.terminating = meta.contains("deletionTimestamp");
    for (const auto& c : pod.value("spec", json::object()).value("containers", json::array())) {
      if (c.value("name", "") == render::kContainerName) observed.image = c.value("image", "");
    }
    for (const auto& c : pod.value("status", json::object()).value("conditions", json::array())) {
      if (c.value("type", "") == "Ready") observed.ready = c.value("status", "") == "True";
    }
    rollout.pods.push_back(std::move(observed));
  }
  return rollout;
}

Result<ReconcileResult> Reconciler::reconcile(const std::string& key) {
  last_error_reason_.clear();
  auto fail = [this](const char* reason, Error error) -> Error {
    last_error_reason_ = reason;
    return error;
  };
  const auto [ns, name] = split_key(key);
  ReconcileResult result;
  auto live = client_.get(kube::resources::kDLedgerGroups, ns, name);
  if (!live.ok()) {
    if (kube::is_not_found(live.error())) return result;
    return fail(kReasonKubeApiError, live.error());
  }
  result.group_found = true;
  json group_json = *live;
  const std::int64_t generation = group_json["metadata"].value("generation", std::int64_t{0});

  // ---- validate ------------------------------------------------------------------------------
  api::Admission admission = api::admit_dledger_group(group_json);
  if (!admission.ok()) {
    api::FieldErrorList errors = admission.errors;
    api::DecodedGroup previous = api::decode_dledger_group(group_json);
    api::DLedgerGroupStatus status = previous.group.status;
    const std::string message = api::to_string(errors);
    const api::Condition* before = api::find_condition(status.conditions, condition::kReady);
    const bool changed =
        before == nullptr || before->reason != kInvalidSpecReason || before->message != message;
    api::set_condition(
        status.conditions,
        make_condition(condition::kReady, false, kInvalidSpecReason, message, generation), now());
    status.observed_generation = generation;
    if (Status written = write_status(ns, name, status); !written.ok()) {
      return fail(kReasonStatusUpdateFailed, written.error());
    }
    if (changed) emit_event(group_json, "Warning", kInvalidSpecReason, message);
    result.status = status;
    result.step = Step{StepKind::kRefuse, 0, -1, -1, kInvalidSpecReason, message};
    return result;
  }
  api::DLedgerGroup group = admission.group;
  if (group.metadata.namespace_name.empty()) group.metadata.namespace_name = ns;
  const int desired = static_cast<int>(group.spec.replicas);
  result.desired_replicas = desired;

  // ---- observe -------------------------------------------------------------------------------
  ObservedGroup observed;
  observed.desired_replicas = desired;
  observed.catch_up_lag = options_.catch_up_lag;
  observed.delete_volumes_when_scaled =
      group.spec.storage.retention_policy.when_scaled == api::RetentionAction::kDelete;
  if (group.spec.preferred_leader) {
    observed.preferred_leader = api::member_ordinal(*group.spec.preferred_leader);
  }
  auto sts = client_.get(kube::resources::kStatefulSets, ns, render::statefulset_name(group));
  if (sts.ok()) {
    observed.stateful_set_exists = true;
    observed.stateful_set_replicas = (*sts)["spec"].value("replicas", 1);
  } else if (!kube::is_not_found(sts.error())) {
    return fail(kReasonKubeApiError, sts.error());
  }
  const auto annotation = group.metadata.annotations.find(kBootstrapReplicasAnnotation);
  observed.bootstrap_replicas = annotation != group.metadata.annotations.end()
                                    ? parse_int(annotation->second, observed.stateful_set_replicas)
                                    : observed.stateful_set_replicas;

  std::optional<admin::ReplicaStatus> leader_status;
  for (int i = 0; i < observed.stateful_set_replicas; ++i) {
    auto status = admin_.status(resolver_(group, i));
    if (!status.ok()) continue;
    observed.reachable_pods.insert(i);
    if (status->role == admin::kRoleLeader &&
        (!leader_status || status->term > leader_status->term)) {
      leader_status = *status;
      observed.leader = i;
    }
    result.observed_members.emplace_back(i, std::move(*status));
  }
  if (leader_status) {
    observed.membership_change_pending = leader_status->membership_change_pending;
    observed.transfer_in_progress = leader_status->transfer_target.has_value();
    for (const auto& member : leader_status->members) {
      const int ordinal = api::member_ordinal(member.id);
      if (ordinal < 0) continue;
      const bool is_leader = member.id == leader_status->self_id;
      observed.members.push_back({ordinal, member.voter, member.reachable || is_leader,
                                  is_leader ? std::optional<std::uint64_t>(0) : member.lag});
    }
  }
  if (auto pvcs = client_.list(kube::resources::kPersistentVolumeClaims, ns,
                               {.label_selector = render::selector_string(group)});
      pvcs.ok()) {
    const std::string prefix = "data-" + render::statefulset_name(group) + "-";
    for (const auto& pvc : pvcs->items) {
      const std::string pvc_name = pvc["metadata"].value("name", "");
      if (pvc_name.rfind(prefix, 0) != 0) continue;
      const int ordinal = parse_int(pvc_name.substr(prefix.size()), -1);
      if (ordinal >= 0) observed.data_volume_ordinals.insert(ordinal);
    }
  }

  // ---- plan ----------------------------------------------------------------------------------
  // Membership first; pods are rolled only while the membership matches spec.replicas.
  // (The rolling-update step is planned after the owned objects are applied, below.)
  Step step = plan_next_step(observed);
  int membership = observed.stateful_set_replicas;
  int bootstrap = observed.bootstrap_replicas;
  auto record_bootstrap = [&](int value) -> Status {
    auto patched = client_.patch(
        kube::resources::kDLedgerGroups, ns, name,
        {{"metadata", {{"annotations", {{kBootstrapReplicasAnnotation, std::to_string(value)}}}}}});
    if (!patched.ok()) return patched.error();
    bootstrap = value;
    return Status();
  };
  if (step.kind == StepKind::kCreateGroup) {
    // Recorded before anything exists, so a crash never leaves members without it.
    if (Status recorded = record_bootstrap(step.replicas); !recorded.ok()) {
      return fail(kReasonApplyFailed, recorded.error());
    }
    membership = step.replicas;
  } else if (step.kind == StepKind::kScaleStatefulSet) {
    membership = step.replicas;
  } else if (step.kind == StepKind::kLowerBootstrap) {
    if (Status recorded = record_bootstrap(step.replicas); !recorded.ok()) {
      return fail(kReasonApplyFailed, recorded.error());
    }
  } else if (annotation == group.metadata.annotations.end() && observed.stateful_set_exists) {
    if (Status recorded = record_bootstrap(bootstrap); !recorded.ok()) {
      return fail(kReasonApplyFailed, recorded.error());
    }
  }

  // ---- apply owned objects -------------------------------------------------------------------
  std::optional<json> applied_sts;
  if (membership >= 1) {
    render::RenderOptions render_options;
    render_options.membership_replicas = std::min(membership, 9);
    render_options.bootstrap_replicas = std::min(bootstrap, render_options.membership_replicas);
    render_options.cluster_domain = options_.cluster_domain;
    auto desired_objects = render::render_group(group, render_options);
    if (!desired_objects.ok()) return fail(kReasonRenderFailed, desired_objects.error());
    const std::vector<std::pair<const kube::ResourceType*, const json*>> objects = {
        {&kube::resources::kConfigMaps, &desired_objects->config_map},
        {&kube::resources::kServices, &desired_objects->headless_service},
        {&kube::resources::kServices, &desired_objects->client_service},
        {&kube::resources::kStatefulSets, &desired_objects->stateful_set},
        {&kube::resources::kPodDisruptionBudgets, &desired_objects->pod_disruption_budget}};
    for (const auto& [type, object] : objects) {
      auto applied = apply_object(*type, ns, *object);
      if (!applied.ok()) return fail(kReasonApplyFailed, applied.error());
      if (object == &desired_objects->stateful_set) applied_sts = std::move(*applied);
    }
    if (desired_objects->service_monitor) {
      auto applied =
          apply_object(kube::resources::kServiceMonitors, ns, *desired_objects->service_monitor);
      if (!applied.ok()) return fail(kReasonApplyFailed, applied.error());
    }
  }

  // ---- rolling update ------------------------------------------------------------------------
  // Only while the membership is steady; judged on the StatefulSet as applied in this pass.
  if (step.kind == StepKind::kSteady && applied_sts) {
    auto rollout = observe_rollout(group, *applied_sts);
    if (!rollout.ok()) return fail(kReasonKubeApiError, rollout.error());
    step = plan_rollout_step(observed, *rollout);
  }
  result.step = step;

  // ---- perform the membership step -----------------------------------------------------------
  const std::string leader_address =
      observed.leader ? resolver_(group, *observed.leader) : std::string();
  Status performed;
  std::string failure_reason = kReasonAdminUnreachable;
  const bool admin_mutation =
      step.kind == StepKind::kAddLearner || step.kind == StepKind::kPromote ||
      step.kind == StepKind::kRemoveMember || step.kind == StepKind::kTransferLeadership;
  if (admin_mutation) {
    // Mutating admin requests carry spec.adminTokenSecretRef's token (read on every use, so a
    // rotated Secret is picked up without a restart).
    std::string token;
    if (group.spec.admin_token_secret_ref) {
      auto secret = read_secret_value(client_, ns, *group.spec.admin_token_secret_ref);
      if (secret.ok()) {
        token = std::move(*secret);
      } else {
        performed = secret.error();
        failure_reason = kReasonAdminTokenUnavailable;
      }
    }
    admin_.use_admin_token(token);
  }
  if (performed.ok()) {
    switch (step.kind) {
      case StepKind::kAddLearner: {
        const std::string peer =
            render::pod_dns_name(group, step.ordinal, options_.cluster_domain) + ":" +
            std::to_string(group.spec.ports.peer);
        auto added = admin_.add_learner(leader_address, render::member_id(step.ordinal), peer);
        if (!added.ok()) performed = added.error();
        break;
      }
      case StepKind::kPromote: {
        auto promoted = admin_.promote(leader_address, render::member_id(step.ordinal));
        if (!promoted.ok()) performed = promoted.error();
        break;
      }
      case StepKind::kRemoveMember: {
        auto removed = admin_.remove_member(leader_address, render::member_id(step.ordinal));
        if (!removed.ok()) performed = removed.error();
        break;
      }
      case StepKind::kTransferLeadership: {
        auto moved = admin_.transfer_leadership(leader_address, render::member_id(step.target));
        if (!moved.ok()) performed = moved.error();
        break;
      }
      case StepKind::kDeletePvc:
        failure_reason = kReasonDeleteFailed;
        performed = client_.delete_object(
            kube::resources::kPersistentVolumeClaims, ns,
            "data-" + render::statefulset_name(group) + "-" + std::to_string(step.ordinal));
        break;
      case StepKind::kRestartPod:
        failure_reason = kReasonDeleteFailed;
        performed = client_.delete_object(kube::resources::kPods, ns,
                                          render::pod_name(group, step.ordinal));
        break;
      default:
        break;
    }
  }
  if (step.kind != StepKind::kSteady && step.kind != StepKind::kWait) {
    if (performed.ok()) {
      emit_event(group_json, step.kind == StepKind::kRefuse ? "Warning" : "Normal",
                 step.kind == StepKind::kRefuse ? step.reason : to_string(step.kind), step.message);
    } else {
      emit_event(group_json, "Warning", std::string(to_string(step.kind)) + "Failed",
                 step.message + ": " + performed.error().message);
    }
  }

  // ---- leader change -------------------------------------------------------------------------
  // An Event whenever the leader differs from the one the status recorded (another pod, or the
  // same pod elected again in a later term). A gap without a leader clears status.leader, so the
  // next leader is reported against "none".
  if (leader_status) {
    const std::string leader_pod = render::pod_name(group, *observed.leader);
    const std::string previous_pod = group.status.leader ? group.status.leader->pod : "";
    const auto term = static_cast<std::int64_t>(leader_status->term);
    if (previous_pod != leader_pod || group.status.term < term) {
      emit_event(group_json, "Normal", kLeaderChangedReason,
                 leader_pod + " (" + leader_status->self_id + ") leads in term " +
                     std::to_string(term) + "; previously " +
                     (previous_pod.empty()
                          ? std::string("no leader")
                          : previous_pod + " in term " + std::to_string(group.status.term)));
    }
  }

  // ---- status --------------------------------------------------------------------------------
  api::DLedgerGroupStatus status = group.status;
  status.observed_generation = generation;
  status.selector = render::selector_string(group);
  status.replicas = leader_status ? static_cast<std::int64_t>(observed.members.size())
                                  : observed.stateful_set_replicas;
  status.members.clear();
  status.ready_replicas = 0;
  status.leader.reset();
  std::map<int, const admin::ReplicaStatus*> by_ordinal;
  for (const auto& [ordinal, member_status] : result.observed_members) {
    by_ordinal[ordinal] = &member_status;
  }
  int reachable_voters = 0;
  int voters = 0;
  for (const auto& member : observed.members) {
    api::MemberStatus out;
    out.name = render::pod_name(group, member.ordinal);
    out.id = render::member_id(member.ordinal);
    out.voter = member.voter;
    auto own = by_ordinal.find(member.ordinal);
    out.role = own != by_ordinal.end() ? own->second->role : "unknown";
    out.ready = own != by_ordinal.end() && !own->second->leader_id.empty();
    if (member.lag) out.lag = static_cast<std::int64_t>(*member.lag);
    if (out.ready) ++status.ready_replicas;
    if (member.voter) {
      ++voters;
      if (member.reachable) ++reachable_voters;
    }
    status.members.push_back(std::move(out));
  }
  if (leader_status) {
    status.leader =
        api::LeaderStatus{render::pod_name(group, *observed.leader), leader_status->self_id};
    status.term = static_cast<std::int64_t>(leader_status->term);
  }
  const bool available = leader_status.has_value() && reachable_voters >= voters / 2 + 1;
  const bool progressing = step.kind != StepKind::kSteady && step.kind != StepKind::kRefuse &&
                           !(step.kind == StepKind::kWait && step.reason == reason::kNoLeader);
  std::string degraded_reason;
  std::string degraded_message;
  if (!leader_status) {
    degraded_reason = reason::kNoLeader;
    degraded_message = "no member reports itself leader";
  } else if (step.kind == StepKind::kRefuse) {
    degraded_reason = reason::kQuorumAtRisk;
    degraded_message = step.message;
  } else if (reachable_voters < voters) {
    degraded_reason = reachable_voters <= voters / 2 + 1 && voters > 1
                          ? std::string(reason::kQuorumAtRisk)
                          : std::string(reason::kMemberUnreachable);
    degraded_message = std::to_string(voters - reachable_voters) + " of " + std::to_string(voters) +
                       " voters unreachable from the leader";
  }
  const std::string t = now();
  api::set_condition(status.conditions,
                     make_condition(condition::kAvailable, available,
                                    available ? "QuorumAvailable" : reason::kNoLeader,
                                    available ? "a leader and a quorum of voters are up"
                                              : "no leader with a reachable quorum",
                                    generation),
                     t);
  api::set_condition(
      status.conditions,
      make_condition(condition::kProgressing, progressing, progressing ? step.reason : "Stable",
                     progressing ? step.message : "membership matches spec.replicas", generation),
      t);
  api::set_condition(status.conditions,
                     make_condition(condition::kDegraded, !degraded_reason.empty(),
                                    degraded_reason.empty() ? "AsExpected" : degraded_reason,
                                    degraded_message, generation),
                     t);
  const bool ready = available && step.kind == StepKind::kSteady && degraded_reason.empty() &&
                     status.ready_replicas == desired;
  std::string ready_reason = "Ready";
  std::string ready_message = "all " + std::to_string(desired) + " members are ready";
  if (!ready) {
    if (!degraded_reason.empty()) {
      ready_reason = degraded_reason;
      ready_message = degraded_message;
    } else if (progressing || step.kind == StepKind::kRefuse) {
      ready_reason = step.reason;
      ready_message = step.message;
    } else {
      ready_reason = "MembersNotReady";
      ready_message = std::to_string(status.ready_replicas) + " of " + std::to_string(desired) +
                      " members are ready";
    }
  }
  api::set_condition(
      status.conditions,
      make_condition(condition::kReady, ready, ready_reason, ready_message, generation), t);
  if (Status written = write_status(ns, name, status); !written.ok()) {
    return fail(kReasonStatusUpdateFailed, written.error());
  }
  result.status = status;
  if (!performed.ok()) {
    if (admin_mutation && failure_reason == kReasonAdminUnreachable &&
        performed.error().code != ErrorCode::kUnavailable &&
        performed.error().code != ErrorCode::kTimeout) {
      failure_reason = kReasonAdminRequestFailed;
    }
    return fail(failure_reason.c_str(), performed.error());
  }
  result.performed = step.kind != StepKind::kSteady && step.kind != StepKind::kWait &&
                     step.kind != StepKind::kRefuse;
  result.requeue_after =
      step.kind == StepKind::kSteady ? options_.resync : options_.requeue_while_progressing;
  return result;
}

}  // namespace dledger::op::controller
