#!/usr/bin/env bash
# The R and Julia halves of `make demo`: each loads the checkpoint that
# examples/train_fashion_mnist.py wrote into BUILD_DIR/demo and predicts the same samples, and
# fails unless its probabilities match Python's.
#   tools/demo_cross_language.sh [BUILD_DIR [DEMO_DIR]]   (defaults: build, BUILD_DIR/demo;
#                                                          run `make build` first)
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD_DIR="${1:-build}"
case "$BUILD_DIR" in /*) ;; *) BUILD_DIR="$ROOT/$BUILD_DIR" ;; esac
DEMO="${2:-$BUILD_DIR/demo}"
cd "$ROOT"
latest="$(ls "$DEMO"/fashion_mlp-[0-9][0-9][0-9][0-9].params 2>/dev/null | sort | tail -n 1)"
[ -n "$latest" ] || { echo "demo: no checkpoint in $DEMO (run examples/train_fashion_mnist.py first)" >&2; exit 1; }
epoch="${latest##*-}"; epoch=$((10#${epoch%.params}))
prefix="$DEMO/fashion_mlp"

echo "==== R: mx.model.load + predict"
mkdir -p "$BUILD_DIR/rlib"
if ! MX_HOME="$BUILD_DIR/install" R CMD INSTALL --preclean -l "$BUILD_DIR/rlib" r-package > "$DEMO/r-install.log" 2>&1; then
  echo "demo: installing the R package failed; see $DEMO/r-install.log" >&2
  exit 1
fi
R_LIBS="$BUILD_DIR/rlib" Rscript examples/demo_predict.R "$prefix" "$epoch" "$DEMO/demo_io.nd"

echo "==== Julia: MX.load_checkpoint + predict"
if JULIA="$(tools/julia/install_julia.sh 2>/dev/null | tail -n 1)" && [ -x "$JULIA" ]; then
  MX_LIBRARY="$BUILD_DIR/libmx.so" "$JULIA" --startup-file=no --project=julia examples/demo_predict.jl \
    "$prefix" "$epoch" "$DEMO/demo_io.nd"
else
  echo "demo: Julia is not available on this machine (tools/julia/install_julia.sh failed); the Julia half did not run"
fi
