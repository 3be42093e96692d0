// CUDA kernels of the fixed-cost random ops (backends/cuda/random.cu). They reserve counter
// blocks from the op's device generator exactly as the CPU kernels do and evaluate the same
// formulas (ops/formulas/random.h), so gpu(0) and cpu(0) seeded alike give the same numbers.
#pragma once
#include <cstdint>

#include "ops/cuda_only.h"
#include "ops/registry.h"

namespace mx {

void gpu_random_uniform(const OpCall &c, double low, double width);
void gpu_random_normal(const OpCall &c, double loc, double scale);
void gpu_random_exponential(const OpCall &c, double lam);
void gpu_random_randint(const OpCall &c, int64_t low, uint64_t range);

}  // namespace mx
