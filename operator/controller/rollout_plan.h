// plan_rollout_step: rolling restarts of a DLedgerGroup's pods as a pure function.
//
// The StatefulSet uses updateStrategy OnDelete: a changed pod template (image, broker.conf via
// the dledger.io/config-hash annotation, resources, pod fields) only gives the StatefulSet a new
// status.updateRevision; pods keep running the old template until someone deletes them, and the
// StatefulSet controller recreates a deleted pod from the update revision. The reconciler is
// that someone. It restarts ONE pod at a time:
//
//   followers first (highest ordinal first), each only when the whole group is healthy:
//     a leader is known, no membership change or leadership transfer runs, every member's pod
//     is Ready and answers /status, every member is reachable from the leader and at most
//     `catch_up_lag` entries behind it
//   the leader last: transfer leadership to spec.preferredLeader (when it is an updated, caught-up
//     voter) or the least-lagging updated voter, then restart it as a follower on the next pass
//   a pod that is already down (not Ready and not answering /status, not the leader) is
//     restarted without waiting for health: deleting it costs no availability, and a pod that
//     crash-loops on the OLD template would otherwise block the fix forever
//
// Crash safety: progress is read from the cluster, never remembered. A pod is outdated when its
// controller-revision-hash label differs from the StatefulSet's status.updateRevision. An
// operator that dies after deleting a pod finds it recreated on the update revision (or still
// missing/terminating: wait); one that dies after a transfer finds the old leader a follower.
//
// Precondition: plan_next_step (scale_plan.h) returned kSteady for the same observation (the
// membership matches spec.replicas); membership steps always go first.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "operator/controller/scale_plan.h"

namespace dledger::op::controller {

// Step::cause of a kRestartPod (the reason label of dledger_group_pod_restarts_total).
inline constexpr const char* kCauseImageChanged = "ImageChanged";
inline constexpr const char* kCauseConfigChanged = "ConfigChanged";

struct ObservedPod {
  int ordinal = 0;
  std::string revision;      // label controller-revision-hash ("" when missing)
  std::string image;         // image of the broker container
  bool ready = false;        // Pod condition Ready is True
  bool terminating = false;  // metadata.deletionTimestamp is set
};

struct ObservedRollout {
  // StatefulSet status.updateRevision; nullopt when no StatefulSet controller reports one (then
  // nothing is rolled).
  std::optional<std::string> update_revision;
  // True when status.observedGeneration < metadata.generation: the controller has not computed
  // the revision of the current template yet, so update_revision may be the previous one.
  bool revision_stale = false;
  std::string desired_image;      // spec.image (tells ImageChanged from ConfigChanged)
  std::vector<ObservedPod> pods;  // the StatefulSet's pods that exist, any order
};

// The single next rolling-update step: kSteady (nothing outdated, or rolling not possible),
// kWait (reason RollingUpdate, message says what it waits for), kRestartPod (ordinal, cause) or
// kTransferLeadership (ordinal = leader, target; reason RollingUpdate). Pure.
Step plan_rollout_step(const ObservedGroup& group, const ObservedRollout& rollout);

}  // namespace dledger::op::controller
