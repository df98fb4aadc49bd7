#include "tests/kube/apiserver/schema_validation.h"

#include <algorithm>
#include <cmath>
#include <regex>

namespace dledger::kube {
namespace {

using nlohmann::json;

std::string join_path(const std::string& parent, const std::string& key) {
  return parent.empty() ? key : parent + "." + key;
}

bool preserves_unknown(const json& schema) {
  return schema.value("x-kubernetes-preserve-unknown-fields", false);
}

std::string type_name(const json& value) {
  if (value.is_null()) return "null";
  if (value.is_boolean()) return "boolean";
  if (value.is_number_integer()) return "integer";
  if (value.is_number()) return "number";
  if (value.is_string()) return "string";
  if (value.is_array()) return "array";
  return "object";
}

bool type_matches(const std::string& type, const json& value) {
  if (type.empty()) return true;
  if (type == "object") return value.is_object();
  if (type == "array") return value.is_array();
  if (type == "string") return value.is_string();
  if (type == "boolean") return value.is_boolean();
  if (type == "integer") {
    if (value.is_number_integer()) return true;
    if (value.is_number_float()) {
      const double number = value.get<double>();
      return std::floor(number) == number;
    }
    return false;
  }
  if (type == "number") return value.is_number();
  return true;
}

std::string number_text(const json& number) {
  if (number.is_number_float()) {
    const double value = number.get<double>();
    if (std::floor(value) == value) return std::to_string(static_cast<long long>(value));
  }
  return number.dump();
}

void validate_node(const json& schema, const json& value, const std::string& path,
                   std::vector<StatusCause>& causes) {
  auto add = [&](const std::string& reason, const std::string& message) {
    causes.push_back(StatusCause{reason, path, message});
  };
  const std::string type = schema.value("type", "");
  if (value.is_null()) {
    if (!schema.value("nullable", false) && !type.empty()) {
      add("FieldValueInvalid",
          "Invalid value: \"null\": " + path + " in body must be of type " + type + ": \"null\"");
    }
    return;
  }
  if (!type_matches(type, value)) {
    add("FieldValueInvalid", "Invalid value: \"" + type_name(value) + "\": " + path +
                                 " in body must be of type " + type + ": \"" + type_name(value) +
                                 "\"");
    return;
  }
  if (schema.contains("enum") && schema["enum"].is_array()) {
    bool found = false;
    std::string supported;
    for (const auto& allowed : schema["enum"]) {
      if (allowed == value) found = true;
      if (!supported.empty()) supported += ", ";
      supported += allowed.dump();
    }
    if (!found) {
      add("FieldValueNotSupported",
          "Unsupported value: " + value.dump() + ": supported values: " + supported);
    }
  }
  if (value.is_number()) {
    const double number = value.get<double>();
    if (schema.contains("minimum") && number < schema["minimum"].get<double>()) {
      add("FieldValueInvalid", "Invalid value: " + number_text(value) + ": " + path +
                                   " in body should be greater than or equal to " +
                                   number_text(schema["minimum"]));
    }
    if (schema.contains("maximum") && number > schema["maximum"].get<double>()) {
      add("FieldValueInvalid", "Invalid value: " + number_text(value) + ": " + path +
                                   " in body should be less than or equal to " +
                                   number_text(schema["maximum"]));
    }
  }
  if (value.is_string()) {
    const std::string text = value.get<std::string>();
    if (schema.contains("minLength") && text.size() < schema["minLength"].get<size_t>()) {
      add("FieldValueInvalid", "Invalid value: " + value.dump() + ": " + path +
                                   " in body should be at least " + schema["minLength"].dump() +
                                   " chars long");
    }
    if (schema.contains("maxLength") && text.size() > schema["maxLength"].get<size_t>()) {
      add("FieldValueTooLong",
          "Too long: may not be more than " + schema["maxLength"].dump() + " bytes");
    }
    if (schema.contains("pattern") && schema["pattern"].is_string()) {
      const std::string pattern = schema["pattern"].get<std::string>();
      bool matches = true;
      try {
        matches = std::regex_search(text, std::regex(pattern, std::regex::ECMAScript));
      } catch (const std::regex_error&) {
        matches = true;  // a pattern std::regex cannot compile is not enforced
      }
      if (!matches) {
        add("FieldValueInvalid", "Invalid value: " + value.dump() + ": " + path +
                                     " in body should match '" + pattern + "'");
      }
    }
  }
  if (value.is_object()) {
    if (schema.contains("maxProperties") && value.size() > schema["maxProperties"].get<size_t>()) {
      add("FieldValueTooMany", "Too many: " + std::to_string(value.size()) +
                                   ": must have at most " + schema["maxProperties"].dump() +
                                   " items");
    }
    if (schema.contains("required") && schema["required"].is_array()) {
      for (const auto& required : schema["required"]) {
        if (!required.is_string()) continue;
        const std::string key = required.get<std::string>();
        if (!value.contains(key)) {
          causes.push_back(
              StatusCause{"FieldValueRequired", join_path(path, key), "Required value"});
        }
      }
    }
    const json properties = schema.value("properties", json::object());
    const json additional = schema.value("additionalProperties", json());
    for (const auto& [key, child] : value.items()) {
      if (path.empty() && (key == "metadata" || key == "apiVersion" || key == "kind")) continue;
      if (properties.contains(key)) {
        validate_node(properties[key], child, join_path(path, key), causes);
      } else if (additional.is_object()) {
        validate_node(additional, child, join_path(path, key), causes);
      }
    }
  }
  if (value.is_array()) {
    if (schema.contains("maxItems") && value.size() > schema["maxItems"].get<size_t>()) {
      add("FieldValueTooMany", "Too many: " + std::to_string(value.size()) +
                                   ": must have at most " + schema["maxItems"].dump() + " items");
    }
    if (schema.contains("items") && schema["items"].is_object()) {
      for (size_t i = 0; i < value.size(); ++i) {
        validate_node(schema["items"], value[i], path + "[" + std::to_string(i) + "]", causes);
      }
    }
  }
}

void prune_node(const json& schema, json& value, const std::string& path,
                std::vector<std::string>& unknown) {
  if (preserves_unknown(schema) && !schema.contains("properties")) return;
  if (value.is_object()) {
    const json properties = schema.value("properties", json::object());
    const json additional = schema.value("additionalProperties", json());
    std::vector<std::string> to_remove;
    for (auto& [key, child] : value.items()) {
      if (path.empty() && (key == "metadata" || key == "apiVersion" || key == "kind")) continue;
      if (properties.contains(key)) {
        prune_node(properties[key], child, join_path(path, key), unknown);
      } else if (additional.is_object()) {
        prune_node(additional, child, join_path(path, key), unknown);
      } else if (!(additional.is_boolean() && additional.get<bool>()) &&
                 !preserves_unknown(schema)) {
        to_remove.push_back(key);
      }
    }
    for (const auto& key : to_remove) {
      unknown.push_back(join_path(path, key));
      value.erase(key);
    }
  } else if (value.is_array() && schema.contains("items") && schema["items"].is_object()) {
    for (size_t i = 0; i < value.size(); ++i) {
      prune_node(schema["items"], value[i], path + "[" + std::to_string(i) + "]", unknown);
    }
  }
}

void default_node(const json& schema, json& value, bool is_root) {
  if (value.is_object()) {
    const json properties = schema.value("properties", json::object());
    for (const auto& [key, child_schema] : properties.items()) {
      if (is_root && key == "metadata") continue;
      if (!value.contains(key) && child_schema.contains("default")) {
        value[key] = child_schema["default"];
      }
      if (value.contains(key)) default_node(child_schema, value[key], false);
    }
    const json additional = schema.value("additionalProperties", json());
    if (additional.is_object()) {
      for (auto& [key, child] : value.items()) {
        if (!properties.contains(key)) default_node(additional, child, false);
      }
    }
  } else if (value.is_array() && schema.contains("items") && schema["items"].is_object()) {
    for (auto& item : value) default_node(schema["items"], item, false);
  }
}

}  // namespace

void apply_defaults(const json& schema, json& value) {
  default_node(schema, value, true);
}

std::vector<std::string> prune_unknown_fields(const json& schema, json& value) {
  std::vector<std::string> unknown;
  prune_node(schema, value, "", unknown);
  std::sort(unknown.begin(), unknown.end());
  return unknown;
}

std::vector<StatusCause> validate_against_schema(const json& schema, const json& value) {
  std::vector<StatusCause> causes;
  validate_node(schema, value, "", causes);
  return causes;
}

}  // namespace dledger::kube
