"""The plain multi-tensor update operators (multi_sgd_update, multi_sgd_mom_update,
preloaded_multi_sgd(_mom)_update, _multi_adamw_update) with float16 and bfloat16 weights and no
master copy. MXNet 1.9.1 computes them in float16 (mshadow half_t: each operation in float32,
rounded to float16; scalars held as float16). Checked against MXNet's own steps
(tests/data/multi_update/multi_update_half.npz, made by make_multi_update_half.py) bit for bit,
and against an independent numpy model of that arithmetic (below), which also covers bfloat16
(MXNet 1.9.1 refuses bfloat16 here) and AdamW's weight (MXNet 1.9.1 garbles its float16 lrs/wds/
etas: the numpy model reproduces MXNet's weights when fed the garbled values, and MX's when fed
the real ones)."""
import json
import os

import numpy as np
import pytest

import mx

DATA = os.path.join(os.path.dirname(__file__), "..", "data", "multi_update", "multi_update_half.npz")
_FIX = np.load(DATA)
_META = json.loads(str(_FIX["meta"]))


# ---- numpy model of a 16-bit kernel: values are float32 arrays holding 16-bit values

def _rounder(dtype):
    if dtype == "float16":
        return lambda x: np.asarray(x, np.float32).astype(np.float16).astype(np.float32)

    def bf16(x):
        u = np.atleast_1d(np.asarray(x, np.float32)).view(np.uint32).astype(np.uint64)
        u = ((u + 0x7FFF + ((u >> 16) & 1)) >> 16) << 16
        return u.astype(np.uint32).view(np.float32).reshape(np.shape(x))
    return bf16


def _sgd_ref(r, w, g, m, lr, wd, mom, rs, clip, preloaded):
    """MXNet's (Preloaded)MultiSGDKernel with MPDType = the 16-bit type (r rounds to it)."""
    f = np.float32
    lr_ = f(lr) if preloaded else r(lr)  # the preloaded lrs/wds stay float32 arrays
    wd_ = f(wd) if preloaded else r(wd)
    lrwd = lr_ * wd_ if preloaded else r(lr_ * wd_)
    hclip = r(clip)
    mnew = r(r(r(mom) * m) - r(lrwd * w))
    if hclip >= 0:
        x = np.clip(r(r(rs) * g), -hclip, hclip)
        step = r(lr_ * x)
    else:
        step = r(r(lr_ * r(rs)) * g)
    mnew = r(mnew - step)
    return r(w + mnew), mnew


def _adamw_ref(r, w, g, m, v, lr, wd, eta, rs, b1, b2, eps, clip):
    """MXNet's MultiMPAdamWKernel with MPDType = the 16-bit type; lr/wd/eta as given."""
    sg = r(r(rs) * g)
    if r(clip) >= 0:
        sg = np.clip(sg, -r(clip), r(clip))
    mean = r(r(r(b1) * r(m - sg)) + sg)
    adj = r(sg * sg)
    var = r(r(r(b2) * r(v - adj)) + adj)
    den = r(r(np.sqrt(var)) + r(eps))
    upd = r(r(r(r(lr) * mean) / den) + r(r(wd) * w))
    return r(w - r(r(eta) * upd)), mean, var


def _garbled(vals, j):
    """What MXNet 1.9.1's float16 _multi_adamw_update reads as entry j of lrs/wds/etas: it memcpys
    the float32 list into its float16 array."""
    return float(np.array(vals, np.float32).view(np.float16)[j])


def _f(a):
    return a.astype("float32").asnumpy()


def _op(name):
    return getattr(mx.nd._internal, name) if name.startswith("_") else getattr(mx.nd, name)


def _call(m, w, g, st, t, dtype, lrs=None):
    args = []
    for i in range(m["n"]):
        args += [w[i], g[i]] + [st[s][i] for s in m["states"]]
    kw = dict(m["params"])
    if m["trailing"] == "preloaded":
        args += [mx.nd.array(m["lrs"], dtype="float32"), mx.nd.array(m["wds"], dtype="float32")]
    elif m["trailing"] == "rescale":
        args += [mx.nd.array([m["rescale"][t]], dtype=dtype)]
        kw.update(lrs=m["lrs"], wds=m["wds"], etas=m["etas"])
    else:
        kw.update(lrs=m["lrs"], wds=m["wds"])
    _op(m["op"])(*args, out=w, num_weights=m["n"], **kw)


def _arr(x, dtype):
    return mx.nd.array(np.asarray(x, np.float32)).astype(dtype)


@pytest.mark.parametrize("case", sorted(_META))
def test_float16_replays_mxnet_steps_bit_for_bit(case):
    m = _META[case]
    adamw = m["op"] == "_multi_adamw_update"
    w = [mx.nd.array(_FIX["%s/w%d/init" % (case, i)], dtype="float16") for i in range(m["n"])]
    st = {s: [mx.nd.array(_FIX["%s/%s%d/init" % (case, s, i)], dtype="float16") for i in range(m["n"])]
          for s in m["states"]}
    for t in range(m["steps"]):
        g = [mx.nd.array(_FIX["%s/g%d/step%d" % (case, i, t)], dtype="float16") for i in range(m["n"])]
        _call(m, w, g, st, t, "float16")
        for i in range(m["n"]):
            for s in m["states"]:  # AdamW's states do not depend on the weight: MXNet's are right
                np.testing.assert_array_equal(st[s][i].asnumpy(), _FIX["%s/%s%d/step%d" % (case, s, i, t)],
                                              err_msg="%s%d step %d" % (s, i, t))
            if not adamw:
                np.testing.assert_array_equal(w[i].asnumpy(), _FIX["%s/w%d/step%d" % (case, i, t)],
                                              err_msg="w%d step %d" % (i, t))


