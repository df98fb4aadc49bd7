// Standalone driver for the remoting fuzz targets, for compilers without libFuzzer (g++) and for
// short deterministic runs in CI. Linked with one target's LLVMFuzzerTestOneInput:
//
//   <target>_replay [--runs N] [--seed S] [--max-len BYTES] [--max-seconds T] <file|dir>...
//
// 1. Replays every input file (directories: every regular file in them, sorted by name).
// 2. Runs N mutated inputs (default 10000): each starts from a seed input chosen at random and
//    applies 1-8 mutations (bit flip, random byte, interesting big-endian int8/16/32 value
//    — frame lengths and header lengths live there —, insert, erase, duplicate a range,
//    splice with another seed, truncate). The PRNG is std::mt19937_64(S), so a run is
//    reproducible from its command line. --max-seconds (default 0 = no limit) stops the mutation
//    phase early on a slow machine; the number of inputs run is printed either way.
// Exit 0 when every input ran; a target failure (abort, sanitizer report) ends the process. Before
// each mutated input runs, the driver remembers it; a crash writes it to
// ./crash-<target>-<seed>-<iteration> (SIGABRT/SIGSEGV/SIGBUS/SIGFPE handler, and the sanitizer
// death callback when built with sanitizers) and prints its path, so the failure can be replayed
// with `<target>_replay <that file>` or the libFuzzer binary.
#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>
#include <random>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size);
// Provided by the sanitizer runtime when linked (weak: null otherwise).
extern "C" void __sanitizer_set_death_callback(void (*callback)(void)) __attribute__((weak));

#ifndef DLEDGER_FUZZ_TARGET_NAME
#define DLEDGER_FUZZ_TARGET_NAME "fuzz_target"
#endif

