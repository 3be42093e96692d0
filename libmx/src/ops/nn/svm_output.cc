// SVMOutput (MXNet's support-vector-machine loss layer): identity forward; the backward pass
// ignores the head gradient and gives the hinge-loss gradient for one-vs-all classes, squared
// hinge (L2-SVM, default) or hinge (L1-SVM, use_linear=True), scaled by
// regularization_coefficient. Labels are class indices, one per row of the flattened data.
#include "ops/nn/nn_common.h"

namespace mx {
namespace {

struct SVMOutputParam {
  double margin = 1, regularization_coefficient = 1;
  bool use_linear = false;
  static void describe(ParamDecl<SVMOutputParam> &d) {
    d.field("margin", &SVMOutputParam::margin).def(1.0).doc("The loss function penalizes outputs that lie outside this margin.");
    d.field("regularization_coefficient", &SVMOutputParam::regularization_coefficient).def(1.0)
        .doc("Regularization parameter for the SVM: scales the gradient.");
    d.field("use_linear", &SVMOutputParam::use_linear).def(false)
        .doc("Whether to use L1-SVM (hinge) instead of the default L2-SVM (squared hinge).");
  }
};

// label: data's shape without the last axis (one class index per row).
bool svm_shape(const char *op, ShapeVec &in, ShapeVec &out, int data_slot) {
  Shape &d = in[static_cast<size_t>(data_slot)];
  if (!d.known()) return false;
  MX_CHECK(d.ndim() >= 1, MX_ERR_SHAPE, op, ": data must have at least one dimension");
  std::vector<int64_t> l;
  for (int i = 0; i + 1 < d.ndim(); ++i) l.push_back(d[i]);
  if (l.empty()) l.push_back(1);
  assign_shape(in[static_cast<size_t>(data_slot) + 1], Shape(l), op, "label");
  assign_shape(out[0], d, op, "output");
  return true;
}

template <typename T> void svm_backward(const OpCall &c) {
  const auto &p = c.p<SVMOutputParam>();
  const NDArray &y = c.inputs[0], &label = c.inputs[1];
  const int64_t classes = y.shape()[y.ndim() - 1], rows = classes ? y.size() / classes : 0;
  const T *yp = y.data<T>(), *lp = label.data<T>();
  T *dx = c.outputs[0].data<T>();
  const double m = p.margin, reg = p.regularization_coefficient;
  for (int64_t r = 0; r < rows; ++r) {
    const double lv = static_cast<double>(lp[r]);
    const int64_t k = static_cast<int64_t>(lv);
    MX_CHECK(lv >= 0 && k < classes, MX_ERR_INVALID_ARGUMENT, "SVMOutput: label ", lv, " of row ", r,
             " is not a class index in [0, ", classes, ")");
    for (int64_t j = 0; j < classes; ++j) {
      const double v = static_cast<double>(yp[r * classes + j]);
      double g;
      if (j == k)  // the true class should score at least +margin
        g = p.use_linear ? -(m > v ? 1.0 : 0.0) : (m > v ? -2.0 * (m - v) : 0.0);
      else         // every other class at most -margin
        g = p.use_linear ? (m > -v ? 1.0 : 0.0) : (m > -v ? 2.0 * (m + v) : 0.0);
      dx[r * classes + j] = static_cast<T>(g * reg);
    }
  }
}

const int registered = [] {
  MX_REGISTER_OP(SVMOutput)
      .doc("Computes support vector machine based transformation of the input: identity forward; the "
           "backward pass gives the (squared, unless use_linear) hinge-loss gradient of one-vs-all classes, "
           "ignoring the head gradient.")
      .params<SVMOutputParam>()
      .inputs({"data", "label"})
      .shape([](const Params &, ShapeVec &in, ShapeVec &, ShapeVec &out) { return svm_shape("SVMOutput", in, out, 0); })
      .cpu([](const OpCall &c) {
        MX_DTYPE_SWITCH_FLOAT(c.inputs[0].dtype(), T, "SVMOutput", {
          if (!c.outputs[0].same_data(c.inputs[0]))
            std::memcpy(c.outputs[0].data<T>(), c.inputs[0].data<T>(), sizeof(T) * static_cast<size_t>(c.inputs[0].size()));
        });
      })
      .inplace({{0, 0}})
      .grad([](GradBuilder &b, const GradNode &n) -> std::vector<Var> {
        return {b.emit(&Registry::get().require("_backward_SVMOutput"), n.params, {n.outputs[0], n.inputs[1]})[0],
                Var::none()};
      });
  MX_REGISTER_OP(_backward_SVMOutput)
      .doc("Gradient of SVMOutput: inputs (output, label).")
      .params<SVMOutputParam>()
      .inputs({"output", "label"})
      .outputs({"data_grad"})
      .shape([](const Params &, ShapeVec &in, ShapeVec &, ShapeVec &out) {
        return svm_shape("_backward_SVMOutput", in, out, 0);
      })
      .cpu([](const OpCall &c) {
        MX_DTYPE_SWITCH_FLOAT(c.inputs[0].dtype(), T, "_backward_SVMOutput", { svm_backward<T>(c); });
      })
      .no_grad();
  return 0;
}();

}  // namespace
}  // namespace mx
