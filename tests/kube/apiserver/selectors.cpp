#include "tests/kube/apiserver/selectors.h"

#include <functional>

namespace dledger::kube {
namespace {

std::string trim(const std::string& text) {
  size_t begin = text.find_first_not_of(' ');
  if (begin == std::string::npos) return "";
  size_t end = text.find_last_not_of(' ');
  return text.substr(begin, end - begin + 1);
}

// Splits on commas outside parentheses.
std::vector<std::string> split_terms(const std::string& text) {
  std::vector<std::string> terms;
  std::string current;
  int depth = 0;
  for (char c : text) {
    if (c == '(') ++depth;
    if (c == ')') --depth;
    if (c == ',' && depth == 0) {
      terms.push_back(current);
      current.clear();
    } else {
      current += c;
    }
  }
  if (!current.empty() || !terms.empty()) terms.push_back(current);
  return terms;
}

std::optional<SelectorRequirement> parse_set_term(const std::string& term, const std::string& word,
                                                  SelectorRequirement::Op op) {
  const std::string marker = " " + word + " ";
  size_t at = term.find(marker);
  if (at == std::string::npos) return std::nullopt;
  SelectorRequirement requirement;
  requirement.key = trim(term.substr(0, at));
  requirement.op = op;
  std::string rest = trim(term.substr(at + marker.size()));
  if (rest.size() < 2 || rest.front() != '(' || rest.back() != ')') return std::nullopt;
  rest = rest.substr(1, rest.size() - 2);
  size_t start = 0;
  while (start <= rest.size()) {
    size_t comma = rest.find(',', start);
    std::string value =
        trim(rest.substr(start, comma == std::string::npos ? std::string::npos : comma - start));
    if (!value.empty()) requirement.values.push_back(value);
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return requirement;
}

std::optional<std::vector<SelectorRequirement>> parse(const std::string& text, bool allow_sets) {
  std::vector<SelectorRequirement> requirements;
  for (const auto& raw : split_terms(text)) {
    const std::string term = trim(raw);
    if (term.empty()) return std::nullopt;
    if (allow_sets) {
      if (auto in = parse_set_term(term, "notin", SelectorRequirement::Op::kNotIn)) {
        requirements.push_back(*in);
        continue;
      }
      if (auto in = parse_set_term(term, "in", SelectorRequirement::Op::kIn)) {
        requirements.push_back(*in);
        continue;
      }
    }
    SelectorRequirement requirement;
    size_t at;
    if ((at = term.find("!=")) != std::string::npos) {
      requirement.op = SelectorRequirement::Op::kNotEquals;
      requirement.key = trim(term.substr(0, at));
      requirement.values = {trim(term.substr(at + 2))};
    } else if ((at = term.find("==")) != std::string::npos) {
      requirement.key = trim(term.substr(0, at));
      requirement.values = {trim(term.substr(at + 2))};
    } else if ((at = term.find('=')) != std::string::npos) {
      requirement.key = trim(term.substr(0, at));
      requirement.values = {trim(term.substr(at + 1))};
    } else if (allow_sets && term[0] == '!') {
      requirement.op = SelectorRequirement::Op::kDoesNotExist;
      requirement.key = trim(term.substr(1));
    } else if (allow_sets) {
      requirement.op = SelectorRequirement::Op::kExists;
      requirement.key = term;
    } else {
      return std::nullopt;
    }
    if (requirement.key.empty() || requirement.key.find(' ') != std::string::npos) {
      return std::nullopt;
    }
    requirements.push_back(requirement);
  }
  return requirements;
}

}  // namespace

const nlohmann::json* json_at_path(const nlohmann::json& object, const std::string& path) {
  const nlohmann::json* node = &object;
  size_t start = path.empty() || path[0] != '.' ? 0 : 1;
  while (start < path.size()) {
    size_t dot = path.find('.', start);
    const std::string key =
        path.substr(start, dot == std::string::npos ? std::string::npos : dot - start);
    if (!node->is_object()) return nullptr;
    auto it = node->find(key);
    if (it == node->end()) return nullptr;
    node = &*it;
    if (dot == std::string::npos) break;
    start = dot + 1;
  }
  return node;
}

std::optional<std::string> field_text(const nlohmann::json& object, const std::string& path) {
  const nlohmann::json* node = json_at_path(object, path);
  if (node == nullptr || node->is_null()) return std::nullopt;
  if (node->is_string()) return node->get<std::string>();
  return node->dump();
}

std::optional<Selector> Selector::parse_labels(const std::string& text) {
  Selector selector;
  if (text.empty()) return selector;
  auto requirements = parse(text, true);
  if (!requirements) return std::nullopt;
  selector.requirements_ = std::move(*requirements);
  return selector;
}

std::optional<Selector> Selector::parse_fields(const std::string& text) {
  Selector selector;
  if (text.empty()) return selector;
  auto requirements = parse(text, false);
  if (!requirements) return std::nullopt;
  selector.requirements_ = std::move(*requirements);
  return selector;
}

bool Selector::matches(
    const std::function<std::optional<std::string>(const std::string&)>& lookup) const {
  for (const auto& requirement : requirements_) {
    const std::optional<std::string> value = lookup(requirement.key);
    auto in_values = [&] {
      if (!value) return false;
      for (const auto& candidate : requirement.values) {
        if (candidate == *value) return true;
      }
      return false;
    };
    switch (requirement.op) {
      case SelectorRequirement::Op::kEquals:
      case SelectorRequirement::Op::kIn:
        if (!in_values()) return false;
        break;
      case SelectorRequirement::Op::kNotEquals:
      case SelectorRequirement::Op::kNotIn:
        if (in_values()) return false;
        break;
      case SelectorRequirement::Op::kExists:
        if (!value) return false;
        break;
      case SelectorRequirement::Op::kDoesNotExist:
        if (value) return false;
        break;
    }
  }
  return true;
}

bool Selector::matches_labels(const nlohmann::json& object) const {
  const nlohmann::json* labels = json_at_path(object, "metadata.labels");
  return matches([&](const std::string& key) -> std::optional<std::string> {
    if (labels == nullptr || !labels->is_object()) return std::nullopt;
    auto it = labels->find(key);
    if (it == labels->end() || !it->is_string()) return std::nullopt;
    return it->get<std::string>();
  });
}

bool Selector::matches_fields(const nlohmann::json& object) const {
  return matches([&](const std::string& key) -> std::optional<std::string> {
    auto value = field_text(object, key);
    // A field selector compares against "" for absent fields, like the real server.
    return value ? value : std::optional<std::string>(std::string());
  });
}

}  // namespace dledger::kube
