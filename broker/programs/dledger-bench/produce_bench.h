// dledger-bench produce: RocketMQ-style produce throughput and latency against a real broker
// group: dledger-namesrv + --replicas dledger-broker processes on 127.0.0.1 (sync flush unless
// -p flushMode=async), a topic of --queues queues, then --producers synchronous producers sending
// --message-bytes messages with SEND_MESSAGE_V2 to the master (found through the name server's
// route, as a client does) for --duration-s seconds after a --warmup-s warm-up. With
// --via-follower the producers send to a follower instead, which forwards every send to the
// master (what clients behind a group address partly do; docs/broker.md).
//
// A synchronous producer has one send outstanding: it sends, waits for the reply, sends the next.
// The producers are asynchronous loops sharing --connections connections (producer p on
// connection p % n, each connection with its own io thread). The default, 1, is what one
// RocketMQ client instance does: all its producers share one connection per broker address,
// their requests multiplexed by opaque. --connections equal to --producers gives every producer
// its own connection and thread.
//
// Prints one JSON object: {"producers","connections","message_bytes","queues","replicas",
// "flush_mode","via_follower","duration_s","messages","errors","msgs_per_s","mib_per_s",
// "latency_ms":{"p50","p99","p999","max"},"brokers_cpu_us_per_msg","client_cpu_us_per_msg",
// "brokers_cpu_cores","client_cpu_cores"} (latency: call -> acknowledgement, client side; CPU: user
// + system time from /proc/<pid>/stat over the measured window, all brokers summed, per send
// completed in it — robust on a shared machine where msgs/s is not). Exit 0, 1 when the group could
// not be started or no send succeeded (the reason on stderr), 2 usage.
#pragma once

#include <string>
#include <vector>

namespace dledger::bench {

struct ProduceBenchOptions {
  int producers = 64;
  int connections = 1;
  int message_bytes = 1024;
  int queues = 8;
  double duration_s = 10;
  double warmup_s = 2;
  int replicas = 3;
  std::vector<std::string> properties;  // extra broker.conf lines (-p key=value)
  std::string namesrv_binary;           // default: next to dledger-bench in the build tree
  std::string broker_binary;
  bool keep_dir = false;
  bool via_follower = false;  // send to a follower (forwarded to the master)
};

int run_produce_bench(const ProduceBenchOptions& options);

}  // namespace dledger::bench
