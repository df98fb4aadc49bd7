// Patch application for PATCH requests.
//   application/merge-patch+json           RFC 7386 JSON merge patch
//   application/strategic-merge-patch+json treated as a merge patch after dropping every
//                                          `$`-prefixed directive key ($setElementOrder/..,
//                                          $patch, $retainKeys, $deleteFromPrimitiveList/..):
//                                          lists are replaced whole (a real server merges lists
//                                          by their patch merge key)
//   application/apply-patch+yaml           server-side apply, approximated as a merge patch
//   application/json-patch+json            RFC 6902 add/remove/replace/test (simple paths)
#pragma once

#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "tests/kube/apiserver/api_error.h"

namespace dledger::kube {

enum class PatchType { kMerge, kStrategicMerge, kApply, kJsonPatch };

// Maps a Content-Type (parameters ignored) to a patch type; nullopt when unsupported.
std::optional<PatchType> patch_type_from_content_type(const std::string& content_type);

// RFC 7386: objects merge recursively, null deletes, everything else replaces.
void merge_patch(nlohmann::json& target, const nlohmann::json& patch);

// Removes `$`-prefixed keys at every depth (strategic merge patch directives).
nlohmann::json strip_strategic_directives(const nlohmann::json& patch);

// Applies `patch` of `type` to a copy of `target`; a malformed patch is a 400 BadRequest.
struct PatchOutcome {
  nlohmann::json object;
  std::optional<ApiError> error;
};
PatchOutcome apply_patch(const nlohmann::json& target, const nlohmann::json& patch, PatchType type);

}  // namespace dledger::kube
