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
#include <signal.h>
#include <spdlog/spdlog.h>

#include <CLI/CLI.hpp>
#include <iostream>

#include "broker/base/properties.h"
#include "broker/namesrv/name_server.h"

namespace {

using namespace dledger;

constexpr int kExitFailed = 1;
constexpr int kExitUsage = 2;

int run(int argc, char** argv) {
  CLI::App app{"dledger-namesrv: RocketMQ-compatible name server for dledger brokers"};
  std::string config_path;
  std::vector<std::string> overrides;
  app.add_option("-c,--config", config_path, "namesrv.conf (key = value)");
  app.add_option("-p,--property", overrides, "override a key: -p key=value (repeatable)");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : kExitUsage;
  }

  Properties props;
  if (!config_path.empty()) {
    auto loaded = Properties::load_file(config_path);
    if (!loaded.ok()) {
      std::cerr << "dledger-namesrv: " << loaded.error().message << "\n";
      return kExitUsage;
    }
    props = std::move(loaded).value();
  }
  for (const auto& assignment : overrides) {
    Status st = props.set_from_assignment(assignment);
    if (!st.ok()) {
      std::cerr << "dledger-namesrv: -p " << assignment << ": " << st.error().message << "\n";
      return kExitUsage;
    }
  }
  auto level = props.get_enum("logLevel", "info", {"trace", "debug", "info", "warn", "error"});
  if (!level.ok()) {
    std::cerr << "dledger-namesrv: " << level.error().message << "\n";
    return kExitUsage;
  }
  spdlog::set_level(spdlog::level::from_str(*level));
  auto options = namesrv::NameServerOptions::from_properties(props);
  if (!options.ok()) {
    std::cerr << "dledger-namesrv: " << options.error().message << "\n";
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

  auto server = namesrv::NameServer::start(*options);
  if (!server.ok()) {
    spdlog::error("namesrv: cannot start: {}", server.error().to_string());
    return kExitFailed;
  }
  spdlog::info("namesrv: serving on port {}, brokers expire after {} s", (*server)->port(),
               options->broker_expire_ms / 1000);

  int signal_number = 0;
  sigwait(&stop_signals, &signal_number);
  spdlog::info("namesrv: {} received, stopping", signal_number == SIGTERM ? "SIGTERM" : "SIGINT");
  (*server)->stop();
  spdlog::info("namesrv: stopped");
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  return run(argc, argv);
}
