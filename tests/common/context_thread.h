// ContextThread: an asio::io_context run by one thread of its own, standing in for the owner of
// a component started on an external context (PeerTransportOptions::io_context,
// ClientServiceOptions::io_context; in the product, the ledger's consensus thread).
//
// run(fn) runs fn on that thread and waits for it. finish() lets the context run out of work and
// joins the thread: it returns only if nothing left pending work (timers, reads) on the context,
// which is what tests of a clean stop() assert by calling it.
#pragma once

#include <asio.hpp>
#include <functional>
#include <future>
#include <thread>

namespace dledger::testing {

class ContextThread {
 public:
  ContextThread() : thread_([this] { ctx_.run(); }) {}
  ~ContextThread() { finish(); }
  ContextThread(const ContextThread&) = delete;
  ContextThread& operator=(const ContextThread&) = delete;

  asio::io_context& context() { return ctx_; }
  std::thread::id id() const { return thread_.get_id(); }

  void run(const std::function<void()>& fn) {
    std::promise<void> done;
    asio::post(ctx_, [&] {
      fn();
      done.set_value();
    });
    done.get_future().wait();
  }

  void finish() {
    work_.reset();
    if (thread_.joinable()) thread_.join();
  }

 private:
  asio::io_context ctx_;
  asio::executor_work_guard<asio::io_context::executor_type> work_ = asio::make_work_guard(ctx_);
  std::thread thread_;  // last: starts once the context and the work guard exist
};

}  // namespace dledger::testing
