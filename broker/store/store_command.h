// Store commands: the payload of every ledger entry the message store writes. One ledger entry
// holds exactly one command; a message or a whole batch of messages is one entry.
//
// ENTRY LAYOUT (little-endian):
//
//   off  size  field
//     0     4  magic        0x4D534C44 (bytes "DLSM")
//     4     1  version      1
//     5     1  type         1 PutMessage, 2 PutBatch, 3 UpdateTopic, 4 DeleteTopic, 5 CommitOffset
//     6     2  reserved     0
//     8     4  payload_len  bytes after this 16-byte header; must equal the rest of the entry
//    12     4  crc          CRC32C of bytes 0..11 followed by the payload
//    16     n  payload
//
// Strings are u16 length + bytes (str16) unless noted; blobs are u32 length + bytes (blob32).
// Host = u8 ip length (4 or 16) + ip bytes (network order) + i32 port.
//
//   PutMessage   str16 topic, i32 queueId, i32 flag, i32 sysFlag, i64 bornTimestamp, host bornHost,
//                i64 storeTimestamp, host storeHost, i32 reconsumeTimes, i64 preparedTxOffset,
//                blob32 properties, blob32 body
//   PutBatch     u32 count (1..kMaxBatchMessages), then `count` PutMessage payloads, all with the
//                same topic and queueId
//   UpdateTopic  str16 name, i32 readQueueNums, i32 writeQueueNums, i32 perm, i32 topicSysFlag
//   DeleteTopic  str16 name
//   CommitOffset str16 group, str16 topic, i32 queueId, i64 offset
//
// Validation (encode refuses, decode reports kCorruption / kInvalidArgument with the field name):
// topic names 1..127 bytes of [A-Za-z0-9%|_-]; groups 1..255 bytes without control characters;
// queueId in [0, kMaxQueuesPerTopic); queue counts in [1, kMaxQueuesPerTopic]; perm in [0, 7];
// properties <= 32767 bytes; hosts 4 or 16 bytes and agreeing with the sysFlag IPv6 bits
// (0x10 born host, 0x20 store host); no trailing bytes. A decoded message therefore always encodes
// as a RocketMQ stored record.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "broker/base/result.h"
#include "broker/remoting/message_codec.h"

namespace dledger::store {

inline constexpr std::uint32_t kCommandMagic = 0x4D534C44u;  // "DLSM" in little-endian order
inline constexpr std::uint8_t kCommandVersion = 1;
inline constexpr std::size_t kCommandHeaderBytes = 16;
inline constexpr std::int32_t kMaxQueuesPerTopic = 1024;
inline constexpr std::uint32_t kMaxBatchMessages = 1u << 16;
inline constexpr std::size_t kMaxGroupBytes = 255;

enum class CommandType : std::uint8_t {
  kPutMessage = 1,
  kPutBatch = 2,
  kUpdateTopic = 3,
  kDeleteTopic = 4,
  kCommitOffset = 5,
};
const char* command_type_name(CommandType type);

// Topic permission bits (RocketMQ PermName).
namespace perm {
inline constexpr std::int32_t kInherit = 1;
inline constexpr std::int32_t kWrite = 2;
inline constexpr std::int32_t kRead = 4;
}  // namespace perm

// One message as the ledger stores it. store_timestamp_ms and store_host are set by the leader
// when it encodes the entry, so every replica serves the same bytes.
struct StoredMessage {
  std::string topic;
  std::int32_t queue_id = 0;
  std::int32_t flag = 0;
  std::int32_t sys_flag = 0;
  std::int64_t born_timestamp_ms = 0;
  remoting::HostAddress born_host;
  std::int64_t store_timestamp_ms = 0;
  remoting::HostAddress store_host;
  std::int32_t reconsume_times = 0;
  std::int64_t prepared_transaction_offset = 0;
  std::string properties;  // encoded, see remoting/message_properties.h
  std::string body;        // as stored (compressed when sys_flag & 0x1)

  bool operator==(const StoredMessage&) const = default;
};

struct TopicConfig {
  std::string name;
  std::int32_t read_queue_nums = 4;
  std::int32_t write_queue_nums = 4;
  std::int32_t perm = perm::kRead | perm::kWrite;
  std::int32_t topic_sys_flag = 0;

  bool operator==(const TopicConfig&) const = default;
};

struct PutMessageCommand {
  StoredMessage message;
  bool operator==(const PutMessageCommand&) const = default;
};
struct PutBatchCommand {
  std::vector<StoredMessage> messages;
  bool operator==(const PutBatchCommand&) const = default;
};
struct UpdateTopicCommand {
  TopicConfig config;
  bool operator==(const UpdateTopicCommand&) const = default;
};
struct DeleteTopicCommand {
  std::string topic;
  bool operator==(const DeleteTopicCommand&) const = default;
};
struct CommitOffsetCommand {
  std::string group;
  std::string topic;
  std::int32_t queue_id = 0;
  std::int64_t offset = 0;
  bool operator==(const CommitOffsetCommand&) const = default;
};

using StoreCommand = std::variant<PutMessageCommand, PutBatchCommand, UpdateTopicCommand,
                                  DeleteTopicCommand, CommitOffsetCommand>;

// Field checks shared by encode and decode. Errors (kInvalidArgument) name the field and value.
Status validate_topic_name(std::string_view topic);
Status validate_group_name(std::string_view group);
Status validate_message(const StoredMessage& message);
Status validate_topic_config(const TopicConfig& config);
Status validate_command(const StoreCommand& command);

// Encodes a validated command (errors: whatever validate_command reports).
Result<std::string> encode_command(const StoreCommand& command);

// Decodes one ledger entry. kCorruption for a bad magic, length, CRC or field; kInvalidArgument
// for a version newer than this build understands or an unknown type. Never reads out of bounds.
Result<StoreCommand> decode_command(std::string_view entry);

// What applying a put needs from its entry, without copying bodies or properties. `topic` points
// into the decoded entry.
struct PutSummary {
  std::string_view topic;
  std::int32_t queue_id = 0;
  std::int64_t store_timestamp_ms = 0;  // of the first message (all share it)
  std::uint32_t count = 0;              // messages: 1 for PutMessage
};
// Whether `entry`'s type byte says PutMessage or PutBatch (nothing else is checked).
bool is_put_entry(std::string_view entry);
// Decodes a PutMessage or PutBatch entry with exactly decode_command's checks and errors, but
// returns only the summary (no copy of any body or properties). kInvalidArgument for other types.
Result<PutSummary> decode_put_summary(std::string_view entry);

}  // namespace dledger::store
