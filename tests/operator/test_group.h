// Test helper: a minimal valid DLedgerGroup object and a way to patch its spec.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "operator/api/validation.h"

namespace dledger::op::testing {

inline nlohmann::json minimal_group_json() {
  return {{"apiVersion", "dledger.io/v1alpha1"},
          {"kind", "DLedgerGroup"},
          {"metadata",
           {{"name", "g1"}, {"namespace", "default"}, {"uid", "uid-g1"}, {"generation", 1}}},
          {"spec", {{"image", "dledger:test"}}}};
}

// minimal_group_json() with `spec_patch` merged into spec (RFC 7386 merge patch).
inline nlohmann::json group_with_spec(const nlohmann::json& spec_patch) {
  auto object = minimal_group_json();
  if (spec_patch.is_object()) object["spec"].merge_patch(spec_patch);
  return object;
}

inline api::Admission admit_spec(const nlohmann::json& spec_patch) {
  return api::admit_dledger_group(group_with_spec(spec_patch));
}

// The error lines of an admission, for readable failure messages.
inline std::string errors_of(const api::Admission& a) {
  return api::to_string(a.errors);
}

}  // namespace dledger::op::testing
