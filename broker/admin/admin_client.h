// AdminClient: a small blocking client for the replica admin API (docs/admin-api.md), used by
// dledgerctl and the operator. Addresses are "host:port" (an "http://" prefix is accepted).
//
// Errors: kUnavailable when the replica cannot be reached (message names the address),
// kTimeout when it does not answer within options.timeout, kInvalidArgument when the answer is
// malformed, and otherwise the error code the server answered with (mapped back from the
// "error" field; the message names the address and carries the server's message).
//
// NotLeader: a mutating call answered 409 NotLeader is retried once against the leader_admin
// address from the answer (when present, different from the first address, and
// options.follow_leader is set). A NotLeader that is not followed is returned as kNotLeader whose
// message names the leader ("leader n1 at host:10980"); last_leader() holds the same hint.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "broker/admin/admin_backend.h"
#include "broker/base/result.h"

namespace dledger::admin {

struct AdminClientOptions {
  std::chrono::milliseconds timeout{5000};  // per HTTP request
  std::string token;                        // sent as "Authorization: Bearer <token>" when set
  bool follow_leader = true;                // retry NotLeader once against leader_admin
};

// One raw exchange; used by the typed calls and by tests that need exact status codes.
struct HttpReply {
  int status = 0;
  std::string content_type;
  std::string body;
};

// Leader named by the last NotLeader answer.
struct LeaderHint {
  std::string leader_id;
  std::string leader_admin;
};

class AdminClient {
 public:
  explicit AdminClient(AdminClientOptions options = {});

  Result<ReplicaStatus> status(const std::string& admin_address);
  // target "" = any caught-up voter.
  Result<TransferResult> transfer_leadership(const std::string& admin_address,
                                             const std::string& target);
  Result<ChangeResult> add_learner(const std::string& admin_address, const std::string& id,
                                   const std::string& peer_address);
  Result<ChangeResult> promote(const std::string& admin_address, const std::string& id);
  Result<ChangeResult> remove_member(const std::string& admin_address, const std::string& id);

  // GET /healthz, /readyz: true for 200, false for 503; errors for anything else.
  Result<bool> ready(const std::string& admin_address);

  // Sends one request. `path` may contain a query. `authorization` overrides the token header
  // when non-empty ("-" sends none). Errors only for transport failures and timeouts.
  Result<HttpReply> request(const std::string& admin_address, const std::string& method,
                            const std::string& path, const std::string& body,
                            const std::string& authorization = "");

  // Leader named by the most recent NotLeader answer (empty when none).
  const LeaderHint& last_leader() const { return last_leader_; }
  const AdminClientOptions& options() const { return options_; }

 private:
  // Sends a mutating request, follows NotLeader once, and returns the parsed JSON body of a 200.
  Result<std::string> mutate(const std::string& admin_address, const std::string& method,
                             const std::string& path, const std::string& body);
  // Converts a non-200 reply into an Error naming the address.
  Error reply_error(const std::string& admin_address, const HttpReply& reply);

  AdminClientOptions options_;
  LeaderHint last_leader_;
};

// Percent-encodes one path segment (member ids are plain, but never trust input).
std::string encode_path_segment(const std::string& segment);

}  // namespace dledger::admin
