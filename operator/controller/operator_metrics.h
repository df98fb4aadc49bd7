// OperatorMetrics: the dledger-operator's Prometheus metrics, exactly the "Operator" table of
// docs/packaging.md (the contract the dashboards in deploy/dashboards and the alert rules use).
// `namespace` and `dledgergroup` name the DLedgerGroup; `member` is n<i>.
//
//   dledger_operator_reconcile_total{namespace,dledgergroup,result=success|error|requeue}
//   dledger_operator_reconcile_errors_total{namespace,dledgergroup,reason}
//   dledger_operator_reconcile_duration_seconds{namespace,dledgergroup}   histogram, 1 ms .. 60 s
//   dledger_operator_queue_depth
//   dledger_group_ready{namespace,dledgergroup}
//   dledger_group_members{namespace,dledgergroup,state=desired|current|ready|learners}
//   dledger_group_membership_changes_total{namespace,dledgergroup,operation=add|promote|remove}
//   dledger_group_pod_restarts_total{namespace,dledgergroup,reason=ConfigChanged|ImageChanged}
//   dledger_group_member_role{namespace,dledgergroup,member,role=leader|follower|candidate|learner}
//   dledger_group_member_term{namespace,dledgergroup,member}
//   dledger_group_member_commit_index{namespace,dledgergroup,member}
//
// result: `success` = the group is steady, `requeue` = a step is in progress (looked at again
// soon), `error` = the reconcile failed (reason = Reconciler::last_error_reason()) or the spec is
// invalid (reason InvalidSpec). Member series are those observed in the last reconcile: a member
// that stopped answering or was removed loses its series; a deleted group loses all its gauges.
// Thread-safe.
#pragma once

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include <cstddef>
#include <map>
#include <mutex>
#include <set>
#include <string>

#include "operator/controller/reconciler.h"

namespace dledger::op::controller {

class OperatorMetrics {
 public:
  explicit OperatorMetrics(prometheus::Registry& registry);

  void set_queue_depth(std::size_t depth);
  // A finished reconcile of `key` ("namespace/name") that took `seconds`.
  void record_success(const std::string& key, const ReconcileResult& result, double seconds);
  void record_failure(const std::string& key, const std::string& reason, double seconds);

 private:
  using Labels = std::map<std::string, std::string>;
  void record_pass(const Labels& group, const std::string& outcome, double seconds);
  void forget_group(const std::string& key, const Labels& group);
  void forget_member(const Labels& group, const std::string& member);
  void set_members(const std::string& key, const Labels& group, const ReconcileResult& result);

  prometheus::Family<prometheus::Counter>& reconcile_total_;
  prometheus::Family<prometheus::Counter>& reconcile_errors_;
  prometheus::Family<prometheus::Histogram>& reconcile_duration_;
  prometheus::Gauge& queue_depth_;
  prometheus::Family<prometheus::Gauge>& group_ready_;
  prometheus::Family<prometheus::Gauge>& group_members_;
  prometheus::Family<prometheus::Counter>& membership_changes_;
  prometheus::Family<prometheus::Counter>& pod_restarts_;
  prometheus::Family<prometheus::Gauge>& member_role_;
  prometheus::Family<prometheus::Gauge>& member_term_;
  prometheus::Family<prometheus::Gauge>& member_commit_index_;
  std::mutex mutex_;
  std::map<std::string, std::set<std::string>> members_by_group_;  // key -> member ids exported
};

}  // namespace dledger::op::controller
