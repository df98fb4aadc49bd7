#include "broker/store/store_command.h"

#include <type_traits>

#include "broker/base/bytes.h"
#include "broker/base/crc32c.h"

namespace dledger::store {
namespace {

std::string printable(std::string_view text) {
  std::string out = "'";
  for (char c : text.substr(0, 64)) {
    unsigned char u = static_cast<unsigned char>(c);
    if (u < 0x20 || u >= 0x7f) {
      static const char* kHex = "0123456789abcdef";
      out += "\\x";
      out += kHex[u >> 4];
      out += kHex[u & 0xf];
    } else {
      out += c;
    }
  }
  if (text.size() > 64) out += "...";
  return out + "'";
}

Status check_host(std::string_view ip, std::int32_t port, bool v6_bit, const char* name) {
  if (ip.size() != 4 && ip.size() != 16) {
    return invalid_argument(std::string(name) + " has " + std::to_string(ip.size()) +
                            " address bytes, expected 4 or 16");
  }
  bool is_ipv6 = ip.size() == 16;
  if (is_ipv6 != v6_bit) {
    return invalid_argument(std::string(name) + " is " + (is_ipv6 ? "IPv6" : "IPv4") +
                            " but its sysFlag IPv6 bit is " + (v6_bit ? "set" : "clear"));
  }
  if (port < 0 || port > 65535) {
    return invalid_argument(std::string(name) + " port " + std::to_string(port) +
                            " is outside 0..65535");
  }
  return Status();
}

Status check_queue_id(std::int32_t queue_id) {
  if (queue_id < 0 || queue_id >= kMaxQueuesPerTopic) {
    return invalid_argument("queueId " + std::to_string(queue_id) + " is outside 0.." +
                            std::to_string(kMaxQueuesPerTopic - 1));
  }
  return Status();
}

void write_host(ByteWriter& w, const remoting::HostAddress& host) {
  w.u8(static_cast<std::uint8_t>(host.ip.size()));
  w.bytes(host.ip);
  w.i32(host.port);
}
// The ip bytes of a host field (empty after a bad length, which fails the reader).
std::string_view read_host_ip(ByteReader& r) {
  std::uint8_t n = r.u8();
  if (n != 4 && n != 16) {
    r.fail();
    return {};
  }
  return r.bytes(n);
}

// Bytes write_message produces for `m`.
std::size_t encoded_size_hint(const StoredMessage& m) {
  return 2 + m.topic.size() + 4 * 3 + 8 + (1 + m.born_host.ip.size() + 4) + 8 +
         (1 + m.store_host.ip.size() + 4) + 4 + 8 + 4 + m.properties.size() + 4 + m.body.size();
}

void write_message(ByteWriter& w, const StoredMessage& m) {
  w.blob16(m.topic);
  w.i32(m.queue_id);
  w.i32(m.flag);
  w.i32(m.sys_flag);
  w.i64(m.born_timestamp_ms);
  write_host(w, m.born_host);
  w.i64(m.store_timestamp_ms);
  write_host(w, m.store_host);
  w.i32(m.reconsume_times);
  w.i64(m.prepared_transaction_offset);
  w.blob32(m.properties);
  w.blob32(m.body);
}

// One message's fields as they lie in the entry: the views point into it (no copies).
struct MessageView {
  std::string_view topic;
  std::int32_t queue_id = 0;
  std::int32_t flag = 0;
  std::int32_t sys_flag = 0;
  std::int64_t born_timestamp_ms = 0;
  std::string_view born_ip;
  std::int32_t born_port = 0;
  std::int64_t store_timestamp_ms = 0;
  std::string_view store_ip;
  std::int32_t store_port = 0;
  std::int32_t reconsume_times = 0;
  std::int64_t prepared_transaction_offset = 0;
  std::string_view properties;
  std::string_view body;
};

MessageView read_message_view(ByteReader& r) {
  MessageView m;
  m.topic = r.bytes(r.u16());
  m.queue_id = r.i32();
  m.flag = r.i32();
  m.sys_flag = r.i32();
  m.born_timestamp_ms = r.i64();
  m.born_ip = read_host_ip(r);
  if (r.ok()) m.born_port = r.i32();
  m.store_timestamp_ms = r.i64();
  m.store_ip = read_host_ip(r);
  if (r.ok()) m.store_port = r.i32();
  m.reconsume_times = r.i32();
  m.prepared_transaction_offset = r.i64();
  m.properties = r.blob32(remoting::kMaxPropertiesBytes);
  m.body = r.blob32();
  return m;
}

MessageView view_of(const StoredMessage& m) {
  MessageView v;
  v.topic = m.topic;
  v.queue_id = m.queue_id;
  v.flag = m.flag;
  v.sys_flag = m.sys_flag;
  v.born_timestamp_ms = m.born_timestamp_ms;
  v.born_ip = m.born_host.ip;
  v.born_port = m.born_host.port;
  v.store_timestamp_ms = m.store_timestamp_ms;
  v.store_ip = m.store_host.ip;
  v.store_port = m.store_host.port;
  v.reconsume_times = m.reconsume_times;
  v.prepared_transaction_offset = m.prepared_transaction_offset;
  v.properties = m.properties;
  v.body = m.body;
  return v;
}

StoredMessage read_message(ByteReader& r) {
  MessageView v = read_message_view(r);
  StoredMessage m;
  m.topic = std::string(v.topic);
  m.queue_id = v.queue_id;
  m.flag = v.flag;
  m.sys_flag = v.sys_flag;
  m.born_timestamp_ms = v.born_timestamp_ms;
  m.born_host.ip = std::string(v.born_ip);
  m.born_host.port = v.born_port;
  m.store_timestamp_ms = v.store_timestamp_ms;
  m.store_host.ip = std::string(v.store_ip);
  m.store_host.port = v.store_port;
  m.reconsume_times = v.reconsume_times;
  m.prepared_transaction_offset = v.prepared_transaction_offset;
  m.properties = std::string(v.properties);
  m.body = std::string(v.body);
  return m;
}

Status validate_message_view(const MessageView& m) {
  if (Status s = validate_topic_name(m.topic); !s.ok()) return s;
  if (Status s = check_queue_id(m.queue_id); !s.ok()) return s;
  if (Status s =
          check_host(m.born_ip, m.born_port,
                     (m.sys_flag & remoting::message_sys_flag::kBornHostV6) != 0, "born host");
      !s.ok()) {
    return s;
  }
  if (Status s =
          check_host(m.store_ip, m.store_port,
                     (m.sys_flag & remoting::message_sys_flag::kStoreHostV6) != 0, "store host");
      !s.ok()) {
    return s;
  }
  if (m.properties.size() > remoting::kMaxPropertiesBytes) {
    return invalid_argument("properties are " + std::to_string(m.properties.size()) +
                            " bytes, at most " + std::to_string(remoting::kMaxPropertiesBytes) +
                            " allowed");
  }
  if (m.body.size() > 0x7fff0000u) {
    return invalid_argument("body of " + std::to_string(m.body.size()) + " bytes is too large");
  }
  return Status();
}

// The checks of a batch of `count` messages; `at(i)` gives message i as a MessageView.
template <typename At>
Status validate_batch(std::size_t count, At at) {
  if (count == 0 || count > kMaxBatchMessages) {
    return invalid_argument("batch of " + std::to_string(count) + " messages, expected 1.." +
                            std::to_string(kMaxBatchMessages));
  }
  const MessageView first = at(0);
  for (std::size_t i = 0; i < count; ++i) {
    const MessageView m = at(i);
    if (Status s = validate_message_view(m); !s.ok()) {
      return invalid_argument("batch message " + std::to_string(i) + ": " + s.error().message);
    }
    if (m.topic != first.topic || m.queue_id != first.queue_id) {
      return invalid_argument("batch message " + std::to_string(i) + " is for " +
                              std::string(m.topic) + "/" + std::to_string(m.queue_id) +
                              " but the batch is for " + std::string(first.topic) + "/" +
                              std::to_string(first.queue_id));
    }
  }
  return Status();
}

CommandType type_of(const StoreCommand& command) {
  return std::visit(
      [](const auto& c) {
        using T = std::decay_t<decltype(c)>;
        if constexpr (std::is_same_v<T, PutMessageCommand>) return CommandType::kPutMessage;
        if constexpr (std::is_same_v<T, PutBatchCommand>) return CommandType::kPutBatch;
        if constexpr (std::is_same_v<T, UpdateTopicCommand>) return CommandType::kUpdateTopic;
        if constexpr (std::is_same_v<T, DeleteTopicCommand>) return CommandType::kDeleteTopic;
        if constexpr (std::is_same_v<T, CommitOffsetCommand>) return CommandType::kCommitOffset;
      },
      command);
}

}  // namespace

const char* command_type_name(CommandType type) {
  switch (type) {
    case CommandType::kPutMessage:
      return "PutMessage";
    case CommandType::kPutBatch:
      return "PutBatch";
    case CommandType::kUpdateTopic:
      return "UpdateTopic";
    case CommandType::kDeleteTopic:
      return "DeleteTopic";
    case CommandType::kCommitOffset:
      return "CommitOffset";
  }
  return "Unknown";
}

Status validate_topic_name(std::string_view topic) {
  if (topic.empty() || topic.size() > remoting::kMaxTopicBytes) {
    return invalid_argument("topic " + printable(topic) + " must be 1.." +
                            std::to_string(remoting::kMaxTopicBytes) + " bytes long");
  }
  for (char c : topic) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '%' || c == '|' || c == '_' || c == '-';
    if (!ok)
      return invalid_argument("topic " + printable(topic) + " may only contain [A-Za-z0-9%|_-]");
  }
  return Status();
}

