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
#include <signal.h>
#include <spdlog/spdlog.h>

#include <CLI/CLI.hpp>
#include <iostream>

#include "broker/admin/admin_http_server.h"
#include "broker/admin/ledger_metrics.h"
#include "broker/base/properties.h"
#include "broker/ledger/raft/raft_core.h"
#include "broker/ledger/server/ledger_server.h"
#include "broker/ledger/service/client_service.h"
#include "broker/programs/dledger-ledger/ledger_admin_backend.h"

namespace {

using namespace dledger;

constexpr int kExitFailed = 1;
constexpr int kExitUsage = 2;

std::string leader_name(raft::NodeId id) {
  return id == raft::kNoNode ? "none" : raft::node_name(id);
}

int run(int argc, char** argv) {
  CLI::App app{"dledger-ledger: one replica of a Raft-replicated ledger group"};
  std::string config_path;
  std::vector<std::string> overrides;
  app.add_option("-c,--config", config_path, "ledger.conf (broker.conf key = value format)")
      ->required();
  app.add_option("-p,--property", overrides, "override a key: -p key=value (repeatable)");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : kExitUsage;
  }

  auto loaded = Properties::load_file(config_path);
  if (!loaded.ok()) {
    std::cerr << "dledger-ledger: " << loaded.error().message << "\n";
    return kExitUsage;
  }
  Properties props = std::move(loaded).value();
  for (const auto& assignment : overrides) {
    Status st = props.set_from_assignment(assignment);
    if (!st.ok()) {
      std::cerr << "dledger-ledger: -p " << assignment << ": " << st.error().message << "\n";
      return kExitUsage;
    }
  }
  auto level = props.get_enum("logLevel", "info", {"trace", "debug", "info", "warn", "error"});
  if (!level.ok()) {
    std::cerr << "dledger-ledger: " << level.error().message << "\n";
    return kExitUsage;
  }
  spdlog::set_level(spdlog::level::from_str(*level));
  auto options = ledger::LedgerOptions::from_properties(props);
  if (!options.ok()) {
    std::cerr << "dledger-ledger: " << options.error().message << "\n";
    return kExitUsage;
  }
  auto client_options = service::ClientServiceOptions::from_properties(props);
  if (!client_options.ok()) {
    std::cerr << "dledger-ledger: " << client_options.error().message << "\n";
    return kExitUsage;
  }
  auto admin_peers_text = props.get_string("adminPeers", std::string());
  if (!admin_peers_text.ok()) {
    std::cerr << "dledger-ledger: " << admin_peers_text.error().message << "\n";
    return kExitUsage;
  }
  auto admin_peers = programs::parse_admin_peers(*admin_peers_text);
  if (!admin_peers.ok()) {
    std::cerr << "dledger-ledger: " << admin_peers.error().message << "\n";
    return kExitUsage;
  }
  for (const auto& warning : props.warnings()) spdlog::warn("{}", warning);
  for (const auto& key : props.unused_keys()) {
    spdlog::warn("unknown key '{}' ({}) ignored", key, props.origin(key));
  }

  // Block the stop signals before any thread starts, so every thread inherits the mask and the
  // main thread receives them in sigwait().
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

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

  int signal_number = 0;
  sigwait(&stop_signals, &signal_number);
  spdlog::info("{}/{}: {} received, stopping", group, self,
               signal_number == SIGTERM ? "SIGTERM" : "SIGINT");
  (*client_service)->stop();
  (*admin_server)->stop();
  refresher.reset();
  ledger_server->stop();
  spdlog::info("{}/{}: stopped", group, self);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  return run(argc, argv);
}
