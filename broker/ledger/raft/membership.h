// Membership helpers: DLedger peers strings, member ids, and the encoding of kConfig entries.
#pragma once

#include <string>
#include <string_view>

#include "broker/base/result.h"
#include "broker/ledger/raft/types.h"

namespace dledger::raft {

// "n3" -> 3. Ids are 'n' followed by 1-9 decimal digits (no sign, no spaces).
// Errors name the offending text.
Result<NodeId> parse_node_id(std::string_view text);

// Parses a DLedger peers string "n0-host:port;n1-host:port;n2-host:port" (the text before the
// first '-' is the id; host may itself contain '-'; port 1-65535; a trailing ';' is allowed) and
// checks that `self_id` ("n0") is in it. Every member is a voter. Rejects, with a message naming
// the fault: empty strings, malformed items, bad ports, duplicate ids, duplicate addresses,
// a self id not in the list.
Result<Membership> membership_from_peers(std::string_view peers, std::string_view self_id);

// The inverse of membership_from_peers (voters and learners alike).
std::string membership_to_peers(const Membership& membership);

// Binary encoding of a Membership for kConfig entries and snapshots (versioned, checked).
std::string encode_membership(const Membership& membership);
Result<Membership> decode_membership(std::string_view bytes);

}  // namespace dledger::raft
