// Reading one key of a Secret (spec.adminTokenSecretRef and the like).
#pragma once

#include <string>
#include <string_view>

#include "broker/base/result.h"
#include "operator/api/dledgergroup_types.h"
#include "operator/kube/kube_client.h"

namespace dledger::op::controller {

// The value of key `ref.key` of Secret `ref.name` in namespace `ns`: `data[key]` base64-decoded
// (what every API server returns), or `stringData[key]` for a stored object that still has it.
// Errors name the secret and the key: the API error (kNotFound for a missing Secret),
// kNotFound for a missing key, kInvalidArgument for data that is not base64 or an empty value.
Result<std::string> read_secret_value(kube::KubeClient& client, const std::string& ns,
                                      const api::SecretKeyRef& ref);

// Standard base64 (RFC 4648, '=' padding optional, no whitespace). kInvalidArgument otherwise.
Result<std::string> decode_base64(std::string_view text);

}  // namespace dledger::op::controller
