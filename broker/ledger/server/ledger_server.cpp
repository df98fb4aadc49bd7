#include "broker/ledger/server/ledger_server.h"

#include <spdlog/spdlog.h>

#include <asio.hpp>
#include <atomic>
#include <cerrno>
#include <condition_variable>
#include <filesystem>
#include <future>
#include <mutex>
#include <random>
#include <thread>

#include "broker/base/thread_name.h"
#include "broker/ledger/log/group_commit_writer.h"
#include "broker/ledger/log/segmented_log.h"
#include "broker/ledger/raft/membership.h"
#include "broker/ledger/server/commit_notifier.h"
#include "broker/ledger/server/pending_appends.h"
#include "broker/ledger/transport/peer_transport.h"

namespace dledger::ledger {
namespace {

using Clock = std::chrono::steady_clock;

int ticks_for(std::uint32_t ms, std::uint32_t tick_ms) {
  return static_cast<int>((ms + tick_ms - 1) / tick_ms);
}

// Splits "host:port" into its host part ("" when malformed).
std::string host_of(const std::string& address) {
  auto colon = address.rfind(':');
  return colon == std::string::npos ? std::string() : address.substr(0, colon);
}

std::uint16_t port_of(const std::string& address) {
  auto colon = address.rfind(':');
  if (colon == std::string::npos) return 0;
  return static_cast<std::uint16_t>(std::atoi(address.c_str() + colon + 1));
}

class LedgerServerImpl final : public LedgerServer {
 public:
  LedgerServerImpl(LedgerOptions options, SnapshotHooks hooks)
      : options_(std::move(options)),
        hooks_(std::move(hooks)),
        ticker_(ctx_),
        random_(std::random_device{}()) {}

  ~LedgerServerImpl() override { stop(); }

  Status init();

  void stop() override;
  void append(std::string data, AppendCallback done) override {
    std::vector<std::string> batch;
    batch.push_back(std::move(data));
    append_batch(std::move(batch), std::move(done));
  }
  void append_batch(std::vector<std::string> data, AppendCallback done) override;
  Result<AppendResult> append_sync(std::string data) override;
  Result<CommittedEntry> get(std::uint64_t index) override;
  Result<raft::EntryBatch> read(std::uint64_t from_index, std::uint64_t max_bytes) override;
  std::uint64_t wait_for_commit(std::uint64_t after_index,
                                std::chrono::milliseconds timeout) override {
    return commits_.wait(after_index, timeout);
  }
  void on_soft_state_change(SoftStateObserver observer) override {
    run_on_consensus([&] { soft_observers_.push_back(std::move(observer)); });
  }
  void on_commit(CommitObserver observer) override {
    run_on_consensus([&] { commit_observers_.push_back(std::move(observer)); });
  }
  Status transfer_leadership(raft::NodeId target, std::chrono::milliseconds timeout) override;
  Status add_learner(raft::NodeId id, std::string address,
                     std::chrono::milliseconds timeout) override;
  Status promote(raft::NodeId id, std::chrono::milliseconds timeout) override;
  Status remove_member(raft::NodeId id, std::chrono::milliseconds timeout) override;
  LedgerStatus status() override;
  Result<std::uint64_t> run_retention() override;
  const LedgerOptions& options() const override { return options_; }
  asio::io_context* consensus_context() override { return &ctx_; }
  std::uint16_t peer_port() const override { return transport_ ? transport_->listen_port() : 0; }
  GroupCommitCounters group_commit_counters() const override;

 private:
  struct IncomingAppend {
    std::vector<std::string> data;
    AppendCallback done;
  };
  struct TransferWaiter {
    raft::NodeId target;
    Clock::time_point deadline;
    std::promise<Status> result;
  };

  // Runs `fn` on the consensus thread and waits for it (never call from the consensus thread).
  template <typename Fn>
  void run_on_consensus(Fn&& fn) {
    if (std::this_thread::get_id() == thread_.get_id()) {
      fn();
      return;
    }
    std::promise<void> done;
    asio::post(ctx_, [&] {
      fn();
      done.set_value();
    });
    done.get_future().wait();
  }

