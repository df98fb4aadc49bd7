#include "operator/controller/operator_metrics.h"

#include "operator/api/dledgergroup_types.h"

namespace dledger::op::controller {
namespace {

constexpr const char* kRoles[] = {"leader", "follower", "candidate", "learner"};
constexpr const char* kStates[] = {"desired", "current", "ready", "learners"};

std::map<std::string, std::string> group_labels(const std::string& key) {
  const auto slash = key.find('/');
  if (slash == std::string::npos) return {{"namespace", "default"}, {"dledgergroup", key}};
  return {{"namespace", key.substr(0, slash)}, {"dledgergroup", key.substr(slash + 1)}};
}

template <typename T>
std::map<std::string, std::string> with(std::map<std::string, std::string> labels,
                                        const std::string& name, const T& value) {
  labels[name] = value;
  return labels;
}

void remove_gauge(prometheus::Family<prometheus::Gauge>& family,
                  const std::map<std::string, std::string>& labels) {
  if (family.Has(labels)) family.Remove(&family.Add(labels));
}

}  // namespace

OperatorMetrics::OperatorMetrics(prometheus::Registry& registry)
    : reconcile_total_(prometheus::BuildCounter()
                           .Name("dledger_operator_reconcile_total")
                           .Help("Reconciles finished, by result (success, error, requeue)")
                           .Register(registry)),
      reconcile_errors_(prometheus::BuildCounter()
                            .Name("dledger_operator_reconcile_errors_total")
                            .Help("Failed reconciles, by reason")
                            .Register(registry)),
      reconcile_duration_(prometheus::BuildHistogram()
                              .Name("dledger_operator_reconcile_duration_seconds")
                              .Help("Time of one reconcile")
                              .Register(registry)),
      queue_depth_(prometheus::BuildGauge()
                       .Name("dledger_operator_queue_depth")
                       .Help("Groups waiting in the work queue")
                       .Register(registry)
                       .Add({})),
      group_ready_(prometheus::BuildGauge()
                       .Name("dledger_group_ready")
                       .Help("1 when the group's Ready condition is True, else 0")
                       .Register(registry)),
      group_members_(prometheus::BuildGauge()
                         .Name("dledger_group_members")
                         .Help("Members by state: desired (spec.replicas), current (committed "
                               "configuration), ready, learners")
                         .Register(registry)),
      membership_changes_(prometheus::BuildCounter()
                              .Name("dledger_group_membership_changes_total")
                              .Help("Membership changes the operator made (add, promote, remove)")
                              .Register(registry)),
      pod_restarts_(prometheus::BuildCounter()
                        .Name("dledger_group_pod_restarts_total")
                        .Help("Pods the operator deleted to roll a change, by reason")
                        .Register(registry)),
      member_role_(prometheus::BuildGauge()
                       .Name("dledger_group_member_role")
                       .Help("1 for the role the member reports, 0 for the others")
                       .Register(registry)),
      member_term_(prometheus::BuildGauge()
                       .Name("dledger_group_member_term")
                       .Help("Raft term the member reports")
                       .Register(registry)),
      member_commit_index_(prometheus::BuildGauge()
                               .Name("dledger_group_member_commit_index")
                               .Help("Commit index the member reports")
                               .Register(registry)) {}

void OperatorMetrics::set_queue_depth(std::size_t depth) {
  queue_depth_.Set(static_cast<double>(depth));
}

void OperatorMetrics::record_pass(const Labels& group, const std::string& outcome, double seconds) {
  reconcile_total_.Add(with(group, "result", outcome)).Increment();
  // 1 ms .. 60 s
  static const prometheus::Histogram::BucketBoundaries kBuckets = {
      0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60};
  reconcile_duration_.Add(group, kBuckets).Observe(seconds);
}

void OperatorMetrics::record_failure(const std::string& key, const std::string& reason,
                                     double seconds) {
  std::lock_guard lock(mutex_);
  const Labels group = group_labels(key);
  record_pass(group, "error", seconds);
  reconcile_errors_.Add(with(group, "reason", reason.empty() ? std::string("Unknown") : reason))
      .Increment();
}

void OperatorMetrics::forget_member(const Labels& group, const std::string& member) {
  const Labels labels = with(group, "member", member);
  remove_gauge(member_term_, labels);
  remove_gauge(member_commit_index_, labels);
  for (const char* role : kRoles) remove_gauge(member_role_, with(labels, "role", role));
}

void OperatorMetrics::forget_group(const std::string& key, const Labels& group) {
  remove_gauge(group_ready_, group);
  for (const char* state : kStates) remove_gauge(group_members_, with(group, "state", state));
  for (const auto& member : members_by_group_[key]) forget_member(group, member);
  members_by_group_.erase(key);
}

void OperatorMetrics::set_members(const std::string& key, const Labels& group,
                                  const ReconcileResult& result) {
  std::set<std::string> seen;
  for (const auto& [ordinal, status] : result.observed_members) {
    const std::string member =
        status.self_id.empty() ? "n" + std::to_string(ordinal) : status.self_id;
    seen.insert(member);
    const Labels labels = with(group, "member", member);
    member_term_.Add(labels).Set(static_cast<double>(status.term));
    member_commit_index_.Add(labels).Set(static_cast<double>(status.commit_index));
    for (const char* role : kRoles) {
      member_role_.Add(with(labels, "role", role)).Set(status.role == role ? 1 : 0);
    }
  }
  for (const auto& gone : members_by_group_[key]) {
    if (seen.count(gone) == 0) forget_member(group, gone);
  }
  members_by_group_[key] = std::move(seen);
}

void OperatorMetrics::record_success(const std::string& key, const ReconcileResult& result,
                                     double seconds) {
  std::lock_guard lock(mutex_);
  const Labels group = group_labels(key);
  if (!result.group_found) {
    record_pass(group, "success", seconds);
    forget_group(key, group);
    return;
  }
  const bool invalid =
      result.step.kind == StepKind::kRefuse && result.step.reason == kInvalidSpecReason;
  if (invalid) {
    record_pass(group, "error", seconds);
    reconcile_errors_.Add(with(group, "reason", kInvalidSpecReason)).Increment();
  } else {
    record_pass(group, result.step.kind == StepKind::kSteady ? "success" : "requeue", seconds);
  }

  const auto* ready = api::find_condition(result.status.conditions, api::condition::kReady);
  group_ready_.Add(group).Set(ready != nullptr && ready->status == "True" ? 1 : 0);
  int learners = 0;
  for (const auto& member : result.status.members) learners += member.voter ? 0 : 1;
  group_members_.Add(with(group, "state", "desired")).Set(result.desired_replicas);
  group_members_.Add(with(group, "state", "current"))
      .Set(static_cast<double>(result.status.replicas));
  group_members_.Add(with(group, "state", "ready"))
      .Set(static_cast<double>(result.status.ready_replicas));
  group_members_.Add(with(group, "state", "learners")).Set(learners);
  set_members(key, group, result);
  // Every counter series of the group exists from its first reconcile, at 0: rate() and
  // increase() over a counter that appears only at its first event miss that event.
  for (const char* operation : {"add", "promote", "remove"})
    membership_changes_.Add(with(group, "operation", operation));
  for (const char* reason : {"ConfigChanged", "ImageChanged"})
    pod_restarts_.Add(with(group, "reason", reason));

  if (result.performed) {
    switch (result.step.kind) {
      case StepKind::kAddLearner:
        membership_changes_.Add(with(group, "operation", "add")).Increment();
        break;
      case StepKind::kPromote:
        membership_changes_.Add(with(group, "operation", "promote")).Increment();
        break;
      case StepKind::kRemoveMember:
        membership_changes_.Add(with(group, "operation", "remove")).Increment();
        break;
      case StepKind::kRestartPod:
        pod_restarts_.Add(with(group, "reason", result.step.cause)).Increment();
        break;
      default:
        break;
    }
  }
}

}  // namespace dledger::op::controller
