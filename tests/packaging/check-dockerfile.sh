#!/usr/bin/env bash
# Checks the Dockerfile without a Docker engine:
#   tests/packaging/check-dockerfile.sh Dockerfile .dockerignore
# 1. dockerfile-utils lint (from scripts/install-tools.sh): unknown instructions/flags, bad ports.
# 2. The structure docs/packaging.md promises: a build stage on debian:bookworm running
#    scripts/install-deps.sh and the release preset; a runtime stage on debian:bookworm-slim;
#    `broker` and `operator` targets with their programs, running as uid 10001, with OCI labels;
#    a .dockerignore that keeps build/ and .git out of the context.
set -uo pipefail
DOCKERFILE="${1:-Dockerfile}"
IGNORE="${2:-.dockerignore}"
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
TOOLS_DIR="${DLEDGER_TOOLS_DIR:-$ROOT/build/tools}"
bad=0
err() { echo "INVALID $DOCKERFILE: $*" >&2; bad=1; }

lint="$TOOLS_DIR/node_modules/.bin/dockerfile-utils"
if [ -x "$lint" ]; then
  "$lint" lint "$DOCKERFILE" >&2 || err "dockerfile-utils lint reported problems (above)"
else
  err "dockerfile-utils missing ($lint): run scripts/install-tools.sh"
fi

# Joined continuation lines, comments dropped: one instruction per line.
flat="$(sed -e 's/#.*$//' "$DOCKERFILE" | sed -e ':a' -e '/\\$/N; s/\\\n/ /; ta' | tr -s ' ')"
has() { grep -Eq -- "$1" <<<"$flat" || err "$2"; }
stage() {  # stage <name>: the instructions of one stage
  awk -v s="$1" 'toupper($1) == "FROM" { on = (tolower($NF) == s) } on' <<<"$flat"
}

has '^FROM debian:\$\{DEBIAN_RELEASE\} AS build$' "build stage must be FROM debian:\${DEBIAN_RELEASE} AS build"
has '^ARG DEBIAN_RELEASE=bookworm$' "DEBIAN_RELEASE must default to bookworm"
has '^FROM debian:\$\{DEBIAN_RELEASE\}-slim AS runtime$' "runtime stage must be FROM debian:\${DEBIAN_RELEASE}-slim AS runtime"
build="$(stage build)"
grep -q 'RUN scripts/install-deps.sh' <<<"$build" || err "build stage must run scripts/install-deps.sh"
grep -q 'cmake --preset release' <<<"$build" || err "build stage must configure with cmake --preset release"
for target in broker operator; do
  s="$(stage "$target")"
  [ -n "$s" ] || { err "no stage '$target'"; continue; }
  grep -q '^FROM runtime AS' <<<"$s" || err "stage $target must build FROM runtime"
  grep -Eq '^USER 10001(:10001)?$' <<<"$s" || err "stage $target must run as USER 10001:10001"
done
for p in dledger-broker dledger-namesrv dledgerctl dledger-ledger; do
  grep -q "COPY --from=build .*/$p" <<<"$(stage broker)" || err "broker stage must copy $p"
done
grep -q 'COPY --from=build .*/dledger-operator' <<<"$(stage operator)" || err "operator stage must copy dledger-operator"
for l in title source version revision created licenses; do
  grep -q "org.opencontainers.image.$l=" <<<"$flat" || err "OCI label org.opencontainers.image.$l missing"
done
grep -q 'useradd .*--uid 10001' <<<"$(stage runtime)" || err "runtime stage must create uid 10001"
if grep -Eq -- '^(ADD) ' <<<"$flat"; then err "use COPY, not ADD"; fi
if grep -Eq -- 'apt-get install' <<<"$(stage runtime)" && ! grep -q -- '--no-install-recommends' <<<"$(stage runtime)"; then
  err "runtime apt-get install must use --no-install-recommends"
fi

for pat in '^\.git$' '^build/$'; do
  grep -Eq "$pat" "$IGNORE" || { echo "INVALID $IGNORE: must exclude ${pat//[\^\$\\]/}" >&2; bad=1; }
done
[ "$bad" -eq 0 ] && echo "check-dockerfile: $DOCKERFILE and $IGNORE ok"
exit "$bad"