  Error not_leader_error() const;
  Status membership_change(std::function<Status()> change, std::chrono::milliseconds timeout);
  void schedule_tick();
  void on_tick();
  void process_incoming();
  void drain();
  void on_persist_done(const Status& status, std::vector<raft::Message> after,
                       std::uint64_t persist_index, std::uint64_t persist_term,
                       std::optional<std::uint64_t> snapshot_index);
  void handle_soft_state(const raft::SoftState& soft);
  void handle_commit(std::uint64_t commit);
  void check_transfer_waiters();
  void fail_replica(const Error& error);
  void stop_taking_part(const Error& error);
  // True (and the member stopped) once a read has found a damaged entry in the log.
  bool stop_if_damaged();
  void maintenance_loop();
  LedgerStatus build_status() const;

  LedgerOptions options_;
  SnapshotHooks hooks_;
  asio::io_context ctx_;
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> work_;
  asio::steady_timer ticker_;
  std::thread thread_;
  std::thread maintenance_thread_;
  std::mutex maintenance_mu_;
  std::condition_variable maintenance_cv_;
  std::mutex retention_mu_;  // one retention run at a time
  std::mt19937_64 random_;

  std::unique_ptr<log::SegmentedLog> log_;
  std::unique_ptr<log::GroupCommitWriter> writer_;
  std::unique_ptr<raft::RaftCore> core_;
  std::unique_ptr<transport::PeerTransport> transport_;

  std::mutex incoming_mu_;
  std::vector<IncomingAppend> incoming_appends_;
  std::vector<raft::Message> incoming_messages_;
  bool incoming_posted_ = false;
  std::atomic<std::uint32_t> outstanding_{0};
  std::atomic<bool> stopped_{false};
  std::atomic<bool> failed_{false};
  std::atomic<bool> persist_failed_{false};  // set on the writer thread by a failed persist
  std::once_flag stop_once_;

