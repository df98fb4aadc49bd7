// libFuzzer target: stored message records, batch bodies, properties and msgIds.
// Properties checked: no crash / UB / leak; decoded records re-encode byte-for-byte; decoded
// batches, properties and msgIds re-encode to values that decode back equal.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "broker/remoting/message_codec.h"
#include "broker/remoting/message_properties.h"

using namespace dledger::remoting;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);

  auto records = decode_message_records(input);
  if (records.ok()) {
    std::string encoded;
    for (const auto& record : *records) {
      if (!append_message_record(record, &encoded).ok()) std::abort();
    }
    if (encoded != input) std::abort();
    for (const auto& record : *records) {
      // A record's msgId reads back unless its port or offset cannot be an offset msgId's.
      auto id = decode_offset_msg_id(offset_msg_id(record));
      const bool valid = record.store_host.port >= 0 && record.store_host.port <= 65535 &&
                         record.physical_offset >= 0;
      if (id.ok() != valid) std::abort();
      if (id.ok() &&
          (id->store_host != record.store_host || id->physical_offset != record.physical_offset)) {
        std::abort();
      }
    }
  }

  auto batch = decode_batch_body(input);
  if (batch.ok()) {
    auto encoded = encode_batch_body(*batch);
    if (!encoded.ok()) std::abort();
    auto again = decode_batch_body(*encoded);
    if (!again.ok() || *again != *batch) std::abort();
  }

  auto properties = decode_message_properties(input);
  if (properties.ok()) {
    auto encoded = encode_message_properties(*properties);
    if (!encoded.ok()) std::abort();
    auto again = decode_message_properties(*encoded);
    if (!again.ok() || *again != *properties) std::abort();
  }

  auto msg_id = decode_offset_msg_id(input);
  if (msg_id.ok()) {
    auto again =
        decode_offset_msg_id(encode_offset_msg_id(msg_id->store_host, msg_id->physical_offset));
    if (!again.ok() || *again != *msg_id) std::abort();
  }

  (void)HostAddress::parse(input);
  return 0;
}
