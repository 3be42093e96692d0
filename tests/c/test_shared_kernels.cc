// Functors that only the GPU runs in a CUDA build, checked on the CPU against the ones the CPU
// runs (or against the standard library): LayerNorm's per-element gamma/beta gradient
// (NormGammaGrad; the CPU uses LayerGammaGradBlock) and the per-line merge sort of sort/topk
// (SortLines, used on both devices) against std::stable_sort with numpy's NaN order.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <random>
#include <vector>

#include "ops/nn/norm_kernels.h"
#include "ops/sort_kernels.h"

namespace {
int failures = 0;
void expect(bool ok, const char *what) {
  if (!ok) {
    std::printf("FAIL: %s\n", what);
    ++failures;
  }
}

void layer_gamma_grad() {
  std::mt19937 gen(1);
  std::normal_distribution<double> nd;
  for (int64_t post : {1, 3}) {  // axis last, and an inner axis
    mx::normk::Layout L;
    L.layer = true;
    L.M = 70;  // more than one block of 64
    L.post = post;
    L.rows = 5 * post;
    const int64_t n = L.rows * L.M;
    std::vector<double> g(n), x(n), mean(L.rows), sd(L.rows);
    for (auto *v : {&g, &x}) for (double &e : *v) e = nd(gen);
    for (int64_t r = 0; r < L.rows; ++r) {
      mean[r] = nd(gen);
      sd[r] = 1.5 + std::abs(nd(gen));
    }
    std::vector<double> dg1(L.M), db1(L.M), dg2(L.M), db2(L.M), dg3(L.M, 0), db3(L.M, 0);
    mx::normk::NormGammaGrad<double> a{L, g.data(), x.data(), mean.data(), sd.data(), dg1.data(), db1.data()};
    for (int64_t i = 0; i < L.M; ++i) a(i);
    mx::normk::LayerGammaGradBlock<double> b{L, g.data(), x.data(), mean.data(), sd.data(), dg2.data(), db2.data()};
    for (int64_t i = 0; i < (L.M + 63) / 64; ++i) b(i);
    for (int64_t r = 0; r < L.rows; ++r)  // the definition: sum over rows of g * xhat and g
      for (int64_t j = 0; j < L.M; ++j) {
        const int64_t o = L.off(r, j);
        dg3[j] += g[o] * (x[o] - mean[r]) / sd[r];
        db3[j] += g[o];
      }
    for (int64_t j = 0; j < L.M; ++j) {
      expect(std::abs(dg1[j] - dg2[j]) <= 1e-12 && std::abs(db1[j] - db2[j]) <= 1e-12, "NormGammaGrad == block");
      expect(std::abs(dg1[j] - dg3[j]) <= 1e-10 && std::abs(db1[j] - db3[j]) <= 1e-10, "NormGammaGrad == definition");
    }
  }
}

void merge_sort_lines() {
  std::mt19937 gen(2);
  std::uniform_int_distribution<int> u(0, 9);
  for (int64_t n : {1, 2, 7, 64, 100}) {
    const int64_t pre = 3, post = 2, lines = pre * post, k = n > 3 ? 3 : n;
    std::vector<float> d(lines * n);
    for (float &v : d) v = u(gen) == 0 ? NAN : static_cast<float>(u(gen) / 2);  // ties and NaN
    for (bool asc : {true, false}) {
      std::vector<double> ka(lines * n), kb(lines * n);
      std::vector<int64_t> ia(lines * n), ib(lines * n), out(pre * k * post);
      mx::sortk::SortLines<mx::sortk::Key<float, 0>> s{{d.data()}, {pre, n, post}, k, asc, ka.data(), kb.data(),
                                                      ia.data(), ib.data(), out.data()};
      for (int64_t l = 0; l < lines; ++l) s(l);
      for (int64_t p = 0; p < pre; ++p)
        for (int64_t q = 0; q < post; ++q) {
          std::vector<std::pair<double, int64_t>> line;
          for (int64_t j = 0; j < n; ++j) line.push_back({d[(p * n + j) * post + q], j});
          std::stable_sort(line.begin(), line.end(), [asc](const auto &a, const auto &b) {
            if (asc) return std::isnan(b.first) ? !std::isnan(a.first) : a.first < b.first;
            return std::isnan(a.first) ? !std::isnan(b.first) : a.first > b.first;
          });
          for (int64_t j = 0; j < k; ++j)
            expect(out[(p * k + j) * post + q] == line[j].second, "SortLines == std::stable_sort");
        }
    }
  }
}
}  // namespace

int main() {
  layer_gamma_grad();
  merge_sort_lines();
  if (failures) return 1;
  std::printf("test_shared_kernels: ok\n");
  return 0;
}
