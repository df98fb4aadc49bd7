#include "broker/base/thread_name.h"

#include <pthread.h>

#include <array>

namespace dledger {

void set_thread_name(std::string_view name) {
  std::string cut(name.substr(0, kMaxThreadNameBytes));
  (void)pthread_setname_np(pthread_self(), cut.c_str());
}

std::string thread_name() {
  std::array<char, kMaxThreadNameBytes + 1> buf{};
  if (pthread_getname_np(pthread_self(), buf.data(), buf.size()) != 0) return {};
  return std::string(buf.data());
}

}  // namespace dledger
