// Structural-schema defaulting, pruning and validation of custom resources against a CRD's
// openAPIV3Schema, with the messages the real API server uses, e.g.
//   spec.replicas: Invalid value: 12: spec.replicas in body should be less than or equal to 9
// Supported keywords: type, properties, additionalProperties, items, required, default, enum,
// minimum, maximum, minLength, maxLength, pattern (ECMAScript regex), maxProperties, minItems,
// maxItems, x-kubernetes-preserve-unknown-fields. Not evaluated: x-kubernetes-validations (CEL),
// format, x-kubernetes-list-type uniqueness.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "tests/kube/apiserver/api_error.h"

namespace dledger::kube {

// Fills absent properties that declare a `default`, recursively (a defaulted `{}` object gets its
// own properties' defaults too). metadata is never touched.
void apply_defaults(const nlohmann::json& schema, nlohmann::json& value);

// Removes fields the schema does not declare (outside x-kubernetes-preserve-unknown-fields) and
// returns their paths ("spec.foo"), sorted.
std::vector<std::string> prune_unknown_fields(const nlohmann::json& schema, nlohmann::json& value);

// Validates `value` (the whole object; metadata, apiVersion and kind are skipped) and returns
// one cause per violation; empty means valid. Unknown fields are not reported here (prune first).
std::vector<StatusCause> validate_against_schema(const nlohmann::json& schema,
                                                 const nlohmann::json& value);

}  // namespace dledger::kube
