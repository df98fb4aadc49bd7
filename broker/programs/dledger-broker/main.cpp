// dledger-broker: one replica of a RocketMQ-compatible broker group.
//
//   dledger-broker -c broker.conf [-p key=value ...]
//
// Reads BrokerOptions (broker/broker/broker_options.h: broker.conf keys plus the ledger keys) and
//   adminPeers    "n0-host:adminPort;..." to report the leader's admin endpoint [derived]
//   messageDelayLevel  delay levels, default "1s 5s 10s 30s 1m ... 2h" (store/delay_levels.h)
// Starts the LedgerServer (with the message store's snapshot hooks), the MessageStore, the
// remoting server on listenPort with the broker's handlers, the admin HTTP server (ledger and
// broker metrics), the name-server registration and the delayed-message scheduler. Logs one line
// per role change. An invalid value exits with status 2 naming the key and value; a failure to
// start exits with status 1; SIGTERM / SIGINT stop cleanly (exit 0).
#include <spdlog/spdlog.h>

#include <atomic>

#include "broker/admin/admin_http_server.h"
#include "broker/admin/ledger_metrics.h"
#include "broker/base/properties.h"
#include "broker/broker/broker_handlers.h"
#include "broker/broker/broker_metrics.h"
#include "broker/broker/broker_options.h"
#include "broker/broker/name_server_registration.h"
#include "broker/frontend/remoting_server.h"
#include "broker/ledger/raft/raft_core.h"
#include "broker/ledger/server/ledger_server.h"
#include "broker/programs/bootstrap/program_bootstrap.h"
#include "broker/programs/dledger-broker/runtime_info_handler.h"
#include "broker/programs/dledger-broker/topic_change_trigger.h"
#include "broker/programs/dledger-ledger/ledger_admin_backend.h"
#include "broker/store/delay_levels.h"
#include "broker/store/delay_scheduler.h"
#include "broker/store/message_store.h"

namespace {

using namespace dledger;
using namespace dledger::programs;

constexpr std::string_view kProgram = "dledger-broker";

std::string leader_name(raft::NodeId id) {
  return id == raft::kNoNode ? "none" : raft::node_name(id);
}

int run(int argc, char** argv) {
  CLI::App app{"dledger-broker: one replica of a Raft-replicated RocketMQ-compatible broker"};
  ConfigSource source;
  add_config_options(app, source, "broker.conf (key = value)", /*config_required=*/true);
  if (auto exit_code = parse_command_line(app, argc, argv)) return *exit_code;

  auto props = load_config(source);
  if (!props.ok()) return usage_error(kProgram, props.error());
  auto parsed = broker::BrokerOptions::from_properties(*props);
  if (!parsed.ok()) return usage_error(kProgram, parsed.error());
  broker::BrokerOptions options = std::move(parsed).value();
  spdlog::set_level(spdlog::level::from_str(options.log_level));
  auto admin_peers = read_admin_peers(*props);
  if (!admin_peers.ok()) return usage_error(kProgram, admin_peers.error());
  auto store_host = remoting::HostAddress::parse(options.broker_address());
  if (!store_host.ok()) {
    return usage_error(kProgram, "brokerIP1 = '" + options.broker_ip +
                                     "': expected an IPv4 or IPv6 address (" +
                                     store_host.error().message + ")");
  }
  auto delay_text =
      props->get_string("messageDelayLevel", std::string(store::kDefaultMessageDelayLevel));
  if (!delay_text.ok()) return usage_error(kProgram, delay_text.error());
  auto delay_levels = store::parse_delay_levels(*delay_text);
  if (!delay_levels.ok()) return usage_error(kProgram, delay_levels.error());
  report_config_warnings(*props, *spdlog::default_logger());

  // Before any thread starts, so every thread inherits the mask (see StopSignals::block).
  StopSignals stop_signals = StopSignals::block();

  const std::string group = options.ledger.group;
  const std::string self = options.ledger.self_name;
  const raft::NodeId self_id = options.ledger.self_id;

  store::MessageStoreOptions store_options;
  store_options.store_host = *store_host;
  store_options.checkpoint_dir = options.consume_queue_dir;
  store_options.delay_levels_ms = std::move(delay_levels).value();
  // dledger_append_latency_seconds: the metrics exist only once the admin server is up, after
  // the store; appends before that are not observed. Stores and ledger stop before metrics go.
  auto append_metrics = std::make_shared<std::atomic<admin::LedgerMetrics*>>(nullptr);
  store_options.on_append_committed = [append_metrics](double seconds) {
    if (admin::LedgerMetrics* m = append_metrics->load()) m->observe_append_latency(seconds);
  };
  auto message_store = std::make_unique<store::MessageStore>(store_options);

  spdlog::info("{}/{}: starting broker {} ({}), data in {}, peers {}", group, self,
               options.broker_name, options.broker_address(), options.ledger.data_dir,
               options.ledger.peers);
  const std::string admin_host = options.ledger.admin_host;
  const std::uint16_t admin_port = options.ledger.admin_port;
  const std::string admin_token = options.ledger.admin_token;
  auto started = ledger::LedgerServer::start(options.ledger, message_store->snapshot_hooks());
  if (!started.ok()) {
    spdlog::error("{}/{}: cannot start the ledger: {}", group, self, started.error().to_string());
    return kExitFailed;
  }
  std::unique_ptr<ledger::LedgerServer> ledger_server = std::move(started).value();
  Status store_started = message_store->start(ledger_server.get());
  if (!store_started.ok()) {
    spdlog::error("{}/{}: cannot start the message store: {}", group, self,
                  store_started.error().to_string());
    ledger_server->stop();
    return kExitFailed;
  }

  broker::NameServerRegistrar::Options registrar_options;
  registrar_options.cluster_name = options.cluster_name;
  registrar_options.broker_name = options.broker_name;
  registrar_options.broker_address = options.broker_address();
  registrar_options.group_address = options.group_address;
  registrar_options.namesrv_addresses = options.namesrv_addresses;
  registrar_options.interval = std::chrono::milliseconds(options.register_interval_ms);
  registrar_options.self_id = self_id;
  auto registrar = std::make_unique<broker::NameServerRegistrar>(registrar_options, *message_store);

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
    message_store->stop();
    ledger_server->stop();
    return kExitFailed;
  }
  auto metrics = std::make_unique<admin::LedgerMetrics>((*admin_server)->registry(), group, self);
  admin::LedgerMetrics* metrics_ptr = metrics.get();
  append_metrics->store(metrics_ptr);
  broker::NameServerRegistrar* registrar_ptr = registrar.get();
  auto last = std::make_shared<raft::SoftState>();
  ledger_server->on_soft_state_change(
      [group, self, last, metrics_ptr, registrar_ptr](const raft::SoftState& s) {
        if (s.role != last->role || s.term != last->term || s.leader != last->leader) {
          spdlog::info("{}/{}: role {} term {} leader {}", group, self, raft::role_name(s.role),
                       s.term, leader_name(s.leader));
          registrar_ptr->trigger();
        }
        if (s.leader != last->leader) metrics_ptr->on_leader_change();
        if (s.role == raft::Role::kCandidate && last->role != raft::Role::kCandidate) {
          metrics_ptr->on_election();
        }
        *last = s;
      });

