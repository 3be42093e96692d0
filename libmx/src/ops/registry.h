// The operator registry: one OpDef per operator holds everything about it (inputs, typed
// params, shape/dtype inference, kernels, gradient). Ops register themselves from their own
// source file with MX_REGISTER_OP; nothing else needs editing to add one.
#pragma once
#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "ndarray/ndarray.h"
#include "ops/params.h"

namespace mx {

class RandomState;  // random/philox.h

// What a kernel sees. Inputs exclude aux states; aux states are updated in place.
struct OpCall {
  const Params &params;
  const std::vector<NDArray> &inputs;
  const std::vector<NDArray> &aux;
  const std::vector<NDArray> &outputs;  // allocated with the inferred shapes and dtypes
  bool is_train;
  RandomState *rng;  // the device's generator
  // Outputs nobody reads (e.g. the data gradient of a first layer); kernels may skip them.
  const std::vector<bool> *skip = nullptr;
  template <typename T> const T &p() const { return params.get<T>(); }
  bool needed(size_t i) const { return !skip || i >= skip->size() || !(*skip)[i]; }
};

using ShapeVec = std::vector<Shape>;
using TypeVec = std::vector<int>;  // dtype codes, -1 unknown

// Fill unknown shapes that can be deduced (outputs from inputs, and where possible inputs such
// as weights from data). Return false when outputs cannot be inferred yet (partial inference).
// Throw fail(MX_ERR_SHAPE, ...) on inconsistent known shapes.
using InferShapeFn = std::function<bool(const Params &, ShapeVec &in, ShapeVec &aux, ShapeVec &out)>;
using InferTypeFn = std::function<bool(const Params &, TypeVec &in, TypeVec &aux, TypeVec &out)>;
using KernelFn = std::function<void(const OpCall &)>;
// Data-dependent output shapes (boolean_mask, ...): static inference leaves such outputs unknown
// (returns false); this function then reads the input *values* (CPU arrays; the op's kernels are
// CPU-only) and sets every output shape. invoke_raw calls it before allocating the outputs; the
// graph executor runs graphs containing such ops node by node (docs/DESIGN.md section 4).
using ShapeFromValuesFn = std::function<void(const Params &, const std::vector<NDArray> &inputs, ShapeVec &out)>;

// Sparse storage (docs/DESIGN.md "Storage types"). Storage type codes follow MXNet: 0 default,
// 1 row_sparse, 2 csr. infer_stype sees the inputs' stypes (aux included) and fills the
// outputs'; it returns true when the op's sparse kernel handles this combination, false to
// let the storage fallback densify sparse inputs and run the dense kernel.
using STypeVec = std::vector<int>;
using InferSTypeFn = std::function<bool(const Params &, const STypeVec &in, STypeVec &out)>;
// A sparse kernel allocates its own outputs (their nnz is only known while computing), with
// the inferred logical shapes, dtypes and stypes.
struct SparseCall {
  const Params &params;
  const std::vector<NDArray> &inputs;
  const std::vector<NDArray> &aux;
  const ShapeVec &out_shapes;
  const TypeVec &out_dtypes;
  const STypeVec &out_stypes;
  bool is_train;
  template <typename T> const T &p() const { return params.get<T>(); }
};
using SparseKernelFn = std::function<std::vector<NDArray>(const SparseCall &)>;

// ---- gradients, written once, run by autograd (imperatively) and by the executor (as graph).
// A Var names a value inside a GradBuilder: an NDArray in autograd, a graph entry in the executor.
struct Var {
  int id = -1;
  bool valid() const { return id >= 0; }
  static Var none() { return Var(); }
};

class GradBuilder {
 public:
  virtual ~GradBuilder() = default;
  // Apply an op to Vars; returns all its outputs (visible and hidden).
  virtual std::vector<Var> emit(const OpDef *op, std::shared_ptr<const Params> params,
                                const std::vector<Var> &inputs) = 0;
  std::vector<Var> emit(const std::string &op, const Kwargs &kwargs, const std::vector<Var> &inputs);
  Var emit1(const std::string &op, const Kwargs &kwargs, const std::vector<Var> &inputs) {
    return emit(op, kwargs, inputs)[0];
  }
  // Like emit, marking outputs that will not be read (skip[i] true): kernels may leave them
  // uncomputed. Builders that cannot use the hint fall back to emit.
  virtual std::vector<Var> emit_skipping(const OpDef *op, std::shared_ptr<const Params> params,
                                         const std::vector<Var> &inputs, const std::vector<bool> &skip) {
    (void)skip;
    return emit(op, std::move(params), inputs);
  }
  // Known shape and dtype of a Var (always known in both builders).
  virtual Shape shape(Var v) = 0;
  virtual DType dtype(Var v) = 0;
};

// A node whose gradient is asked for. out_grads has one entry per visible output (zeros when
// nothing flowed back). Returns one Var per input (Var::none() for no gradient).
struct GradNode {
  const OpDef *op;
  std::shared_ptr<const Params> params;
  std::vector<Var> inputs;
  std::vector<Var> aux;
  std::vector<Var> outputs;  // all outputs, hidden included
  std::vector<Var> out_grads;
  std::vector<bool> needs_grad;  // per input: does anything use its gradient? (empty: all)
  template <typename T> const T &p() const { return params->get<T>(); }
  bool needs(size_t i) const { return i >= needs_grad.size() || needs_grad[i]; }
};
using GradFn = std::function<std::vector<Var>(GradBuilder &, const GradNode &)>;

struct OpDef {
  std::string name;
  std::vector<std::string> aliases;
  std::string doc;
  ParamSchema params;
  // Inputs: fixed names, or a function of the params (e.g. bias dropped when no_bias).
  std::vector<std::string> input_names;
  std::function<std::vector<std::string>(const Params &)> input_names_fn;
  // Variadic: the count comes from param `variadic_count_param` (e.g. "num_args") or the call.
  bool variadic = false;
  std::string variadic_count_param;
  std::vector<std::string> aux_names;
  std::vector<std::string> output_names{"output"};
  std::function<int(const Params &)> num_outputs_fn;          // default: output_names.size()
  std::function<int(const Params &)> num_visible_outputs_fn;  // default: all
  // The last `num_saved_outputs` hidden outputs exist only for the gradient (RNN's reserve): they
  // are allocated only when the call is recorded (invoke_raw) or a backward step reads them
  // (executor); otherwise they arrive as empty arrays, which the kernel must leave alone and
  // the backward kernel must accept (then it recomputes what it needs).
  int num_saved_outputs = 0;
  InferShapeFn infer_shape;
  InferTypeFn infer_type;  // default: every input and output share one dtype
  KernelFn forward_cpu;
  KernelFn forward_gpu;  // empty when there is no CUDA kernel
  GradFn gradient;
  ShapeFromValuesFn shape_from_values;  // set only for ops with data-dependent output shapes
  bool differentiable = true;  // false: explicitly non-differentiable (argmax, comparisons, ...)
  bool needs_rng = false;
  // Dtypes the kernels handle; float16/bfloat16 inputs of ops without them run through float32.
  std::vector<DType> dtypes{DType::f32, DType::f64};
  // Further dtypes only the GPU kernel computes natively (float16 on cuDNN's tensor cores); on
  // the CPU these still run through float32.
  std::vector<DType> gpu_dtypes;
  // Further dtypes only the CPU kernel takes directly (bfloat16 on oneDNN's bf16 primitives; the
  // kernel itself falls back to float32 where oneDNN does not take the case); on a GPU these
  // still run through float32.
  std::vector<DType> cpu_dtypes;
  bool hidden = false;  // internal op (names starting with '_'), kept out of front-end namespaces
  // (input, output) pairs whose memory the kernel may share: it reads input element i only to
  // write output element i. The executor's memory planner uses them when dtype and element
  // count match.
  std::vector<std::pair<int, int>> inplace;
  // Sparse kernels (optional; ops without them take sparse inputs through the storage fallback).
  InferSTypeFn infer_stype;
  SparseKernelFn forward_sparse;
  bool stype_from_dense = false;  // may produce sparse outputs from dense inputs (cast_storage)

