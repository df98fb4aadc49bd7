// Names the calling thread, so that `top -H`, `ps -L`, perf and gdb tell the threads of a
// process apart (a broker runs the consensus thread, the disk writer, the applier, the remoting
// io threads, ... all under one process name).
#pragma once

#include <string>
#include <string_view>

namespace dledger {

// Linux keeps at most this many bytes of a thread name; longer names are cut to it.
inline constexpr std::size_t kMaxThreadNameBytes = 15;

// Best effort: a failure is ignored (the name is only a diagnostic).
void set_thread_name(std::string_view name);

// The calling thread's name ("" if it cannot be read).
std::string thread_name();

}  // namespace dledger
