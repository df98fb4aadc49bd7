#!/usr/bin/env bash
# Starts a local dledger cluster on 127.0.0.1: dledger-namesrv and one 3-replica DLedger broker
# group (RaftNode00 of cluster RaftCluster), waits for a master, prints `dledgerctl clusterList`
# and the commands to produce and consume, then stays in the foreground until Ctrl-C, which stops
# everything it started.
#
#   scripts/run-local-group.sh          install deps, build (release preset), start, wait for Ctrl-C
#   scripts/run-local-group.sh status   print clusterList of a running group
#   scripts/run-local-group.sh stop     stop the processes started by this script
#
# Environment: RUN_DIR (default ./run/local-group), BASE_PORT (default 40911: ledger peers
# 40911-40913, broker listen ports 30911/30921/30931 and admin ports 10980-10982 move with it;
# 30955-65533),
# NAMESRV_PORT (default 9876), SKIP_BUILD=1 to reuse an existing build (BUILD_DIR, default
# build/release), DETACH=1 to return once the group is up and leave it running (stop it with
# `stop`). Idempotent: processes already running are left alone; configs are rewritten only when
# missing. Configs (the seed deployment's
# broker.conf format): $RUN_DIR/broker-n<i>.conf; logs: $RUN_DIR/*.log; pids: $RUN_DIR/*.pid;
# data: $RUN_DIR/store.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
RUN_DIR_SET="${RUN_DIR:-}"
RUN_DIR="${RUN_DIR:-$ROOT/run/local-group}"
BUILD_DIR="${BUILD_DIR:-$ROOT/build/release}"
NAMESRV="$BUILD_DIR/broker/programs/dledger-namesrv/dledger-namesrv"
BROKER="$BUILD_DIR/broker/programs/dledger-broker/dledger-broker"
CTL="$BUILD_DIR/broker/programs/dledgerctl/dledgerctl"
PEER_BASE="${BASE_PORT:-40911}"
LISTEN_BASE=$((PEER_BASE - 10000))
ADMIN_BASE=$((PEER_BASE - 29931))
NAMESRV_PORT="${NAMESRV_PORT:-9876}"
# Every port the group uses must be a valid unprivileged port: admin ports are the lowest.
MIN_BASE_PORT=$((1024 + 29931))
MAX_BASE_PORT=$((65535 - 2))
NAMESRV_ADDR="127.0.0.1:$NAMESRV_PORT"
CLUSTER=RaftCluster
BROKER_NAME=RaftNode00
TOPIC=TopicTest
REPLICAS=3

die() { echo "run-local-group: $*" >&2; exit 1; }
say() { echo "run-local-group: $*"; }

listen_port() { echo $((LISTEN_BASE + 10 * $1)); }
member_list() {  # member_list <port-of-i command>: "n0-127.0.0.1:p0;n1-..."
  local out="" i
  for ((i = 0; i < REPLICAS; i++)); do out+="n$i-127.0.0.1:$($1 "$i");"; done
  echo "${out%;}"
}
peer_port() { echo $((PEER_BASE + $1)); }
admin_port() { echo $((ADMIN_BASE + $1)); }

# running <name> <program>: the pid file $RUN_DIR/<name>.pid names a live <program>.
running() {
  local pidfile="$RUN_DIR/$1.pid" pid
  [ -f "$pidfile" ] || return 1
  pid="$(cat "$pidfile")"
  [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null && grep -q "$2" "/proc/$pid/cmdline" 2>/dev/null
}

stop_one() {  # stop_one <name> <program>
  local pid
  if running "$1" "$2"; then
    pid="$(cat "$RUN_DIR/$1.pid")"
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    if kill -0 "$pid" 2>/dev/null; then
      say "$1 (pid $pid) did not stop within 10 s; sending SIGKILL"
      kill -KILL "$pid" 2>/dev/null || true
    fi
    say "stopped $1 (pid $pid)"
  fi
  rm -f "$RUN_DIR/$1.pid"
}

stop_group() {
  local i
  for ((i = 0; i < REPLICAS; i++)); do stop_one "broker-n$i" dledger-broker; done
  stop_one namesrv dledger-namesrv
}

status_group() {
  [ -x "$CTL" ] || die "$CTL not built; run scripts/run-local-group.sh first"
  "$CTL" clusterList -n "$NAMESRV_ADDR"
}

case "${1:-start}" in
  stop) stop_group; exit 0 ;;
  status) status_group; exit $? ;;
  start) ;;
  *) die "unknown command '$1' (expected start, status or stop)" ;;
