# MX developer entry points. `make help` lists them.
#
#   make demo    install deps, build, train the Fashion-MNIST demo (examples/train_fashion_mnist.py),
#                then load the checkpoint in R and Julia and predict the same samples
#   make test    install deps, build, run every test suite (C via ctest, Python via pytest, ...)
#
# Variables (override on the command line: make test PYTHON=.venv/bin/python):
PYTHON    ?= python3
BUILD_DIR ?= build
JOBS      ?= 2
CMAKE     ?= cmake
CMAKE_ARGS ?=
PYTEST_ARGS ?=
DEMO_ARGS ?=
EXTRAS    ?= test,cuda
NO_APT    ?=

ROOT := $(patsubst %/,%,$(dir $(abspath $(lastword $(MAKEFILE_LIST)))))
# ccache (Debian, installed by `make deps`) makes rebuilds and other build folders of the same
# sources cheap; paths under the repo are hashed relative to it, so worktrees share the cache.
# Expanded when the build recipe runs (not at parse time), so a `make test` that installs ccache
# in its deps step already uses it.
CCACHE = $(shell command -v ccache 2>/dev/null)
export CCACHE_BASEDIR ?= $(ROOT)
export CCACHE_NOHASHDIR ?= 1
CCACHE_ARGS = $(if $(CCACHE),-DCMAKE_C_COMPILER_LAUNCHER=$(CCACHE) -DCMAKE_CXX_COMPILER_LAUNCHER=$(CCACHE) -DCMAKE_CUDA_COMPILER_LAUNCHER=$(CCACHE))
MX_PREFIX = $(ROOT)/$(BUILD_DIR)/install
ASAN_DIR  ?= build-asan
FUZZ_DIR  ?= build-fuzz
FUZZ_SECONDS ?= 600
FUZZ_CI_SECONDS ?= 20
ASAN_SUBSET ?= tests/python/test_errors.py tests/python/test_ndarray_io.py tests/python/test_recordio.py \
               tests/python/test_data_iters.py tests/python/test_symbol.py tests/python/test_dlpack.py
# RSS-based leak tests (test_leaks.py: ASan's quarantine grows RSS; LSan checks leaks instead)
# and the timed example runs are left out under ASan.
ASAN_PYTEST_ARGS ?= tests/python --ignore=tests/python/test_leaks.py --ignore=tests/python/test_examples.py
SAN_CMAKE = -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++ -DMX_BUILD_PYTHON=OFF -DMX_CUDA=OFF \
            -DPython_EXECUTABLE=$(PY_EXE) $(CCACHE_ARGS)
PY_EXE = $(shell $(PYTHON) -c 'import sys; print(sys.executable)')

# ---- test suites: ONE LINE adds one, `suite.NAME = command` (run from the repo root). `make test`
# runs every suite in name order, goes on after a failure and fails if any suite failed;
# `make test-NAME` runs one; `make test SUITES="c python"` a chosen few.
suite.c      = cd $(BUILD_DIR) && ctest --output-on-failure -j $(JOBS)
suite.python = PYTHONPATH=$(ROOT)/python $(PYTHON) -m pytest tests/python -q $(PYTEST_ARGS)
# R: install into build/rlib, regenerate the op docs from the registry (generated files, kept
# committed), then R CMD check (which also runs tests/testthat) against the libmx that
# `make build` installed into $(BUILD_DIR)/install.
suite.r      = mkdir -p $(BUILD_DIR)/rlib && MX_HOME=$(MX_PREFIX) R CMD INSTALL --preclean -l $(BUILD_DIR)/rlib r-package \
               && R_LIBS=$(ROOT)/$(BUILD_DIR)/rlib Rscript r-package/tools/gen-op-docs.R r-package/man \
               && cd $(BUILD_DIR) && rm -rf mx.Rcheck mx_*.tar.gz && MX_HOME=$(MX_PREFIX) R CMD build $(ROOT)/r-package \
               && MX_HOME=$(MX_PREFIX) _R_CHECK_FORCE_SUGGESTS_=false R CMD check --no-manual mx_*.tar.gz \
               && ! grep -q "Status:.*\(ERROR\|WARNING\)" mx.Rcheck/00check.log
# Julia: a private Julia 1.5.3 when none is on PATH; if it cannot be installed the suite says so
# and passes (the no-Julia checks run in tests/python/test_julia_static.py).
suite.julia  = MX_LIBRARY=$(ROOT)/$(BUILD_DIR)/libmx.so tools/julia/run_tests.sh $(BUILD_DIR) \
               || { if tools/julia/install_julia.sh >/dev/null 2>&1; then exit 1; fi; \
                    echo "==== JULIA IS NOT INSTALLED: the Julia tests did not run (static checks ran with the Python suite)"; }
# Python <-> R and Python <-> Julia over the same libmx (Julia parts skip only without Julia).
suite.xlang  = MX_LIBRARY=$(ROOT)/$(BUILD_DIR)/libmx.so MX_HOME=$(MX_PREFIX) MX_R_LIB=$(ROOT)/$(BUILD_DIR)/rlib \
               MX_REQUIRE_R=1 PYTHONPATH=$(ROOT)/python $(PYTHON) -m pytest tests/cross_language -q -p no:cacheprovider
