// dledger-bench produce: RocketMQ-style produce throughput and latency against a real broker
// group: dledger-namesrv + --replicas dledger-broker processes on 127.0.0.1 (sync flush unless
// -p flushMode=async), a topic of --queues queues, then --producers threads, each with its own
// connection to the master (found through the name server's route, as a client does), sending
// --message-bytes messages with SEND_MESSAGE_V2 synchronously (one outstanding send per
// producer) for --duration-s seconds after a --warmup-s warm-up.
//
// Prints one JSON object: {"producers","message_bytes","queues","replicas","flush_mode",
// "duration_s","messages","errors","msgs_per_s","mib_per_s","latency_ms":{"p50","p99","p999",
// "max"}} (latency: call -> acknowledgement, client side). Exit 0, 1 when the group could not be
// started or no send succeeded (the reason on stderr), 2 usage.
#pragma once

#include <string>
#include <vector>

#include <CLI/CLI.hpp>

namespace dledger::bench {

struct ProduceBenchOptions {
  int producers = 64;
  int message_bytes = 1024;
  int queues = 8;
  double duration_s = 10;
  double warmup_s = 2;
  int replicas = 3;
  std::vector<std::string> properties;  // extra broker.conf lines (-p key=value)
  std::string namesrv_binary;           // default: next to dledger-bench in the build tree
  std::string broker_binary;
  bool keep_dir = false;
};

// Registers the flags of the produce subcommand on `command`.
void add_produce_options(CLI::App& command, ProduceBenchOptions& options);
int run_produce_bench(const ProduceBenchOptions& options);

}  // namespace dledger::bench
