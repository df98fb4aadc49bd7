#include "broker/broker/broker_options.h"

#include <charconv>

#include "broker/ledger/raft/membership.h"

namespace dledger::broker {

std::string BrokerOptions::broker_address() const {
  return broker_ip + ":" + std::to_string(listen_port);
}

Result<std::vector<std::string>> parse_namesrv_addresses(const std::string& text) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (start <= text.size()) {
    std::size_t end = text.find(';', start);
    if (end == std::string::npos) end = text.size();
    std::string item = text.substr(start, end - start);
    auto first = item.find_first_not_of(" \t");
    auto last = item.find_last_not_of(" \t");
    item = first == std::string::npos ? "" : item.substr(first, last - first + 1);
    if (!item.empty()) {
      auto colon = item.rfind(':');
      int port = 0;
      bool ok = colon != std::string::npos && colon > 0 && colon + 1 < item.size();
      if (ok) {
        const char* b = item.data() + colon + 1;
        const char* e = item.data() + item.size();
        auto [ptr, ec] = std::from_chars(b, e, port);
        ok = ec == std::errc() && ptr == e && port >= 1 && port <= 65535;
      }
      if (!ok) {
        return make_error(ErrorCode::kInvalidArgument,
                          "namesrvAddr = '" + text + "': item '" + item +
                              "' is not host:port with a port in [1, 65535]");
      }
      out.push_back(item);
    }
    start = end + 1;
  }
  return out;
}

Result<BrokerOptions> BrokerOptions::from_properties(const Properties& props) {
  BrokerOptions o;
#define DLEDGER_TRY_ASSIGN(target, expr)           \
  do {                                             \
    auto dledger_r = (expr);                       \
    if (!dledger_r.ok()) return dledger_r.error(); \
    target = std::move(dledger_r).value();         \
  } while (0)

  auto dledger_enabled = props.get_bool("enableDLegerCommitLog", true);
  if (!dledger_enabled.ok()) return dledger_enabled.error();
  if (!*dledger_enabled) {
    return make_error(ErrorCode::kInvalidArgument,
                      "enableDLegerCommitLog = 'false' (" + props.origin("enableDLegerCommitLog") +
                          "): this broker always replicates its commit log through its Raft "
                          "ledger; remove the key or set it to true");
  }
  DLEDGER_TRY_ASSIGN(o.cluster_name, props.get_string("brokerClusterName", "DefaultCluster"));
  DLEDGER_TRY_ASSIGN(o.broker_name, props.require_string("brokerName"));
  DLEDGER_TRY_ASSIGN(o.broker_ip, props.get_string("brokerIP1", "127.0.0.1"));
  if (o.broker_ip.empty()) {
    return make_error(ErrorCode::kInvalidArgument,
                      "brokerIP1 = '' (" + props.origin("brokerIP1") + "): expected an address");
  }
  std::int64_t port = 0;
  DLEDGER_TRY_ASSIGN(port, props.get_int("listenPort", 10911, 1, 65535));
  o.listen_port = static_cast<std::uint16_t>(port);
  std::string namesrv;
  DLEDGER_TRY_ASSIGN(namesrv, props.get_string("namesrvAddr", std::string()));
  DLEDGER_TRY_ASSIGN(o.namesrv_addresses, parse_namesrv_addresses(namesrv));
  std::string root;
  DLEDGER_TRY_ASSIGN(root, props.get_string("storePathRootDir", std::string("./store")));
  DLEDGER_TRY_ASSIGN(o.consume_queue_dir,
                     props.get_string("storePathConsumeQueue", root + "/consumequeue"));
  for (const char* accepted :
       {"storePathCommitLog", "storePathIndex", "storeCheckpoint", "abortFile", "brokerRole",
        "flushDiskType", "deleteWhen", "brokerIP2"}) {
    auto ignored = props.get_string(accepted, std::string());
    if (!ignored.ok()) return ignored.error();
  }
  std::int64_t value = 0;
  DLEDGER_TRY_ASSIGN(value, props.get_int("sendMessageThreadPoolNums", 1, 1, 1024));
  DLEDGER_TRY_ASSIGN(value, props.get_int("brokerId", 0, -1, INT64_MAX));
  DLEDGER_TRY_ASSIGN(value, props.get_int("registerIntervalMs", 30000, 100, 3600000));
  o.register_interval_ms = static_cast<std::uint32_t>(value);
  DLEDGER_TRY_ASSIGN(value, props.get_int("remotingIoThreads", 2, 1, 64));
  o.remoting_io_threads = static_cast<int>(value);
  DLEDGER_TRY_ASSIGN(value, props.get_int("maxSuspendedPulls", 10000, 0, 1000000));
  o.max_suspended_pulls = static_cast<std::uint32_t>(value);
  DLEDGER_TRY_ASSIGN(value, props.get_int("queryMessageMaxScan", 50000, 1, 100000000));
  o.query_message_max_scan = static_cast<std::uint64_t>(value);
  DLEDGER_TRY_ASSIGN(
      o.log_level, props.get_enum("logLevel", "info", {"trace", "debug", "info", "warn", "error"}));
  DLEDGER_TRY_ASSIGN(o.ledger, ledger::LedgerOptions::from_properties(props));
  DLEDGER_TRY_ASSIGN(o.group_address, props.get_string("brokerGroupAddress", std::string()));
  if (!o.group_address.empty()) {
    auto parsed = parse_namesrv_addresses(o.group_address);
    if (!parsed.ok() || parsed->size() != 1 || parsed->front() != o.group_address) {
      return make_error(ErrorCode::kInvalidArgument,
                        "brokerGroupAddress = '" + o.group_address + "' (" +
                            props.origin("brokerGroupAddress") +
                            "): expected one host:port with a port in [1, 65535], the address "
                            "of a service in front of every replica of the group");
    }
  }
  std::string broker_peers;
  DLEDGER_TRY_ASSIGN(broker_peers, props.get_string("brokerPeers", std::string()));
  if (!broker_peers.empty()) {
    auto members = raft::membership_from_peers(broker_peers, o.ledger.self_name);
    if (!members.ok()) {
      return make_error(ErrorCode::kInvalidArgument, "brokerPeers = '" + broker_peers + "' (" +
                                                         props.origin("brokerPeers") +
                                                         "): " + members.error().message);
    }
    for (const auto& member : members->members) o.broker_peers[member.id] = member.address;
  }
#undef DLEDGER_TRY_ASSIGN
  return o;
}

}  // namespace dledger::broker
