#include "broker/store/store_command.h"

#include <type_traits>

#include "broker/base/bytes.h"
#include "broker/base/crc32c.h"

namespace dledger::store {
namespace {

Error invalid(std::string message) {
  return make_error(ErrorCode::kInvalidArgument, std::move(message));
}

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

Status check_host(const remoting::HostAddress& host, bool v6_bit, const char* name) {
  if (!host.valid()) {
    return invalid(std::string(name) + " has " + std::to_string(host.ip.size()) +
                   " address bytes, expected 4 or 16");
  }
  if (host.is_ipv6() != v6_bit) {
    return invalid(std::string(name) + " is " + (host.is_ipv6() ? "IPv6" : "IPv4") +
                   " but its sysFlag IPv6 bit is " + (v6_bit ? "set" : "clear"));
  }
  if (host.port < 0 || host.port > 65535) {
    return invalid(std::string(name) + " port " + std::to_string(host.port) +
                   " is outside 0..65535");
  }
  return Status();
}

Status check_queue_id(std::int32_t queue_id) {
  if (queue_id < 0 || queue_id >= kMaxQueuesPerTopic) {
    return invalid("queueId " + std::to_string(queue_id) + " is outside 0.." +
                   std::to_string(kMaxQueuesPerTopic - 1));
  }
  return Status();
}

void write_str16(ByteWriter& w, std::string_view s) {
  w.u16(static_cast<std::uint16_t>(s.size()));
  w.bytes(s);
}
std::string read_str16(ByteReader& r) {
  return std::string(r.bytes(r.u16()));
}

void write_host(ByteWriter& w, const remoting::HostAddress& host) {
  w.u8(static_cast<std::uint8_t>(host.ip.size()));
  w.bytes(host.ip);
  w.i32(host.port);
}
remoting::HostAddress read_host(ByteReader& r) {
  remoting::HostAddress host;
  std::uint8_t n = r.u8();
  if (n != 4 && n != 16) {
    r.fail();
    return host;
  }
  host.ip = std::string(r.bytes(n));
  host.port = r.i32();
  return host;
}

void write_message(ByteWriter& w, const StoredMessage& m) {
  write_str16(w, m.topic);
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
StoredMessage read_message(ByteReader& r) {
  StoredMessage m;
  m.topic = read_str16(r);
  m.queue_id = r.i32();
  m.flag = r.i32();
  m.sys_flag = r.i32();
  m.born_timestamp_ms = r.i64();
  m.born_host = read_host(r);
  m.store_timestamp_ms = r.i64();
  m.store_host = read_host(r);
  m.reconsume_times = r.i32();
  m.prepared_transaction_offset = r.i64();
  m.properties = std::string(r.blob32(remoting::kMaxPropertiesBytes));
  m.body = std::string(r.blob32());
  return m;
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
    return invalid("topic " + printable(topic) + " must be 1.." +
                   std::to_string(remoting::kMaxTopicBytes) + " bytes long");
  }
  for (char c : topic) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '%' || c == '|' || c == '_' || c == '-';
    if (!ok) return invalid("topic " + printable(topic) + " may only contain [A-Za-z0-9%|_-]");
  }
  return Status();
}

Status validate_group_name(std::string_view group) {
  if (group.empty() || group.size() > kMaxGroupBytes) {
    return invalid("consumer group " + printable(group) + " must be 1.." +
                   std::to_string(kMaxGroupBytes) + " bytes long");
  }
  for (char c : group) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
      return invalid("consumer group " + printable(group) + " contains a control character");
    }
  }
  return Status();
}

Status validate_message(const StoredMessage& m) {
  if (Status s = validate_topic_name(m.topic); !s.ok()) return s;
  if (Status s = check_queue_id(m.queue_id); !s.ok()) return s;
  if (Status s = check_host(
          m.born_host, (m.sys_flag & remoting::message_sys_flag::kBornHostV6) != 0, "born host");
      !s.ok()) {
    return s;
  }
  if (Status s = check_host(
          m.store_host, (m.sys_flag & remoting::message_sys_flag::kStoreHostV6) != 0, "store host");
      !s.ok()) {
    return s;
  }
  if (m.properties.size() > remoting::kMaxPropertiesBytes) {
    return invalid("properties are " + std::to_string(m.properties.size()) + " bytes, at most " +
                   std::to_string(remoting::kMaxPropertiesBytes) + " allowed");
  }
  if (m.body.size() > 0x7fff0000u) {
    return invalid("body of " + std::to_string(m.body.size()) + " bytes is too large");
  }
  return Status();
}

