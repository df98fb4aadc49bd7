#include "broker/programs/dledgerctl/get_command.h"

#include <cstdlib>
#include <limits>
#include <ostream>

#include <nlohmann/json.hpp>

#include "broker/ledger/client/ledger_client.h"
#include "broker/programs/dledgerctl/append_command.h"

namespace dledger::ctl {
namespace {

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

}  // namespace

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

}  // namespace dledger::ctl
