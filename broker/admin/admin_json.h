// JSON forms of the admin API (docs/admin-api.md), shared by the HTTP server and AdminClient.
// Parsing validates every field: a missing field or one of the wrong type is a kInvalidArgument
// error naming the field (e.g. "members[1].match_index: expected unsigned integer or null").
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "broker/admin/admin_backend.h"
#include "broker/base/result.h"

namespace dledger::admin {

// /status body. match_index/lag/transfer_target are null when absent. The readiness inputs
// (log_open, leader_alive) are not part of the contract and are not written.
nlohmann::json status_to_json(const ReplicaStatus& status);
// Inverse of status_to_json; log_open/leader_alive are left false.
Result<ReplicaStatus> status_from_json(const nlohmann::json& body);
// Parses text first; errors name what was wrong with it.
Result<ReplicaStatus> status_from_text(const std::string& text);

nlohmann::json change_to_json(const ChangeResult& result);
Result<ChangeResult> change_from_json(const nlohmann::json& body);
nlohmann::json transfer_to_json(const TransferResult& result);
Result<TransferResult> transfer_from_json(const nlohmann::json& body);

// {"error":"<Code>","message":"..."}
nlohmann::json error_to_json(const std::string& code_name, const std::string& message);

// HTTP status for an error code: 400 bad input, 404 not found, 409 NotLeader/Busy/Transferring,
// 503 Unavailable/Stopped/Overloaded, 504 Timeout, 500 anything else.
int http_status_for(ErrorCode code);
// Inverse of error_code_name(); unknown names give kInternal.
ErrorCode error_code_from_name(const std::string& name);

// Member ids: 1..64 characters of [A-Za-z0-9_.-]. Error names `field`.
Status validate_member_id(const std::string& id, const std::string& field);
// "host:port" with a non-empty host (IPv6 in brackets) and port 1..65535. Error names `field`.
Status validate_host_port(const std::string& address, const std::string& field);

}  // namespace dledger::admin
