#include "operator/render/manifest_yaml.h"

#include <cstdlib>
#include <string_view>

namespace dledger::op::render {

namespace {

using nlohmann::json;

bool is_plain_char(char c, bool first) {
  const bool alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
  if (alnum || c == '_' || c == '.' || c == '/') return true;
  return !first && (c == '-' || c == ':');
}

// True if `s` reads back as the same string when written without quotes.
bool is_plain_safe(std::string_view s) {
  if (s.empty() || s.back() == ':') return false;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (!is_plain_char(s[i], i == 0)) return false;
  }
  // Words and numbers YAML would read as another type.
  static const char* const kReserved[] = {"true", "false", "yes", "no", "on", "off", "null",
                                          "True", "False", "Yes", "No", "On", "Off", "Null",
                                          "TRUE", "FALSE", "YES", "NO", "ON", "OFF", "NULL",
                                          "y",    "n",     "Y",   "N",  "~"};
  for (const char* word : kReserved) {
    if (s == word) return false;
  }
  // Anything a number parser takes whole (12, 1.5, 1e3, 0x1F, inf) would come back as a number.
  const std::string text(s);
  char* end = nullptr;
  std::strtod(text.c_str(), &end);
  if (end == text.c_str() + text.size()) return false;
  if (s.find(':') != std::string_view::npos) return false;  // keep "host:port" unambiguous
  return true;
}

// A literal block keeps the text exactly when it ends in one newline, has no line starting
// with a blank, and no tabs or carriage returns.
bool fits_literal_block(std::string_view s) {
  if (s.size() < 2 || s.back() != '\n' || s[s.size() - 2] == '\n') return false;
  if (s.find_first_of("\t\r") != std::string_view::npos) return false;
  std::size_t start = 0;
  while (start < s.size()) {
    const std::size_t end = s.find('\n', start);
    if (end == start || s[start] == ' ') return false;  // empty line or leading blank
    start = end + 1;
  }
  return true;
}

std::string scalar(const json& v) {
  if (v.is_string()) {
    const auto& s = v.get_ref<const std::string&>();
    return is_plain_safe(s) ? s : v.dump();
  }
  return v.dump();  // numbers, booleans, null
}

std::string key_text(const std::string& key) {
  return is_plain_safe(key) ? key : json(key).dump();
}

void emit(const json& v, int indent, std::string& out);

// Writes the value that follows "key:" or "- " (on the same line for scalars).
void emit_after_marker(const json& v, int indent, std::string& out) {
  if (v.is_object() && !v.empty()) {
    out += "\n";
    emit(v, indent, out);
  } else if (v.is_array() && !v.empty()) {
    out += "\n";
    emit(v, indent, out);
  } else if (v.is_string() && fits_literal_block(v.get_ref<const std::string&>())) {
    out += " |\n";
    const auto& s = v.get_ref<const std::string&>();
    std::size_t start = 0;
    while (start < s.size()) {
      const std::size_t end = s.find('\n', start);
      out += std::string(indent, ' ') + s.substr(start, end - start) + "\n";
      start = end + 1;
    }
  } else if (v.is_object()) {
    out += " {}\n";
  } else if (v.is_array()) {
    out += " []\n";
  } else {
    out += " " + scalar(v) + "\n";
  }
}

void emit(const json& v, int indent, std::string& out) {
  const std::string pad(indent, ' ');
  if (v.is_object()) {
    for (const auto& [key, value] : v.items()) {
      out += pad + key_text(key) + ":";
      emit_after_marker(value, indent + 2, out);
    }
  } else if (v.is_array()) {
    for (const auto& item : v) {
      if (item.is_object() && !item.empty()) {
        // "- first: x" then the other keys aligned under it.
        std::string nested;
        emit(item, indent + 2, nested);
        out += pad + "- " + nested.substr(indent + 2);
      } else {
        out += pad + "-";
        emit_after_marker(item, indent + 2, out);
      }
    }
  } else {
    out += pad + scalar(v) + "\n";
  }
}

}  // namespace

std::string to_yaml(const json& value) {
  std::string out;
  if (value.is_object() && value.empty()) return "{}\n";
  if (value.is_array() && value.empty()) return "[]\n";
  emit(value, 0, out);
  return out;
}

std::string to_yaml_documents(const std::vector<json>& objects) {
  std::string out;
  for (const auto& object : objects) {
    out += "---\n";
    out += to_yaml(object);
  }
  return out;
}

}  // namespace dledger::op::render