def _model_steps(m, case, dtype, scalars):
    """The numpy model over the fixture's gradients from its initial arrays; scalars(name, j)
    gives AdamW's per-weight lr/wd/eta."""
    r = _rounder(dtype)
    p = m["params"]
    out = []
    for i in range(m["n"]):
        w = r(_FIX["%s/w%d/init" % (case, i)].astype(np.float32))
        st = [r(_FIX["%s/%s%d/init" % (case, s, i)].astype(np.float32)) for s in m["states"]]
        ws = []
        for t in range(m["steps"]):
            g = r(_FIX["%s/g%d/step%d" % (case, i, t)].astype(np.float32))
            if m["op"] == "_multi_adamw_update":
                rs = float(r(np.float32(m["rescale"][t])))
                w, st[0], st[1] = _adamw_ref(r, w, g, st[0], st[1], scalars("lrs", i), scalars("wds", i),
                                             scalars("etas", i), rs, p["beta1"], p["beta2"], p["epsilon"],
                                             p.get("clip_gradient", -1.0))
            else:
                mom = st[0] if st else np.zeros_like(w)
                w, mnew = _sgd_ref(r, w, g, mom, m["lrs"][i], m["wds"][i], p.get("momentum", 0.0),
                                   p.get("rescale_grad", 1.0), p.get("clip_gradient", -1.0),
                                   m["trailing"] == "preloaded")
                if st:
                    st[0] = mnew
            ws.append((w, list(st)))
        out.append(ws)
    return out


@pytest.mark.parametrize("case", sorted(_META))
def test_numpy_model_reproduces_mxnet(case):
    # the model (the reference of the tests below) against MXNet's own arrays
    m = _META[case]
    garble = m["op"] == "_multi_adamw_update"
    steps = _model_steps(m, case, "float16", lambda k, j: _garbled(m[k], j) if garble else m[k][j])
    for i in range(m["n"]):
        for t, (w, st) in enumerate(steps[i]):
            want = _FIX["%s/w%d/step%d" % (case, i, t)]
            both_nan = np.isnan(want) & np.isnan(w)
            np.testing.assert_array_equal(np.where(both_nan, 0, w.astype(np.float16)), np.where(both_nan, 0, want))
            for s, a in zip(m["states"], st):
                np.testing.assert_array_equal(a.astype(np.float16), _FIX["%s/%s%d/step%d" % (case, s, i, t)])


@pytest.mark.parametrize("dtype", ["float16", "bfloat16"])
@pytest.mark.parametrize("case", sorted(_META))
def test_matches_the_numpy_model(case, dtype):
    m = _META[case]
    r = _rounder(dtype)
    steps = _model_steps(m, case, dtype, lambda k, j: m[k][j])
    w = [_arr(r(_FIX["%s/w%d/init" % (case, i)].astype(np.float32)), dtype) for i in range(m["n"])]
    st = {s: [_arr(r(_FIX["%s/%s%d/init" % (case, s, i)].astype(np.float32)), dtype) for i in range(m["n"])]
          for s in m["states"]}
    for t in range(m["steps"]):
        g = [_arr(r(_FIX["%s/g%d/step%d" % (case, i, t)].astype(np.float32)), dtype) for i in range(m["n"])]
        _call(m, w, g, st, t, dtype)
        for i in range(m["n"]):
            want_w, want_st = steps[i][t]
            np.testing.assert_array_equal(_f(w[i]), want_w, err_msg="w%d step %d" % (i, t))
            for s, a in zip(m["states"], want_st):
                np.testing.assert_array_equal(_f(st[s][i]), a, err_msg="%s%d step %d" % (s, i, t))


def test_rescale_grad_array_as_float32_or_the_weight_dtype():
    w0 = np.array([0.5, -0.25, 1.0], np.float16)
    g0 = np.array([0.1, 0.2, -0.3], np.float16)
    res = []
    for rdt in ("float32", "float16"):
        w, mean, var = mx.nd.array(w0, dtype="float16"), mx.nd.zeros((3,), dtype="float16"), mx.nd.zeros(
            (3,), dtype="float16")
        mx.nd._internal._multi_adamw_update(w, mx.nd.array(g0, dtype="float16"), mean, var,
                                            mx.nd.array([0.5], dtype=rdt), out=[w], num_weights=1, lrs=[0.1],
                                            wds=[0.01], etas=[1.0])
        res.append(w.asnumpy())
    np.testing.assert_array_equal(res[0], res[1])
    assert not np.array_equal(res[0], w0)
    with pytest.raises(mx.base.MXNetError, match="rescale_grad"):
        mx.nd._internal._multi_adamw_update(mx.nd.ones((3,), dtype="float16"), mx.nd.ones((3,), dtype="float16"),
                                            mx.nd.zeros((3,), dtype="float16"), mx.nd.zeros((3,), dtype="float16"),
                                            mx.nd.array([0.5], dtype="float64"), num_weights=1, lrs=[0.1], wds=[0.0],
                                            etas=[1.0])


def test_states_must_have_the_weight_dtype():
    with pytest.raises(mx.base.MXNetError, match="mom_0"):
        mx.nd.multi_sgd_mom_update(mx.nd.ones((3,), dtype="float16"), mx.nd.ones((3,), dtype="float16"),
                                   mx.nd.zeros((3,)), lrs=[0.1], wds=[0.0], num_weights=1)
    with pytest.raises(mx.base.MXNetError, match="_multi_lamb_update"):  # LAMB's plain form stays float32/64
        mx.nd._internal._multi_lamb_update(*[mx.nd.ones((3,), dtype="float16")] * 4, num_tensors=1,
                                           learning_rates=[0.1], wds=[0.0], step_count=[1])