namespace {

using Bytes = std::vector<std::uint8_t>;

// The input being run, for the crash handlers (async-signal-safe writes only).
const Bytes* g_current = nullptr;
char g_crash_path[256] = {0};

void write_current_input() {
  if (g_current == nullptr || g_crash_path[0] == '\0') return;
  int fd = ::open(g_crash_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (fd < 0) return;
  std::size_t done = 0;
  while (done < g_current->size()) {
    ssize_t n = ::write(fd, g_current->data() + done, g_current->size() - done);
    if (n <= 0) break;
    done += static_cast<std::size_t>(n);
  }
  ::close(fd);
  const char prefix[] = "\nreplay_driver: failing input written to ";
  [[maybe_unused]] auto a = ::write(2, prefix, sizeof(prefix) - 1);
  [[maybe_unused]] auto b = ::write(2, g_crash_path, std::strlen(g_crash_path));
  [[maybe_unused]] auto c = ::write(2, "\n", 1);
}

void on_fatal_signal(int signal_number) {
  write_current_input();
  ::signal(signal_number, SIG_DFL);
  ::raise(signal_number);
}

void run_one(const Bytes& input, const char* crash_name) {
  g_current = &input;
  std::snprintf(g_crash_path, sizeof(g_crash_path), "%s", crash_name);
  LLVMFuzzerTestOneInput(input.data(), input.size());
  g_current = nullptr;
}

std::vector<std::filesystem::path> input_files(const std::vector<std::string>& args) {
  std::vector<std::filesystem::path> files;
  for (const auto& arg : args) {
    std::filesystem::path p(arg);
    if (std::filesystem::is_directory(p)) {
      std::vector<std::filesystem::path> in_dir;
      for (const auto& entry : std::filesystem::directory_iterator(p)) {
        if (entry.is_regular_file()) in_dir.push_back(entry.path());
      }
      std::sort(in_dir.begin(), in_dir.end());
      files.insert(files.end(), in_dir.begin(), in_dir.end());
    } else {
      files.push_back(p);
    }
  }
  return files;
}

class Mutator {
 public:
  Mutator(std::uint64_t seed, std::size_t max_len) : rng_(seed), max_len_(max_len) {}

  Bytes mutate(const std::vector<Bytes>& seeds) {
    Bytes out = seeds[pick(seeds.size())];
    std::size_t count = 1 + pick(8);
    for (std::size_t i = 0; i < count; ++i) mutate_once(out, seeds);
    if (out.size() > max_len_) out.resize(max_len_);
    return out;
  }

 private:
  std::size_t pick(std::size_t n) { return n == 0 ? 0 : static_cast<std::size_t>(rng_() % n); }

  void put_be(Bytes& out, std::size_t at, std::uint32_t value, std::size_t width) {
    for (std::size_t i = 0; i < width && at + i < out.size(); ++i) {
      out[at + i] = static_cast<std::uint8_t>(value >> (8 * (width - 1 - i)));
    }
  }

  void mutate_once(Bytes& out, const std::vector<Bytes>& seeds) {
    static constexpr std::array<std::uint32_t, 12> kInteresting = {
        0, 1, 0x7f, 0x80, 0xff, 0x7fff, 0x8000, 0xffff, 0x7fffffff, 0x80000000, 0xffffffff, 16};
    switch (pick(9)) {
      case 0:  // flip one bit
        if (!out.empty()) out[pick(out.size())] ^= static_cast<std::uint8_t>(1u << pick(8));
        break;
      case 1:  // random byte
        if (!out.empty()) out[pick(out.size())] = static_cast<std::uint8_t>(rng_());
        break;
      case 2: {  // interesting value, big-endian, width 1/2/4
        if (out.empty()) break;
        std::uint32_t value = kInteresting[pick(kInteresting.size())];
        if (pick(2) == 0) value += static_cast<std::uint32_t>(pick(5)) - 2u;  // nearby values
        put_be(out, pick(out.size()), value, std::size_t{1} << pick(3));
        break;
      }
      case 3: {  // insert random bytes
        std::size_t at = pick(out.size() + 1);
        std::size_t n = 1 + pick(16);
        Bytes extra(n);
        for (auto& b : extra) b = static_cast<std::uint8_t>(rng_());
        out.insert(out.begin() + static_cast<std::ptrdiff_t>(at), extra.begin(), extra.end());
        break;
      }
      case 4: {  // erase a range
        if (out.empty()) break;
        std::size_t at = pick(out.size());
        std::size_t n = 1 + pick(std::min<std::size_t>(32, out.size() - at));
        out.erase(out.begin() + static_cast<std::ptrdiff_t>(at),
                  out.begin() + static_cast<std::ptrdiff_t>(at + n));
        break;
      }
      case 5: {  // duplicate a range
        if (out.empty()) break;
        std::size_t at = pick(out.size());
        std::size_t n = 1 + pick(std::min<std::size_t>(64, out.size() - at));
        Bytes copy(out.begin() + static_cast<std::ptrdiff_t>(at),
                   out.begin() + static_cast<std::ptrdiff_t>(at + n));
        std::size_t to = pick(out.size() + 1);
        out.insert(out.begin() + static_cast<std::ptrdiff_t>(to), copy.begin(), copy.end());
        break;
      }
      case 6: {  // splice: our head, another seed's tail
        const Bytes& other = seeds[pick(seeds.size())];
        std::size_t keep = pick(out.size() + 1);
        std::size_t from = pick(other.size() + 1);
        out.resize(keep);
        out.insert(out.end(), other.begin() + static_cast<std::ptrdiff_t>(from), other.end());
        break;
      }
      case 7:  // truncate
        out.resize(pick(out.size() + 1));
        break;
      default: {  // ASCII digit or quote/brace noise (JSON headers and bodies)
        if (out.empty()) break;
        static constexpr char kChars[] = "0123456789-\"{}[]:,.eE\\ ";
        out[pick(out.size())] = static_cast<std::uint8_t>(kChars[pick(sizeof(kChars) - 1)]);
        break;
      }
    }
  }

  std::mt19937_64 rng_;
  std::size_t max_len_;
};

int usage(const char* message) {
  std::cerr << DLEDGER_FUZZ_TARGET_NAME "_replay: " << message
            << "\nusage: " DLEDGER_FUZZ_TARGET_NAME
               "_replay [--runs N] [--seed S] [--max-len BYTES] [--max-seconds T] <file|dir>...\n";
  return 2;
}

bool parse_number(const char* text, std::uint64_t* out) {
  char* end = nullptr;
  errno = 0;
  unsigned long long value = std::strtoull(text, &end, 10);
  if (errno != 0 || end == text || *end != '\0') return false;
  *out = value;
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  std::uint64_t runs = 10000;
  std::uint64_t seed = 1;
  std::uint64_t max_len = 65536;
  std::uint64_t max_seconds = 0;
  std::vector<std::string> paths;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    std::uint64_t* target = nullptr;
    if (arg == "--runs") target = &runs;
    if (arg == "--seed") target = &seed;
    if (arg == "--max-len") target = &max_len;
    if (arg == "--max-seconds") target = &max_seconds;
    if (target != nullptr) {
      if (i + 1 >= argc || !parse_number(argv[i + 1], target)) {
        return usage((arg + " needs a non-negative integer").c_str());
      }
      ++i;
    } else if (arg.rfind("--", 0) == 0) {
      return usage(("unknown option " + arg).c_str());
    } else {
      paths.push_back(arg);
    }
  }
  if (paths.empty()) return usage("no input files or directories");

  for (int sig : {SIGABRT, SIGSEGV, SIGBUS, SIGFPE, SIGILL}) ::signal(sig, on_fatal_signal);
  if (__sanitizer_set_death_callback != nullptr) {
    __sanitizer_set_death_callback(write_current_input);
  }

  std::vector<Bytes> seeds;
  for (const auto& file : input_files(paths)) {
    std::ifstream in(file, std::ios::binary);
    if (!in) {
      std::cerr << DLEDGER_FUZZ_TARGET_NAME "_replay: cannot read " << file << "\n";
      return 1;
    }
    Bytes data((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    std::string crash_name = "crash-" DLEDGER_FUZZ_TARGET_NAME "-seed-" + file.filename().string();
    run_one(data, crash_name.c_str());
    seeds.push_back(std::move(data));
  }
  if (seeds.empty()) return usage("the given paths hold no input files");
  std::cout << DLEDGER_FUZZ_TARGET_NAME "_replay: " << seeds.size() << " seed inputs ran\n";

  Mutator mutator(seed, static_cast<std::size_t>(max_len));
  auto start = std::chrono::steady_clock::now();
  std::uint64_t done = 0;
  for (; done < runs; ++done) {
    if (max_seconds > 0 && done % 256 == 0 &&
        std::chrono::steady_clock::now() - start > std::chrono::seconds(max_seconds)) {
      break;
    }
    Bytes input = mutator.mutate(seeds);
    std::string crash_name =
        "crash-" DLEDGER_FUZZ_TARGET_NAME "-" + std::to_string(seed) + "-" + std::to_string(done);
    run_one(input, crash_name.c_str());
  }
  std::cout << DLEDGER_FUZZ_TARGET_NAME "_replay: " << done << " mutated inputs ran (seed " << seed
            << ", asked " << runs << ")\n";
  return 0;
}