  auto broker_metrics =
      std::make_unique<broker::BrokerMetrics>((*admin_server)->registry(), group, self);
  broker::BrokerHandlers::Options handler_options;
  handler_options.max_suspended_pulls = options.max_suspended_pulls;
  handler_options.max_query_scan = options.query_message_max_scan;
  handler_options.forwarding.self_name = self;
  handler_options.forwarding.client_addresses = options.broker_peers;
  handler_options.forwarding.self_listen_port = options.listen_port;
  handler_options.metrics = broker_metrics.get();
  handler_options.broker_name = options.broker_name;
  auto handlers = std::make_unique<broker::BrokerHandlers>(*message_store, handler_options);
  frontend::RemotingServer::Options server_options;
  server_options.host = "0.0.0.0";
  server_options.port = options.listen_port;
  server_options.io_threads = options.remoting_io_threads;
  server_options.log_name = "broker";
  auto remoting_server = std::make_unique<frontend::RemotingServer>(server_options);
  handlers->register_with(*remoting_server);
  remoting_server->register_handler(
      remoting::request_code::kGetBrokerRuntimeInfo,
      programs::make_runtime_info_handler(
          {options.broker_name,
           programs::advertised_admin_address(admin_host, options.broker_ip, admin_port)},
          [admin_backend] { return admin_backend->status(); }));
  Status listening = remoting_server->start();
  if (!listening.ok()) {
    spdlog::error("{}/{}: cannot listen on port {}: {}", group, self, options.listen_port,
                  listening.error().to_string());
    handlers->stop();
    (*admin_server)->stop();
    message_store->stop();
    ledger_server->stop();
    return kExitFailed;
  }
  registrar->start();
  // Register at once when the topic set changes (as RocketMQ does after a topic update).
  auto topic_trigger =
      std::make_unique<programs::TopicChangeTrigger>(*message_store, std::chrono::milliseconds(500),
                                                     [registrar_ptr] { registrar_ptr->trigger(); });
  auto delay_scheduler =
      std::make_unique<store::DelayScheduler>(*message_store, store::DelayScheduler::Options{});
  delay_scheduler->start();
  auto refresher = std::make_unique<programs::MetricsRefresher>(
      *admin_backend, *ledger_server, *metrics, std::chrono::milliseconds(250));
  broker::BrokerMetrics::Sources broker_sources;
  broker_sources.store = message_store.get();
  broker_sources.held_pulls = [h = handlers.get()] { return h->context().suspender->held(); };
  broker_sources.connected_clients = [s = remoting_server.get()] {
    return static_cast<std::size_t>(s->stats().connections_open);
  };
  broker_sources.registrations = [registrar_ptr] { return registrar_ptr->registrations(); };
  auto broker_refresher = std::make_unique<broker::BrokerMetricsRefresher>(
      *broker_metrics, std::move(broker_sources), std::chrono::milliseconds(250));
  spdlog::info("{}/{}: serving RocketMQ clients on port {}, admin on {}", group, self,
               remoting_server->port(), (*admin_server)->address());

  int signal_number = stop_signals.wait();
  spdlog::info("{}/{}: {} received, stopping", group, self, stop_signal_name(signal_number));
  broker_refresher.reset();
  delay_scheduler->stop();
  topic_trigger.reset();
  registrar->stop();
  handlers->stop();
  remoting_server->stop();
  (*admin_server)->stop();
  refresher.reset();
  message_store->stop();
  ledger_server->stop();
  spdlog::info("{}/{}: stopped", group, self);
  return kExitOk;
}

}  // namespace

int main(int argc, char** argv) {
  return run(argc, argv);
}
