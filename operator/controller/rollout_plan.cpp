#include "operator/controller/rollout_plan.h"

#include <algorithm>
#include <map>

#include "operator/api/dledgergroup_types.h"
#include "operator/render/names.h"

namespace dledger::op::controller {
namespace {

using render::member_id;

Step rolling(StepKind kind, std::string message, int ordinal = -1) {
  Step step;
  step.kind = kind;
  step.reason = std::string(api::reason::kRollingUpdate);
  step.message = std::move(message);
  step.ordinal = ordinal;
  return step;
}

Step restart(const ObservedPod& pod, const ObservedRollout& rollout, const std::string& why) {
  Step step =
      rolling(StepKind::kRestartPod,
              "restarting pod " + std::to_string(pod.ordinal) + " (member " +
                  member_id(pod.ordinal) + ") on revision " + *rollout.update_revision + why,
              pod.ordinal);
  step.cause = pod.image != rollout.desired_image ? kCauseImageChanged : kCauseConfigChanged;
  return step;
}

// Empty when the group is healthy enough to lose one more member for a restart; otherwise
// what it waits for.
std::string unhealthy_because(const ObservedGroup& group,
                              const std::map<int, const ObservedPod*>& pods) {
  if (!group.leader) return "no leader is known";
  if (group.transfer_in_progress) return "a leadership transfer is in progress";
  if (group.membership_change_pending) return "a membership change has not committed yet";
  for (const auto& member : group.members) {
    const std::string id = member_id(member.ordinal);
    auto pod = pods.find(member.ordinal);
    if (pod == pods.end() || !pod->second->ready) return "pod of " + id + " is not ready";
    if (group.reachable_pods.count(member.ordinal) == 0) return id + " does not answer /status";
    if (!member.reachable) return id + " is not reachable from the leader";
    if (!member.lag || *member.lag > group.catch_up_lag) {
      return id + " has not caught up with the leader" +
             (member.lag ? " (" + std::to_string(*member.lag) + " entries behind)" : std::string());
    }
  }
  return "";
}

}  // namespace

Step plan_rollout_step(const ObservedGroup& group, const ObservedRollout& rollout) {
  if (!rollout.update_revision || rollout.update_revision->empty()) return Step{};
  if (rollout.revision_stale) {
    return rolling(StepKind::kWait,
                   "waiting for the StatefulSet controller to observe the current pod template");
  }
  std::map<int, const ObservedPod*> pods;
  for (const auto& pod : rollout.pods) pods[pod.ordinal] = &pod;

  std::vector<const ObservedPod*> outdated;  // highest ordinal first
  for (auto it = pods.rbegin(); it != pods.rend(); ++it) {
    const ObservedPod& pod = *it->second;
    if (pod.ordinal < group.stateful_set_replicas && !pod.terminating &&
        pod.revision != *rollout.update_revision) {
      outdated.push_back(&pod);
    }
  }
  if (outdated.empty()) return Step{};

  // A restart still in progress: the pod is going away or not recreated yet.
  for (int ordinal = 0; ordinal < group.stateful_set_replicas; ++ordinal) {
    auto pod = pods.find(ordinal);
    if (pod == pods.end() || pod->second->terminating) {
      return rolling(StepKind::kWait,
                     "waiting for pod " + std::to_string(ordinal) + " to be recreated", ordinal);
    }
  }

  // Outdated pods that are down already: restarting them costs nothing.
  for (const ObservedPod* pod : outdated) {
    if (!pod->ready && group.reachable_pods.count(pod->ordinal) == 0 &&
        group.leader != pod->ordinal) {
      return restart(*pod, rollout, " (it is down already)");
    }
  }

  if (const std::string why = unhealthy_because(group, pods); !why.empty()) {
    return rolling(StepKind::kWait, "waiting for the group to be healthy before restarting pod " +
                                        std::to_string(outdated.front()->ordinal) + ": " + why);
  }

  // Followers first.
  for (const ObservedPod* pod : outdated) {
    if (group.leader != pod->ordinal) return restart(*pod, rollout, "");
  }

  // Only the leader is left. Hand leadership to an updated, caught-up voter first.
  const int leader = *group.leader;
  const auto voters = std::count_if(group.members.begin(), group.members.end(),
                                    [](const ObservedMember& m) { return m.voter; });
  if (voters <= 1) {
    return restart(*pods.at(leader), rollout,
                   " (the only voter: the group is unavailable until it is back)");
  }
  const ObservedMember* best = nullptr;
  for (const auto& member : group.members) {
    if (!member.voter || member.ordinal == leader) continue;
    auto pod = pods.find(member.ordinal);
    if (pod == pods.end() || pod->second->revision != *rollout.update_revision) continue;
    if (group.preferred_leader == member.ordinal) {
      best = &member;
      break;
    }
    if (best == nullptr || *member.lag < *best->lag) best = &member;
  }
  if (best == nullptr) {
    return rolling(
        StepKind::kWait,
        "leader " + member_id(leader) + " is outdated and no updated voter can take over", leader);
  }
  Step step =
      rolling(StepKind::kTransferLeadership,
              "moving leadership from " + member_id(leader) + " to " + member_id(best->ordinal) +
                  " before restarting pod " + std::to_string(leader),
              leader);
  step.target = best->ordinal;
  return step;
}

}  // namespace dledger::op::controller
