// libFuzzer target for the raft::Message codec (built with clang and -DDLEDGER_FUZZ=ON only; see
// broker/ledger/transport/README.md). Properties checked on every input:
//   - decode_message never crashes or reads out of bounds (ASan/UBSan are linked in);
//   - anything it accepts re-encodes to exactly the same bytes (the encoding is canonical).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "broker/ledger/transport/message_codec.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  dledger::transport::CodecLimits limits;
  limits.max_entry_bytes = 1 << 16;  // keep allocations small; limits are checked either way
  limits.max_snapshot_bytes = 1 << 16;
  auto decoded = dledger::transport::decode_message(input, limits);
  if (decoded.ok() && dledger::transport::encode_message(*decoded) != input) std::abort();
  return 0;
}
