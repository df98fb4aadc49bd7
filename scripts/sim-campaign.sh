#!/usr/bin/env bash
# Long simulator campaign outside CI: many seeds of the deterministic Raft simulator
# (tests/ledger/sim), split across parallel processes, with one summary at the end: seeds run,
# every failure with the command that replays it, and the events injected.
#
#   scripts/sim-campaign.sh --seeds 100000                 sizes 3 and 5, seeds 1..100000 each
#   scripts/sim-campaign.sh --seeds 20000 --size 5 --first-seed 500000 --jobs 4
#   scripts/sim-campaign.sh --seeds 2000 --fault skip-up-to-date-check   (expect failures)
# Options: --seeds N (per size, required), --size 3|5|both (default both), --first-seed S
# (default 1), --jobs J (default: nproc), --chaos-ms N, --fault NAME,
# --build-dir DIR (default build/ci; the program is DIR/tests/ledger/sim/dledger_sim, built if
# missing). Exit status 1 if any seed failed.
set -euo pipefail
cd "$(dirname "$0")/.."

seeds="" size="both" first_seed=1 jobs="$(nproc)" build_dir="build/ci" extra=()
while [ $# -gt 0 ]; do
  case "$1" in
    --seeds) seeds="$2"; shift 2 ;;
    --size) size="$2"; shift 2 ;;
    --first-seed) first_seed="$2"; shift 2 ;;
    --jobs) jobs="$2"; shift 2 ;;
    --build-dir) build_dir="$2"; shift 2 ;;
    --chaos-ms) extra+=(--chaos-ms "$2"); shift 2 ;;
    --fault) extra+=(--fault "$2"); shift 2 ;;
    -h|--help) sed -n '2,13p' "$0"; exit 0 ;;
    *) echo "sim-campaign: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
done
[[ "$seeds" =~ ^[1-9][0-9]*$ ]] || { echo "sim-campaign: --seeds N is required (N > 0)" >&2; exit 2; }
[[ "$first_seed" =~ ^[0-9]+$ ]] || { echo "sim-campaign: --first-seed must be a number" >&2; exit 2; }
[[ "$jobs" =~ ^[1-9][0-9]*$ ]] || { echo "sim-campaign: --jobs must be a positive number" >&2; exit 2; }
case "$size" in 3) sizes=(3) ;; 5) sizes=(5) ;; both) sizes=(3 5) ;;
  *) echo "sim-campaign: --size takes 3, 5 or both" >&2; exit 2 ;; esac

program="$build_dir/tests/ledger/sim/dledger_sim"
if [ ! -x "$program" ]; then
  if [ "$build_dir" = "build/ci" ]; then cmake --preset ci >/dev/null; fi
  cmake --build "$build_dir" --target dledger_sim
fi

out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT
start=$(date +%s)
pids=()
for s in "${sizes[@]}"; do
  per_job=$(( (seeds + jobs - 1) / jobs ))
  for (( j = 0; j < jobs; j++ )); do
    lo=$(( first_seed + j * per_job ))
    count=$(( per_job ))
    if (( lo + count > first_seed + seeds )); then count=$(( first_seed + seeds - lo )); fi
    (( count > 0 )) || continue
    "$program" --size "$s" --first-seed "$lo" --seeds "$count" "${extra[@]}" \
      > "$out/size$s-job$j.txt" 2>&1 &
    pids+=($!)
  done
done
status=0
for p in "${pids[@]}"; do wait "$p" || status=1; done

echo "=== simulator campaign: sizes ${sizes[*]}, seeds $first_seed..$(( first_seed + seeds - 1 )) per size, ${extra[*]:-no fault switch}, $(( $(date +%s) - start ))s"
failures=$(cat "$out"/*.txt | grep -c '^FAIL:' || true)
echo "failures: $failures"
grep -h -A1 '^FAIL:' "$out"/*.txt | grep -v '^--$' || true
echo "totals:"
cat "$out"/*.txt | awk '/^  [a-z_]+ [0-9]+$/ { total[$1] += $2 } END { for (k in total) printf "  %-32s %d\n", k, total[k] }' | sort
exit "$status"
