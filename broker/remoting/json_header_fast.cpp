#include "broker/remoting/json_header_fast.h"

#include <charconv>
#include <cstdint>
#include <limits>

#include "broker/remoting/codes.h"

namespace dledger::remoting {
namespace {

// Printable ASCII other than the quote and the backslash: stands for itself inside a JSON string.
bool plain_json_char(unsigned char c) {
  return c >= 0x20 && c < 0x80 && c != '"' && c != '\\';
}

// A cursor over the header text; every method returns false to decline.
class PlainJsonReader {
 public:
  explicit PlainJsonReader(std::string_view text) : text_(text) {}

  void skip_ws() {
    while (pos_ < text_.size()) {
      char c = text_[pos_];
      if (c != ' ' && c != '\t' && c != '\n' && c != '\r') return;
      ++pos_;
    }
  }
  bool at_end() const { return pos_ == text_.size(); }
  char peek() const { return pos_ < text_.size() ? text_[pos_] : '\0'; }
  bool consume(char c) {
    skip_ws();
    if (peek() != c) return false;
    ++pos_;
    return true;
  }
  bool consume_word(std::string_view word) {
    if (text_.substr(pos_, word.size()) != word) return false;
    pos_ += word.size();
    return true;
  }

  // A string of ASCII characters; escapes decoded, \u only below 0x80.
  bool string(std::string* out) {
    skip_ws();
    if (peek() != '"') return false;
    ++pos_;
    out->clear();
    while (pos_ < text_.size()) {
      // A run of characters that stand for themselves is appended at once.
      std::size_t run = pos_;
      while (run < text_.size() && plain_json_char(static_cast<unsigned char>(text_[run]))) ++run;
      out->append(text_.data() + pos_, run - pos_);
      pos_ = run;
      if (pos_ >= text_.size()) return false;
      auto c = static_cast<unsigned char>(text_[pos_++]);
      if (c == '"') return true;
      if (c != '\\') return false;  // a control or non-ASCII byte
      if (pos_ >= text_.size()) return false;
      char e = text_[pos_++];
      switch (e) {
        case '"':
        case '\\':
        case '/':
          out->push_back(e);
          break;
        case 'b':
          out->push_back('\b');
          break;
        case 'f':
          out->push_back('\f');
          break;
        case 'n':
          out->push_back('\n');
          break;
        case 'r':
          out->push_back('\r');
          break;
        case 't':
          out->push_back('\t');
          break;
        case 'u': {
          if (text_.size() - pos_ < 4) return false;
          unsigned value = 0;
          for (int i = 0; i < 4; ++i) {
            char h = text_[pos_++];
            value <<= 4;
            if (h >= '0' && h <= '9') {
              value |= static_cast<unsigned>(h - '0');
            } else if (h >= 'a' && h <= 'f') {
              value |= static_cast<unsigned>(h - 'a' + 10);
            } else if (h >= 'A' && h <= 'F') {
              value |= static_cast<unsigned>(h - 'A' + 10);
            } else {
              return false;
            }
          }
          if (value >= 0x80) return false;
          out->push_back(static_cast<char>(value));
          break;
        }
        default:
          return false;
      }
    }
    return false;
  }

  // A JSON integer in canonical form (no leading zeros, no "-0", no fraction or exponent) that
  // fits int64; its text goes to `digits`.
  bool integer(std::int64_t* value, std::string_view* digits) {
    skip_ws();
    std::size_t start = pos_;
    if (peek() == '-') ++pos_;
    std::size_t first_digit = pos_;
    while (pos_ < text_.size() && text_[pos_] >= '0' && text_[pos_] <= '9') ++pos_;
    std::size_t n = pos_ - first_digit;
    if (n == 0 || n > 18) return false;
    if (text_[first_digit] == '0' && (n > 1 || first_digit != start)) return false;
    char next = peek();
    if (next == '.' || next == 'e' || next == 'E') return false;
    *digits = text_.substr(start, pos_ - start);
    auto [end, ec] = std::from_chars(digits->data(), digits->data() + digits->size(), *value);
    return ec == std::errc() && end == digits->data() + digits->size();
  }

