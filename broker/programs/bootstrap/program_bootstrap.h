// The start-up and shutdown steps the dledger server programs share (dledger-broker,
// dledger-ledger, dledger-namesrv):
//
//   CLI::App app{...};
//   ConfigSource source;
//   add_config_options(app, source, "broker.conf (key = value)", /*config_required=*/true);
//   if (auto exit_code = parse_command_line(app, argc, argv)) return *exit_code;
//   auto props = load_config(source);
//   if (!props.ok()) return usage_error("dledger-broker", props.error());
//   ... read every key; on a bad value: return usage_error("dledger-broker", error);
//   report_config_warnings(*props, *spdlog::default_logger());
//   StopSignals stop_signals = StopSignals::block();   // before any thread starts
//   ... start the servers (a failure: log it and return kExitFailed) ...
//   int signal_number = stop_signals.wait();           // then stop everything, return kExitOk
//
// Exit codes: kExitOk (0) clean stop or --help, kExitFailed (1) could not start, kExitUsage (2)
// bad command line or config value (the message names the key and value; Properties' errors do).
#pragma once

#include <signal.h>
#include <spdlog/logger.h>

#include <CLI/CLI.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "broker/base/properties.h"
#include "broker/base/result.h"

namespace dledger::programs {

inline constexpr int kExitOk = 0;
inline constexpr int kExitFailed = 1;
inline constexpr int kExitUsage = 2;

// Where a program's configuration comes from: `-c <file>` and repeated `-p key=value`.
struct ConfigSource {
  std::string config_path;             // empty: no file
  std::vector<std::string> overrides;  // "key=value", applied in order after the file
};

// Adds `-c,--config <file>` (described by `config_help`; required when `config_required`) and
// `-p,--property key=value` (repeatable) to `app`, filling `source`.
void add_config_options(CLI::App& app, ConfigSource& source, const std::string& config_help,
                        bool config_required);

// Parses the command line into `app`. nullopt: go on. Otherwise the program returns the value at
// once: 0 after --help (printed), kExitUsage on a usage error (CLI11 printed it on stderr).
std::optional<int> parse_command_line(CLI::App& app, int argc, char** argv);

// Loads `source.config_path` (nothing when empty), then applies the overrides in order.
// Errors: the file's load error (names the file, and the line for a syntax error); for a bad
// override "-p <assignment>: <reason>".
Result<Properties> load_config(const ConfigSource& source);

// Reads logLevel (trace | debug | info | warn | error, default info) and sets it on spdlog's
// default logger. Error: the bad value, naming the key.
Status apply_log_level(const Properties& props);

// Prints "<program>: <message>" on stderr and returns kExitUsage, for
// `return usage_error(program, error);` when a config value is invalid.
int usage_error(std::string_view program, std::string_view message);
int usage_error(std::string_view program, const Error& error);

// Logs at warn level on `logger`: every entry of props.warnings(), then
// "unknown key '<key>' (<origin>) ignored" for every key no getter read. Call it after all keys
// were read.
void report_config_warnings(const Properties& props, spdlog::logger& logger);

// SIGTERM and SIGINT as the program's stop request, taken synchronously by the main thread.
class StopSignals {
 public:
  // Blocks SIGTERM and SIGINT in the calling thread. Call it before any thread starts: threads
  // inherit the mask, so the signals stay pending until wait() takes them instead of killing
  // the process or interrupting a worker.
  static StopSignals block();

  // Blocks until SIGTERM or SIGINT is pending (returns at once when one already is), takes it
  // and returns its number.
  int wait() const;

  const sigset_t& signals() const { return signals_; }

 private:
  StopSignals() = default;
  sigset_t signals_{};
};

// "SIGTERM" for SIGTERM, otherwise "SIGINT" (the only other stop signal), for log lines.
const char* stop_signal_name(int signal_number);

}  // namespace dledger::programs