Status validate_topic_config(const TopicConfig& config) {
  if (Status s = validate_topic_name(config.name); !s.ok()) return s;
  auto check_count = [&](std::int32_t n, const char* key) -> Status {
    if (n < 1 || n > kMaxQueuesPerTopic) {
      return invalid(std::string(key) + " of topic '" + config.name + "' is " + std::to_string(n) +
                     ", expected 1.." + std::to_string(kMaxQueuesPerTopic));
    }
    return Status();
  };
  if (Status s = check_count(config.read_queue_nums, "readQueueNums"); !s.ok()) return s;
  if (Status s = check_count(config.write_queue_nums, "writeQueueNums"); !s.ok()) return s;
  if (config.perm < 0 || config.perm > 7) {
    return invalid("perm of topic '" + config.name + "' is " + std::to_string(config.perm) +
                   ", expected 0..7");
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
          if (c.messages.empty() || c.messages.size() > kMaxBatchMessages) {
            return invalid("batch of " + std::to_string(c.messages.size()) +
                           " messages, expected 1.." + std::to_string(kMaxBatchMessages));
          }
          for (std::size_t i = 0; i < c.messages.size(); ++i) {
            const StoredMessage& m = c.messages[i];
            if (Status s = validate_message(m); !s.ok()) {
              return invalid("batch message " + std::to_string(i) + ": " + s.error().message);
            }
            if (m.topic != c.messages[0].topic || m.queue_id != c.messages[0].queue_id) {
              return invalid("batch message " + std::to_string(i) + " is for " + m.topic + "/" +
                             std::to_string(m.queue_id) + " but the batch is for " +
                             c.messages[0].topic + "/" + std::to_string(c.messages[0].queue_id));
            }
          }
          return Status();
        } else if constexpr (std::is_same_v<T, UpdateTopicCommand>) {
          return validate_topic_config(c.config);
        } else if constexpr (std::is_same_v<T, DeleteTopicCommand>) {
          return validate_topic_name(c.topic);
        } else {
          if (Status s = validate_group_name(c.group); !s.ok()) return s;
          if (Status s = validate_topic_name(c.topic); !s.ok()) return s;
          if (Status s = check_queue_id(c.queue_id); !s.ok()) return s;
          if (c.offset < 0) {
            return invalid("commit offset " + std::to_string(c.offset) + " is negative");
          }
          return Status();
        }
      },
      command);
}

Result<std::string> encode_command(const StoreCommand& command) {
  if (Status s = validate_command(command); !s.ok()) return s.error();
  std::string payload;
  ByteWriter w(&payload);
  std::visit(
      [&](const auto& c) {
        using T = std::decay_t<decltype(c)>;
        if constexpr (std::is_same_v<T, PutMessageCommand>) {
          write_message(w, c.message);
        } else if constexpr (std::is_same_v<T, PutBatchCommand>) {
          w.u32(static_cast<std::uint32_t>(c.messages.size()));
          for (const auto& m : c.messages) write_message(w, m);
        } else if constexpr (std::is_same_v<T, UpdateTopicCommand>) {
          write_str16(w, c.config.name);
          w.i32(c.config.read_queue_nums);
          w.i32(c.config.write_queue_nums);
          w.i32(c.config.perm);
          w.i32(c.config.topic_sys_flag);
        } else if constexpr (std::is_same_v<T, DeleteTopicCommand>) {
          write_str16(w, c.topic);
        } else {
          write_str16(w, c.group);
          write_str16(w, c.topic);
          w.i32(c.queue_id);
          w.i64(c.offset);
        }
      },
      command);
  std::string out;
  out.reserve(kCommandHeaderBytes + payload.size());
  ByteWriter h(&out);
  h.u32(kCommandMagic);
  h.u8(kCommandVersion);
  h.u8(static_cast<std::uint8_t>(type_of(command)));
  h.u16(0);
  h.u32(static_cast<std::uint32_t>(payload.size()));
  h.u32(crc32c_extend(crc32c(out), payload));
  h.bytes(payload);
  return out;
}

Result<StoreCommand> decode_command(std::string_view entry) {
  auto corrupt = [](std::string message) {
    return make_error(ErrorCode::kCorruption, "store command: " + std::move(message));
  };
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

  ByteReader r(payload);
  StoreCommand command;
  switch (static_cast<CommandType>(type)) {
    case CommandType::kPutMessage:
      command = PutMessageCommand{read_message(r)};
      break;
    case CommandType::kPutBatch: {
      std::uint32_t count = r.u32();
      if (count == 0 || count > kMaxBatchMessages) {
        return corrupt("batch count " + std::to_string(count) + " at payload offset 0");
      }
      PutBatchCommand batch;
      for (std::uint32_t i = 0; i < count && r.ok(); ++i) batch.messages.push_back(read_message(r));
      command = std::move(batch);
      break;
    }
    case CommandType::kUpdateTopic: {
      UpdateTopicCommand c;
      c.config.name = read_str16(r);
      c.config.read_queue_nums = r.i32();
      c.config.write_queue_nums = r.i32();
      c.config.perm = r.i32();
      c.config.topic_sys_flag = r.i32();
      command = std::move(c);
      break;
    }
    case CommandType::kDeleteTopic:
      command = DeleteTopicCommand{read_str16(r)};
      break;
    case CommandType::kCommitOffset: {
      CommitOffsetCommand c;
      c.group = read_str16(r);
      c.topic = read_str16(r);
      c.queue_id = r.i32();
      c.offset = r.i64();
      command = std::move(c);
      break;
    }
    default:
      return make_error(ErrorCode::kInvalidArgument,
                        "store command: unknown type " + std::to_string(type) + " at offset 5");
  }
  if (!r.ok()) {
    return corrupt(std::string(command_type_name(static_cast<CommandType>(type))) +
                   " payload is truncated or has a bad field near payload offset " +
                   std::to_string(r.position()));
  }
  if (!r.at_end()) {
    return corrupt(std::to_string(r.remaining()) + " trailing bytes after the " +
                   command_type_name(static_cast<CommandType>(type)) + " payload");
  }
  if (Status s = validate_command(command); !s.ok()) {
    return corrupt(std::string(command_type_name(static_cast<CommandType>(type))) + ": " +
                   s.error().message);
  }
  return command;
}

}  // namespace dledger::store
