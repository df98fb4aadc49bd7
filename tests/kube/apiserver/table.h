// Server-side printing: the meta.k8s.io/v1 Table answered when a client's Accept asks for
// `as=Table;v=v1;g=meta.k8s.io` (what `kubectl get` sends). Custom resources use the CRD's
// additionalPrinterColumns; pods get NAME READY STATUS RESTARTS AGE; everything else NAME AGE.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "tests/kube/apiserver/resource_registry.h"

namespace dledger::kube {

// Whether an Accept header asks for a Table.
bool accepts_table(const std::string& accept);

// Table of `objects`; `include_object` ("Object" / "None" / "Metadata", default Metadata) picks
// what rows[].object carries.
nlohmann::json make_table(const ResourceInfo& info, const std::vector<nlohmann::json>& objects,
                          const std::string& resource_version, const std::string& include_object);

// kubectl-style human age: "10s", "5m", "3h", "2d" (kubectl's duration.HumanDuration).
std::string human_age(long long seconds);
// Seconds since an RFC 3339 timestamp (0 when unparsable or in the future).
long long seconds_since(const std::string& rfc3339);

}  // namespace dledger::kube
