#include "broker/programs/dledgerctl/append_command.h"

#include <cstdlib>
#include <future>
#include <iostream>
#include <ostream>

#include <nlohmann/json.hpp>

#include "broker/ledger/client/ledger_client.h"

namespace dledger::ctl {
namespace {

void print(const AppendOptions& options, const ledger::AppendResult& result, std::size_t count,
           std::ostream& out) {
  if (options.json) {
    out << nlohmann::json{{"index", result.index}, {"term", result.term}, {"count", count}}.dump()
        << "\n";
  } else {
    out << "index " << result.index << " term " << result.term;
    if (count > 1) out << " (" << count << " entries)";
    out << "\n";
  }
}

}  // namespace

int run_append(AppendOptions options, std::ostream& out, std::ostream& err) {
  if (options.peers.empty()) {
    const char* env = std::getenv(kPeersEnv);
    options.peers = env != nullptr && *env != '\0' ? env : kDefaultClientPeers;
  }
  if (options.timeout_ms <= 0) {
    err << "dledgerctl append: --timeout-ms must be positive\n";
    return kExitUsage;
  }
  if (options.data.empty()) {
    std::string line;
    while (std::getline(std::cin, line)) options.data.push_back(line);
    if (options.data.empty()) {
      err << "dledgerctl append: nothing to append (no DATA arguments and empty stdin)\n";
      return kExitUsage;
    }
  }
  client::LedgerClientOptions client_options;
  client_options.peers = options.peers;
  client_options.request_timeout = std::chrono::milliseconds(options.timeout_ms);
  auto client = client::LedgerClient::create(client_options);
  if (!client.ok()) {
    err << "dledgerctl append: --peers: " << client.error().message << "\n";
    return kExitUsage;
  }
  if (options.batch) {
    std::promise<Result<ledger::AppendResult>> promise;
    const std::size_t count = options.data.size();
    (*client)->append_batch(std::move(options.data), [&promise](Result<ledger::AppendResult> r) {
      promise.set_value(std::move(r));
    });
    auto result = promise.get_future().get();
    if (!result.ok()) return report_error(err, result.error());
    print(options, *result, count, out);
    return kExitOk;
  }
  for (const auto& entry : options.data) {
    auto result = (*client)->append_sync(entry);
    if (!result.ok()) return report_error(err, result.error());
    print(options, *result, 1, out);
  }
  return kExitOk;
}

}  // namespace dledger::ctl
