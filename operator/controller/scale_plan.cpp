#include "operator/controller/scale_plan.h"

#include <algorithm>

#include "operator/api/dledgergroup_types.h"
#include "operator/render/names.h"

namespace dledger::op::controller {
namespace {

using render::member_id;

namespace reason = api::reason;

int quorum(int members) {
  return members / 2 + 1;
}

Step make(StepKind kind, std::string_view why, std::string message) {
  Step step;
  step.kind = kind;
  step.reason = std::string(why);
  step.message = std::move(message);
  return step;
}

Step scale_stateful_set(int replicas, std::string_view why, std::string message) {
  Step step = make(StepKind::kScaleStatefulSet, why, std::move(message));
  step.replicas = replicas;
  return step;
}

const ObservedMember* find_member(const ObservedGroup& observed, int ordinal) {
  for (const auto& member : observed.members) {
    if (member.ordinal == ordinal) return &member;
  }
  return nullptr;
}

bool caught_up(const ObservedGroup& observed, const ObservedMember& member) {
  return member.reachable && member.lag.has_value() && *member.lag <= observed.catch_up_lag;
}

// Scale-down of the highest member `victim` (a voter).
Step plan_removal(const ObservedGroup& observed, const ObservedMember& victim) {
  const int voters =
      static_cast<int>(std::count_if(observed.members.begin(), observed.members.end(),
                                     [](const ObservedMember& m) { return m.voter; }));
  if (voters <= 1) {
    return make(StepKind::kRefuse, reason::kQuorumAtRisk,
                "refusing to remove " + member_id(victim.ordinal) +
                    ": it is the last voter (a group needs at least 1 member)");
  }
  // The remaining voters must be able to commit the change and keep serving.
  int remaining_reachable = 0;
  for (const auto& member : observed.members) {
    if (member.voter && member.ordinal != victim.ordinal && member.reachable) ++remaining_reachable;
  }
  const int remaining = voters - 1;
  if (remaining_reachable < quorum(remaining)) {
    return make(StepKind::kRefuse, reason::kQuorumAtRisk,
                "refusing to remove " + member_id(victim.ordinal) + ": only " +
                    std::to_string(remaining_reachable) + " of the remaining " +
                    std::to_string(remaining) + " voters are reachable, " +
                    std::to_string(quorum(remaining)) + " needed");
  }
  if (observed.leader == victim.ordinal) {
    // Prefer spec.preferredLeader, then the least-lagging reachable voter.
    const ObservedMember* best = nullptr;
    for (const auto& member : observed.members) {
      if (!member.voter || member.ordinal == victim.ordinal || !caught_up(observed, member))
        continue;
      if (observed.preferred_leader == member.ordinal) {
        best = &member;
        break;
      }
      if (best == nullptr || *member.lag < *best->lag) best = &member;
    }
    if (best == nullptr) {
      return make(StepKind::kWait, reason::kLeaderTransfer,
                  "member " + member_id(victim.ordinal) +
                      " leads and no other voter has caught up to take over");
    }
    Step step = make(StepKind::kTransferLeadership, reason::kLeaderTransfer,
                     "moving leadership from " + member_id(victim.ordinal) + " to " +
                         member_id(best->ordinal) + " before removing it");
    step.ordinal = victim.ordinal;
    step.target = best->ordinal;
    return step;
  }
  if (victim.ordinal < observed.bootstrap_replicas) {
    Step step = make(StepKind::kLowerBootstrap, reason::kScalingDown,
                     "recording that members from " + member_id(victim.ordinal) +
                         " up join as learners before removing it");
    step.replicas = victim.ordinal;
    step.ordinal = victim.ordinal;
    return step;
  }
  Step step = make(StepKind::kRemoveMember, reason::kScalingDown,
                   "removing member " + member_id(victim.ordinal));
  step.ordinal = victim.ordinal;
  return step;
}

}  // namespace

const char* to_string(StepKind kind) {
  switch (kind) {
    case StepKind::kSteady:
      return "Steady";
    case StepKind::kCreateGroup:
      return "CreateGroup";
    case StepKind::kScaleStatefulSet:
      return "ScaleStatefulSet";
    case StepKind::kAddLearner:
      return "AddLearner";
    case StepKind::kPromote:
      return "Promote";
    case StepKind::kTransferLeadership:
      return "TransferLeadership";
    case StepKind::kLowerBootstrap:
      return "LowerBootstrap";
    case StepKind::kRemoveMember:
      return "RemoveMember";
    case StepKind::kDeletePvc:
      return "DeletePvc";
    case StepKind::kWait:
      return "Wait";
    case StepKind::kRefuse:
      return "Refuse";
    case StepKind::kRestartPod:
      return "RestartPod";
  }
  return "Unknown";
}

Step plan_next_step(const ObservedGroup& observed) {
  const int desired = observed.desired_replicas;
  if (desired < 1) {
    return make(StepKind::kRefuse, reason::kQuorumAtRisk,
                "spec.replicas " + std::to_string(desired) + " is below 1");
  }
  if (!observed.stateful_set_exists) {
    Step step = make(StepKind::kCreateGroup, reason::kScalingUp,
                     "creating the group with " + std::to_string(desired) + " bootstrap members");
    step.replicas = desired;
    return step;
  }
  if (!observed.leader.has_value() || observed.members.empty()) {
    return make(StepKind::kWait, reason::kNoLeader,
                "no leader is known; the membership cannot be read");
  }
  if (observed.transfer_in_progress) {
    return make(StepKind::kWait, reason::kLeaderTransfer, "a leadership transfer is in progress");
  }
  if (observed.membership_change_pending) {
    return make(StepKind::kWait, reason::kMemberCatchingUp,
                "a membership change has not committed yet");
  }

  int span = 0;  // 1 + highest member ordinal
  for (const auto& member : observed.members) span = std::max(span, member.ordinal + 1);
  const int sts = observed.stateful_set_replicas;

  // Every member needs its pod.
  if (sts < span) {
    return scale_stateful_set(span, reason::kScalingUp,
                              "StatefulSet has " + std::to_string(sts) + " pods but member " +
                                  member_id(span - 1) + " exists; restoring its pod");
  }

  // Learners first: finish (or abandon) the scale-up that added them.
  for (const auto& member : observed.members) {
    if (member.voter) continue;
    if (member.ordinal >= desired) {
      Step step = make(StepKind::kRemoveMember, reason::kScalingDown,
                       "removing learner " + member_id(member.ordinal) + ": spec.replicas is now " +
                           std::to_string(desired));
      step.ordinal = member.ordinal;
      return step;
    }
    if (caught_up(observed, member)) {
      Step step = make(StepKind::kPromote, reason::kScalingUp,
                       "promoting caught-up learner " + member_id(member.ordinal) + " to voter");
      step.ordinal = member.ordinal;
      return step;
    }
    Step step = make(
        StepKind::kWait, reason::kMemberCatchingUp,
        "learner " + member_id(member.ordinal) + " is catching up" +
            (member.lag ? " (" + std::to_string(*member.lag) + " entries behind)" : std::string()));
    step.ordinal = member.ordinal;
    return step;
  }

  // Scale down: the highest member at or above spec.replicas goes first.
  if (span > desired) {
    const ObservedMember* victim = find_member(observed, span - 1);
    return plan_removal(observed, *victim);
  }

  // Pods above the membership: either the next member's pod (scale-up) or left over.
  int missing = -1;  // lowest ordinal below spec.replicas without a member
  for (int i = 0; i < desired; ++i) {
    if (find_member(observed, i) == nullptr) {
      missing = i;
      break;
    }
  }
  if (missing < 0) {
    if (sts > span) {
      return scale_stateful_set(
          span, reason::kScalingDown,
          "shrinking the StatefulSet to the " + std::to_string(span) + " members");
    }
    if (observed.delete_volumes_when_scaled) {
      for (int ordinal : observed.data_volume_ordinals) {
        if (ordinal >= sts) {
          Step step = make(StepKind::kDeletePvc, reason::kScalingDown,
                           "deleting the data volume of removed member " + member_id(ordinal));
          step.ordinal = ordinal;
          return step;
        }
      }
    }
    return make(StepKind::kSteady, "", "");
  }
  if (sts <= missing) {
    return scale_stateful_set(
        missing + 1, reason::kScalingUp,
        "starting pod " + std::to_string(missing) + " for new member " + member_id(missing));
  }
  if (observed.reachable_pods.count(missing) == 0) {
    Step step = make(StepKind::kWait, reason::kScalingUp,
                     "waiting for pod " + std::to_string(missing) + " of new member " +
                         member_id(missing) + " to answer");
    step.ordinal = missing;
    return step;
  }
  Step step = make(StepKind::kAddLearner, reason::kScalingUp,
                   "adding " + member_id(missing) + " as a learner");
  step.ordinal = missing;
  return step;
}

}  // namespace dledger::op::controller
