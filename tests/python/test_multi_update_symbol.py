"""The multi-tensor update operators in symbolic graphs: mx.sym.multi_sgd_update & co. (generated
from the registry, in mx.sym as in MXNet 1.9.1), mx.sym._internal._multi_adamw_update /
_multi_lamb_update and the mx.sym.contrib wrappers (adamw_update, mp_adamw_update as MXNet 1.9.1;
multi_(mp_)adamw_update, multi_(mp_)lamb_update mirroring mx.nd.contrib). Each graph is bound and
run for a few steps; its outputs and the bound state arrays (updated in place, as MXNet's mutable
inputs) are compared with numpy float64 and with the same call on NDArrays (bit-identical: the
same kernel)."""
import numpy as np
import pytest

import mx

SHAPES = [(4,), (2, 3), (5,)]
LRS, WDS = [0.1, 0.05, 0.2], [0.01, 0.0, 0.03]


def _data(seed, steps):
    rng = np.random.RandomState(seed)
    w = [rng.uniform(-1, 1, s) for s in SHAPES]
    g = [[rng.uniform(-1, 1, s) for s in SHAPES] for _ in range(steps)]
    return w, g


def _f32(x):
    return x.astype(np.float32).astype(np.float64)


def _bind_run(sym, arrays, steps, feed):
    """Binds `sym` to `arrays` (name -> NDArray; states included) once, then per step writes the
    step's gradients (feed(t) -> {name: values}) into the bound arrays, runs forward and copies
    each output back into its weight array, as an optimizer loop would."""
    args = {n: arrays[n] for n in sym.list_arguments()}
    aux = {n: arrays[n] for n in sym.list_auxiliary_states()}
    ex = sym.bind(mx.cpu(), args, aux_states=aux)
    for t in range(steps):
        for n, v in feed(t).items():
            arrays[n][:] = v
        outs = ex.forward()
        for i, o in enumerate(outs):
            arrays["w%d" % i][:] = o
    return arrays


def _vars(prefix, n):
    return [mx.sym.var("%s%d" % (prefix, i)) for i in range(n)]


def _sgd_mom_ref(w, g, m, lr, wd, mom, rs, clip):
    gc = rs * g
    if clip >= 0:
        gc = np.clip(gc, -clip, clip)
    m = mom * m - lr * wd * w - lr * gc
    return w + m, m


@pytest.mark.parametrize("form", ["multi_sgd_update", "multi_sgd_mom_update", "preloaded_multi_sgd_update",
                                  "preloaded_multi_sgd_mom_update"])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_sgd_graphs_match_numpy_and_nd(form, dtype):
    n, steps = len(SHAPES), 3
    momentum = "mom" in form
    preloaded = form.startswith("preloaded")
    w0, gs = _data(1, steps)
    w0 = [_f32(x) for x in w0] if dtype == "float32" else w0
    W, G, M = _vars("w", n), _vars("g", n), _vars("m", n)
    ins = []
    for i in range(n):
        ins += [W[i], G[i]] + ([M[i]] if momentum else [])
    kw = dict(num_weights=n, rescale_grad=0.5, clip_gradient=0.3)
    if momentum:
        kw["momentum"] = 0.9
    if preloaded:
        ins += [mx.sym.var("lrs"), mx.sym.var("wds")]
    else:
        kw.update(lrs=LRS, wds=WDS)
    sym = getattr(mx.sym, form)(*ins, **kw)
    assert len(sym.list_outputs()) == n
    arrays = {"w%d" % i: mx.nd.array(w0[i], dtype=dtype) for i in range(n)}
    arrays.update({"g%d" % i: mx.nd.zeros(SHAPES[i], dtype=dtype) for i in range(n)})
    arrays.update({"m%d" % i: mx.nd.zeros(SHAPES[i], dtype=dtype) for i in range(n)})
    arrays["lrs"] = mx.nd.array(LRS, dtype="float32")
    arrays["wds"] = mx.nd.array(WDS, dtype="float32")
    _bind_run(sym, arrays, steps, lambda t: {"g%d" % i: gs[t][i] for i in range(n)})

    # the same steps on NDArrays
    nw = [mx.nd.array(w0[i], dtype=dtype) for i in range(n)]
    nm = [mx.nd.zeros(SHAPES[i], dtype=dtype) for i in range(n)]
    ndkw = {k: v for k, v in kw.items()}
    for t in range(steps):
        a = []
        for i in range(n):
            a += [nw[i], mx.nd.array(gs[t][i], dtype=dtype)] + ([nm[i]] if momentum else [])
        if preloaded:
            a += [arrays["lrs"], arrays["wds"]]
        getattr(mx.nd, form)(*a, out=nw, **ndkw)

    # numpy float64 (lrs/wds as the float32 values the preloaded forms read)
    lrs = [float(np.float32(x)) for x in LRS] if preloaded else LRS
    wds = [float(np.float32(x)) for x in WDS] if preloaded else WDS
    rw, rm = list(w0), [np.zeros(s) for s in SHAPES]
    for t in range(steps):
        for i in range(n):
            rw[i], m = _sgd_mom_ref(rw[i], gs[t][i], rm[i], lrs[i], wds[i], 0.9 if momentum else 0.0, 0.5, 0.3)
            if momentum:
                rm[i] = m
    tol = dict(rtol=1e-5, atol=1e-6) if dtype == "float32" else dict(rtol=1e-12, atol=1e-13)
    for i in range(n):
        np.testing.assert_array_equal(arrays["w%d" % i].asnumpy(), nw[i].asnumpy())
        np.testing.assert_allclose(arrays["w%d" % i].asnumpy(), rw[i], **tol)
        if momentum:  # the bound momentum arrays were updated in place by the graph
            np.testing.assert_array_equal(arrays["m%d" % i].asnumpy(), nm[i].asnumpy())
            np.testing.assert_allclose(arrays["m%d" % i].asnumpy(), rm[i], **tol)


