#!/bin/bash
# Usage: deploy/slurm/run.sh SUITE OUT SHARDS
#   deploy/slurm/run.sh bench/quickstart.json /shared/reports/quickstart 8
# Builds missing zoo targets once, submits the array, and a merge that starts only if every
# array task succeeded (afterok).
set -euo pipefail
SUITE=$1 OUT=$2 SHARDS=$3
mkdir -p logs "$OUT"
export SUITE OUT
build=$(sbatch --parsable --job-name=transferbench-build --cpus-per-task=2 --mem=4G --time=04:00:00 \
  --output=logs/%x-%j.out --wrap "npx transferbench targets build --out ${TARGETS_DIR:-targets}")
array=$(sbatch --parsable --dependency=afterok:"$build" --array=1-"$SHARDS" --export=ALL deploy/slurm/run-suite.sbatch)
sbatch --dependency=afterok:"$array" --export=ALL deploy/slurm/merge.sbatch
