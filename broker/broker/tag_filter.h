// TagFilter: which messages a RocketMQ TAG subscription selects, for PULL_MESSAGE (11).
//
// Subscription expression (RocketMQ FilterAPI.buildSubscriptionData): "*" or empty selects every
// message; otherwise tags separated by "||", each trimmed of spaces, empty items ignored
// ("TagA || TagB"). A message matches when its TAGS property equals one of the tags exactly.
// A message without TAGS matches only "*".
//
// RocketMQ brokers compare String.hashCode()s of the tags (the consume queue keeps only the hash)
// and clients filter again by the tag string; this filter compares the strings themselves, which
// gives the same messages to the client without the hash collisions.
//
// Only the TAG expression type is supported: parse() refuses "SQL92" (and anything else) with
// kInvalidArgument, as a RocketMQ broker without enablePropertyFilter does.
#pragma once

#include <set>
#include <string>
#include <string_view>

#include "broker/base/result.h"
#include "broker/remoting/heartbeat.h"
#include "broker/store/store_command.h"

namespace dledger::broker {

class TagFilter {
 public:
  // Selects every message.
  TagFilter() = default;
  // From a subscription expression and its expression type ("TAG" when empty).
  static Result<TagFilter> parse(std::string_view expression, std::string_view expression_type);
  // From a heartbeat's subscription (its subString; tagsSet when subString is absent).
  static Result<TagFilter> from_subscription(const remoting::SubscriptionData& subscription);

  bool matches_all() const { return all_; }
  const std::set<std::string>& tags() const { return tags_; }
  // `tags`: the message's TAGS property value, or nullptr when it has none.
  bool matches_tag(const std::string* tags) const;
  // Decodes the message's properties; a message whose properties do not decode matches only "*".
  bool matches(const store::StoredMessage& message) const;

 private:
  bool all_ = true;
  std::set<std::string> tags_;
};

}  // namespace dledger::broker
