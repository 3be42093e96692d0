"""MXNet 1.x training-API semantics (issue 11, s4): Updater.states, kvstore type names and
_set_updater after init, a Python kvstore (TestStore) under gluon.Trainer, the Trainer dropping
its kvstore when parameters are reloaded, the PCC metric and metric deep copies, mx.mon.Monitor,
convolutional RNN cells, fused-layer _unfuse, split_data, deduplicated parameter files,
NDArrayIter with longer label arrays and CTC labels holding the blank index. References: numpy
and Apache MXNet 1.9.1 values (tests/data/compat_gluon/make_compat_gluon_fixtures.py)."""
import copy
import os

import numpy as np
import pytest

import mx
from mx import gluon

REFS = np.load(os.path.join(os.path.dirname(__file__), "..", "..", "data", "compat_gluon",
                            "compat_gluon_refs.npz"))


# ---------------------------------------------------------------- optimizer / kvstore / trainer
@pytest.mark.parametrize("name,opt", [
    ("sgd", lambda: mx.optimizer.SGD(learning_rate=0.1, momentum=0.9, wd=0.01)),
    ("adam", lambda: mx.optimizer.Adam(learning_rate=0.05))])
def test_updater_states_match_mxnet(name, opt):
    upd = mx.optimizer.get_updater(opt())
    w = mx.nd.array(REFS["upd_w0"])
    for g in (REFS["upd_g1"], REFS["upd_g2"]):
        upd(0, mx.nd.array(g), w)
    st = upd.states[0]
    st = st if isinstance(st, tuple) else (st,)
    refs = [REFS[k] for k in sorted(REFS.files) if k.startswith("upd_%s_state" % name)]
    assert len(st) == len(refs)
    for s, r in zip(st, refs):
        np.testing.assert_allclose(s.asnumpy(), r, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(w.asnumpy(), REFS["upd_%s_w" % name], rtol=1e-5, atol=1e-6)


def test_updater_states_survive_save_and_load(tmp_path):
    upd = mx.optimizer.get_updater(mx.optimizer.SGD(learning_rate=0.1, momentum=0.9))
    upd(3, mx.nd.ones((2,)), mx.nd.zeros((2,)))
    f = str(tmp_path / "u.states")
    upd.save(f)
    upd2 = mx.optimizer.get_updater(mx.optimizer.SGD(learning_rate=0.1, momentum=0.9))
    upd2.load(f)
    assert set(upd2.states) == {3}
    np.testing.assert_allclose(upd2.states[3].asnumpy(), [-0.1, -0.1], rtol=1e-6)


def test_kvstore_keeps_the_type_name_it_was_created_with():
    assert mx.kv.create("local_allreduce_cpu").type == "local_allreduce_cpu"
    assert mx.kv.create("local").type == "local"


def test_kvstore_set_updater_after_init_keeps_the_values():
    kv = mx.kv.create("local")
    kv.init(3, mx.nd.full((2, 2), 5.0))
    seen = []

    def updater(key, grad, weight):
        seen.append(key)
        weight[:] = weight + grad * 2

    kv._set_updater(updater)
    kv.push(3, [mx.nd.ones((2, 2)), mx.nd.ones((2, 2))])
    out = mx.nd.zeros((2, 2))
    kv.pull(3, out=out)
    np.testing.assert_allclose(out.asnumpy(), np.full((2, 2), 5.0 + 2 * 2))
    assert seen == [3]


def test_trainer_with_a_python_kvstore_updates_locally():
    x = gluon.Parameter("x", shape=(4,))
    x.initialize(ctx=[mx.cpu(0), mx.cpu(1)], init="zeros")
    trainer = gluon.Trainer([x], "sgd", {"learning_rate": 0.5}, kvstore=mx.kv.create("teststore"))
    with mx.autograd.record():
        for i, w in enumerate(x.list_data()):
            ((i + 1) * w).backward()
    trainer.step(1)
    assert trainer._update_on_kvstore is False
    for d in x.list_data():  # gradient summed over the two devices: 1 + 2
        np.testing.assert_allclose(d.asnumpy(), np.full(4, -0.5 * 3))
    bad = gluon.Trainer([x], "sgd", kvstore=mx.kv.create("teststore"), update_on_kvstore=True)
    with pytest.raises(ValueError, match="update_on_kvstore"):
        bad._init_kvstore()


def test_trainer_rebuilds_its_kvstore_after_parameters_are_loaded(tmp_path):
    params = gluon.ParameterDict()
    x = params.get("x", shape=(3,))
    params.initialize(ctx=[mx.cpu(0), mx.cpu(1)], init="zeros")
    trainer = gluon.Trainer(params, "sgd", {"learning_rate": 0.1}, kvstore="device")
    f = str(tmp_path / "p.params")
    params.save(f)
    for _ in range(2):
        with mx.autograd.record():
            for w in x.list_data():
                (w + 1).backward()
        trainer.step(1)
    assert trainer._kvstore is not None and trainer._kvstore._updater.optimizer is trainer._optimizer
    params.load(f)
    assert trainer._kvstore is None and trainer._kv_initialized is False
    with mx.autograd.record():
        for w in x.list_data():
            (w + 1).backward()
    trainer.step(1)
    for d in x.list_data():  # from the loaded zeros: one step of the summed gradient 2
        np.testing.assert_allclose(d.asnumpy(), np.full(3, -0.2), rtol=1e-6)


# ---------------------------------------------------------------- metrics and monitor
def _pcc_numpy(cm):
    n = cm.sum()
    x, y = cm.sum(1), cm.sum(0)
    return (np.trace(cm) * n - (x * y).sum()) / np.sqrt((x * (n - x)).sum() * (y * (n - y)).sum())


def test_pcc_matches_mxnet_and_the_confusion_matrix_formula():
    m = mx.metric.create("pcc")
    m.update([mx.nd.array(REFS["pcc_l1"])], [mx.nd.array(REFS["pcc_s1"])])
    np.testing.assert_allclose(m.get()[1], REFS["pcc_after_1"], rtol=1e-10)
    m.update([mx.nd.array(REFS["pcc_l2"])], [mx.nd.array(REFS["pcc_p2"])])
    np.testing.assert_allclose(m.get()[1], REFS["pcc_after_2"], rtol=1e-10)
    cm = np.zeros((4, 4))
    for p, l in zip(list(REFS["pcc_s1"].argmax(1)) + list(REFS["pcc_p2"]),
                    list(REFS["pcc_l1"]) + list(REFS["pcc_l2"])):
        cm[int(p), int(l)] += 1
    np.testing.assert_allclose(m.get()[1], _pcc_numpy(cm), rtol=1e-10)
    assert m.get()[0] == "pcc"


def test_pcc_equals_mcc_for_two_classes():
    labels = mx.nd.array([0, 1, 1, 0, 1, 1, 0, 0, 1])
    preds = mx.nd.array(np.eye(2)[[0, 1, 0, 0, 1, 1, 1, 0, 1]])
    pcc, mcc = mx.metric.create("pcc"), mx.metric.create("mcc")
    pcc.update([labels], [preds])
    mcc.update([labels], [preds])
    np.testing.assert_allclose(pcc.get()[1], mcc.get()[1], rtol=1e-12)
    with pytest.raises(ValueError, match="class indices"):
        pcc.update([mx.nd.array([-1.0])], [mx.nd.array([0.0])])


def test_core_metrics_deep_copy_their_statistics():
    m = mx.metric.create("acc")
    m.update([mx.nd.array([0, 1])], [mx.nd.array([[1, 0], [1, 0]])])
    c = copy.deepcopy(m)
    assert c.get() == m.get() == ("accuracy", 0.5)
    c.update([mx.nd.array([1])], [mx.nd.array([[0, 1]])])
    assert m.get()[1] == 0.5 and abs(c.get()[1] - 2 / 3) < 1e-12


def test_monitor_collects_outputs_and_arguments():
    data = mx.sym.var("data")
    fc = mx.sym.FullyConnected(data, num_hidden=2, name="fc")
    out = mx.sym.Activation(fc, act_type="relu", name="act")
    w = np.array([[1.0, -2.0], [0.5, 0.25]], np.float32)
    b = np.array([0.1, -0.3], np.float32)
    xv = np.array([[1.0, 2.0]], np.float32)
    ex = out.bind(mx.cpu(), {"data": mx.nd.array(xv), "fc_weight": mx.nd.array(w),
                             "fc_bias": mx.nd.array(b)}, grad_req="null")
    mon = mx.mon.Monitor(1, stat_func=lambda a: mx.nd.max(a), pattern=".*", sort=True)
    mon.install(ex)
    mon.tic()
    ex.forward()
    rows = {k: float(v.strip()) for _, k, v in mon.toc()}
    h = xv @ w.T + b
    np.testing.assert_allclose(rows["fc_output"], h.max(), rtol=1e-6)
    np.testing.assert_allclose(rows["act_output"], np.maximum(h, 0).max(), rtol=1e-6)
    np.testing.assert_allclose(rows["fc_weight"], w.max(), rtol=1e-6)
    assert mon.toc() == []  # not activated again without tic()


# ---------------------------------------------------------------- recurrent cells
def test_conv_rnn_cell_with_1x1_kernels_is_a_per_pixel_rnn():
    cell = mx.rnn.ConvRNNCell(input_shape=(2, 3, 4, 5), num_hidden=6, h2h_kernel=(1, 1),
                              i2h_kernel=(1, 1), i2h_pad=(0, 0), prefix="c_")
    inputs = [mx.sym.var("c_t%d_data" % i) for i in range(2)]
    outs, _ = cell.unroll(2, inputs)
    g = mx.sym.Group(outs)
    assert g.list_outputs() == ["c_t0_out_output", "c_t1_out_output"]
    assert sorted(cell.params._params) == ["c_h2h_bias", "c_h2h_weight", "c_i2h_bias", "c_i2h_weight"]
    rng = np.random.RandomState(1)
    shapes = dict(zip(g.list_arguments(), g.infer_shape(c_t0_data=(2, 3, 4, 5), c_t1_data=(2, 3, 4, 5))[0]))
    vals = {k: rng.uniform(-1, 1, s).astype(np.float32) for k, s in shapes.items()}
    res = g.bind(mx.cpu(), {k: mx.nd.array(v) for k, v in vals.items()}, grad_req="null").forward()

    def conv1x1(x, wt, bias):
        return np.einsum("nchw,oc->nohw", x, wt[:, :, 0, 0]) + bias[None, :, None, None]

    def leaky(v):
        return np.where(v > 0, v, 0.2 * v)
    h = np.zeros((2, 6, 4, 5), np.float32)
    for t in range(2):
        h = leaky(conv1x1(vals["c_t%d_data" % t], vals["c_i2h_weight"], vals["c_i2h_bias"]) +
                  conv1x1(h, vals["c_h2h_weight"], vals["c_h2h_bias"]))
        np.testing.assert_allclose(res[t].asnumpy(), h, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("cls,nstate", [("ConvLSTMCell", 2), ("ConvGRUCell", 1)])
def test_conv_lstm_and_gru_cells_shapes(cls, nstate):
    cell = getattr(mx.rnn, cls)(input_shape=(1, 3, 16, 10), num_hidden=10, i2h_stride=(2, 2),
                                prefix="r_")
    assert len(cell.state_info) == nstate and cell.state_info[0]["shape"] == (0, 10, 8, 5)
    outs, _ = cell.unroll(3, [mx.sym.var("r_t%d_data" % i) for i in range(3)])
    _, out_shapes, _ = mx.sym.Group(outs).infer_shape(**{"r_t%d_data" % i: (1, 3, 16, 10) for i in range(3)})
    assert out_shapes == [(1, 10, 8, 5)] * 3
    with pytest.raises(ValueError, match="odd"):
        getattr(mx.rnn, cls)(input_shape=(1, 3, 8, 8), num_hidden=2, h2h_kernel=(2, 3))


def test_unfused_lstm_matches_a_numpy_lstm():
    layer = gluon.rnn.LSTM(3, num_layers=2)
    cells = layer._unfuse()
    layer.initialize(mx.init.Uniform(0.5))
    x = np.random.RandomState(3).uniform(-1, 1, (4, 2, 5)).astype(np.float32)  # TNC
    y = layer(mx.nd.array(x)).asnumpy()
    y_cells = cells.unroll(4, mx.nd.array(x), layout="TNC", merge_outputs=True)[0].asnumpy()
    params = {k: v.data().asnumpy() for k, v in layer.collect_params().items()}

    def sig(v):
        return 1 / (1 + np.exp(-v))
    seq = x
    for layer_i in range(2):
        p = {k.split("l%d_" % layer_i)[1]: v for k, v in params.items() if "_l%d_" % layer_i in k}
        h, c = np.zeros((2, 3)), np.zeros((2, 3))
        outs = []
        for t in range(4):
            g = seq[t] @ p["i2h_weight"].T + p["i2h_bias"] + h @ p["h2h_weight"].T + p["h2h_bias"]
            i, f, n, o = np.split(g, 4, axis=1)
            c = sig(f) * c + sig(i) * np.tanh(n)
            h = sig(o) * np.tanh(c)
            outs.append(h)
        seq = np.stack(outs)
    np.testing.assert_allclose(y, seq, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(y_cells, seq, rtol=1e-4, atol=1e-5)


# ---------------------------------------------------------------- data and parameter files
@pytest.mark.parametrize("n,axis", [(4, 1), (15, 1), (5, 0), (16, 0)])
def test_split_data_uneven_follows_numpy_array_split(n, axis):
    x = np.random.RandomState(0).rand(13, 33).astype(np.float32)
    parts = gluon.utils.split_data(mx.nd.array(x), n, batch_axis=axis, even_split=False)
    ref = np.array_split(x, n, axis=axis)
    assert len(parts) == n
    for p, r in zip(parts, ref):
        np.testing.assert_array_equal(p.asnumpy(), r)


def test_load_parameters_accepts_deduplicated_files(tmp_path):
    class B(gluon.Block):
        def __init__(self, params=None):
            super().__init__(params=params)
            with self.name_scope():
                self.weight = self.params.get("weight", shape=(2, 2))

    class C(gluon.Block):
        def __init__(self, b1, b2):
            super().__init__()
            self.b1, self.b2 = b1, b2

    b1 = B()
    c = C(b1, B(b1.collect_params()))
    c.initialize()
    f = str(tmp_path / "dedup.params")
    c.save_parameters(f, deduplicate=True)
    assert len(mx.nd.load(f)) == 1
    b1n = B()
    c2 = C(b1n, B(b1n.collect_params()))
    c2.load_parameters(f)
    np.testing.assert_array_equal(c2.b2.weight.data().asnumpy(), b1.weight.data().asnumpy())


def test_invalid_parameter_storage_type_is_value_and_assertion_error():
    with pytest.raises(AssertionError):
        gluon.Parameter("w", shape=(2,), stype="invalid")
    with pytest.raises(ValueError):
        gluon.Parameter("w", shape=(2,), grad_stype="invalid")


def test_ndarray_iter_reads_longer_label_arrays_up_to_the_data_count():
    data = np.arange(6, dtype=np.float32).reshape(3, 2)
    label = np.arange(5, dtype=np.float32)
    it = mx.io.NDArrayIter(data, {"lab": label}, batch_size=3)
    batch = next(iter(it))
    np.testing.assert_array_equal(batch.label[0].asnumpy(), label[:3])
    with pytest.raises(ValueError, match="samples"):
        mx.io.NDArrayIter(data, {"lab": label[:2]}, batch_size=1)


def test_ctc_labels_may_hold_the_blank_index():
    loss = mx.nd.ctc_loss(mx.nd.array(REFS["ctc_x"]), mx.nd.array(REFS["ctc_label"]),
                          label_lengths=mx.nd.array(REFS["ctc_label_lengths"]),
                          use_label_lengths=True, blank_label="last")
    np.testing.assert_allclose(loss.asnumpy(), REFS["ctc_loss"], rtol=1e-5)


def test_sdml_loss_matches_numpy():
    rng = np.random.RandomState(5)
    x1, x2 = rng.uniform(-1, 1, (4, 3)), rng.uniform(-1, 1, (4, 3))
    loss = gluon.loss.SDMLLoss(smoothing_parameter=0.3)(mx.nd.array(x1), mx.nd.array(x2)).asnumpy()
    d = ((x1[:, None, :] - x2[None, :, :]) ** 2).sum(2)
    logp = -d - np.log(np.exp(-d).sum(1, keepdims=True))
    lab = np.eye(4) * 0.7 + (1 - np.eye(4)) * 0.1
    ref = (lab * (np.log(lab + 1e-12) - logp)).mean(1)
    np.testing.assert_allclose(loss, ref, rtol=1e-5, atol=1e-6)


def test_cpu_shared_context_makes_cpu_arrays():
    ctx = mx.Context("cpu_shared", 0)
    assert ctx.device_type == "cpu_shared" and mx.Context(5, 0) == ctx
    a = mx.nd.array([1.0, 2.0], ctx=ctx)
    np.testing.assert_array_equal(a.asnumpy(), [1.0, 2.0])
    assert a.context == mx.cpu(0)


def test_stop_gradient_prunes_the_backward_pass():
    data = mx.sym.var("data")
    y = data
    for _ in range(4):
        y = y * y
    shape = (4, 3, 16, 16)
    plain = y.simple_bind(mx.cpu(), data=shape, grad_req="null").memory_bytes()[0]
    full = y.simple_bind(mx.cpu(), data=shape).memory_bytes()[0]
    ex = mx.sym.stop_gradient(y).simple_bind(mx.cpu(), data=shape)
    assert ex.memory_bytes()[0] == plain < full  # nothing of the backward pass is kept
    xv = np.random.RandomState(0).rand(*shape).astype(np.float32)
    ex.grad_dict["data"][:] = 7.0
    out = ex.forward(is_train=True, data=mx.nd.array(xv))[0]
    ex.backward(mx.nd.ones(shape))
    np.testing.assert_allclose(out.asnumpy(), xv ** 16, rtol=1e-5)
    np.testing.assert_array_equal(ex.grad_dict["data"].asnumpy(), np.zeros(shape))  # write: zeros
    # a branch without stop_gradient still gets its gradient
    mixed = mx.sym.stop_gradient(y) + data * 3
    ex2 = mixed.simple_bind(mx.cpu(), data=shape)
    ex2.forward(is_train=True, data=mx.nd.array(xv))
    ex2.backward(mx.nd.ones(shape))
    np.testing.assert_allclose(ex2.grad_dict["data"].asnumpy(), np.full(shape, 3.0))


@pytest.mark.parametrize("dtype,value", [("int32", 200000001), ("int64", 2147483648), ("float32", 1.5)])
def test_csv_iter_integer_dtypes_keep_exact_values(tmp_path, dtype, value):
    data, label = tmp_path / "d.csv", tmp_path / "l.csv"
    data.write_text("\n".join(",".join([str(value)] * 4) for _ in range(6)) + "\n")
    label.write_text("\n".join(str(i) for i in range(6)) + "\n")
    it = mx.io.CSVIter(data_csv=str(data), data_shape=(2, 2), label_csv=str(label), batch_size=3,
                       dtype=dtype)
    batches = list(it)
    assert len(batches) == 2
    d = batches[0].data[0].asnumpy()
    assert d.dtype == np.dtype(dtype)
    np.testing.assert_array_equal(d, np.full((3, 2, 2), value, dtype=dtype))
    np.testing.assert_array_equal(batches[1].label[0].asnumpy(), [3.0, 4.0, 5.0])
    with pytest.raises(TypeError, match="dtype"):
        mx.io.CSVIter(data_csv=str(data), data_shape=(2, 2), batch_size=3, dtype="float16")
