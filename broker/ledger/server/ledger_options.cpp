#include "broker/ledger/server/ledger_options.h"

#include "broker/ledger/raft/membership.h"

namespace dledger::ledger {

const char* flush_mode_name(FlushMode mode) {
  return mode == FlushMode::kSync ? "sync" : "async";
}

namespace {

// Assigns a validated integer option or returns its error from the enclosing function.
#define DLEDGER_READ_INT(target, key, fallback, min, max)   \
  do {                                                      \
    auto value_ = props.get_int(key, fallback, min, max);   \
    if (!value_.ok()) return value_.error();                \
    target = static_cast<decltype(target)>(value_.value()); \
  } while (0)

}  // namespace

Result<LedgerOptions> LedgerOptions::from_properties(const Properties& props) {
  LedgerOptions o;
  auto group = props.require_string("dLegerGroup");
  if (!group.ok()) return group.error();
  o.group = *group;
  auto peers = props.require_string("dLegerPeers");
  if (!peers.ok()) return peers.error();
  o.peers = *peers;
  auto self = props.require_string("dLegerSelfId");
  if (!self.ok()) return self.error();
  o.self_name = *self;
  auto membership = raft::membership_from_peers(o.peers, o.self_name);
  if (!membership.ok()) {
    return make_error(ErrorCode::kInvalidArgument, "dLegerPeers = '" + o.peers +
                                                       "' / dLegerSelfId = '" + o.self_name +
                                                       "': " + membership.error().message);
  }
  o.initial_membership = std::move(membership).value();
  auto id = raft::parse_node_id(o.self_name);
  if (!id.ok()) return id.error();
  o.self_id = *id;
  o.self_peer_address = o.initial_membership.find(o.self_id)->address;

  auto root = props.get_string("storePathRootDir", std::string("./store"));
  if (!root.ok()) return root.error();
  o.data_dir = *root + "/dledger-" + o.self_name;

  auto flush = props.get_enum("flushMode", "sync", {"sync", "async"});
  if (!flush.ok()) return flush.error();
  o.flush_mode = *flush == "sync" ? FlushMode::kSync : FlushMode::kAsync;
  DLEDGER_READ_INT(o.flush_interval_ms, "flushIntervalMs", 10, 1, 10000);
  DLEDGER_READ_INT(o.tick_ms, "tickMs", 10, 1, 1000);
  DLEDGER_READ_INT(o.election_timeout_min_ms, "electionTimeoutMinMs", 150, 2, 600000);
  DLEDGER_READ_INT(o.election_timeout_max_ms, "electionTimeoutMaxMs", 300, 2, 600000);
  DLEDGER_READ_INT(o.heartbeat_interval_ms, "heartbeatIntervalMs", 50, 1, 600000);
  if (o.election_timeout_min_ms >= o.election_timeout_max_ms) {
    return make_error(
        ErrorCode::kInvalidArgument,
        "electionTimeoutMinMs = " + std::to_string(o.election_timeout_min_ms) +
            " must be below electionTimeoutMaxMs = " + std::to_string(o.election_timeout_max_ms));
  }
  if (o.heartbeat_interval_ms * 2 > o.election_timeout_min_ms) {
    return make_error(ErrorCode::kInvalidArgument,
                      "heartbeatIntervalMs = " + std::to_string(o.heartbeat_interval_ms) +
                          " must be at most half of electionTimeoutMinMs = " +
                          std::to_string(o.election_timeout_min_ms));
  }
  if (o.tick_ms > o.heartbeat_interval_ms) {
    return make_error(ErrorCode::kInvalidArgument, "tickMs = " + std::to_string(o.tick_ms) +
                                                       " must not exceed heartbeatIntervalMs = " +
                                                       std::to_string(o.heartbeat_interval_ms));
  }
  // The log refuses segments above 2 GiB (segment offsets are 32-bit); refuse it here, naming the
  // key, rather than when the log opens.
  DLEDGER_READ_INT(o.segment_bytes, "segmentBytes", 1ll << 30, 4096, 2ll << 30);
  DLEDGER_READ_INT(o.preallocate_bytes, "preallocateBytes", 1ll << 20, 0, 64ll << 20);
  DLEDGER_READ_INT(o.page_cache_bytes, "logPageCacheBytes", 0, 0, 1ll << 50);
  DLEDGER_READ_INT(o.retention_hours, "fileReservedTime", 72, 0, 24 * 365 * 10);
  DLEDGER_READ_INT(o.retention_bytes, "retentionBytes", 0, 0, 1ll << 50);
  DLEDGER_READ_INT(o.retention_check_interval_ms, "retentionCheckIntervalMs", 60000, 10, 86400000);
  DLEDGER_READ_INT(o.max_pending_appends, "maxPendingAppends", 10000, 1, 10000000);
  DLEDGER_READ_INT(o.max_inflight_appends, "maxInflightAppends", 256, 1, 4096);
  DLEDGER_READ_INT(o.max_partial_inflight_appends, "maxPartialInflightAppends", 1, 1, 4096);
  DLEDGER_READ_INT(o.append_timeout_ms, "appendTimeoutMs", 3000, 1, 600000);
  if (auto preferred = props.raw("preferredLeaderId"); preferred && !preferred->empty()) {
    auto pid = raft::parse_node_id(*preferred);
    if (!pid.ok() || !o.initial_membership.contains(*pid)) {
      return make_error(ErrorCode::kInvalidArgument,
                        "preferredLeaderId = '" + *preferred + "': not a member in dLegerPeers");
    }
    o.preferred_leader = *pid;
  }
  auto secret = props.get_string("groupSecret", std::string());
  if (!secret.ok()) return secret.error();
  o.group_secret = *secret;
  auto token = props.get_string("adminToken", std::string());
  if (!token.ok()) return token.error();
  o.admin_token = *token;
  auto admin_host = props.get_string("adminHost", std::string("0.0.0.0"));
  if (!admin_host.ok()) return admin_host.error();
  o.admin_host = *admin_host;
  DLEDGER_READ_INT(o.admin_port, "adminPort", 10980, 0, 65535);
  auto joining = props.get_bool("dLegerJoining", false);
  if (!joining.ok()) return joining.error();
  o.joining = *joining;
  auto admin_peers = props.get_string("adminPeers", std::string());
  if (!admin_peers.ok()) return admin_peers.error();
  o.admin_peers = *admin_peers;
  if (!o.admin_peers.empty()) {
    auto parsed = raft::membership_from_peers(o.admin_peers, o.self_name);
    if (!parsed.ok()) {
      return make_error(ErrorCode::kInvalidArgument,
                        "adminPeers = '" + o.admin_peers + "': " + parsed.error().message);
    }
  }
  return o;
}

#undef DLEDGER_READ_INT

}  // namespace dledger::ledger