Status validate_group_name(std::string_view group) {
  if (group.empty() || group.size() > kMaxGroupBytes) {
    return invalid_argument("consumer group " + printable(group) + " must be 1.." +
                            std::to_string(kMaxGroupBytes) + " bytes long");
  }
  for (char c : group) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
      return invalid_argument("consumer group " + printable(group) +
                              " contains a control character");
    }
  }
  return Status();
}

Status validate_message(const StoredMessage& m) {
  return validate_message_view(view_of(m));
}

Status validate_topic_config(const TopicConfig& config) {
  if (Status s = validate_topic_name(config.name); !s.ok()) return s;
  auto check_count = [&](std::int32_t n, const char* key) -> Status {
    if (n < 1 || n > kMaxQueuesPerTopic) {
      return invalid_argument(std::string(key) + " of topic '" + config.name + "' is " +
                              std::to_string(n) + ", expected 1.." +
                              std::to_string(kMaxQueuesPerTopic));
    }
    return Status();
  };
  if (Status s = check_count(config.read_queue_nums, "readQueueNums"); !s.ok()) return s;
  if (Status s = check_count(config.write_queue_nums, "writeQueueNums"); !s.ok()) return s;
  if (config.perm < 0 || config.perm > 7) {
    return invalid_argument("perm of topic '" + config.name + "' is " +
                            std::to_string(config.perm) + ", expected 0..7");
  }
  return Status();
}

