// Host-side helpers of launch.cuh.
#include "backends/cuda/launch.cuh"

namespace mx {
namespace cuda {

void make_bcast_maps(const Shape &a, const Shape &b, const Shape &out, const char *op, BcastMap *ma,
                     BcastMap *mb) {
  const int nd = out.ndim();
  // Operand dims aligned to the output's (leading 1s where the operand has fewer dims).
  auto aligned = [&](const Shape &s) {
    std::vector<int64_t> d(static_cast<size_t>(nd), 1);
    for (int i = 0; i < s.ndim(); ++i) d[static_cast<size_t>(nd - s.ndim() + i)] = s[i];
    return d;
  };
  std::vector<int64_t> da = aligned(a), db = aligned(b);
  // Merge runs of dims where each operand either matches the output or is 1 in both dims.
  std::vector<int64_t> od, ad, bd;
  for (int i = 0; i < nd; ++i) {
    const size_t u = static_cast<size_t>(i);
    if (out[i] == 1) continue;  // size-1 output dims carry no index
    bool a_full = da[u] == out[i], b_full = db[u] == out[i];
    if (!od.empty()) {
      bool pa = ad.back() == od.back(), pb = bd.back() == od.back();
      if (pa == a_full && pb == b_full) {
        od.back() *= out[i];
        ad.back() *= da[u];
        bd.back() *= db[u];
        continue;
      }
    }
    od.push_back(out[i]);
    ad.push_back(da[u]);
    bd.push_back(db[u]);
  }
  MX_CHECK(static_cast<int>(od.size()) <= kMaxDims, MX_ERR_UNSUPPORTED, op, ": broadcasting over ",
           od.size(), " distinct dimensions is not supported on the GPU (at most ", kMaxDims, ")");
  auto fill = [&](const std::vector<int64_t> &dims, BcastMap *m) {
    m->nd = static_cast<int>(od.size());
    int64_t s = 1;
    for (int i = m->nd - 1; i >= 0; --i) {
      const size_t u = static_cast<size_t>(i);
      m->out_dims[i] = od[u];
      m->stride[i] = dims[u] == 1 ? 0 : s;
      s *= dims[u];
    }
  };
  fill(ad, ma);
  fill(bd, mb);
}

}  // namespace cuda
}  // namespace mx