@pytest.mark.parametrize("form", ["multi_mp_sgd_update", "multi_mp_sgd_mom_update"])
@pytest.mark.parametrize("dtype", ["float16", "bfloat16"])
def test_mp_sgd_graphs_step_the_masters(form, dtype):
    n, steps = len(SHAPES), 2
    momentum = "mom" in form
    w0, gs = _data(2, steps)
    W, G, M, X = _vars("w", n), _vars("g", n), _vars("m", n), _vars("x", n)
    ins = []
    for i in range(n):
        ins += [W[i], G[i]] + ([M[i]] if momentum else []) + [X[i]]
    kw = dict(num_weights=n, lrs=LRS, wds=WDS, rescale_grad=1.0)
    if momentum:
        kw["momentum"] = 0.9
    sym = getattr(mx.sym, form)(*ins, **kw)

    def arr16(x):
        return mx.nd.array(x.astype(np.float32)).astype(dtype)
    arrays = {"w%d" % i: arr16(w0[i]) for i in range(n)}
    arrays.update({"x%d" % i: arrays["w%d" % i].astype("float32") for i in range(n)})
    arrays.update({"g%d" % i: arr16(np.zeros(SHAPES[i])) for i in range(n)})
    arrays.update({"m%d" % i: mx.nd.zeros(SHAPES[i]) for i in range(n)})
    g16 = [[arr16(x).astype("float32").asnumpy().astype(np.float64) for x in step] for step in gs]
    _bind_run(sym, arrays, steps, lambda t: {"g%d" % i: arr16(gs[t][i]) for i in range(n)})
    rw = [arrays_x for arrays_x in (mx.nd.array(w0[i].astype(np.float32)).astype(dtype).astype("float32")
                                    .asnumpy().astype(np.float64) for i in range(n))]
    rm = [np.zeros(s) for s in SHAPES]
    for t in range(steps):
        for i in range(n):
            rw[i], m = _sgd_mom_ref(rw[i], g16[t][i], rm[i], LRS[i], WDS[i], 0.9 if momentum else 0.0, 1.0, -1)
            if momentum:
                rm[i] = m
    for i in range(n):
        x = arrays["x%d" % i].asnumpy()
        np.testing.assert_allclose(x, rw[i], rtol=1e-5, atol=1e-6)  # the float32 master, stepped in place
        # the weight is the master rounded to its dtype
        np.testing.assert_array_equal(arrays["w%d" % i].astype("float32").asnumpy(),
                                      mx.nd.array(x).astype(dtype).astype("float32").asnumpy())


# betas as the float32 values the kernel holds (1 - float32(0.999) is 1.3e-5 off 0.001)
def _adamw_ref(w, g, m, v, lr, wd, eta, rs, b1=float(np.float32(0.9)), b2=float(np.float32(0.999)), eps=1e-8):
    gc = rs * g
    m = b1 * m + (1 - b1) * gc
    v = b2 * v + (1 - b2) * gc * gc
    return w - eta * (lr * m / (np.sqrt(v) + eps) + wd * w), m, v


