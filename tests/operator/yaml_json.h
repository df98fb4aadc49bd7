// Test helper: YAML (yaml-cpp) -> nlohmann::json, so tests can read the CRD and example
// resources. Plain scalars become integers, floats, booleans or null when they parse as such
// (YAML 1.2 core schema); quoted scalars stay strings.
#pragma once

#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>

#include <yaml-cpp/yaml.h>
#include <nlohmann/json.hpp>

namespace dledger::op::testing {

inline nlohmann::json yaml_to_json(const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Null:
    case YAML::NodeType::Undefined:
      return nullptr;
    case YAML::NodeType::Sequence: {
      auto out = nlohmann::json::array();
      for (const auto& item : node) out.push_back(yaml_to_json(item));
      return out;
    }
    case YAML::NodeType::Map: {
      auto out = nlohmann::json::object();
      for (const auto& kv : node) out[kv.first.as<std::string>()] = yaml_to_json(kv.second);
      return out;
    }
    case YAML::NodeType::Scalar:
      break;
  }
  const std::string text = node.Scalar();
  if (node.Tag() != "?") return text;  // quoted or explicitly tagged: a string
  if (text == "true" || text == "True") return true;
  if (text == "false" || text == "False") return false;
  if (text == "null" || text == "~" || text.empty()) return nullptr;
  std::size_t used = 0;
  try {
    const long long value = std::stoll(text, &used, 10);
    if (used == text.size()) return value;
    const double d = std::stod(text, &used);
    if (used == text.size()) return d;
  } catch (const std::exception&) {
  }
  return text;
}

inline std::string read_text_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot open " + path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

inline nlohmann::json load_yaml_file(const std::string& path) {
  return yaml_to_json(YAML::LoadFile(path));
}

inline nlohmann::json parse_yaml(const std::string& text) {
  return yaml_to_json(YAML::Load(text));
}

}  // namespace dledger::op::testing
