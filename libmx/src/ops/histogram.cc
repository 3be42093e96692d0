// _histogram (MXNet 1.x's mx.nd.histogram / mx.sym.histogram): counts of the flattened input in
// bins, as numpy.histogram. Either `bin_cnt` equal-width bins over `range` (the data's min and
// max when range is not given, numpy's rule) with inputs (data), or explicit increasing bin
// edges with inputs (data, bins). Outputs: counts (int64, one per bin) and the bin edges. Every
// bin is half-open [lo, hi) except the last, which includes its right edge; values outside the
// edges (and NaN) are not counted.
#include <algorithm>
#include <cmath>

#include "ops/shape_common.h"

namespace mx {
namespace {

using namespace shape_detail;

struct HistogramParam {
  std::optional<int64_t> bin_cnt;
  std::vector<double> range;  // empty: not given
  static void describe(ParamDecl<HistogramParam> &d) {
    d.field("bin_cnt", &HistogramParam::bin_cnt).def(std::optional<int64_t>())
        .doc("Number of bins for uniform case");
    d.field("range", &HistogramParam::range).def({})
        .doc("The lower and upper range of the bins (default: the data's min and max). Values outside the range "
             "are ignored.");
    d.check([](const HistogramParam &p, const std::string &op) {
      if (p.bin_cnt)
        MX_CHECK(*p.bin_cnt >= 1, MX_ERR_INVALID_ARGUMENT, op, ": bin_cnt must be >= 1, got ", *p.bin_cnt);
      else
        MX_CHECK(p.range.empty(), MX_ERR_INVALID_ARGUMENT, op, ": range is only used with bin_cnt (explicit bin edges "
                 "were requested)");
      if (!p.range.empty()) {
        MX_CHECK(p.range.size() == 2, MX_ERR_INVALID_ARGUMENT, op, ": range must be (min, max), got ",
                 p.range.size(), " values");
        MX_CHECK(p.range[0] <= p.range[1] && std::isfinite(p.range[0]) && std::isfinite(p.range[1]),
                 MX_ERR_INVALID_ARGUMENT, op, ": range (", p.range[0], ", ", p.range[1],
                 ") must be finite with min <= max");
      }
    });
  }
};

// Bin of value v among increasing edges e[0..nb]; -1 when outside (or NaN).
int64_t bin_of(double v, const std::vector<double> &e) {
  const int64_t nb = static_cast<int64_t>(e.size()) - 1;
  if (!(v >= e.front() && v <= e.back())) return -1;
  if (v == e.back()) return nb - 1;
  const auto it = std::upper_bound(e.begin(), e.end(), v);
  return static_cast<int64_t>(it - e.begin()) - 1;
}

const int registered = [] {
  MX_REGISTER_OP(_histogram)
      .doc("Computes the histogram of the flattened input: bin_cnt equal bins over range (default: the data's "
           "min and max), or the bins given as an input array of edges. Returns (counts, bin edges).")
      .params<HistogramParam>()
      .inputs({"data", "bins"})  // every input name (keywords); the call's inputs follow bin_cnt:
      .inputs_fn([](const Params &p) -> std::vector<std::string> {
        if (p.get<HistogramParam>().bin_cnt) return {"data"};
        return {"data", "bins"};
      })
      .outputs({"histogram", "bin_edges"})
      .no_grad()
      .dtypes({DType::f32, DType::f64, DType::u8, DType::i8, DType::i32, DType::i64})
      .type([](const Params &, TypeVec &in, TypeVec &, TypeVec &out) {
        if (in[0] < 0) return false;
        if (in.size() > 1 && in[1] < 0) in[1] = in[0];
        out[0] = static_cast<int>(DType::i64);
        out[1] = in.size() > 1 ? in[1] : in[0];
        return true;
      })
      .shape([](const Params &pr, ShapeVec &in, ShapeVec &, ShapeVec &out) {
        const auto &p = pr.get<HistogramParam>();
        if (p.bin_cnt) {
          assign_shape(out[0], Shape{*p.bin_cnt}, "_histogram", "histogram");
          assign_shape(out[1], Shape{*p.bin_cnt + 1}, "_histogram", "bin_edges");
          return true;
        }
        if (!in[1].known()) return false;
        MX_CHECK(in[1].ndim() == 1 && in[1][0] >= 2, MX_ERR_SHAPE,
                 "histogram: bins must be a 1-d array of at least 2 edges, got shape ", in[1].str());
        assign_shape(out[0], Shape{in[1][0] - 1}, "_histogram", "histogram");
        assign_shape(out[1], in[1], "_histogram", "bin_edges");
        return true;
      })
      .cpu([](const OpCall &c) {
        const auto &p = c.p<HistogramParam>();
        const NDArray &x = c.inputs[0];
        const int64_t n = x.size();
        std::vector<double> edges;
        if (p.bin_cnt) {
          double lo, hi;
          if (!p.range.empty()) {
            lo = p.range[0];
            hi = p.range[1];
          } else if (n == 0) {
            lo = 0.0;
            hi = 1.0;  // numpy's range for empty input
          } else {
            lo = read_value(x, 0);
            hi = lo;
            for (int64_t i = 1; i < n; ++i) {
              const double v = read_value(x, i);
              lo = std::min(lo, v);
              hi = std::max(hi, v);
            }
            MX_CHECK(std::isfinite(lo) && std::isfinite(hi), MX_ERR_INVALID_ARGUMENT,
                     "histogram: the data's range (", lo, ", ", hi, ") is not finite; pass range=");
          }
          if (lo == hi) {  // numpy widens an empty range by 0.5 on both sides
            lo -= 0.5;
            hi += 0.5;
          }
          const int64_t nb = *p.bin_cnt;
          const double step = (hi - lo) / static_cast<double>(nb);  // as numpy.linspace
          for (int64_t i = 0; i < nb; ++i) edges.push_back(static_cast<double>(i) * step + lo);
          edges.push_back(hi);
        } else {
          const NDArray &b = c.inputs[1];
          for (int64_t i = 0; i < b.size(); ++i) edges.push_back(read_value(b, i));
          for (size_t i = 1; i < edges.size(); ++i)
            MX_CHECK(edges[i] >= edges[i - 1], MX_ERR_INVALID_ARGUMENT,
                     "histogram: bins must increase monotonically, but edge ", i, " (", edges[i],
                     ") is below edge ", i - 1, " (", edges[i - 1], ")");
        }
        int64_t *counts = c.outputs[0].data<int64_t>();
        std::fill(counts, counts + c.outputs[0].size(), int64_t(0));
        for (int64_t i = 0; i < n; ++i) {
          const int64_t k = bin_of(read_value(x, i), edges);
          if (k >= 0) ++counts[k];
        }
        for (int64_t i = 0; i < c.outputs[1].size(); ++i) {
          MX_DTYPE_SWITCH_ALL(c.outputs[1].dtype(), T,
                              { c.outputs[1].data<T>()[i] = from_f64<T>(edges[static_cast<size_t>(i)]); });
        }
      });
  return 0;
}();

}  // namespace
}  // namespace mx