@pytest.mark.parametrize("rescale_as_symbol", [False, True])
def test_contrib_adamw_graphs_match_numpy_and_nd(rescale_as_symbol):
    steps = 3
    w0, gs = _data(3, steps)
    w0 = [_f32(x) for x in w0]
    n = len(SHAPES)
    etas = [1.0, 0.5, 0.25]
    W, G, M, V = _vars("w", n), _vars("g", n), _vars("m", n), _vars("v", n)
    rescale = mx.sym.var("rs") if rescale_as_symbol else 0.5
    single = mx.sym.contrib.adamw_update(W[0], G[0], M[0], V[0], rescale, lr=LRS[0], eta=etas[0], wd=WDS[0])
    multi = mx.sym.contrib.multi_adamw_update(W, G, M, V, rescale, lrs=LRS, wds=WDS, etas=etas)

    def fresh():
        a = {"w%d" % i: mx.nd.array(w0[i]) for i in range(n)}
        a.update({"%s%d" % (p, i): mx.nd.zeros(SHAPES[i]) for i in range(n) for p in "gmv"})
        a["rs"] = mx.nd.array([0.5])
        return a
    feed = lambda t: {"g%d" % i: gs[t][i] for i in range(n)}  # noqa: E731
    a1 = _bind_run(single, fresh(), steps, feed)
    am = _bind_run(multi, fresh(), steps, feed)
    nw, nm, nv = [mx.nd.array(x) for x in w0], [mx.nd.zeros(s) for s in SHAPES], [mx.nd.zeros(s) for s in SHAPES]
    for t in range(steps):
        mx.nd.contrib.multi_adamw_update(nw, [mx.nd.array(x) for x in gs[t]], nm, nv, 0.5, lrs=LRS, wds=WDS,
                                         etas=etas, out=nw)
    rw, rm, rv = list(w0), [np.zeros(s) for s in SHAPES], [np.zeros(s) for s in SHAPES]
    for t in range(steps):
        for i in range(n):
            rw[i], rm[i], rv[i] = _adamw_ref(rw[i], _f32(gs[t][i]), rm[i], rv[i], LRS[i], WDS[i], etas[i], 0.5)
    for i in range(n):
        np.testing.assert_array_equal(am["w%d" % i].asnumpy(), nw[i].asnumpy())
        np.testing.assert_array_equal(am["m%d" % i].asnumpy(), nm[i].asnumpy())
        np.testing.assert_allclose(am["w%d" % i].asnumpy(), rw[i], rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(am["v%d" % i].asnumpy(), rv[i], rtol=1e-5, atol=1e-9)
    np.testing.assert_allclose(a1["w0"].asnumpy(), rw[0], rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(a1["m0"].asnumpy(), rm[0], rtol=1e-5, atol=1e-7)


def test_contrib_mp_adamw_graphs_update_masters():
    w0, gs = _data(4, 2)
    n = len(SHAPES)
    W, G, M, V, X = (_vars(p, n) for p in "wgmvx")
    sym1 = mx.sym.contrib.mp_adamw_update(W[0], G[0], M[0], V[0], X[0], 1.0, lr=LRS[0], eta=1.0, wd=WDS[0])
    symn = mx.sym.contrib.multi_mp_adamw_update(W, G, M, V, X, 1.0, lrs=LRS, wds=WDS, etas=[1.0] * n)

    def fresh():
        a = {"w%d" % i: mx.nd.array(w0[i], dtype="float16") for i in range(n)}
        a.update({"x%d" % i: a["w%d" % i].astype("float32") for i in range(n)})
        a.update({"g%d" % i: mx.nd.zeros(SHAPES[i], dtype="float16") for i in range(n)})
        a.update({"%s%d" % (p, i): mx.nd.zeros(SHAPES[i]) for i in range(n) for p in "mv"})
        return a
    feed = lambda t: {"g%d" % i: gs[t][i].astype(np.float16) for i in range(n)}  # noqa: E731
    a1, an = _bind_run(sym1, fresh(), 2, feed), _bind_run(symn, fresh(), 2, feed)
    rw = [w0[i].astype(np.float16).astype(np.float64) for i in range(n)]
    rm, rv = [np.zeros(s) for s in SHAPES], [np.zeros(s) for s in SHAPES]
    for t in range(2):
        for i in range(n):
            g = gs[t][i].astype(np.float16).astype(np.float64)
            rw[i], rm[i], rv[i] = _adamw_ref(rw[i], g, rm[i], rv[i], LRS[i], WDS[i], 1.0, 1.0)
    for i in range(n):
        np.testing.assert_allclose(an["x%d" % i].asnumpy(), rw[i], rtol=1e-5, atol=1e-6)
        np.testing.assert_array_equal(an["w%d" % i].asnumpy(), an["x%d" % i].asnumpy().astype(np.float16))
    np.testing.assert_array_equal(a1["x0"].asnumpy(), an["x0"].asnumpy())


def _lamb_ref(w, g, m, v, t, lr, wd, b1=0.9, b2=0.999, eps=1e-6):
    m = b1 * m + (1 - b1) * g
    v = b2 * v + (1 - b2) * g * g
    d = (m / (1 - b1 ** t)) / (np.sqrt(v / (1 - b2 ** t)) + eps) + wd * w
    r1, r2 = np.linalg.norm(w), np.linalg.norm(d)
    ratio = r1 / r2 if r1 > 0 and r2 > 0 else 1.0
    return w - lr * ratio * d, m, v


@pytest.mark.parametrize("mp", [False, True])
def test_contrib_multi_lamb_graphs_match_numpy_and_nd(mp):
    steps = 3
    w0, gs = _data(5, steps)
    n = len(SHAPES)
    dt = "float16" if mp else "float32"
    W, G, M, V, X = (_vars(p, n) for p in "wgmvx")
    counts = [[t + 1] * n for t in range(steps)]
    arrays_per_step = []
    # step_count is a parameter: one graph per step (as MXNet's LAMB optimizer calls the op)
    arrays = {"w%d" % i: mx.nd.array(w0[i], dtype=dt) for i in range(n)}
    arrays.update({"x%d" % i: arrays["w%d" % i].astype("float32") for i in range(n)})
    arrays.update({"g%d" % i: mx.nd.zeros(SHAPES[i], dtype=dt) for i in range(n)})
    arrays.update({"%s%d" % (p, i): mx.nd.zeros(SHAPES[i]) for i in range(n) for p in "mv"})
    nw = [mx.nd.array(w0[i], dtype=dt) for i in range(n)]
    nx = [x.astype("float32") for x in nw]
    nm, nv = [mx.nd.zeros(s) for s in SHAPES], [mx.nd.zeros(s) for s in SHAPES]
    for t in range(steps):
        if mp:
            sym = mx.sym.contrib.multi_mp_lamb_update(W, G, M, V, X, step_count=counts[t], lrs=LRS, wds=WDS)
        else:
            sym = mx.sym.contrib.multi_lamb_update(W, G, M, V, step_count=counts[t], lrs=LRS, wds=WDS)
        _bind_run(sym, arrays, 1, lambda _: {"g%d" % i: gs[t][i] for i in range(n)})
        g = [mx.nd.array(gs[t][i], dtype=dt) for i in range(n)]
        if mp:
            mx.nd.contrib.multi_mp_lamb_update(nw, g, nm, nv, nx, step_count=counts[t], lrs=LRS, wds=WDS, out=nw)
        else:
            mx.nd.contrib.multi_lamb_update(nw, g, nm, nv, step_count=counts[t], lrs=LRS, wds=WDS, out=nw)
        arrays_per_step.append({k: v.asnumpy().copy() for k, v in arrays.items()})
    for i in range(n):
        np.testing.assert_array_equal(arrays["w%d" % i].asnumpy(), nw[i].asnumpy())
        np.testing.assert_array_equal(arrays["m%d" % i].asnumpy(), nm[i].asnumpy())
    if mp:
        return  # (the float16 path's r1 is the 16-bit weight's norm; tests/python/test_multi_update_ops.py)
    rw, rm, rv = [_f32(x) for x in w0], [np.zeros(s) for s in SHAPES], [np.zeros(s) for s in SHAPES]
    for t in range(steps):
        for i in range(n):
            rw[i], rm[i], rv[i] = _lamb_ref(rw[i], _f32(gs[t][i]), rm[i], rv[i], t + 1, LRS[i], WDS[i])
        for i in range(n):
            np.testing.assert_allclose(arrays_per_step[t]["w%d" % i], rw[i], rtol=2e-5, atol=1e-6)
            np.testing.assert_allclose(arrays_per_step[t]["v%d" % i], rv[i], rtol=2e-5, atol=1e-9)


def test_contrib_adamw_symbol_lists_states_as_aux_and_names():
    V = mx.sym.var
    s = mx.sym.contrib.adamw_update(V("w"), V("g"), V("m"), V("v"), 0.5, lr=0.1, eta=1.0, name="upd")
    assert s.list_arguments() == ["w", "g"]
    assert s.list_auxiliary_states() == ["m", "v"]
    assert s.name == "upd"
    s = mx.sym.contrib.multi_adamw_update([V("w0"), V("w1")], [V("g0"), V("g1")], [V("m0"), V("m1")],
                                          [V("v0"), V("v1")], V("rs"), lrs=[0.1, 0.1], wds=[0, 0], etas=[1, 1])
    assert s.list_arguments() == ["w0", "g0", "m0", "v0", "w1", "g1", "m1", "v1", "rs"]
    assert len(s.list_outputs()) == 2
