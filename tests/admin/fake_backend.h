// FakeBackend: an in-memory AdminBackend with real state for the admin tests. It behaves like a
// small replica: only the leader accepts changes, one membership change at a time, a transfer
// moves leadership and bumps the term, and each committed change appends one log entry.
// Tests can queue an error for the next mutating call and read back which calls arrived.
#pragma once

#include <algorithm>
#include <deque>
#include <mutex>
#include <string>
#include <vector>

#include "broker/admin/admin_backend.h"

namespace dledger::admin::testing {

// A three-voter group seen from n0: leader, n1 caught up, n2 one entry behind.
inline ReplicaStatus leader_status() {
  ReplicaStatus s;
  s.group = "broker-a";
  s.self_id = "n0";
  s.role = kRoleLeader;
  s.term = 3;
  s.leader_id = "n0";
  s.leader_address = "127.0.0.1:40911";
  s.leader_admin = "127.0.0.1:10980";
  s.commit_index = 1200;
  s.last_index = 1200;
  s.first_index = 1;
  s.flush_mode = "sync";
  s.members = {{"n0", "127.0.0.1:40911", true, kRoleLeader, 1200, 0, true},
               {"n1", "127.0.0.1:40912", true, kRoleFollower, 1200, 0, true},
               {"n2", "127.0.0.1:40913", true, kRoleFollower, 1199, 1, true}};
  s.log_open = true;
  s.leader_alive = true;
  return s;
}

// The same group seen from follower n1 (no match/lag known) whose leader's admin is `leader_admin`.
inline ReplicaStatus follower_status(const std::string& leader_admin) {
  ReplicaStatus s = leader_status();
  s.self_id = "n1";
  s.role = kRoleFollower;
  s.leader_admin = leader_admin;
  for (MemberStatus& m : s.members) {
    m.match_index.reset();
    m.lag.reset();
  }
  return s;
}

class FakeBackend : public AdminBackend {
 public:
  explicit FakeBackend(ReplicaStatus initial) : status_(std::move(initial)) {}

  ReplicaStatus status() override {
    std::lock_guard<std::mutex> lock(mutex_);
    return status_;
  }

  void set_status(ReplicaStatus status) {
    std::lock_guard<std::mutex> lock(mutex_);
    status_ = std::move(status);
  }

  template <typename F>
  void edit(F&& f) {
    std::lock_guard<std::mutex> lock(mutex_);
    f(status_);
  }

  // The next mutating call fails with this error instead of acting.
  void fail_next(ErrorCode code, std::string message) {
    std::lock_guard<std::mutex> lock(mutex_);
    queued_errors_.push_back(make_error(code, std::move(message)));
  }

  std::vector<std::string> calls() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return calls_;
  }

  Result<TransferResult> transfer_leadership(const std::string& target,
                                             std::chrono::milliseconds) override {
    std::lock_guard<std::mutex> lock(mutex_);
    calls_.push_back("transfer " + target);
    if (auto error = precheck()) return *error;
    std::string chosen = target;
    if (chosen.empty()) {
      for (const MemberStatus& m : status_.members) {
        if (m.id != status_.self_id && m.voter && m.lag == std::optional<std::uint64_t>(0)) {
          chosen = m.id;
          break;
        }
      }
      if (chosen.empty()) return make_error(ErrorCode::kUnavailable, "no caught-up voter");
    }
    MemberStatus* member = find(chosen);
    if (member == nullptr || !member->voter || chosen == status_.self_id) {
      return make_error(ErrorCode::kInvalidArgument, chosen + " is not another voter");
    }
    status_.term += 1;
    status_.role = kRoleFollower;
    status_.leader_id = chosen;
    status_.leader_address = member->address;
    for (MemberStatus& m : status_.members) {
      m.role = m.id == chosen ? kRoleLeader : kRoleFollower;
      m.match_index.reset();
      m.lag.reset();
    }
    return TransferResult{chosen, status_.term};
  }

  Result<ChangeResult> add_learner(const std::string& id, const std::string& address,
                                   std::chrono::milliseconds) override {
    std::lock_guard<std::mutex> lock(mutex_);
    calls_.push_back("add " + id + " " + address);
    if (auto error = precheck()) return *error;
    if (find(id) != nullptr) return make_error(ErrorCode::kInvalidArgument, id + " is a member");
    status_.members.push_back({id, address, false, kRoleLearner, 0, status_.last_index, true});
    return commit_change();
  }

  Result<ChangeResult> promote(const std::string& id, std::chrono::milliseconds) override {
    std::lock_guard<std::mutex> lock(mutex_);
    calls_.push_back("promote " + id);
    if (auto error = precheck()) return *error;
    MemberStatus* member = find(id);
    if (member == nullptr) return make_error(ErrorCode::kNotFound, id + " is not a member");
    if (member->voter) return make_error(ErrorCode::kInvalidArgument, id + " is a voter");
    if (member->lag.value_or(1) > 0) {
      return make_error(ErrorCode::kBusy,
                        id + " lags by " + std::to_string(member->lag.value_or(0)) + " entries");
    }
    member->voter = true;
    member->role = kRoleFollower;
    return commit_change();
  }

  Result<ChangeResult> remove_member(const std::string& id, std::chrono::milliseconds) override {
    std::lock_guard<std::mutex> lock(mutex_);
    calls_.push_back("remove " + id);
    if (auto error = precheck()) return *error;
    auto it = std::find_if(status_.members.begin(), status_.members.end(),
                           [&](const MemberStatus& m) { return m.id == id; });
    if (it == status_.members.end()) {
      return make_error(ErrorCode::kNotFound, id + " is not a member");
    }
    status_.members.erase(it);
    return commit_change();
  }

 private:
  std::optional<Error> precheck() {
    if (!queued_errors_.empty()) {
      Error error = queued_errors_.front();
      queued_errors_.pop_front();
      return error;
    }
    if (status_.role != kRoleLeader) {
      return make_error(ErrorCode::kNotLeader, "leader is " + status_.leader_id);
    }
    if (status_.membership_change_pending) {
      return make_error(ErrorCode::kBusy, "a membership change is not committed yet");
    }
    if (status_.transfer_target) {
      return make_error(ErrorCode::kTransferring, "transferring to " + *status_.transfer_target);
    }
    return std::nullopt;
  }

  MemberStatus* find(const std::string& id) {
    for (MemberStatus& m : status_.members) {
      if (m.id == id) return &m;
    }
    return nullptr;
  }

  ChangeResult commit_change() {
    status_.last_index += 1;
    status_.commit_index = status_.last_index;
    return ChangeResult{status_.last_index, status_.term};
  }

  mutable std::mutex mutex_;
  ReplicaStatus status_;
  std::deque<Error> queued_errors_;
  std::vector<std::string> calls_;
};

}  // namespace dledger::admin::testing