Status validate_command(const StoreCommand& command) {
  return std::visit(
      [](const auto& c) -> Status {
        using T = std::decay_t<decltype(c)>;
        if constexpr (std::is_same_v<T, PutMessageCommand>) {
          return validate_message(c.message);
        } else if constexpr (std::is_same_v<T, PutBatchCommand>) {
          return validate_batch(c.messages.size(),
                                [&](std::size_t i) { return view_of(c.messages[i]); });
        } else if constexpr (std::is_same_v<T, UpdateTopicCommand>) {
          return validate_topic_config(c.config);
        } else if constexpr (std::is_same_v<T, DeleteTopicCommand>) {
          return validate_topic_name(c.topic);
        } else {
          if (Status s = validate_group_name(c.group); !s.ok()) return s;
          if (Status s = validate_topic_name(c.topic); !s.ok()) return s;
          if (Status s = check_queue_id(c.queue_id); !s.ok()) return s;
          if (c.offset < 0) {
            return invalid_argument("commit offset " + std::to_string(c.offset) + " is negative");
          }
          return Status();
        }
      },
      command);
}

Result<std::string> encode_command(const StoreCommand& command) {
  if (Status s = validate_command(command); !s.ok()) return s.error();
  // One buffer: header first (length and CRC patched at the end), then the payload, sized up
  // front so a 1 KiB message costs one allocation and one copy of its body.
  std::size_t estimate = kCommandHeaderBytes + 64;
  if (const auto* put = std::get_if<PutMessageCommand>(&command)) {
    estimate += encoded_size_hint(put->message);
  } else if (const auto* batch = std::get_if<PutBatchCommand>(&command)) {
    for (const auto& m : batch->messages) estimate += encoded_size_hint(m);
  }
  std::string out;
  out.reserve(estimate);
  ByteWriter w(&out);
  w.u32(kCommandMagic);
  w.u8(kCommandVersion);
  w.u8(static_cast<std::uint8_t>(type_of(command)));
  w.u16(0);
  w.u32(0);  // payload length, patched below
  w.u32(0);  // CRC, patched below
  std::visit(
      [&](const auto& c) {
        using T = std::decay_t<decltype(c)>;
        if constexpr (std::is_same_v<T, PutMessageCommand>) {
          write_message(w, c.message);
        } else if constexpr (std::is_same_v<T, PutBatchCommand>) {
          w.u32(static_cast<std::uint32_t>(c.messages.size()));
          for (const auto& m : c.messages) write_message(w, m);
        } else if constexpr (std::is_same_v<T, UpdateTopicCommand>) {
          w.blob16(c.config.name);
          w.i32(c.config.read_queue_nums);
          w.i32(c.config.write_queue_nums);
          w.i32(c.config.perm);
          w.i32(c.config.topic_sys_flag);
        } else if constexpr (std::is_same_v<T, DeleteTopicCommand>) {
          w.blob16(c.topic);
        } else {
          w.blob16(c.group);
          w.blob16(c.topic);
          w.i32(c.queue_id);
          w.i64(c.offset);
        }
      },
      command);
  const auto payload_bytes = static_cast<std::uint32_t>(out.size() - kCommandHeaderBytes);
  w.patch_u32(8, payload_bytes);
  std::string_view bytes(out);
  w.patch_u32(12, crc32c_extend(crc32c(bytes.substr(0, 12)), bytes.substr(kCommandHeaderBytes)));
  return out;
}