  // Consensus-thread state.
  PendingAppends pending_;
  CommitNotifier commits_;
  std::uint64_t applied_commit_ = 0;
  raft::SoftState soft_;
  Clock::time_point last_heard_from_leader_{};
  std::vector<SoftStateObserver> soft_observers_;
  std::vector<CommitObserver> commit_observers_;
  std::vector<std::unique_ptr<TransferWaiter>> transfer_waiters_;
  std::uint64_t leader_changes_ = 0;
  std::uint64_t elections_ = 0;
};

Status LedgerServerImpl::init() {
  std::error_code ec;
  std::filesystem::create_directories(options_.data_dir, ec);
  if (ec) {
    return make_error(ErrorCode::kIo,
                      "cannot create data directory '" + options_.data_dir + "': " + ec.message());
  }
  log::Options log_options;
  log_options.dir = options_.data_dir;
  log_options.segment_bytes = options_.segment_bytes;
  log_options.preallocate_bytes = options_.preallocate_bytes;
  log_options.page_cache_bytes = options_.page_cache_bytes;
  log_options.on_warning = [](const std::string& w) { spdlog::warn("ledger log: {}", w); };
  auto opened = log::SegmentedLog::open(std::move(log_options));
  if (!opened.ok()) return opened.error();
  log_ = std::move(opened->log);
  for (const auto& c : opened->report.corruptions) {
    spdlog::error(
        "ledger log: corruption in {} at offset {} (index {}): {}; entries from index {} are not "
        "served and will be re-fetched from the leader; this member neither votes nor campaigns "
        "until then",
        c.file, c.offset, c.index, c.reason, c.index);
  }

  if (log_->snapshot_meta().index > 0 && hooks_.load) {
    auto snapshot = log_->snapshot();
    if (!snapshot.ok()) return snapshot.error();
    hooks_.load(snapshot->meta.index, snapshot->data);
  }

  raft::InitialState initial;
  initial.hard_state = log_->hard_state();
  initial.bootstrap = options_.initial_membership;
  if (options_.joining) {
    // Outside the membership until the leader's configuration (with this member as a learner)
    // arrives, so it can never campaign with a made-up configuration.
    std::erase_if(initial.bootstrap.members,
                  [&](const raft::Member& m) { return m.id == options_.self_id; });
  }
  initial.repair_until = log_->repair_until();
  for (const auto& raw : log_->config_entries()) {
    auto membership = raft::decode_membership(raw.data);
    if (!membership.ok()) {
      return make_error(ErrorCode::kCorruption,
                        "config entry at index " + std::to_string(raw.index) + " in " +
                            options_.data_dir + " is unreadable: " + membership.error().message);
    }
    initial.configs.push_back(raft::ConfigEntry{raw.index, std::move(membership).value()});
  }

  raft::Config config;
  config.id = options_.self_id;
  config.election_timeout_min_ticks = ticks_for(options_.election_timeout_min_ms, options_.tick_ms);
  config.election_timeout_max_ticks = ticks_for(options_.election_timeout_max_ms, options_.tick_ms);
  config.heartbeat_interval_ticks =
      std::max(1, ticks_for(options_.heartbeat_interval_ms, options_.tick_ms));
  config.preferred_leader = options_.preferred_leader;
  config.max_inflight_messages = options_.max_inflight_appends;
  config.max_partial_inflight_messages = options_.max_partial_inflight_appends;
  config.random = [this] { return random_(); };
  auto core = raft::RaftCore::create(config, *log_, std::move(initial));
  if (!core.ok()) return core.error();
  core_ = std::move(core).value();
  soft_ = core_->soft_state();

  log::GroupCommitOptions writer_options;
  writer_options.flush_mode = options_.flush_mode;
  writer_options.async_flush_interval_ms = options_.flush_interval_ms;
  writer_ = std::make_unique<log::GroupCommitWriter>(log_.get(), writer_options);

  transport::PeerTransportOptions transport_options;
  transport_options.group = options_.group;
  transport_options.self_id = options_.self_id;
  transport_options.listen_host = host_of(options_.self_peer_address);
  transport_options.listen_port = port_of(options_.self_peer_address);
  transport_options.secret = options_.group_secret;
  transport_options.io_context = &ctx_;
  transport_ = std::make_unique<transport::PeerTransport>(
      transport_options, [this](raft::Message&& message) {
        bool post = false;
        {
          std::lock_guard<std::mutex> lock(incoming_mu_);
          incoming_messages_.push_back(std::move(message));
          post = !incoming_posted_;
          incoming_posted_ = true;
        }
        if (post) asio::post(ctx_, [this] { process_incoming(); });
      });
  Status started = transport_->start(core_->membership());
  if (!started.ok()) return started;

  work_.emplace(ctx_.get_executor());
  thread_ = named_thread("ledger-raft", [this] { ctx_.run(); });
  maintenance_thread_ = named_thread("ledger-maint", [this] { maintenance_loop(); });
  asio::post(ctx_, [this] {
    schedule_tick();
    drain();
  });
  spdlog::info("ledger {} member {} started: peers {} data {} flush {} last index {}",
               options_.group, options_.self_name, options_.peers, options_.data_dir,
               flush_mode_name(options_.flush_mode), log_->last_index());
  return Status();
}

void LedgerServerImpl::stop() {
  std::call_once(stop_once_, [this] {
    stopped_ = true;
    if (thread_.joinable()) {
      asio::post(ctx_, [this] {
        ticker_.cancel();
        pending_.fail_all(make_error(ErrorCode::kStopped, "ledger server stopped"));
        for (auto& w : transfer_waiters_) {
          w->result.set_value(make_error(ErrorCode::kStopped, "ledger server stopped"));
        }
        transfer_waiters_.clear();
      });
    }
    {
      std::lock_guard<std::mutex> lock(maintenance_mu_);
      maintenance_cv_.notify_all();
    }
    if (maintenance_thread_.joinable()) maintenance_thread_.join();
    if (transport_) transport_->stop();
    if (writer_) writer_->stop();  // completes queued persists; their callbacks post to ctx_
    work_.reset();
    if (thread_.joinable()) thread_.join();
    commits_.stop();
    // Appends that raced with shutdown and never reached the consensus thread.
    std::vector<IncomingAppend> leftover;
    {
      std::lock_guard<std::mutex> lock(incoming_mu_);
      leftover.swap(incoming_appends_);
    }
    for (auto& a : leftover) a.done(make_error(ErrorCode::kStopped, "ledger server stopped"));
  });
}

Error LedgerServerImpl::not_leader_error() const {
  std::string message =
      "member " + options_.self_name + " is not the leader of group " + options_.group;
  if (soft_.leader != raft::kNoNode) {
    const raft::Member* m = core_->membership().find(soft_.leader);
    message += "; leader is " + raft::node_name(soft_.leader) + (m ? " at " + m->address : "");
  } else {
    message += "; no leader is known yet";
  }
  return make_error(ErrorCode::kNotLeader, message);
}

void LedgerServerImpl::append_batch(std::vector<std::string> data, AppendCallback done) {
  if (stopped_ || failed_) {
    done(make_error(ErrorCode::kStopped, "ledger server is not running"));
    return;
  }
  if (data.empty()) {
    done(make_error(ErrorCode::kInvalidArgument, "append of an empty batch"));
    return;
  }
  if (outstanding_.fetch_add(1) >= options_.max_pending_appends) {
    outstanding_.fetch_sub(1);
    done(make_error(ErrorCode::kOverloaded, "more than maxPendingAppends = " +
                                                std::to_string(options_.max_pending_appends) +
                                                " appends outstanding"));
    return;
  }
  AppendCallback wrapped = [this, done = std::move(done)](Result<AppendResult> r) {
    outstanding_.fetch_sub(1);
    done(std::move(r));
  };
  bool post = false;
  {
    std::lock_guard<std::mutex> lock(incoming_mu_);
    incoming_appends_.push_back(IncomingAppend{std::move(data), std::move(wrapped)});
    post = !incoming_posted_;
    incoming_posted_ = true;
  }
  if (post) asio::post(ctx_, [this] { process_incoming(); });
}

Result<AppendResult> LedgerServerImpl::append_sync(std::string data) {
  std::promise<Result<AppendResult>> promise;
  auto future = promise.get_future();
  append(std::move(data), [&promise](Result<AppendResult> r) { promise.set_value(std::move(r)); });
  return future.get();
}

void LedgerServerImpl::process_incoming() {
  std::vector<IncomingAppend> appends;
  std::vector<raft::Message> messages;
  {
    std::lock_guard<std::mutex> lock(incoming_mu_);
    appends.swap(incoming_appends_);
    messages.swap(incoming_messages_);
    incoming_posted_ = false;
  }
  if (stopped_ || failed_) {
    for (auto& a : appends) a.done(make_error(ErrorCode::kStopped, "ledger server stopped"));
    return;
  }
  for (auto& m : messages) {
    if (m.from == soft_.leader && m.term == soft_.term) last_heard_from_leader_ = Clock::now();
    Status s = core_->step(m);
    if (!s.ok()) {
      spdlog::warn("ledger {}: rejected {} from {}: {}", options_.group,
                   raft::message_type_name(m.type), raft::node_name(m.from), s.error().message);
    }
  }
  auto deadline = Clock::now() + std::chrono::milliseconds(options_.append_timeout_ms);
  for (auto& a : appends) {
    std::size_t count = a.data.size();
    auto proposed = count == 1 ? core_->propose(std::move(a.data.front()))
                               : core_->propose_batch(std::move(a.data));
    if (!proposed.ok()) {
      if (proposed.error().code == ErrorCode::kNotLeader) {
        a.done(not_leader_error());
      } else {
        a.done(proposed.error());
      }
      continue;
    }
    pending_.add(*proposed, *proposed + count - 1, core_->soft_state().term, deadline,
                 std::move(a.done));
  }
  drain();
}

void LedgerServerImpl::schedule_tick() {
  ticker_.expires_after(std::chrono::milliseconds(options_.tick_ms));
  ticker_.async_wait([this](const std::error_code& ec) {
    if (ec || stopped_) return;
    on_tick();
    schedule_tick();
  });
}

void LedgerServerImpl::on_tick() {
  if (failed_ || stop_if_damaged()) return;
  core_->tick();
  pending_.expire(Clock::now());
  check_transfer_waiters();
  drain();
}

void LedgerServerImpl::drain() {
  while (!failed_ && core_->has_ready()) {
    raft::Ready r = core_->ready();
    if (!r.messages.empty()) transport_->send(r.messages);
    if (r.soft_state) handle_soft_state(*r.soft_state);
    if (r.membership) {
      transport_->update_membership(*r.membership);
      spdlog::info("ledger {}: membership is now {}", options_.group,
                   raft::membership_to_peers(*r.membership));
    }
    if (r.commit > applied_commit_) handle_commit(r.commit);

    bool persist_work = r.snapshot.has_value() || !r.entries.empty() || r.hard_state.has_value();
    if (!persist_work && r.messages_after_persist.empty()) {
      if (r.persist_index != 0) core_->on_persisted(r.persist_index, r.persist_term);
      continue;
    }
    log::PersistRequest request;
    std::optional<std::uint64_t> snapshot_index;
    if (r.snapshot) snapshot_index = r.snapshot->meta.index;
    request.snapshot = std::move(r.snapshot);
    request.entries = std::move(r.entries);
    request.hard_state = r.hard_state;
    // Always through the writer, even with nothing to write: acknowledgements must not overtake
    // the persistence of earlier Readys still in the writer's queue.
    writer_->submit(std::move(request), [this, after = std::move(r.messages_after_persist),
                                         pi = r.persist_index, pt = r.persist_term,
                                         snapshot_index](const Status& status, std::uint64_t,
                                                         std::uint64_t) mutable {
      // A follower's acknowledgements leave from the writer thread as soon as the fsync is done:
      // one thread hand-off fewer on every commit's critical path. The writer completes requests
      // in submission order, so they still never overtake the persistence of earlier Readys;
      // Raft tolerates their reordering against messages the consensus thread sends meanwhile.
      // After a snapshot they wait for the application to load it (on the consensus thread).
      // Once any persist has failed, none is acknowledged from here again: the consensus thread
      // decides what the failure means.
      if (!status.ok()) persist_failed_ = true;
      if (status.ok() && !persist_failed_ && !snapshot_index && !after.empty() && !stopped_ &&
          !failed_) {
        transport_->send(after);
        after.clear();
      }
      asio::post(ctx_, [this, status, after = std::move(after), pi, pt, snapshot_index]() mutable {
        on_persist_done(status, std::move(after), pi, pt, snapshot_index);
      });
    });
  }
}

void LedgerServerImpl::on_persist_done(const Status& status, std::vector<raft::Message> after,
                                       std::uint64_t persist_index, std::uint64_t persist_term,
                                       std::optional<std::uint64_t> snapshot_index) {
  if (failed_) return;
  if (!status.ok()) {
    if (status.error().code == ErrorCode::kStopped) return;
    fail_replica(status.error());
    return;
  }
  if (snapshot_index && hooks_.load) {
    auto snapshot = log_->snapshot();
    if (snapshot.ok()) hooks_.load(snapshot->meta.index, snapshot->data);
  }
  if (!after.empty() && !stopped_) transport_->send(after);
  core_->on_persisted(persist_index, persist_term);
  if (stop_if_damaged()) return;
  if (log_->repair_until() != 0 && core_->status().repair_until == 0) {
    Status cleared = log_->set_repair_until(0);
    if (cleared.ok()) {
      spdlog::info("ledger {}: member {} repaired its log from the leader; voting again",
                   options_.group, options_.self_name);
    }
  }
  drain();
}

void LedgerServerImpl::fail_replica(const Error& error) {
  spdlog::critical(
      "ledger {}: member {} cannot persist its log ({}); it stops taking part in the group. "
      "Fix the cause and restart it: the log on disk is consistent.",
      options_.group, options_.self_name, error.to_string());
  ErrorCode code = error.code == ErrorCode::kDiskFull ? ErrorCode::kDiskFull : ErrorCode::kStopped;
  stop_taking_part(make_error(code, error.message));
}

void LedgerServerImpl::stop_taking_part(const Error& error) {
  failed_ = true;  // no more ticks, steps or persists: it neither votes nor campaigns
  pending_.fail_all(error);
  commits_.stop();
}

// A read found a damaged entry while running (log RECOVERY 4). The member may have lost an entry
// it acknowledged, so it must not help elect a leader until it has re-fetched the damaged suffix.
// The consensus core takes repair state only at start, so the member stops taking part; the log
// records the damage (meta damaged_index, at the next sync or on close) and the restart
// quarantines the suffix and starts in repair mode (no vote until re-fetched from a leader).
bool LedgerServerImpl::stop_if_damaged() {
  std::uint64_t damaged = log_->damaged_from();
  if (damaged == 0) return false;
  spdlog::critical(
      "ledger {}: member {} found a damaged entry at index {} of its log in {}; it stops voting "
      "and taking part in the group. Restart it: the restart moves the damaged suffix to "
      "quarantine/ and the member votes again only after re-fetching it from the leader.",
      options_.group, options_.self_name, damaged, options_.data_dir);
  stop_taking_part(make_error(
      ErrorCode::kCorruption,
      "log damaged at index " + std::to_string(damaged) + "; restart the member to repair it"));
  return true;
}

void LedgerServerImpl::handle_soft_state(const raft::SoftState& soft) {
  raft::SoftState previous = soft_;
  soft_ = soft;
  if (soft.leader != previous.leader) {
    ++leader_changes_;
    if (soft.leader != raft::kNoNode) last_heard_from_leader_ = Clock::now();
  }
  if (soft.role == raft::Role::kCandidate && previous.role != raft::Role::kCandidate) ++elections_;
  if (soft.role != previous.role || soft.leader != previous.leader) {
    spdlog::info("ledger {}: member {} is {} in term {}, leader {}", options_.group,
                 options_.self_name, raft::role_name(soft.role), soft.term,
                 raft::node_name(soft.leader));
  }
  if (previous.role == raft::Role::kLeader && soft.role != raft::Role::kLeader) {
    pending_.fail_all(not_leader_error());
  }
  for (auto& observer : soft_observers_) observer(soft);
  check_transfer_waiters();
}

void LedgerServerImpl::handle_commit(std::uint64_t commit) {
  applied_commit_ = commit;
  pending_.complete_up_to(commit, [this](std::uint64_t index) { return log_->term(index); });
  commits_.publish(commit);
  for (auto& observer : commit_observers_) observer(commit);
}

void LedgerServerImpl::check_transfer_waiters() {
  auto now = Clock::now();
  for (auto it = transfer_waiters_.begin(); it != transfer_waiters_.end();) {
    TransferWaiter& w = **it;
    bool moved = soft_.leader != raft::kNoNode && soft_.leader != options_.self_id &&
                 (w.target == raft::kNoNode || soft_.leader == w.target);
    if (moved) {
      w.result.set_value(Status());
    } else if (now >= w.deadline) {
      w.result.set_value(make_error(
          ErrorCode::kTimeout,
          "leadership did not move to " + raft::node_name(w.target) + " before the deadline"));
    } else {
      ++it;
      continue;
    }
    it = transfer_waiters_.erase(it);
  }
}

void LedgerServerImpl::maintenance_loop() {
  bool retention_on = options_.retention_hours > 0 || options_.retention_bytes > 0;
  std::unique_lock<std::mutex> lock(maintenance_mu_);
  while (!stopped_) {
    maintenance_cv_.wait_for(lock, std::chrono::milliseconds(options_.retention_check_interval_ms),
                             [this] { return stopped_.load(); });
    if (stopped_ || failed_ || !retention_on) continue;
    lock.unlock();
    auto deleted = run_retention();
    if (!deleted.ok() && deleted.error().code != ErrorCode::kBusy) {
      spdlog::warn("ledger {}: retention skipped: {}", options_.group, deleted.error().to_string());
    }
    lock.lock();
  }
}

Result<std::uint64_t> LedgerServerImpl::run_retention() {
  if (stopped_ || failed_) return make_error(ErrorCode::kStopped, "ledger server is not running");
  std::lock_guard<std::mutex> guard(retention_mu_);
  std::uint64_t commit = 0;
  raft::Membership membership;
  bool change_pending = false;
  run_on_consensus([&] {
    commit = applied_commit_;
    auto core = core_->status();
    membership = core.membership;
    change_pending = core.membership_change_pending;
  });
  if (change_pending) {
    return make_error(ErrorCode::kBusy, "a membership change is not committed yet");
  }
  if (commit > log_->snapshot_meta().index) {
    auto term = log_->term(commit);
    if (!term.ok()) return term.error();
    raft::Snapshot snapshot;
    snapshot.meta.index = commit;
    snapshot.meta.term = *term;
    snapshot.meta.membership = std::move(membership);
    if (hooks_.save) snapshot.data = hooks_.save(commit);
    Status saved = log_->save_snapshot(snapshot);
    if (!saved.ok()) return saved.error();
  }
  log::RetentionPolicy policy;
  policy.max_age_ms = static_cast<std::int64_t>(options_.retention_hours) * 3600 * 1000;
  policy.max_total_bytes = options_.retention_bytes;
  auto result = log_->apply_retention(policy, commit);
  if (!result.ok()) return result.error();
  if (result->segments_deleted > 0) {
    spdlog::info("ledger {}: retention deleted {} segments ({} bytes); log now starts at index {}",
                 options_.group, result->segments_deleted, result->bytes_deleted,
                 log_->first_index());
  }
  return result->segments_deleted;
}

Result<CommittedEntry> LedgerServerImpl::get(std::uint64_t index) {
  std::uint64_t commit = commits_.current();
  if (index == 0 || index > commit) {
    return make_error(ErrorCode::kOutOfRange, "index " + std::to_string(index) +
                                                  " is not committed (commit index " +
                                                  std::to_string(commit) + ")");
  }
  auto entry = log_->read(index);
  if (!entry.ok()) return entry.error();
  return CommittedEntry{entry->index, entry->term, entry->type, std::move(entry->data).release()};
}

Result<raft::EntryBatch> LedgerServerImpl::read(std::uint64_t from_index, std::uint64_t max_bytes) {
  std::uint64_t commit = commits_.current();
  if (from_index == 0 || from_index > commit) return raft::EntryBatch{};
  return log_->read_batch(from_index, commit + 1, max_bytes);
}

Status LedgerServerImpl::transfer_leadership(raft::NodeId target,
                                             std::chrono::milliseconds timeout) {
  if (stopped_ || failed_) return make_error(ErrorCode::kStopped, "ledger server is not running");
  std::future<Status> result;
  Status immediate;
  run_on_consensus([&] {
    raft::NodeId chosen = target;
    if (chosen == raft::kNoNode) {
      // Any caught-up voter: the one with the highest match index.
      std::uint64_t best = 0;
      for (const auto& peer : core_->status().peers) {
        if (peer.voter && peer.match_index >= best) {
          best = peer.match_index;
          chosen = peer.id;
        }
      }
      if (chosen == raft::kNoNode) {
        immediate = core_->soft_state().role == raft::Role::kLeader
                        ? Status(make_error(ErrorCode::kInvalidArgument,
                                            "no other voter to transfer leadership to"))
                        : Status(not_leader_error());
        return;
      }
    }
    Status s = core_->transfer_leadership(chosen);
    if (!s.ok()) {
      immediate = s.error().code == ErrorCode::kNotLeader ? Status(not_leader_error()) : s;
      return;
    }
    auto waiter = std::make_unique<TransferWaiter>();
    waiter->target = chosen;
    waiter->deadline = Clock::now() + timeout;
    result = waiter->result.get_future();
    transfer_waiters_.push_back(std::move(waiter));
    drain();
  });
  if (!immediate.ok()) return immediate;
  if (!result.valid()) return immediate;
  return result.get();
}

Status LedgerServerImpl::membership_change(std::function<Status()> change,
                                           std::chrono::milliseconds timeout) {
  if (stopped_ || failed_) return make_error(ErrorCode::kStopped, "ledger server is not running");
  std::promise<Result<AppendResult>> promise;
  auto future = promise.get_future();
  Status immediate;
  run_on_consensus([&] {
    Status s = change();
    if (!s.ok()) {
      immediate = s.error().code == ErrorCode::kNotLeader ? Status(not_leader_error()) : s;
      return;
    }
    std::uint64_t index = core_->last_index();
    pending_.add(index, index, core_->soft_state().term, Clock::now() + timeout,
                 [&promise](Result<AppendResult> r) { promise.set_value(std::move(r)); });
    drain();
  });
  if (!immediate.ok()) return immediate;
  auto r = future.get();
  if (!r.ok()) return r.error();
  return Status();
}

Status LedgerServerImpl::add_learner(raft::NodeId id, std::string address,
                                     std::chrono::milliseconds timeout) {
  return membership_change([&] { return core_->add_learner(id, address); }, timeout);
}

Status LedgerServerImpl::promote(raft::NodeId id, std::chrono::milliseconds timeout) {
  return membership_change([&] { return core_->promote(id); }, timeout);
}

Status LedgerServerImpl::remove_member(raft::NodeId id, std::chrono::milliseconds timeout) {
  return membership_change([&] { return core_->remove_member(id); }, timeout);
}

LedgerStatus LedgerServerImpl::build_status() const {
  LedgerStatus s;
  s.group = options_.group;
  s.self_id = options_.self_id;
  raft::CoreStatus core = core_->status();
  s.role = core.soft.role;
  s.term = core.soft.term;
  s.leader_id = core.soft.leader;
  s.commit_index = applied_commit_;
  s.last_index = core.last_index;
  s.first_index = core.first_index;
  s.term_start_index = core.term_start_index;
  s.flush_mode = options_.flush_mode;
  s.membership_change_pending = core.membership_change_pending;
  s.transfer_target = core.transfer_target;
  s.repair_until = core.repair_until;
  s.log_open = !failed_;
  s.pending_appends = static_cast<std::uint32_t>(pending_.size());
  s.disk_used_bytes = log_->total_bytes();
  s.learner = !core.membership.is_voter(options_.self_id);
  s.leader_changes = leader_changes_;
  s.elections = elections_;
  bool leading = core.soft.role == raft::Role::kLeader;
  auto heard = Clock::now() - last_heard_from_leader_;
  auto alive_window = std::chrono::milliseconds(options_.election_timeout_max_ms);
  s.leader_alive =
      !failed_ && (leading || (core.soft.leader != raft::kNoNode && heard < alive_window));
  if (const raft::Member* leader = core.membership.find(core.soft.leader)) {
    s.leader_address = leader->address;
  }
  for (const auto& member : core.membership.members) {
    MemberView view;
    view.id = member.id;
    view.address = member.address;
    view.voter = member.voter;
    if (member.id == options_.self_id) {
      view.reachable = true;
      if (leading) {
        view.match_index = core.last_index;
        view.lag = 0;
      }
    }
    for (const auto& peer : core.peers) {
      if (peer.id != member.id) continue;
      view.match_index = peer.match_index;
      view.lag = core.last_index > peer.match_index ? core.last_index - peer.match_index : 0;
      view.reachable = peer.recently_active;
    }
    if (!leading && member.id != options_.self_id) {
      auto stats = transport_->peer_stats(member.id);
      view.reachable = stats && stats->connected;
    }
    s.members.push_back(std::move(view));
  }
  return s;
}

LedgerStatus LedgerServerImpl::status() {
  if (stopped_) {
    LedgerStatus s;
    s.group = options_.group;
    s.self_id = options_.self_id;
    return s;
  }
  LedgerStatus s;
  run_on_consensus([&] { s = build_status(); });
  return s;
}

GroupCommitCounters LedgerServerImpl::group_commit_counters() const {
  GroupCommitCounters c;
  if (!writer_) return c;
  auto stats = writer_->stats();
  c.fsyncs = stats.fsyncs;
  c.batches = stats.batches;
  c.entries = stats.entries;
  c.fsync_latency_total_us = stats.fsync_latency_total_us;
  c.recent_fsync_latency_us = std::move(stats.fsync_latency_samples_us);
  return c;
}

}  // namespace

Result<std::unique_ptr<LedgerServer>> LedgerServer::start(LedgerOptions options,
                                                          SnapshotHooks hooks) {
  auto server = std::make_unique<LedgerServerImpl>(std::move(options), std::move(hooks));
  Status s = server->init();
  if (!s.ok()) {
    server->stop();
    return s.error();
  }
  return std::unique_ptr<LedgerServer>(std::move(server));
}

}  // namespace dledger::ledger
