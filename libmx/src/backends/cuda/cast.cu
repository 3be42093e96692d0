// The dtype conversion kernel (backends/gpu_convert.h): every pair of MX's nine dtypes, one thread
// per element, with the CPU's rules (ndarray.cc convert_buffer): values pass through double,
// integers go to int64 directly, bool is 0/1, float16/bfloat16 are loaded to float and rounded to
// nearest even on the way out (base/half_hd.h).
#include <type_traits>

#include "backends/cuda/launch.cuh"
#include "backends/gpu_convert.h"
#include "base/half_hd.h"

namespace mx {
namespace cuda {
namespace {

struct hd_bool {  // bool_t's layout, usable on the device
  uint8_t v;
};
template <typename T> struct dev_elem { using type = hd_elem_t<T>; };
template <> struct dev_elem<bool_t> { using type = hd_bool; };

template <typename S> __device__ double load(S s) {
  if constexpr (std::is_same_v<S, hd_bool>) return s.v ? 1.0 : 0.0;
  else if constexpr (std::is_same_v<S, hd_half> || std::is_same_v<S, hd_bf16>) return static_cast<double>(float(s));
  else return static_cast<double>(s);
}

template <typename D, typename S> __device__ D convert_elem(S s) {
  if constexpr (std::is_same_v<D, int64_t> && std::is_integral_v<S>) return static_cast<int64_t>(s);
  else if constexpr (std::is_same_v<D, int32_t> && std::is_same_v<S, int64_t>) return static_cast<int32_t>(s);
  else if constexpr (std::is_same_v<D, hd_bool>) return hd_bool{static_cast<uint8_t>(load(s) != 0.0)};
  else if constexpr (std::is_same_v<D, hd_half> || std::is_same_v<D, hd_bf16>) return D(static_cast<float>(load(s)));
  else return static_cast<D>(load(s));
}

template <typename D, typename S>
__global__ void convert_kernel(int64_t n, const S *__restrict__ s, D *__restrict__ d) {
  MX_GRID_LOOP(i, n) d[i] = convert_elem<D, S>(s[i]);
}

}  // namespace
}  // namespace cuda

namespace gpu {

void convert(int dev, const char *op, const void *src, DType st, void *dst, DType dt, int64_t n) {
  if (n <= 0) return;
  if (st == dt) {
    copy(dst, Device{MX_GPU, dev}, src, Device{MX_GPU, dev}, static_cast<size_t>(n) * dtype_size(st));
    return;
  }
  cudaStream_t stream = static_cast<cudaStream_t>(compute_stream(dev, op));
  MX_DTYPE_SWITCH_ALL(st, S0, {
    using S = typename cuda::dev_elem<S0>::type;
    MX_DTYPE_SWITCH_ALL(dt, D0, {
      using D = typename cuda::dev_elem<D0>::type;
      cuda::convert_kernel<D, S><<<cuda::blocks_for(n), cuda::kThreads, 0, stream>>>(
          n, static_cast<const S *>(src), static_cast<D *>(dst));
    });
  });
  check_launch(op);
}

}  // namespace gpu
}  // namespace mx
