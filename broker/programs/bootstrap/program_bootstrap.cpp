#include "broker/programs/bootstrap/program_bootstrap.h"

#include <pthread.h>
#include <spdlog/spdlog.h>

#include <iostream>

namespace dledger::programs {

void add_config_options(CLI::App& app, ConfigSource& source, const std::string& config_help,
                        bool config_required) {
  CLI::Option* config = app.add_option("-c,--config", source.config_path, config_help);
  if (config_required) config->required();
  app.add_option("-p,--property", source.overrides, "override a key: -p key=value (repeatable)");
}

std::optional<int> parse_command_line(CLI::App& app, int argc, char** argv) {
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? kExitOk : kExitUsage;
  }
  return std::nullopt;
}

Result<Properties> load_config(const ConfigSource& source) {
  Properties props;
  if (!source.config_path.empty()) {
    auto loaded = Properties::load_file(source.config_path);
    if (!loaded.ok()) return loaded.error();
    props = std::move(loaded).value();
  }
  for (const auto& assignment : source.overrides) {
    Status st = props.set_from_assignment(assignment);
    if (!st.ok()) {
      return Error{st.error().code, "-p " + assignment + ": " + st.error().message};
    }
  }
  return props;
}

Status apply_log_level(const Properties& props) {
  auto level = props.get_enum("logLevel", "info", {"trace", "debug", "info", "warn", "error"});
  if (!level.ok()) return level.error();
  spdlog::set_level(spdlog::level::from_str(*level));
  return Status{};
}

int usage_error(std::string_view program, std::string_view message) {
  std::cerr << program << ": " << message << "\n";
  return kExitUsage;
}

int usage_error(std::string_view program, const Error& error) {
  return usage_error(program, error.message);
}

void report_config_warnings(const Properties& props, spdlog::logger& logger) {
  for (const auto& warning : props.warnings()) logger.warn("{}", warning);
  for (const auto& key : props.unused_keys()) {
    logger.warn("unknown key '{}' ({}) ignored", key, props.origin(key));
  }
}

StopSignals StopSignals::block() {
  StopSignals stop;
  sigemptyset(&stop.signals_);
  sigaddset(&stop.signals_, SIGTERM);
  sigaddset(&stop.signals_, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stop.signals_, nullptr);
  return stop;
}

int StopSignals::wait() const {
  int signal_number = 0;
  sigwait(&signals_, &signal_number);
  return signal_number;
}

const char* stop_signal_name(int signal_number) {
  return signal_number == SIGTERM ? "SIGTERM" : "SIGINT";
}

}  // namespace dledger::programs
