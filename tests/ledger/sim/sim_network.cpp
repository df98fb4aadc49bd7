#include "tests/ledger/sim/sim_network.h"

namespace dledger::sim {

std::vector<SimNetwork::Copy> SimNetwork::route(const raft::Message& message, SimRandom& random) {
  std::vector<Copy> copies;
  ++stats_.sent;
  if (!link_up(message.from, message.to)) {
    ++stats_.dropped_by_partition;
    return copies;
  }
  if (random.chance(faults_.loss_probability)) {
    ++stats_.lost;
    return copies;
  }
  int count = 1;
  if (random.chance(faults_.duplicate_probability)) {
    ++stats_.duplicated;
    count = 2;
  }
  for (int i = 0; i < count; ++i) {
    std::uint64_t delay = random.between(faults_.min_delay_us, faults_.max_delay_us);
    if (random.chance(faults_.long_delay_probability)) {
      ++stats_.delayed_long;
      delay += random.below(faults_.max_long_delay_us + 1);
    }
    copies.push_back(Copy{delay, message});
  }
  return copies;
}

bool SimNetwork::link_up(raft::NodeId from, raft::NodeId to) const {
  return cut_.find({from, to}) == cut_.end();
}

void SimNetwork::partition(const std::vector<raft::NodeId>& side_a,
                           const std::vector<raft::NodeId>& side_b) {
  ++stats_.partitions;
  for (raft::NodeId a : side_a) {
    for (raft::NodeId b : side_b) {
      if (a == b) continue;
      cut_.insert({a, b});
      cut_.insert({b, a});
    }
  }
}

void SimNetwork::cut_one_way(raft::NodeId from, raft::NodeId to) {
  ++stats_.partitions;
  if (from != to) cut_.insert({from, to});
}

void SimNetwork::ring(const std::vector<raft::NodeId>& ring_order) {
  ++stats_.partitions;
  const std::size_t n = ring_order.size();
  for (std::size_t i = 0; i < n; ++i) {
    for (std::size_t j = 0; j < n; ++j) {
      const std::size_t distance = i > j ? i - j : j - i;
      if (i == j || distance == 1 || distance == n - 1) continue;
      cut_.insert({ring_order[i], ring_order[j]});
    }
  }
}

void SimNetwork::heal() {
  if (!cut_.empty()) ++stats_.heals;
  cut_.clear();
}

std::string SimNetwork::describe_cuts() const {
  std::string out;
  for (const auto& [from, to] : cut_) {
    if (!out.empty()) out += ' ';
    out += "n" + std::to_string(from) + "->n" + std::to_string(to);
  }
  return out.empty() ? "none" : out;
}

}  // namespace dledger::sim
