"""MXNet 1.x semantics added for issue 11 (second pass): executor backward without forward or
without gradients, autograd.Function, the fused RNN cell's packed-parameter layout and
initializer, and the composed helpers (split_v2, moveaxis, all_finite, legacy 0index helpers).
References are numpy computations."""
import numpy as np
import pytest

import mx


def test_backward_before_forward_runs_forward_first():
    x = mx.sym.var("x")
    y = mx.sym.square(x)
    xv = np.random.rand(2, 3).astype("float32")
    g = mx.nd.zeros((2, 3))
    ex = y.bind(mx.cpu(), args={"x": mx.nd.array(xv)}, args_grad={"x": g})
    ex.backward(mx.nd.ones((2, 3)))  # no forward call: the gradient still uses x's values
    np.testing.assert_allclose(g.asnumpy(), 2 * xv, rtol=1e-6)


def test_backward_with_all_grad_req_null_is_a_no_op():
    x = mx.sym.var("x")
    ex = mx.sym.softmax(x).bind(mx.cpu(), args={"x": mx.nd.ones((2, 3))}, grad_req="null")
    ex.forward(is_train=True)
    ex.backward(mx.nd.ones((2, 3)))  # MXNet: nothing to compute, no error
    np.testing.assert_allclose(ex.outputs[0].asnumpy(), np.full((2, 3), 1 / 3.), rtol=1e-6)


def test_autograd_function_custom_gradient():
    class ScaledExp(mx.autograd.Function):
        def forward(self, x, y):
            out = mx.nd.exp(x) * y
            self.save_for_backward(x, y)
            return out

        def backward(self, dout):
            x, y = self.saved_tensors
            return dout * mx.nd.exp(x) * y, dout * mx.nd.exp(x) * 10  # deliberately not d/dy

    xv, yv = np.random.rand(5).astype("float32"), np.random.rand(5).astype("float32")
    x, y = mx.nd.array(xv), mx.nd.array(yv)
    x.attach_grad()
    y.attach_grad()
    with mx.autograd.record():
        z = ScaledExp()(x, y) * 3
    z.backward()
    np.testing.assert_allclose(z.asnumpy(), 3 * np.exp(xv) * yv, rtol=1e-5)
    np.testing.assert_allclose(x.grad.asnumpy(), 3 * np.exp(xv) * yv, rtol=1e-5)
    np.testing.assert_allclose(y.grad.asnumpy(), 30 * np.exp(xv), rtol=1e-5)


def test_autograd_function_backward_gradient_count_checked():
    class Bad(mx.autograd.Function):
        def forward(self, x):
            return x * 2

        def backward(self, d):
            return d, d

    x = mx.nd.ones((3,))
    x.attach_grad()
    with mx.autograd.record():
        y = Bad()(x)
    with pytest.raises(mx.base.MXNetError, match="2 gradients for 1 inputs"):
        y.backward()


@pytest.mark.parametrize("mode,gates", [("lstm", 4), ("gru", 3), ("rnn_tanh", 1)])
def test_fused_rnn_cell_pack_unpack_layout(mode, gates):
    H, I, L = 3, 5, 2
    cell = mx.rnn.FusedRNNCell(H, num_layers=L, mode=mode, bidirectional=True, prefix="f_")
    # size as the RNN op computes it: layer 0 sees I inputs, later layers 2H (two directions)
    size = gates * H * 2 * (I + H + 2) + (L - 1) * gates * H * 2 * (2 * H + H + 2)
    flat = np.arange(size, dtype="float32")
    args = cell.unpack_weights({"f_parameters": mx.nd.array(flat)})
    # the first block is layer 0, direction l, i2h weight of the first gate, rows of I inputs
    first = "f_l0_i2h%s_weight" % cell._gate_names[0]
    np.testing.assert_array_equal(args[first].asnumpy(), flat[:H * I].reshape(H, I))
    # biases come after all weights, in the same order
    nweights = size - L * 2 * 2 * gates * H
    np.testing.assert_array_equal(args["f_l0_i2h%s_bias" % cell._gate_names[0]].asnumpy(),
                                  flat[nweights:nweights + H])
    back = cell.pack_weights(args)["f_parameters"].asnumpy()
    np.testing.assert_array_equal(back, flat)


def test_fused_rnn_initializer_sets_forget_bias_and_weights():
    H, I = 4, 3
    cell = mx.rnn.FusedRNNCell(H, num_layers=1, mode="lstm", forget_bias=2.5, prefix="")
    out, _ = cell.unroll(2, mx.sym.var("data"), layout="NTC", merge_outputs=True)
    mod = mx.mod.Module(out, label_names=None)
    mod.bind(data_shapes=[("data", (1, 2, I))])
    mod.init_params(mx.init.Constant(0.5))
    parts = cell.unpack_weights(mod.get_params()[0])
    np.testing.assert_array_equal(parts["l0_i2h_f_bias"].asnumpy(), np.full(H, 2.5))
    np.testing.assert_array_equal(parts["l0_h2h_i_bias"].asnumpy(), np.zeros(H))  # biases: zero
    np.testing.assert_array_equal(parts["l0_i2h_c_weight"].asnumpy(), np.full((H, I), 0.5))


def test_module_input_grads_none_when_grad_req_null():
    x = mx.sym.var("data")
    mod = mx.mod.Module(mx.sym.FullyConnected(x, num_hidden=2), label_names=None)
    mod.bind(data_shapes=[("data", (3, 4))], inputs_need_grad=True, grad_req="null")
    assert mod.get_input_grads() == [None]


