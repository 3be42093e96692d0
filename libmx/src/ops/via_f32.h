// Kernels that take bfloat16 directly (OpDef::cpu_dtypes: oneDNN's bf16 primitives) call this
// for the cases oneDNN does not take (not built, switched off, unimplemented shapes): the op's
// float32 kernel runs on float32 copies and the results are rounded back, exactly as invoke_raw
// does for ops without bf16 kernels. A build without oneDNN therefore computes the same values.
#pragma once
#include "ops/registry.h"

namespace mx {

// Runs `f32_kernel` on c with every float16/bfloat16 input, aux state and output replaced by a
// float32 copy; outputs and aux states (BatchNorm's moving statistics) are written back.
void run_via_f32(const OpCall &c, const KernelFn &f32_kernel);

}  // namespace mx
