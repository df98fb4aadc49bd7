// Rendered objects as a multi-document YAML manifest (`kubectl apply -f` ready), for golden
// files, debugging and a future `render` command. Deterministic: keys in sorted order, strings
// double-quoted (JSON escaping, valid YAML) unless they are plainly safe, multi-line strings
// such as broker.conf files as literal blocks so they read like the files they are.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace dledger::op::render {

// One YAML document for `value` (no leading "---").
std::string to_yaml(const nlohmann::json& value);
// Documents separated by "---" lines.
std::string to_yaml_documents(const std::vector<nlohmann::json>& objects);

}  // namespace dledger::op::render
