// LedgerAdminBackend: serves the admin HTTP API (broker/admin) from a running LedgerServer, and
// keeps the ledger's Prometheus metrics current.
//
// Status mapping (docs/admin-api.md): ids are rendered "nN"; a replica that is not a voter
// reports role "learner"; a member's role is "leader" for the known leader, "learner" for
// non-voters, "follower" otherwise. leader_admin is looked up in `admin_peers` (DLedger peers
// format, key adminPeers); without it the leader's peer host with this replica's adminPort is
// assumed (every replica of a group normally uses the same admin port).
#pragma once

#include <atomic>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "broker/admin/admin_backend.h"
#include "broker/admin/ledger_metrics.h"
#include "broker/base/properties.h"
#include "broker/ledger/server/ledger_server.h"
#include "broker/ledger/service/client_service.h"

namespace dledger::programs {

// "n0-host:port;..." -> {0: "host:port", ...}; errors name the item.
Result<std::map<raft::NodeId, std::string>> parse_admin_peers(const std::string& peers);
// parse_admin_peers of the key adminPeers (empty map when absent); errors name the key or item.
Result<std::map<raft::NodeId, std::string>> read_admin_peers(const Properties& props);

std::string role_string(const ledger::LedgerStatus& status);
admin::ReplicaStatus to_replica_status(const ledger::LedgerStatus& status,
                                       const std::map<raft::NodeId, std::string>& admin_peers,
                                       std::uint16_t self_admin_port);

class LedgerAdminBackend final : public admin::AdminBackend {
 public:
  LedgerAdminBackend(ledger::LedgerServer& server, std::map<raft::NodeId, std::string> admin_peers,
                     std::uint16_t self_admin_port)
      : server_(server), admin_peers_(std::move(admin_peers)), admin_port_(self_admin_port) {}

  admin::ReplicaStatus status() override;
  Result<admin::TransferResult> transfer_leadership(const std::string& target,
                                                    std::chrono::milliseconds timeout) override;
  Result<admin::ChangeResult> add_learner(const std::string& id, const std::string& address,
                                          std::chrono::milliseconds timeout) override;
  Result<admin::ChangeResult> promote(const std::string& id,
                                      std::chrono::milliseconds timeout) override;
  Result<admin::ChangeResult> remove_member(const std::string& id,
                                            std::chrono::milliseconds timeout) override;

 private:
  Result<admin::ChangeResult> committed(Status status);

  ledger::LedgerServer& server_;
  std::map<raft::NodeId, std::string> admin_peers_;
  std::uint16_t admin_port_;
};

// Wraps the client service's backend to record dledger_append_latency_seconds.
class MeasuredClientBackend final : public service::ClientBackend {
 public:
  MeasuredClientBackend(std::unique_ptr<service::ClientBackend> inner,
                        admin::LedgerMetrics& metrics)
      : inner_(std::move(inner)), metrics_(metrics) {}
  void append(std::vector<std::string> entries, ledger::AppendCallback done) override;
  Result<ledger::CommittedEntry> get(std::uint64_t index) override { return inner_->get(index); }
  raft::NodeId leader_id() override { return inner_->leader_id(); }

 private:
  std::unique_ptr<service::ClientBackend> inner_;
  admin::LedgerMetrics& metrics_;
};

// Refreshes the status gauges every `period` on its own thread until destroyed.
class MetricsRefresher {
 public:
  MetricsRefresher(LedgerAdminBackend& backend, ledger::LedgerServer& server,
                   admin::LedgerMetrics& metrics, std::chrono::milliseconds period);
  ~MetricsRefresher();

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
  std::thread thread_;
};

}  // namespace dledger::programs
