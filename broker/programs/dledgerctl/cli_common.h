// Shared pieces of dledgerctl's subcommands: the common flags (--admin/--admins, --token,
// --timeout-ms, --json), exit codes, and running one mutating call against a list of admin
// endpoints. Each subcommand lives in its own file (its options and run function); command_line.cpp
// declares every flag.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <iosfwd>
#include <string>
#include <vector>

#include "broker/admin/admin_client.h"
#include "broker/base/result.h"

namespace dledger::ctl {

inline constexpr int kExitOk = 0;
inline constexpr int kExitFailed = 1;  // the operation was refused or failed
inline constexpr int kExitUsage = 2;   // bad flags or values

// Default --timeout-ms of a membership change or leadership transfer (a committed entry).
inline constexpr int kMutationTimeoutMs = 15000;

inline constexpr const char* kDefaultAdmin = "127.0.0.1:10980";
inline constexpr const char* kTokenEnv = "DLEDGER_ADMIN_TOKEN";

// The subcommand chosen on the command line; set by the subcommand's parse callback.
using CommandAction = std::function<int(std::ostream& out, std::ostream& err)>;

struct CommonOptions {
  std::vector<std::string> admin;  // --admin, repeatable; each may also hold "a;b" or "a,b"
  std::string admins;              // --admins "a;b;c"
  std::string token;               // --token or $DLEDGER_ADMIN_TOKEN
  int timeout_ms = 0;              // --timeout-ms; 0 = the subcommand's default
  bool json = false;               // --json

  // Every admin address from --admin and --admins in order, duplicates removed; the default
  // 127.0.0.1:10980 when none was given. Errors name the malformed address.
  Result<std::vector<std::string>> addresses() const;
  admin::AdminClientOptions client_options(int default_timeout_ms) const;
};

// Runs `call` against each address in turn until one answers: an address that cannot be reached
// (kUnavailable) is skipped; any other outcome ends the loop. Errors name the addresses tried.
template <typename T>
Result<T> first_answer(const std::vector<std::string>& addresses,
                       const std::function<Result<T>(const std::string&)>& call) {
  std::string unreachable;
  for (const std::string& address : addresses) {
    Result<T> result = call(address);
    if (result.ok() || result.error().code != ErrorCode::kUnavailable) return result;
    unreachable += (unreachable.empty() ? "" : "; ") + result.error().message;
  }
  return make_error(ErrorCode::kUnavailable, "no admin endpoint answered: " + unreachable);
}

// Prints a committed membership change ("<what> at index N, term T" or its JSON) and returns
// kExitOk, or reports the error and returns kExitFailed.
int finish_change(const CommonOptions& options, const Result<admin::ChangeResult>& result,
                  const std::string& what, std::ostream& out, std::ostream& err);

// Validates a member id flag; prints a usage error naming the flag when it is bad.
bool valid_id_flag(const std::string& command, const std::string& flag, const std::string& id,
                   std::ostream& err);

// Splits a list of addresses separated by ';', ',' or blanks (empty items dropped).
std::vector<std::string> split_address_list(const std::string& text);

// Formats rows as left-aligned columns separated by two spaces (the first row is the header).
std::string render_columns(const std::vector<std::vector<std::string>>& rows);

// A Unix time in milliseconds as UTC ISO 8601 with milliseconds ("2026-11-27T22:15:01.123Z");
// "-" for 0 or a negative time (unknown).
std::string format_unix_ms(std::int64_t unix_ms);

// "dledgerctl: <message>" on err; returns kExitFailed (kExitUsage for kInvalidArgument raised
// before anything was sent is the caller's business).
int report_error(std::ostream& err, const Error& error);

}  // namespace dledger::ctl
