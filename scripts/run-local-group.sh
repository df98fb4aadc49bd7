#!/usr/bin/env bash
# Starts a local 3-replica dledger ledger group on 127.0.0.1 and prints its status.
#
#   scripts/run-local-group.sh          install deps, build (release preset), start, append, status
#   scripts/run-local-group.sh status   print the group's status
#   scripts/run-local-group.sh stop     stop the replicas started by this script
#
# Environment: RUN_DIR (default ./run/local-group), BASE_PORT (default 40911: peers 40911-40913,
# clients 20911-20913, admin 10980-10982 unless BASE_PORT is changed), SKIP_BUILD=1 to reuse an
# existing build. Idempotent: replicas already running are left alone; configs are rewritten only
# when missing. Logs: $RUN_DIR/n<i>.log, pids: $RUN_DIR/n<i>.pid, data: $RUN_DIR/store.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
RUN_DIR_SET="${RUN_DIR:-}"
RUN_DIR="${RUN_DIR:-$ROOT/run/local-group}"
BUILD_DIR="$ROOT/build/release"
LEDGER="$BUILD_DIR/broker/programs/dledger-ledger/dledger-ledger"
CTL="$BUILD_DIR/broker/programs/dledgerctl/dledgerctl"
PEER_BASE="${BASE_PORT:-40911}"
CLIENT_BASE=$((PEER_BASE - 20000))
ADMIN_BASE=$((PEER_BASE - 29931))
REPLICAS=3

die() { echo "run-local-group: $*" >&2; exit 1; }
say() { echo "run-local-group: $*"; }

peers() {
  local base=$1 out="" i
  for ((i = 0; i < REPLICAS; i++)); do out+="n$i-127.0.0.1:$((base + i));"; done
  echo "${out%;}"
}
admins() {
  local out="" i
  for ((i = 0; i < REPLICAS; i++)); do out+="127.0.0.1:$((ADMIN_BASE + i));"; done
  echo "${out%;}"
}

running() {  # running <i>: the replica's pid file names a live dledger-ledger
  local pidfile="$RUN_DIR/n$1.pid"
  [ -f "$pidfile" ] || return 1
  local pid
  pid="$(cat "$pidfile")"
  [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null && grep -q dledger-ledger "/proc/$pid/cmdline" 2>/dev/null
}

stop_group() {
  local i pid any=0
  for ((i = 0; i < REPLICAS; i++)); do
    if running "$i"; then
      pid="$(cat "$RUN_DIR/n$i.pid")"
      kill -TERM "$pid"
      any=1
      for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
      if kill -0 "$pid" 2>/dev/null; then
        say "n$i (pid $pid) did not stop within 10 s; sending SIGKILL"
        kill -KILL "$pid" || true
      fi
      say "stopped n$i (pid $pid)"
    fi
    rm -f "$RUN_DIR/n$i.pid"
  done
  [ "$any" = 1 ] || say "no replica was running"
}

status_group() {
  [ -x "$CTL" ] || die "$CTL not built; run scripts/run-local-group.sh first"
  "$CTL" status --admins "$(admins)"
}

case "${1:-start}" in
  stop) stop_group; exit 0 ;;
  status) status_group; exit $? ;;
  start) ;;
  *) die "unknown command '$1' (expected start, status or stop)" ;;
esac

if [ "${SKIP_BUILD:-0}" != 1 ]; then
  say "installing dependencies"
  bash "$ROOT/scripts/install-deps.sh"
  say "building (release preset)"
  (cd "$ROOT" && cmake --preset release >/dev/null && cmake --build --preset release --target dledger-ledger dledgerctl)
fi
[ -x "$LEDGER" ] || die "$LEDGER missing after the build"
[ -x "$CTL" ] || die "$CTL missing after the build"

mkdir -p "$RUN_DIR/store"
PEERS="$(peers "$PEER_BASE")"
CLIENT_PEERS="$(peers "$CLIENT_BASE")"
ADMIN_PEERS="$(peers "$ADMIN_BASE")"
for ((i = 0; i < REPLICAS; i++)); do
  conf="$RUN_DIR/n$i.conf"
  if [ ! -f "$conf" ]; then
    cat >"$conf" <<EOF
# dledger-ledger replica n$i of the local group (written by scripts/run-local-group.sh)
dLegerGroup = local
dLegerPeers = $PEERS
dLegerSelfId = n$i
storePathRootDir = $RUN_DIR/store
clientHost = 127.0.0.1
clientPort = $((CLIENT_BASE + i))
adminHost = 127.0.0.1
adminPort = $((ADMIN_BASE + i))
adminPeers = $ADMIN_PEERS
EOF
  fi
done

for ((i = 0; i < REPLICAS; i++)); do
  if running "$i"; then
    say "n$i already running (pid $(cat "$RUN_DIR/n$i.pid"))"
    continue
  fi
  for port in $((PEER_BASE + i)) $((CLIENT_BASE + i)) $((ADMIN_BASE + i)); do
    if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
      die "port $port on 127.0.0.1 is already in use by another process (set BASE_PORT to move the group)"
    fi
  done
  nohup "$LEDGER" -c "$RUN_DIR/n$i.conf" >>"$RUN_DIR/n$i.log" 2>&1 &
  echo $! >"$RUN_DIR/n$i.pid"
  say "started n$i (pid $!), log $RUN_DIR/n$i.log"
done

say "waiting for a leader"
leader=""
for _ in $(seq 1 150); do
  for ((i = 0; i < REPLICAS; i++)); do
    running "$i" || die "n$i exited; see $RUN_DIR/n$i.log: $(tail -n 3 "$RUN_DIR/n$i.log")"
  done
  leader="$(curl -sf "http://127.0.0.1:$ADMIN_BASE/status" 2>/dev/null | python3 -c \
    'import json,sys; print(json.load(sys.stdin).get("leader_id") or "")' 2>/dev/null || true)"
  [ -n "$leader" ] && break
  sleep 0.2
done
[ -n "$leader" ] || die "no leader elected within 30 s; see the logs in $RUN_DIR"
say "leader is $leader"

"$CTL" append --peers "$CLIENT_PEERS" "hello from run-local-group" "entry two" "entry three"
echo
status_group
ENV_PREFIX=""
[ -n "${RUN_DIR_SET:-}" ] && ENV_PREFIX+="RUN_DIR='$RUN_DIR' "
[ -n "${BASE_PORT:-}" ] && ENV_PREFIX+="BASE_PORT=$BASE_PORT "
cat <<EOF

The group is running (configs, logs and data in $RUN_DIR).
  append:  $CTL append --peers '$CLIENT_PEERS' "some bytes"
  get:     $CTL get --peers '$CLIENT_PEERS' 2
  status:  ${ENV_PREFIX}scripts/run-local-group.sh status
  stop:    ${ENV_PREFIX}scripts/run-local-group.sh stop
EOF
