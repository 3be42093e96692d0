// Binary element-wise ops in three forms sharing one functor each: elemwise_<op> (same shapes),
// broadcast_<op> (numpy broadcasting) and _<op>_scalar / _r<op>_scalar (array with a scalar).
// This file: the arithmetic families and their gradients; comparisons and logic are in
// elemwise_compare.cc (one translation unit held a third of libmx's compile time).
#include <cmath>
#include <type_traits>

#include "ops/elemwise_binary_family.h"

#include "backends/cpu/bf16_loops.h"
#include "ops/via_f32.h"

namespace mx {

std::vector<int64_t> broadcast_strides(const Shape &in, const Shape &out) {
  int nd = out.ndim(), off = out.ndim() - in.ndim();
  std::vector<int64_t> st(static_cast<size_t>(nd), 0);
  int64_t s = 1;
  for (int d = in.ndim() - 1; d >= 0; --d) {
    st[static_cast<size_t>(d + off)] = in[d] == 1 ? 0 : s;
    s *= in[d];
  }
  return st;
}

namespace {

// Numeric dtypes of the arithmetic family (float16/bfloat16 run through float32).
const std::vector<DType> &kNumeric = kNumericTypes;
const std::vector<DType> &kFloat = kFloatTypes;


// The element formulas (Add, ..., LogicalXor; DMod, ... for fused backward) are shared with the
// CUDA kernels: ops/formulas/binary.h.
using namespace formula;

Kwargs scalar_kw(double v) { return {{"scalar", print_value(v)}}; }

// Gradients written with other registered ops so that higher-order gradients work.
std::vector<Var> grad_add(GradBuilder &b, const GradNode &n) {
  Var g = n.out_grads[0];
  return {sum_to_shape(b, g, b.shape(n.inputs[0])), sum_to_shape(b, g, b.shape(n.inputs[1]))};
}
std::vector<Var> grad_sub(GradBuilder &b, const GradNode &n) {
  Var g = n.out_grads[0];
  Var ng = b.emit1("_mul_scalar", scalar_kw(-1), {g});
  return {sum_to_shape(b, g, b.shape(n.inputs[0])), sum_to_shape(b, ng, b.shape(n.inputs[1]))};
}
std::vector<Var> grad_mul(GradBuilder &b, const GradNode &n) {
  Var g = n.out_grads[0];
  Var ga = b.emit1("broadcast_mul", {}, {g, n.inputs[1]});
  Var gb = b.emit1("broadcast_mul", {}, {g, n.inputs[0]});
  return {sum_to_shape(b, ga, b.shape(n.inputs[0])), sum_to_shape(b, gb, b.shape(n.inputs[1]))};
}
std::vector<Var> grad_div(GradBuilder &b, const GradNode &n) {
  Var g = n.out_grads[0];
  Var ga = b.emit1("broadcast_div", {}, {g, n.inputs[1]});
  // d(a/b)/db = -(a/b)/b
  Var q = b.emit1("broadcast_div", {}, {n.outputs[0], n.inputs[1]});
  Var gb = b.emit1("_mul_scalar", scalar_kw(-1), {b.emit1("broadcast_mul", {}, {g, q})});
  return {sum_to_shape(b, ga, b.shape(n.inputs[0])), sum_to_shape(b, gb, b.shape(n.inputs[1]))};
}
// The rest use one fused backward kernel: _backward_<name>(g, a, b) -> (g*dF/da, g*dF/db).
template <typename F, typename D> void register_fused_backward(const std::string &name) {
  OpBuilder::create(("_backward_broadcast_" + name).c_str())
      .inputs({"out_grad", "lhs", "rhs"})
      .outputs({"lhs_grad", "rhs_grad"})
      .shape([](const Params &p, ShapeVec &in, ShapeVec &, ShapeVec &out) {
        for (auto &s : in) if (!s.known()) return false;
        Shape o = broadcast_shapes(in[1], in[2], p.op->name.c_str());
        assign_shape(in[0], o, p.op->name.c_str(), "out_grad");
        assign_shape(out[0], o, p.op->name.c_str(), "lhs_grad");
        assign_shape(out[1], o, p.op->name.c_str(), "rhs_grad");
        return true;
      })
      .cpu([](const OpCall &c) {
        MX_DTYPE_SWITCH_FLOAT(c.inputs[0].dtype(), T, c.params.op->name, {
          const NDArray &o = c.outputs[0];
          // Materialise broadcast operands at the output shape, then one fused pass.
          NDArray a(o.shape(), o.dtype()), bb(o.shape(), o.dtype());
          broadcast_binary<T, T, T>(c.inputs[1], c.inputs[0], a, [](T x, T) { return x; });
          broadcast_binary<T, T, T>(c.inputs[2], c.inputs[0], bb, [](T x, T) { return x; });
          const T *g = c.inputs[0].data<T>(), *pa = a.data<T>(), *pb = bb.data<T>();
          T *ga = c.outputs[0].data<T>(), *gb = c.outputs[1].data<T>();
          parallel_for(o.size(), kElemGrain, [&](int64_t s, int64_t e) {
            for (int64_t i = s; i < e; ++i) {
              T out = F::template f<T>(pa[i], pb[i]);
              ga[i] = g[i] * D::template da<T>(pa[i], pb[i], out);
              gb[i] = g[i] * D::template db<T>(pa[i], pb[i], out);
            }
          });
        });
      })
      .gpu(gpu_binary_backward_kernel(F::id))
      .gpu_dtypes(gpu_half_dtypes(gpu_binary_backward_kernel(F::id)))
      .no_grad();
}

// int_zero: integer inputs get zero gradients (MXNet's integer modulo is piecewise constant).
template <typename D> GradFn fused_grad(const std::string &name, bool int_zero = false) {
  std::string bw = "_backward_broadcast_" + name;
  return [bw, int_zero](GradBuilder &b, const GradNode &n) -> std::vector<Var> {
    if (int_zero && !dtype_is_float(b.dtype(n.inputs[0])))
      return {b.emit1("zeros_like", {}, {n.inputs[0]}), b.emit1("zeros_like", {}, {n.inputs[1]})};
    auto gs = b.emit(bw, {}, {n.out_grads[0], n.inputs[0], n.inputs[1]});
    return {sum_to_shape(b, gs[0], b.shape(n.inputs[0])), sum_to_shape(b, gs[1], b.shape(n.inputs[1]))};
  };
}

// bfloat16 add (cpu_dtypes; the residual adds of a bf16 network): equal shapes on the 16-bit
// values (backends/cpu/bf16_loops.h, the same bits as through float32), else float32 copies.
KernelFn with_bf16_add(KernelFn f32_kernel) {
  return [f32_kernel](const OpCall &c) {
    if (c.inputs[0].dtype() != DType::bf16) return f32_kernel(c);
    const NDArray &a = c.inputs[0], &b = c.inputs[1], &o = c.outputs[0];
    if (b.dtype() == DType::bf16 && o.dtype() == DType::bf16 && a.shape() == o.shape() && b.shape() == o.shape())
      return bf16::add(a.cdata<bf16_t>(), b.cdata<bf16_t>(), o.data<bf16_t>(), o.size());
    run_via_f32(c, f32_kernel);
  };
}

double scalar_of(const GradNode &n) { return n.p<ScalarParam>().scalar; }

GradFn pass_through() {
  return [](GradBuilder &, const GradNode &n) -> std::vector<Var> { return {n.out_grads[0]}; };
}
GradFn scaled(double k) {
  return [k](GradBuilder &b, const GradNode &n) -> std::vector<Var> {
    return {b.emit1("_mul_scalar", scalar_kw(k), {n.out_grads[0]})};
  };
}

int register_all() {
  {
    Family f = binary_family<Add>("add", kNumeric);
    f.bin = with_bf16_add(f.bin);
    f.cpu_dtypes = {DType::bf16};
    f.elemwise_names = {"elemwise_add", "_add", "_plus", "_Plus"};
    f.broadcast_names = {"broadcast_add", "broadcast_plus"};
    f.scalar_names = {"_plus_scalar", "_PlusScalar"};
    f.grad = grad_add;
    f.scalar_grad = pass_through();
    register_binary_family(f);
  }
  {
    Family f = binary_family<Sub>("subtract", kNumeric);
    f.elemwise_names = {"elemwise_sub", "_sub", "_minus", "_Minus"};
    f.broadcast_names = {"broadcast_sub", "broadcast_minus"};
    f.scalar_names = {"_minus_scalar", "_MinusScalar"};
    f.rscalar_names = {"_rminus_scalar", "_RMinusScalar"};
    f.grad = grad_sub;
    f.scalar_grad = pass_through();
    f.rscalar_grad = scaled(-1);
    register_binary_family(f);
  }
  {
    Family f = binary_family<Mul>("multiply", kNumeric);
    f.elemwise_names = {"elemwise_mul", "_mul", "_Mul"};
    f.broadcast_names = {"broadcast_mul"};
    f.scalar_names = {"_mul_scalar", "_MulScalar"};
    f.grad = grad_mul;
    f.scalar_grad = [](GradBuilder &b, const GradNode &n) -> std::vector<Var> {
      return {b.emit1("_mul_scalar", scalar_kw(scalar_of(n)), {n.out_grads[0]})};
    };
    register_binary_family(f);
  }
  {
    Family f = binary_family<Div>("divide", kNumeric);
    f.elemwise_names = {"elemwise_div", "_div", "_Div"};
    f.broadcast_names = {"broadcast_div"};
    f.scalar_names = {"_div_scalar", "_DivScalar"};
    f.rscalar_names = {"_rdiv_scalar", "_RDivScalar"};
    f.grad = grad_div;
    f.scalar_grad = [](GradBuilder &b, const GradNode &n) -> std::vector<Var> {
      return {b.emit1("_div_scalar", scalar_kw(scalar_of(n)), {n.out_grads[0]})};
    };
    f.rscalar_grad = [](GradBuilder &b, const GradNode &n) -> std::vector<Var> {
      // d(s/x)/dx = -(s/x)/x
      Var q = b.emit1("broadcast_div", {}, {n.outputs[0], n.inputs[0]});
      return {b.emit1("_mul_scalar", scalar_kw(-1), {b.emit1("broadcast_mul", {}, {n.out_grads[0], q})})};
    };
    register_binary_family(f);
  }
  {
    Family f = binary_family<Mod>("modulo", kNumeric);
    f.elemwise_names = {"_mod"};
    f.broadcast_names = {"broadcast_mod"};
    f.scalar_names = {"_mod_scalar", "_ModScalar"};
    f.rscalar_names = {"_rmod_scalar", "_RModScalar"};
    register_fused_backward<Mod, DMod>("mod");
    f.grad = fused_grad<DMod>("mod", true);
    f.scalar_grad = pass_through();
    register_binary_family(f);
  }
  {
    Family f = binary_family<Power>("power", kFloat);
    f.elemwise_names = {"_power", "_Power"};
    f.broadcast_names = {"broadcast_power"};
    f.scalar_names = {"_power_scalar", "_PowerScalar"};
    f.rscalar_names = {"_rpower_scalar", "_RPowerScalar"};
    register_fused_backward<Power, DPower>("power");
    f.grad = fused_grad<DPower>("power");
    f.scalar_grad = [](GradBuilder &b, const GradNode &n) -> std::vector<Var> {
      double s = scalar_of(n);  // d(x^s) = s * x^(s-1)
      Var p = b.emit1("_power_scalar", scalar_kw(s - 1), {n.inputs[0]});
      return {b.emit1("broadcast_mul", {}, {n.out_grads[0], b.emit1("_mul_scalar", scalar_kw(s), {p})})};
    };
    f.rscalar_grad = [](GradBuilder &b, const GradNode &n) -> std::vector<Var> {
      double s = scalar_of(n);  // d(s^x) = s^x * log(s)
      return {b.emit1("_mul_scalar", scalar_kw(std::log(s)), {b.emit1("broadcast_mul", {}, {n.out_grads[0], n.outputs[0]})})};
    };
    register_binary_family(f);
  }
  auto minmax_scalar_grad = [](bool is_max) {
    return [is_max](GradBuilder &b, const GradNode &n) -> std::vector<Var> {
      Var mask = b.emit1(is_max ? "_greater_equal_scalar" : "_lesser_equal_scalar",
                         scalar_kw(scalar_of(n)), {n.inputs[0]});
      return {b.emit1("broadcast_mul", {}, {n.out_grads[0], mask})};
    };
  };
  {
    Family f = binary_family<Maximum>("maximum", kNumeric);
    f.elemwise_names = {"_maximum", "_Maximum"};
    f.broadcast_names = {"broadcast_maximum"};
    f.scalar_names = {"_maximum_scalar", "_MaximumScalar"};
    register_fused_backward<Maximum, DMaximum>("maximum");
    f.grad = fused_grad<DMaximum>("maximum");
    f.scalar_grad = minmax_scalar_grad(true);
    register_binary_family(f);
  }
  {
    Family f = binary_family<Minimum>("minimum", kNumeric);
    f.elemwise_names = {"_minimum", "_Minimum"};
    f.broadcast_names = {"broadcast_minimum"};
    f.scalar_names = {"_minimum_scalar", "_MinimumScalar"};
    register_fused_backward<Minimum, DMinimum>("minimum");
    f.grad = fused_grad<DMinimum>("minimum");
    f.scalar_grad = minmax_scalar_grad(false);
    register_binary_family(f);
  }
  {
    Family f = binary_family<Hypot>("hypot", kFloat);
    f.elemwise_names = {"_hypot"};
    f.broadcast_names = {"broadcast_hypot"};
    f.scalar_names = {"_hypot_scalar", "_HypotScalar"};
    register_fused_backward<Hypot, DHypot>("hypot");
    f.grad = fused_grad<DHypot>("hypot");
    f.scalar_grad = [](GradBuilder &b, const GradNode &n) -> std::vector<Var> {
      Var q = b.emit1("broadcast_div", {}, {n.inputs[0], n.outputs[0]});
      return {b.emit1("broadcast_mul", {}, {n.out_grads[0], q})};
    };
    register_binary_family(f);
  }
  return 0;
}

const int registered = register_all();

}  // namespace

namespace {
bool infer_elemwise(const Params &p, ShapeVec &in, ShapeVec &aux, ShapeVec &out) {
  return infer_shape_same(p, in, aux, out);
}
bool infer_broadcast(const Params &p, ShapeVec &in, ShapeVec &, ShapeVec &out) {
  if (!in[0].known() || !in[1].known()) return false;
  assign_shape(out[0], broadcast_shapes(in[0], in[1], p.op->name.c_str()), p.op->name.c_str(), "output");
  return true;
}

}  // namespace

void register_binary_family(const Family &f) {
  auto reg = [&](const std::vector<std::string> &names, bool broadcast) {
    if (names.empty()) return;
    OpBuilder &ob = OpBuilder::create(names[0].c_str());
    for (size_t i = 1; i < names.size(); ++i) ob.alias(names[i].c_str());
    // Element i of an operand with the output's shape is read only for element i of the output.
    ob.inputs({"lhs", "rhs"}).dtypes(f.dtypes).cpu(f.bin).gpu(f.gbin).inplace({{0, 0}, {1, 0}});
    if (!f.cpu_dtypes.empty()) ob.cpu_dtypes(f.cpu_dtypes);
    ob.gpu_dtypes(gpu_half_dtypes(f.gbin));
    ob.shape(broadcast ? InferShapeFn(infer_broadcast) : InferShapeFn(infer_elemwise));
    ob.doc(broadcast ? ("Element-wise " + f.name + " with numpy-style broadcasting.").c_str()
                     : ("Element-wise " + f.name + " of two arrays of the same shape.").c_str());
    if (f.grad) ob.grad(f.grad);
    else ob.no_grad();
  };
  reg(f.elemwise_names, false);
  reg(f.broadcast_names, true);
  auto reg_scalar = [&](const std::vector<std::string> &names, const KernelFn &k, const KernelFn &gk,
                        const GradFn &g) {
    if (names.empty()) return;
    OpBuilder &ob = OpBuilder::create(names[0].c_str());
    for (size_t i = 1; i < names.size(); ++i) ob.alias(names[i].c_str());
    ob.params<ScalarParam>().inputs({"data"}).dtypes(f.dtypes).shape(infer_shape_same).cpu(k).gpu(gk).inplace({{0, 0}})
        .gpu_dtypes(gpu_half_dtypes(gk))
        .doc(("Element-wise " + f.name + " of an array and a scalar.").c_str());
    if (g) ob.grad(g);
    else ob.no_grad();
  };
  reg_scalar(f.scalar_names, f.scal, f.gscal, f.scalar_grad);
  reg_scalar(f.rscalar_names, f.rscal, f.grscal, f.rscalar_grad);
}

}  // namespace mx
