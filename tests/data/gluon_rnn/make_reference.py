"""Generate the reference numbers of tests/python/test_gluon_rnn.py with Apache MXNet 1.9.1.

Run with the reference installation (never with MX):

    /opt/mxnet-venv/bin/python tests/data/gluon_rnn/make_reference.py

Writes, next to this script:
  layers.npz   fused layers (RNN relu/tanh, LSTM, GRU; 1-2 layers; uni/bidirectional; TNC/NTC):
               '<case>:x', '<case>:s0'[, '<case>:s1'] (begin states), '<case>:p:<name>' (params by
               structural name, e.g. l0_i2h_weight), '<case>:out', '<case>:hN'[, '<case>:cN'],
               '<case>:w_out', '<case>:w_s0'[, ...] (loss weights: loss = sum(out*w_out) +
               sum(state_i*w_s<i>)), '<case>:g:x', '<case>:g:s<i>', '<case>:g:p:<name>'.
  cells.npz    cell unrolls with the same key scheme ('<case>:out', '<case>:st<i>' for the final
               states, '<case>:vl' for valid_length where used).
  lstm_l2_bi.params   save_parameters() of LSTM(5, num_layers=2, bidirectional=True, input_size=4)
                      whose input/output is in layers.npz under 'saved:x', 'saved:out'.
"""
import os

import numpy as np
import mxnet as mx
from mxnet import autograd
from mxnet.gluon import rnn

HERE = os.path.dirname(os.path.abspath(__file__))
T, N, C, H = 3, 2, 4, 5
rs = np.random.RandomState(20240611)


def u(*shape, scale=0.5):
    return rs.uniform(-scale, scale, size=shape).astype(np.float32)


def set_params(block, out, key):
    for name, p in block._collect_params_with_prefix().items():
        v = u(*p.shape)
        p.set_data(mx.nd.array(v))
        out["%s:p:%s" % (key, name)] = v


def run(block, key, out, x, states, call):
    """Forward + backward of loss = sum(out*w_out) + sum(state_i*w_s<i>) under autograd."""
    xs = mx.nd.array(x)
    xs.attach_grad()
    st = [mx.nd.array(s) for s in states]
    for s in st:
        s.attach_grad()
    with autograd.record(train_mode=False):  # DropoutCell: eval semantics
        y, new_states = call(xs, st)
        w_out = u(*y.shape)
        loss = (y * mx.nd.array(w_out)).sum()
        ws = []
        for s in new_states:
            w = u(*s.shape)
            ws.append(w)
            loss = loss + (s * mx.nd.array(w)).sum()
    loss.backward()
    out["%s:x" % key] = x
    for i, s in enumerate(states):
        out["%s:s%d" % (key, i)] = s
        out["%s:g:s%d" % (key, i)] = st[i].grad.asnumpy()
    out["%s:out" % key] = y.asnumpy()
    out["%s:w_out" % key] = w_out
    for i, (s, w) in enumerate(zip(new_states, ws)):
        out["%s:st%d" % (key, i)] = s.asnumpy()
        out["%s:w_s%d" % (key, i)] = w
    out["%s:g:x" % key] = xs.grad.asnumpy()
    for name, p in block._collect_params_with_prefix().items():
        out["%s:g:p:%s" % (key, name)] = p.grad().asnumpy()


LAYER_CASES = []
for mode in ("rnn_relu", "rnn_tanh", "lstm", "gru"):
    for (L, bi, layout) in ((1, False, "TNC"), (2, True, "NTC"), (1, True, "TNC"), (2, False, "NTC")):
        LAYER_CASES.append((mode, L, bi, layout))


def layer_key(mode, L, bi, layout):
    return "%s_L%d_%s_%s" % (mode, L, "bi" if bi else "uni", layout)


def make_layer(mode, L, bi, layout, **kw):
    common = dict(num_layers=L, bidirectional=bi, layout=layout, **kw)
    if mode.startswith("rnn_"):
        return rnn.RNN(H, activation=mode[4:], **common)
    return {"lstm": rnn.LSTM, "gru": rnn.GRU}[mode](H, **common)


def layers():
    out = {}
    for mode, L, bi, layout in LAYER_CASES:
        key = layer_key(mode, L, bi, layout)
        layer = make_layer(mode, L, bi, layout, input_size=C, prefix="ref_")
        layer.initialize()
        set_params(layer, out, key)
        D = 2 if bi else 1
        x = u(*((T, N, C) if layout == "TNC" else (N, T, C)), scale=1.0)
        states = [u(L * D, N, H) for _ in range(2 if mode == "lstm" else 1)]
        run(layer, key, out, x, states, lambda xs, st: layer(xs, st))
    # a saved parameter file
    layer = rnn.LSTM(H, num_layers=2, bidirectional=True, input_size=C, prefix="saved_")
    layer.initialize(mx.init.Uniform(0.5))
    x = u(T, N, C, scale=1.0)
    out["saved:x"] = x
    out["saved:out"] = layer(mx.nd.array(x)).asnumpy()
    layer.save_parameters(os.path.join(HERE, "lstm_l2_bi.params"))
    np.savez(os.path.join(HERE, "layers.npz"), **out)


def cells():
    out = {}

    def unroll_case(key, cell, layout="NTC", valid_length=None):
        cell.initialize()
        x = u(*((N, T, C) if layout == "NTC" else (T, N, C)), scale=1.0)
        # initialize deferred shapes, then overwrite with known values
        cell.unroll(T, mx.nd.array(x), layout=layout, merge_outputs=True)
        set_params(cell, out, key)
        states = [u(*info["shape"]) for info in cell.state_info(N)]
        vl = None
        if valid_length is not None:
            vl = mx.nd.array(valid_length)
            out["%s:vl" % key] = np.array(valid_length, np.float32)

        def call(xs, st):
            return cell.unroll(T, xs, begin_state=st, layout=layout, merge_outputs=True,
                               valid_length=vl)
        run(cell, key, out, x, states, call)

    unroll_case("rnn_relu", rnn.RNNCell(H, activation="relu", prefix="ref_"))
    unroll_case("rnn_tanh", rnn.RNNCell(H, activation="tanh", prefix="ref_"))
    unroll_case("lstm", rnn.LSTMCell(H, prefix="ref_"))
    unroll_case("gru", rnn.GRUCell(H, prefix="ref_"))
    unroll_case("gru_tnc", rnn.GRUCell(H, prefix="ref_"), layout="TNC")
    unroll_case("bi", rnn.BidirectionalCell(rnn.LSTMCell(H, prefix="l_"), rnn.GRUCell(H, prefix="r_")),
                layout="TNC")
    seq = rnn.SequentialRNNCell(prefix="seq_")
    with seq.name_scope():
        seq.add(rnn.LSTMCell(H))
        seq.add(rnn.DropoutCell(0.5))
        seq.add(rnn.ResidualCell(rnn.GRUCell(H)))
        seq.add(rnn.RNNCell(3, activation="relu"))
    unroll_case("seq", seq)
    unroll_case("lstm_vl", rnn.LSTMCell(H, prefix="ref_"), valid_length=[3, 1])
    unroll_case("bi_vl", rnn.BidirectionalCell(rnn.GRUCell(H, prefix="l_"), rnn.RNNCell(H, prefix="r_")),
                valid_length=[2, 3])
    np.savez(os.path.join(HERE, "cells.npz"), **out)


if __name__ == "__main__":
    assert mx.__version__ == "1.9.1", mx.__version__
    layers()
    cells()
    print("wrote", sorted(os.listdir(HERE)))
