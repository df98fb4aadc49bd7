// Stored message records (the body of a PULL_MESSAGE reply: records back to back), offset message
// ids, and the batch body of SEND_BATCH_MESSAGE. Layouts follow RocketMQ 4.9 MessageDecoder.
//
// Stored record, all integers big-endian:
//
//   off  size  field
//     0     4  TOTALSIZE            whole record, this field included
//     4     4  MAGICCODE            0xDAA320A7
//     8     4  BODYCRC              zlib crc32(BODY bytes) & 0x7fffffff
//    12     4  QUEUEID
//    16     4  FLAG                 user flag
//    20     8  QUEUEOFFSET          index in the consume queue (dense per queue)
//    28     8  PHYSICALOFFSET       commit log position (part of the offset msgId)
//    36     4  SYSFLAG              0x1 compressed, 0x2 multi tags, 0x4/0x8/0xC transaction,
//                                   0x10 born host IPv6, 0x20 store host IPv6
//    40     8  BORNTIMESTAMP        ms
//    48   4+4  BORNHOST             IPv4 + port   (16+4 if SYSFLAG & 0x10)
//     .     8  STORETIMESTAMP       ms
//     .   4+4  STOREHOST            IPv4 + port   (16+4 if SYSFLAG & 0x20)
//     .     4  RECONSUMETIMES
//     .     8  PREPARED_TX_OFFSET
//     .  4+n   BODY                 i32 length + bytes (compressed if SYSFLAG & 0x1)
//     .  1+n   TOPIC                i8 length (0..127) + bytes
//     .  2+n   PROPERTIES           i16 length (0..32767) + bytes, see message_properties.h
//
// With IPv4 hosts the fixed part is 91 bytes (kMessageRecordFixedBytesIpv4).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "broker/base/result.h"

namespace dledger::remoting {

inline constexpr uint32_t kMessageMagicCode = 0xDAA320A7u;
inline constexpr std::size_t kMessageRecordFixedBytesIpv4 = 91;
inline constexpr std::size_t kMaxTopicBytes = 127;
inline constexpr std::size_t kMaxPropertiesBytes = 32767;

namespace message_sys_flag {
inline constexpr int32_t kCompressed = 0x1;
inline constexpr int32_t kMultiTags = 0x2;
inline constexpr int32_t kTransactionPrepared = 0x4;
inline constexpr int32_t kTransactionCommit = 0x8;
inline constexpr int32_t kTransactionRollback = 0xC;
inline constexpr int32_t kTransactionMask = 0xC;
inline constexpr int32_t kBornHostV6 = 0x10;
inline constexpr int32_t kStoreHostV6 = 0x20;
}  // namespace message_sys_flag

// A socket address as the record stores it.
struct HostAddress {
  std::string ip;  // 4 bytes (IPv4) or 16 bytes (IPv6), network byte order
  int32_t port = 0;

  static HostAddress ipv4(uint8_t a, uint8_t b, uint8_t c, uint8_t d, int32_t port);
  // "10.0.0.1:10911" or "[::1]:10911". Errors name the text.
  static Result<HostAddress> parse(std::string_view text);

  bool is_ipv6() const { return ip.size() == 16; }
  bool valid() const { return ip.size() == 4 || ip.size() == 16; }
  // "10.0.0.1:10911" / "[::1]:10911"
  std::string to_string() const;

  bool operator==(const HostAddress&) const = default;
};

struct MessageRecord {
  int32_t queue_id = 0;
  int32_t flag = 0;
  int64_t queue_offset = 0;
  int64_t physical_offset = 0;
  int32_t sys_flag = 0;  // IPv6 bits must agree with born_host / store_host
  int64_t born_timestamp_ms = 0;
  HostAddress born_host;
  int64_t store_timestamp_ms = 0;
  HostAddress store_host;
  int32_t reconsume_times = 0;
  int64_t prepared_transaction_offset = 0;
  std::string body;        // as stored (compressed when sys_flag & kCompressed)
  std::string topic;       // at most 127 bytes
  std::string properties;  // encoded, at most 32767 bytes (see message_properties.h)

  bool operator==(const MessageRecord&) const = default;
};

// zlib CRC32 of `body` & 0x7fffffff, the BODYCRC field.
int32_t message_body_crc(std::string_view body);

// Size the record occupies on the wire (TOTALSIZE).
std::size_t message_record_size(const MessageRecord& record);

// Appends the record (TOTALSIZE and BODYCRC computed here). Errors (nothing appended): a host that
// is not 4 or 16 bytes or disagrees with the sys_flag IPv6 bits, topic > 127 bytes, properties >
// 32767 bytes, record larger than INT32_MAX.
Status append_message_record(const MessageRecord& record, std::string* out);
Result<std::string> encode_message_record(const MessageRecord& record);

// Decodes the record at the start of `bytes` and sets *record_bytes to its TOTALSIZE.
// Errors: truncated input or TOTALSIZE beyond it (kInvalidArgument); bad magic, negative or
// inconsistent lengths, TOTALSIZE disagreeing with the fields, BODYCRC mismatch (kCorruption).
// Messages name the field, the value and its byte offset within the record.
Result<MessageRecord> decode_message_record(std::string_view bytes, std::size_t* record_bytes);

// Decodes every record of a pull reply body. Errors name the record's index and byte offset.
Result<std::vector<MessageRecord>> decode_message_records(std::string_view body);

// Offset message id: store host IP + port (i32) + physical offset (i64), upper-case hex:
// 32 chars for IPv4, 56 for IPv6.
std::string encode_offset_msg_id(const HostAddress& store_host, int64_t physical_offset);
std::string offset_msg_id(const MessageRecord& record);

struct OffsetMsgId {
  HostAddress store_host;
  int64_t physical_offset = 0;
  bool operator==(const OffsetMsgId&) const = default;
};
// Accepts upper- or lower-case hex of length 32 or 56; errors name the id.
Result<OffsetMsgId> decode_offset_msg_id(std::string_view msg_id);

// One message of a SEND_BATCH_MESSAGE body. The client (4.9 MessageDecoder.encodeMessages) writes
// per message: TOTALSIZE i32 | MAGICCODE i32 (written as 0) | BODYCRC i32 (written as 0) |
// FLAG i32 | BODY (i32 len + bytes) | PROPERTIES (i16 len + bytes). The topic comes from the
// request header; MAGICCODE and BODYCRC are ignored on input (the broker computes the CRC).
struct BatchMessage {
  int32_t flag = 0;
  std::string body;
  std::string properties;  // encoded
  bool operator==(const BatchMessage&) const = default;
};

// Errors: empty body, truncated record, TOTALSIZE disagreeing with the fields, negative lengths;
// each names the message index and byte offset.
Result<std::vector<BatchMessage>> decode_batch_body(std::string_view body);
// As the Java client writes it (magic and CRC 0). Errors: properties > 32767 bytes.
Result<std::string> encode_batch_body(const std::vector<BatchMessage>& messages);

}  // namespace dledger::remoting
