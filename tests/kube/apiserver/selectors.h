// Label and field selectors as the real API server parses them from ?labelSelector= and
// ?fieldSelector=.
//   labels: `a=b`, `a==b`, `a!=b`, `a in (x,y)`, `a notin (x)`, `a` (exists), `!a` (absent)
//   fields: `path=value`, `path==value`, `path!=value` where path is any dotted path of the
//           object (metadata.name, metadata.namespace, involvedObject.uid, status.phase, ...)
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace dledger::kube {

struct SelectorRequirement {
  enum class Op { kEquals, kNotEquals, kIn, kNotIn, kExists, kDoesNotExist };
  std::string key;
  Op op = Op::kEquals;
  std::vector<std::string> values;
};

class Selector {
 public:
  // nullopt for malformed text (the caller answers 400 naming the selector).
  static std::optional<Selector> parse_labels(const std::string& text);
  static std::optional<Selector> parse_fields(const std::string& text);

  bool matches_labels(const nlohmann::json& object) const;  // against metadata.labels
  bool matches_fields(const nlohmann::json& object) const;  // against dotted paths
  bool empty() const { return requirements_.empty(); }

 private:
  bool matches(const std::function<std::optional<std::string>(const std::string&)>& lookup) const;
  std::vector<SelectorRequirement> requirements_;
};

// Value at a dotted path (".a.b" or "a.b") rendered as text (strings verbatim, others as JSON);
// nullopt when absent.
std::optional<std::string> field_text(const nlohmann::json& object, const std::string& path);
// The JSON node at a dotted path, or nullptr when absent.
const nlohmann::json* json_at_path(const nlohmann::json& object, const std::string& path);

}  // namespace dledger::kube
