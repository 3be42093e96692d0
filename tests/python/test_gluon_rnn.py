"""mx.gluon.rnn: fused layers (RNN/LSTM/GRU) and cells against numbers recorded with MXNet 1.9.1.

Reference data: tests/data/gluon_rnn/ (made by make_reference.py there, with MXNet 1.9.1): inputs,
begin states, parameters by structural name, outputs, final states, and the gradients of
loss = sum(out * w_out) + sum(state_i * w_s<i>) w.r.t. input, begin states and parameters.
"""
import os

import numpy as np
import pytest

import mx
from mx import autograd, gluon
from mx.gluon import rnn

DATA = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "data", "gluon_rnn")
T, N, C, H = 3, 2, 4, 5
RTOL, ATOL = 1e-4, 1e-5

_cache = {}


def ref(name):
    if name not in _cache:
        with np.load(os.path.join(DATA, name + ".npz")) as f:
            _cache[name] = dict(f.items())
    return _cache[name]


def nd(a):
    return mx.nd.array(np.asarray(a, dtype=np.float32))


def close(got, want, what=""):
    got = got.asnumpy() if hasattr(got, "asnumpy") else np.asarray(got)
    np.testing.assert_allclose(got, want, rtol=RTOL, atol=ATOL, err_msg=what)


def set_params(block, r, key):
    params = block._collect_params_with_prefix()
    names = sorted(k[len(key) + 3:] for k in r if k.startswith(key + ":p:"))
    assert sorted(params) == names  # the same structural names as MXNet's
    for name, p in params.items():
        p.set_data(nd(r["%s:p:%s" % (key, name)]))


def n_states(r, key):
    return len([k for k in r if k.startswith(key + ":st")])


def check_forward_backward(block, r, key, call):
    """Forward + gradients under autograd, compared with the MXNet recording."""
    x = nd(r[key + ":x"])
    x.attach_grad()
    states = []
    i = 0
    while "%s:s%d" % (key, i) in r:
        s = nd(r["%s:s%d" % (key, i)])
        s.attach_grad()
        states.append(s)
        i += 1
    with autograd.record(train_mode=False):
        out, new_states = call(x, states)
        loss = (out * nd(r[key + ":w_out"])).sum()
        for j, s in enumerate(new_states):
            loss = loss + (s * nd(r["%s:w_s%d" % (key, j)])).sum()
    loss.backward()
    close(out, r[key + ":out"], key + " output")
    assert len(new_states) == n_states(r, key)
    for j, s in enumerate(new_states):
        close(s, r["%s:st%d" % (key, j)], "%s state %d" % (key, j))
    close(x.grad, r[key + ":g:x"], key + " d input")
    for j, s in enumerate(states):
        close(s.grad, r["%s:g:s%d" % (key, j)], "%s d state %d" % (key, j))
    for name, p in block._collect_params_with_prefix().items():
        close(p.grad(), r["%s:g:p:%s" % (key, name)], "%s d %s" % (key, name))


# ---------------------------------------------------------------------- layers
LAYER_CASES = [(m, L, bi, lay) for m in ("rnn_relu", "rnn_tanh", "lstm", "gru")
               for (L, bi, lay) in ((1, False, "TNC"), (2, True, "NTC"), (1, True, "TNC"),
                                    (2, False, "NTC"))]


def layer_key(mode, L, bi, layout):
    return "%s_L%d_%s_%s" % (mode, L, "bi" if bi else "uni", layout)


def make_layer(mode, L, bi, layout, **kw):
    common = dict(num_layers=L, bidirectional=bi, layout=layout, **kw)
    if mode.startswith("rnn_"):
        return rnn.RNN(H, activation=mode[4:], **common)
    return {"lstm": rnn.LSTM, "gru": rnn.GRU}[mode](H, **common)


def ref_layer(mode, L, bi, layout, **kw):
    r, key = ref("layers"), layer_key(mode, L, bi, layout)
    layer = make_layer(mode, L, bi, layout, input_size=C, **kw)
    layer.initialize()
    set_params(layer, r, key)
    return layer, r, key


@pytest.mark.parametrize("mode,L,bi,layout", LAYER_CASES, ids=[layer_key(*c) for c in LAYER_CASES])
def test_layer_matches_mxnet(mode, L, bi, layout):
    layer, r, key = ref_layer(mode, L, bi, layout)
    check_forward_backward(layer, r, key, lambda x, st: layer(x, st))
    # without states: zero begin states, output only
    x = nd(r[key + ":x"])
    out = layer(x)
    zeros = [mx.nd.zeros(s.shape) for s in layer.begin_state(x.shape[layout.find("N")])]
    close(out, layer(x, zeros)[0].asnumpy())


