"""mx.rnn (MXNet 1.x symbolic cells): names as MXNet's, outputs against numpy recurrences."""
import numpy as np
import pytest

import mx


def _sigmoid(x):
    return 1 / (1 + np.exp(-x))


def _params(names_shapes, rng):
    return {n: rng.uniform(-0.5, 0.5, s).astype(np.float32) for n, s in names_shapes.items()}


def test_lstm_unroll_matches_numpy():
    rng = np.random.RandomState(0)
    N, T, C, H = 3, 4, 5, 6
    cell = mx.rnn.LSTMCell(H, prefix="l_")
    data = mx.sym.var("data")
    outputs, states = cell.unroll(T, data, merge_outputs=True)
    assert sorted(cell.params._params) == ["l_h2h_bias", "l_h2h_weight", "l_i2h_bias", "l_i2h_weight"]
    assert sorted(outputs.list_arguments()) == sorted(["data", "l_h2h_bias", "l_h2h_weight", "l_i2h_bias",
                                                       "l_i2h_weight"])
    p = _params({"l_i2h_weight": (4 * H, C), "l_i2h_bias": (4 * H,), "l_h2h_weight": (4 * H, H),
                 "l_h2h_bias": (4 * H,)}, rng)
    x = rng.uniform(-1, 1, (N, T, C)).astype(np.float32)
    got = outputs.eval(data=mx.nd.array(x), **{k: mx.nd.array(v) for k, v in p.items()})[0].asnumpy()
    h = np.zeros((N, H))
    c = np.zeros((N, H))
    want = []
    for t in range(T):
        g = x[:, t] @ p["l_i2h_weight"].T + p["l_i2h_bias"] + h @ p["l_h2h_weight"].T + p["l_h2h_bias"]
        i, f, cc, o = np.split(g, 4, axis=1)
        c = _sigmoid(f) * c + _sigmoid(i) * np.tanh(cc)
        h = _sigmoid(o) * np.tanh(c)
        want.append(h)
    np.testing.assert_allclose(got, np.stack(want, axis=1), rtol=1e-4, atol=1e-5)


def test_gru_and_rnn_cell_names_and_shapes():
    for cell in (mx.rnn.GRUCell(7, prefix="rnn_"), mx.rnn.RNNCell(7, prefix="rnn_")):
        inputs = [mx.sym.var("rnn_t%d_data" % i) for i in range(3)]
        outputs, _ = cell.unroll(3, inputs)
        outputs = mx.sym.Group(outputs)
        assert outputs.list_outputs() == ["rnn_t0_out_output", "rnn_t1_out_output", "rnn_t2_out_output"]
        _, outs, _ = outputs.infer_shape(rnn_t0_data=(2, 4), rnn_t1_data=(2, 4), rnn_t2_data=(2, 4))
        assert outs == [(2, 7)] * 3


def test_gru_step_matches_numpy():
    rng = np.random.RandomState(1)
    N, C, H = 2, 3, 4
    cell = mx.rnn.GRUCell(H, prefix="g_")
    out, _ = cell.unroll(1, [mx.sym.var("x")])
    p = _params({"g_i2h_weight": (3 * H, C), "g_i2h_bias": (3 * H,), "g_h2h_weight": (3 * H, H),
                 "g_h2h_bias": (3 * H,)}, rng)
    x = rng.uniform(-1, 1, (N, C)).astype(np.float32)
    got = out[0].eval(x=mx.nd.array(x), **{k: mx.nd.array(v) for k, v in p.items()})[0].asnumpy()
    gi = x @ p["g_i2h_weight"].T + p["g_i2h_bias"]
    gh = p["g_h2h_bias"] + np.zeros((N, 3 * H))  # h0 = 0
    ir, iz, in_ = np.split(gi, 3, axis=1)
    hr, hz, hn = np.split(gh, 3, axis=1)
    r, z = _sigmoid(ir + hr), _sigmoid(iz + hz)
    n = np.tanh(in_ + r * hn)
    np.testing.assert_allclose(got, (1 - z) * n, rtol=1e-5, atol=1e-6)


