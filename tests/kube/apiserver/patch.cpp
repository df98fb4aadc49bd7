#include "tests/kube/apiserver/patch.h"

namespace dledger::kube {

using nlohmann::json;

std::optional<PatchType> patch_type_from_content_type(const std::string& content_type) {
  const std::string media = content_type.substr(0, content_type.find(';'));
  if (media == "application/merge-patch+json") return PatchType::kMerge;
  if (media == "application/strategic-merge-patch+json") return PatchType::kStrategicMerge;
  if (media == "application/apply-patch+yaml") return PatchType::kApply;
  if (media == "application/json-patch+json") return PatchType::kJsonPatch;
  return std::nullopt;
}

void merge_patch(json& target, const json& patch) {
  if (!patch.is_object()) {
    target = patch;
    return;
  }
  if (!target.is_object()) target = json::object();
  for (const auto& [key, value] : patch.items()) {
    if (value.is_null()) {
      target.erase(key);
    } else {
      merge_patch(target[key], value);
    }
  }
}

json strip_strategic_directives(const json& patch) {
  if (patch.is_object()) {
    json out = json::object();
    for (const auto& [key, value] : patch.items()) {
      if (!key.empty() && key[0] == '$') continue;
      out[key] = strip_strategic_directives(value);
    }
    return out;
  }
  if (patch.is_array()) {
    json out = json::array();
    for (const auto& item : patch) {
      // A list element that is only a directive ({"$patch": "delete", ...}) is dropped too.
      if (item.is_object() && item.contains("$patch")) continue;
      out.push_back(strip_strategic_directives(item));
    }
    return out;
  }
  return patch;
}

PatchOutcome apply_patch(const json& target, const json& patch, PatchType type) {
  PatchOutcome outcome{target, std::nullopt};
  switch (type) {
    case PatchType::kMerge:
    case PatchType::kApply:
      if (!patch.is_object()) {
        outcome.error = bad_request("the patch body must be a JSON object");
        return outcome;
      }
      merge_patch(outcome.object, patch);
      return outcome;
    case PatchType::kStrategicMerge:
      if (!patch.is_object()) {
        outcome.error = bad_request("the patch body must be a JSON object");
        return outcome;
      }
      merge_patch(outcome.object, strip_strategic_directives(patch));
      return outcome;
    case PatchType::kJsonPatch:
      try {
        outcome.object = target.patch(patch);
      } catch (const std::exception& e) {
        outcome.error = bad_request(std::string("invalid JSON patch: ") + e.what());
      }
      return outcome;
  }
  return outcome;
}

}  // namespace dledger::kube
