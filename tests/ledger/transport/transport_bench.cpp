// Throughput of the peer transport over loopback: one sender, one receiver, Append messages of
// `entries_per_message` entries of `entry_bytes` each. Prints one JSON object; not a test.
//   transport_bench [messages=200000] [entries_per_message=1] [entry_bytes=256]
#include <spdlog/spdlog.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>

#include "broker/ledger/transport/peer_transport.h"

using namespace dledger;
using namespace std::chrono;

int main(int argc, char** argv) {
  const std::uint64_t messages = argc > 1 ? std::strtoull(argv[1], nullptr, 10) : 200'000;
  const std::uint64_t entries_per_message = argc > 2 ? std::strtoull(argv[2], nullptr, 10) : 1;
  const std::uint64_t entry_bytes = argc > 3 ? std::strtoull(argv[3], nullptr, 10) : 256;
  spdlog::set_level(spdlog::level::warn);

  std::atomic<std::uint64_t> received{0};
  auto make = [&](raft::NodeId id) {
    transport::PeerTransportOptions o;
    o.group = "bench";
    o.self_id = id;
    o.listen_host = "127.0.0.1";
    o.send_queue_bytes = 256ull << 20;
    return std::make_unique<transport::PeerTransport>(
        o, [&](raft::Message&&) { received.fetch_add(1, std::memory_order_relaxed); });
  };
  auto sender = make(1);
  auto receiver = make(2);
  raft::Membership solo;
  solo.members = {{1, "127.0.0.1:1", true}};
  if (!sender->start(solo).ok() || !receiver->start(solo).ok()) return 1;
  raft::Membership both;
  both.members = {{1, "127.0.0.1:" + std::to_string(sender->listen_port()), true},
                  {2, "127.0.0.1:" + std::to_string(receiver->listen_port()), true}};
  sender->update_membership(both);
  receiver->update_membership(both);
  while (!sender->peer_stats(2)->connected) std::this_thread::sleep_for(milliseconds(1));

  raft::Message m;
  m.type = raft::MessageType::kAppend;
  m.from = 1;
  m.to = 2;
  m.term = 1;
  for (std::uint64_t i = 0; i < entries_per_message; ++i) {
    m.entries.push_back({i + 1, 1, raft::EntryType::kNormal, std::string(entry_bytes, 'x')});
  }
  auto start = steady_clock::now();
  for (std::uint64_t i = 0; i < messages; ++i) {
    // Stay under the queue bound so the figure measures delivery, not drops.
    if (i % 256 == 0) {
      while (sender->peer_stats(2)->queued_bytes > (192ull << 20)) std::this_thread::yield();
    }
    sender->send(m);
  }
  auto deadline = start + seconds(120);
  while (received.load() + sender->peer_stats(2)->dropped_messages < messages &&
         steady_clock::now() < deadline) {
    std::this_thread::sleep_for(microseconds(200));
  }
  double seconds_taken = duration<double>(steady_clock::now() - start).count();
  std::uint64_t got = received.load();
  std::printf(
      "{\"messages\": %llu, \"received\": %llu, \"dropped\": %llu, \"entries_per_message\": %llu, "
      "\"entry_bytes\": %llu, \"seconds\": %.3f, \"messages_per_second\": %.0f, "
      "\"entries_per_second\": %.0f, \"mib_per_second\": %.1f}\n",
      static_cast<unsigned long long>(messages), static_cast<unsigned long long>(got),
      static_cast<unsigned long long>(sender->peer_stats(2)->dropped_messages),
      static_cast<unsigned long long>(entries_per_message),
      static_cast<unsigned long long>(entry_bytes), seconds_taken, got / seconds_taken,
      got * entries_per_message / seconds_taken,
      got * entries_per_message * entry_bytes / seconds_taken / (1 << 20));
  sender->stop();
  receiver->stop();
  return got == messages ? 0 : 2;
}
