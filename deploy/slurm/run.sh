#!/bin/bash
# Usage: deploy/slurm/run.sh [--tasks LIST] SUITE OUT SHARDS
#   deploy/slurm/run.sh bench/quickstart.json /shared/reports/quickstart 8
#   deploy/slurm/run.sh --tasks 2,5 bench/quickstart.json /shared/reports/quickstart 8   # resubmit shards 2 and 5
# Submits a job that builds the zoo targets the suite names and TARGETS_DIR lacks (only if any
# are missing), the array of shards, and a merge that starts only when every task of this run
# succeeded. A resubmitted task resumes its own results file; its merge waits for the whole run.
# Environment: TARGETS_DIR (default <checkout>/targets), CACHE_DIR (default OUT/substitutes),
# both on a file system every node sees; SHARD_BY=cost deals groups to shards by predicted cost
# (transferbench balance SUITE N shows whether that helps; resubmit with the same value).
set -euo pipefail
usage() { echo "usage: $0 [--tasks LIST] SUITE OUT SHARDS" >&2; exit 2; }
TASKS=
if [ "${1:-}" = "--tasks" ]; then TASKS=${2:?--tasks needs a list such as 2 or 1,3}; shift 2; fi
[ $# -eq 3 ] || usage
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
SUITE=$(realpath "$1") OUT=$(realpath -m "$2") SHARDS=$3
[[ "$SHARDS" =~ ^[1-9][0-9]*$ ]] || { echo "$0: SHARDS must be a positive integer, got '$SHARDS'" >&2; exit 2; }
TARGETS_DIR=$(realpath -m "${TARGETS_DIR:-$ROOT/targets}")
TB=(node "$ROOT/dist/src/cli/main.js")
"${TB[@]}" validate "$SUITE" --quiet
mkdir -p "$OUT/logs"
export SUITE OUT SHARDS TARGETS_DIR TRANSFERBENCH_ROOT=$ROOT SHARD_BY=${SHARD_BY:-round-robin}
# One name for every job of this run: the merge's singleton dependency then also waits for
# tasks of an earlier submission that are still pending or running.
NAME="transferbench-$(basename "$OUT")"
missing=$("${TB[@]}" targets missing "$SUITE" --targets-dir "$TARGETS_DIR")
after=()
if [ -n "$missing" ]; then
  build=$(sbatch --parsable --job-name="$NAME-build" --cpus-per-task=2 --mem=4G --time=04:00:00 \
    --output="$OUT/logs/%x-%j.out" --chdir="$ROOT" \
    --wrap "node '$ROOT/dist/src/cli/main.js' targets build --suite '$SUITE' --out '$TARGETS_DIR'")
  after=(--dependency=afterok:"$build" --kill-on-invalid-dep=yes)
  echo "build job $build: $(echo "$missing" | paste -sd' ') into $TARGETS_DIR"
fi
array=$(sbatch --parsable --job-name="$NAME" --array="${TASKS:-1-$SHARDS}" --chdir="$ROOT" \
  --output="$OUT/logs/%x-%A_%a.out" --export=ALL "${after[@]}" "$ROOT/deploy/slurm/run-suite.sbatch")
merge=$(sbatch --parsable --job-name="$NAME" --dependency=afterok:"$array",singleton --kill-on-invalid-dep=yes \
  --chdir="$ROOT" --output="$OUT/logs/%x-merge-%j.out" --export=ALL "$ROOT/deploy/slurm/merge.sbatch")
echo "array job $array: shards ${TASKS:-1-$SHARDS} of $SHARDS -> $OUT"
echo "merge job $merge: after the array succeeds"
echo "follow:  squeue --name=$NAME"
echo "         sacct -j $array,$merge --format=JobID,JobName,State,Elapsed,ExitCode"
echo "logs:    $OUT/logs/"
echo "a failed or cancelled shard K: $0 --tasks K $1 $2 $SHARDS"
