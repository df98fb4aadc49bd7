#include "broker/programs/dledger-ledger/ledger_admin_backend.h"

#include <algorithm>

#include "broker/base/thread_name.h"
#include "broker/ledger/client/ledger_client.h"
#include "broker/ledger/raft/membership.h"

namespace dledger::programs {

namespace {

std::string name_or_empty(raft::NodeId id) {
  return id == raft::kNoNode ? "" : raft::node_name(id);
}

Result<raft::NodeId> member_id(const std::string& id) {
  auto parsed = raft::parse_node_id(id);
  if (!parsed.ok()) {
    return make_error(ErrorCode::kInvalidArgument,
                      "member id '" + id + "': " + parsed.error().message);
  }
  return parsed.value();
}

std::string host_of(const std::string& address) {
  auto colon = address.rfind(':');
  return colon == std::string::npos ? address : address.substr(0, colon);
}

}  // namespace

Result<std::map<raft::NodeId, std::string>> read_admin_peers(const Properties& props) {
  auto text = props.get_string("adminPeers", std::string());
  if (!text.ok()) return text.error();
  return parse_admin_peers(*text);
}

Result<std::map<raft::NodeId, std::string>> parse_admin_peers(const std::string& peers) {
  std::map<raft::NodeId, std::string> out;
  if (peers.empty()) return out;
  auto parsed = client::parse_client_peers(peers);
  if (!parsed.ok()) {
    return make_error(ErrorCode::kInvalidArgument,
                      "adminPeers = '" + peers + "': " + parsed.error().message);
  }
  for (const auto& p : *parsed) out[p.id] = p.address();
  return out;
}

std::string role_string(const ledger::LedgerStatus& status) {
  if (status.learner) return admin::kRoleLearner;
  switch (status.role) {
    case raft::Role::kLeader:
      return admin::kRoleLeader;
    case raft::Role::kCandidate:
    case raft::Role::kPreCandidate:
      return admin::kRoleCandidate;
    case raft::Role::kFollower:
      return admin::kRoleFollower;
  }
  return admin::kRoleFollower;
}

admin::ReplicaStatus to_replica_status(const ledger::LedgerStatus& s,
                                       const std::map<raft::NodeId, std::string>& admin_peers,
                                       std::uint16_t self_admin_port) {
  admin::ReplicaStatus r;
  r.group = s.group;
  r.self_id = name_or_empty(s.self_id);
  r.role = role_string(s);
  r.term = s.term;
  r.leader_id = name_or_empty(s.leader_id);
  r.leader_address = s.leader_id == raft::kNoNode ? "" : s.leader_address;
  if (s.leader_id != raft::kNoNode) {
    auto it = admin_peers.find(s.leader_id);
    if (it != admin_peers.end()) {
      r.leader_admin = it->second;
    } else if (!s.leader_address.empty()) {
      r.leader_admin = host_of(s.leader_address) + ":" + std::to_string(self_admin_port);
    }
  }
  r.commit_index = s.commit_index;
  r.last_index = s.last_index;
  r.first_index = s.first_index;
  r.flush_mode = ledger::flush_mode_name(s.flush_mode);
  r.membership_change_pending = s.membership_change_pending;
  if (s.transfer_target != raft::kNoNode) r.transfer_target = raft::node_name(s.transfer_target);
  r.repair_until = s.repair_until;
  r.log_open = s.log_open;
  r.leader_alive = s.leader_alive;
  for (const auto& m : s.members) {
    admin::MemberStatus ms;
    ms.id = raft::node_name(m.id);
    ms.address = m.address;
    ms.voter = m.voter;
    ms.role = m.id == s.leader_id ? admin::kRoleLeader
              : !m.voter          ? admin::kRoleLearner
                                  : admin::kRoleFollower;
    ms.match_index = m.match_index;
    ms.lag = m.lag;
    ms.reachable = m.reachable || m.id == s.self_id;
    r.members.push_back(std::move(ms));
  }
  return r;
}

admin::ReplicaStatus LedgerAdminBackend::status() {
  return to_replica_status(server_.status(), admin_peers_, admin_port_);
}

Result<admin::ChangeResult> LedgerAdminBackend::committed(Status status) {
  if (!status.ok()) return status.error();
  auto s = server_.status();
  return admin::ChangeResult{s.commit_index, s.term};
}

Result<admin::TransferResult> LedgerAdminBackend::transfer_leadership(
    const std::string& target, std::chrono::milliseconds timeout) {
  raft::NodeId target_id = raft::kNoNode;
  if (!target.empty()) {
    auto id = member_id(target);
    if (!id.ok()) return id.error();
    target_id = *id;
  } else {
    // Any caught-up voter: the one with the highest match index.
    auto s = server_.status();
    if (s.role != raft::Role::kLeader) {
      return make_error(ErrorCode::kNotLeader,
                        "not the leader; leader is " + (s.leader_id == raft::kNoNode
                                                            ? std::string("unknown")
                                                            : raft::node_name(s.leader_id)));
    }
    std::uint64_t best = 0;
    for (const auto& m : s.members) {
      if (m.id == s.self_id || !m.voter) continue;
      std::uint64_t match = m.match_index.value_or(0);
      if (target_id == raft::kNoNode || match > best) {
        target_id = m.id;
        best = match;
      }
    }
    if (target_id == raft::kNoNode) {
      return make_error(ErrorCode::kInvalidArgument, "no other voter to transfer leadership to");
    }
  }
  Status st = server_.transfer_leadership(target_id, timeout);
  if (!st.ok()) return st.error();
  auto s = server_.status();
  return admin::TransferResult{name_or_empty(s.leader_id), s.term};
}

Result<admin::ChangeResult> LedgerAdminBackend::add_learner(const std::string& id,
                                                            const std::string& address,
                                                            std::chrono::milliseconds timeout) {
  auto parsed = member_id(id);
  if (!parsed.ok()) return parsed.error();
  return committed(server_.add_learner(*parsed, address, timeout));
}

Result<admin::ChangeResult> LedgerAdminBackend::promote(const std::string& id,
                                                        std::chrono::milliseconds timeout) {
  auto parsed = member_id(id);
  if (!parsed.ok()) return parsed.error();
  return committed(server_.promote(*parsed, timeout));
}

Result<admin::ChangeResult> LedgerAdminBackend::remove_member(const std::string& id,
                                                              std::chrono::milliseconds timeout) {
  auto parsed = member_id(id);
  if (!parsed.ok()) return parsed.error();
  return committed(server_.remove_member(*parsed, timeout));
}

void MeasuredClientBackend::append(std::vector<std::string> entries, ledger::AppendCallback done) {
  auto start = std::chrono::steady_clock::now();
  admin::LedgerMetrics* metrics = &metrics_;
  inner_->append(std::move(entries), [start, metrics,
                                      done = std::move(done)](Result<ledger::AppendResult> result) {
    if (result.ok()) {
      std::chrono::duration<double> elapsed = std::chrono::steady_clock::now() - start;
      metrics->observe_append_latency(elapsed.count());
    }
    done(std::move(result));
  });
}

MetricsRefresher::MetricsRefresher(LedgerAdminBackend& backend, ledger::LedgerServer& server,
                                   admin::LedgerMetrics& metrics,
                                   std::chrono::milliseconds period) {
  thread_ = named_thread("admin-metrics", [this, &backend, &server, &metrics, period] {
    std::unique_lock<std::mutex> lock(mu_);
    ledger::GroupCommitCounters previous;
    while (!stop_) {
      lock.unlock();
      auto s = server.status();
      metrics.update(backend.status());
      metrics.set_pending_appends(s.pending_appends);
      metrics.set_disk_used(s.disk_used_bytes);
      // Feed the fsync histogram with the fsyncs since the last round: the retained samples,
      // and the mean latency for any older ones no longer retained, so _count and _sum stay
      // exact.
      auto counters = server.group_commit_counters();
      if (counters.fsyncs > previous.fsyncs) {
        const std::uint64_t fresh = counters.fsyncs - previous.fsyncs;
        const auto& recent = counters.recent_fsync_latency_us;
        const std::size_t sampled = std::min<std::uint64_t>(fresh, recent.size());
        std::uint64_t sampled_us = 0;
        for (std::size_t i = recent.size() - sampled; i < recent.size(); ++i) {
          metrics.observe_fsync_latency(static_cast<double>(recent[i]) / 1e6);
          sampled_us += recent[i];
        }
        if (fresh > sampled) {
          const std::uint64_t total_us =
              counters.fsync_latency_total_us - previous.fsync_latency_total_us;
          const double mean_s =
              static_cast<double>(total_us > sampled_us ? total_us - sampled_us : 0) /
              static_cast<double>(fresh - sampled) / 1e6;
          for (std::uint64_t i = sampled; i < fresh; ++i) metrics.observe_fsync_latency(mean_s);
        }
      }
      previous = std::move(counters);
      lock.lock();
      cv_.wait_for(lock, period, [this] { return stop_; });
    }
  });
}

MetricsRefresher::~MetricsRefresher() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

}  // namespace dledger::programs
