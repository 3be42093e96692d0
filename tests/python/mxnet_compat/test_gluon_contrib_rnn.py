"""gluon.contrib.rnn: convolutional RNN/LSTM/GRU cells, LSTMPCell and VariationalDropoutCell
against numpy definitions written here."""
import itertools

import numpy as np
import pytest

import mx
from mx import gluon
from mx.gluon.contrib import rnn as crnn


def _conv(x, w, b, pad, dilate):
    """N-d cross-correlation, stride 1: x (N, C, *S), w (O, C, *K)."""
    dims = x.ndim - 2
    xp = np.pad(x, [(0, 0), (0, 0)] + [(p, p) for p in pad])
    out_sp = [xp.shape[2 + i] - dilate[i] * (w.shape[2 + i] - 1) for i in range(dims)]
    out = np.zeros((x.shape[0], w.shape[0]) + tuple(out_sp))
    for k in itertools.product(*[range(n) for n in w.shape[2:]]):
        window = xp[(slice(None), slice(None)) + tuple(slice(k[i] * dilate[i], k[i] * dilate[i] + out_sp[i])
                                                       for i in range(dims))]
        out += np.einsum("oc,nc...->no...", w[(slice(None), slice(None)) + k], window)
    return out + b.reshape((1, -1) + (1,) * dims)


def _sigmoid(v):
    return 1 / (1 + np.exp(-v))


def _params(cell):
    return {name[len(cell.prefix):]: p.data().asnumpy().astype(np.float64) for name, p in cell.collect_params().items()}


def _convs(cell, x, h):
    p = _params(cell)
    i2h = _conv(x, p["i2h_weight"], p["i2h_bias"], cell._i2h_pad, cell._i2h_dilate)
    h2h = _conv(h, p["h2h_weight"], p["h2h_bias"], cell._h2h_pad, cell._h2h_dilate)
    return i2h, h2h


def _run(cell, steps, states):
    outs = []
    for x in steps:
        out, states = cell(mx.nd.array(x), [mx.nd.array(s) for s in states])
        states = [s.asnumpy() for s in states]
        outs.append(out.asnumpy())
    return outs, states