@pytest.mark.parametrize("mode,L,bi,layout", [LAYER_CASES[5], LAYER_CASES[10], LAYER_CASES[12]],
                         ids=lambda c: str(c))
def test_layer_hybridized_matches_mxnet(mode, L, bi, layout):
    layer, r, key = ref_layer(mode, L, bi, layout)
    layer.hybridize()
    x = nd(r[key + ":x"])
    states = [nd(r["%s:s%d" % (key, i)]) for i in range(n_states(r, key))]
    out, new_states = layer(x, states)
    close(out, r[key + ":out"])
    for j, s in enumerate(new_states):
        close(s, r["%s:st%d" % (key, j)])
    # recording falls back to the imperative path: gradients still flow
    check_forward_backward(layer, r, key, lambda x, st: layer(x, st))
    # the output-only form after the (output, states) form retraces
    out2 = layer(x)
    assert isinstance(out2, mx.nd.NDArray) and out2.shape == out.shape


def test_layer_deferred_init_state_info_and_repr():
    layer = rnn.LSTM(H, num_layers=2, bidirectional=True, layout="NTC")
    assert repr(layer) == "LSTM(None -> 5, NTC, num_layers=2, bidirectional)"
    layer.initialize()
    out = layer(mx.nd.ones((N, T, C)))
    assert out.shape == (N, T, 2 * H)
    assert repr(layer) == "LSTM(4 -> 5, NTC, num_layers=2, bidirectional)"
    names = list(layer.collect_params().keys())
    p = layer.prefix
    assert names[:4] == [p + "l0_i2h_weight", p + "l0_h2h_weight", p + "l0_i2h_bias", p + "l0_h2h_bias"]
    assert names[4] == p + "r0_i2h_weight" and len(names) == 16
    assert layer.l1_i2h_weight.shape == (4 * H, 2 * H) and layer.r0_i2h_weight.shape == (4 * H, C)
    assert layer.state_info(3) == [{"shape": (4, 3, H), "__layout__": "LNC", "dtype": "float32"}] * 2
    assert [s.shape for s in layer.begin_state(3)] == [(4, 3, H)] * 2
    assert repr(rnn.RNN(5, activation="tanh", dropout=0.5)) == "RNN(None -> 5, TNC, dropout=0.5)"
    assert repr(rnn.GRU(7, input_size=3)) == "GRU(3 -> 7, TNC)"
    g = rnn.GRU(H, num_layers=1)
    g.initialize()
    out, st = g(mx.nd.ones((T, N, C)), mx.nd.zeros((1, N, H)))  # a single state array is accepted
    assert out.shape == (T, N, H) and isinstance(st, list) and st[0].shape == (1, N, H)


def test_layer_dropout_between_layers():
    ref_l, r, key = ref_layer("gru", 2, False, "NTC")
    drop = make_layer("gru", 2, False, "NTC", input_size=C, dropout=0.5)
    drop.initialize()
    for (_, p), (_, q) in zip(drop._collect_params_with_prefix().items(),
                              ref_l._collect_params_with_prefix().items()):
        p.set_data(q.data())
    x = nd(r[key + ":x"])
    close(drop(x), ref_l(x).asnumpy())  # predict mode: no dropout
    with autograd.record(train_mode=True):
        y = drop(x)
    assert y.shape == (N, T, H)
    assert not np.allclose(y.asnumpy(), ref_l(x).asnumpy())
    drop.hybridize()
    close(drop(x), ref_l(x).asnumpy())


def test_lstm_state_clip():
    layer = rnn.LSTM(H, input_size=C, state_clip_min=-0.1, state_clip_max=0.1)
    layer.initialize(mx.init.Uniform(2.0))
    x = mx.nd.array(np.random.uniform(-3, 3, (T, N, C)))
    _, (h, c) = layer(x, layer.begin_state(N))
    assert np.abs(c.asnumpy()).max() <= 0.1 + 1e-6
    assert np.abs(h.asnumpy()).max() <= np.tanh(0.1) + 1e-6