esac

[[ "$PEER_BASE" =~ ^[0-9]+$ ]] && ((PEER_BASE >= MIN_BASE_PORT && PEER_BASE <= MAX_BASE_PORT)) ||
  die "BASE_PORT='$PEER_BASE' is invalid: expected an integer in [$MIN_BASE_PORT, $MAX_BASE_PORT] (ledger peers use BASE_PORT..+2, brokers BASE_PORT-10000 +0/10/20, admin BASE_PORT-29931..+2)"
[[ "$NAMESRV_PORT" =~ ^[0-9]+$ ]] && ((NAMESRV_PORT >= 1 && NAMESRV_PORT <= 65535)) ||
  die "NAMESRV_PORT='$NAMESRV_PORT' is invalid: expected an integer in [1, 65535]"

if [ "${SKIP_BUILD:-0}" != 1 ]; then
  say "installing dependencies"
  bash "$ROOT/scripts/install-deps.sh"
  say "building (release preset)"
  (cd "$ROOT" && cmake --preset release >/dev/null &&
    cmake --build --preset release --target dledger-namesrv dledger-broker dledgerctl)
fi
for program in "$NAMESRV" "$BROKER" "$CTL"; do
  [ -x "$program" ] || die "$program missing after the build"
done

mkdir -p "$RUN_DIR/store"
PEERS="$(member_list peer_port)"
ADMIN_PEERS="$(member_list admin_port)"
BROKER_PEERS="$(member_list listen_port)"
for ((i = 0; i < REPLICAS; i++)); do
  conf="$RUN_DIR/broker-n$i.conf"
  if [ -f "$conf" ]; then
    # An existing config is kept (it may have been edited), but it must belong to this group.
    grep -qx "listenPort = $(listen_port "$i")" "$conf" &&
      grep -qx "namesrvAddr = $NAMESRV_ADDR" "$conf" ||
      die "$conf was written for other ports (listenPort $(listen_port "$i") and namesrvAddr $NAMESRV_ADDR expected from BASE_PORT=$PEER_BASE NAMESRV_PORT=$NAMESRV_PORT): use the BASE_PORT and NAMESRV_PORT it was started with, or another RUN_DIR"
    continue
  fi
  root="$RUN_DIR/store/node0$i"
  cat >"$conf" <<CONF
# Broker n$i of $BROKER_NAME (written by scripts/run-local-group.sh), seed deployment format.
brokerClusterName = $CLUSTER
brokerName = $BROKER_NAME
brokerIP1 = 127.0.0.1
brokerIP2 = 127.0.0.1
listenPort = $(listen_port "$i")
namesrvAddr = $NAMESRV_ADDR
storePathRootDir = $root
storePathCommitLog = $root/commitlog
storePathConsumeQueue = $root/consumequeue
storePathIndex = $root/index
storeCheckpoint = $root/checkpoint
abortFile = $root/abort
enableDLegerCommitLog = true
dLegerGroup = $BROKER_NAME
dLegerPeers = $PEERS
## must be unique
dLegerSelfId = n$i
sendMessageThreadPoolNums = 16
# dledger keys: admin HTTP endpoint (/status, /metrics) and the members' remoting addresses
adminHost = 127.0.0.1
adminPort = $(admin_port "$i")
adminPeers = $ADMIN_PEERS
brokerPeers = $BROKER_PEERS
CONF
done

port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

if running namesrv dledger-namesrv; then
  say "namesrv already running (pid $(cat "$RUN_DIR/namesrv.pid"))"
else
  port_free "$NAMESRV_PORT" ||
    die "port $NAMESRV_PORT on 127.0.0.1 is already in use by another process (set NAMESRV_PORT)"
  nohup "$NAMESRV" -p "listenPort=$NAMESRV_PORT" >>"$RUN_DIR/namesrv.log" 2>&1 &
  echo $! >"$RUN_DIR/namesrv.pid"
  say "started dledger-namesrv on $NAMESRV_ADDR (pid $!), log $RUN_DIR/namesrv.log"