namespace {

Error corrupt_entry(std::string message) {
  return make_error(ErrorCode::kCorruption, "store command: " + std::move(message));
}

struct CheckedEntry {
  std::uint8_t type = 0;
  std::string_view payload;
};

// The 16-byte header checks of decode_command (magic, version, reserved, length, CRC).
Result<CheckedEntry> check_entry_header(std::string_view entry) {
  const auto& corrupt = corrupt_entry;
  if (entry.size() < kCommandHeaderBytes) {
    return corrupt("entry of " + std::to_string(entry.size()) + " bytes is shorter than the " +
                   std::to_string(kCommandHeaderBytes) + "-byte header");
  }
  ByteReader h(entry.substr(0, kCommandHeaderBytes));
  std::uint32_t magic = h.u32();
  std::uint8_t version = h.u8();
  std::uint8_t type = h.u8();
  std::uint16_t reserved = h.u16();
  std::uint32_t payload_len = h.u32();
  std::uint32_t crc = h.u32();
  if (magic != kCommandMagic) return corrupt("bad magic " + std::to_string(magic) + " at offset 0");
  if (version == 0 || version > kCommandVersion) {
    return make_error(ErrorCode::kInvalidArgument,
                      "store command: version " + std::to_string(version) +
                          " at offset 4 is not supported (this build reads version " +
                          std::to_string(kCommandVersion) + ")");
  }
  if (reserved != 0) return corrupt("reserved field at offset 6 is " + std::to_string(reserved));
  if (payload_len != entry.size() - kCommandHeaderBytes) {
    return corrupt("payload length " + std::to_string(payload_len) +
                   " at offset 8 disagrees with " +
                   std::to_string(entry.size() - kCommandHeaderBytes) + " bytes present");
  }
  std::string_view payload = entry.substr(kCommandHeaderBytes);
  if (crc32c_extend(crc32c(entry.substr(0, 12)), payload) != crc) {
    return corrupt("CRC32C mismatch (checksum at offset 12)");
  }

  return CheckedEntry{type, payload};
}

// The checks after the fields were read: reader state, trailing bytes, then `validate`.
Status check_decoded(const ByteReader& r, std::uint8_t type, const Status& validated) {
  const char* name = command_type_name(static_cast<CommandType>(type));
  if (!r.ok()) {
    return corrupt_entry(std::string(name) +
                         " payload is truncated or has a bad field near payload offset " +
                         std::to_string(r.position()));
  }
  if (!r.at_end()) {
    return corrupt_entry(std::to_string(r.remaining()) + " trailing bytes after the " + name +
                         " payload");
  }
  if (!validated.ok()) return corrupt_entry(std::string(name) + ": " + validated.error().message);
  return Status();
}

Error bad_batch_count(std::uint32_t count) {
  return corrupt_entry("batch count " + std::to_string(count) + " at payload offset 0");
}

}  // namespace