  std::vector<std::string> inputs(const Params &p) const;
  size_t num_inputs(const Params &p) const {  // without copying names (hot path)
    return input_names_fn ? input_names_fn(p).size() : input_names.size();
  }
  // Parameters with every default, parsed once (ops called without parameters).
  std::shared_ptr<const Params> default_params() const;
  int num_outputs(const Params &p) const;
  int num_visible_outputs(const Params &p) const;
  std::string schema_json() const;

 private:
  mutable std::shared_ptr<const Params> default_params_;  // written once, before default_params_ready_
  mutable std::atomic<bool> default_params_ready_{false};
};

class Registry {
 public:
  static Registry &get();
  OpDef &add(const std::string &name);
  const OpDef *find(const std::string &name) const;  // nullptr when unknown
  const OpDef &require(const std::string &name) const;  // throws MX_ERR_INVALID_ARGUMENT
  const std::vector<OpDef *> &ops() const { return ordered_; }
  void alias(const std::string &alias, OpDef *op);

 private:
  std::map<std::string, OpDef *> by_name_;
  std::vector<OpDef *> ordered_;
};

// Fluent registration helper used by MX_REGISTER_OP.
class OpBuilder {
 public:
  explicit OpBuilder(const char *name) : def_(&Registry::get().add(name)) {}
  static OpBuilder &create(const char *name) { return *new OpBuilder(name); }  // lives forever
  OpBuilder &alias(const char *a) {
    Registry::get().alias(a, def_);
    def_->aliases.push_back(a);
    return *this;
  }
  OpBuilder &doc(const char *d) { def_->doc = d; return *this; }
  template <typename S> OpBuilder &params() { def_->params = make_schema<S>(); return *this; }
  OpBuilder &inputs(std::vector<std::string> names) { def_->input_names = std::move(names); return *this; }
  OpBuilder &inputs_fn(std::function<std::vector<std::string>(const Params &)> f) {
    def_->input_names_fn = std::move(f);
    return *this;
  }
  OpBuilder &variadic(const char *count_param = "") {
    def_->variadic = true;
    def_->variadic_count_param = count_param;
    return *this;
  }
  OpBuilder &aux(std::vector<std::string> names) { def_->aux_names = std::move(names); return *this; }
  OpBuilder &outputs(std::vector<std::string> names) { def_->output_names = std::move(names); return *this; }
  OpBuilder &num_outputs(std::function<int(const Params &)> f) { def_->num_outputs_fn = std::move(f); return *this; }
  OpBuilder &num_visible_outputs(std::function<int(const Params &)> f) {
    def_->num_visible_outputs_fn = std::move(f);
    return *this;
  }
  OpBuilder &saved_outputs(int n) { def_->num_saved_outputs = n; return *this; }
  OpBuilder &shape(InferShapeFn f) { def_->infer_shape = std::move(f); return *this; }
  OpBuilder &type(InferTypeFn f) { def_->infer_type = std::move(f); return *this; }
  OpBuilder &cpu(KernelFn f) { def_->forward_cpu = std::move(f); return *this; }
  OpBuilder &gpu(KernelFn f) { def_->forward_gpu = std::move(f); return *this; }
  OpBuilder &grad(GradFn f) { def_->gradient = std::move(f); return *this; }
  OpBuilder &shape_from_values(ShapeFromValuesFn f) { def_->shape_from_values = std::move(f); return *this; }
  OpBuilder &no_grad() { def_->differentiable = false; return *this; }
  OpBuilder &rng() { def_->needs_rng = true; return *this; }
  OpBuilder &dtypes(std::vector<DType> t) { def_->dtypes = std::move(t); return *this; }
  OpBuilder &gpu_dtypes(std::vector<DType> t) { def_->gpu_dtypes = std::move(t); return *this; }
  OpBuilder &cpu_dtypes(std::vector<DType> t) { def_->cpu_dtypes = std::move(t); return *this; }
  OpBuilder &hidden() { def_->hidden = true; return *this; }
  OpBuilder &inplace(std::vector<std::pair<int, int>> pairs) { def_->inplace = std::move(pairs); return *this; }
  // Sparse kernel and its stype inference (both needed); from_dense: run them even when every
  // input is dense (ops whose outputs may be sparse anyway, e.g. cast_storage).
  OpBuilder &infer_stype(InferSTypeFn f, bool from_dense = false) {
    def_->infer_stype = std::move(f);
    def_->stype_from_dense = from_dense;
    return *this;
  }
  OpBuilder &sparse(SparseKernelFn f) { def_->forward_sparse = std::move(f); return *this; }
  OpDef &def() { return *def_; }

