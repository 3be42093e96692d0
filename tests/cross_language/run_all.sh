#!/bin/sh
# Run the Python <-> R cross-language tests over one libmx (the Julia ones live beside them).
#   MX_LIBRARY=/path/libmx.so [MX_HOME=prefix] [MX_R_LIB=rlib] [MX_REQUIRE_R=1] tests/cross_language/run_all.sh
set -e
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
: "${MX_LIBRARY:=$ROOT/build/install/lib/libmx.so}"
export MX_LIBRARY
export PYTHONPATH="$ROOT/python${PYTHONPATH:+:$PYTHONPATH}"
exec python3 -m pytest -v -s "$HERE/test_cross_language.py" "$@"
