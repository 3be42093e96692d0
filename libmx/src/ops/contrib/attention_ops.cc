// MXNet's fused attention products on interleaved projections (GluonNLP's transformer layers):
// _contrib_interleaved_matmul_{selfatt_qk, selfatt_valatt, encdec_qk, encdec_valatt}.
// Projections are (seq, batch, heads * k * head_dim) with, per head, k consecutive blocks of head_dim
// (k = 3: query, key, value for self-attention; k = 2: key, value for encoder-decoder; k = 1:
// queries). Attention maps are (batch * heads, seq_q, seq_k), batch-major.
#include <cmath>

#include "backends/cpu/blas.h"
#include "backends/cpu/parallel.h"
#include "ops/registry.h"

namespace mx {
namespace {

struct HeadsParam {
  int64_t heads = 0;
  static void describe(ParamDecl<HeadsParam> &d) {
    d.field("heads", &HeadsParam::heads).required().doc("Number of attention heads.");
  }
};

// Where one head's block of one projection lives: element (t, d) of (batch b, head h) is at
// base[t * row_stride + b * batch_stride + h * head_stride + block * head_dim + d].
struct Interleaved {
  int64_t seq = 0, batch = 0, heads = 0, blocks = 0, head_dim = 0;
  int64_t row_stride() const { return batch * heads * blocks * head_dim; }
  int64_t offset(int64_t b, int64_t h, int64_t block) const {
    return b * heads * blocks * head_dim + h * blocks * head_dim + block * head_dim;
  }
};

Interleaved layout_of(const Shape &s, int64_t heads, int64_t blocks, const char *op, const char *what) {
  MX_CHECK(heads > 0, MX_ERR_INVALID_ARGUMENT, op, ": heads must be positive, got ", heads);
  MX_CHECK(s.ndim() == 3, MX_ERR_SHAPE, op, ": ", what, " must be 3-D (seq_length, batch, projections), got ", s.str());
  MX_CHECK(s[2] % (heads * blocks) == 0, MX_ERR_SHAPE, op, ": the last axis of ", what, " (", s[2],
           ") must be a multiple of heads * ", blocks, " = ", heads * blocks);
  return {s[0], s[1], heads, blocks, s[2] / (heads * blocks)};
}

// Gather one head's block into a contiguous (seq, head_dim) matrix, and scatter (accumulate) back.
template <typename T> void gather(const T *src, const Interleaved &L, int64_t b, int64_t h, int64_t block, T *dst) {
  const int64_t off = L.offset(b, h, block), rs = L.row_stride();
  for (int64_t t = 0; t < L.seq; ++t)
    for (int64_t d = 0; d < L.head_dim; ++d) dst[t * L.head_dim + d] = src[t * rs + off + d];
}
template <typename T> void scatter(const T *src, const Interleaved &L, int64_t b, int64_t h, int64_t block, T *dst) {
  const int64_t off = L.offset(b, h, block), rs = L.row_stride();
  for (int64_t t = 0; t < L.seq; ++t)
    for (int64_t d = 0; d < L.head_dim; ++d) dst[t * rs + off + d] = src[t * L.head_dim + d];
}

// out[bh] = scale * Q K^T with Q = block qb of `q`, K = block kb of `k`.
template <typename T>
void qk_forward(const T *q, const Interleaved &Lq, int64_t qb, const T *k, const Interleaved &Lk, int64_t kb, T *out) {
  const T scale = static_cast<T>(1.0 / std::sqrt(static_cast<double>(Lq.head_dim)));
  parallel_for(Lq.batch * Lq.heads, 1, [&](int64_t s, int64_t e) {
    std::vector<T> mq(static_cast<size_t>(Lq.seq * Lq.head_dim)), mk(static_cast<size_t>(Lk.seq * Lk.head_dim));
    for (int64_t bh = s; bh < e; ++bh) {
      const int64_t b = bh / Lq.heads, h = bh % Lq.heads;
      gather(q, Lq, b, h, qb, mq.data());
      gather(k, Lk, b, h, kb, mk.data());
      gemm(false, true, Lq.seq, Lk.seq, Lq.head_dim, scale, mq.data(), Lq.head_dim, mk.data(), Lk.head_dim, T(0),
           out + bh * Lq.seq * Lk.seq, Lk.seq);
    }
  });
}

// dQ = scale * G K, dK = scale * G^T Q, written into blocks qb / kb of dq / dk (both may be one array).
template <typename T>
void qk_backward(const T *g, const T *q, const Interleaved &Lq, int64_t qb, const T *k, const Interleaved &Lk,
                 int64_t kb, T *dq, T *dk) {
  const T scale = static_cast<T>(1.0 / std::sqrt(static_cast<double>(Lq.head_dim)));
  parallel_for(Lq.batch * Lq.heads, 1, [&](int64_t s, int64_t e) {
    std::vector<T> mq(static_cast<size_t>(Lq.seq * Lq.head_dim)), mk(static_cast<size_t>(Lk.seq * Lk.head_dim));
    std::vector<T> r1(mq.size()), r2(mk.size());
    for (int64_t bh = s; bh < e; ++bh) {
      const int64_t b = bh / Lq.heads, h = bh % Lq.heads;
      const T *gb = g + bh * Lq.seq * Lk.seq;
      gather(q, Lq, b, h, qb, mq.data());
      gather(k, Lk, b, h, kb, mk.data());
      gemm(false, false, Lq.seq, Lq.head_dim, Lk.seq, scale, gb, Lk.seq, mk.data(), Lk.head_dim, T(0), r1.data(), Lq.head_dim);
      gemm(true, false, Lk.seq, Lk.head_dim, Lq.seq, scale, gb, Lk.seq, mq.data(), Lq.head_dim, T(0), r2.data(), Lk.head_dim);
      scatter(r1.data(), Lq, b, h, qb, dq);
      scatter(r2.data(), Lk, b, h, kb, dk);
    }
  });
}

// out (seq_q, batch, heads * head_dim) = A V per head, V = block vb of `v`.
template <typename T> void valatt_forward(const T *v, const Interleaved &Lv, int64_t vb, const T *att, int64_t seq_q, T *out) {
  const Interleaved Lo{seq_q, Lv.batch, Lv.heads, 1, Lv.head_dim};
  parallel_for(Lv.batch * Lv.heads, 1, [&](int64_t s, int64_t e) {
    std::vector<T> mv(static_cast<size_t>(Lv.seq * Lv.head_dim)), r(static_cast<size_t>(seq_q * Lv.head_dim));
    for (int64_t bh = s; bh < e; ++bh) {
      const int64_t b = bh / Lv.heads, h = bh % Lv.heads;
      gather(v, Lv, b, h, vb, mv.data());
      gemm(false, false, seq_q, Lv.head_dim, Lv.seq, T(1), att + bh * seq_q * Lv.seq, Lv.seq, mv.data(), Lv.head_dim,
           T(0), r.data(), Lv.head_dim);
      scatter(r.data(), Lo, b, h, 0, out);
    }
  });
}

// dA = G V^T, dV = A^T G per head; G is the output gradient (seq_q, batch, heads * head_dim).
template <typename T>
void valatt_backward(const T *g, const T *v, const Interleaved &Lv, int64_t vb, const T *att, int64_t seq_q, T *dv, T *datt) {
  const Interleaved Lo{seq_q, Lv.batch, Lv.heads, 1, Lv.head_dim};
  parallel_for(Lv.batch * Lv.heads, 1, [&](int64_t s, int64_t e) {
    std::vector<T> mv(static_cast<size_t>(Lv.seq * Lv.head_dim)), mg(static_cast<size_t>(seq_q * Lv.head_dim));
    std::vector<T> r(mv.size());
    for (int64_t bh = s; bh < e; ++bh) {
      const int64_t b = bh / Lv.heads, h = bh % Lv.heads;
      gather(v, Lv, b, h, vb, mv.data());
      gather(g, Lo, b, h, 0, mg.data());
      gemm(false, true, seq_q, Lv.seq, Lv.head_dim, T(1), mg.data(), Lv.head_dim, mv.data(), Lv.head_dim, T(0),
           datt + bh * seq_q * Lv.seq, Lv.seq);
      gemm(true, false, Lv.seq, Lv.head_dim, seq_q, T(1), att + bh * seq_q * Lv.seq, Lv.seq, mg.data(), Lv.head_dim,
           T(0), r.data(), Lv.head_dim);
      scatter(r.data(), Lv, b, h, vb, dv);
    }
  });
}

template <typename T> void zero(const NDArray &a) {
  T *p = a.data<T>();
  for (int64_t i = 0; i < a.size(); ++i) p[i] = T(0);
}

int64_t heads_of(const Params &p) { return p.get<HeadsParam>().heads; }

void check_attention(const Shape &att, int64_t bh, int64_t seq_q, int64_t seq_k, const char *op) {
  MX_CHECK(att.ndim() == 3 && att[0] == bh && att[1] == seq_q && att[2] == seq_k, MX_ERR_SHAPE, op,
           ": attention must have shape (batch * heads, seq_q, seq_k) = (", bh, ", ", seq_q, ", ", seq_k, "), got ",
           att.str());
}

const int registered = [] {
  MX_REGISTER_OP(_contrib_interleaved_matmul_selfatt_qk)
      .doc("Self-attention scores: for each head, Q K^T / sqrt(head_dim) from interleaved (query, key, value) "
           "projections (seq, batch, heads * 3 * head_dim); output (batch * heads, seq, seq).")
      .params<HeadsParam>()
      .inputs({"queries_keys_values"})
      .shape([](const Params &p, ShapeVec &in, ShapeVec &, ShapeVec &out) {
        if (!in[0].known()) return false;
        auto L = layout_of(in[0], heads_of(p), 3, "interleaved_matmul_selfatt_qk", "queries_keys_values");
        assign_shape(out[0], Shape({L.batch * L.heads, L.seq, L.seq}), "interleaved_matmul_selfatt_qk", "output");
        return true;
      })
      .cpu([](const OpCall &c) {
        auto L = layout_of(c.inputs[0].shape(), heads_of(c.params), 3, "interleaved_matmul_selfatt_qk", "queries_keys_values");
        MX_DTYPE_SWITCH_FLOAT(c.inputs[0].dtype(), T, "interleaved_matmul_selfatt_qk", {
          qk_forward(c.inputs[0].data<T>(), L, 0, c.inputs[0].data<T>(), L, 1, c.outputs[0].data<T>());
        });
      })
      .grad([](GradBuilder &b, const GradNode &n) -> std::vector<Var> {
        return {b.emit(&Registry::get().require("_backward_interleaved_matmul_selfatt_qk"), n.params,
                       {n.out_grads[0], n.inputs[0]})[0]};
      });
  MX_REGISTER_OP(_backward_interleaved_matmul_selfatt_qk)
      .doc("Gradient of interleaved_matmul_selfatt_qk: inputs (out_grad, queries_keys_values).")
      .params<HeadsParam>()
      .inputs({"out_grad", "queries_keys_values"})
      .shape([](const Params &, ShapeVec &in, ShapeVec &, ShapeVec &out) {
        if (!in[1].known()) return false;
        assign_shape(out[0], in[1], "_backward_interleaved_matmul_selfatt_qk", "grad");
        return true;
      })
      .cpu([](const OpCall &c) {
        auto L = layout_of(c.inputs[1].shape(), heads_of(c.params), 3, "interleaved_matmul_selfatt_qk", "queries_keys_values");
        MX_DTYPE_SWITCH_FLOAT(c.inputs[1].dtype(), T, "interleaved_matmul_selfatt_qk", {
          zero<T>(c.outputs[0]);  // the value blocks get no gradient
          const T *x = c.inputs[1].data<T>();
          qk_backward(c.inputs[0].data<T>(), x, L, 0, x, L, 1, c.outputs[0].data<T>(), c.outputs[0].data<T>());
        });
      })
      .no_grad();

  MX_REGISTER_OP(_contrib_interleaved_matmul_selfatt_valatt)
      .doc("Self-attention output: for each head, attention x V from interleaved (query, key, value) projections; "
           "output (seq, batch, heads * head_dim).")
      .params<HeadsParam>()
      .inputs({"queries_keys_values", "attention"})
      .shape([](const Params &p, ShapeVec &in, ShapeVec &, ShapeVec &out) {
        if (!in[0].known() || !in[1].known()) return false;
        auto L = layout_of(in[0], heads_of(p), 3, "interleaved_matmul_selfatt_valatt", "queries_keys_values");
        check_attention(in[1], L.batch * L.heads, L.seq, L.seq, "interleaved_matmul_selfatt_valatt");
        assign_shape(out[0], Shape({L.seq, L.batch, L.heads * L.head_dim}), "interleaved_matmul_selfatt_valatt", "output");
        return true;
      })
      .cpu([](const OpCall &c) {
        auto L = layout_of(c.inputs[0].shape(), heads_of(c.params), 3, "interleaved_matmul_selfatt_valatt", "queries_keys_values");
        MX_DTYPE_SWITCH_FLOAT(c.inputs[0].dtype(), T, "interleaved_matmul_selfatt_valatt", {
          valatt_forward(c.inputs[0].data<T>(), L, 2, c.inputs[1].data<T>(), L.seq, c.outputs[0].data<T>());
        });
      })
      .grad([](GradBuilder &b, const GradNode &n) -> std::vector<Var> {
        auto g = b.emit(&Registry::get().require("_backward_interleaved_matmul_selfatt_valatt"), n.params,
                        {n.out_grads[0], n.inputs[0], n.inputs[1]});
        return {g[0], g[1]};
      });
  MX_REGISTER_OP(_backward_interleaved_matmul_selfatt_valatt)
      .doc("Gradient of interleaved_matmul_selfatt_valatt: inputs (out_grad, queries_keys_values, attention).")
      .params<HeadsParam>()
      .inputs({"out_grad", "queries_keys_values", "attention"})
      .outputs({"qkv_grad", "attention_grad"})
      .shape([](const Params &, ShapeVec &in, ShapeVec &, ShapeVec &out) {
        if (!in[1].known() || !in[2].known()) return false;
        assign_shape(out[0], in[1], "_backward_interleaved_matmul_selfatt_valatt", "qkv_grad");
        assign_shape(out[1], in[2], "_backward_interleaved_matmul_selfatt_valatt", "attention_grad");
        return true;
      })
      .cpu([](const OpCall &c) {
        auto L = layout_of(c.inputs[1].shape(), heads_of(c.params), 3, "interleaved_matmul_selfatt_valatt", "queries_keys_values");
        MX_DTYPE_SWITCH_FLOAT(c.inputs[1].dtype(), T, "interleaved_matmul_selfatt_valatt", {
          zero<T>(c.outputs[0]);  // the query and key blocks get no gradient
          valatt_backward(c.inputs[0].data<T>(), c.inputs[1].data<T>(), L, 2, c.inputs[2].data<T>(), L.seq,
                          c.outputs[0].data<T>(), c.outputs[1].data<T>());
        });
      })
      .no_grad();

  MX_REGISTER_OP(_contrib_interleaved_matmul_encdec_qk)
      .doc("Encoder-decoder attention scores: for each head, Q K^T / sqrt(head_dim) with queries (seq_q, batch, "
           "heads * head_dim) and interleaved (key, value) projections (seq_k, batch, heads * 2 * head_dim); output "
           "(batch * heads, seq_q, seq_k).")
      .params<HeadsParam>()
      .inputs({"queries", "keys_values"})
      .shape([](const Params &p, ShapeVec &in, ShapeVec &, ShapeVec &out) {
        if (!in[0].known() || !in[1].known()) return false;
        auto Lq = layout_of(in[0], heads_of(p), 1, "interleaved_matmul_encdec_qk", "queries");
        auto Lk = layout_of(in[1], heads_of(p), 2, "interleaved_matmul_encdec_qk", "keys_values");
        MX_CHECK(Lq.batch == Lk.batch && Lq.head_dim == Lk.head_dim, MX_ERR_SHAPE,
                 "interleaved_matmul_encdec_qk: queries ", in[0].str(), " and keys_values ", in[1].str(),
                 " must have the same batch and keys_values twice the queries' projection size");
        assign_shape(out[0], Shape({Lq.batch * Lq.heads, Lq.seq, Lk.seq}), "interleaved_matmul_encdec_qk", "output");
        return true;
      })
      .cpu([](const OpCall &c) {
        auto Lq = layout_of(c.inputs[0].shape(), heads_of(c.params), 1, "interleaved_matmul_encdec_qk", "queries");
        auto Lk = layout_of(c.inputs[1].shape(), heads_of(c.params), 2, "interleaved_matmul_encdec_qk", "keys_values");
        MX_DTYPE_SWITCH_FLOAT(c.inputs[0].dtype(), T, "interleaved_matmul_encdec_qk", {
          qk_forward(c.inputs[0].data<T>(), Lq, 0, c.inputs[1].data<T>(), Lk, 0, c.outputs[0].data<T>());
        });
      })
      .grad([](GradBuilder &b, const GradNode &n) -> std::vector<Var> {
        auto g = b.emit(&Registry::get().require("_backward_interleaved_matmul_encdec_qk"), n.params,
                        {n.out_grads[0], n.inputs[0], n.inputs[1]});
        return {g[0], g[1]};
      });
  MX_REGISTER_OP(_backward_interleaved_matmul_encdec_qk)
      .doc("Gradient of interleaved_matmul_encdec_qk: inputs (out_grad, queries, keys_values).")
      .params<HeadsParam>()
      .inputs({"out_grad", "queries", "keys_values"})
      .outputs({"queries_grad", "keys_values_grad"})
      .shape([](const Params &, ShapeVec &in, ShapeVec &, ShapeVec &out) {
        if (!in[1].known() || !in[2].known()) return false;
        assign_shape(out[0], in[1], "_backward_interleaved_matmul_encdec_qk", "queries_grad");
        assign_shape(out[1], in[2], "_backward_interleaved_matmul_encdec_qk", "keys_values_grad");
        return true;
      })
      .cpu([](const OpCall &c) {
        auto Lq = layout_of(c.inputs[1].shape(), heads_of(c.params), 1, "interleaved_matmul_encdec_qk", "queries");
        auto Lk = layout_of(c.inputs[2].shape(), heads_of(c.params), 2, "interleaved_matmul_encdec_qk", "keys_values");
        MX_DTYPE_SWITCH_FLOAT(c.inputs[1].dtype(), T, "interleaved_matmul_encdec_qk", {
          zero<T>(c.outputs[1]);  // the value blocks get no gradient
          qk_backward(c.inputs[0].data<T>(), c.inputs[1].data<T>(), Lq, 0, c.inputs[2].data<T>(), Lk, 0,
                      c.outputs[0].data<T>(), c.outputs[1].data<T>());
        });
      })
      .no_grad();

  MX_REGISTER_OP(_contrib_interleaved_matmul_encdec_valatt)
      .doc("Encoder-decoder attention output: for each head, attention x V with interleaved (key, value) "
           "projections; output (seq_q, batch, heads * head_dim).")
      .params<HeadsParam>()
      .inputs({"keys_values", "attention"})
      .shape([](const Params &p, ShapeVec &in, ShapeVec &, ShapeVec &out) {
        if (!in[0].known() || !in[1].known()) return false;
        auto L = layout_of(in[0], heads_of(p), 2, "interleaved_matmul_encdec_valatt", "keys_values");
        MX_CHECK(in[1].ndim() == 3, MX_ERR_SHAPE, "interleaved_matmul_encdec_valatt: attention must be 3-D, got ",
                 in[1].str());
        check_attention(in[1], L.batch * L.heads, in[1][1], L.seq, "interleaved_matmul_encdec_valatt");
        assign_shape(out[0], Shape({in[1][1], L.batch, L.heads * L.head_dim}), "interleaved_matmul_encdec_valatt", "output");
        return true;
      })
      .cpu([](const OpCall &c) {
        auto L = layout_of(c.inputs[0].shape(), heads_of(c.params), 2, "interleaved_matmul_encdec_valatt", "keys_values");
        MX_DTYPE_SWITCH_FLOAT(c.inputs[0].dtype(), T, "interleaved_matmul_encdec_valatt", {
          valatt_forward(c.inputs[0].data<T>(), L, 1, c.inputs[1].data<T>(), c.inputs[1].shape()[1], c.outputs[0].data<T>());
        });
      })
      .grad([](GradBuilder &b, const GradNode &n) -> std::vector<Var> {
        auto g = b.emit(&Registry::get().require("_backward_interleaved_matmul_encdec_valatt"), n.params,
                        {n.out_grads[0], n.inputs[0], n.inputs[1]});
        return {g[0], g[1]};
      });
  MX_REGISTER_OP(_backward_interleaved_matmul_encdec_valatt)
      .doc("Gradient of interleaved_matmul_encdec_valatt: inputs (out_grad, keys_values, attention).")
      .params<HeadsParam>()
      .inputs({"out_grad", "keys_values", "attention"})
      .outputs({"keys_values_grad", "attention_grad"})
      .shape([](const Params &, ShapeVec &in, ShapeVec &, ShapeVec &out) {
        if (!in[1].known() || !in[2].known()) return false;
        assign_shape(out[0], in[1], "_backward_interleaved_matmul_encdec_valatt", "keys_values_grad");
        assign_shape(out[1], in[2], "_backward_interleaved_matmul_encdec_valatt", "attention_grad");
        return true;
      })
      .cpu([](const OpCall &c) {
        auto L = layout_of(c.inputs[1].shape(), heads_of(c.params), 2, "interleaved_matmul_encdec_valatt", "keys_values");
        MX_DTYPE_SWITCH_FLOAT(c.inputs[1].dtype(), T, "interleaved_matmul_encdec_valatt", {
          zero<T>(c.outputs[0]);  // the key blocks get no gradient
          valatt_backward(c.inputs[0].data<T>(), c.inputs[1].data<T>(), L, 1, c.inputs[2].data<T>(),
                          c.inputs[2].shape()[1], c.outputs[0].data<T>(), c.outputs[1].data<T>());
        });
      })
      .no_grad();
  return 0;
}();

}  // namespace
}  // namespace mx
