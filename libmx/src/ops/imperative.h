// Imperative execution: infer, allocate, run the kernel, and tape the call while recording.
#pragma once
#include <memory>
#include <vector>

#include "ops/registry.h"

namespace mx {

// inputs: regular inputs followed by aux states. When `out` is given, results are written into
// those arrays (shapes must match the inferred ones). Returns the visible outputs.
std::vector<NDArray> invoke(const OpDef *op, const std::shared_ptr<const Params> &params,
                            const std::vector<NDArray> &inputs, const std::vector<NDArray> *out = nullptr);
// Convenience for core code: parse kwargs and invoke.
std::vector<NDArray> invoke(const std::string &op, const Kwargs &kwargs, const std::vector<NDArray> &inputs);
// All outputs including hidden ones, no taping (used by autograd and the executor).
std::vector<NDArray> invoke_raw(const OpDef *op, const Params &params, const std::vector<NDArray> &inputs,
                                const std::vector<NDArray> &aux, bool is_train,
                                const std::vector<NDArray> *out = nullptr,
                                const std::vector<bool> *skip = nullptr);

// Whether the op's kernels take dtype `t` directly (else f16/bf16 run through f32 in invoke_raw).
bool supports_dtype(const OpDef *op, DType t);
// The same on the CPU, where the op's cpu_dtypes (bfloat16 on oneDNN) count too.
bool supports_dtype_cpu(const OpDef *op, DType t);

// The same on device `dev` (on a GPU also the op's gpu_dtypes).
bool supports_dtype_on(const OpDef *op, DType t, Device dev);
// Whether output i of `op` is a saved output (OpDef::num_saved_outputs).
bool is_saved_output(const OpDef *op, const Params &p, size_t i);

// Thread-local autograd switches.
bool is_recording();
bool is_training();
bool set_recording(bool on);  // returns previous
bool set_training(bool on);

}  // namespace mx
