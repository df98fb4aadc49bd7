#include "tests/ledger/sim/simulation.h"

#include <algorithm>
#include <deque>
#include <memory>
#include <sstream>
#include <utility>
#include <vector>

#include "broker/ledger/raft/membership.h"
#include "tests/ledger/sim/sim_checker.h"
#include "tests/ledger/sim/sim_disk.h"
#include "tests/ledger/sim/sim_hash.h"
#include "tests/ledger/sim/sim_network.h"
#include "tests/ledger/sim/sim_random.h"

namespace dledger::sim {

bool parse_fault(const std::string& name, raft::TestFaults* faults) {
  *faults = raft::TestFaults{};
  if (name.empty() || name == "none") return true;
  if (name == "skip-up-to-date-check") {
    faults->skip_up_to_date_vote_check = true;
    return true;
  }
  if (name == "commit-previous-term") {
    faults->commit_previous_term_by_counting = true;
    return true;
  }
  return false;
}

std::string replay_command(const std::string& program, const SimOptions& options) {
  std::string cmd = program + " --size " + std::to_string(options.size) + " --seed " +
                    std::to_string(options.seed);
  if (options.chaos_ms != SimOptions{}.chaos_ms) {
    cmd += " --chaos-ms " + std::to_string(options.chaos_ms);
  }
  if (options.liveness_election_timeouts != SimOptions{}.liveness_election_timeouts) {
    cmd += " --liveness-timeouts " + std::to_string(options.liveness_election_timeouts);
  }
  if (!options.fault.empty()) cmd += " --fault " + options.fault;
  return cmd + " --verbose";
}

namespace {

using raft::NodeId;

constexpr std::uint64_t kChaosTickUs = 10'000;
constexpr std::uint64_t kMaxEvents = 3'000'000;

// Can the core report its own invariant checks? (Additive API; call it when present.)
template <typename Core>
Status core_invariants(const Core& core) {
  if constexpr (requires(const Core& c) { c.check_invariants(); }) {
    return core.check_invariants();
  } else {
    return Status::ok_status();
  }
}

std::string name(NodeId id) {
  return raft::node_name(id);
}

std::string describe(const raft::Message& m) {
  std::ostringstream out;
  out << name(m.from) << "->" << name(m.to) << ' ' << raft::message_type_name(m.type)
      << " term=" << m.term << " log=(" << m.log_index << ',' << m.log_term << ')';
  if (m.type == raft::MessageType::kAppend) {
    out << " entries=" << m.entries.size();
    if (!m.entries.empty()) {
      out << '[' << m.entries.front().index << ".." << m.entries.back().index << " t"
          << m.entries.back().term << ']';
    }
    out << " commit=" << m.commit;
  }
  if (m.type == raft::MessageType::kAppendResponse || m.type == raft::MessageType::kVoteResponse ||
      m.type == raft::MessageType::kPreVoteResponse ||
      m.type == raft::MessageType::kInstallSnapshotResponse) {
    out << (m.success ? " ok" : " reject") << " match=" << m.match_index;
    if (!m.success && m.type == raft::MessageType::kAppendResponse) {
      out << " conflict=(" << m.conflict_index << ',' << m.conflict_term << ')';
    }
  }
  if (m.snapshot)
    out << " snapshot=(" << m.snapshot->meta.index << ',' << m.snapshot->meta.term << ')';
  if (m.transfer) out << " transfer";
  return out.str();
}

enum class EventKind { kTick, kDeliver, kDiskSync, kChaos, kRestart, kRecoveryTick, kCrash };

struct Event {
  std::uint64_t time_us = 0;
  std::uint64_t seq = 0;
  EventKind kind = EventKind::kTick;
  NodeId node = raft::kNoNode;
  std::uint64_t incarnation = 0;
  raft::Message message;
};

struct EventAfter {
  bool operator()(const Event& a, const Event& b) const {
    return a.time_us != b.time_us ? a.time_us > b.time_us : a.seq > b.seq;
  }
};

// Step 3 of a Ready, waiting for its batch (or an earlier one) to be synced.
struct PendingReady {
  std::vector<raft::Message> after_persist;
  std::uint64_t persist_index = 0;
  std::uint64_t persist_term = 0;
  bool wrote = false;  // this Ready had a batch of its own in the disk's queue
};

struct Node {
  NodeId id = raft::kNoNode;
  raft::Membership bootstrap;  // the group's initial configuration
  SimDisk disk;
  std::unique_ptr<raft::RaftCore> core;
  bool up = false;
  bool decommissioned = false;
  std::uint64_t incarnation = 0;
  std::uint64_t tick_us = 10'000;
  std::deque<PendingReady> pending;
  std::uint64_t disk_free_at_us = 0;
  std::uint64_t applied = 0;  // highest index reported committed by this incarnation
  raft::SoftState soft;
  bool restart_scheduled = false;
  // The core's commit index at the last Ready and whether it was leader of soft.term then.
  std::uint64_t last_commit = 0;
  bool was_leader_in_term = false;

  bool is_leader() const { return up && soft.role == raft::Role::kLeader; }
  bool repairing() const { return disk.durable().repair_until != 0; }
};

struct Proposal {
  NodeId node = raft::kNoNode;
  std::uint64_t incarnation = 0;
  std::uint64_t index = 0;
  std::uint64_t term = 0;
  std::string payload;
  bool liveness = false;
};

// Per-seed fault mix: some seeds are calm, some hostile, most in between.
struct Knobs {
  double propose = 0.3;
  double crash = 0.0;
  double crash_all = 0.0;
  double crash_leader = 0.5;      // share of crashes aimed at the leader
  double crash_new_leader = 0.0;  // a new leader crashes within a few ms (Figure 8 material)
  double isolate_leader = 0.3;    // share of partitions that cut the leader off alone
  double tear = 0.3;
  double corrupt = 0.0;
  double partition = 0.0;
  double heal = 0.02;
  double network_change = 0.0;
  double membership = 0.0;
  double transfer = 0.0;
  double compact = 0.0;
  double unreachable_report = 0.2;
  std::uint64_t max_down_us = 1'000'000;
  std::uint64_t max_disk_us = 3'000;
  double slow_disk = 0.02;
};

class Simulation {
 public:
  explicit Simulation(const SimOptions& options) : opt_(options), rng_(options.seed) {}