Result<StoreCommand> decode_command(std::string_view entry) {
  auto checked = check_entry_header(entry);
  if (!checked.ok()) return checked.error();
  const std::uint8_t type = checked->type;
  ByteReader r(checked->payload);
  StoreCommand command;
  switch (static_cast<CommandType>(type)) {
    case CommandType::kPutMessage:
      command = PutMessageCommand{read_message(r)};
      break;
    case CommandType::kPutBatch: {
      std::uint32_t count = r.u32();
      if (count == 0 || count > kMaxBatchMessages) return bad_batch_count(count);
      PutBatchCommand batch;
      for (std::uint32_t i = 0; i < count && r.ok(); ++i) batch.messages.push_back(read_message(r));
      command = std::move(batch);
      break;
    }
    case CommandType::kUpdateTopic: {
      UpdateTopicCommand c;
      c.config.name = std::string(r.blob16());
      c.config.read_queue_nums = r.i32();
      c.config.write_queue_nums = r.i32();
      c.config.perm = r.i32();
      c.config.topic_sys_flag = r.i32();
      command = std::move(c);
      break;
    }
    case CommandType::kDeleteTopic:
      command = DeleteTopicCommand{std::string(r.blob16())};
      break;
    case CommandType::kCommitOffset: {
      CommitOffsetCommand c;
      c.group = std::string(r.blob16());
      c.topic = std::string(r.blob16());
      c.queue_id = r.i32();
      c.offset = r.i64();
      command = std::move(c);
      break;
    }
    default:
      return make_error(ErrorCode::kInvalidArgument,
                        "store command: unknown type " + std::to_string(type) + " at offset 5");
  }
  Status validated = (r.ok() && r.at_end()) ? validate_command(command) : Status();
  if (Status s = check_decoded(r, type, validated); !s.ok()) return s.error();
  return command;
}

bool is_put_entry(std::string_view entry) {
  if (entry.size() < kCommandHeaderBytes) return false;
  auto type = static_cast<CommandType>(static_cast<std::uint8_t>(entry[5]));
  return type == CommandType::kPutMessage || type == CommandType::kPutBatch;
}

Result<PutSummary> decode_put_summary(std::string_view entry) {
  auto checked = check_entry_header(entry);
  if (!checked.ok()) return checked.error();
  const std::uint8_t type = checked->type;
  ByteReader r(checked->payload);
  PutSummary summary;
  Status validated;
  switch (static_cast<CommandType>(type)) {
    case CommandType::kPutMessage: {
      MessageView m = read_message_view(r);
      if (r.ok() && r.at_end()) validated = validate_message_view(m);
      summary.topic = m.topic;
      summary.queue_id = m.queue_id;
      summary.store_timestamp_ms = m.store_timestamp_ms;
      summary.count = 1;
      break;
    }
    case CommandType::kPutBatch: {
      std::uint32_t count = r.u32();
      if (count == 0 || count > kMaxBatchMessages) return bad_batch_count(count);
      std::vector<MessageView> messages;
      messages.reserve(std::min<std::size_t>(count, r.remaining() / 32 + 1));
      for (std::uint32_t i = 0; i < count && r.ok(); ++i) messages.push_back(read_message_view(r));
      if (r.ok() && r.at_end()) {
        validated = validate_batch(messages.size(), [&](std::size_t i) { return messages[i]; });
      }
      if (!messages.empty()) {
        summary.topic = messages.front().topic;
        summary.queue_id = messages.front().queue_id;
        summary.store_timestamp_ms = messages.front().store_timestamp_ms;
      }
      summary.count = static_cast<std::uint32_t>(messages.size());
      break;
    }
    default:
      return make_error(ErrorCode::kInvalidArgument,
                        "store command: type " + std::to_string(type) +
                            " at offset 5 is not a PutMessage or PutBatch");
  }
  if (Status s = check_decoded(r, type, validated); !s.ok()) return s.error();
  return summary;
}

}  // namespace dledger::store
