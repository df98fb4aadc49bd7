#include "broker/admin/ledger_metrics.h"

#include "broker/metrics/metric_families.h"

namespace dledger::admin {

using metrics::counter_family;
using metrics::gauge_family;
using metrics::histogram_family;
using metrics::with_label;

std::vector<double> LedgerMetrics::latency_buckets_seconds() {
  return {0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01,
          0.025,   0.05,   0.1,     0.25,   0.5,   1.0,    2.5,   5.0};
}

LedgerMetrics::LedgerMetrics(std::shared_ptr<prometheus::Registry> registry, std::string group,
                             std::string member)
    : registry_(std::move(registry)), group_(std::move(group)), member_(std::move(member)) {
  prometheus::Registry& r = *registry_;
  const auto base = labels();

  role_family_ = &gauge_family(r, "dledger_role", "1 for the replica's current Raft role, else 0");
  for (const char* role : {kRoleLeader, kRoleFollower, kRoleCandidate, kRoleLearner}) {
    role_gauges_[role] = &role_family_->Add(with_label(base, "role", role));
  }
  term_family_ = &gauge_family(r, "dledger_term", "Current Raft term");
  term_ = &term_family_->Add(base);
  commit_index_family_ = &gauge_family(r, "dledger_commit_index", "Highest committed log index");
  commit_index_ = &commit_index_family_->Add(base);
  last_index_family_ = &gauge_family(r, "dledger_last_index", "Highest index in the local log");
  last_index_ = &last_index_family_->Add(base);
  leader_changes_family_ = &counter_family(r, "dledger_leader_changes_total",
                                           "Times this replica saw the group's leader change");
  leader_changes_ = &leader_changes_family_->Add(base);
  elections_family_ =
      &counter_family(r, "dledger_elections_total", "Elections this replica started");
  elections_ = &elections_family_->Add(base);
  append_latency_family_ =
      &histogram_family(r, "dledger_append_latency_seconds", "Time from append to commit, seconds");
  append_latency_ = &append_latency_family_->Add(base, latency_buckets_seconds());
  fsync_latency_family_ =
      &histogram_family(r, "dledger_fsync_latency_seconds", "Duration of one log fsync, seconds");
  fsync_latency_ = &fsync_latency_family_->Add(base, latency_buckets_seconds());
  pending_appends_family_ =
      &gauge_family(r, "dledger_pending_appends", "Appends waiting to be committed");
  pending_appends_ = &pending_appends_family_->Add(base);
  disk_used_family_ =
      &gauge_family(r, "dledger_disk_used_bytes", "Bytes used by the log's files on disk");
  disk_used_ = &disk_used_family_->Add(base);
  lag_family_ = &gauge_family(r, "dledger_replication_lag_entries",
                              "Leader only: entries a peer is behind the leader's last index");
}

LedgerMetrics::~LedgerMetrics() {
  metrics::remove_all(*role_family_, role_gauges_);
  term_family_->Remove(term_);
  commit_index_family_->Remove(commit_index_);
  last_index_family_->Remove(last_index_);
  leader_changes_family_->Remove(leader_changes_);
  elections_family_->Remove(elections_);
  append_latency_family_->Remove(append_latency_);
  fsync_latency_family_->Remove(fsync_latency_);
  pending_appends_family_->Remove(pending_appends_);
  disk_used_family_->Remove(disk_used_);
  std::lock_guard<std::mutex> lock(lag_mutex_);
  metrics::remove_all(*lag_family_, lag_gauges_);
}

std::map<std::string, std::string> LedgerMetrics::labels() const {
  return metrics::replica_labels(group_, member_);
}

void LedgerMetrics::update(const ReplicaStatus& status) {
  for (auto& [role, gauge] : role_gauges_) gauge->Set(role == status.role ? 1.0 : 0.0);
  term_->Set(static_cast<double>(status.term));
  commit_index_->Set(static_cast<double>(status.commit_index));
  last_index_->Set(static_cast<double>(status.last_index));

  std::map<std::string, double> lag;  // by peer id
  for (const MemberStatus& member : status.members) {
    if (member.id == status.self_id || !member.lag) continue;
    lag[member.id] = static_cast<double>(*member.lag);
  }
  const auto base = labels();
  std::lock_guard<std::mutex> lock(lag_mutex_);
  metrics::sync_gauges(*lag_family_, lag_gauges_, lag,
                       [&base](const std::string& peer) { return with_label(base, "peer", peer); });
}

void LedgerMetrics::observe_append_latency(double seconds) {
  append_latency_->Observe(seconds);
}
void LedgerMetrics::observe_fsync_latency(double seconds) {
  fsync_latency_->Observe(seconds);
}
void LedgerMetrics::on_leader_change() {
  leader_changes_->Increment();
}
void LedgerMetrics::on_election() {
  elections_->Increment();
}
void LedgerMetrics::set_pending_appends(std::uint64_t count) {
  pending_appends_->Set(static_cast<double>(count));
}
void LedgerMetrics::set_disk_used(std::uint64_t bytes) {
  disk_used_->Set(static_cast<double>(bytes));
}

}  // namespace dledger::admin