  SimResult run();

 private:
  // ---- infrastructure
  void schedule(std::uint64_t at_us, EventKind kind, NodeId node, std::uint64_t incarnation,
                raft::Message message = {});
  void trace(const std::string& line) {
    if (opt_.trace != nullptr) {
      *opt_.trace << '[' << now_us_ / 1000 << '.' << (now_us_ % 1000) / 100 << "ms] " << line
                  << '\n';
    }
  }
  void fail(const std::string& what) {
    if (!checker_.failed()) trace("VIOLATION " + what);
    checker_.fail(what);
  }
  Node* find(NodeId id) {
    auto it = nodes_.find(id);
    return it == nodes_.end() ? nullptr : it->second.get();
  }
  std::vector<Node*> live_nodes() {
    std::vector<Node*> out;
    for (auto& [id, n] : nodes_) {
      if (!n->decommissioned) out.push_back(n.get());
    }
    return out;
  }
  Node* pick(const std::vector<Node*>& from) {
    return from.empty() ? nullptr : from[rng_.below(from.size())];
  }

  // ---- members
  void draw_knobs();
  Node& create_node(NodeId id, raft::Membership bootstrap);
  void start(Node& n);
  void crash(Node& n, bool corrupt);
  void decommission(Node& n, const std::string& why);
  void pump(Node& n);
  void after_input(Node& n);
  void send(Node& from, const raft::Message& m);
  void disk_synced(Node& n);
  void finish(Node& n, PendingReady& p);
  void apply_commits(Node& n, std::uint64_t commit);
  void resolve_proposals(Node& n, std::uint64_t commit);
  raft::Membership membership_at(const Node& n, std::uint64_t index);
  // The leader with the highest term, if no member (up or down) knows a higher term.
  Node* newest_leader();
  std::size_t damaged_or_down(const Node* except);

  // ---- workload and faults
  void chaos_tick();
  void propose(bool liveness);
  void crash_some();
  void partition_some();
  void change_network();
  void change_membership();
  void transfer_leadership();
  void compact_some();
  void decommission_removed();
  void begin_recovery();
  void recovery_tick();
  std::string state_dump();
  bool repairs_exceed_tolerance();

