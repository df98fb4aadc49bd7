// dledger-namesrv: the name server RocketMQ clients and dledger brokers talk to.
//
//   dledger-namesrv [-c namesrv.conf] [-p key=value ...]
//
// Keys (broker.conf `key = value` format; -p overrides the file):
//   listenPort           TCP port [9876; 0 = any free port, logged at start]
//   brokerExpireSeconds  drop a broker that has not re-registered for this long [120]
//   serverWorkerThreads  io threads [4]
//   logLevel             trace | debug | info | warn | error [info]
// Unknown keys are warned about. An invalid value exits with status 2 naming the key and value;
// a failure to start (port in use) exits with status 1. Stops cleanly on SIGTERM or SIGINT
// (exit 0).
#include <spdlog/spdlog.h>

#include "broker/base/properties.h"
#include "broker/namesrv/name_server.h"
#include "broker/programs/bootstrap/program_bootstrap.h"

namespace {

using namespace dledger;
using namespace dledger::programs;

constexpr std::string_view kProgram = "dledger-namesrv";

int run(int argc, char** argv) {
  CLI::App app{"dledger-namesrv: RocketMQ-compatible name server for dledger brokers"};
  ConfigSource source;
  add_config_options(app, source, "namesrv.conf (key = value)", /*config_required=*/false);
  if (auto exit_code = parse_command_line(app, argc, argv)) return *exit_code;

  auto props = load_config(source);
  if (!props.ok()) return usage_error(kProgram, props.error());
  Status level = apply_log_level(*props);
  if (!level.ok()) return usage_error(kProgram, level.error());
  auto options = namesrv::NameServerOptions::from_properties(*props);
  if (!options.ok()) return usage_error(kProgram, options.error());
  report_config_warnings(*props, *spdlog::default_logger());

  // Before any thread starts, so every thread inherits the mask (see StopSignals::block).
  StopSignals stop_signals = StopSignals::block();

  auto server = namesrv::NameServer::start(*options);
  if (!server.ok()) {
    spdlog::error("namesrv: cannot start: {}", server.error().to_string());
    return kExitFailed;
  }
  spdlog::info("namesrv: serving on port {}, brokers expire after {} s", (*server)->port(),
               options->broker_expire_ms / 1000);

  int signal_number = stop_signals.wait();
  spdlog::info("namesrv: {} received, stopping", stop_signal_name(signal_number));
  (*server)->stop();
  spdlog::info("namesrv: stopped");
  return kExitOk;
}

}  // namespace

int main(int argc, char** argv) {
  return run(argc, argv);
}