def test_layer_equals_unrolled_cells():
    for mode, L, bi in (("lstm", 2, True), ("gru", 2, False), ("rnn_tanh", 1, True)):
        layer, r, key = ref_layer(mode, L, bi, "TNC" if L == 1 else "NTC")
        layout = layer._layout
        cell_cls = {"lstm": rnn.LSTMCell, "gru": rnn.GRUCell}.get(mode)

        def cell():
            return cell_cls(H) if cell_cls else rnn.RNNCell(H, activation=mode[4:])
        stack = rnn.HybridSequentialRNNCell()
        for _ in range(L):
            stack.add(rnn.BidirectionalCell(cell(), cell()) if bi else cell())
        x = nd(r[key + ":x"])
        stack.initialize()
        stack.unroll(T, x, layout=layout, merge_outputs=True)
        cparams = stack._collect_params_with_prefix()
        lparams = layer._collect_params_with_prefix()
        assert sorted(cparams) == sorted(k[len("_unfused."):] for k in lparams)
        for k, p in lparams.items():
            cparams[k[len("_unfused."):]].set_data(p.data())
        states = [nd(r["%s:s%d" % (key, i)]) for i in range(n_states(r, key))]
        # layer states (L*D, N, H) per kind -> cell states per (layer, direction), kinds inner
        cstates = [s[k] for k in range(L * (2 if bi else 1)) for s in states]
        out, cst = stack.unroll(T, x, begin_state=cstates, layout=layout, merge_outputs=True)
        close(out, r[key + ":out"], key)
        ns = len(states)
        for j in range(ns):
            close(mx.nd.stack(*cst[j::ns], axis=0), r["%s:st%d" % (key, j)], key)


# ---------------------------------------------------------------------- cells
def _seq_cell():
    seq = rnn.SequentialRNNCell()
    with seq.name_scope():
        seq.add(rnn.LSTMCell(H))
        seq.add(rnn.DropoutCell(0.5))
        seq.add(rnn.ResidualCell(rnn.GRUCell(H)))
        seq.add(rnn.RNNCell(3, activation="relu"))
    return seq


CELL_CASES = {
    "rnn_relu": (lambda: rnn.RNNCell(H, activation="relu"), "NTC"),
    "rnn_tanh": (lambda: rnn.RNNCell(H, activation="tanh"), "NTC"),
    "lstm": (lambda: rnn.LSTMCell(H), "NTC"),
    "gru": (lambda: rnn.GRUCell(H), "NTC"),
    "gru_tnc": (lambda: rnn.GRUCell(H), "TNC"),
    "bi": (lambda: rnn.BidirectionalCell(rnn.LSTMCell(H), rnn.GRUCell(H)), "TNC"),
    "seq": (_seq_cell, "NTC"),
    "lstm_vl": (lambda: rnn.LSTMCell(H), "NTC"),
    "bi_vl": (lambda: rnn.BidirectionalCell(rnn.GRUCell(H), rnn.RNNCell(H)), "NTC"),
}


def ref_cell(key):
    r = ref("cells")
    make, layout = CELL_CASES[key]
    cell = make()
    cell.initialize()
    cell.unroll(T, nd(r[key + ":x"]), layout=layout, merge_outputs=True)  # deferred shapes
    set_params(cell, r, key)
    vl = nd(r[key + ":vl"]) if key + ":vl" in r else None
    return cell, r, layout, vl


@pytest.mark.parametrize("key", sorted(CELL_CASES))
def test_cell_unroll_matches_mxnet(key):
    cell, r, layout, vl = ref_cell(key)
    check_forward_backward(cell, r, key, lambda x, st: cell.unroll(
        T, x, begin_state=st, layout=layout, merge_outputs=True, valid_length=vl))


def test_cell_unroll_forms():
    cell, r, layout, vl = ref_cell("gru")
    x = nd(r["gru:x"])
    st = [nd(r["gru:s0"])]
    outs, states = cell.unroll(T, x, begin_state=st)  # merge_outputs=None: a list (as MXNet)
    assert isinstance(outs, list) and len(outs) == T
    close(mx.nd.stack(*outs, axis=1), r["gru:out"])
    steps = [x[:, t, :] for t in range(T)]
    merged, _ = cell.unroll(T, steps, begin_state=st, merge_outputs=True)
    close(merged, r["gru:out"])
    # stepping by hand
    s = st
    for t in range(T):
        o, s = cell(steps[t], s)
        close(o, r["gru:out"][:, t])
    close(s[0], r["gru:st0"])
    # hybridized cell gives the same
    cell.hybridize()
    merged, states = cell.unroll(T, x, begin_state=st, merge_outputs=True)
    close(merged, r["gru:out"])
    close(states[0], r["gru:st0"])
    # default begin state is zeros
    a, _ = cell.unroll(T, x, merge_outputs=True)
    b, _ = cell.unroll(T, x, begin_state=cell.begin_state(N), merge_outputs=True)
    close(a, b.asnumpy())


