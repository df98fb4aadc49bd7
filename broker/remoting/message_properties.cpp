#include "broker/remoting/message_properties.h"

#include "broker/remoting/json_util.h"

namespace dledger::remoting {

namespace {

bool has_separator(std::string_view s) {
  return s.find(kNameValueSeparator) != std::string_view::npos ||
         s.find(kPropertySeparator) != std::string_view::npos;
}

}  // namespace

Result<std::string> encode_message_properties(const MessageProperties& properties) {
  std::string out;
  for (const auto& [key, value] : properties) {
    if (key.empty() || has_separator(key)) {
      return make_error(ErrorCode::kInvalidArgument,
                        "message property key " + quote_for_error(key) +
                            " is empty or contains a 0x01/0x02 separator");
    }
    if (has_separator(value)) {
      return make_error(ErrorCode::kInvalidArgument, "message property " + quote_for_error(key) +
                                                         " value " + quote_for_error(value) +
                                                         " contains a 0x01/0x02 separator");
    }
    out += key;
    out += kNameValueSeparator;
    out += value;
    out += kPropertySeparator;
  }
  return out;
}

Result<MessageProperties> decode_message_properties(std::string_view text) {
  MessageProperties properties;
  std::size_t pos = 0;
  while (pos < text.size()) {
    std::size_t end = text.find(kPropertySeparator, pos);
    if (end == std::string_view::npos) end = text.size();
    std::string_view item = text.substr(pos, end - pos);
    if (!item.empty()) {
      std::size_t sep = item.find(kNameValueSeparator);
      if (sep == std::string_view::npos) {
        return make_error(ErrorCode::kInvalidArgument,
                          "message properties: item " + quote_for_error(item) + " at byte " +
                              std::to_string(pos) + " has no 0x01 between key and value");
      }
      std::string_view key = item.substr(0, sep);
      std::string_view value = item.substr(sep + 1);
      if (key.empty()) {
        return make_error(ErrorCode::kInvalidArgument,
                          "message properties: empty key at byte " + std::to_string(pos));
      }
      if (value.find(kNameValueSeparator) != std::string_view::npos) {
        return make_error(ErrorCode::kInvalidArgument,
                          "message properties: value of " + quote_for_error(key) + " at byte " +
                              std::to_string(pos) + " contains a second 0x01");
      }
      properties[std::string(key)] = std::string(value);
    }
    pos = end + 1;
  }
  return properties;
}

}  // namespace dledger::remoting