 private:
  OpDef *def_;
};

#define MX_CONCAT_INNER(a, b) a##b
#define MX_CONCAT(a, b) MX_CONCAT_INNER(a, b)
// MX_REGISTER_OP(FullyConnected).params<FCParam>().inputs({...}).shape(...).cpu(...).grad(...);
#define MX_REGISTER_OP(NAME) \
  [[maybe_unused]] static ::mx::OpBuilder &MX_CONCAT(mx_op_reg_, __COUNTER__) = ::mx::OpBuilder::create(#NAME)
// For names that are not C identifiers.
#define MX_REGISTER_OP_NAMED(STR) \
  [[maybe_unused]] static ::mx::OpBuilder &MX_CONCAT(mx_op_reg_, __COUNTER__) = ::mx::OpBuilder::create(STR)

// ---- helpers shared by many ops
// Numpy-style broadcast of two shapes; throws MX_ERR_SHAPE naming op and shapes.
Shape broadcast_shapes(const Shape &a, const Shape &b, const char *op);
// Default dtype rule: all known inputs/outputs agree; fills the unknown ones.
bool infer_type_same(const Params &, TypeVec &in, TypeVec &aux, TypeVec &out);
// Infer shape where every output has the first input's shape and all inputs must match.
bool infer_shape_same(const Params &, ShapeVec &in, ShapeVec &aux, ShapeVec &out);
// Assign `known` to `slot` or check they agree; throws MX_ERR_SHAPE naming op and what.
void assign_shape(Shape &slot, const Shape &known, const char *op, const std::string &what);

}  // namespace mx
