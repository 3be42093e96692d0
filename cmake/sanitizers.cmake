# Sanitizer build of libmx (MX_SANITIZE, MX_FUZZ): clang with AddressSanitizer + UBSan, for
# `make test-asan` (build-asan/) and the libFuzzer harnesses (`make fuzz`, build-fuzz/).
# Included before any target is defined, so libmx and the C tests get the same flags.
#
# Both folders compile libmx with the SAME flags, so ccache compiles it once for both: -O1 (the
# usual sanitizer level; -O3 with ASan+UBSan takes several times longer to compile), and
# libFuzzer's coverage instrumentation on the sources the fuzzers explore (readers, JSON,
# symbols; see MX_FUZZ_COVERED) — outside a fuzzer its callbacks are the ASan runtime's no-ops.
# libmx leaves the sanitizer runtime symbols undefined (no --no-undefined here): executables (C
# tests, fuzzers) link clang's static runtime, which exports them; a Python interpreter that was
# not built with ASan preloads the shared runtime instead (LD_PRELOAD, tests/asan/run_asan.sh).
if(NOT CMAKE_CXX_COMPILER_ID MATCHES "Clang" OR NOT CMAKE_C_COMPILER_ID MATCHES "Clang")
  message(FATAL_ERROR "MX_SANITIZE/MX_FUZZ need clang (Debian: apt-get install clang libclang-rt-dev "
                      "libomp-dev): cmake -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++")
endif()
set(MX_SAN_FLAGS -O1 -fsanitize=address,undefined -fno-omit-frame-pointer -g1)
add_compile_options(${MX_SAN_FLAGS})
# The C tests are C, but the static runtime's C++ parts (UBSan's vptr checks in libmx) need
# libstdc++: -fsanitize-link-c++-runtime and libstdc++ at the end of C link lines.
add_link_options(-fsanitize=address,undefined -fsanitize-link-c++-runtime)
set(CMAKE_C_STANDARD_LIBRARIES "${CMAKE_C_STANDARD_LIBRARIES} -lstdc++")
# Sources whose branches the fuzzers should see (globs under libmx/src), instrumented for coverage.
set(MX_FUZZ_COVERED io/*.cc base/*.cc graph/symbol.cc)
function(mx_fuzz_coverage target)
  foreach(pattern ${MX_FUZZ_COVERED})
    file(GLOB files ${CMAKE_SOURCE_DIR}/libmx/src/${pattern})
    set_property(SOURCE ${files} TARGET_DIRECTORY ${target} APPEND PROPERTY COMPILE_OPTIONS -fsanitize=fuzzer-no-link)
  endforeach()
endfunction()
# Called on libmx once it is defined: coverage for the fuzzed sources, and no --no-undefined.
function(mx_sanitize_target target)
  mx_fuzz_coverage(${target})
  get_target_property(opts ${target} LINK_OPTIONS)
  list(FILTER opts EXCLUDE REGEX "no-undefined")
  set_target_properties(${target} PROPERTIES LINK_OPTIONS "${opts}")
endfunction()
execute_process(COMMAND ${CMAKE_CXX_COMPILER} -print-file-name=libclang_rt.asan-x86_64.so
                OUTPUT_VARIABLE MX_ASAN_RUNTIME OUTPUT_STRIP_TRAILING_WHITESPACE)
message(STATUS "MX sanitizers: ${MX_SAN_FLAGS}; runtime ${MX_ASAN_RUNTIME}")