  SimOptions opt_;
  SimRandom rng_;
  SimNetwork net_;
  SafetyChecker checker_;
  SimCounters counters_;
  Knobs knobs_;
  raft::Config base_config_;
  // The group's initial configuration: every member's bootstrap (like a static peers list), so
  // a snapshot below the first kConfig entry records it even on members added later.
  raft::Membership group_;
  std::uint64_t now_us_ = 0;
  std::uint64_t seq_ = 0;
  std::vector<Event> events_;  // heap ordered by EventAfter
  std::map<NodeId, std::unique_ptr<Node>> nodes_;
  NodeId next_id_ = 1;
  NodeId client_target_ = raft::kNoNode;
  std::uint64_t next_payload_ = 1;
  std::vector<Proposal> proposals_;
  std::uint64_t chaos_end_us_ = 0;
  bool recovering_ = false;
  std::uint64_t liveness_deadline_us_ = 0;
  std::uint64_t liveness_index_ = 0;  // acknowledged liveness proposal (0: none yet)
  bool done_ = false;
};

void Simulation::schedule(std::uint64_t at_us, EventKind kind, NodeId node,
                          std::uint64_t incarnation, raft::Message message) {
  events_.push_back(Event{at_us, seq_++, kind, node, incarnation, std::move(message)});
  std::push_heap(events_.begin(), events_.end(), EventAfter{});
}

void Simulation::draw_knobs() {
  // Each seed gets its own mix; roughly a quarter of the seeds leave a fault class out.
  auto level = [&](double low, double high) {
    return rng_.chance(0.25) ? 0.0 : low + (high - low) * rng_.unit();
  };
  knobs_.propose = 0.1 + 0.5 * rng_.unit();
  knobs_.crash = level(0.001, 0.02);
  knobs_.crash_all = rng_.chance(0.3) ? 0.1 : 0.0;
  knobs_.crash_leader = rng_.unit();
  knobs_.crash_new_leader = level(0.05, 0.4);
  knobs_.isolate_leader = rng_.unit() * 0.6;
  knobs_.tear = rng_.unit();
  knobs_.corrupt = level(0.1, 0.6);
  knobs_.partition = level(0.002, 0.03);
  knobs_.heal = 0.005 + 0.05 * rng_.unit();
  knobs_.network_change = level(0.002, 0.02);
  knobs_.membership = level(0.002, 0.03);
  knobs_.transfer = level(0.001, 0.01);
  knobs_.compact = level(0.002, 0.02);
  knobs_.max_down_us = rng_.between(20'000, 1'500'000);
  knobs_.max_disk_us = rng_.between(300, 8'000);
  knobs_.slow_disk = rng_.unit() * 0.05;

  raft::Config& c = base_config_;
  c.election_timeout_min_ticks = static_cast<int>(rng_.between(10, 20));
  c.election_timeout_max_ticks =
      c.election_timeout_min_ticks + static_cast<int>(rng_.between(5, 15));
  c.heartbeat_interval_ticks = static_cast<int>(rng_.between(1, 4));
  c.pre_vote = rng_.chance(0.85);
  c.check_quorum = rng_.chance(0.85);
  c.max_inflight_messages = rng_.chance(0.3) ? static_cast<std::uint32_t>(rng_.between(1, 8)) : 256;
  c.max_inflight_entries = rng_.chance(0.3) ? rng_.between(1, 16) : (64ull << 10);
  c.max_message_bytes = rng_.chance(0.4) ? rng_.between(1, 64) : (1ull << 20);
  c.promote_max_lag_entries = rng_.chance(0.5) ? 1000 : rng_.between(0, 20);
  c.preferred_leader =
      rng_.chance(0.1) ? static_cast<NodeId>(rng_.between(1, opt_.size)) : raft::kNoNode;
  {
    // Drawn from a stream of its own so that adding it left every other draw of a seed as it was.
    SimRandom coalescing_rng(opt_.seed ^ 0x636f616c65736365ull);
    c.max_partial_inflight_messages =
        coalescing_rng.chance(0.5) ? static_cast<std::uint32_t>(coalescing_rng.between(1, 2)) : 256;
  }
  if (!parse_fault(opt_.fault, &c.test_faults)) fail("unknown fault '" + opt_.fault + "'");

  NetworkFaults f;
  f.min_delay_us = rng_.between(100, 1'000);
  f.max_delay_us = f.min_delay_us + rng_.between(0, 10'000);
  net_.set_faults(f);
}

Node& Simulation::create_node(NodeId id, raft::Membership bootstrap) {
  auto node = std::make_unique<Node>();
  node->id = id;
  node->bootstrap = std::move(bootstrap);
  node->tick_us = rng_.between(9'000, 11'000);  // clocks drift apart
  Node& ref = *node;
  nodes_[id] = std::move(node);
  next_id_ = std::max(next_id_, id + 1);
  return ref;
}

raft::Membership Simulation::membership_at(const Node& n, std::uint64_t index) {
  const DiskImage& img = n.disk.durable();
  for (std::uint64_t i = std::min(index, img.last_index()); i > img.snapshot_meta.index; --i) {
    const raft::Entry* e = img.entry_at(i);
    if (e->type == raft::EntryType::kConfig) {
      auto m = raft::decode_membership(e->data);
      if (m.ok()) return *m;
      fail("config entry at index " + std::to_string(i) + " on " + name(n.id) +
           " does not decode: " + m.error().to_string());
      return {};
    }
  }
  if (!img.snapshot_meta.membership.members.empty()) return img.snapshot_meta.membership;
  return n.bootstrap;
}

void Simulation::start(Node& n) {
  RecoveryReport report = n.disk.recover();
  const DiskImage& img = n.disk.durable();
  if (report.dropped_torn_tail) counters_.add("recovery_dropped_torn_tail");
  if (report.corrupt_index != 0) counters_.add("recovery_cut_corrupt_log");

  raft::InitialState init;
  init.hard_state = img.hard_state;
  init.commit = rng_.chance(0.5) ? img.commit : 0;
  init.bootstrap = n.bootstrap;
  init.repair_until = img.repair_until;
  for (std::uint64_t i = img.first_index(); i <= img.last_index(); ++i) {
    const raft::Entry* e = img.entry_at(i);
    if (e->type != raft::EntryType::kConfig) continue;
    auto m = raft::decode_membership(e->data);
    if (!m.ok()) {
      fail("config entry at index " + std::to_string(i) + " on " + name(n.id) +
           " does not decode: " + m.error().to_string());
      return;
    }
    init.configs.push_back(raft::ConfigEntry{i, std::move(*m)});
  }
  raft::Config config = base_config_;
  config.id = n.id;
  auto random = std::make_shared<SimRandom>(rng_.fork());
  config.random = [random] { return random->next(); };
  auto core = raft::RaftCore::create(std::move(config), n.disk, std::move(init));
  if (!core.ok()) {
    fail("restart of " + name(n.id) + " refused by the core: " + core.error().to_string());
    return;
  }
  n.core = std::move(*core);
  n.up = true;
  n.restart_scheduled = false;
  ++n.incarnation;
  n.pending.clear();
  n.disk_free_at_us = now_us_;
  n.soft = n.core->soft_state();
  n.applied = img.snapshot_meta.index;
  n.last_commit = 0;
  n.was_leader_in_term = false;
  if (img.snapshot_meta.index > 0) {
    checker_.on_committed(n.id, img.snapshot_meta.index, img.snapshot_meta.term, img.snapshot_chain,
                          0, false, img.hard_state.term);
  }
  trace(name(n.id) + " start #" + std::to_string(n.incarnation) + ": term " +
        std::to_string(img.hard_state.term) + ", log (" + std::to_string(img.snapshot_meta.index) +
        ", " + std::to_string(img.last_index()) + "], commit " +
        std::to_string(n.core->commit_index()) + ", repair_until " +
        std::to_string(img.repair_until) + (report.dropped_torn_tail ? ", dropped torn tail" : "") +
        (report.corrupt_index != 0
             ? ", cut corrupt log at " + std::to_string(report.corrupt_index) + " (was " +
                   std::to_string(report.old_last_index) + ")"
             : ""));
  schedule(now_us_ + rng_.below(n.tick_us) + 1, EventKind::kTick, n.id, n.incarnation);
  pump(n);
  after_input(n);
}

void Simulation::crash(Node& n, bool corrupt) {
  if (!n.up) return;
  counters_.add("crashes");
  std::optional<std::size_t> torn;
  if (n.disk.unsynced_batches() > 0 && rng_.chance(knobs_.tear)) {
    torn = rng_.below(4);
    counters_.add("torn_writes");
  }
  const std::size_t lost = n.disk.unsynced_batches();
  n.core.reset();
  n.up = false;
  n.pending.clear();
  n.disk.crash(torn);
  std::string corrupt_note;
  const DiskImage& img = n.disk.durable();
  if (corrupt && img.log.size() >= 3) {
    const std::uint64_t index = rng_.between(img.first_index() + 1, img.last_index() - 1);
    n.disk.corrupt(index);
    counters_.add("corruptions");
    corrupt_note = ", corrupted durable entry " + std::to_string(index);
  }
  trace(name(n.id) + " crash: lost " + std::to_string(lost) + " unsynced batches" +
        (torn ? ", torn write kept " + std::to_string(*torn) + " entries" : "") + corrupt_note);
  std::erase_if(proposals_, [&](const Proposal& p) {
    if (p.node == n.id) counters_.add("proposals_outcome_unknown");
    return p.node == n.id;
  });
  if (!recovering_) {
    n.restart_scheduled = true;
    schedule(now_us_ + rng_.between(1'000, knobs_.max_down_us), EventKind::kRestart, n.id, 0);
  }
}

void Simulation::decommission(Node& n, const std::string& why) {
  trace(name(n.id) + " decommissioned: " + why);
  counters_.add("decommissioned");
  n.core.reset();
  n.up = false;
  n.decommissioned = true;
  n.pending.clear();
  std::erase_if(proposals_, [&](const Proposal& p) { return p.node == n.id; });
}

void Simulation::send(Node& from, const raft::Message& m) {
  if (!net_.link_up(m.from, m.to) && rng_.chance(knobs_.unreachable_report) && from.up) {
    from.core->report_unreachable(m.to);
  }
  for (auto& copy : net_.route(m, rng_)) {
    schedule(now_us_ + copy.delay_us, EventKind::kDeliver, m.to, 0, std::move(copy.message));
  }
}

void Simulation::pump(Node& n) {
  while (n.up && !checker_.failed() && n.core->has_ready()) {
    raft::Ready rd = n.core->ready();
    const bool leader_before = n.was_leader_in_term;
    if (rd.soft_state) {
      const raft::SoftState before = n.soft;
      n.soft = *rd.soft_state;
      if (before.term != n.soft.term || n.soft.role != raft::Role::kLeader) {
        n.was_leader_in_term = false;
      }
      if (before.role != n.soft.role || before.term != n.soft.term) {
        trace(name(n.id) + " is " + raft::role_name(n.soft.role) + " in term " +
              std::to_string(n.soft.term) + " (leader " + name(n.soft.leader) + ")");
      }
      if (n.soft.role == raft::Role::kLeader) {
        checker_.on_leader(n.soft.term, n.id);
        if (before.role != raft::Role::kLeader || before.term != n.soft.term) {
          counters_.add("leaders_elected");
          if (!recovering_ && rng_.chance(knobs_.crash_new_leader)) {
            schedule(now_us_ + rng_.between(0, 20'000), EventKind::kCrash, n.id, n.incarnation);
          }
        }
      }
    }
    for (const raft::Message& m : rd.messages) send(n, m);

    WriteBatch batch;
    batch.snapshot = std::move(rd.snapshot);
    batch.entries = std::move(rd.entries);
    batch.hard_state = rd.hard_state;
    batch.commit = rd.commit;
    const bool wrote = batch.writes_anything();
    if (batch.snapshot) {
      counters_.add("snapshots_installed");
      trace(name(n.id) + " installs snapshot (" + std::to_string(batch.snapshot->meta.index) +
            ", " + std::to_string(batch.snapshot->meta.term) + ")");
    }
    if (wrote) {
      Status st = n.disk.write(std::move(batch));
      if (!st.ok()) {
        fail("persistence contract: " + name(n.id) +
             "'s Ready asked for a write the log cannot take: " + st.error().to_string());
        return;
      }
      std::uint64_t latency = rng_.between(100, knobs_.max_disk_us);
      if (rng_.chance(knobs_.slow_disk)) latency += rng_.between(10'000, 60'000);
      n.disk_free_at_us = std::max(n.disk_free_at_us, now_us_) + latency;
      schedule(n.disk_free_at_us, EventKind::kDiskSync, n.id, n.incarnation);
    }
    PendingReady p{std::move(rd.messages_after_persist), rd.persist_index, rd.persist_term, wrote};
    if (!wrote && n.pending.empty()) {
      finish(n, p);
    } else {
      n.pending.push_back(std::move(p));
    }
    if (n.soft.role == raft::Role::kLeader) {
      checker_.check_leader_log(n.id, n.soft.term, n.disk.written());
    }
    const DiskImage& durable = n.disk.durable();
    if (rd.commit > durable.last_index()) {
      fail("persistence contract: " + name(n.id) + "'s Ready.commit " + std::to_string(rd.commit) +
           " exceeds its durable last index " + std::to_string(durable.last_index()));
      return;
    }
    // Ready.commit is capped at the local durable index, so the commit rule is checked on the
    // core's own commit index.
    const bool leader_now = n.soft.role == raft::Role::kLeader;
    const std::uint64_t core_commit = n.core->commit_index();
    if (leader_now && leader_before && core_commit > n.last_commit) {
      checker_.on_leader_commit(n.id, n.soft.term, core_commit,
                                n.disk.written().term_at(core_commit).value_or(0));
    }
    n.was_leader_in_term = leader_now;
    n.last_commit = std::max(n.last_commit, core_commit);
    apply_commits(n, rd.commit);
    resolve_proposals(n, rd.commit);
  }
}

void Simulation::finish(Node& n, PendingReady& p) {
  for (const raft::Message& m : p.after_persist) send(n, m);
  n.core->on_persisted(p.persist_index, p.persist_term);
}

void Simulation::disk_synced(Node& n) {
  auto batch = n.disk.sync_one();
  if (!batch.ok()) {
    fail("simulated disk of " + name(n.id) + ": " + batch.error().to_string());
    return;
  }
  const DiskImage& img = n.disk.durable();
  if (batch->snapshot) {
    checker_.on_durable_entry(n.id, img.snapshot_meta.index, img.snapshot_meta.term,
                              img.snapshot_chain);
  }
  for (const raft::Entry& e : batch->entries) {
    checker_.on_durable_entry(n.id, e.index, e.term, *img.chain_at(e.index));
  }
  // Finish this batch's Ready and every following Ready that had nothing of its own to write.
  bool first = true;
  while (!n.pending.empty() && n.up && (first || !n.pending.front().wrote)) {
    if (first && !n.pending.front().wrote) {
      fail("simulator bookkeeping: synced batch has no Ready waiting for it on " + name(n.id));
      return;
    }
    first = false;
    PendingReady p = std::move(n.pending.front());
    n.pending.pop_front();
    finish(n, p);
  }
  pump(n);
  after_input(n);
}

void Simulation::apply_commits(Node& n, std::uint64_t commit) {
  if (commit <= n.applied) return;
  const DiskImage& img = n.disk.written();
  const std::uint64_t reporter_term = n.core->hard_state().term;
  std::uint64_t i = n.applied + 1;
  if (i <= img.snapshot_meta.index) {
    checker_.on_committed(n.id, img.snapshot_meta.index, img.snapshot_meta.term, img.snapshot_chain,
                          0, false, reporter_term);
    i = img.snapshot_meta.index + 1;
  }
  for (; i <= commit; ++i) {
    const raft::Entry* e = img.entry_at(i);
    if (e == nullptr) {
      fail(name(n.id) + " reports commit " + std::to_string(commit) + " but its log ends at " +
           std::to_string(img.last_index()));
      return;
    }
    checker_.on_committed(n.id, i, e->term, img.chains[i - img.snapshot_meta.index - 1],
                          fnv1a64(e->data), e->type == raft::EntryType::kNormal, reporter_term);
  }
  n.applied = commit;
}

void Simulation::resolve_proposals(Node& n, std::uint64_t commit) {
  const DiskImage& img = n.disk.written();
  std::erase_if(proposals_, [&](const Proposal& p) {
    if (p.node != n.id || p.incarnation != n.incarnation || p.index > commit) return false;
    bool same = false;
    if (const raft::Entry* e = img.entry_at(p.index)) {
      same = e->term == p.term && e->data == p.payload;
    } else if (const CommittedRecord* rec = checker_.committed(p.index)) {
      same = rec->term == p.term && rec->payload_hash == fnv1a64(p.payload);
    }
    if (!same) {
      counters_.add("proposals_overwritten");
      return true;
    }
    counters_.add(p.liveness ? "liveness_acknowledged" : "acknowledged");
    trace(name(n.id) + " acknowledges '" + p.payload + "' at (" + std::to_string(p.index) + ", " +
          std::to_string(p.term) + ")");
    checker_.on_acknowledged(Acknowledgement{p.index, p.term, fnv1a64(p.payload), p.payload});
    if (p.liveness && liveness_index_ == 0) liveness_index_ = p.index;
    return true;
  });
}

void Simulation::after_input(Node& n) {
  if (!n.up || checker_.failed()) return;
  Status inv = core_invariants(*n.core);
  if (!inv.ok()) {
    fail("core invariant on " + name(n.id) + ": " + inv.error().to_string());
    return;
  }
  if (n.repairing() && n.pending.empty() && n.disk.unsynced_batches() == 0 &&
      n.core->status().repair_until == 0) {
    trace(name(n.id) + " repaired: log durable up to " +
          std::to_string(n.disk.durable().last_index()) + ", clearing the repair marker");
    counters_.add("repairs_completed");
    n.disk.clear_repair_marker();
  }
}

Node* Simulation::newest_leader() {
  Node* leader = nullptr;
  for (auto& [id, n] : nodes_) {
    if (n->is_leader() && !n->decommissioned &&
        (leader == nullptr || n->soft.term > leader->soft.term)) {
      leader = n.get();
    }
  }
  if (leader == nullptr) return nullptr;
  // Stale if a member of its configuration (up, or down with its durable term) knows a newer
  // term. Members outside it (removed ones still campaigning) do not count.
  const raft::Membership& members = leader->core->membership();
  for (auto& [id, n] : nodes_) {
    if (n->decommissioned || !members.contains(id)) continue;
    const std::uint64_t term =
        n->up ? n->core->hard_state().term : n->disk.durable().hard_state.term;
    if (term > leader->soft.term) return nullptr;
  }
  return leader;
}

std::size_t Simulation::damaged_or_down(const Node* except) {
  std::size_t count = 0;
  for (auto& [id, n] : nodes_) {
    if (n.get() == except || n->decommissioned) continue;
    if (!n->up || n->repairing()) ++count;
  }
  return count;
}

// ------------------------------------------------------------------------------------------------
// Workload and faults

void Simulation::propose(bool liveness) {
  Node* target = find(client_target_);
  if (target == nullptr || !target->up) {
    std::vector<Node*> up;
    for (Node* n : live_nodes()) {
      if (n->up) up.push_back(n);
    }
    target = pick(up);
    if (target == nullptr) return;
  }
  std::vector<std::string> payloads;
  const std::size_t count = liveness ? 1 : (rng_.chance(0.2) ? rng_.between(2, 4) : 1);
  for (std::size_t i = 0; i < count; ++i) {
    payloads.push_back((liveness ? "live-" : "client-") + std::to_string(next_payload_++));
  }
  auto first =
      count == 1 ? target->core->propose(payloads[0]) : target->core->propose_batch(payloads);
  if (!first.ok()) {
    counters_.add("proposals_refused");
    const NodeId hint = target->core->soft_state().leader;
    client_target_ = hint != raft::kNoNode && hint != target->id ? hint : raft::kNoNode;
    return;
  }
  client_target_ = target->id;
  counters_.add("proposals", count);
  for (std::size_t i = 0; i < count; ++i) {
    proposals_.push_back(Proposal{target->id, target->incarnation, *first + i,
                                  target->core->hard_state().term, payloads[i], liveness});
    trace(name(target->id) + " proposes '" + payloads[i] + "' at index " +
          std::to_string(*first + i));
  }
  pump(*target);
  after_input(*target);
}

void Simulation::crash_some() {
  std::vector<Node*> up;
  for (Node* n : live_nodes()) {
    if (n->up) up.push_back(n);
  }
  if (up.empty()) return;
  if (rng_.chance(knobs_.crash_all)) {
    trace("power loss: every member crashes");
    counters_.add("power_losses");
    for (Node* n : up) crash(*n, false);
    return;
  }
  Node* victim = pick(up);
  if (rng_.chance(knobs_.crash_leader)) {
    if (Node* leader = newest_leader()) victim = leader;
  }
  bool corrupt = false;
  if (rng_.chance(knobs_.corrupt)) {
    // A corrupted log is allowed on a minority only, counting members that are down or still
    // repairing: a majority must keep every acknowledged entry.
    Node* leader = newest_leader();
    if (leader != nullptr) {
      const std::size_t voters = leader->core->membership().voter_count();
      corrupt = damaged_or_down(victim) + 1 <= (voters - 1) / 2;
    }
  }
  crash(*victim, corrupt);
}

void Simulation::partition_some() {
  std::vector<NodeId> ids;
  for (Node* n : live_nodes()) ids.push_back(n->id);
  if (ids.size() < 2) return;
  for (std::size_t i = ids.size(); i > 1; --i) std::swap(ids[i - 1], ids[rng_.below(i)]);
  const std::uint64_t kind = rng_.below(3);
  Node* leader = newest_leader();
  if (leader != nullptr && rng_.chance(knobs_.isolate_leader)) {
    std::erase(ids, leader->id);
    net_.partition({leader->id}, ids);
    counters_.add("partitions_isolate_leader");
  } else if (kind == 0) {
    const std::size_t cut = rng_.between(1, ids.size() - 1);
    std::vector<NodeId> a(ids.begin(), ids.begin() + static_cast<long>(cut));
    std::vector<NodeId> b(ids.begin() + static_cast<long>(cut), ids.end());
    net_.partition(a, b);
    counters_.add("partitions_symmetric");
  } else if (kind == 1) {
    const std::size_t cuts = rng_.between(1, ids.size());
    for (std::size_t i = 0; i < cuts; ++i) {
      net_.cut_one_way(ids[rng_.below(ids.size())], ids[rng_.below(ids.size())]);
    }
    counters_.add("partitions_one_way");
  } else {
    net_.ring(ids);
    counters_.add("partitions_ring");
  }
  trace("network cuts: " + net_.describe_cuts());
}

void Simulation::change_network() {
  NetworkFaults f = net_.faults();
  f.loss_probability = rng_.chance(0.4) ? 0.0 : rng_.unit() * 0.3;
  f.duplicate_probability = rng_.chance(0.5) ? 0.0 : rng_.unit() * 0.1;
  f.long_delay_probability = rng_.chance(0.5) ? 0.0 : rng_.unit() * 0.1;
  f.max_long_delay_us = rng_.between(10'000, 300'000);
  net_.set_faults(f);
  counters_.add("network_fault_changes");
  trace("network faults: loss " + std::to_string(f.loss_probability) + ", duplicate " +
        std::to_string(f.duplicate_probability) + ", long delay " +
        std::to_string(f.long_delay_probability));
}

void Simulation::change_membership() {
  Node* leader = newest_leader();
  if (leader == nullptr) return;
  const raft::CoreStatus status = leader->core->status();
  if (status.membership_change_pending) return;
  const raft::Membership& m = status.membership;
  const std::size_t voters = m.voter_count();
  std::vector<NodeId> learners;
  std::vector<NodeId> voter_ids = m.voters();
  for (const raft::Member& member : m.members) {
    if (!member.voter) learners.push_back(member.id);
  }
  Status st;
  std::string what;
  if (!learners.empty()) {
    const NodeId id = learners[rng_.below(learners.size())];
    if (rng_.chance(0.85)) {
      what = "promote " + name(id);
      st = leader->core->promote(id);
    } else {
      what = "remove learner " + name(id);
      st = leader->core->remove_member(id);
    }
  } else if (voters < 5 && (voters <= 3 || rng_.chance(0.5))) {
    const NodeId id = next_id_;
    what = "add learner " + name(id);
    st = leader->core->add_learner(id, "sim-" + name(id) + ":7000");
    if (st.ok()) start(create_node(id, group_));
  } else if (voters > 3) {
    // Removing a voter must leave the damaged/down members a minority of the rest.
    const NodeId id = voter_ids[rng_.below(voter_ids.size())];
    if (damaged_or_down(find(id)) > (voters - 2) / 2) return;
    what = "remove voter " + name(id);
    st = leader->core->remove_member(id);
  } else {
    return;
  }
  counters_.add(st.ok() ? "membership_changes" : "membership_changes_refused");
  trace(name(leader->id) + " membership change: " + what +
        (st.ok() ? "" : " refused: " + st.error().to_string()));
  pump(*leader);
  after_input(*leader);
}

void Simulation::transfer_leadership() {
  Node* leader = newest_leader();
  if (leader == nullptr) return;
  std::vector<NodeId> voters = leader->core->membership().voters();
  std::erase(voters, leader->id);
  if (voters.empty()) return;
  const NodeId target = voters[rng_.below(voters.size())];
  Status st = leader->core->transfer_leadership(target);
  counters_.add(st.ok() ? "transfers" : "transfers_refused");
  trace(name(leader->id) + " transfers leadership to " + name(target) +
        (st.ok() ? "" : " refused: " + st.error().to_string()));
  pump(*leader);
  after_input(*leader);
}

void Simulation::compact_some() {
  std::vector<Node*> candidates;
  for (Node* n : live_nodes()) {
    if (n->up && n->disk.unsynced_batches() == 0 &&
        n->applied > n->disk.durable().snapshot_meta.index + 1 &&
        n->applied <= n->disk.durable().last_index()) {
      candidates.push_back(n);
    }
  }
  Node* n = pick(candidates);
  if (n == nullptr) return;
  const std::uint64_t index = rng_.between(n->disk.durable().snapshot_meta.index + 1, n->applied);
  Status st = n->disk.compact(index, membership_at(*n, index));
  if (!st.ok()) {
    fail("compaction on " + name(n->id) + ": " + st.error().to_string());
    return;
  }
  counters_.add("compactions");
  trace(name(n->id) + " compacts its log through index " + std::to_string(index));
  after_input(*n);
}

void Simulation::decommission_removed() {
  Node* leader = newest_leader();
  if (leader == nullptr) return;
  if (leader->core->status().membership_change_pending) return;
  const raft::Membership& m = leader->core->membership();
  for (Node* n : live_nodes()) {
    if (!m.contains(n->id)) {
      decommission(*n, "not in " + name(leader->id) + "'s committed configuration");
    }
  }
}

void Simulation::chaos_tick() {
  if (rng_.chance(knobs_.propose)) propose(false);
  if (rng_.chance(knobs_.crash)) crash_some();
  if (rng_.chance(knobs_.partition)) partition_some();
  if (!net_.healed() && rng_.chance(knobs_.heal)) {
    net_.heal();
    trace("network healed");
  }
  if (rng_.chance(knobs_.network_change)) change_network();
  if (rng_.chance(knobs_.membership)) change_membership();
  if (rng_.chance(knobs_.transfer)) transfer_leadership();
  if (rng_.chance(knobs_.compact)) compact_some();
  decommission_removed();
}

void Simulation::begin_recovery() {
  recovering_ = true;
  net_.heal();
  NetworkFaults calm = net_.faults();
  calm.loss_probability = 0;
  calm.duplicate_probability = 0;
  calm.long_delay_probability = 0;
  net_.set_faults(calm);
  trace("recovery: network healed, faults stopped, every member restarted");
  for (Node* n : live_nodes()) {
    if (!n->up) start(*n);
  }
  std::uint64_t max_tick_us = 0;
  for (Node* n : live_nodes()) max_tick_us = std::max(max_tick_us, n->tick_us);
  liveness_deadline_us_ =
      now_us_ + opt_.liveness_election_timeouts *
                    static_cast<std::uint64_t>(base_config_.election_timeout_max_ticks) *
                    max_tick_us;
  schedule(now_us_ + kChaosTickUs, EventKind::kRecoveryTick, raft::kNoNode, 0);
}

void Simulation::recovery_tick() {
  decommission_removed();
  Node* leader = newest_leader();
  if (liveness_index_ == 0) {
    if (leader != nullptr) {
      const bool waiting =
          std::any_of(proposals_.begin(), proposals_.end(), [&](const Proposal& p) {
            return p.liveness && p.node == leader->id && p.incarnation == leader->incarnation;
          });
      if (!waiting) {
        client_target_ = leader->id;
        propose(true);
      }
    }
  } else {
    bool all_applied = true;
    for (Node* n : live_nodes())
      all_applied = all_applied && n->up && n->applied >= liveness_index_;
    if (all_applied) {
      trace("recovery complete: every member applied index " + std::to_string(liveness_index_));
      done_ = true;
      return;
    }
  }
  if (now_us_ > liveness_deadline_us_) {
    if (liveness_index_ == 0 && repairs_exceed_tolerance()) {
      // More members lost acknowledged entries than the group tolerates: a repairing member
      // does not vote, and the others are no majority. Staying unavailable is correct.
      trace("recovery impossible: repairing members leave no voting majority; " + state_dump());
      counters_.add("unrecoverable_repairs");
      done_ = true;
      return;
    }
    fail("liveness: " + std::to_string(opt_.liveness_election_timeouts) +
         " election timeouts after faults healed, " +
         (liveness_index_ == 0
              ? std::string("no proposal was acknowledged")
              : "not every member applied index " + std::to_string(liveness_index_)) +
         "; " + state_dump());
    return;
  }
  schedule(now_us_ + kChaosTickUs, EventKind::kRecoveryTick, raft::kNoNode, 0);
}

// True when no member that is up and not repairing sees a majority of its voters up and not
// repairing (and at least one member is repairing): no leader can be elected until a repair
// completes, and a repair completes only through a leader.
bool Simulation::repairs_exceed_tolerance() {
  auto can_vote = [&](NodeId id) {
    auto it = nodes_.find(id);
    return it != nodes_.end() && it->second->up && it->second->core->status().repair_until == 0;
  };
  bool any_repairing = false;
  for (Node* n : live_nodes()) any_repairing = any_repairing || (n->up && !can_vote(n->id));
  if (!any_repairing) return false;
  for (Node* n : live_nodes()) {
    if (!can_vote(n->id)) continue;
    const raft::Membership& m = n->core->membership();
    std::size_t voting = 0;
    for (NodeId v : m.voters()) voting += can_vote(v) ? 1 : 0;
    if (voting >= m.quorum()) return false;
  }
  return true;
}

std::string Simulation::state_dump() {
  std::string out;
  for (Node* n : live_nodes()) {
    if (!out.empty()) out += "; ";
    out += name(n->id) + ":";
    if (!n->up) {
      out += "down";
      continue;
    }
    const raft::CoreStatus s = n->core->status();
    out += std::string(raft::role_name(s.soft.role)) + " term " + std::to_string(s.soft.term) +
           " commit " + std::to_string(s.commit) + " last " + std::to_string(s.last_index) +
           " applied " + std::to_string(n->applied) + " repair_until " +
           std::to_string(s.repair_until) + " members " + raft::membership_to_peers(s.membership);
  }
  return out;
}

SimResult Simulation::run() {
  draw_knobs();
  raft::Membership group;
  for (int i = 0; i < opt_.size; ++i) {
    const NodeId id = next_id_;
    group.members.push_back(raft::Member{id, "sim-" + name(id) + ":7000", true});
    ++next_id_;
  }
  group_ = group;
  for (const raft::Member& m : group.members) create_node(m.id, group);
  trace("seed " + std::to_string(opt_.seed) + ": " + std::to_string(opt_.size) +
        " members, election timeout " + std::to_string(base_config_.election_timeout_min_ticks) +
        "-" + std::to_string(base_config_.election_timeout_max_ticks) + " ticks, heartbeat " +
        std::to_string(base_config_.heartbeat_interval_ticks) + ", pre_vote " +
        std::to_string(base_config_.pre_vote) + ", check_quorum " +
        std::to_string(base_config_.check_quorum) + ", max_message_bytes " +
        std::to_string(base_config_.max_message_bytes) + ", max_inflight " +
        std::to_string(base_config_.max_inflight_messages) + " messages / " +
        std::to_string(base_config_.max_inflight_entries) + " entries, coalescing at " +
        std::to_string(base_config_.max_partial_inflight_messages) + " in flight");
  for (auto& [id, n] : nodes_) start(*n);
  chaos_end_us_ = opt_.chaos_ms * 1000;
  schedule(kChaosTickUs, EventKind::kChaos, raft::kNoNode, 0);

  std::uint64_t steps = 0;
  while (!done_ && !checker_.failed() && !events_.empty()) {
    if (++steps > kMaxEvents) {
      fail("livelock: more than " + std::to_string(kMaxEvents) +
           " events without finishing (a message storm?); " + state_dump());
      break;
    }
    std::pop_heap(events_.begin(), events_.end(), EventAfter{});
    Event ev = std::move(events_.back());
    events_.pop_back();
    now_us_ = ev.time_us;
    Node* n = find(ev.node);
    switch (ev.kind) {
      case EventKind::kTick:
        if (n == nullptr || !n->up || n->incarnation != ev.incarnation) break;
        n->core->tick();
        pump(*n);
        after_input(*n);
        if (n->up && n->incarnation == ev.incarnation) {
          schedule(now_us_ + n->tick_us, EventKind::kTick, n->id, n->incarnation);
        }
        break;
      case EventKind::kDeliver: {
        if (n == nullptr || !n->up) {
          counters_.add("messages_to_down_members");
          break;
        }
        if (!net_.link_up(ev.message.from, ev.message.to)) {
          net_.count_dropped_on_arrival();
          break;
        }
        if (opt_.trace != nullptr) trace(describe(ev.message));
        Status st = n->core->step(ev.message);
        if (!st.ok()) counters_.add("messages_rejected_by_core");
        pump(*n);
        after_input(*n);
        break;
      }
      case EventKind::kDiskSync:
        if (n == nullptr || !n->up || n->incarnation != ev.incarnation) break;
        disk_synced(*n);
        break;
      case EventKind::kRestart:
        if (n == nullptr || n->up || n->decommissioned || !n->restart_scheduled) break;
        start(*n);
        break;
      case EventKind::kChaos:
        if (now_us_ >= chaos_end_us_) {
          begin_recovery();
        } else {
          chaos_tick();
          schedule(now_us_ + kChaosTickUs, EventKind::kChaos, raft::kNoNode, 0);
        }
        break;
      case EventKind::kCrash:
        if (n == nullptr || !n->up || n->incarnation != ev.incarnation || recovering_) break;
        counters_.add("new_leader_crashes");
        crash(*n, false);
        break;
      case EventKind::kRecoveryTick:
        recovery_tick();
        break;
    }
  }
  if (!checker_.failed() && !done_) fail("simulation ran out of events before recovering");
  if (!checker_.failed()) {
    for (Node* n : live_nodes())
      checker_.check_acknowledged_in(n->id, n->disk.written(), n->applied);
  }

  SimResult result;
  result.ok = !checker_.failed();
  if (!result.ok) result.violation = checker_.violation();
  result.simulated_us = now_us_;
  result.final_commit = checker_.highest_committed();
  result.counters = counters_;
  result.counters.add("events", steps);
  const NetworkStats& ns = net_.stats();
  result.counters.add("messages_sent", ns.sent);
  result.counters.add("messages_lost", ns.lost);
  result.counters.add("messages_duplicated", ns.duplicated);
  result.counters.add("messages_delayed_long", ns.delayed_long);
  result.counters.add("messages_dropped_by_partition", ns.dropped_by_partition);
  result.counters.add("seeds");
  if (!result.ok) result.counters.add("failures");
  return result;
}

}  // namespace

SimResult run_simulation(const SimOptions& options) {
  Simulation sim(options);
  return sim.run();
}

}  // namespace dledger::sim
