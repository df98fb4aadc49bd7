// LedgerOptions: everything a ledger replica needs, read from broker.conf keys.
//
// Keys (RocketMQ/DLedger names where they exist, defaults in brackets):
//   dLegerGroup            group name (required)
//   dLegerPeers            "n0-host:port;n1-host:port;..." (required; see raft/membership.h)
//   dLegerSelfId           this member's id, e.g. n0 (required, must be in dLegerPeers)
//   storePathRootDir       data root [./store]; the ledger lives in <root>/dledger-<selfId>
//   flushMode              sync | async [sync]. sync: an entry counts toward the quorum only after
//                          its replica fsynced it. async: fsync every flushIntervalMs; a majority
//                          losing power together can lose acknowledged entries.
//   flushIntervalMs        async fsync period [10]
//   electionTimeoutMinMs / electionTimeoutMaxMs  randomized election timeout [150 / 300]
//   heartbeatIntervalMs    leader heartbeat [50]
//   tickMs                 consensus clock resolution [10]; timeouts are rounded to ticks
//   segmentBytes           log segment size, 4096 B to 2 GiB [1073741824]
//   preallocateBytes       zero-filled space written ahead of the log's end so that an fsync
//                          flushes data only, not file-size metadata; 0 = off, up to 64 MiB
//                          [1048576]
//   logPageCacheBytes      the newest bytes of the log kept in the page cache; older synced
//                          pages are dropped (posix_fadvise DONTNEED, in 1 MiB steps), so the
//                          log's share of the page cache stays bounded; 0 = no limit, the kernel
//                          decides; up to 1 PiB [0]
//   fileReservedTime       retention by age, hours; 0 = keep [72]
//   retentionBytes         retention by total size; 0 = unlimited [0]
//   retentionCheckIntervalMs  how often a snapshot is taken and retention applied [60000]
//   maxPendingAppends      back-pressure bound; beyond it append fails with Overloaded [10000]
//   maxInflightAppends     AppendEntries messages the leader keeps unacknowledged per follower,
//                          1-4096 [256] (the pipelining window)
//   maxPartialInflightAppends  coalescing: with this many Appends unacknowledged, the leader
//                          sends a follower new entries only once they fill an Append (1 MiB);
//                          otherwise they leave together after the next acknowledgement.
//                          1-4096 [1]; fewer, larger messages cost less CPU per entry, at most
//                          one round trip of commit latency under concurrent load (a lone
//                          entry goes at once). Raise it (e.g. to maxInflightAppends: no
//                          coalescing) when the round trip to followers is long compared with
//                          their fsync (replicas in different regions).
//   appendTimeoutMs        an append not committed within this fails with Timeout [3000]
//   preferredLeaderId      member that should lead when caught up, e.g. n0 [none]
//   groupSecret            shared secret peers prove in their handshake [none]
//   adminToken             bearer token for mutating admin requests [none]
//   adminHost / adminPort  admin HTTP endpoint [0.0.0.0 / 10980]
//   adminPeers             admin endpoints of all members, peers-string format [derived]
//   dLegerJoining          true for a member being added to a running group: it starts outside
//                          the membership (never campaigns) until the leader adds it as a
//                          learner (dledgerctl addMember) [false]. Ignored once its log has a
//                          configuration.
// Every invalid value is an error naming the key and the value.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "broker/base/properties.h"
#include "broker/base/result.h"
#include "broker/ledger/log/group_commit_writer.h"
#include "broker/ledger/raft/types.h"

namespace dledger::ledger {

using log::FlushMode;
const char* flush_mode_name(FlushMode mode);

struct LedgerOptions {
  std::string group;
  std::string peers;
  std::string self_name;  // "n0"
  raft::NodeId self_id = raft::kNoNode;
  raft::Membership initial_membership;
  std::string self_peer_address;  // host:port from peers
  std::string data_dir;           // <storePathRootDir>/dledger-<selfId>

  FlushMode flush_mode = FlushMode::kSync;
  std::uint32_t flush_interval_ms = 10;
  std::uint32_t election_timeout_min_ms = 150;
  std::uint32_t election_timeout_max_ms = 300;
  std::uint32_t heartbeat_interval_ms = 50;
  std::uint32_t tick_ms = 10;
  std::uint64_t segment_bytes = 1ull << 30;
  std::uint64_t preallocate_bytes = 1ull << 20;
  std::uint64_t page_cache_bytes = 0;
  std::uint32_t retention_hours = 72;
  std::uint64_t retention_bytes = 0;
  std::uint32_t retention_check_interval_ms = 60000;
  std::uint32_t max_pending_appends = 10000;
  std::uint32_t max_inflight_appends = 256;
  std::uint32_t max_partial_inflight_appends = 1;
  std::uint32_t append_timeout_ms = 3000;
  raft::NodeId preferred_leader = raft::kNoNode;
  std::string group_secret;
  std::string admin_token;
  std::string admin_host = "0.0.0.0";
  std::uint16_t admin_port = 10980;
  // Admin endpoints of the other members ("n0-host:port;n1-host:port"), to tell clients where
  // the leader's admin API is; when empty, the leader's peer host with this replica's adminPort.
  std::string admin_peers;
  bool joining = false;

  // Reads and validates the keys above; marks them used in `props`.
  static Result<LedgerOptions> from_properties(const Properties& props);
};

}  // namespace dledger::ledger
