// plan_next_step: the membership/scaling state machine of one DLedgerGroup as a pure function.
//
// The reconciler observes the world (StatefulSet size, which pods answer, the membership as the
// LEADER reports it in /status, existing data volumes) and performs the ONE step this function
// returns, then re-observes. Progress is derived from the membership committed at the leader,
// never from memory of what the operator did last, so an operator that dies between any two
// steps converges when it restarts:
//
//   scale up (one member at a time)            scale down (one member at a time)
//   ---------------------------------          ----------------------------------------------
//   StatefulSet k -> k+1 (pod n<k> starts      highest member n<h> leads? transfer leadership
//     joining, outside the membership)         lower bootstrap annotation to h if h < it
//   wait until pod n<k> answers /status        remove member n<h> (waits for commit)
//   add n<k> as learner                        StatefulSet h+1 -> h (pod n<h> stops)
//   wait until its lag <= catch_up_lag         delete PVC data-<name>-<h> (whenScaled=Delete)
//   promote n<k> to voter
//
// Crash states and how they converge:
//   member removed, StatefulSet not shrunk    -> ShrinkStatefulSet (S > members)
//   StatefulSet grown, learner never added    -> AddLearner (or ShrinkStatefulSet if spec.replicas
//                                                dropped meanwhile)
//   learner added, never promoted             -> Promote when caught up, or RemoveMember when
//                                                spec.replicas no longer wants it
//   StatefulSet smaller than the membership   -> grow it back (pods of members must exist)
//   StatefulSet shrunk, volume left           -> DeletePvc
// Nothing is done while a membership change is uncommitted or a leadership transfer runs, or
// while no leader is known (the membership cannot be read).
#pragma once

#include <optional>
#include <set>
#include <string>
#include <vector>

namespace dledger::op::controller {

struct ObservedMember {
  int ordinal = 0;  // n<ordinal>
  bool voter = true;
  bool reachable = false;            // as seen by the leader (always true for the leader)
  std::optional<std::uint64_t> lag;  // entries behind the leader (leader's view)
};

struct ObservedGroup {
  int desired_replicas = 0;  // spec.replicas
  bool stateful_set_exists = false;
  int stateful_set_replicas = 0;        // .spec.replicas of the StatefulSet
  std::set<int> reachable_pods;         // ordinals whose admin /status answered
  std::optional<int> leader;            // ordinal of the leader, when one is known
  std::vector<ObservedMember> members;  // membership at the leader (voters and learners)
  bool membership_change_pending = false;
  bool transfer_in_progress = false;
  std::set<int> data_volume_ordinals;      // PVCs data-<name>-<i> that exist
  bool delete_volumes_when_scaled = true;  // storage.retentionPolicy.whenScaled == Delete
  int bootstrap_replicas = 0;              // recorded size of the first configuration
  std::optional<int> preferred_leader;     // spec.preferredLeader ordinal
  std::uint64_t catch_up_lag = 100;        // a learner this close to the leader is promoted
};

enum class StepKind {
  kSteady,              // nothing to do: the group has spec.replicas members
  kCreateGroup,         // create the StatefulSet with `replicas` bootstrap members
  kScaleStatefulSet,    // set StatefulSet .spec.replicas to `replicas`
  kAddLearner,          // POST /v1/members n<ordinal> (peer address of pod <ordinal>)
  kPromote,             // promote learner n<ordinal>
  kTransferLeadership,  // move leadership from n<ordinal> to n<target>
  kLowerBootstrap,      // record bootstrap_replicas = `replicas` before removing a member below it
  kRemoveMember,        // DELETE /v1/members/n<ordinal>
  kDeletePvc,           // delete PVC of ordinal (whenScaled=Delete)
  kWait,                // progress depends on something else (pod start, catch-up, commit)
  kRefuse,              // the requested change is unsafe; say why in a condition and Event
  kRestartPod,          // delete pod <ordinal> so the StatefulSet recreates it (rollout_plan.h)
};

struct Step {
  StepKind kind = StepKind::kSteady;
  int replicas = 0;     // kCreateGroup, kScaleStatefulSet, kLowerBootstrap
  int ordinal = -1;     // member / pod / volume the step acts on
  int target = -1;      // kTransferLeadership: new leader
  std::string reason;   // Progressing / Degraded condition reason (api::reason::...)
  std::string message;  // human-readable, for the condition and the Event
  std::string cause;    // kRestartPod: ImageChanged or ConfigChanged (rollout_plan.h)

  bool operator==(const Step&) const = default;
};

const char* to_string(StepKind kind);

// The single next step toward spec.replicas. Pure: same input, same output.
Step plan_next_step(const ObservedGroup& observed);

}  // namespace dledger::op::controller