# Tutorials: execute docs/tutorials/*.ipynb with nbclient (Python kernel + IRkernel; Julia from a cell);
# executed copies land in $(BUILD_DIR)/notebooks/executed for the documentation site.
suite.notebooks = BUILD_DIR=$(BUILD_DIR) PYTHONPATH=$(ROOT)/python $(PYTHON) -m pytest tests/notebooks -q -p no:cacheprovider
# Documentation site (tools/docs/build_docs.py, Sphinx with warnings as errors) into $(BUILD_DIR)/docs/html;
# named so it runs after the notebooks suite and renders its executed copies.
suite.site = $(PYTHON) tools/docs/build_docs.py --build-dir $(BUILD_DIR)
# Sanitizers and fuzzing (clang; cmake/sanitizers.cmake): build-asan/ and build-fuzz/ compile
# libmx with the same flags, so ccache compiles it once for both.
#   fuzz: libFuzzer harness per reader (tests/fuzz): regression inputs, then FUZZ_CI_SECONDS each
#         (`make fuzz`: FUZZ_SECONDS each)
suite.fuzz   = $(MAKE) --no-print-directory fuzz-build && tests/fuzz/run_fuzz.sh $(FUZZ_DIR) $(FUZZ_CI_SECONDS)
#   asan-subset: the C tests and the Python files that drive the readers, errors and symbols under
#         ASan+UBSan+LSan (tests/asan/run_asan.sh). The whole Python suite under ASan is
#         `make test-asan` (too slow for make test's 30-minute budget on 2 cores).
suite.asan-subset = $(MAKE) --no-print-directory asan-build && PYTHON=$(PY_EXE) tests/asan/run_asan.sh $(ASAN_DIR) $(ASAN_SUBSET)
# Distributed training on Open MPI (mpirun --oversubscribe; 1-3 local workers, one thread each).
# R and Julia workers use $(BUILD_DIR)/rlib (installed here if the r suite has not run yet) and
# $(BUILD_DIR)/libmx.so.
suite.dist   = BUILD_DIR=$(BUILD_DIR) MX_HOME=$(MX_PREFIX) MX_R_LIB=$(ROOT)/$(BUILD_DIR)/rlib \
               PYTHONPATH=$(ROOT)/python $(PYTHON) -m pytest tests/dist -q -p no:cacheprovider $(PYTEST_ARGS)
SUITES ?= $(sort $(patsubst suite.%,%,$(filter suite.%,$(.VARIABLES))))

.PHONY: help all build deps test demo bench wheel test-wheel install clean docs fuzz fuzz-build asan-build test-asan
.DEFAULT_GOAL := help
# Targets run in order (deps before build: cmake must see the codecs apt installs); cmake
# parallelises the compile itself (JOBS).
.NOTPARALLEL:

help:
	@echo "make demo    deps + build, then train the Fashion-MNIST demo ($(PYTHON) examples/train_fashion_mnist.py $(DEMO_ARGS))"
	@echo "make test    deps + build, then every test suite: $(SUITES)"
	@echo "make test-NAME   one suite (no deps/build step); suites: $(SUITES)"
	@echo "make build   cmake configure + build into $(BUILD_DIR)/, libmx + cffi module copied into python/mx"
	@echo "make deps    pip install the '$(EXTRAS)' extras of pyproject.toml + Debian packages (NO_APT=1 skips apt)"
	@echo "make bench   $(PYTHON) benchmarks/run_all.py"
	@echo "make docs    the documentation site into $(BUILD_DIR)/docs/html (after make build; make test-notebooks first renders executed tutorials)"
	@echo "make wheel   build dist/mx-*manylinux*.whl (pip wheel + auditwheel repair; incremental build in build-wheel/)"
	@echo "make test-wheel   make wheel, then install it in a fresh venv; Python, R and Julia use it (tests/wheel)"
	@echo "make install pip install . into $(PYTHON)'s environment"
	@echo "make test-gpu   the GPU checks of tests/gpu (after make build; says 'no GPU: skipped' without one)"
	@echo "make test-asan  ASan+UBSan libmx ($(ASAN_DIR)/): C tests + the whole Python suite (make test runs a subset)"
	@echo "make fuzz    build the libFuzzer harnesses ($(FUZZ_DIR)/) and fuzz each reader FUZZ_SECONDS=$(FUZZ_SECONDS) s"
	@echo "make clean   remove $(BUILD_DIR)/, build-wheel/, dist/ and the in-place copies in python/mx"

all: build

build:
	$(CMAKE) -S . -B $(BUILD_DIR) -DMX_PYTHON_INPLACE=ON -DPython_EXECUTABLE=$(PY_EXE) \
	  -DCMAKE_INSTALL_PREFIX=$(MX_PREFIX) $(CCACHE_ARGS) $(CMAKE_ARGS)
	$(CMAKE) --build $(BUILD_DIR) -j $(JOBS)
	$(CMAKE) --install $(BUILD_DIR) > /dev/null