def test_cell_names_state_info_repr():
    c = rnn.LSTMCell(H, input_size=C, prefix="lstm_")
    assert list(c.collect_params().keys()) == ["lstm_i2h_weight", "lstm_h2h_weight", "lstm_i2h_bias",
                                               "lstm_h2h_bias"]
    assert c.i2h_weight.shape == (4 * H, C)
    assert c.state_info(2) == [{"shape": (2, H), "__layout__": "NC"}] * 2
    assert repr(c) == "LSTMCell(4 -> 20)"
    assert repr(rnn.GRUCell(H, input_size=C)) == "GRUCell(4 -> 15)"
    assert repr(rnn.RNNCell(3)) == "RNNCell(None -> 3, tanh)"
    assert repr(rnn.DropoutCell(0.5)) == "DropoutCell(rate=0.5, axes=())"
    assert repr(rnn.ZoneoutCell(rnn.RNNCell(3), 0.1, 0.2)) == \
        "ZoneoutCell(p_out=0.1, p_state=0.2, RNNCell(None -> 3, tanh))"
    assert repr(rnn.BidirectionalCell(rnn.LSTMCell(3), rnn.LSTMCell(3))) == \
        "BidirectionalCell(forward=LSTMCell(None -> 12), backward=LSTMCell(None -> 12))"
    seq = _seq_cell()
    assert repr(seq).startswith("SequentialRNNCell(\n(0): LSTMCell(None -> 20)\n(1): DropoutCell")
    assert len(seq) == 4 and isinstance(seq[2], rnn.ResidualCell)
    assert len(seq.state_info(2)) == 4 and len(seq.begin_state(batch_size=2)) == 4
    assert rnn.GRUCell(3).prefix.startswith("gru") and rnn.RNNCell(3).prefix.startswith("rnn")


def test_zoneout_and_dropout_cells():
    base = rnn.GRUCell(H, input_size=C)
    base.initialize()
    x = mx.nd.array(np.random.uniform(-1, 1, (N, T, C)))
    want, _ = base.unroll(T, x, merge_outputs=True)
    z = rnn.ZoneoutCell(base, zoneout_outputs=0.5, zoneout_states=0.5)
    got, st = z.unroll(T, x, merge_outputs=True)  # predict mode: identity masks
    close(got, want.asnumpy())
    with autograd.record(train_mode=True):
        got, st = z.unroll(T, x, merge_outputs=True)
    assert got.shape == (N, T, H) and st[0].shape == (N, H)
    with pytest.raises(ValueError, match="modif"):
        base.begin_state(N)
    d = rnn.DropoutCell(0.5)
    out, st = d.unroll(T, x, merge_outputs=True)
    close(out, x.asnumpy())
    assert st == []


# ---------------------------------------------------------------------- hybridize / export
class _UnrollNet(gluon.HybridBlock):
    def __init__(self, **kw):
        super().__init__(**kw)
        with self.name_scope():
            self.cell = rnn.HybridSequentialRNNCell()
            self.cell.add(rnn.LSTMCell(H))
            self.cell.add(rnn.GRUCell(H))
            self.layer = rnn.GRU(H, layout="NTC", bidirectional=True)

    def hybrid_forward(self, F, x):
        out, _ = self.cell.unroll(T, x, layout="NTC", merge_outputs=True)
        return self.layer(out)


def test_hybridize_and_export_roundtrip(tmp_path):
    net = _UnrollNet()
    net.initialize()
    x = mx.nd.array(np.random.uniform(-1, 1, (N, T, C)))
    want = net(x).asnumpy()
    assert want.shape == (N, T, 2 * H)
    net.hybridize()
    close(net(x), want)
    sym_file, params_file = net.export(str(tmp_path / "unroll"))
    sb = gluon.SymbolBlock.imports(sym_file, ["data"], params_file)
    close(sb(x), want)

    layer, r, key = ref_layer("lstm", 2, True, "NTC")
    layer.hybridize()
    x = nd(r[key + ":x"])
    want = layer(x).asnumpy()
    prefix = str(tmp_path / "lstm")
    layer.export(prefix)
    sb = gluon.SymbolBlock.imports(prefix + "-symbol.json", ["data0", "data1", "data2"],
                                   prefix + "-0000.params")
    zeros = layer.begin_state(N)
    close(sb(x, *zeros), want)
    states = [nd(r["%s:s%d" % (key, i)]) for i in range(2)]
    layer2, _, _ = ref_layer("lstm", 2, True, "NTC")
    layer2.hybridize()
    layer2(x, states)
    layer2.export(prefix + "2")
    sb2 = gluon.SymbolBlock.imports(prefix + "2-symbol.json", ["data0", "data1", "data2"],
                                    prefix + "2-0000.params")
    outs = sb2(x, *states)
    close(outs[0], r[key + ":out"])
    close(outs[1], r[key + ":st0"])
    close(outs[2], r[key + ":st1"])


