#include "broker/remoting/remoting_command.h"

#include <limits>

#include "broker/base/bytes.h"
#include "broker/remoting/json_header_fast.h"
#include "broker/remoting/json_util.h"

namespace dledger::remoting {

using nlohmann::json;

namespace {

constexpr std::size_t kMinBinaryHeaderBytes = 2 + 1 + 2 + 4 + 4 + 4 + 4;

// ---- JSON header ----

}  // namespace

std::string encode_json_header_general(const RemotingCommand& cmd) {
  json header = json::object();
  header["code"] = cmd.code;
  json ext = json::object();
  for (const auto& [key, value] : cmd.ext_fields) ext[key] = value;
  header["extFields"] = std::move(ext);
  header["flag"] = cmd.flag;
  auto language = language_name(cmd.language);
  header["language"] = std::string(language ? *language : "OTHER");
  header["opaque"] = cmd.opaque;
  if (cmd.remark) header["remark"] = *cmd.remark;
  header["serializeTypeCurrentRPC"] = "JSON";
  header["version"] = cmd.version;
  return dump_json(header);
}

namespace {

Status read_json_int32(const json& header, const char* key, bool required, int32_t* out) {
  auto it = header.find(key);
  if (it == header.end() || it->is_null()) {
    if (required)
      return invalid_argument(std::string("JSON header: missing required field '") + key + "'");
    return Status::ok_status();
  }
  auto value =
      json_to_int(*it, std::string("JSON header field '") + key + "'",
                  std::numeric_limits<int32_t>::min(), std::numeric_limits<int32_t>::max());
  if (!value.ok()) return value.error();
  *out = static_cast<int32_t>(*value);
  return Status::ok_status();
}

Result<std::string> ext_value_to_string(const std::string& key, const json& value) {
  if (value.is_string()) return value.get<std::string>();
  if (value.is_boolean()) return std::string(value.get<bool>() ? "true" : "false");
  if (value.is_number_unsigned()) return std::to_string(value.get<uint64_t>());
  if (value.is_number_integer()) return std::to_string(value.get<int64_t>());
  if (value.is_number_float()) return dump_json(value);
  return invalid_argument("JSON header: extFields value for key " + quote_for_error(key) +
                          " must be a string, number or boolean, got " +
                          std::string(json_type_name(value)));
}

}  // namespace

Result<RemotingCommand> decode_json_header_general(std::string_view text) {
  auto parsed = parse_json(text, "JSON header");
  if (!parsed.ok()) return parsed.error();
  const json& header = *parsed;
  if (!header.is_object()) {
    return invalid_argument("JSON header: expected an object, got " +
                            std::string(json_type_name(header)));
  }
  RemotingCommand cmd;
  cmd.serialize_type = SerializeType::kJson;
  for (auto [key, required, out] :
       {std::tuple{"code", true, &cmd.code}, std::tuple{"version", false, &cmd.version},
        std::tuple{"opaque", false, &cmd.opaque}, std::tuple{"flag", false, &cmd.flag}}) {
    Status status = read_json_int32(header, key, required, out);
    if (!status.ok()) return status.error();
  }
  if (auto it = header.find("language"); it != header.end() && !it->is_null()) {
    if (it->is_string()) {
      auto code = language_from_name(it->get_ref<const std::string&>());
      cmd.language = code ? *code : language_code::kOther;
    } else {
      auto code = json_to_int(*it, "JSON header field 'language'", 0, 255);
      if (!code.ok()) return code.error();
      cmd.language = static_cast<uint8_t>(*code);
    }
  }
  if (auto it = header.find("remark"); it != header.end() && !it->is_null()) {
    if (!it->is_string()) {
      return invalid_argument("JSON header field 'remark' must be a string, got " +
                              std::string(json_type_name(*it)));
    }
    cmd.remark = it->get<std::string>();
  }
  if (auto it = header.find("extFields"); it != header.end() && !it->is_null()) {
    if (!it->is_object()) {
      return invalid_argument("JSON header field 'extFields' must be an object, got " +
                              std::string(json_type_name(*it)));
    }
    for (const auto& [key, value] : it->items()) {
      if (value.is_null()) continue;
      auto converted = ext_value_to_string(key, value);
      if (!converted.ok()) return converted.error();
      cmd.ext_fields[key] = std::move(*converted);
    }
  }
  return cmd;
}

namespace {

Result<RemotingCommand> decode_json_header(std::string_view text) {
  if (auto plain = decode_plain_json_header(text)) return std::move(*plain);
  return decode_json_header_general(text);
}

std::string encode_json_header(const RemotingCommand& cmd) {
  if (auto plain = encode_plain_json_header(cmd)) return std::move(*plain);
  return encode_json_header_general(cmd);
}

// ---- ROCKETMQ binary header ----

Result<std::string> encode_binary_header(const RemotingCommand& cmd) {
  constexpr int32_t kI16Min = std::numeric_limits<int16_t>::min();
  constexpr int32_t kI16Max = std::numeric_limits<int16_t>::max();
  if (cmd.code < kI16Min || cmd.code > kI16Max) {
    return invalid_argument("binary header: code " + std::to_string(cmd.code) +
                            " does not fit in i16");
  }
  if (cmd.version < kI16Min || cmd.version > kI16Max) {
    return invalid_argument("binary header: version " + std::to_string(cmd.version) +
                            " does not fit in i16");
  }
  std::string out;
  ByteWriter w(&out, Endian::kBig);
  w.i16(static_cast<int16_t>(cmd.code));
  w.u8(cmd.language);
  w.i16(static_cast<int16_t>(cmd.version));
  w.i32(cmd.opaque);
  w.i32(cmd.flag);
  if (cmd.remark && !cmd.remark->empty()) {
    if (cmd.remark->size() > kMaxHeaderBytes)
      return invalid_argument("binary header: remark too long");
    w.i32(static_cast<int32_t>(cmd.remark->size()));
    w.bytes(*cmd.remark);
  } else {
    w.i32(0);
  }
  std::size_t ext_len_pos = w.size();
  w.i32(0);
  for (const auto& [key, value] : cmd.ext_fields) {
    if (key.size() > static_cast<std::size_t>(kI16Max)) {
      return invalid_argument("binary header: extFields key of " + std::to_string(key.size()) +
                              " bytes exceeds 32767");
    }
    if (value.size() > kMaxHeaderBytes) {
      return invalid_argument("binary header: extFields value for key " + quote_for_error(key) +
                              " too long (" + std::to_string(value.size()) + " bytes)");
    }
    w.i16(static_cast<int16_t>(key.size()));
    w.bytes(key);
    w.i32(static_cast<int32_t>(value.size()));
    w.bytes(value);
    if (out.size() > kMaxHeaderBytes) {
      return invalid_argument("binary header: extFields exceed the 24-bit header length limit");
    }
  }
  w.patch_u32(ext_len_pos, static_cast<uint32_t>(out.size() - ext_len_pos - 4));
  return out;
}

Result<RemotingCommand> decode_binary_header(std::string_view header) {
  if (header.size() < kMinBinaryHeaderBytes) {
    return invalid_argument("binary header: " + std::to_string(header.size()) +
                            " bytes, shorter than the minimum of " +
                            std::to_string(kMinBinaryHeaderBytes));
  }
  RemotingCommand cmd;
  cmd.serialize_type = SerializeType::kRocketmq;
  ByteReader r(header, Endian::kBig);
  cmd.code = r.i16();
  cmd.language = r.u8();
  cmd.version = r.i16();
  cmd.opaque = r.i32();
  cmd.flag = r.i32();
  int32_t remark_len = r.i32();
  if (remark_len < 0 || static_cast<std::size_t>(remark_len) > r.remaining()) {
    return invalid_argument("binary header: remark length " + std::to_string(remark_len) +
                            " at offset 13 is negative or exceeds the " +
                            std::to_string(r.remaining()) + " header bytes left");
  }
  if (remark_len > 0) cmd.remark = std::string(r.bytes(static_cast<std::size_t>(remark_len)));
  std::size_t ext_len_offset = r.position();
  int32_t ext_len = r.i32();
  if (!r.ok() || ext_len < 0 || static_cast<std::size_t>(ext_len) > r.remaining()) {
    return invalid_argument("binary header: extFields length " + std::to_string(ext_len) +
                            " at offset " + std::to_string(ext_len_offset) +
                            " is negative or exceeds the " + std::to_string(r.remaining()) +
                            " header bytes left");
  }
  std::size_t ext_start = r.position();
  ByteReader ext(r.bytes(static_cast<std::size_t>(ext_len)), Endian::kBig);
  while (!ext.at_end()) {
    std::size_t entry_offset = ext_start + ext.position();
    int16_t key_len = ext.i16();
    if (!ext.ok() || key_len < 0 || static_cast<std::size_t>(key_len) > ext.remaining()) {
      return invalid_argument("binary header: extFields key length " + std::to_string(key_len) +
                              " at offset " + std::to_string(entry_offset) +
                              " is negative, truncated or exceeds the extFields block");
    }
    std::string key(ext.bytes(static_cast<std::size_t>(key_len)));
    int32_t value_len = ext.i32();
    if (!ext.ok() || value_len < 0 || static_cast<std::size_t>(value_len) > ext.remaining()) {
      return invalid_argument("binary header: extFields value length " + std::to_string(value_len) +
                              " for key " + quote_for_error(key) +
                              " is negative, truncated or exceeds the extFields block");
    }
    cmd.ext_fields[std::move(key)] = std::string(ext.bytes(static_cast<std::size_t>(value_len)));
  }
  if (!r.at_end()) {
    return invalid_argument("binary header: " + std::to_string(r.remaining()) +
                            " trailing bytes after extFields at offset " +
                            std::to_string(r.position()));
  }
  return cmd;
}

}  // namespace

RemotingCommand make_request(int32_t code, int32_t opaque) {
  RemotingCommand cmd;
  cmd.code = code;
  cmd.opaque = opaque;
  return cmd;
}

RemotingCommand make_response(const RemotingCommand& request, int32_t code,
                              std::optional<std::string> remark) {
  RemotingCommand response;
  response.code = code;
  response.language = language_code::kJava;
  response.version = request.version;
  response.opaque = request.opaque;
  response.flag = kFlagResponse;
  response.remark = std::move(remark);
  response.serialize_type = request.serialize_type;
  return response;
}

Result<std::string> encode_header(const RemotingCommand& cmd) {
  if (cmd.serialize_type == SerializeType::kRocketmq) return encode_binary_header(cmd);
  return encode_json_header(cmd);
}

Result<RemotingCommand> decode_header(SerializeType type, std::string_view header) {
  if (type == SerializeType::kRocketmq) return decode_binary_header(header);
  return decode_json_header(header);
}

Result<std::string> encode_frame(const RemotingCommand& cmd) {
  auto header = encode_header(cmd);
  if (!header.ok()) return header.error();
  if (header->size() > kMaxHeaderBytes) {
    return invalid_argument("frame: header of " + std::to_string(header->size()) +
                            " bytes does not fit the 24-bit header length");
  }
  std::size_t frame_bytes = 4 + 4 + header->size() + cmd.body.size();
  if (frame_bytes > kMaxFrameBytes) {
    return invalid_argument("frame: " + std::to_string(frame_bytes) +
                            " bytes exceeds the limit of " + std::to_string(kMaxFrameBytes));
  }
  std::string out;
  out.reserve(frame_bytes);
  ByteWriter w(&out, Endian::kBig);
  w.u32(static_cast<uint32_t>(frame_bytes - 4));
  w.u32((static_cast<uint32_t>(cmd.serialize_type) << 24) | static_cast<uint32_t>(header->size()));
  w.bytes(*header);
  w.bytes(cmd.body);
  return out;
}

Result<RemotingCommand> decode_frame_payload(std::string_view payload) {
  if (payload.size() < 4) {
    return invalid_argument(
        "frame: " + std::to_string(payload.size()) +
        " bytes after the length prefix, need at least 4 for the header length word");
  }
  ByteReader r(payload, Endian::kBig);
  uint32_t word = r.u32();
  uint32_t type = word >> 24;
  std::size_t header_len = word & 0xffffffu;
  if (type != static_cast<uint32_t>(SerializeType::kJson) &&
      type != static_cast<uint32_t>(SerializeType::kRocketmq)) {
    return invalid_argument("frame: unknown serialize type " + std::to_string(type) +
                            " (expected 0 JSON or 1 ROCKETMQ)");
  }
  if (header_len > r.remaining()) {
    return invalid_argument("frame: header length " + std::to_string(header_len) + " exceeds the " +
                            std::to_string(r.remaining()) + " bytes left in the frame");
  }
  auto cmd = decode_header(static_cast<SerializeType>(type), r.bytes(header_len));
  if (!cmd.ok()) return cmd.error();
  cmd->body = std::string(r.bytes(r.remaining()));
  return cmd;
}

Result<RemotingCommand> decode_frame(std::string_view frame) {
  if (frame.size() < 8) {
    return invalid_argument("frame: " + std::to_string(frame.size()) + " bytes, need at least 8");
  }
  if (frame.size() > kMaxFrameBytes) {
    return invalid_argument("frame: " + std::to_string(frame.size()) +
                            " bytes exceeds the limit of " + std::to_string(kMaxFrameBytes));
  }
  ByteReader r(frame, Endian::kBig);
  int32_t length = r.i32();
  if (length < 0 || static_cast<std::size_t>(length) != frame.size() - 4) {
    return invalid_argument("frame: length prefix " + std::to_string(length) +
                            " does not match the " + std::to_string(frame.size() - 4) +
                            " bytes that follow it");
  }
  return decode_frame_payload(frame.substr(4));
}

std::string describe_command(const RemotingCommand& cmd) {
  std::string out;
  if (cmd.is_response()) {
    out = "response code=" + std::to_string(cmd.code);
  } else {
    out = std::string(request_code_name(cmd.code)) + "(" + std::to_string(cmd.code) + ") request";
  }
  if (cmd.is_oneway()) out += " oneway";
  out += " opaque=" + std::to_string(cmd.opaque);
  out += cmd.serialize_type == SerializeType::kJson ? " JSON" : " ROCKETMQ";
  if (cmd.remark) out += " remark=" + quote_for_error(*cmd.remark);
  out += " ext={";
  constexpr std::size_t kMaxFields = 16;
  std::size_t shown = 0;
  for (const auto& [key, value] : cmd.ext_fields) {
    if (shown == kMaxFields) {
      out += ", ...";
      break;
    }
    if (shown++ > 0) out += ", ";
    out += quote_for_error(key) + "=" + quote_for_error(value);
  }
  out += "} body=" + std::to_string(cmd.body.size()) + "B";
  return out;
}

}  // namespace dledger::remoting
