#include "broker/programs/dledgerctl/get_command.h"

#include <cstdlib>
#include <limits>
#include <memory>
#include <ostream>

#include <nlohmann/json.hpp>

#include "broker/ledger/client/ledger_client.h"
#include "broker/programs/dledgerctl/append_command.h"

namespace dledger::ctl {
namespace {

struct GetOptions {
  std::string peers;
  std::vector<std::uint64_t> indexes;
  bool raw = false;
  bool json = false;
  int timeout_ms = 10000;
};

const char* type_name(raft::EntryType type) {
  switch (type) {
    case raft::EntryType::kNormal:
      return "normal";
    case raft::EntryType::kNoOp:
      return "noop";
    case raft::EntryType::kConfig:
      return "config";
  }
  return "unknown";
}

int run_get(GetOptions options, std::ostream& out, std::ostream& err) {
  if (options.peers.empty()) {
    const char* env = std::getenv(kPeersEnv);
    options.peers = env != nullptr && *env != '\0' ? env : kDefaultClientPeers;
  }
  if (options.raw && options.json) {
    err << "dledgerctl get: --raw and --json exclude each other\n";
    return kExitUsage;
  }
  client::LedgerClientOptions client_options;
  client_options.peers = options.peers;
  client_options.request_timeout = std::chrono::milliseconds(options.timeout_ms);
  auto client = client::LedgerClient::create(client_options);
  if (!client.ok()) {
    err << "dledgerctl get: --peers: " << client.error().message << "\n";
    return kExitUsage;
  }
  for (std::uint64_t index : options.indexes) {
    auto entry = (*client)->get_sync(index);
    if (!entry.ok()) return report_error(err, entry.error());
    if (options.raw) {
      out << entry->data;
    } else if (options.json) {
      nlohmann::json j{{"index", entry->index},
                       {"term", entry->term},
                       {"type", type_name(entry->type)},
                       {"data", entry->data}};
      out << j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
    } else {
      out << "index " << entry->index << " term " << entry->term << " type "
          << type_name(entry->type) << ": " << entry->data << "\n";
    }
  }
  return kExitOk;
}

}  // namespace

void add_get_command(CLI::App& app, CommandAction& action) {
  auto options = std::make_shared<GetOptions>();
  CLI::App* command = app.add_subcommand("get", "Read committed entries by index");
  command->add_option("--peers", options->peers,
                      "Client addresses n0-host:port;... (default $DLEDGER_PEERS or "
                      "n0-127.0.0.1:20911)");
  command->add_flag("--raw", options->raw, "Print the entry bytes only");
  command->add_flag("--json", options->json, "JSON output");
  command->add_option("--timeout-ms", options->timeout_ms, "Deadline per read, with retries")
      ->check(CLI::PositiveNumber);
  command->add_option("index", options->indexes, "Indexes to read (>= 1)")
      ->required()
      ->check(CLI::Range(std::uint64_t{1}, std::numeric_limits<std::uint64_t>::max()));
  command->callback([options, &action] {
    action = [options](std::ostream& out, std::ostream& err) {
      return run_get(*options, out, err);
    };
  });
}

}  // namespace dledger::ctl