def test_conv2d_lstm_cell_matches_numpy():
    rng = np.random.RandomState(0)
    cell = crnn.Conv2DLSTMCell((3, 6, 5), 4, i2h_kernel=(3, 3), h2h_kernel=(3, 1), i2h_pad=(1, 0),
                               i2h_dilate=(1, 1), h2h_dilate=(2, 1))
    cell.initialize(mx.init.Uniform(0.3))
    assert cell.state_info(2)[0]["shape"] == (2, 4, 6, 3)
    steps = [rng.uniform(-1, 1, (2, 3, 6, 5)) for _ in range(2)]
    h, c = np.zeros((2, 4, 6, 3)), np.zeros((2, 4, 6, 3))
    got, _ = _run(cell, steps, [h, c])
    for x, out in zip(steps, got):
        i2h, h2h = _convs(cell, x, h)
        i, f, g, o = np.split(i2h + h2h, 4, axis=1)
        c = _sigmoid(f) * c + _sigmoid(i) * np.tanh(g)
        h = _sigmoid(o) * np.tanh(c)
        np.testing.assert_allclose(out, h, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("cls,dims", [(crnn.Conv1DGRUCell, 1), (crnn.Conv3DRNNCell, 3)])
def test_conv_gru_and_rnn_cells_match_numpy(cls, dims):
    rng = np.random.RandomState(1)
    spatial = (5, 4, 3)[:dims]
    cell = cls((2,) + spatial, 3, i2h_kernel=3, h2h_kernel=3, i2h_pad=1)
    cell.initialize(mx.init.Uniform(0.3))
    steps = [rng.uniform(-1, 1, (2, 2) + spatial) for _ in range(2)]
    h = np.zeros((2, 3) + spatial)
    got, _ = _run(cell, steps, [h])
    for x, out in zip(steps, got):
        i2h, h2h = _convs(cell, x, h)
        if dims == 1:
            i_r, i_z, i_n = np.split(i2h, 3, axis=1)
            h_r, h_z, h_n = np.split(h2h, 3, axis=1)
            r, z = _sigmoid(i_r + h_r), _sigmoid(i_z + h_z)
            h = (1 - z) * np.tanh(i_n + r * h_n) + z * h
        else:
            h = np.tanh(i2h + h2h)
        np.testing.assert_allclose(out, h, rtol=1e-4, atol=1e-5)


def test_conv_cells_unroll_and_hybridize_alike():
    cell = crnn.Conv2DLSTMCell((3, 8, 8), 4, (3, 3), (3, 3), i2h_pad=(1, 1))
    cell.initialize()
    x = mx.nd.random.uniform(shape=(2, 3, 3, 8, 8))
    out, states = cell.unroll(3, x, merge_outputs=True)
    assert out.shape == (2, 3, 4, 8, 8) and [s.shape for s in states] == [(2, 4, 8, 8)] * 2
    cell.hybridize()
    again, _ = cell.unroll(3, x, merge_outputs=True)
    np.testing.assert_allclose(again.asnumpy(), out.asnumpy(), rtol=1e-6)


def test_conv_cell_settings_are_checked():
    with pytest.raises(mx.base.MXValueError, match="odd"):
        crnn.Conv2DRNNCell((3, 8, 8), 4, (3, 3), (2, 3))
    with pytest.raises(mx.base.MXValueError, match="conv_layout"):
        crnn.Conv2DRNNCell((8, 8, 3), 4, (3, 3), (3, 3), conv_layout="NHWC")
    with pytest.raises(mx.base.MXValueError, match="input_shape"):
        crnn.Conv2DRNNCell((8, 8), 4, (3, 3), (3, 3))


def test_lstmp_cell_matches_numpy():
    rng = np.random.RandomState(2)
    cell = gluon.contrib.rnn.LSTMPCell(6, 3, input_size=5)
    cell.initialize(mx.init.Uniform(0.4))
    p = _params(cell)
    assert p["h2h_weight"].shape == (24, 3) and p["h2r_weight"].shape == (3, 6)
    steps = [rng.uniform(-1, 1, (2, 5)) for _ in range(3)]
    r, c = np.zeros((2, 3)), np.zeros((2, 6))
    got, states = _run(cell, steps, [r, c])
    for x, out in zip(steps, got):
        gates = x @ p["i2h_weight"].T + p["i2h_bias"] + r @ p["h2h_weight"].T + p["h2h_bias"]
        i, f, g, o = np.split(gates, 4, axis=1)
        c = _sigmoid(f) * c + _sigmoid(i) * np.tanh(g)
        r = (_sigmoid(o) * np.tanh(c)) @ p["h2r_weight"].T
        np.testing.assert_allclose(out, r, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(states[1], c, rtol=1e-4, atol=1e-5)


def test_variational_dropout_keeps_one_mask_per_sequence():
    base = gluon.rnn.RNNCell(50)
    cell = crnn.VariationalDropoutCell(base, drop_outputs=0.5)
    cell.initialize()
    x = mx.nd.random.uniform(0.1, 1, shape=(4, 6, 3))
    with mx.autograd.record():
        out, _ = cell.unroll(6, x, merge_outputs=True)
    dropped = out.asnumpy() == 0
    assert 0.3 < dropped.mean() < 0.7
    for t in range(6):
        np.testing.assert_array_equal(dropped[:, t], dropped[:, 0])
    with mx.autograd.record():
        out2, _ = cell.unroll(6, x, merge_outputs=True)  # unroll resets: a new mask
    assert ((out2.asnumpy() == 0) != dropped).any()
    predicted, _ = cell.unroll(6, x, merge_outputs=True)  # predict mode: nothing dropped
    assert not (predicted.asnumpy() == 0).any()
