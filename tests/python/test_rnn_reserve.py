"""RNN's saved reserve (ops/nn/rnn.cc): a recorded forward keeps the gate activations and states
the backward needs, so _backward_RNN no longer reruns the forward. Gradients through the reserve
are checked against central finite differences (float64) and against _backward_RNN's recompute
path (given an empty reserve), for every mode, layers, directions and LSTM projection; inference
must not allocate the reserve (checked with a per-allocation cap in a subprocess and with the
executor's memory plan)."""
import os
import subprocess
import sys

import numpy as np
import pytest

import mx
from fd_check import fd_check as _fd_check

RNG = np.random.RandomState(11)


def nd(a, dtype=None):
    a = np.asarray(a)
    return mx.nd.array(a, dtype=dtype or a.dtype)


def gates(mode):
    return {"lstm": 4, "gru": 3}.get(mode, 1)


def psize(mode, C, H, L, D, P=0):
    G, R = gates(mode), P or H
    return sum(D * (G * H * ((C if l == 0 else D * R) + R) + P * H + 2 * G * H) for l in range(L))


def reserve_elems(mode, T, N, H, L, D, P=0):
    """What the backward needs, counted independently of the kernel: per layer and direction the
    gates and the recurrent state (plus c for lstm, Wh h + bh of gru's n gate, the projection's
    input), and the inputs of layers 1..L-1."""
    G, R = gates(mode), P or H
    per = G * H + R + (H if mode in ("lstm", "gru") else 0) + (H if P else 0)
    return T * N * (L * D * per + (L - 1) * D * R)


# (mode, layers, bidirectional, projection size)
CASES = [("lstm", 1, False, 0), ("lstm", 2, True, 0), ("gru", 1, False, 0), ("gru", 2, True, 0),
         ("rnn_tanh", 2, True, 0), ("rnn_relu", 2, False, 0), ("lstm", 2, True, 2)]


def make_args(mode, L, bi, P, T=3, N=2, C=3, H=3, dtype=np.float64):
    D = 2 if bi else 1
    R = P or H
    arrays = [RNG.standard_normal((T, N, C)), RNG.standard_normal(psize(mode, C, H, L, D, P)) * 0.5,
              RNG.standard_normal((L * D, N, R))]
    if mode == "lstm":
        arrays.append(RNG.standard_normal((L * D, N, H)))
    if mode == "rnn_relu":  # pre-activations away from the kink
        arrays = [np.abs(a) for a in arrays]
    return [a.astype(dtype) for a in arrays]


def kw(mode, L, bi, P, H=3):
    k = dict(state_size=H, num_layers=L, mode=mode, bidirectional=bi)
    if P:
        k["projection_size"] = P
    return k


def recorded_grads(arrays, k, heads, state_outputs=True, retain=False):
    xs = [nd(a) for a in arrays]
    for x in xs:
        x.attach_grad()
    with mx.autograd.record():
        outs = mx.nd.RNN(*xs, state_outputs=state_outputs, **k)
    outs = outs if isinstance(outs, (list, tuple)) else [outs]
    mx.autograd.backward(outs, [nd(h) for h in heads], retain_graph=retain)
    return xs, outs


def recompute_grads(arrays, k, heads, y, state_outputs=True):
    """_backward_RNN called directly with an empty reserve: it reruns the forward (the old path)."""
    empty = mx.nd.zeros((0,), dtype=arrays[0].dtype)
    ins = [nd(a) for a in arrays] + [nd(h) for h in heads] + [y, empty]
    g = mx.nd._internal._backward_RNN(*ins, state_outputs=state_outputs, **k)
    return [a.asnumpy() for a in g]


@pytest.mark.parametrize("mode,L,bi,P", CASES)
def test_reserve_gradients_equal_recompute(mode, L, bi, P):
    arrays = make_args(mode, L, bi, P)
    k = kw(mode, L, bi, P)
    T, N = arrays[0].shape[:2]
    D = 2 if bi else 1
    heads = [RNG.standard_normal((T, N, D * (P or 3))), RNG.standard_normal(arrays[2].shape)]
    if mode == "lstm":
        heads.append(RNG.standard_normal(arrays[3].shape))
    xs, outs = recorded_grads(arrays, k, heads)
    ref = recompute_grads(arrays, k, heads, outs[0])
    for x, r in zip(xs, ref):
        np.testing.assert_allclose(x.grad.asnumpy(), r, rtol=1e-12, atol=1e-14)
    # and the recompute path itself is right: its gradient of data against finite differences
    # of a numpy-independent quantity is covered below; here check it is not all zeros
    assert all(np.abs(r).max() > 0 for r in ref[:2])


