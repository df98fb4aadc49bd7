// Validation of a decoded DLedgerGroup: the bounds, enums, patterns and cross-field rules of the
// CRD schema (deploy/crds/dledger.io_dledgergroups.yaml, including its x-kubernetes-validations
// CEL rules), plus rules the operator needs that a schema cannot state (quantity > 0, distinct
// ports). Every error names the field path the API server would name, e.g.
//   spec.replicas: Invalid value: 12: must be less than or equal to 9
//   spec.config[dLegerPeers]: Forbidden: owned by the operator (derived from spec.replicas ...)
//
// Warnings do not reject the resource (an admission webhook returns them as warnings):
// an even replica count tolerates no more failures than the odd count below it.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "operator/api/dledgergroup_types.h"
#include "operator/api/field_error.h"

namespace dledger::op::api {

struct ValidationResult {
  FieldErrorList errors;
  std::vector<std::string> warnings;
  bool ok() const { return errors.empty(); }
};

// `group` must be decoded (decode_dledger_group) so defaults are applied. Checks metadata.name
// (a DNS-1035 label of at most 52 characters, so derived names stay valid) and the whole spec.
ValidationResult validate_dledger_group(const DLedgerGroup& group);

// Checks spec fields only (paths start with "spec.").
ValidationResult validate_spec(const DLedgerGroupSpec& spec);

// Decode + validate in one step: what an admission webhook or the reconciler does with an
// object read from the API server. `errors` holds decoding errors followed by validation errors
// (validation is skipped when decoding failed).
struct Admission {
  DLedgerGroup group;
  FieldErrorList errors;
  std::vector<std::string> warnings;
  bool ok() const { return errors.empty(); }
};
Admission admit_dledger_group(const nlohmann::json& object);

// The integer ordinal of a member id "n3" -> 3; -1 if `id` is not of the form n<digits>.
int member_ordinal(const std::string& id);

}  // namespace dledger::op::api
