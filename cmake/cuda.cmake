# The CUDA backend (libmx/src/backends/cuda, *.cu), included by CMakeLists.txt before libmx.
#   MX_CUDA=AUTO (default)  compile it when nvcc is found
#   MX_CUDA=ON              required: stop when nvcc is missing
#   MX_CUDA=OFF             CPU only (backends/gpu_none.cc reports "no CUDA backend")
# nvcc comes from the pip wheels of pyproject.toml's `cuda` extra (make deps), CUDA 13.0, found
# inside the Python environment the build uses (<site-packages>/nvidia/cu13/bin/nvcc); else
# -DCMAKE_CUDA_COMPILER=..., else an nvcc on PATH. The runtime is linked statically
# (libcudart_static.a from the wheel): it opens the driver at run time, so the one libmx loads on
# machines without a GPU. Targets: sm_80 and sm_90 machine code, plus compute_90 PTX for newer GPUs.
set(MX_CUDA "AUTO" CACHE STRING "CUDA backend: AUTO (when nvcc is found), ON (required) or OFF")
set_property(CACHE MX_CUDA PROPERTY STRINGS AUTO ON OFF)
set(MX_CUDA_ARCHITECTURES "80-real;90" CACHE STRING "CUDA architectures (CMake CUDA_ARCHITECTURES syntax)")
set(MX_HAVE_CUDA OFF)

if(NOT MX_CUDA STREQUAL "OFF")
  if(NOT CMAKE_CUDA_COMPILER)
    # Re-found at every configure, like the BLAS: the wheel may have been installed since.
    unset(MX_NVCC CACHE)
    execute_process(
      COMMAND ${Python_EXECUTABLE} -c "import os, nvidia; print(';'.join(os.path.join(p, 'cu13', 'bin') for p in nvidia.__path__))"
      OUTPUT_VARIABLE _mx_nvcc_dirs OUTPUT_STRIP_TRAILING_WHITESPACE ERROR_QUIET RESULT_VARIABLE _mx_rc)
    if(_mx_rc EQUAL 0 AND _mx_nvcc_dirs)
      find_program(MX_NVCC nvcc PATHS ${_mx_nvcc_dirs} NO_DEFAULT_PATH)
    endif()
    if(NOT MX_NVCC)
      find_program(MX_NVCC nvcc)
    endif()
    if(MX_NVCC)
      set(CMAKE_CUDA_COMPILER ${MX_NVCC})
    endif()
  endif()
  if(CMAKE_CUDA_COMPILER)
    get_filename_component(MX_CUDA_ROOT "${CMAKE_CUDA_COMPILER}" DIRECTORY)
    get_filename_component(MX_CUDA_ROOT "${MX_CUDA_ROOT}" DIRECTORY)
    # The wheels keep libraries in lib/ where nvcc.profile says lib64/: name it for nvcc's own
    # links (CMake's compiler check links a test program).
    set(CMAKE_CUDA_FLAGS "${CMAKE_CUDA_FLAGS} -L${MX_CUDA_ROOT}/lib")
    if(NOT CMAKE_CUDA_HOST_COMPILER AND CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
      set(CMAKE_CUDA_HOST_COMPILER ${CMAKE_CXX_COMPILER})
    endif()
    set(CMAKE_CUDA_ARCHITECTURES ${MX_CUDA_ARCHITECTURES})
    set(CMAKE_CUDA_STANDARD 17)
    set(CMAKE_CUDA_STANDARD_REQUIRED ON)
    set(CMAKE_CUDA_VISIBILITY_PRESET hidden)
    enable_language(CUDA)
    find_library(MX_CUDART_STATIC NAMES cudart_static PATHS ${MX_CUDA_ROOT}/lib ${MX_CUDA_ROOT}/lib64
                 ${MX_CUDA_ROOT}/targets/x86_64-linux/lib NO_DEFAULT_PATH)
    if(NOT MX_CUDART_STATIC)
      message(FATAL_ERROR "MX_CUDA: nvcc ${CMAKE_CUDA_COMPILER} has no libcudart_static.a beside it "
                          "(pip install the `cuda` extra of pyproject.toml, or -DMX_CUDA=OFF)")
    endif()
    find_package(Threads REQUIRED)
    set(MX_HAVE_CUDA ON)
    message(STATUS "MX CUDA: ON (nvcc ${CMAKE_CUDA_COMPILER_VERSION} at ${CMAKE_CUDA_COMPILER}, architectures ${MX_CUDA_ARCHITECTURES})")
  elseif(MX_CUDA STREQUAL "ON")
    message(FATAL_ERROR "MX_CUDA=ON but no nvcc was found: `make deps` installs it (pyproject.toml's `cuda` extra), "
                        "or pass -DCMAKE_CUDA_COMPILER=/path/to/nvcc")
  else()
    message(STATUS "MX CUDA: OFF (no nvcc found; `make deps` installs it)")
  endif()
else()
  message(STATUS "MX CUDA: OFF (MX_CUDA=OFF)")
endif()

# Adds the backend's sources and the static runtime to libmx (called after add_library(mx)).
function(mx_add_cuda_backend target)
  if(NOT MX_HAVE_CUDA)
    return()
  endif()
  file(GLOB_RECURSE _cu CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/libmx/src/*.cu)
  file(GLOB _cc CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/libmx/src/backends/cuda/*.cc)
  target_sources(${target} PRIVATE ${_cu} ${_cc})
  # Only the files that differ between the two builds see MX_HAVE_CUDA (gpu_none.cc compiles to
  # nothing then): every other object is the same with and without CUDA, so ccache shares them.
  set_source_files_properties(${_cu} ${_cc} ${CMAKE_SOURCE_DIR}/libmx/src/backends/gpu_none.cc
                              ${CMAKE_SOURCE_DIR}/libmx/src/kvstore/collective_nccl_none.cc
                              PROPERTIES COMPILE_DEFINITIONS MX_HAVE_CUDA)
  target_include_directories(${target} SYSTEM PRIVATE ${CMAKE_CUDA_TOOLKIT_INCLUDE_DIRECTORIES})
  target_compile_options(${target} PRIVATE $<$<COMPILE_LANGUAGE:CUDA>:--expt-relaxed-constexpr>)
  if(CMAKE_CUDA_COMPILER_VERSION VERSION_GREATER_EQUAL 12.8)
    # Compressed device code: libmx's kernels take ~7x less space (measured on reduce.cu: 2.7 MB
    # -> 0.35 MB) for no measurable compile time; the driver decompresses them at load.
    target_compile_options(${target} PRIVATE $<$<COMPILE_LANGUAGE:CUDA>:--compress-mode=size>)
  endif()
  target_link_libraries(${target} PRIVATE ${MX_CUDART_STATIC} ${CMAKE_DL_LIBS} rt Threads::Threads)
  set_target_properties(${target} PROPERTIES CUDA_RUNTIME_LIBRARY None CUDA_ARCHITECTURES "${MX_CUDA_ARCHITECTURES}")
endfunction()
