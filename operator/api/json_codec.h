// JSON conversion of DLedgerGroup objects (what the API server stores and what the operator
// reads from watches and writes to the status subresource).
//
// Decoding is strict, like `kubectl apply --validate=strict` against the CRD: a field of the
// wrong JSON type is a FieldError worded as the API server words it
// (`spec.replicas: Invalid value: "string": spec.replicas in body must be of type integer:
// "string"`), an enum value outside its set is `Unsupported value`, and a field the schema does
// not declare inside spec/status is `unknown field "spec.foo"`. Every error is collected (the
// caller sees all of them at once); fields that failed keep their defaults.
//
// Decoding applies every default (absent fields keep the struct defaults, which equal the CRD
// schema defaults) plus the two defaults the schema cannot express: spec.brokerName and
// spec.clusterName default to metadata.name. Decoding does NOT check bounds or cross-field
// rules; that is validate_dledger_group() (validation.h).
//
// Encoding writes the fully defaulted object; empty optional fields are omitted, so
// decode(encode(g)) == g for every decoded g.
#pragma once

#include <nlohmann/json.hpp>

#include "operator/api/dledgergroup_types.h"
#include "operator/api/field_error.h"

namespace dledger::op::api {

struct DecodedGroup {
  DLedgerGroup group;
  FieldErrorList errors;
  bool ok() const { return errors.empty(); }
};

// `object` is a whole DLedgerGroup (apiVersion, kind, metadata, spec, status). apiVersion and
// kind, when present, must be dledger.io/v1alpha1 and DLedgerGroup. A missing spec is an error
// (`spec: Required value`); a missing status is an empty status.
DecodedGroup decode_dledger_group(const nlohmann::json& object);

// Decode one part; errors are appended to `errors` with paths under `path` ("spec", "status").
DLedgerGroupSpec decode_spec(const nlohmann::json& spec, FieldErrorList& errors);
DLedgerGroupStatus decode_status(const nlohmann::json& status, FieldErrorList& errors);

nlohmann::json encode_spec(const DLedgerGroupSpec& spec);
nlohmann::json encode_status(const DLedgerGroupStatus& status);
nlohmann::json encode_dledger_group(const DLedgerGroup& group);

// The bad_value text the API server prints for a JSON value: strings quoted, numbers and
// booleans bare, objects/arrays as "object"/"array".
std::string describe_json_value(const nlohmann::json& value);

}  // namespace dledger::op::api
