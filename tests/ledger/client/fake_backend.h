// An in-memory ClientBackend for client-protocol tests: a log of entries, a configurable role, an
// injectable error, and a "hold" mode that parks appends so tests control completion order.
#pragma once

#include <algorithm>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "broker/ledger/service/client_service.h"

namespace dledger::testing {

class FakeBackend : public service::ClientBackend {
 public:
  explicit FakeBackend(raft::NodeId self) : self_(self), leader_(self) {}

  void append(std::vector<std::string> entries, ledger::AppendCallback done) override {
    std::unique_lock<std::mutex> lock(mu_);
    if (leader_ != self_) {
      lock.unlock();
      done(make_error(ErrorCode::kNotLeader, "not the leader"));
      return;
    }
    if (fail_with_) {
      Error error = *fail_with_;
      lock.unlock();
      done(std::move(error));
      return;
    }
    ledger::AppendResult result{log_.size() + 1, term_};
    for (auto& e : entries) log_.push_back(std::move(e));
    ++calls_;
    held_entries_ += hold_ ? entries.size() : 0;
    if (hold_) {
      held_.emplace_back(result, std::move(done));
      return;
    }
    lock.unlock();
    done(result);
  }

  Result<ledger::CommittedEntry> get(std::uint64_t index) override {
    std::lock_guard<std::mutex> lock(mu_);
    if (index == 0 || index > log_.size()) {
      return make_error(
          ErrorCode::kOutOfRange,
          "index " + std::to_string(index) + " above commit index " + std::to_string(log_.size()));
    }
    return ledger::CommittedEntry{index, term_, raft::EntryType::kNormal, log_[index - 1]};
  }

  raft::NodeId leader_id() override {
    std::lock_guard<std::mutex> lock(mu_);
    return leader_;
  }

  void set_leader(raft::NodeId leader) {
    std::lock_guard<std::mutex> lock(mu_);
    leader_ = leader;
  }
  void fail_with(Error error) {
    std::lock_guard<std::mutex> lock(mu_);
    fail_with_ = std::move(error);
  }
  void set_hold(bool hold) {
    std::lock_guard<std::mutex> lock(mu_);
    hold_ = hold;
  }
  // Entries of the parked appends (a batch of n counts n).
  std::size_t held_count() {
    std::lock_guard<std::mutex> lock(mu_);
    return held_entries_;
  }
  // append() calls that reached the backend (the service may coalesce requests into one).
  std::size_t calls() {
    std::lock_guard<std::mutex> lock(mu_);
    return calls_;
  }
  // Completes every parked append, the last one first.
  void release_held_in_reverse() {
    std::vector<std::pair<ledger::AppendResult, ledger::AppendCallback>> held;
    {
      std::lock_guard<std::mutex> lock(mu_);
      held.swap(held_);
      held_entries_ = 0;
    }
    std::reverse(held.begin(), held.end());
    for (auto& [result, done] : held) done(result);
  }
  std::vector<std::string> log() {
    std::lock_guard<std::mutex> lock(mu_);
    return log_;
  }

 private:
  std::mutex mu_;
  raft::NodeId self_;
  raft::NodeId leader_;
  std::uint64_t term_ = 1;
  std::vector<std::string> log_;
  std::optional<Error> fail_with_;
  bool hold_ = false;
  std::size_t held_entries_ = 0;
  std::size_t calls_ = 0;
  std::vector<std::pair<ledger::AppendResult, ledger::AppendCallback>> held_;
};

}  // namespace dledger::testing
