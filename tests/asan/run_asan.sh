#!/usr/bin/env bash
# Run the C tests and Python tests against the ASan+UBSan build of libmx in BUILD_DIR
# (cmake -DMX_SANITIZE=ON, see cmake/sanitizers.cmake; `make test-asan` builds it and calls this):
#
#   tests/asan/run_asan.sh BUILD_DIR [PYTEST_ARGS...]     (default: the whole tests/python)
#
# The Python interpreter is not built with ASan, so the shared ASan runtime is preloaded
# (LD_PRELOAD) and libmx is opened from BUILD_DIR through MX_LIBRARY (cffi ABI mode). Any ASan
# report, UBSan report (halt_on_error=1) or leak (tests/asan/lsan.supp lists the process-lifetime
# registries, the only allowed "leaks") fails the run.
set -u
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
BUILD="$(cd "${1:?usage: run_asan.sh BUILD_DIR [PYTEST_ARGS...]}" && pwd)"
shift
[ $# -eq 0 ] && set -- tests/python
# the real interpreter (not a pyenv shim: the shim itself would run under LD_PRELOAD)
PYTHON="$("${PYTHON:-python3}" -c 'import sys; print(sys.executable)')"
RUNTIME="$(clang -print-file-name=libclang_rt.asan-x86_64.so)"
[ -f "$RUNTIME" ] || { echo "run_asan: no ASan runtime ($RUNTIME): apt-get install clang libclang-rt-dev" >&2; exit 1; }

# allocator_may_return_null: a request for more memory than exists must reach libmx as a failed
# allocation (MX_ERR_OUT_OF_MEMORY), as it does without ASan, not end the process.
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:halt_on_error=1:allocator_may_return_null=1:detect_odr_violation=0}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}"
# use_tls=0: LSan 14's thread-stopping tracer crashes ("Tracer caught signal 11") reading the
# dynamic TLS of OpenMP worker threads under glibc >= 2.35 (fixed in LLVM 15). Not scanning TLS
# can only add reports (an object kept alive by a thread_local alone), never hide a leak.
export LSAN_OPTIONS="${LSAN_OPTIONS:-suppressions=$ROOT/tests/asan/lsan.supp:print_suppressions=0:use_tls=0}"
command -v llvm-symbolizer >/dev/null && export ASAN_SYMBOLIZER_PATH="$(command -v llvm-symbolizer)"
cd "$ROOT"
status=0
start=$SECONDS
echo "run_asan: C tests (ctest in $BUILD)"
(cd "$BUILD" && ctest --output-on-failure -j "${JOBS:-2}") || status=1
echo "run_asan: C tests took $((SECONDS - start)) s"
start=$SECONDS
echo "run_asan: Python tests $* (LD_PRELOAD=$RUNTIME, MX_LIBRARY=$BUILD/libmx.so)"
# --capture=sys: a sanitizer report is written to file descriptor 2 just before the process
# halts; pytest's default fd capture would swallow it with the process.
run_pytest() {
  # malloc_context_size=2: the interpreter's suppressions (lsan.supp) then see only the direct caller
  LSAN_OPTIONS="$LSAN_OPTIONS:malloc_context_size=2" \
  MX_LEAK_CHECK=1 LD_PRELOAD="$RUNTIME" MX_LIBRARY="$BUILD/libmx.so" PYTHONPATH="$ROOT/python" \
    "$PYTHON" -m pytest -q -p no:cacheprovider --capture=sys "$@"
}
if [ "${ASAN_PER_FILE:-0}" = 1 ]; then
  # One process per test file: ASan's shadow memory and quarantine grow with a process's life, so
  # the whole suite in one interpreter outgrows a 24 GB machine; per file, a report names its file
  # and one failing file does not end the others. "--ignore=PATH" arguments drop files.
  ignored=" "; paths=()
  for a in "$@"; do case "$a" in --ignore=*) ignored="$ignored${a#--ignore=} ";; *) paths+=("$a");; esac; done
  failed=()
  for f in $(find "${paths[@]}" -name 'test_*.py' | sort); do
    case "$ignored" in *" $f "*) continue;; esac
    t=$SECONDS
    if run_pytest "$f" > "$BUILD/asan-$(basename "$f" .py).log" 2>&1; then r=ok; else r=FAILED; failed+=("$f"); status=1; fi
    echo "run_asan: $r $f ($((SECONDS - t)) s): $(tail -n 1 "$BUILD/asan-$(basename "$f" .py).log")"
  done
  for f in "${failed[@]}"; do echo "==== $f (log: $BUILD/asan-$(basename "$f" .py).log)"; tail -n 40 "$BUILD/asan-$(basename "$f" .py).log"; done
else
  run_pytest "$@" || status=1
fi
echo "run_asan: Python tests took $((SECONDS - start)) s"
exit $status
