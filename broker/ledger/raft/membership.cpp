// Peers strings, member ids and the binary encoding of configurations (membership.h).
#include "broker/ledger/raft/membership.h"

#include <algorithm>
#include <set>

#include "broker/base/bytes.h"

namespace dledger::raft {
namespace {

constexpr std::uint8_t kMembershipEncodingVersion = 1;
constexpr std::size_t kMaxAddressBytes = 1024;
constexpr std::uint32_t kMaxMembers = 1024;

bool all_digits(std::string_view text) {
  return !text.empty() &&
         std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; });
}

std::string quoted(std::string_view text) {
  return "'" + std::string(text) + "'";
}

// "host:port" with a non-empty host and a decimal port in 1..65535.
Status check_address(std::string_view address, std::string_view item) {
  std::size_t colon = address.rfind(':');
  if (colon == std::string_view::npos) {
    return make_error(ErrorCode::kInvalidArgument, "peer " + quoted(item) + ": address " +
                                                       quoted(address) + " is not host:port");
  }
  std::string_view host = address.substr(0, colon);
  std::string_view port = address.substr(colon + 1);
  if (host.empty()) {
    return make_error(ErrorCode::kInvalidArgument, "peer " + quoted(item) + ": empty host");
  }
  if (host.find_first_of(" \t;") != std::string_view::npos) {
    return make_error(ErrorCode::kInvalidArgument, "peer " + quoted(item) + ": host " +
                                                       quoted(host) + " contains a space or ';'");
  }
  if (!all_digits(port) || port.size() > 5) {
    return make_error(
        ErrorCode::kInvalidArgument,
        "peer " + quoted(item) + ": port " + quoted(port) + " is not a number in 1-65535");
  }
  unsigned long value = std::stoul(std::string(port));
  if (value < 1 || value > 65535) {
    return make_error(ErrorCode::kInvalidArgument,
                      "peer " + quoted(item) + ": port " + quoted(port) + " is not in 1-65535");
  }
  return Status();
}

}  // namespace

Result<NodeId> parse_node_id(std::string_view text) {
  if (text.size() < 2 || text.size() > 10 || text[0] != 'n' || !all_digits(text.substr(1))) {
    return make_error(ErrorCode::kInvalidArgument,
                      "member id " + quoted(text) + " is not 'n' followed by 1-9 digits");
  }
  unsigned long long value = std::stoull(std::string(text.substr(1)));
  // 9 digits always fit below kNoNode.
  return static_cast<NodeId>(value);
}

Result<Membership> membership_from_peers(std::string_view peers, std::string_view self_id) {
  if (peers.empty()) {
    return make_error(ErrorCode::kInvalidArgument, "peers string is empty");
  }
  Result<NodeId> self = parse_node_id(self_id);
  if (!self.ok()) {
    return make_error(ErrorCode::kInvalidArgument, "self id: " + self.error().message);
  }
  Membership out;
  std::set<std::string> addresses;
  std::size_t pos = 0;
  while (pos < peers.size()) {
    std::size_t end = peers.find(';', pos);
    if (end == std::string_view::npos) end = peers.size();
    std::string_view item = peers.substr(pos, end - pos);
    pos = end + 1;
    if (item.empty()) {
      return make_error(ErrorCode::kInvalidArgument,
                        "peers string " + quoted(peers) + " has an empty item");
    }
    std::size_t dash = item.find('-');
    if (dash == std::string_view::npos) {
      return make_error(ErrorCode::kInvalidArgument,
                        "peer " + quoted(item) + " is not id-host:port (no '-')");
    }
    Result<NodeId> id = parse_node_id(item.substr(0, dash));
    if (!id.ok()) {
      return make_error(ErrorCode::kInvalidArgument,
                        "peer " + quoted(item) + ": " + id.error().message);
    }
    std::string_view address = item.substr(dash + 1);
    Status address_ok = check_address(address, item);
    if (!address_ok.ok()) return address_ok.error();
    if (out.contains(*id)) {
      return make_error(ErrorCode::kInvalidArgument,
                        "peers string has duplicate id " + node_name(*id));
    }
    if (!addresses.insert(std::string(address)).second) {
      return make_error(ErrorCode::kInvalidArgument,
                        "peers string has duplicate address " + quoted(address));
    }
    Member member{*id, std::string(address), true};
    auto it = std::lower_bound(out.members.begin(), out.members.end(), member.id,
                               [](const Member& m, NodeId value) { return m.id < value; });
    out.members.insert(it, std::move(member));
  }
  if (!out.contains(*self)) {
    return make_error(ErrorCode::kInvalidArgument,
                      "self id " + quoted(self_id) + " is not in peers " + quoted(peers));
  }
  return out;
}

std::string membership_to_peers(const Membership& membership) {
  std::string out;
  for (const Member& m : membership.members) {
    if (!out.empty()) out += ';';
    out += node_name(m.id) + "-" + m.address;
  }
  return out;
}

// Layout (little-endian): u8 version (1), u32 member count, then per member:
// u32 id, u8 flags (bit 0: voter), u32 address length, address bytes.
std::string encode_membership(const Membership& membership) {
  std::string out;
  ByteWriter w(&out);
  w.u8(kMembershipEncodingVersion);
  w.u32(static_cast<std::uint32_t>(membership.members.size()));
  for (const Member& m : membership.members) {
    w.u32(m.id);
    w.u8(m.voter ? 1 : 0);
    w.blob32(m.address);
  }
  return out;
}

Result<Membership> decode_membership(std::string_view bytes) {
  ByteReader r(bytes);
  std::uint8_t version = r.u8();
  if (!r.ok()) return make_error(ErrorCode::kCorruption, "membership: empty encoding");
  if (version != kMembershipEncodingVersion) {
    return make_error(ErrorCode::kCorruption,
                      "membership: unknown encoding version " + std::to_string(version));
  }
  std::uint32_t count = r.u32();
  if (!r.ok() || count > kMaxMembers) {
    return make_error(ErrorCode::kCorruption, "membership: bad member count (truncated or above " +
                                                  std::to_string(kMaxMembers) + ")");
  }
  Membership out;
  out.members.reserve(count);
  for (std::uint32_t i = 0; i < count; ++i) {
    Member m;
    m.id = r.u32();
    std::uint8_t flags = r.u8();
    m.address = std::string(r.blob32(kMaxAddressBytes));
    if (!r.ok()) {
      return make_error(ErrorCode::kCorruption, "membership: member " + std::to_string(i) +
                                                    " truncated at byte " +
                                                    std::to_string(r.position()));
    }
    if (flags > 1) {
      return make_error(ErrorCode::kCorruption, "membership: member " + std::to_string(i) +
                                                    " has unknown flags " + std::to_string(flags));
    }
    m.voter = flags == 1;
    if (m.id == kNoNode) {
      return make_error(ErrorCode::kCorruption,
                        "membership: member " + std::to_string(i) + " has the reserved id");
    }
    if (!out.members.empty() && out.members.back().id >= m.id) {
      return make_error(ErrorCode::kCorruption,
                        "membership: ids not strictly increasing at " + node_name(m.id));
    }
    out.members.push_back(std::move(m));
  }
  if (!r.at_end()) {
    return make_error(ErrorCode::kCorruption,
                      "membership: " + std::to_string(r.remaining()) + " trailing bytes");
  }
  return out;
}

}  // namespace dledger::raft
