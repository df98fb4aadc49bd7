#include "broker/broker/tag_filter.h"

#include "broker/remoting/message_properties.h"

namespace dledger::broker {
namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

}  // namespace

Result<TagFilter> TagFilter::parse(std::string_view expression, std::string_view expression_type) {
  if (!expression_type.empty() && expression_type != "TAG") {
    return make_error(ErrorCode::kInvalidArgument,
                      "expressionType '" + std::string(expression_type) +
                          "' is not supported by this broker (only TAG)");
  }
  TagFilter filter;
  std::string_view whole = trim(expression);
  if (whole.empty() || whole == "*") return filter;
  filter.all_ = false;
  std::size_t start = 0;
  while (start <= expression.size()) {
    std::size_t end = expression.find("||", start);
    if (end == std::string_view::npos) end = expression.size();
    std::string_view tag = trim(expression.substr(start, end - start));
    if (!tag.empty()) filter.tags_.emplace(tag);
    start = end + 2;
  }
  if (filter.tags_.empty()) {
    return make_error(ErrorCode::kInvalidArgument,
                      "subscription '" + std::string(expression) + "' names no tag");
  }
  return filter;
}

Result<TagFilter> TagFilter::from_subscription(const remoting::SubscriptionData& subscription) {
  if (subscription.sub_string.empty() && !subscription.tags_set.empty()) {
    if (!subscription.expression_type.empty() && subscription.expression_type != "TAG") {
      return parse("", subscription.expression_type);
    }
    TagFilter filter;
    filter.all_ = false;
    for (const auto& tag : subscription.tags_set) {
      std::string_view t = trim(tag);
      if (!t.empty()) filter.tags_.emplace(t);
    }
    if (!filter.tags_.empty()) return filter;
    return TagFilter();
  }
  return parse(subscription.sub_string, subscription.expression_type);
}

bool TagFilter::matches_tag(const std::string* tags) const {
  if (all_) return true;
  return tags != nullptr && tags_.count(*tags) > 0;
}

bool TagFilter::matches(const store::StoredMessage& message) const {
  if (all_) return true;
  auto properties = remoting::decode_message_properties(message.properties);
  if (!properties.ok()) return false;
  auto it = properties->find(std::string(remoting::property_key::kTags));
  return matches_tag(it == properties->end() ? nullptr : &it->second);
}

}  // namespace dledger::broker
