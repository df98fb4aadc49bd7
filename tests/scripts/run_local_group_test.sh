#!/usr/bin/env bash
# The README's main job, scripts/run-local-group.sh, against a build tree: it refuses bad ports
# before writing anything, starts a name server and a 3-broker group that elects exactly one
# master, prints produce/consume commands that work as printed, is idempotent, refuses a run
# directory written for other ports, and `stop` stops every process it started.
#
#   run_local_group_test.sh <source dir> <build dir>
set -euo pipefail

SOURCE_DIR="$1"
BUILD_DIR="$2"
SCRIPT="$SOURCE_DIR/scripts/run-local-group.sh"
CTL="$BUILD_DIR/broker/programs/dledgerctl/dledgerctl"
WORK="$(mktemp -d /tmp/dledger-run-local-group-test.XXXXXX)"
RUN_DIR="$WORK/run"

fail() {
  echo "FAIL: $*" >&2
  for log in "$RUN_DIR"/*.log; do
    [ -f "$log" ] && { echo "--- $log (last 20 lines)" >&2; tail -n 20 "$log" >&2; }
  done
  exit 1
}

cleanup() {
  RUN_DIR="$RUN_DIR" BASE_PORT="${BASE:-40911}" SKIP_BUILD=1 BUILD_DIR="$BUILD_DIR" \
    bash "$SCRIPT" stop >/dev/null 2>&1 || true
  for pidfile in "$RUN_DIR"/*.pid; do
    [ -f "$pidfile" ] && kill -KILL "$(cat "$pidfile")" 2>/dev/null || true
  done
  rm -rf "$WORK"
}
trap cleanup EXIT

port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# run_script <BASE_PORT> <NAMESRV_PORT> [args...]: output in $WORK/out, status in $status.
run_script() {
  local base="$1" namesrv="$2"
  shift 2
  set +e
  RUN_DIR="$RUN_DIR" BASE_PORT="$base" NAMESRV_PORT="$namesrv" SKIP_BUILD=1 \
    BUILD_DIR="$BUILD_DIR" DETACH=1 bash "$SCRIPT" "$@" >"$WORK/out" 2>&1
  status=$?
  set -e
}

echo "== a BASE_PORT whose admin ports would be below 1024 is refused before anything is written"
run_script 20000 9876
[ "$status" -ne 0 ] || fail "BASE_PORT=20000 was accepted"
grep -q "BASE_PORT='20000' is invalid: expected an integer in \[30955, 65533\]" "$WORK/out" ||
  fail "no clear error for BASE_PORT=20000: $(cat "$WORK/out")"
[ ! -e "$RUN_DIR/broker-n0.conf" ] || fail "a config was written for an invalid BASE_PORT"
run_script 4x911 9876
[ "$status" -ne 0 ] && grep -q "BASE_PORT='4x911' is invalid" "$WORK/out" ||
  fail "no clear error for BASE_PORT=4x911: $(cat "$WORK/out")"
run_script 40911 70000
[ "$status" -ne 0 ] && grep -q "NAMESRV_PORT='70000' is invalid" "$WORK/out" ||
  fail "no clear error for NAMESRV_PORT=70000: $(cat "$WORK/out")"

echo "== start detached on free ports"
# Peers at BASE..+2 stay below the usual ephemeral range (32768), so outgoing connections of
# other processes cannot take them between the check and the bind; retried on a taken port.
started=0
for attempt in 1 2 3 4 5; do
  BASE=$((30955 + RANDOM % 1700))
  NAMESRV=$((BASE - 20000))
  all_free=1
  for port in $BASE $((BASE + 1)) $((BASE + 2)) $((BASE - 10000)) $((BASE - 9990)) \
    $((BASE - 9980)) $((BASE - 29931)) $((BASE - 29930)) $((BASE - 29929)) $NAMESRV; do
    port_free "$port" || all_free=0
  done
  [ "$all_free" = 1 ] || continue
  rm -rf "$RUN_DIR"
  run_script "$BASE" "$NAMESRV"
  if [ "$status" -eq 0 ]; then
    started=1
    break
  fi
  grep -q "already in use" "$WORK/out" || fail "start failed (BASE_PORT=$BASE): $(cat "$WORK/out")"
  run_script "$BASE" "$NAMESRV" stop
done
[ "$started" = 1 ] || fail "no free set of ports found in 5 attempts"
cp "$WORK/out" "$WORK/start.out"
grep -q "run-local-group: master is 127.0.0.1:" "$WORK/start.out" ||
  fail "no master reported: $(cat "$WORK/start.out")"

echo "== clusterList: three members, exactly one master (BID 0)"
"$CTL" clusterList -n "127.0.0.1:$NAMESRV" --json >"$WORK/cluster.json" ||
  fail "clusterList failed"
python3 - "$WORK/cluster.json" <<'PY' || fail "unexpected clusterList: $(cat "$WORK/cluster.json")"
import json, sys
rows = json.load(open(sys.argv[1]))
assert len(rows) == 3, rows
assert sum(1 for r in rows if r["brokerId"] == 0) == 1, rows
assert sorted(r["brokerName"] for r in rows) == ["RaftNode00"] * 3, rows
PY

echo "== the printed produce and consume commands work as printed"
produce="$(sed -n 's/^  produce:  //p' "$WORK/start.out")"
consume="$(sed -n 's/^  consume:  //p' "$WORK/start.out")"
[ -n "$produce" ] && [ -n "$consume" ] || fail "no produce/consume commands printed"
eval "$produce" >"$WORK/produce.out" 2>&1 || fail "produce failed: $(cat "$WORK/produce.out")"
grep -q "SEND_OK" "$WORK/produce.out" || fail "produce did not report SEND_OK: $(cat "$WORK/produce.out")"
eval "$consume" >"$WORK/consume.out" 2>&1 || fail "consume failed: $(cat "$WORK/consume.out")"
grep -q "hello from run-local-group" "$WORK/consume.out" ||
  fail "the script's first message was not consumed: $(cat "$WORK/consume.out")"
grep -q "some bytes" "$WORK/consume.out" ||
  fail "the produced message was not consumed: $(cat "$WORK/consume.out")"

echo "== running it again leaves the running group alone"
run_script "$BASE" "$NAMESRV"
[ "$status" -eq 0 ] || fail "second start failed: $(cat "$WORK/out")"
[ "$(grep -c "already running" "$WORK/out")" -eq 4 ] ||
  fail "second start did not find all four processes running: $(cat "$WORK/out")"

echo "== the same run directory with other ports is refused"
run_script $((BASE + 5)) "$NAMESRV"
[ "$status" -ne 0 ] && grep -q "broker-n0.conf was written for other ports" "$WORK/out" ||
  fail "a run directory written for BASE_PORT=$BASE was reused with other ports: $(cat "$WORK/out")"

echo "== status, then stop stops every process it started"
pids="$(cat "$RUN_DIR"/*.pid)"
run_script "$BASE" "$NAMESRV" status
[ "$status" -eq 0 ] || fail "status failed: $(cat "$WORK/out")"
run_script "$BASE" "$NAMESRV" stop
[ "$status" -eq 0 ] || fail "stop failed: $(cat "$WORK/out")"
for pid in $pids; do
  ! kill -0 "$pid" 2>/dev/null || fail "pid $pid still running after stop"
done
! ls "$RUN_DIR"/*.pid >/dev/null 2>&1 || fail "pid files left after stop"
echo "PASS"
