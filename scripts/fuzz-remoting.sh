#!/usr/bin/env bash
# Builds the remoting libFuzzer targets with clang (ASan + UBSan) and runs each for N seconds.
#   scripts/fuzz-remoting.sh            20 seconds per target
#   scripts/fuzz-remoting.sh 300        5 minutes per target
# Build folder: build/fuzz (override with DLEDGER_FUZZ_BUILD_DIR). New corpus entries go to
# build/fuzz/corpus/<target>; the checked-in seeds (tests/remoting/fuzz/corpus/<target>) are read
# only. A crash stops the script and leaves its input in build/fuzz/artifacts/; replay it with
#   build/fuzz/tests/remoting/fuzz/<target> <artifact file>
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
seconds="${1:-20}"
build="${DLEDGER_FUZZ_BUILD_DIR:-$root/build/fuzz}"
targets=(fuzz_frame fuzz_message fuzz_headers)

bash "$root/scripts/install-deps.sh"

CXX=clang++ cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DDLEDGER_FUZZ=ON -DDLEDGER_SANITIZE=ON -DDLEDGER_WERROR=ON >/dev/null
cmake --build "$build" --target "${targets[@]}" -j"${DLEDGER_JOBS:-2}"

export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
mkdir -p "$build/artifacts"
for target in "${targets[@]}"; do
  corpus="$build/corpus/$target"
  mkdir -p "$corpus"
  echo "fuzz-remoting: $target for ${seconds}s"
  "$build/tests/remoting/fuzz/$target" -max_total_time="$seconds" -max_len=65536 -timeout=10 \
    -rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix="$build/artifacts/$target-" \
    "$corpus" "$root/tests/remoting/fuzz/corpus/$target"
done
echo "fuzz-remoting: all targets ran ${seconds}s without a failure"
