#include "broker/ledger/log/group_commit_writer.h"

#include <chrono>
#include <future>

#include "broker/base/thread_name.h"

namespace dledger::log {

namespace {

void push_sample(std::vector<std::uint64_t>* samples, std::uint64_t value, std::size_t limit) {
  if (limit == 0) return;
  if (samples->size() >= limit) samples->erase(samples->begin());
  samples->push_back(value);
}

}  // namespace

GroupCommitWriter::GroupCommitWriter(SegmentedLog* log, GroupCommitOptions options)
    : log_(log), options_(options) {
  if (options_.max_batch_requests == 0) options_.max_batch_requests = 1;
  if (options_.async_flush_interval_ms == 0) options_.async_flush_interval_ms = 1;
  thread_ = named_thread("ledger-disk", [this] { run(); });
}

GroupCommitWriter::~GroupCommitWriter() {
  stop();
}

void GroupCommitWriter::submit(PersistRequest request, PersistCallback done) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!stopping_) {
      queue_.push_back(Pending{std::move(request), std::move(done)});
      cv_.notify_one();
      return;
    }
  }
  if (done) {
    done(make_error(ErrorCode::kStopped, "group commit writer for " + log_->dir() + " stopped"),
         log_->last_index(), log_->last_term());
  }
}

void GroupCommitWriter::submit_append(std::vector<raft::Entry> entries, PersistCallback done) {
  PersistRequest r;
  r.entries = std::move(entries);
  submit(std::move(r), std::move(done));
}

void GroupCommitWriter::submit_truncate(std::uint64_t from_index, PersistCallback done) {
  PersistRequest r;
  r.truncate_from = from_index;
  submit(std::move(r), std::move(done));
}

void GroupCommitWriter::submit_snapshot(raft::Snapshot snapshot, PersistCallback done) {
  PersistRequest r;
  r.snapshot = std::move(snapshot);
  submit(std::move(r), std::move(done));
}

Status GroupCommitWriter::flush() {
  auto promise = std::make_shared<std::promise<Status>>();
  auto future = promise->get_future();
  PersistRequest r;
  r.force_sync = true;
  submit(std::move(r),
         [promise](const Status& s, std::uint64_t, std::uint64_t) { promise->set_value(s); });
  return future.get();
}

void GroupCommitWriter::stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
    cv_.notify_all();
  }
  if (thread_.joinable()) thread_.join();
}

GroupCommitStats GroupCommitWriter::stats() const {
  std::lock_guard<std::mutex> lock(mu_);
  return stats_;
}

bool GroupCommitWriter::is_plain_append(const PersistRequest& request) {
  return !request.entries.empty() && !request.snapshot && !request.truncate_from &&
         !request.hard_state;
}

Status GroupCommitWriter::apply(const PersistRequest& request) {
  if (request.snapshot) {
    if (Status s = log_->install_snapshot(*request.snapshot); !s) return s;
  }
  if (request.truncate_from) {
    if (Status s = log_->truncate_suffix(*request.truncate_from); !s) return s;
  }
  if (!request.entries.empty()) {
    if (Status s = log_->truncate_and_append(request.entries); !s) return s;
  }
  if (request.hard_state) {
    if (Status s = log_->set_hard_state(*request.hard_state); !s) return s;
  }
  return Status();
}

Status GroupCommitWriter::sync_and_measure() {
  auto start = std::chrono::steady_clock::now();
  Status s = log_->sync();
  auto us = std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() -
                                                                  start)
                .count();
  std::lock_guard<std::mutex> lock(mu_);
  stats_.fsyncs += 1;
  stats_.fsync_latency_total_us += static_cast<std::uint64_t>(us);
  push_sample(&stats_.fsync_latency_samples_us, static_cast<std::uint64_t>(us),
              options_.stats_samples);
  return s;
}

void GroupCommitWriter::run() {
  using Clock = std::chrono::steady_clock;
  const bool async = options_.flush_mode == FlushMode::kAsync;
  const auto interval = std::chrono::milliseconds(options_.async_flush_interval_ms);
  Clock::time_point last_sync = Clock::now();
  for (;;) {
    std::vector<Pending> batch;
    bool stopping;
    {
      std::unique_lock<std::mutex> lock(mu_);
      if (async) {
        cv_.wait_until(lock, last_sync + interval, [&] { return stopping_ || !queue_.empty(); });
      } else {
        cv_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
      }
      while (!queue_.empty() && batch.size() < options_.max_batch_requests) {
        batch.push_back(std::move(queue_.front()));
        queue_.pop_front();
      }
      stopping = stopping_ && queue_.empty();
    }

    std::vector<Status> results(batch.size());
    std::vector<std::pair<std::uint64_t, std::uint64_t>> positions(batch.size());
    std::uint64_t entries = 0;
    bool force_sync = false;
    for (const Pending& p : batch) {
      entries += p.request.entries.size();
      force_sync = force_sync || p.request.force_sync;
    }
    for (std::size_t i = 0; i < batch.size();) {
      // A run of plain appends that continue each other becomes ONE log append (one pwrite per
      // segment) instead of one per request.
      std::size_t j = i;
      while (j < batch.size() && is_plain_append(batch[j].request) &&
             (j == i || batch[j].request.entries.front().index ==
                            batch[j - 1].request.entries.back().index + 1)) {
        ++j;
      }
      if (j - i >= 2) {
        std::vector<raft::Entry> combined;
        std::size_t total = 0;
        for (std::size_t k = i; k < j; ++k) total += batch[k].request.entries.size();
        combined.reserve(total);
        for (std::size_t k = i; k < j; ++k) {
          for (const raft::Entry& e : batch[k].request.entries) combined.push_back(e);
        }
        if (log_->truncate_and_append(combined).ok()) {
          for (std::size_t k = i; k < j; ++k) {
            const raft::Entry& last = batch[k].request.entries.back();
            positions[k] = {last.index, last.term};
          }
          i = j;
          continue;
        }
        // The combined append changed nothing (appends roll back): apply one by one so only the
        // faulty request fails.
      }
      results[i] = apply(batch[i].request);
      positions[i] = {log_->last_index(), log_->last_term()};
      ++i;
    }
    bool need_sync = log_->has_unsynced_data() &&
                     (!async || force_sync || stopping || Clock::now() - last_sync >= interval);
    Status sync_status;
    if (need_sync) {
      sync_status = sync_and_measure();
      last_sync = Clock::now();
    } else if (force_sync) {
      sync_status = log_->sync();  // nothing to write: reports the log's health only
    }
    if (!sync_status) {
      for (Status& r : results) {
        if (r) r = sync_status;
      }
    }
    if (!batch.empty()) {
      std::lock_guard<std::mutex> lock(mu_);
      stats_.batches += 1;
      stats_.requests += batch.size();
      stats_.entries += entries;
      for (const Status& r : results) {
        if (!r) stats_.failed_requests += 1;
      }
      push_sample(&stats_.batch_entries_samples, entries, options_.stats_samples);
    }
    for (std::size_t i = 0; i < batch.size(); ++i) {
      if (batch[i].done) {
        if (results[i]) {
          batch[i].done(results[i], positions[i].first, positions[i].second);
        } else {
          batch[i].done(results[i], log_->last_index(), log_->last_term());
        }
      }
    }
    if (stopping) return;
  }
}

}  // namespace dledger::log
