// SimNetwork: the simulated links between members.
//
// route() decides the fate of one sent message from the seed: lost, delivered once, or
// duplicated, each copy with its own delay (a small base delay, occasionally a long one, which
// reorders messages). Links can be cut: symmetric partitions (two sides), one-way cuts (a -> b
// only), rings (each member hears only its ring neighbours). A cut link drops messages both when
// they are sent and when they would arrive (a connection reset loses what was in flight).
// heal() restores every link. The network knows nothing of time beyond the delays it draws.
#pragma once

#include <cstdint>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "broker/ledger/raft/types.h"
#include "tests/ledger/sim/sim_random.h"

namespace dledger::sim {

struct NetworkFaults {
  double loss_probability = 0.0;
  double duplicate_probability = 0.0;
  std::uint64_t min_delay_us = 500;
  std::uint64_t max_delay_us = 5'000;
  double long_delay_probability = 0.0;  // this share of copies takes up to max_long_delay_us
  std::uint64_t max_long_delay_us = 100'000;
};

struct NetworkStats {
  std::uint64_t sent = 0;
  std::uint64_t lost = 0;
  std::uint64_t duplicated = 0;
  std::uint64_t delayed_long = 0;
  std::uint64_t dropped_by_partition = 0;
  std::uint64_t partitions = 0;
  std::uint64_t heals = 0;
};

class SimNetwork {
 public:
  struct Copy {
    std::uint64_t delay_us;
    raft::Message message;
  };

  void set_faults(const NetworkFaults& faults) { faults_ = faults; }
  const NetworkFaults& faults() const { return faults_; }

  // The copies of `message` to deliver (0, 1 or 2), each after its delay. Empty when the link
  // is cut or the message is lost.
  std::vector<Copy> route(const raft::Message& message, SimRandom& random);
  // Whether a message from `from` may arrive at `to` now (checked again on arrival).
  bool link_up(raft::NodeId from, raft::NodeId to) const;
  void count_dropped_on_arrival() { ++stats_.dropped_by_partition; }

  // Cuts every link between side_a and side_b, both ways.
  void partition(const std::vector<raft::NodeId>& side_a, const std::vector<raft::NodeId>& side_b);
  // Cuts from -> to only.
  void cut_one_way(raft::NodeId from, raft::NodeId to);
  // Members in `ring` order hear only their two ring neighbours.
  void ring(const std::vector<raft::NodeId>& ring_order);
  void heal();
  bool healed() const { return cut_.empty(); }
  // "n1->n2 n2->n1 ..." for the trace.
  std::string describe_cuts() const;

  const NetworkStats& stats() const { return stats_; }

 private:
  NetworkFaults faults_;
  NetworkStats stats_;
  std::set<std::pair<raft::NodeId, raft::NodeId>> cut_;
};

}  // namespace dledger::sim
