#!/usr/bin/env bash
# Run the libFuzzer harnesses built in BUILD_DIR (cmake -DMX_FUZZ=ON; `make fuzz` and the fuzz
# suite call this):
#
#   tests/fuzz/run_fuzz.sh BUILD_DIR SECONDS [HARNESS...]
#
# For each harness (default: all): first every file of tests/fuzz/regressions/HARNESS/ once
# (inputs that ever crashed, hung or over-allocated), then SECONDS of fuzzing from the checked-in
# seeds tests/fuzz/corpus/HARNESS/ (new inputs go to BUILD_DIR/fuzz-corpus/HARNESS, kept between
# runs; the checked-in corpus is never written). A crash, sanitizer report, leak, hang longer than
# FUZZ_TIMEOUT seconds, one allocation above FUZZ_MALLOC_MB or RSS above FUZZ_RSS_MB fails the run;
# the input is left in BUILD_DIR/fuzz-artifacts/ — copy it to tests/fuzz/regressions/HARNESS/ with
# the fix.
set -u
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
BUILD="$(cd "${1:?usage: run_fuzz.sh BUILD_DIR SECONDS [HARNESS...]}" && pwd)"
SECONDS_EACH="${2:?usage: run_fuzz.sh BUILD_DIR SECONDS [HARNESS...]}"
shift 2
HARNESSES=("$@")
[ ${#HARNESSES[@]} -eq 0 ] && HARNESSES=(ndarray_file safetensors symbol_json recordio csv idx image json)

# Limits: the seeds are a few KB and the readers bound what a header may claim by the input
# size, so no single input has a reason to need more.
FUZZ_TIMEOUT="${FUZZ_TIMEOUT:-10}"
FUZZ_MALLOC_MB="${FUZZ_MALLOC_MB:-512}"
FUZZ_RSS_MB="${FUZZ_RSS_MB:-2048}"
LIMITS=(-timeout="$FUZZ_TIMEOUT" -malloc_limit_mb="$FUZZ_MALLOC_MB" -rss_limit_mb="$FUZZ_RSS_MB")

export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:halt_on_error=1:allocator_may_return_null=0}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}"
export LSAN_OPTIONS="${LSAN_OPTIONS:-suppressions=$ROOT/tests/asan/lsan.supp:print_suppressions=0}"
export OMP_NUM_THREADS=1   # one core per harness; results must not depend on threads anyway
command -v llvm-symbolizer >/dev/null && export ASAN_SYMBOLIZER_PATH="$(command -v llvm-symbolizer)"

ART="$BUILD/fuzz-artifacts"
mkdir -p "$ART"
passed=0
failed=()
for h in "${HARNESSES[@]}"; do
  bin="$BUILD/tests/fuzz/fuzz_$h"
  log="$BUILD/fuzz-$h.log"
  if [ ! -x "$bin" ]; then
    echo "fuzz: $h: no harness $bin (build with cmake -DMX_FUZZ=ON)"
    failed+=("$h")
    continue
  fi
  ok=1
  regs=()
  if [ -d "$ROOT/tests/fuzz/regressions/$h" ]; then
    while IFS= read -r -d '' f; do regs+=("$f"); done < <(find "$ROOT/tests/fuzz/regressions/$h" -type f -print0 | sort -z)
  fi
  if [ ${#regs[@]} -gt 0 ]; then
    if ! "$bin" "${LIMITS[@]}" "${regs[@]}" > "$log.regressions" 2>&1; then
      echo "fuzz: $h: a regression input fails again:"
      tail -40 "$log.regressions"
      ok=0
    fi
  fi
  work="$BUILD/fuzz-corpus/$h"
  mkdir -p "$work"
  start=$SECONDS
  if ! "$bin" "${LIMITS[@]}" -max_total_time="$SECONDS_EACH" -print_final_stats=1 \
       -artifact_prefix="$ART/$h-" "$work" "$ROOT/tests/fuzz/corpus/$h" > "$log" 2>&1; then
    echo "fuzz: $h: FAILED after $((SECONDS - start)) s; log $log; input in $ART/:"
    grep -m1 -E "^(==[0-9]+==ERROR|SUMMARY|.*runtime error|.*-timeout|.*out-of-memory|.*deadly signal)" "$log"
    tail -60 "$log"
    ok=0
  fi
  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  eps=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
  cov=$(grep -oE "cov: [0-9]+" "$log" | tail -1)
  echo "fuzz: $h: ${#regs[@]} regression input(s), ${runs:-?} runs in $((SECONDS - start)) s (${eps:-?} exec/s), $cov, corpus $(ls "$work" | wc -l) new + $(ls "$ROOT/tests/fuzz/corpus/$h" | wc -l) seeds"
  if [ $ok = 1 ]; then passed=$((passed + 1)); else failed+=("$h"); fi
done
echo "fuzz: $passed passed, ${#failed[@]} failed"
[ ${#failed[@]} -eq 0 ]