@pytest.mark.parametrize("mode,L,bi,P", CASES)
def test_reserve_gradients_finite_differences(mode, L, bi, P):
    arrays = make_args(mode, L, bi, P)
    k = kw(mode, L, bi, P)

    def with_states(*a):
        outs = mx.nd.RNN(*a, state_outputs=True, **k)
        return mx.nd.concat(*[o.reshape((-1,)) for o in outs], dim=0)
    _fd_check(with_states, arrays, rng=RNG, max_points=10)


def test_reserve_gradients_float32_lm_shape():
    """A small float32 LSTM-LM-like step (2 layers): reserve path == recompute path."""
    mode, L, bi, P = "lstm", 2, False, 0
    arrays = make_args(mode, L, bi, P, T=7, N=4, C=5, H=8, dtype=np.float32)
    k = kw(mode, L, bi, P, H=8)
    heads = [RNG.standard_normal((7, 4, 8)).astype(np.float32)]
    xs, outs = recorded_grads(arrays, k, heads, state_outputs=False)
    ref = recompute_grads(arrays, k, heads, outs[0], state_outputs=False)
    for x, r in zip(xs, ref):
        np.testing.assert_allclose(x.grad.asnumpy(), r, rtol=1e-6, atol=1e-7)


def test_two_forwards_before_backward():
    """Each recorded call keeps its own reserve: two calls sharing the weights, one backward."""
    mode, L, bi, P = "lstm", 2, True, 0
    a1 = make_args(mode, L, bi, P)
    a2 = [RNG.standard_normal(a1[0].shape)] + a1[1:]
    k = kw(mode, L, bi, P)
    x1, x2, w, h0, c0 = nd(a1[0]), nd(a2[0]), nd(a1[1]), nd(a1[2]), nd(a1[3])
    for v in (x1, x2, w):
        v.attach_grad()
    hd1, hd2 = RNG.standard_normal((3, 2, 6)), RNG.standard_normal((3, 2, 6))
    with mx.autograd.record():
        y1 = mx.nd.RNN(x1, w, h0, c0, **k)
        y2 = mx.nd.RNN(x2, w, h0, c0, **k)
        loss = (y1 * nd(hd1)).sum() + (y2 * nd(hd2)).sum()
    loss.backward()
    r1 = recompute_grads(a1, k, [hd1], y1, state_outputs=False)
    r2 = recompute_grads(a2, k, [hd2], y2, state_outputs=False)
    np.testing.assert_allclose(x1.grad.asnumpy(), r1[0], rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(x2.grad.asnumpy(), r2[0], rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(w.grad.asnumpy(), r1[1] + r2[1], rtol=1e-12, atol=1e-14)


def test_retained_graph_backward_twice():
    """The backward only reads the reserve: a second backward of a retained graph agrees."""
    mode, L, bi, P = "gru", 2, True, 0
    arrays = make_args(mode, L, bi, P)
    k = kw(mode, L, bi, P)
    heads = [RNG.standard_normal((3, 2, 6))]
    xs, outs = recorded_grads(arrays, k, heads, state_outputs=False, retain=True)
    first = [x.grad.asnumpy().copy() for x in xs]
    mx.autograd.backward(outs, [nd(heads[0])])
    for x, f in zip(xs, first):
        np.testing.assert_allclose(x.grad.asnumpy(), f, rtol=1e-13, atol=1e-15)


def test_dropout_between_layers_uses_the_forward_mask():
    """Layers with a Dropout op between them (what Gluon does for dropout > 0): the gradient
    through both reserves and the dropout mask equals the chain of recomputed backwards with the
    mask the forward drew."""
    H, T, N, C = 3, 4, 2, 3
    k = dict(state_size=H, num_layers=1, mode="lstm")
    a1 = [RNG.standard_normal((T, N, C)), RNG.standard_normal(psize("lstm", C, H, 1, 1)) * 0.5,
          RNG.standard_normal((1, N, H)), RNG.standard_normal((1, N, H))]
    w2 = RNG.standard_normal(psize("lstm", H, H, 1, 1)) * 0.5
    x, w1, w2n, h0, c0 = nd(a1[0]), nd(a1[1]), nd(w2), nd(a1[2]), nd(a1[3])
    for v in (x, w1, w2n):
        v.attach_grad()
    head = RNG.standard_normal((T, N, H))
    with mx.autograd.record():
        a = mx.nd.RNN(x, w1, h0, c0, **k)
        m = mx.nd.Dropout(a, p=0.5)
        b = mx.nd.RNN(m, w2n, h0, c0, **k)
    b.backward(nd(head))
    av, mv = a.asnumpy(), m.asnumpy()
    scale = np.where(mv != 0, 2.0, 0.0)  # the kept elements are a / (1 - p)
    np.testing.assert_allclose(mv, av * scale, rtol=1e-12)
    assert 0 < (mv == 0).sum() < mv.size
    g2 = recompute_grads([mv, w2, a1[2], a1[3]], k, [head], b, state_outputs=False)
    g1 = recompute_grads(a1, k, [g2[0] * scale], a, state_outputs=False)
    np.testing.assert_allclose(w2n.grad.asnumpy(), g2[1], rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(w1.grad.asnumpy(), g1[1], rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(x.grad.asnumpy(), g1[0], rtol=1e-12, atol=1e-14)


def test_float16_runs_through_float32_without_a_reserve():
    """float16 RNN runs in float32; its reserve is not kept through float16 (its rounding would
    change the gradient): the float32 backward recomputes, so the gradients equal float32
    autograd's (reserve path) rounded to float16."""
    mode, L, bi, P = "lstm", 2, False, 0
    arrays = [a.astype(np.float16).astype(np.float32) for a in make_args(mode, L, bi, P)]
    k = kw(mode, L, bi, P)
    head = RNG.standard_normal((3, 2, 3)).astype(np.float16)
    x16 = [nd(a, np.float16) for a in arrays]
    x32 = [nd(a, np.float32) for a in arrays]
    for v in x16 + x32:
        v.attach_grad()
    with mx.autograd.record():
        y16 = mx.nd.RNN(*x16, **k)
        y32 = mx.nd.RNN(*x32, **k)
    y16.backward(nd(head))
    y32.backward(nd(head.astype(np.float32)))
    assert y16.dtype == np.float16
    for a, b in zip(x16, x32):
        np.testing.assert_array_equal(a.grad.asnumpy(), b.grad.asnumpy().astype(np.float16))


def test_higher_order_gradient_is_refused_cleanly():
    arrays = make_args("lstm", 1, False, 0)
    xs = [nd(a) for a in arrays]
    for x in xs:
        x.attach_grad()
    with mx.autograd.record():
        y = mx.nd.RNN(*xs, **kw("lstm", 1, False, 0))
        g = mx.autograd.grad(y, [xs[0]], head_grads=[nd(RNG.standard_normal(y.shape))], create_graph=True)[0]
        z = (g * g).sum()
    with pytest.raises(mx.base.MXNetError, match="backward"):
        z.backward()


def _executor(mode, L, bi, T, N, C, H, grad_req):
    data = mx.sym.Variable("data")
    net = mx.sym.RNN(data, state_size=H, num_layers=L, mode=mode, bidirectional=bi, name="rnn")
    return net, net.simple_bind(mx.cpu(), data=(T, N, C), grad_req=grad_req)


def test_executor_inference_plans_no_reserve_and_training_matches_autograd():
    mode, L, bi, T, N, C, H = "lstm", 2, True, 5, 3, 4, 6
    D = 2 if bi else 1
    align = lambda b: (b + 63) // 64 * 64  # noqa: E731 (the planner's 64-byte alignment)
    net, ex = _executor(mode, L, bi, T, N, C, H, "null")
    planned, unplanned = ex.memory_bytes()
    visible = align(T * N * D * H * 4) + 2 * align(L * D * N * H * 4)
    assert unplanned == visible  # output, state_output, statecell_output: no reserve
    _, extr = _executor(mode, L, bi, T, N, C, H, "write")
    assert extr.memory_bytes()[1] >= visible + align(reserve_elems(mode, T, N, H, L, D) * 4)
    for name, a in extr.arg_dict.items():
        a[:] = RNG.standard_normal(a.shape) * 0.5
        ex.arg_dict[name][:] = a
    y_inf = ex.forward(is_train=False)[0].asnumpy()
    y = extr.forward(is_train=True)[0]
    np.testing.assert_array_equal(y.asnumpy(), y_inf)
    head = RNG.standard_normal(y.shape).astype(np.float32)
    extr.backward(nd(head, np.float32))
    args = {n: a.copy() for n, a in extr.arg_dict.items()}
    ins = [args["data"], args["rnn_parameters"], args["rnn_state"], args["rnn_state_cell"]]
    ref = mx.nd._internal._backward_RNN(*ins, nd(head, np.float32), y, mx.nd.zeros((0,)), state_size=H,
                                        num_layers=L, mode=mode, bidirectional=bi)
    for name, r in zip(["data", "rnn_parameters", "rnn_state", "rnn_state_cell"], ref):
        np.testing.assert_allclose(extr.grad_dict[name].asnumpy(), r.asnumpy(), rtol=1e-6, atol=1e-7)


_CAP_SCRIPT = r"""
import numpy as np, mx
T, N, C, H = 20, 8, 16, 64
rng = np.random.RandomState(0)
x = mx.nd.array(rng.standard_normal((T, N, C)).astype(np.float32))
w = mx.nd.array(rng.standard_normal(4 * H * (C + H) + 8 * H).astype(np.float32) * 0.1)
h0 = mx.nd.zeros((1, N, H)); c0 = mx.nd.zeros((1, N, H))
k = dict(state_size=H, num_layers=1, mode="lstm")
y = mx.nd.RNN(x, w, h0, c0, **k); y.wait_to_read()
with mx.autograd.train_mode():
    mx.nd.RNN(x, w, h0, c0, **k).wait_to_read()
x.attach_grad()
try:
    with mx.autograd.record():
        mx.nd.RNN(x, w, h0, c0, **k).wait_to_read()
    print("RECORDED-OK")
except mx.base.MXNetError as e:
    print("RECORDED-REFUSED", "out of memory" in str(e))
"""


def test_inference_allocates_no_reserve():
    """With every single allocation capped between the output's size and the reserve's, an
    inference call (predict or train mode, not recorded) runs; a recorded one needs the reserve
    and is refused by the cap."""
    T, N, H = 20, 8, 64
    reserve = reserve_elems("lstm", T, N, H, 1, 1) * 4
    cap = 150000
    assert T * N * H * 4 < cap < reserve
    env = dict(os.environ, MX_MAX_ALLOC_BYTES=str(cap))
    r = subprocess.run([sys.executable, "-c", _CAP_SCRIPT], env=env, capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    assert "RECORDED-REFUSED True" in r.stdout, r.stdout


def test_layer_dropout_in_training_is_refused():
    """MXNet drops out the outputs of all but the last layer in training; the fused kernels do
    not, so p > 0 with several layers is refused in training mode, never silently skipped.
    Outside training, and with one layer, p changes nothing and the call runs."""
    T, N, C, H = 3, 2, 4, 5
    rng = np.random.RandomState(1)
    nparam = 4 * H * (C + H) + 8 * H + 4 * H * (H + H) + 8 * H
    x = mx.nd.array(rng.standard_normal((T, N, C)).astype(np.float32))
    w = mx.nd.array(rng.standard_normal(nparam).astype(np.float32) * 0.1)
    h0 = mx.nd.zeros((2, N, H)); c0 = mx.nd.zeros((2, N, H))
    k = dict(state_size=H, num_layers=2, mode="lstm")
    plain = mx.nd.RNN(x, w, h0, c0, p=0.0, **k).asnumpy()
    np.testing.assert_array_equal(mx.nd.RNN(x, w, h0, c0, p=0.5, **k).asnumpy(), plain)
    with pytest.raises(mx.base.MXNotSupportedError, match="dropout between layers"):
        with mx.autograd.record():
            mx.nd.RNN(x, w, h0, c0, p=0.5, **k).wait_to_read()
    with pytest.raises(mx.base.MXNotSupportedError, match="dropout between layers"):
        with mx.autograd.train_mode():
            mx.nd.RNN(x, w, h0, c0, p=0.5, **k).wait_to_read()
    w1 = mx.nd.array(rng.standard_normal(4 * H * (C + H) + 8 * H).astype(np.float32) * 0.1)
    with mx.autograd.record():
        mx.nd.RNN(x, w1, h0[:1], c0[:1], p=0.5, state_size=H, num_layers=1, mode="lstm").wait_to_read()