def test_split_v2_matches_numpy_split():
    a = np.random.rand(4, 9, 2).astype("float32")
    for spec in (3, (2, 5), (1,)):
        got = mx.nd.split_v2(mx.nd.array(a), spec, axis=1)
        want = np.split(a, spec if isinstance(spec, int) else list(spec), axis=1)
        assert len(got) == len(want)
        for g, w in zip(got, want):
            np.testing.assert_array_equal(g.asnumpy(), w)
    s = mx.sym.split_v2(mx.sym.var("d"), (2, 5), axis=1)
    outs = s.eval(d=mx.nd.array(a))
    np.testing.assert_array_equal(outs[2].asnumpy(), a[:, 5:])


def test_moveaxis_matches_numpy():
    a = np.random.rand(2, 3, 4, 5)
    for src, dst in ((0, 2), ([0, 3], [1, 0]), (-1, 0)):
        np.testing.assert_array_equal(mx.nd.moveaxis(mx.nd.array(a), src, dst).asnumpy(),
                                      np.moveaxis(a, src, dst).astype("float32"))
    with pytest.raises(ValueError, match="out of range"):
        mx.nd.moveaxis(mx.nd.array(a), 4, 0)


def test_all_finite_and_multi_all_finite():
    ok, bad = mx.nd.array([[1., 2.]]), mx.nd.array([[1., np.inf]])
    assert mx.nd.all_finite(ok).asnumpy().tolist() == [1.0]
    assert mx.nd.all_finite(bad).asnumpy().tolist() == [0.0]
    assert mx.nd.multi_all_finite(ok, bad, num_arrays=2).asnumpy().tolist() == [0.0]
    z = mx.sym.all_finite(mx.sym.var("d"))
    assert z.eval(d=mx.nd.array([np.nan]))[0].asnumpy().tolist() == [0.0]


def test_legacy_0index_helpers():
    a = np.arange(12, dtype="float32").reshape(3, 4)
    idx = np.array([3, 0, 2])
    val = np.array([-1, -2, -3], dtype="float32")
    np.testing.assert_array_equal(mx.nd.choose_element_0index(mx.nd.array(a), mx.nd.array(idx)).asnumpy(),
                                  a[np.arange(3), idx])
    want = a.copy()
    want[np.arange(3), idx] = val
    np.testing.assert_array_equal(
        mx.nd.fill_element_0index(mx.nd.array(a), mx.nd.array(val), mx.nd.array(idx)).asnumpy(), want)
    out = mx.nd.ones((3, 4))
    mx.nd.onehot_encode(mx.nd.array(idx), out)
    np.testing.assert_array_equal(out.asnumpy(), np.eye(4)[idx])
    arrs = [mx.nd.ones((2,)), mx.nd.ones((3, 1))]
    mx.nd.reset_arrays(*arrs, num_arrays=2)
    assert all((x.asnumpy() == 0).all() for x in arrs)


def test_ndarray_iter_casts_numpy_input_to_float32():
    x = np.random.rand(6, 3)  # float64, as numpy makes it
    y = np.arange(6)          # int64
    it = mx.io.NDArrayIter(x, y, batch_size=3)
    b = next(iter(it))
    assert b.data[0].dtype == np.float32 and b.label[0].dtype == np.float32
    assert it.provide_data[0].dtype == np.float32
    np.testing.assert_allclose(b.data[0].asnumpy(), x[:3].astype("float32"))
    kept = mx.io.NDArrayIter(mx.nd.array(x, dtype="float64"), batch_size=3)  # NDArrays keep theirs
    assert next(iter(kept)).data[0].dtype == np.float64
    # Module.fit on float64 numpy data (failed before: float64 inputs met float32 weights)
    net = mx.sym.LinearRegressionOutput(mx.sym.FullyConnected(mx.sym.var("data"), num_hidden=1), name="lro")
    mod = mx.mod.Module(net, label_names=["lro_label"])
    mod.fit(mx.io.NDArrayIter(x, y.astype("float64"), batch_size=3, label_name="lro_label"), num_epoch=1)


def test_cached_op_runs_a_symbol_with_autograd():
    x, w = mx.sym.var("x"), mx.sym.var("w")
    op = mx.nd.CachedOp(mx.sym.broadcast_mul(x, w) + 2)
    xv, wv = np.random.rand(3, 4).astype("float32"), np.random.rand(1, 4).astype("float32")
    xa, wa = mx.nd.array(xv), mx.nd.array(wv)
    np.testing.assert_allclose(op(xa, wa).asnumpy(), xv * wv + 2, rtol=1e-6)
    out = mx.nd.zeros((3, 4))
    op(xa, wa, out=out)
    np.testing.assert_allclose(out.asnumpy(), xv * wv + 2, rtol=1e-6)
    wa.attach_grad()
    with mx.autograd.record():
        y = op(xa, wa) * 3
    y.backward()
    np.testing.assert_allclose(wa.grad.asnumpy(), 3 * xv.sum(axis=0, keepdims=True), rtol=1e-5)
    with pytest.raises(ValueError, match="expected 2 inputs"):
        op(xa)


def test_context_default_ctx_is_the_current_context():
    assert mx.Context.default_ctx == mx.cpu(0)
    with mx.cpu(3):
        assert mx.Context.default_ctx == mx.cpu(3)
    assert mx.Context.default_ctx == mx.cpu(0)
