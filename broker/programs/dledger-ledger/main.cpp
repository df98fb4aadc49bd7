// dledger-ledger: one standalone ledger replica.
//
//   dledger-ledger -c ledger.conf [-p key=value ...]
//
// Reads the keys of LedgerOptions (broker/ledger/server/ledger_options.h) plus
//   clientHost / clientPort / clientMaxFrameBytes   client protocol endpoint [0.0.0.0 / 20911]
//   adminPeers    "n0-host:adminPort;..." to report the leader's admin endpoint [derived]
//   logLevel      trace | debug | info | warn | error [info]
// Unknown keys are warned about. An invalid value exits with status 2 naming the key and value;
// a failure to start (corrupt data, port in use) exits with status 1. Starts the LedgerServer,
// the client service and the admin HTTP server, logs one line per role change, and stops
// cleanly on SIGTERM or SIGINT (exit 0).
#include <spdlog/spdlog.h>

#include "broker/admin/admin_http_server.h"
#include "broker/admin/ledger_metrics.h"
#include "broker/base/properties.h"
#include "broker/ledger/raft/raft_core.h"
#include "broker/ledger/server/ledger_server.h"
#include "broker/ledger/service/client_service.h"
#include "broker/programs/bootstrap/program_bootstrap.h"
#include "broker/programs/dledger-ledger/ledger_admin_backend.h"

namespace {

using namespace dledger;
using namespace dledger::programs;

constexpr std::string_view kProgram = "dledger-ledger";

std::string leader_name(raft::NodeId id) {
  return id == raft::kNoNode ? "none" : raft::node_name(id);
}

int run(int argc, char** argv) {
  CLI::App app{"dledger-ledger: one replica of a Raft-replicated ledger group"};
  ConfigSource source;
  add_config_options(app, source, "ledger.conf (broker.conf key = value format)",
                     /*config_required=*/true);
  if (auto exit_code = parse_command_line(app, argc, argv)) return *exit_code;

  auto props = load_config(source);
  if (!props.ok()) return usage_error(kProgram, props.error());
  Status level = apply_log_level(*props);
  if (!level.ok()) return usage_error(kProgram, level.error());
  auto options = ledger::LedgerOptions::from_properties(*props);
  if (!options.ok()) return usage_error(kProgram, options.error());
  auto client_options = service::ClientServiceOptions::from_properties(*props);
  if (!client_options.ok()) return usage_error(kProgram, client_options.error());
  auto admin_peers = read_admin_peers(*props);
  if (!admin_peers.ok()) return usage_error(kProgram, admin_peers.error());
  report_config_warnings(*props, *spdlog::default_logger());

  // Before any thread starts, so every thread inherits the mask (see StopSignals::block).
  StopSignals stop_signals = StopSignals::block();

  const std::string self = options->self_name;
  const std::string group = options->group;
  const std::string admin_host = options->admin_host;
  const std::uint16_t admin_port = options->admin_port;
  const std::string admin_token = options->admin_token;
  spdlog::info("{}/{}: starting, data in {}, peers {}", group, self, options->data_dir,
               options->peers);
  auto server = ledger::LedgerServer::start(std::move(options).value());
  if (!server.ok()) {
    spdlog::error("{}/{}: cannot start the ledger: {}", group, self, server.error().to_string());
    return kExitFailed;
  }
  std::unique_ptr<ledger::LedgerServer> ledger_server = std::move(server).value();

  auto admin_backend = std::make_shared<programs::LedgerAdminBackend>(
      *ledger_server, std::move(admin_peers).value(), admin_port);
  admin::AdminServerOptions admin_options;
  admin_options.host = admin_host;
  admin_options.port = admin_port;
  admin_options.token = admin_token;
  auto admin_server = admin::AdminHttpServer::start(admin_options, admin_backend);
  if (!admin_server.ok()) {
    spdlog::error("{}/{}: cannot start the admin endpoint: {}", group, self,
                  admin_server.error().to_string());
    ledger_server->stop();
    return kExitFailed;
  }
  auto metrics = std::make_unique<admin::LedgerMetrics>((*admin_server)->registry(), group, self);

  admin::LedgerMetrics* metrics_ptr = metrics.get();
  auto last = std::make_shared<raft::SoftState>();
  ledger_server->on_soft_state_change([group, self, last, metrics_ptr](const raft::SoftState& s) {
    if (s.role != last->role || s.term != last->term || s.leader != last->leader) {
      spdlog::info("{}/{}: role {} term {} leader {}", group, self, raft::role_name(s.role), s.term,
                   leader_name(s.leader));
    }
    if (s.leader != last->leader) metrics_ptr->on_leader_change();
    if (s.role == raft::Role::kCandidate && last->role != raft::Role::kCandidate) {
      metrics_ptr->on_election();
    }
    *last = s;
  });

  auto client_backend = std::make_unique<programs::MeasuredClientBackend>(
      service::make_ledger_backend(*ledger_server), *metrics);
  // The client service runs on the consensus thread: an append reaches the core, and its
  // response the socket, without a thread hand-off. The ledger is stopped (its consensus thread
  // joined) before the service is destroyed, as ClientServiceOptions::io_context requires.
  client_options->io_context = ledger_server->consensus_context();
  auto client_service = service::ClientService::start(*client_options, *client_backend);
  if (!client_service.ok()) {
    spdlog::error("{}/{}: cannot start the client service: {}", group, self,
                  client_service.error().to_string());
    (*admin_server)->stop();
    ledger_server->stop();
    return kExitFailed;
  }
  auto refresher = std::make_unique<programs::MetricsRefresher>(
      *admin_backend, *ledger_server, *metrics, std::chrono::milliseconds(250));
  spdlog::info("{}/{}: serving clients on {}:{}, admin on {}", group, self, client_options->host,
               (*client_service)->port(), (*admin_server)->address());

  int signal_number = stop_signals.wait();
  spdlog::info("{}/{}: {} received, stopping", group, self, stop_signal_name(signal_number));
  (*client_service)->stop();
  (*admin_server)->stop();
  refresher.reset();
  ledger_server->stop();
  spdlog::info("{}/{}: stopped", group, self);
  return kExitOk;
}

}  // namespace

int main(int argc, char** argv) {
  return run(argc, argv);
}
