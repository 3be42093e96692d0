// The binary element-wise families (elemwise_<op>, broadcast_<op>, _<op>_scalar, _r<op>_scalar)
// share one functor per op (ops/formulas/binary.h, also the CUDA kernels'); the families are
// registered from two translation units (elemwise_binary.cc: arithmetic, elemwise_compare.cc:
// comparisons and logic) to split the template instantiations.
#pragma once
#include <string>
#include <vector>

#include "ops/elemwise_common.h"
#include "ops/elemwise_gpu.h"
#include "ops/formulas/binary.h"

namespace mx {

template <typename F> KernelFn binary_kernel() {
  return [](const OpCall &c) {
    MX_DTYPE_SWITCH_NUMERIC(c.inputs[0].dtype(), T, c.params.op->name, {
      broadcast_binary<T, T, T>(c.inputs[0], c.inputs[1], c.outputs[0], [](T a, T b) { return F::template f<T>(a, b); });
    });
  };
}
template <typename F, bool Reverse> KernelFn scalar_kernel() {
  return [](const OpCall &c) {
    const auto &p = c.p<ScalarParam>();
    MX_DTYPE_SWITCH_NUMERIC(c.inputs[0].dtype(), T, c.params.op->name, {
      const T s = static_cast<T>(p.scalar);
      if (Reverse) map_unary<T, T>(c.inputs[0], c.outputs[0], [s](T a) { return F::template f<T>(s, a); });
      else map_unary<T, T>(c.inputs[0], c.outputs[0], [s](T a) { return F::template f<T>(a, s); });
    });
  };
}

// Registers elemwise_/_<name>, broadcast_<name>, _<name>_scalar and (when given) the reverse
// scalar form, for one functor.
struct Family {
  std::string name;
  KernelFn bin, scal, rscal;
  KernelFn gbin, gscal, grscal;  // CUDA kernels (empty in a build without CUDA)
  GradFn grad;                 // for the two array forms
  GradFn scalar_grad, rscalar_grad;
  std::vector<DType> dtypes;
  std::vector<DType> cpu_dtypes;             // the array forms' CPU kernel takes these directly too
  std::vector<std::string> elemwise_names;   // first is the canonical name
  std::vector<std::string> broadcast_names;  // first is canonical
  std::vector<std::string> scalar_names, rscalar_names;
};

void register_binary_family(const Family &f);

template <typename F> Family binary_family(const std::string &name, std::vector<DType> dtypes) {
  Family f;
  f.name = name;
  f.bin = binary_kernel<F>();
  f.scal = scalar_kernel<F, false>();
  f.rscal = scalar_kernel<F, true>();
  f.gbin = gpu_binary_kernel(F::id);
  f.gscal = gpu_scalar_kernel(F::id, false);
  f.grscal = gpu_scalar_kernel(F::id, true);
  f.dtypes = std::move(dtypes);
  return f;
}

}  // namespace mx