deps:
	$(PYTHON) tools/install_deps.py --extras=$(EXTRAS) $(if $(NO_APT),--no-apt)

test: deps build
	@failed=""; for s in $(SUITES); do \
	  echo "==== make test: suite $$s"; \
	  $(MAKE) --no-print-directory test-$$s || failed="$$failed $$s"; \
	done; \
	if [ -n "$$failed" ]; then echo "==== make test: FAILED suite(s):$$failed (of: $(SUITES))"; exit 1; fi; \
	echo "==== make test: all suites passed ($(SUITES))"

test-%:
	$(if $(suite.$*),,$(error no test suite '$*'; suites: $(SUITES)))
	$(suite.$*)

# clang ASan+UBSan builds (cmake/sanitizers.cmake); libmx compiled once thanks to ccache.
asan-build:
	$(CMAKE) -S . -B $(ASAN_DIR) -DMX_SANITIZE=ON $(SAN_CMAKE)
	$(CMAKE) --build $(ASAN_DIR) -j $(JOBS)

fuzz-build:
	$(CMAKE) -S . -B $(FUZZ_DIR) -DMX_FUZZ=ON -DMX_BUILD_TESTS=OFF $(SAN_CMAKE)
	$(CMAKE) --build $(FUZZ_DIR) -j $(JOBS) --target fuzz_all

fuzz: deps fuzz-build
	tests/fuzz/run_fuzz.sh $(FUZZ_DIR) $(FUZZ_SECONDS)

# GPU checks (tests/gpu, < 8 min on one GPU; not part of make test): every op with a GPU kernel
# against its CPU kernel, copies, the memory pool, Philox on the GPU. Where no GPU is usable it
# prints "no GPU: skipped" with the reason and passes.
test-gpu:
	PYTHONPATH=$(ROOT)/python $(PYTHON) tests/gpu/run_gpu_tests.py $(PYTEST_ARGS)

# The whole Python suite (and the C tests) against the ASan+UBSan libmx; not part of make test.
test-asan: asan-build
	ASAN_PER_FILE=1 MX_ONNX_ZOO=quick PYTHON=$(PY_EXE) tests/asan/run_asan.sh $(ASAN_DIR) $(ASAN_PYTEST_ARGS)

demo: deps build
	$(PYTHON) examples/train_fashion_mnist.py $(DEMO_ARGS)
	tools/demo_cross_language.sh $(BUILD_DIR)

docs:
	$(suite.site)

bench: EXTRAS = test,bench
bench: deps build
	$(PYTHON) benchmarks/run_all.py

# --no-build-isolation: scikit-build-core clears its build folder whenever pip's isolated build
# environment changes (every isolated build), so only builds in this environment are incremental.
# -v shows CMake's progress; ccache is passed as the compiler launcher (build-wheel/ sits as deep
# as build/, so both share cached objects). auditwheel then copies the libraries that are not part
# of the manylinux baseline (libpng, libjpeg, libgomp; zlib belongs to it) into the wheel, rewrites rpaths and
# retags it: dist/mx-*-manylinux_*.whl (OpenBLAS from scipy-openblas32 is bundled too).
# The compilers are named as CMake names them for `make build` (cc/c++; with Ninja it would pick
# gcc/g++), since ccache keys objects by the compiler's name too.
WHEEL_CCACHE = $(if $(CCACHE),-Ccmake.define.CMAKE_C_COMPILER_LAUNCHER=$(CCACHE) -Ccmake.define.CMAKE_CXX_COMPILER_LAUNCHER=$(CCACHE) \
               $(if $(shell command -v c++ 2>/dev/null),-Ccmake.define.CMAKE_C_COMPILER=cc -Ccmake.define.CMAKE_CXX_COMPILER=c++))
wheel:
	$(PYTHON) tools/install_deps.py --extras=wheel --no-apt
	rm -rf dist/raw dist/mx-*.whl
	CMAKE_BUILD_PARALLEL_LEVEL=$(JOBS) $(PYTHON) -m pip wheel . --no-deps --no-build-isolation -v -w dist/raw $(WHEEL_CCACHE)
	$(PYTHON) tools/repair_wheel.py dist/raw dist

# The wheel end to end (minutes: builds it): auditwheel, a fresh venv, R and Julia against it.
test-wheel: wheel
	MX_WHEEL_DIR=$(ROOT)/dist PYTHONPATH=$(ROOT)/python $(PYTHON) -m pytest tests/wheel -q -p no:cacheprovider

install:
	$(PYTHON) tools/install_deps.py --extras= --no-apt
	$(PYTHON) -m pip install . --no-build-isolation

clean:
	rm -rf $(BUILD_DIR) build-wheel dist .pytest_cache $(ASAN_DIR) $(FUZZ_DIR)
	rm -f python/mx/libmx.so python/mx/_mx_cffi*.so
	rm -rf python/mx/include