def test_bidirectional_residual_and_unfuse():
    cell = mx.rnn.BidirectionalCell(mx.rnn.LSTMCell(3, prefix="l_"), mx.rnn.LSTMCell(3, prefix="r_"),
                                    output_prefix="bi_")
    outputs, _ = cell.unroll(2, [mx.sym.var("a"), mx.sym.var("b")])
    assert mx.sym.Group(outputs).list_outputs() == ["bi_t0_output", "bi_t1_output"]
    res = mx.rnn.ResidualCell(mx.rnn.GRUCell(4, prefix="g_"))
    outs, _ = res.unroll(2, [mx.sym.var("a"), mx.sym.var("b")])
    zeros = {n: mx.nd.zeros(s) for n, s in (("g_i2h_weight", (12, 4)), ("g_i2h_bias", (12,)),
                                           ("g_h2h_weight", (12, 4)), ("g_h2h_bias", (12,)))}
    # zero weights: the GRU output is 0.5 * previous state = 0, so the output is the input
    a = np.random.rand(2, 4).astype(np.float32)
    got = mx.sym.Group(outs).eval(a=mx.nd.array(a), b=mx.nd.array(a), **zeros)
    np.testing.assert_allclose(got[0].asnumpy(), a, rtol=1e-6)
    stack = mx.rnn.FusedRNNCell(5, num_layers=2, mode="lstm", bidirectional=True, prefix="f_").unfuse()
    outs, _ = stack.unroll(3, [mx.sym.var("t%d" % i) for i in range(3)])
    assert mx.sym.Group(outs).list_outputs() == ["f_bi_l1_t0_output", "f_bi_l1_t1_output", "f_bi_l1_t2_output"]


def test_fused_cell_matches_unfused():
    rng = np.random.RandomState(2)
    N, T, C, H = 2, 3, 4, 5
    fused = mx.rnn.FusedRNNCell(H, num_layers=1, mode="gru", prefix="f_")
    out_f, _ = fused.unroll(T, mx.sym.var("data"), layout="NTC", merge_outputs=True)
    unfused = fused.unfuse()
    out_u, _ = unfused.unroll(T, mx.sym.var("data"), layout="NTC", merge_outputs=True)
    p = _params({"f_l0_i2h_weight": (3 * H, C), "f_l0_i2h_bias": (3 * H,), "f_l0_h2h_weight": (3 * H, H),
                 "f_l0_h2h_bias": (3 * H,)}, rng)
    packed = np.concatenate([p["f_l0_i2h_weight"].ravel(), p["f_l0_h2h_weight"].ravel(), p["f_l0_i2h_bias"],
                             p["f_l0_h2h_bias"]])
    x = rng.uniform(-1, 1, (N, T, C)).astype(np.float32)
    got_f = out_f.eval(data=mx.nd.array(x), f_parameters=mx.nd.array(packed))[0].asnumpy()
    got_u = out_u.eval(data=mx.nd.array(x), **{k: mx.nd.array(v) for k, v in p.items()})[0].asnumpy()
    np.testing.assert_allclose(got_f, got_u, rtol=1e-4, atol=1e-5)


def test_encode_sentences_and_bucket_iter():
    res, vocab = mx.rnn.encode_sentences([["a", "b", "c"], ["b", "c", "d"]], vocab={"a": 1, "b": 2, "c": 3},
                                         invalid_label=-1, invalid_key="\n", start_label=0, unknown_token="UNK")
    assert res == [[1, 2, 3], [2, 3, 0]] and vocab["UNK"] == 0
    with pytest.raises(KeyError):
        mx.rnn.encode_sentences([["z"]], vocab={"a": 1})
    sentences = [[1, 2], [3, 4], [5, 6, 7], [8, 9, 10], [1, 2, 3, 4, 5]]
    it = mx.rnn.BucketSentenceIter(sentences, batch_size=2, buckets=[2, 3], invalid_label=0)
    assert it.ndiscard == 1 and it.default_bucket_key == 3
    seen = {}
    for batch in it:
        d, lab = batch.data[0].asnumpy(), batch.label[0].asnumpy()
        assert d.shape == (2, batch.bucket_key)
        np.testing.assert_array_equal(lab[:, :-1], d[:, 1:])
        np.testing.assert_array_equal(lab[:, -1], 0)
        seen[batch.bucket_key] = sorted(map(tuple, d.astype(int).tolist()))
    assert seen == {2: [(1, 2), (3, 4)], 3: [(5, 6, 7), (8, 9, 10)]}
