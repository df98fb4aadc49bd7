// Names the calling thread, so that `top -H`, `ps -L`, perf and gdb tell the threads of a
// process apart (a broker runs the consensus thread, the disk writer, the applier, the remoting
// io threads, ... all under one process name).
#pragma once

#include <string>
#include <string_view>
#include <thread>
#include <utility>

namespace dledger {

// Linux keeps at most this many bytes of a thread name; longer names are cut to it.
inline constexpr std::size_t kMaxThreadNameBytes = 15;

// Best effort: a failure is ignored (the name is only a diagnostic).
void set_thread_name(std::string_view name);

// The calling thread's name ("" if it cannot be read).
std::string thread_name();

// A std::thread that names itself `name` before it runs `body`.
template <typename Body>
std::thread named_thread(std::string name, Body&& body) {
  return std::thread([name = std::move(name), body = std::forward<Body>(body)]() mutable {
    set_thread_name(name);
    body();
  });
}

}  // namespace dledger