# ---------------------------------------------------------------------- parameters
def test_save_load_parameters(tmp_path):
    layer, r, key = ref_layer("gru", 2, True, "NTC")
    f = str(tmp_path / "gru.params")
    layer.save_parameters(f)
    assert sorted(mx.nd.load(f)) == sorted(k[len(key) + 3:] for k in r if k.startswith(key + ":p:"))
    other = make_layer("gru", 2, True, "NTC")
    other.load_parameters(f)
    x = nd(r[key + ":x"])
    close(other(x), layer(x).asnumpy())
    # collect_params().save (full names) loads too
    f2 = str(tmp_path / "gru_full.params")
    layer.collect_params().save(f2, strip_prefix=layer.prefix)
    third = make_layer("gru", 2, True, "NTC")
    third.load_parameters(f2)
    close(third(x), layer(x).asnumpy())


def test_load_mxnet_saved_parameters():
    f = os.path.join(DATA, "lstm_l2_bi.params")
    layer = rnn.LSTM(H, num_layers=2, bidirectional=True)
    layer.load_parameters(f)
    r = ref("layers")
    close(layer(nd(r["saved:x"])), r["saved:out"])
    assert sorted(mx.nd.load(f)) == sorted(layer._collect_params_with_prefix())


# ---------------------------------------------------------------------- errors
def test_errors():
    layer = rnn.LSTM(H, input_size=C)
    layer.initialize()
    with pytest.raises(ValueError, match=r"rank-3.*\(3, 4\)"):
        layer(mx.nd.ones((T, C)))
    with pytest.raises(ValueError, match=r"expected input with 4 features.*\(3, 2, 7\)"):
        layer(mx.nd.ones((T, N, 7)))
    with pytest.raises(ValueError, match=r"expects 2 recurrent state"):
        layer(mx.nd.ones((T, N, C)), [mx.nd.zeros((1, N, H))])
    with pytest.raises(ValueError, match=r"Expecting \(1, 2, 5\), got \(1, 3, 5\)"):
        layer(mx.nd.ones((T, N, C)), [mx.nd.zeros((1, 3, H)), mx.nd.zeros((1, N, H))])
    assert isinstance(pytest.raises(mx.base.MXNetError, layer, mx.nd.ones((T, C))).value, ValueError)
    with pytest.raises(ValueError, match="layout"):
        rnn.GRU(H, layout="CTN")
    with pytest.raises(ValueError, match="activation"):
        rnn.RNN(H, activation="sigmoid")
    with pytest.raises(ValueError, match="activation"):
        rnn.RNNCell(H, activation="bogus")
    with pytest.raises(ValueError, match="projection_size"):  # LSTMP: mxnet_compat/test_lstm_projection.py
        rnn.LSTM(H, projection_size=H + 1)
    cell = rnn.LSTMCell(H, input_size=C)
    cell.initialize()
    with pytest.raises(ValueError, match="expects 2 state"):
        cell(mx.nd.ones((N, C)), [mx.nd.zeros((N, H))])
    with pytest.raises(ValueError, match=r"state 1 must have shape \(2, 5\)"):
        cell(mx.nd.ones((N, C)), [mx.nd.zeros((N, H)), mx.nd.zeros((N, 4))])
    with pytest.raises(ValueError, match="expected step input with 4 features"):
        cell(mx.nd.ones((N, 6)), cell.begin_state(N))
    with pytest.raises(ValueError, match="length is 4 but the input has 3 steps"):
        cell.unroll(4, mx.nd.ones((N, T, C)))
    with pytest.raises(ValueError, match="layout"):
        cell.unroll(T, mx.nd.ones((N, T, C)), layout="NCT")
    with pytest.raises(NotImplementedError, match="unroll"):
        rnn.BidirectionalCell(rnn.GRUCell(H), rnn.GRUCell(H))(mx.nd.ones((N, C)), [])
    seq = rnn.HybridSequentialRNNCell()
    seq.add(rnn.GRUCell(H, input_size=C))
    seq.initialize()
    with pytest.raises(ValueError, match="expects 1 states"):
        seq(mx.nd.ones((N, C)), [])