fi
for ((i = 0; i < REPLICAS; i++)); do
  if running "broker-n$i" dledger-broker; then
    say "broker-n$i already running (pid $(cat "$RUN_DIR/broker-n$i.pid"))"
    continue
  fi
  for port in $(peer_port "$i") $(listen_port "$i") $(admin_port "$i"); do
    port_free "$port" ||
      die "port $port on 127.0.0.1 is already in use by another process (set BASE_PORT to move the group)"
  done
  nohup "$BROKER" -c "$RUN_DIR/broker-n$i.conf" >>"$RUN_DIR/broker-n$i.log" 2>&1 &
  echo $! >"$RUN_DIR/broker-n$i.pid"
  say "started broker-n$i on 127.0.0.1:$(listen_port "$i") (pid $!), log $RUN_DIR/broker-n$i.log"
done

say "waiting for a master (BID 0) to register with the name server"
master=""
for _ in $(seq 1 150); do
  running namesrv dledger-namesrv || die "namesrv exited; see $RUN_DIR/namesrv.log"
  for ((i = 0; i < REPLICAS; i++)); do
    running "broker-n$i" dledger-broker ||
      die "broker-n$i exited; see $RUN_DIR/broker-n$i.log: $(tail -n 3 "$RUN_DIR/broker-n$i.log")"
  done
  master="$("$CTL" clusterList -n "$NAMESRV_ADDR" --json 2>/dev/null | python3 -c '
import json, sys
rows = json.load(sys.stdin)
masters = [r for r in rows if r.get("brokerId") == 0 and r.get("role") == "leader"]
print(masters[0]["address"] if len(masters) == 1 and len(rows) == 3 else "")' 2>/dev/null || true)"
  [ -n "$master" ] && break
  sleep 0.2
done
[ -n "$master" ] || die "no master registered within 30 s; see the logs in $RUN_DIR"
say "master is $master"

"$CTL" updateTopic -n "$NAMESRV_ADDR" -c "$CLUSTER" -t "$TOPIC" -r 4 -w 4 >/dev/null ||
  die "could not create topic $TOPIC"
for _ in $(seq 1 100); do
  "$CTL" topicList -n "$NAMESRV_ADDR" 2>/dev/null | grep -qx "$TOPIC" && break
  sleep 0.2
done
"$CTL" sendMessage -n "$NAMESRV_ADDR" -t "$TOPIC" -p "hello from run-local-group" --tags TagA >/dev/null ||
  die "the first message could not be sent; see the logs in $RUN_DIR"
echo
status_group || true
ENV_PREFIX=""
[ -n "${RUN_DIR_SET:-}" ] && ENV_PREFIX+="RUN_DIR='$RUN_DIR' "
[ -n "${BASE_PORT:-}" ] && ENV_PREFIX+="BASE_PORT=$BASE_PORT "
[ "$NAMESRV_PORT" != 9876 ] && ENV_PREFIX+="NAMESRV_PORT=$NAMESRV_PORT "
cat <<HELP

The cluster is running (name server $NAMESRV_ADDR; configs, logs and data in $RUN_DIR).
  produce:  $CTL sendMessage -n $NAMESRV_ADDR -t $TOPIC -p "some bytes" --tags TagA --keys k1
  consume:  $CTL consumeMessage -n $NAMESRV_ADDR -t $TOPIC -g my-group --max 10
  topics:   $CTL topicList -n $NAMESRV_ADDR
  status:   $CTL clusterList -n $NAMESRV_ADDR
  RocketMQ clients: namesrvAddr $NAMESRV_ADDR, topic $TOPIC
HELP

if [ "${DETACH:-0}" = 1 ]; then
  echo "  stop:     ${ENV_PREFIX}scripts/run-local-group.sh stop"
  exit 0
fi
echo "Press Ctrl-C to stop everything."
trap 'echo; stop_group; exit 0' INT TERM
while running namesrv dledger-namesrv; do
  sleep 2 &
  wait $! || true
done
say "namesrv exited (see $RUN_DIR/namesrv.log); stopping the brokers"
stop_group
exit 1
