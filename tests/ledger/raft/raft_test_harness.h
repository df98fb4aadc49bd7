// A tiny in-process network of RaftCores over MemoryStorage for unit tests.
//
// Messages are queued, never delivered on their own: tests call deliver()/stabilize() and may
// cut links, drop or inspect messages in between. Readys are processed exactly as the
// persistence contract says (step-1 messages, persist, step-3 messages, on_persisted).
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "broker/ledger/raft/memory_storage.h"
#include "broker/ledger/raft/raft_core.h"

namespace dledger::raft::testing {

inline Membership make_membership(const std::vector<NodeId>& voters,
                                  const std::vector<NodeId>& learners = {}) {
  Membership m;
  for (NodeId id : voters)
    m.members.push_back(Member{id, "10.0.0." + std::to_string(id) + ":9000", true});
  for (NodeId id : learners)
    m.members.push_back(Member{id, "10.0.0." + std::to_string(id) + ":9000", false});
  std::sort(m.members.begin(), m.members.end(),
            [](const Member& a, const Member& b) { return a.id < b.id; });
  return m;
}

// Deterministic random source (splitmix64). The start state is not a multiple of the splitmix
// increment: with seed * increment, seed s + 1 replayed seed s's sequence one draw later, so a
// member restarted with a fresh source could draw the very timeouts another member drew, in
// lockstep, and split every vote.
inline RandomSource seeded_random(std::uint64_t seed) {
  auto state = std::make_shared<std::uint64_t>((seed + 1) * 0xD1B54A32D192ED03ull);
  return [state]() {
    std::uint64_t z = (*state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  };
}

// A log entry for tests: entry(index, term) has data "d" and type kNormal.
inline Entry entry(std::uint64_t index, std::uint64_t term, std::string data = "d",
                   EntryType type = EntryType::kNormal) {
  Entry e;
  e.index = index;
  e.term = term;
  e.type = type;
  e.data = std::move(data);
  return e;
}
inline Entry entry(std::uint64_t index, std::uint64_t term, EntryType type,
                   std::string data = "d") {
  return entry(index, term, std::move(data), type);
}

inline Config test_config(NodeId id) {
  Config c;
  c.id = id;
  c.election_timeout_min_ticks = 10;
  c.election_timeout_max_ticks = 20;
  c.heartbeat_interval_ticks = 2;
  c.random = seeded_random(id);
  return c;
}

class Cluster {
 public:
  using ConfigTweak = std::function<void(Config&)>;

  // Voters 1..voters, all bootstrapped with the same membership.
  explicit Cluster(int voters, ConfigTweak tweak = {}) : tweak_(std::move(tweak)) {
    std::vector<NodeId> ids;
    for (int i = 1; i <= voters; ++i) ids.push_back(static_cast<NodeId>(i));
    bootstrap_ = make_membership(ids);
    for (NodeId id : ids) add_node(id, bootstrap_);
  }

  // Adds a member process (e.g. a future learner) with the given bootstrap membership.
  void add_node(NodeId id, const Membership& bootstrap, InitialState initial = {}) {
    Node& n = nodes_[id];
    n.storage = std::make_unique<MemoryStorage>(bootstrap);
    n.bootstrap = bootstrap;
    initial.bootstrap = bootstrap;
    start(id, std::move(initial));
  }

  // Restarts `id` from what its storage holds (a crash after everything was persisted).
  void restart(NodeId id, std::uint64_t repair_until = 0) {
    Node& n = nodes_.at(id);
    InitialState initial = n.storage->initial_state(n.bootstrap);
    initial.repair_until = repair_until;
    start(id, std::move(initial));
  }

  RaftCore& core(NodeId id) { return *nodes_.at(id).core; }
  MemoryStorage& storage(NodeId id) { return *nodes_.at(id).storage; }
  std::vector<NodeId> ids() const {
    std::vector<NodeId> out;
    for (const auto& [id, n] : nodes_) out.push_back(id);
    return out;
  }

  // Replaces `id`'s storage by one holding `entries` and `hard_state`, and restarts it.
  void reset_node(NodeId id, const std::vector<Entry>& entries, HardState hard_state) {
    Node& n = nodes_.at(id);
    n.storage = std::make_unique<MemoryStorage>(n.bootstrap);
    Status s = n.storage->append(entries);
    EXPECT_TRUE(s.ok());
    n.storage->set_hard_state(hard_state);
    restart(id);
  }

  // Every delivered message first goes through `filter`, which may change it; false drops it.
  void set_filter(std::function<bool(Message&)> filter) { filter_ = std::move(filter); }
  void clear_filter() { filter_ = nullptr; }

  // --- network faults
  void isolate(NodeId id) { isolated_.insert(id); }
  void heal() {
    isolated_.clear();
    cut_.clear();
  }
  void cut(NodeId a, NodeId b) {
    cut_.insert({a, b});
    cut_.insert({b, a});
  }
  bool link_up(NodeId from, NodeId to) const {
    return isolated_.count(from) == 0 && isolated_.count(to) == 0 && cut_.count({from, to}) == 0 &&
           nodes_.count(to) != 0;
  }

  // --- Ready processing
  // Handles one Ready of `id` following the persistence contract; returns it for inspection.
  Ready process(NodeId id) {
    Ready r = emit(id);
    persist(id, r);
    return r;
  }
  // Step 1 only: takes `id`'s next Ready and queues its messages; the caller persists it later
  // with persist() (a slow disk), Readys of one member in the order they were emitted.
  Ready emit(NodeId id) {
    Ready r = nodes_.at(id).core->ready();
    for (const Message& m : r.messages) queue_.push_back(m);
    return r;
  }
  // Steps 2-3 for a Ready emit() returned: persist it, queue the messages that waited for that,
  // report it persisted.
  void persist(NodeId id, const Ready& r) {
    Node& n = nodes_.at(id);
    Status s = n.storage->persist(r);
    EXPECT_TRUE(s.ok()) << (s.ok() ? "" : s.error().to_string());
    for (const Message& m : r.messages_after_persist) queue_.push_back(m);
    n.core->on_persisted(r.persist_index, r.persist_term);
    if (r.commit > n.storage->commit()) n.storage->set_commit(r.commit);
  }
  // Processes Readys of every node until none has one.
  void process_all() {
    bool any = true;
    while (any) {
      any = false;
      for (auto& [id, n] : nodes_) {
        if (n.core->has_ready()) {
          process(id);
          any = true;
        }
      }
    }
  }

  // Queued messages.
  std::deque<Message>& queue() { return queue_; }
  // Removes and returns queued messages matching `pred`.
  std::vector<Message> take(const std::function<bool(const Message&)>& pred) {
    std::vector<Message> out;
    std::deque<Message> keep;
    for (Message& m : queue_) {
      if (pred(m)) {
        out.push_back(std::move(m));
      } else {
        keep.push_back(std::move(m));
      }
    }
    queue_.swap(keep);
    return out;
  }
  void drop_all() { queue_.clear(); }

  // Delivers the currently queued messages (not those they cause); false when none.
  bool deliver() {
    if (queue_.empty()) return false;
    std::deque<Message> batch;
    batch.swap(queue_);
    for (Message& m : batch) {
      if (!link_up(m.from, m.to)) continue;
      if (filter_ && !filter_(m)) continue;
      Status s = nodes_.at(m.to).core->step(m);
      EXPECT_TRUE(s.ok()) << message_type_name(m.type) << ": "
                          << (s.ok() ? "" : s.error().to_string());
    }
    return true;
  }

  // Processes and delivers until nothing is left to do.
  void stabilize(int max_rounds = 10000) {
    for (int i = 0; i < max_rounds; ++i) {
      process_all();
      if (!deliver()) return;
    }
    ADD_FAILURE() << "cluster did not stabilize";
  }

  void tick(NodeId id, int ticks = 1) {
    for (int i = 0; i < ticks; ++i) core(id).tick();
  }
  // Ticks every (non-isolated unless `all`) node, stabilizing after each tick.
  void tick_all(int ticks) {
    for (int i = 0; i < ticks; ++i) {
      for (auto& [id, n] : nodes_) n.core->tick();
      stabilize();
    }
  }

  // Campaigns `id` and delivers everything: with a healthy network it becomes the leader.
  void elect(NodeId id) {
    core(id).campaign();
    stabilize();
  }

  // The member that believes it leads in the highest term (kNoNode if none).
  NodeId leader() const {
    NodeId best = kNoNode;
    std::uint64_t best_term = 0;
    for (const auto& [id, n] : nodes_) {
      SoftState s = n.core->soft_state();
      if (s.role == Role::kLeader && s.term >= best_term) {
        best = id;
        best_term = s.term;
      }
    }
    return best;
  }

  void expect_invariants() {
    for (auto& [id, n] : nodes_) {
      Status s = n.core->check_invariants();
      EXPECT_TRUE(s.ok()) << node_name(id) << ": " << (s.ok() ? "" : s.error().to_string());
    }
  }

  // Entries [lo, hi] of `id`'s storage (which tests compare across members).
  std::vector<Entry> stored(NodeId id, std::uint64_t lo, std::uint64_t hi) {
    auto r = storage(id).entries(lo, hi + 1, UINT64_MAX);
    EXPECT_TRUE(r.ok());
    return r.ok() ? *r : std::vector<Entry>{};
  }

 private:
  struct Node {
    std::unique_ptr<MemoryStorage> storage;
    std::unique_ptr<RaftCore> core;
    Membership bootstrap;
  };

  void start(NodeId id, InitialState initial) {
    Node& n = nodes_.at(id);
    Config c = test_config(id);
    if (tweak_) tweak_(c);
    c.id = id;
    auto created = RaftCore::create(std::move(c), *n.storage, std::move(initial));
    EXPECT_TRUE(created.ok()) << (created.ok() ? "" : created.error().to_string());
    n.core = std::move(*created);
  }

  ConfigTweak tweak_;
  std::function<bool(Message&)> filter_;
  Membership bootstrap_;
  std::map<NodeId, Node> nodes_;
  std::deque<Message> queue_;
  std::set<NodeId> isolated_;
  std::set<std::pair<NodeId, NodeId>> cut_;
};

inline Message make_message(MessageType type, NodeId from, NodeId to, std::uint64_t term) {
  Message m;
  m.type = type;
  m.from = from;
  m.to = to;
  m.term = term;
  return m;
}

}  // namespace dledger::raft::testing
