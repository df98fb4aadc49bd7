#include "broker/remoting/message_codec.h"

#include <arpa/inet.h>
#include <zlib.h>

#include <algorithm>
#include <limits>

#include "broker/base/bytes.h"
#include "broker/remoting/json_util.h"

namespace dledger::remoting {

namespace {

Error corruption(std::string message) {
  return make_error(ErrorCode::kCorruption, std::move(message));
}

std::string hex32(uint32_t v) {
  char buf[9];
  static const char* kHex = "0123456789ABCDEF";
  for (int i = 0; i < 8; ++i) buf[i] = kHex[(v >> (28 - 4 * i)) & 0xf];
  buf[8] = '\0';
  return buf;
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

Status check_host(const HostAddress& host, bool sys_flag_v6, const char* name) {
  if (!host.valid()) {
    return invalid_argument(std::string(name) + " address has " + std::to_string(host.ip.size()) +
                            " bytes, expected 4 (IPv4) or 16 (IPv6)");
  }
  if (host.is_ipv6() != sys_flag_v6) {
    return invalid_argument(std::string(name) + " is " + (host.is_ipv6() ? "IPv6" : "IPv4") +
                            " but the sysFlag IPv6 bit is " + (sys_flag_v6 ? "set" : "clear"));
  }
  return Status::ok_status();
}

}  // namespace

// ---- HostAddress ----

HostAddress HostAddress::ipv4(uint8_t a, uint8_t b, uint8_t c, uint8_t d, int32_t port) {
  HostAddress host;
  host.ip = {static_cast<char>(a), static_cast<char>(b), static_cast<char>(c),
             static_cast<char>(d)};
  host.port = port;
  return host;
}

Result<HostAddress> HostAddress::parse(std::string_view text) {
  std::size_t colon = text.rfind(':');
  if (colon == std::string_view::npos) {
    return invalid_argument("address " + quote_for_error(text) + " has no ':port'");
  }
  std::string_view host_part = text.substr(0, colon);
  auto port = parse_decimal_int(text.substr(colon + 1));
  if (!port || *port < 0 || *port > 65535) {
    return invalid_argument("address " + quote_for_error(text) + " has an invalid port");
  }
  HostAddress host;
  host.port = static_cast<int32_t>(*port);
  std::string ip_text(host_part);
  if (host_part.size() >= 2 && host_part.front() == '[' && host_part.back() == ']') {
    ip_text = std::string(host_part.substr(1, host_part.size() - 2));
    unsigned char buf[16];
    if (inet_pton(AF_INET6, ip_text.c_str(), buf) != 1) {
      return invalid_argument("address " + quote_for_error(text) + " has an invalid IPv6 host");
    }
    host.ip.assign(reinterpret_cast<const char*>(buf), 16);
    return host;
  }
  unsigned char buf[4];
  if (inet_pton(AF_INET, ip_text.c_str(), buf) != 1) {
    return invalid_argument("address " + quote_for_error(text) + " has an invalid IPv4 host");
  }
  host.ip.assign(reinterpret_cast<const char*>(buf), 4);
  return host;
}

std::string HostAddress::to_string() const {
  char buf[INET6_ADDRSTRLEN] = {0};
  if (ip.size() == 4) {
    inet_ntop(AF_INET, ip.data(), buf, sizeof(buf));
    return std::string(buf) + ":" + std::to_string(port);
  }
  if (ip.size() == 16) {
    inet_ntop(AF_INET6, ip.data(), buf, sizeof(buf));
    return "[" + std::string(buf) + "]:" + std::to_string(port);
  }
  return "<invalid address>:" + std::to_string(port);
}

// ---- stored records ----

int32_t message_body_crc(std::string_view body) {
  uLong crc = crc32(0L, Z_NULL, 0);
  // zlib takes uInt lengths; feed large bodies in pieces.
  std::size_t pos = 0;
  while (pos < body.size()) {
    std::size_t n = std::min<std::size_t>(body.size() - pos, 1u << 30);
    crc = crc32(crc, reinterpret_cast<const Bytef*>(body.data() + pos), static_cast<uInt>(n));
    pos += n;
  }
  return static_cast<int32_t>(crc & 0x7fffffffu);
}

std::size_t message_record_size(const MessageRecord& record) {
  return 4 + 4 + 4 + 4 + 4 + 8 + 8 + 4 + 8 + (record.born_host.is_ipv6() ? 20 : 8) + 8 +
         (record.store_host.is_ipv6() ? 20 : 8) + 4 + 8 + 4 + record.body.size() + 1 +
         record.topic.size() + 2 + record.properties.size();
}

Status append_message_record(const MessageRecord& record, std::string* out) {
  Status born = check_host(record.born_host, (record.sys_flag & message_sys_flag::kBornHostV6) != 0,
                           "born host");
  if (!born.ok()) return born;
  Status store = check_host(record.store_host,
                            (record.sys_flag & message_sys_flag::kStoreHostV6) != 0, "store host");
  if (!store.ok()) return store;
  if (record.topic.size() > kMaxTopicBytes) {
    return invalid_argument("topic " + quote_for_error(record.topic) + " has " +
                            std::to_string(record.topic.size()) + " bytes, more than " +
                            std::to_string(kMaxTopicBytes));
  }
  if (record.properties.size() > kMaxPropertiesBytes) {
    return invalid_argument("message properties have " + std::to_string(record.properties.size()) +
                            " bytes, more than " + std::to_string(kMaxPropertiesBytes));
  }
  std::size_t total = message_record_size(record);
  if (total > static_cast<std::size_t>(std::numeric_limits<int32_t>::max())) {
    return invalid_argument("message record of " + std::to_string(total) +
                            " bytes exceeds INT32_MAX");
  }
  out->reserve(out->size() + total);
  ByteWriter w(out, Endian::kBig);
  w.i32(static_cast<int32_t>(total));
  w.u32(kMessageMagicCode);
  w.i32(message_body_crc(record.body));
  w.i32(record.queue_id);
  w.i32(record.flag);
  w.i64(record.queue_offset);
  w.i64(record.physical_offset);
  w.i32(record.sys_flag);
  w.i64(record.born_timestamp_ms);
  w.bytes(record.born_host.ip);
  w.i32(record.born_host.port);
  w.i64(record.store_timestamp_ms);
  w.bytes(record.store_host.ip);
  w.i32(record.store_host.port);
  w.i32(record.reconsume_times);
  w.i64(record.prepared_transaction_offset);
  w.i32(static_cast<int32_t>(record.body.size()));
  w.bytes(record.body);
  w.u8(static_cast<uint8_t>(record.topic.size()));
  w.bytes(record.topic);
  w.i16(static_cast<int16_t>(record.properties.size()));
  w.bytes(record.properties);
  return Status::ok_status();
}

Result<std::string> encode_message_record(const MessageRecord& record) {
  std::string out;
  Status status = append_message_record(record, &out);
  if (!status.ok()) return status.error();
  return out;
}

Result<MessageRecord> decode_message_record(std::string_view bytes, std::size_t* record_bytes) {
  if (bytes.size() < 8) {
    return invalid_argument("message record: " + std::to_string(bytes.size()) +
                            " bytes, too short for TOTALSIZE and MAGICCODE");
  }
  ByteReader head(bytes, Endian::kBig);
  int32_t total_size = head.i32();
  uint32_t magic = head.u32();
  if (magic != kMessageMagicCode) {
    return corruption("message record: MAGICCODE 0x" + hex32(magic) + " at offset 4, expected 0x" +
                      hex32(kMessageMagicCode));
  }
  if (total_size < static_cast<int32_t>(kMessageRecordFixedBytesIpv4)) {
    return corruption("message record: TOTALSIZE " + std::to_string(total_size) +
                      " smaller than the minimum " + std::to_string(kMessageRecordFixedBytesIpv4));
  }
  if (static_cast<std::size_t>(total_size) > bytes.size()) {
    return invalid_argument("message record: TOTALSIZE " + std::to_string(total_size) +
                            " exceeds the " + std::to_string(bytes.size()) + " bytes available");
  }
  ByteReader r(bytes.substr(0, static_cast<std::size_t>(total_size)), Endian::kBig);
  r.i32();
  r.u32();
  MessageRecord record;
  int32_t body_crc = r.i32();
  record.queue_id = r.i32();
  record.flag = r.i32();
  record.queue_offset = r.i64();
  record.physical_offset = r.i64();
  record.sys_flag = r.i32();
  record.born_timestamp_ms = r.i64();
  std::size_t born_ip_len = (record.sys_flag & message_sys_flag::kBornHostV6) ? 16 : 4;
  record.born_host.ip = std::string(r.bytes(born_ip_len));
  record.born_host.port = r.i32();
  record.store_timestamp_ms = r.i64();
  std::size_t store_ip_len = (record.sys_flag & message_sys_flag::kStoreHostV6) ? 16 : 4;
  record.store_host.ip = std::string(r.bytes(store_ip_len));
  record.store_host.port = r.i32();
  record.reconsume_times = r.i32();
  record.prepared_transaction_offset = r.i64();
  std::size_t body_len_offset = r.position();
  int32_t body_len = r.i32();
  if (!r.ok() || body_len < 0 || static_cast<std::size_t>(body_len) > r.remaining()) {
    return corruption("message record: BODY length " + std::to_string(body_len) + " at offset " +
                      std::to_string(body_len_offset) + " is negative or exceeds TOTALSIZE " +
                      std::to_string(total_size));
  }
  record.body = std::string(r.bytes(static_cast<std::size_t>(body_len)));
  std::size_t topic_len_offset = r.position();
  uint8_t topic_len = r.u8();
  if (!r.ok() || topic_len > kMaxTopicBytes || topic_len > r.remaining()) {
    return corruption("message record: TOPIC length " + std::to_string(topic_len) + " at offset " +
                      std::to_string(topic_len_offset) + " exceeds 127 or TOTALSIZE " +
                      std::to_string(total_size));
  }
  record.topic = std::string(r.bytes(topic_len));
  std::size_t props_len_offset = r.position();
  int16_t props_len = r.i16();
  if (!r.ok() || props_len < 0 || static_cast<std::size_t>(props_len) > r.remaining()) {
    return corruption("message record: PROPERTIES length " + std::to_string(props_len) +
                      " at offset " + std::to_string(props_len_offset) +
                      " is negative or exceeds TOTALSIZE " + std::to_string(total_size));
  }
  record.properties = std::string(r.bytes(static_cast<std::size_t>(props_len)));
  if (!r.at_end()) {
    return corruption("message record: TOTALSIZE " + std::to_string(total_size) +
                      " but the fields end at offset " + std::to_string(r.position()));
  }
  int32_t actual_crc = message_body_crc(record.body);
  if (actual_crc != body_crc) {
    return corruption("message record at queue offset " + std::to_string(record.queue_offset) +
                      ": BODYCRC " + std::to_string(body_crc) + " but the body's CRC is " +
                      std::to_string(actual_crc));
  }
  *record_bytes = static_cast<std::size_t>(total_size);
  return record;
}

Result<std::vector<MessageRecord>> decode_message_records(std::string_view body) {
  std::vector<MessageRecord> records;
  std::size_t pos = 0;
  while (pos < body.size()) {
    std::size_t used = 0;
    auto record = decode_message_record(body.substr(pos), &used);
    if (!record.ok()) {
      return make_error(record.error().code, "record " + std::to_string(records.size()) +
                                                 " at byte " + std::to_string(pos) + ": " +
                                                 record.error().message);
    }
    records.push_back(std::move(*record));
    pos += used;
  }
  return records;
}

// ---- offset msgId ----

std::string encode_offset_msg_id(const HostAddress& store_host, int64_t physical_offset) {
  std::string raw;
  ByteWriter w(&raw, Endian::kBig);
  w.bytes(store_host.ip);
  w.i32(store_host.port);
  w.i64(physical_offset);
  static const char* kHex = "0123456789ABCDEF";
  std::string out;
  out.reserve(raw.size() * 2);
  for (char c : raw) {
    unsigned char b = static_cast<unsigned char>(c);
    out += kHex[b >> 4];
    out += kHex[b & 0xf];
  }
  return out;
}

std::string offset_msg_id(const MessageRecord& record) {
  return encode_offset_msg_id(record.store_host, record.physical_offset);
}

Result<OffsetMsgId> decode_offset_msg_id(std::string_view msg_id) {
  if (msg_id.size() != 32 && msg_id.size() != 56) {
    return invalid_argument("offset msgId " + quote_for_error(msg_id) + " has " +
                            std::to_string(msg_id.size()) +
                            " characters, expected 32 (IPv4) or 56 (IPv6)");
  }
  std::string raw;
  raw.reserve(msg_id.size() / 2);
  for (std::size_t i = 0; i < msg_id.size(); i += 2) {
    int hi = hex_value(msg_id[i]);
    int lo = hex_value(msg_id[i + 1]);
    if (hi < 0 || lo < 0) {
      return invalid_argument("offset msgId " + quote_for_error(msg_id) +
                              " has a non-hex character at " + std::to_string(hi < 0 ? i : i + 1));
    }
    raw.push_back(static_cast<char>((hi << 4) | lo));
  }
  std::size_t ip_len = raw.size() == 16 ? 4 : 16;
  ByteReader r(raw, Endian::kBig);
  OffsetMsgId id;
  id.store_host.ip = std::string(r.bytes(ip_len));
  id.store_host.port = r.i32();
  id.physical_offset = r.i64();
  // A client-generated msgId (UNIQ_KEY) has the same length: its pid, hash and time read as a
  // port and an offset are usually out of range.
  if (id.store_host.port < 0 || id.store_host.port > 65535) {
    return invalid_argument("offset msgId " + quote_for_error(msg_id) + " names port " +
                            std::to_string(id.store_host.port) +
                            ", outside [0, 65535]: not an offset msgId");
  }
  if (id.physical_offset < 0) {
    return invalid_argument("offset msgId " + quote_for_error(msg_id) +
                            " names a negative physical offset: not an offset msgId");
  }
  return id;
}

// ---- batch body ----

Result<std::vector<BatchMessage>> decode_batch_body(std::string_view body) {
  if (body.empty()) return invalid_argument("batch body is empty");
  constexpr std::size_t kFixed = 4 + 4 + 4 + 4 + 4 + 2;
  std::vector<BatchMessage> messages;
  std::size_t pos = 0;
  while (pos < body.size()) {
    auto fail = [&](const std::string& what) {
      return invalid_argument("batch message " + std::to_string(messages.size()) + " at byte " +
                              std::to_string(pos) + ": " + what);
    };
    std::string_view rest = body.substr(pos);
    if (rest.size() < kFixed) {
      return fail(std::to_string(rest.size()) + " bytes left, a message needs at least " +
                  std::to_string(kFixed));
    }
    ByteReader head(rest, Endian::kBig);
    int32_t total_size = head.i32();
    if (total_size < static_cast<int32_t>(kFixed) ||
        static_cast<std::size_t>(total_size) > rest.size()) {
      return fail("TOTALSIZE " + std::to_string(total_size) + " outside [" +
                  std::to_string(kFixed) + ", " + std::to_string(rest.size()) + "]");
    }
    ByteReader r(rest.substr(0, static_cast<std::size_t>(total_size)), Endian::kBig);
    r.i32();  // TOTALSIZE
    r.i32();  // MAGICCODE (0 from the Java client)
    r.i32();  // BODYCRC (0 from the Java client)
    BatchMessage message;
    message.flag = r.i32();
    int32_t body_len = r.i32();
    if (body_len < 0 || static_cast<std::size_t>(body_len) + 2 > r.remaining()) {
      return fail("BODY length " + std::to_string(body_len) + " is negative or exceeds TOTALSIZE " +
                  std::to_string(total_size));
    }
    message.body = std::string(r.bytes(static_cast<std::size_t>(body_len)));
    int16_t props_len = r.i16();
    if (props_len < 0 || static_cast<std::size_t>(props_len) != r.remaining()) {
      return fail("PROPERTIES length " + std::to_string(props_len) + " disagrees with TOTALSIZE " +
                  std::to_string(total_size) + " (" + std::to_string(r.remaining()) +
                  " bytes left)");
    }
    message.properties = std::string(r.bytes(static_cast<std::size_t>(props_len)));
    messages.push_back(std::move(message));
    pos += static_cast<std::size_t>(total_size);
  }
  return messages;
}

Result<std::string> encode_batch_body(const std::vector<BatchMessage>& messages) {
  std::string out;
  ByteWriter w(&out, Endian::kBig);
  for (std::size_t i = 0; i < messages.size(); ++i) {
    const BatchMessage& m = messages[i];
    if (m.properties.size() > kMaxPropertiesBytes) {
      return invalid_argument("batch message " + std::to_string(i) + ": properties have " +
                              std::to_string(m.properties.size()) + " bytes, more than " +
                              std::to_string(kMaxPropertiesBytes));
    }
    std::size_t total = 4 + 4 + 4 + 4 + 4 + m.body.size() + 2 + m.properties.size();
    if (total > static_cast<std::size_t>(std::numeric_limits<int32_t>::max())) {
      return invalid_argument("batch message " + std::to_string(i) + " exceeds INT32_MAX bytes");
    }
    w.i32(static_cast<int32_t>(total));
    w.i32(0);
    w.i32(0);
    w.i32(m.flag);
    w.i32(static_cast<int32_t>(m.body.size()));
    w.bytes(m.body);
    w.i16(static_cast<int16_t>(m.properties.size()));
    w.bytes(m.properties);
  }
  return out;
}

}  // namespace dledger::remoting
