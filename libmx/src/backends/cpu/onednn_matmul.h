// A matrix product repeated with one right-hand side, C (M x N) += A (M x K) . op(B), as an RNN
// uses its recurrent weight at every time step. It runs as oneDNN's matmul with B laid out once
// in the packed layout the matmul wants: at a few dozen rows (M is the batch) BLAS spends much of
// each call packing B, and oneDNN's small-M kernel is faster besides (1.2-1.6x at 64 x 512 x 2048
// on one thread). float32 only.
#pragma once
#include <cstdint>
#include <memory>

namespace mx {
namespace onednn {

class RepeatedProduct {
 public:
  RepeatedProduct();
  ~RepeatedProduct();
  RepeatedProduct(const RepeatedProduct &) = delete;
  RepeatedProduct &operator=(const RepeatedProduct &) = delete;
  // B is N x K row-major when b_trans (C += A B^T), else K x N (C += A B); it is read here, not
  // kept. Returns false when oneDNN does not take the case (not built, switched off, declined);
  // the caller then runs its BLAS product.
  bool prepare(int64_t M, int64_t K, int64_t N, const float *B, bool b_trans);
  // C (M x N, row-major) += A (M x K, row-major) . op(B), after a successful prepare().
  void accumulate(const float *A, float *C) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace onednn
}  // namespace mx
