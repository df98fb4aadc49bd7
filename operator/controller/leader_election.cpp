#include "operator/controller/leader_election.h"

#include <cstdio>
#include <ctime>

namespace dledger::op::controller {

using nlohmann::json;
using std::chrono::system_clock;

LeaseAction decide_lease_action(const std::optional<LeaseState>& lease, const std::string& me,
                                system_clock::time_point now) {
  if (!lease) return LeaseAction::kCreate;
  if (lease->holder == me) return LeaseAction::kRenew;
  if (lease->holder.empty() || !lease->renew_time) return LeaseAction::kTakeOver;
  const auto expiry = *lease->renew_time + std::chrono::seconds(lease->lease_duration_seconds);
  return now > expiry ? LeaseAction::kTakeOver : LeaseAction::kWait;
}

std::string format_micro_time(system_clock::time_point time) {
  const auto micros =
      std::chrono::duration_cast<std::chrono::microseconds>(time.time_since_epoch()).count();
  const std::time_t seconds = static_cast<std::time_t>(micros / 1000000);
  std::tm utc{};
  gmtime_r(&seconds, &utc);
  char text[48];
  std::snprintf(text, sizeof text, "%04d-%02d-%02dT%02d:%02d:%02d.%06dZ", utc.tm_year + 1900,
                utc.tm_mon + 1, utc.tm_mday, utc.tm_hour, utc.tm_min, utc.tm_sec,
                static_cast<int>(micros % 1000000));
  return text;
}

std::optional<system_clock::time_point> parse_micro_time(const std::string& text) {
  std::tm utc{};
  int year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0;
  int consumed = 0;
  if (std::sscanf(text.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d%n", &year, &month, &day, &hour, &minute,
                  &second, &consumed) != 6) {
    return std::nullopt;
  }
  long micros = 0;
  size_t pos = static_cast<size_t>(consumed);
  if (pos < text.size() && text[pos] == '.') {
    ++pos;
    int digits = 0;
    while (pos < text.size() && text[pos] >= '0' && text[pos] <= '9') {
      if (digits < 6) {
        micros = micros * 10 + (text[pos] - '0');
        ++digits;
      }
      ++pos;
    }
    while (digits++ < 6) micros *= 10;
  }
  if (pos >= text.size() || text[pos] != 'Z') return std::nullopt;
  utc.tm_year = year - 1900;
  utc.tm_mon = month - 1;
  utc.tm_mday = day;
  utc.tm_hour = hour;
  utc.tm_min = minute;
  utc.tm_sec = second;
  const std::time_t seconds = timegm(&utc);
  return system_clock::time_point(std::chrono::seconds(seconds)) +
         std::chrono::microseconds(micros);
}

LeaseState lease_state_from_json(const json& lease) {
  LeaseState state;
  if (!lease.contains("spec") || !lease["spec"].is_object()) return state;
  const json& spec = lease["spec"];
  state.holder = spec.value("holderIdentity", "");
  state.lease_duration_seconds = spec.value("leaseDurationSeconds", 15);
  state.transitions = spec.value("leaseTransitions", std::int64_t{0});
  if (spec.contains("renewTime") && spec["renewTime"].is_string()) {
    state.renew_time = parse_micro_time(spec["renewTime"].get<std::string>());
  }
  return state;
}

LeaderElector::LeaderElector(kube::KubeClient& client, LeaderElectionOptions options)
    : client_(client), options_(std::move(options)) {}

Result<bool> LeaderElector::try_acquire_or_renew() {
  const auto& type = kube::resources::kLeases;
  auto live = client_.get(type, options_.namespace_name, options_.lease_name);
  std::optional<LeaseState> state;
  if (live.ok()) {
    state = lease_state_from_json(*live);
  } else if (!kube::is_not_found(live.error())) {
    return live.error();
  }
  const auto now = options_.clock();
  const std::string now_text = format_micro_time(now);
  switch (decide_lease_action(state, options_.identity, now)) {
    case LeaseAction::kWait:
      return false;
    case LeaseAction::kCreate: {
      json lease = {{"apiVersion", "coordination.k8s.io/v1"},
                    {"kind", "Lease"},
                    {"metadata", {{"name", options_.lease_name}}},
                    {"spec",
                     {{"holderIdentity", options_.identity},
                      {"leaseDurationSeconds", options_.lease_duration_seconds},
                      {"acquireTime", now_text},
                      {"renewTime", now_text},
                      {"leaseTransitions", 0}}}};
      auto created = client_.create(type, options_.namespace_name, lease);
      if (created.ok()) return true;
      if (kube::is_conflict(created.error())) return false;  // another candidate was first
      return created.error();
    }
    case LeaseAction::kRenew:
    case LeaseAction::kTakeOver: {
      const bool take_over = state->holder != options_.identity;
      json lease = *live;
      lease["spec"]["holderIdentity"] = options_.identity;
      lease["spec"]["leaseDurationSeconds"] = options_.lease_duration_seconds;
      lease["spec"]["renewTime"] = now_text;
      if (take_over) {
        lease["spec"]["acquireTime"] = now_text;
        lease["spec"]["leaseTransitions"] = state->transitions + 1;
      }
      auto updated = client_.update(type, options_.namespace_name, lease);
      if (updated.ok()) return true;
      if (kube::is_conflict(updated.error())) return false;  // lost the race
      return updated.error();
    }
  }
  return false;
}

}  // namespace dledger::op::controller
