#!/usr/bin/env bash
# Repeatable timing of the infrastructure tooling (a benchmark, not a test): `cdktf synth` through the CLI, the app
# alone (what `make synth` runs), and the infra jest files. Prints min / median / max wall seconds of RUNS runs and
# the machine's load so figures can be compared. Usage: RUNS=5 bash infra/scripts/bench.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
runs="${RUNS:-5}"
export CHECKPOINT_DISABLE=1 DISABLE_VERSION_CHECK=1 PROJECT_ID="${PROJECT_ID:-bench-project-1}"

measure() { # label, command...
  local label="$1"
  shift
  local walls=() cpus=()
  "$@" >/dev/null 2>&1 # warm-up: file system cache and the transform caches of tsx and jest
  for _ in $(seq "$runs"); do
    local start end cpu_before cpu_after
    cpu_before="$(children_cpu_ms)"
    start="$(date +%s%N)"
    "$@" >/dev/null 2>&1
    end="$(date +%s%N)"
    cpu_after="$(children_cpu_ms)"
    walls+=("$(((end - start) / 1000000))")
    cpus+=("$((cpu_after - cpu_before))")
  done
  summary "$label (wall)" "${walls[@]}"
  summary "$label (CPU user+sys)" "${cpus[@]}"
}

# CPU time (ms) used by this shell's finished children, from /proc (user + system).
children_cpu_ms() {
  local ticks
  ticks="$(getconf CLK_TCK)"
  awk -v hz="$ticks" '{ print int(($16 + $17) * 1000 / hz) }' "/proc/$$/stat"
}

summary() { # label, values in ms...
  local label="$1"
  shift
  printf '%s\n' "$@" | sort -n | awk -v label="$label" -v n="$#" '
    { t[NR] = $1 }
    END { printf "%-58s min %5.2f s  median %5.2f s  max %5.2f s  (%d runs)\n", label, t[1] / 1000, t[int((n + 1) / 2)] / 1000, t[n] / 1000, n }'
}

echo "machine: $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || uptime), node $(node --version)"
# Both write cdktf.out/ (git-ignored), exactly as a user's synth does.
measure "npx cdktf synth (dev)" npx --no-install cdktf synth
measure "make synth: node --require tsx/cjs infra/main.ts" node --require tsx/cjs infra/main.ts
measure "jest test/infra (5 files, 238 tests; default workers)" node_modules/.bin/jest test/infra
measure "jest test/infra --maxWorkers=2 (make infra-test)" node_modules/.bin/jest test/infra --maxWorkers=2
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || uptime)"
