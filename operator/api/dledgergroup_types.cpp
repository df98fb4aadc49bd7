#include "operator/api/dledgergroup_types.h"

#include <algorithm>

namespace dledger::op::api {

const char* to_string(FlushMode mode) {
  return mode == FlushMode::kSync ? "sync" : "async";
}

const char* to_string(RetentionAction action) {
  return action == RetentionAction::kRetain ? "Retain" : "Delete";
}

const char* to_string(PullPolicy policy) {
  switch (policy) {
    case PullPolicy::kAlways:
      return "Always";
    case PullPolicy::kIfNotPresent:
      return "IfNotPresent";
    case PullPolicy::kNever:
      return "Never";
  }
  return "IfNotPresent";
}

bool set_condition(std::vector<Condition>& conditions, Condition condition,
                   const std::string& now) {
  auto it = std::find_if(conditions.begin(), conditions.end(),
                         [&](const Condition& c) { return c.type == condition.type; });
  if (it == conditions.end()) {
    condition.last_transition_time = now;
    conditions.push_back(std::move(condition));
    return true;
  }
  condition.last_transition_time = it->status == condition.status ? it->last_transition_time : now;
  if (*it == condition) return false;
  *it = std::move(condition);
  return true;
}

const Condition* find_condition(const std::vector<Condition>& conditions, std::string_view type) {
  for (const auto& c : conditions) {
    if (c.type == type) return &c;
  }
  return nullptr;
}

}  // namespace dledger::op::api
