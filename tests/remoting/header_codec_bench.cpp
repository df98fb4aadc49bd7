// CPU cost of the JSON header fast paths on the produce path: decoding a SEND_MESSAGE_V2 request
// header as a RocketMQ 4.x producer writes it, and encoding its SEND_OK reply header. Prints JSON
// (nanoseconds per call, best of `rounds` rounds of `iterations` calls).
//
//   dledger_header_codec_bench [iterations] [rounds]
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "broker/remoting/json_header_fast.h"
#include "broker/remoting/remoting_command.h"

namespace {

using dledger::remoting::RemotingCommand;

RemotingCommand send_request() {
  RemotingCommand cmd;
  cmd.code = 310;  // SEND_MESSAGE_V2: one-letter keys
  cmd.version = 395;
  cmd.opaque = 1234567;
  cmd.ext_fields = {{"a", "bench-producer-group"},
                    {"b", "BenchTopic"},
                    {"c", "TBW102"},
                    {"d", "4"},
                    {"e", "3"},
                    {"f", "0"},
                    {"g", "1795000000000"},
                    {"h", "0"},
                    {"i", std::string("KEYS\x01order-1234\x02TAGS\x01TagA\x02WAIT\x01true\x02"
                                      "UNIQ_KEY\x01"
                                      "7F0000010000A1B2C3D4E5F60718293A\x02",
                                      82)},
                    {"j", "0"},
                    {"k", "false"},
                    {"m", "false"}};
  return cmd;
}

RemotingCommand send_reply() {
  RemotingCommand cmd;
  cmd.code = 0;
  cmd.flag = dledger::remoting::kFlagResponse;
  cmd.opaque = 1234567;
  cmd.ext_fields = {{"msgId", "7F00000100002A9F0000000000A1B2C3"},
                    {"queueId", "3"},
                    {"queueOffset", "1234567"},
                    {"MSG_REGION", "DefaultRegion"},
                    {"TRACE_ON", "true"}};
  return cmd;
}

template <typename F>
double best_ns_per_call(long iterations, int rounds, F&& call) {
  double best = 1e300;
  for (int r = 0; r < rounds; ++r) {
    auto start = std::chrono::steady_clock::now();
    for (long i = 0; i < iterations; ++i) call();
    double ns =
        std::chrono::duration<double, std::nano>(std::chrono::steady_clock::now() - start).count() /
        static_cast<double>(iterations);
    if (ns < best) best = ns;
  }
  return best;
}

}  // namespace

int main(int argc, char** argv) {
  const long iterations = argc > 1 ? std::atol(argv[1]) : 200000;
  const int rounds = argc > 2 ? std::atoi(argv[2]) : 5;
  const std::string request = *dledger::remoting::encode_plain_json_header(send_request());
  const RemotingCommand reply = send_reply();
  std::size_t sink = 0;
  double decode_ns = best_ns_per_call(iterations, rounds, [&] {
    auto cmd = dledger::remoting::decode_plain_json_header(request);
    sink += cmd ? cmd->ext_fields.size() : 0;
  });
  double encode_ns = best_ns_per_call(iterations, rounds, [&] {
    auto text = dledger::remoting::encode_plain_json_header(reply);
    sink += text ? text->size() : 0;
  });
  std::printf(
      "{\"request_header_bytes\": %zu, \"decode_send_request_ns\": %.0f, "
      "\"encode_send_reply_ns\": %.0f, \"iterations\": %ld, \"rounds\": %d, \"sink\": %zu}\n",
      request.size(), decode_ns, encode_ns, iterations, rounds, sink);
  return 0;
}
