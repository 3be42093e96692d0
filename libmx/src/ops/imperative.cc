#include "ops/imperative.h"

#include "autograd/autograd.h"
#include "ops/sparse/dispatch.h"
#include "random/philox.h"

#include <memory>

namespace mx {

bool supports_dtype(const OpDef *op, DType t) {
  for (DType d : op->dtypes)
    if (d == t) return true;
  return false;
}

bool supports_dtype_cpu(const OpDef *op, DType t) {
  if (supports_dtype(op, t)) return true;
  for (DType d : op->cpu_dtypes)
    if (d == t) return true;
  return false;
}

namespace {
thread_local bool t_recording = false;
thread_local bool t_training = false;

// On a GPU also the dtypes only its kernel computes natively (OpDef::gpu_dtypes).
bool supports(const OpDef *op, DType t, Device dev) {
  if (dev.is_cpu()) return supports_dtype_cpu(op, t);
  if (supports_dtype(op, t)) return true;
  if (!op->forward_gpu) return false;
  for (DType d : op->gpu_dtypes)
    if (d == t) return true;
  return false;
}
// An empty array standing for a saved output nobody will read (OpDef::num_saved_outputs).
NDArray unsaved(DType t, Device dev) { return NDArray(Shape{0}, t, dev); }
bool overlaps(const NDArray &a, const NDArray &b) {
  if (a.storage() != b.storage()) return false;
  size_t a0 = a.offset(), a1 = a0 + a.nbytes(), b0 = b.offset(), b1 = b0 + b.nbytes();
  return a0 < b1 && b0 < a1;
}
}  // namespace

bool supports_dtype_on(const OpDef *op, DType t, Device dev) { return supports(op, t, dev); }

bool is_saved_output(const OpDef *op, const Params &p, size_t i) {
  if (!op->num_saved_outputs) return false;
  const int n = op->num_outputs(p);
  return static_cast<int>(i) >= n - op->num_saved_outputs && static_cast<int>(i) < n;
}

// Inference vectors reused per thread and nesting depth: after warm-up, copy-assigning shapes
// into them reuses their capacity, so a small op call makes almost no heap allocations.
struct Scratch {
  ShapeVec in_s, aux_s, out_s;
  TypeVec in_t, aux_t, out_t;
};
thread_local std::vector<std::unique_ptr<Scratch>> t_scratch;
thread_local size_t t_depth = 0;
struct ScratchLease {
  Scratch *s;
  ScratchLease() {
    if (t_scratch.size() <= t_depth) t_scratch.emplace_back(new Scratch());
    s = t_scratch[t_depth++].get();
  }
  ~ScratchLease() { --t_depth; }
};
template <typename V, typename T> void fill_resize(V &v, size_t n, const T &value) {
  v.resize(n);
  for (auto &x : v) x = value;
}

bool is_recording() { return t_recording; }
bool is_training() { return t_training; }
bool set_recording(bool on) {
  bool prev = t_recording;
  t_recording = on;
  return prev;
}
bool set_training(bool on) {
  bool prev = t_training;
  t_training = on;
  return prev;
}

std::vector<NDArray> invoke_raw(const OpDef *op, const Params &params, const std::vector<NDArray> &inputs,
                                const std::vector<NDArray> &aux, bool is_train,
                                const std::vector<NDArray> *out, const std::vector<bool> *skip) {
  // Sparse inputs or outputs: their own kernels or the storage fallback (ops/sparse/dispatch.h).
  if (needs_stype_dispatch(op, inputs, aux, out)) return invoke_stype(op, params, inputs, aux, is_train, out, skip);
  const char *name = op->name.c_str();
  // Device: the inputs', else "ctx", else cpu(0).
  Device dev;
  if (!inputs.empty()) {
    dev = inputs[0].device();
  } else if (params.dev_type >= 0) {
    dev.type = params.dev_type;
    dev.id = params.dev_id;
  }
  for (size_t i = 0; i < inputs.size(); ++i) {
    MX_CHECK(inputs[i].defined(), MX_ERR_INVALID_ARGUMENT, name, ": input ", i, " is an empty handle");
    MX_CHECK(inputs[i].device() == dev, MX_ERR_INVALID_ARGUMENT, name, ": input ", i,
             " is on another device than input 0 (copy it first with as_in_context)");
  }

  // float16/bfloat16 without native kernels: run in float32, cast results back.
  bool via_f32 = false;
  DType low = DType::f32;
  for (auto &x : inputs)
    if ((x.dtype() == DType::f16 || x.dtype() == DType::bf16) && !supports(op, x.dtype(), dev) &&
        supports(op, DType::f32, dev)) {
      via_f32 = true;
      low = x.dtype();
    }
  if (via_f32) {
    std::vector<NDArray> in32, aux32;
    for (auto &x : inputs) in32.push_back(x.dtype() == low ? x.astype(DType::f32) : x);
    for (auto &x : aux) aux32.push_back(x.dtype() == low ? x.astype(DType::f32) : x);
    std::vector<NDArray> res = invoke_raw(op, params, in32, aux32, is_train, nullptr);
    for (size_t i = 0; i < aux.size(); ++i)
      if (aux[i].dtype() == low) aux[i].assign(aux32[i]);
    std::vector<NDArray> outs;
    for (size_t i = 0; i < res.size(); ++i) {
      // A saved output is not kept through float32 (its rounding would change the gradient):
      // the backward, also run through float32, recomputes it. The executor plans none here.
      if (is_saved_output(op, params, i)) {
        MX_CHECK(!out || i >= out->size() || (*out)[i].size() == 0, MX_ERR_INTERNAL, name,
                 ": a saved output was planned for a dtype its kernel does not take");
        outs.push_back(unsaved(low, dev));
        continue;
      }
      NDArray r = res[i].dtype() == DType::f32 ? res[i].astype(low) : res[i];
      if (out && i < out->size()) {
        (*out)[i].assign(r);
        outs.push_back((*out)[i]);
      } else {
        outs.push_back(r);
      }
    }
    return outs;
  }

  int nout = op->num_outputs(params);
  ScratchLease lease;
  ShapeVec &in_s = lease.s->in_s, &aux_s = lease.s->aux_s, &out_s = lease.s->out_s;
  TypeVec &in_t = lease.s->in_t, &aux_t = lease.s->aux_t, &out_t2 = lease.s->out_t;
  in_s.resize(inputs.size());
  in_t.resize(inputs.size());
  for (size_t i = 0; i < inputs.size(); ++i) {
    in_s[i] = inputs[i].shape();
    in_t[i] = static_cast<int>(inputs[i].dtype());
  }
  aux_s.resize(aux.size());
  aux_t.resize(aux.size());
  for (size_t i = 0; i < aux.size(); ++i) {
    aux_s[i] = aux[i].shape();
    aux_t[i] = static_cast<int>(aux[i].dtype());
  }
  fill_resize(out_s, static_cast<size_t>(nout), Shape());

  MX_CHECK(op->infer_shape, MX_ERR_INTERNAL, name, ": no shape inference registered");
  bool ok = op->infer_shape(params, in_s, aux_s, out_s);
  for (size_t i = 0; i < inputs.size(); ++i)
    MX_CHECK(in_s[i] == inputs[i].shape(), MX_ERR_SHAPE, name, ": input '",
             i < op->inputs(params).size() ? op->inputs(params)[i] : std::to_string(i), "' has shape ",
             inputs[i].shape().str(), " but ", in_s[i].str(), " was expected");
  for (size_t i = 0; i < aux.size(); ++i)
    MX_CHECK(aux_s[i] == aux[i].shape(), MX_ERR_SHAPE, name, ": aux state '", op->aux_names[i],
             "' has shape ", aux[i].shape().str(), " but ", aux_s[i].str(), " was expected");
  for (auto &s : out_s) ok = ok && s.known();
  if (!ok && op->shape_from_values) {  // data-dependent output shapes: read the inputs' values
    MX_CHECK(dev.is_cpu(), MX_ERR_UNSUPPORTED, name, ": its output shape depends on the input values; it runs on "
             "the CPU only (copy its inputs there with as_in_context(mx.cpu()))");
    op->shape_from_values(params, inputs, out_s);
    ok = true;
    for (auto &s : out_s) ok = ok && s.known();
  }
  MX_CHECK(ok, MX_ERR_SHAPE, name, ": cannot infer the output shape from the inputs");

  // Output dtype from the inputs, not from a given out= array (converted on copy below).
  fill_resize(out_t2, static_cast<size_t>(nout), -1);
  bool tok = op->infer_type ? op->infer_type(params, in_t, aux_t, out_t2)
                            : infer_type_same(params, in_t, aux_t, out_t2);
  for (int t : out_t2) tok = tok && t >= 0;
  MX_CHECK(tok, MX_ERR_TYPE, name, ": cannot infer the output dtype");
  for (auto &x : inputs)
    MX_CHECK(supports(op, x.dtype(), dev), MX_ERR_TYPE, name, ": dtype ", dtype_name(x.dtype()),
             " is not supported");

  // Allocate outputs. A given out= array is used directly when shape and dtype match and it
  // does not alias an input; otherwise results go through a temporary.
  std::vector<NDArray> outputs(static_cast<size_t>(nout));
  std::vector<bool> via_tmp;  // only with out= arrays: no allocation on the common path
  if (out) via_tmp.assign(static_cast<size_t>(nout), false);
  // Saved outputs (OpDef::num_saved_outputs) only when this call will be recorded, or as the
  // executor planned them (an empty out array: nothing reads it).
  bool keep_saved = false;
  if (op->num_saved_outputs && is_recording() && op->differentiable)
    for (auto &x : inputs) keep_saved = keep_saved || x.ag() != nullptr;
  for (int i = 0; i < nout; ++i) {
    DType t = static_cast<DType>(out_t2[static_cast<size_t>(i)]);
    const bool saved = op->num_saved_outputs && is_saved_output(op, params, static_cast<size_t>(i));
    if (saved && out && static_cast<size_t>(i) < out->size() && (*out)[static_cast<size_t>(i)].size() == 0) {
      outputs[static_cast<size_t>(i)] = (*out)[static_cast<size_t>(i)].detach();
      continue;
    }
    if (saved && !keep_saved && !(out && static_cast<size_t>(i) < out->size())) {
      outputs[static_cast<size_t>(i)] = unsaved(t, dev);
      continue;
    }
    if (out && static_cast<size_t>(i) < out->size()) {
      const NDArray &o = (*out)[static_cast<size_t>(i)];
      MX_CHECK(o.shape() == out_s[static_cast<size_t>(i)], MX_ERR_SHAPE, name, ": out array ", i,
               " has shape ", o.shape().str(), " but the result has shape ", out_s[static_cast<size_t>(i)].str());
      bool alias = false;
      for (auto &x : inputs) alias = alias || overlaps(x, o);
      if (o.dtype() == t && !alias && o.device() == dev) {
        outputs[static_cast<size_t>(i)] = o.detach();
        continue;
      }
      via_tmp[static_cast<size_t>(i)] = true;
    }
    outputs[static_cast<size_t>(i)] = NDArray(out_s[static_cast<size_t>(i)], t, dev);
  }

  const KernelFn &kernel = dev.is_cpu() ? op->forward_cpu : op->forward_gpu;
  MX_CHECK(static_cast<bool>(kernel), MX_ERR_UNSUPPORTED, name, ": no kernel for ",
           dev.is_cpu() ? "cpu" : "gpu(" + std::to_string(dev.id) + ")",
           dev.is_cpu() ? "" : ": this op runs on the CPU only (copy its inputs there with as_in_context(mx.cpu()))");
  RandomState *rng = op->needs_rng ? &random_state(dev.type, dev.id) : nullptr;
  OpCall call{params, inputs, aux, outputs, is_train, rng, skip};
  kernel(call);

  if (out)
    for (size_t i = 0; i < out->size() && i < outputs.size(); ++i)
      if (via_tmp[i]) {
        (*out)[i].assign(outputs[i]);
        outputs[i] = (*out)[i].detach();
      }
  return outputs;
}

std::vector<NDArray> invoke(const OpDef *op, const std::shared_ptr<const Params> &params,
                            const std::vector<NDArray> &all_inputs, const std::vector<NDArray> *out) {
  const Params &p = *params;
  size_t naux = op->aux_names.size();
  size_t nin;
  if (op->variadic) {
    MX_CHECK(all_inputs.size() >= naux, MX_ERR_INVALID_ARGUMENT, op->name, ": too few inputs");
    nin = all_inputs.size() - naux;
  } else {
    nin = op->num_inputs(p);
  }
  if (all_inputs.size() != nin + naux) {
    std::string names;
    for (auto &n : op->inputs(p)) names += (names.empty() ? "" : ", ") + n;
    for (auto &n : op->aux_names) names += (names.empty() ? "" : ", ") + n;
    fail(MX_ERR_INVALID_ARGUMENT, op->name, ": expected ", nin + naux, " inputs (", names, ") but got ",
         all_inputs.size());
  }
  // Without aux states the inputs are used as given (no copy on the hot path).
  std::vector<NDArray> split_in, aux;
  if (naux) {
    split_in.assign(all_inputs.begin(), all_inputs.begin() + static_cast<long>(nin));
    aux.assign(all_inputs.begin() + static_cast<long>(nin), all_inputs.end());
  }
  const std::vector<NDArray> &inputs = naux ? split_in : all_inputs;
  int nvis = op->num_visible_outputs(p);
  if (out)
    MX_CHECK(out->size() == static_cast<size_t>(nvis), MX_ERR_INVALID_ARGUMENT, op->name, ": expected ",
             nvis, " out arrays but got ", out->size());
  bool train = is_training();
  std::vector<NDArray> outputs = invoke_raw(op, p, inputs, aux, train, out);
  if (is_recording() && op->differentiable) {
    bool any = false;
    for (auto &x : inputs) any = any || x.ag() != nullptr;
    if (any) record_op(op, params, inputs, aux, outputs, train);
  }
  outputs.resize(static_cast<size_t>(nvis));
  return outputs;
}

std::vector<NDArray> invoke(const std::string &op, const Kwargs &kwargs, const std::vector<NDArray> &inputs) {
  const OpDef &def = Registry::get().require(op);
  return invoke(&def, parse_params(&def, kwargs), inputs);
}

}  // namespace mx
