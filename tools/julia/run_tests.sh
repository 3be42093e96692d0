#!/usr/bin/env bash
# Run the Julia package's tests: julia --project=julia julia/test/runtests.jl
# Uses `julia` from PATH, else installs a private Julia 1.5.3 into build/julia
# (tools/julia/install_julia.sh). MX_LIBRARY defaults to <build dir>/libmx.so.
#
# Usage: tools/julia/run_tests.sh [BUILD_DIR]      (default: build)
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
BUILD_DIR="${1:-build}"
case "$BUILD_DIR" in /*) ;; *) BUILD_DIR="$ROOT/$BUILD_DIR" ;; esac
if [ -z "${MX_LIBRARY:-}" ]; then
  for c in "$BUILD_DIR/libmx.so" "$BUILD_DIR/install/lib/libmx.so"; do
    [ -f "$c" ] && { export MX_LIBRARY="$c"; break; }
  done
fi
[ -n "${MX_LIBRARY:-}" ] || { echo "run_tests: no libmx.so in $BUILD_DIR (build first, or set MX_LIBRARY)" >&2; exit 1; }
JULIA="$("$ROOT/tools/julia/install_julia.sh" | tail -n 1)" || {
  echo "run_tests: Julia is not available, the Julia tests did not run (tests/python/test_julia_static.py still checks the sources)" >&2
  exit 1
}
echo "run_tests: $("$JULIA" --version) with MX_LIBRARY=$MX_LIBRARY" >&2
cd "$ROOT"
exec "$JULIA" --startup-file=no --project=julia julia/test/runtests.jl