 private:
  std::string_view text_;
  std::size_t pos_ = 0;
};

bool read_int32(PlainJsonReader& r, std::int32_t* out) {
  std::int64_t value = 0;
  std::string_view digits;
  if (!r.integer(&value, &digits)) return false;
  if (value < std::numeric_limits<std::int32_t>::min() ||
      value > std::numeric_limits<std::int32_t>::max()) {
    return false;
  }
  *out = static_cast<std::int32_t>(value);
  return true;
}

// A string, integer, true, false or null whose value is not needed.
bool skip_scalar(PlainJsonReader& r) {
  r.skip_ws();
  char c = r.peek();
  if (c == '"') {
    std::string ignored;
    return r.string(&ignored);
  }
  if (c == 't') return r.consume_word("true");
  if (c == 'f') return r.consume_word("false");
  if (c == 'n') return r.consume_word("null");
  std::int64_t value = 0;
  std::string_view digits;
  return r.integer(&value, &digits);
}

bool read_ext_fields(PlainJsonReader& r, std::map<std::string, std::string>* out) {
  if (!r.consume('{')) return false;
  if (r.consume('}')) return true;
  std::string key;
  std::string value;
  do {
    if (!r.string(&key) || !r.consume(':')) return false;
    r.skip_ws();
    char c = r.peek();
    if (c == '"') {
      if (!r.string(&value)) return false;
      out->insert_or_assign(key, std::move(value));
    } else if (c == 'n') {
      // A null value is skipped; a duplicate key's last value wins, as in a JSON object.
      if (!r.consume_word("null")) return false;
      out->erase(key);
    } else if (c == 't' || c == 'f') {
      bool truth = c == 't';
      if (!r.consume_word(truth ? "true" : "false")) return false;
      (*out)[key] = truth ? "true" : "false";
    } else {
      std::int64_t number = 0;
      std::string_view digits;
      if (!r.integer(&number, &digits)) return false;
      (*out)[key] = std::string(digits);
    }
  } while (r.consume(','));
  return r.consume('}');
}

// JSON string escaping as nlohmann::json::dump does it for ASCII text; false for a non-ASCII
// byte (the general codec replaces invalid UTF-8).
bool append_quoted(std::string_view text, std::string* out) {
  out->push_back('"');
  std::size_t run = 0;  // start of the characters not yet appended that need no escape
  for (std::size_t i = 0; i < text.size(); ++i) {
    auto c = static_cast<unsigned char>(text[i]);
    if (plain_json_char(c)) continue;
    out->append(text.data() + run, i - run);
    run = i + 1;
    if (c >= 0x80) return false;
    switch (c) {
      case '"':
        out->append("\\\"");
        break;
      case '\\':
        out->append("\\\\");
        break;
      case '\b':
        out->append("\\b");
        break;
      case '\f':
        out->append("\\f");
        break;
      case '\n':
        out->append("\\n");
        break;
      case '\r':
        out->append("\\r");
        break;
      case '\t':
        out->append("\\t");
        break;
      default: {  // the other control characters
        static const char* kHex = "0123456789abcdef";
        out->append("\\u00");
        out->push_back(kHex[c >> 4]);
        out->push_back(kHex[c & 0xf]);
      }
    }
  }
  out->append(text.data() + run, text.size() - run);
  out->push_back('"');
  return true;
}

}  // namespace

std::optional<RemotingCommand> decode_plain_json_header(std::string_view text) {
  PlainJsonReader r(text);
  RemotingCommand cmd;
  cmd.serialize_type = SerializeType::kJson;
  enum : unsigned {
    kCode = 1,
    kVersion = 2,
    kOpaque = 4,
    kFlag = 8,
    kLanguage = 16,
    kRemark = 32,
    kExt = 64,
  };
  unsigned seen = 0;
  auto first_time = [&seen](unsigned bit) {
    if (seen & bit) return false;
    seen |= bit;
    return true;
  };
  if (!r.consume('{')) return std::nullopt;
  if (!r.consume('}')) {
    std::string key;
    do {
      if (!r.string(&key) || !r.consume(':')) return std::nullopt;
      r.skip_ws();
      bool null_value = r.peek() == 'n';
      bool ok = true;
      if (key == "code") {
        ok = first_time(kCode) && !null_value && read_int32(r, &cmd.code);
      } else if (key == "version") {
        ok = first_time(kVersion) && !null_value && read_int32(r, &cmd.version);
      } else if (key == "opaque") {
        ok = first_time(kOpaque) && !null_value && read_int32(r, &cmd.opaque);
      } else if (key == "flag") {
        ok = first_time(kFlag) && !null_value && read_int32(r, &cmd.flag);
      } else if (key == "language") {
        std::string name;
        ok = first_time(kLanguage) && !null_value && r.string(&name);
        if (ok) {
          auto code = language_from_name(name);
          cmd.language = code ? *code : language_code::kOther;
        }
      } else if (key == "remark") {
        std::string remark;
        ok = first_time(kRemark) && !null_value && r.string(&remark);
        if (ok) cmd.remark = std::move(remark);
      } else if (key == "extFields") {
        ok = first_time(kExt) && !null_value && read_ext_fields(r, &cmd.ext_fields);
      } else {
        ok = skip_scalar(r);
      }
      if (!ok) return std::nullopt;
    } while (r.consume(','));
    if (!r.consume('}')) return std::nullopt;
  }
  r.skip_ws();
  if (!r.at_end() || (seen & kCode) == 0) return std::nullopt;
  return cmd;
}

std::optional<std::string> encode_plain_json_header(const RemotingCommand& cmd) {
  std::string out;
  out.reserve(160 + 32 * cmd.ext_fields.size() + (cmd.remark ? cmd.remark->size() : 0));
  out.append("{\"code\":").append(std::to_string(cmd.code)).append(",\"extFields\":{");
  bool first = true;
  for (const auto& [key, value] : cmd.ext_fields) {
    if (!first) out.push_back(',');
    first = false;
    if (!append_quoted(key, &out)) return std::nullopt;
    out.push_back(':');
    if (!append_quoted(value, &out)) return std::nullopt;
  }
  out.append("},\"flag\":").append(std::to_string(cmd.flag)).append(",\"language\":");
  auto language = language_name(cmd.language);
  if (!append_quoted(language ? *language : "OTHER", &out)) return std::nullopt;
  out.append(",\"opaque\":").append(std::to_string(cmd.opaque));
  if (cmd.remark) {
    out.append(",\"remark\":");
    if (!append_quoted(*cmd.remark, &out)) return std::nullopt;
  }
  out.append(",\"serializeTypeCurrentRPC\":\"JSON\",\"version\":")
      .append(std::to_string(cmd.version))
      .push_back('}');
  return out;
}

}  // namespace dledger::remoting
