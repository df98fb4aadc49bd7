// dledger-bench group-failover: what a producer sees when the master of a broker group in
// group-address mode (`brokerGroupAddress`, docs/broker.md) is killed with SIGKILL.
//
// Setup, all on 127.0.0.1: an in-process TcpForwarder (tcp_forwarder.h) standing for the
// Kubernetes Service in front of the replicas; dledger-namesrv and --replicas dledger-broker
// processes whose broker.conf sets `brokerGroupAddress` to the forwarder; a topic of --queues
// queues. One producer, like a RocketMQ client, reads the topic's route from the name server
// once, connects to the master address it names (the group address) and sends SEND_MESSAGE_V2
// of --message-bytes synchronously, one at a time. On any failed send (timeout after
// --send-timeout-ms, connection lost, a reply code other than SUCCESS) it closes its connection,
// reconnects to the same address and resends the same message at once.
//
// Each trial: the producer runs steadily; the master (found by /status on the admin ports) is
// killed with SIGKILL; measured are
//   kill_to_first_success_ms  kill -> completion of the first successful send that was issued
//                             after the kill (a reply the old master sent before dying does
//                             not count),
//   longest_gap_ms            the longest time between two consecutive successful sends from
//                             --steady-ms before the kill to --settle-ms after the first
//                             success,
//   kill_to_new_leader_ms     kill -> a survivor's /status reports itself leader in a newer
//                             term (polled every 10 ms: where the time goes),
// then the victim is restarted and the next trial waits until it follows and has caught up.
// At the end every acknowledged message is read back by (queue, offset) with PULL_MESSAGE from
// every replica: it must be there with the body that was sent.
//
// Prints one JSON object: {"benchmark":"group-failover", setup fields, "trials":[...],
// "completed_trials", "kill_to_first_success_ms":{"p50","p99","max"}, "longest_gap_ms":{...},
// "acknowledged", "failed_sends", "forwarder":{...}, "verification":{"ok", "replicas":[...]}}.
// Exit 0 when every trial recovered and verification passed; 1 otherwise (reason on stderr).
#pragma once

#include <string>
#include <vector>

namespace dledger::bench {

struct GroupFailoverOptions {
  int trials = 10;
  int replicas = 3;
  int message_bytes = 1024;
  int queues = 4;
  int send_timeout_ms = 3000;
  int steady_ms = 1000;       // steady sending before each kill
  int settle_ms = 1000;       // measured after the first success following a kill
  int readiness_poll_ms = 0;  // > 0: the forwarder only uses replicas whose /readyz is 200
  std::vector<std::string> properties;  // extra broker.conf lines (-p key=value)
  std::string namesrv_binary;           // default: next to dledger-bench in the build tree
  std::string broker_binary;
  bool keep_dir = false;
};

int run_group_failover_bench(const GroupFailoverOptions& options);

}  // namespace dledger::bench
