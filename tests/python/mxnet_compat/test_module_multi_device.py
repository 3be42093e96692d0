"""Module on several devices (the batch split over executors, gradients summed) and
BucketingModule (one module per bucket sharing parameters). References: numpy, and the same
network trained on one device."""
import numpy as np
import pytest

import mx


def _fc_net():
    return mx.sym.LinearRegressionOutput(mx.sym.FullyConnected(mx.sym.var("data"), num_hidden=3, name="fc"),
                                         name="lro")


def _train(contexts, x, y, steps=3, kvstore="local"):
    it = mx.io.NDArrayIter(x, y, batch_size=len(x), label_name="lro_label")
    mod = mx.mod.Module(_fc_net(), label_names=["lro_label"], context=contexts)
    mod.bind(it.provide_data, it.provide_label)
    mod.init_params(mx.init.Constant(0.1))
    mod.init_optimizer(kvstore=kvstore, optimizer="sgd",
                       optimizer_params={"learning_rate": 0.1, "momentum": 0.9})
    batch = next(iter(it))
    for _ in range(steps):
        mod.forward_backward(batch)
        mod.update()
    return mod


@pytest.mark.parametrize("kvstore", ["local", None])
def test_two_devices_train_like_one(kvstore):
    rng = np.random.RandomState(0)
    x, y = rng.rand(7, 4).astype("float32"), rng.rand(7, 3).astype("float32")
    one = _train([mx.cpu(0)], x, y)
    if kvstore is None:
        # without a kvstore each device updates its own copy from its own slice's gradient
        two = _train([mx.cpu(0), mx.cpu(1)], x, y, kvstore=None)
        w0 = two._exec_group.param_arrays[0][0].asnumpy()
        w1 = two._exec_group.param_arrays[0][1].asnumpy()
        assert not np.allclose(w0, w1)
        return
    two = _train([mx.cpu(0), mx.cpu(1)], x, y, kvstore=kvstore)
    a1, _ = one.get_params()
    a2, _ = two.get_params()
    for k in a1:
        np.testing.assert_allclose(a2[k].asnumpy(), a1[k].asnumpy(), rtol=1e-5, atol=1e-6)
    # every device holds the same weights after the update
    for block in two._exec_group.param_arrays:
        np.testing.assert_allclose(block[1].asnumpy(), block[0].asnumpy(), rtol=1e-6)


def test_batch_split_outputs_merge_along_layout_axis():
    x = mx.sym.var("data")
    net = mx.sym.Activation(x, act_type="relu", __layout__="TNC")
    mod = mx.mod.Module(net, label_names=None, context=[mx.cpu(0), mx.cpu(1)])
    mod.bind(data_shapes=[mx.io.DataDesc("data", (3, 5, 2), layout="TNC")], inputs_need_grad=True)
    mod.init_params()
    v = np.random.randn(3, 5, 2).astype("float32")
    mod.forward(mx.io.DataBatch([mx.nd.array(v)]), is_train=True)
    mod.backward([mx.nd.ones((3, 5, 2))])
    parts = mod.get_outputs(merge_multi_context=False)[0]
    # 5 split along N (axis 1) as MXNet: round(2.5) = 2 for the first, the rest for the last
    assert [p.shape for p in parts] == [(3, 2, 2), (3, 3, 2)]
    np.testing.assert_allclose(mod.get_outputs()[0].asnumpy(), np.maximum(v, 0))
    np.testing.assert_allclose(mod.get_input_grads()[0].asnumpy(), (v > 0).astype("float32"))


def test_module_reshape_keeps_parameters():
    mod = mx.mod.Module(mx.sym.FullyConnected(mx.sym.var("data"), num_hidden=2, name="fc"), label_names=None,
                        context=[mx.cpu(0), mx.cpu(1)])
    mod.bind(data_shapes=[("data", (4, 3))])
    mod.init_params(mx.init.Constant(0.5))
    x = np.random.rand(6, 3).astype("float32")
    mod.forward(mx.io.DataBatch([mx.nd.array(x)]), is_train=False)  # batch 6: rebinds
    assert mod.get_outputs()[0].shape == (6, 2)
    np.testing.assert_allclose(mod.get_outputs()[0].asnumpy(), x @ np.full((3, 2), 0.5), rtol=1e-5)  # bias: 0


def test_set_params_allow_missing_and_extra():
    mod = mx.mod.Module(mx.sym.FullyConnected(mx.sym.var("data"), num_hidden=2, name="fc"), label_names=None)
    mod.bind(data_shapes=[("data", (1, 2))])
    w = mx.nd.array([[1., 2.], [3., 4.]])
    mod.set_params({"fc_weight": w}, {}, allow_missing=True)
    np.testing.assert_array_equal(mod.get_params()[0]["fc_weight"].asnumpy(), w.asnumpy())
    with pytest.raises(RuntimeError):
        mod.set_params({"fc_weight": w}, {}, allow_missing=False)
    with pytest.raises(ValueError):
        mod.set_params({"fc_weight": w, "other": w}, {}, allow_missing=True, allow_extra=False)


def _bucket_sym(key):
    data = mx.sym.var("data")
    w = mx.sym.var("w", shape=(1,), init=mx.init.One())
    out = mx.sym.make_loss(mx.sym.sum(mx.sym.broadcast_mul(data, w)) * key)
    return out, ("data",), None


@pytest.mark.parametrize("req", ["write", "add"])
def test_bucketing_module_shares_parameters_and_gradients(req):
    mod = mx.mod.BucketingModule(_bucket_sym, default_bucket_key=3)
    mod.bind(data_shapes=[("data", (2,))], grad_req=req)
    mod.init_params()
    for key in (3, 5):
        mod.forward_backward(mx.io.DataBatch([mx.nd.ones((2,))], bucket_key=key,
                                             provide_data=[mx.io.DataDesc("data", (2,), layout="N")]))
    g = mod._curr_module._exec_group.execs[0].grad_dict["w"].asscalar()
    # d/dw of key * sum(data * w) = key * 2
    assert g == (3 * 2 + 5 * 2 if req == "add" else 5 * 2)
    assert set(mod._buckets) == {3, 5}
    w3 = mod._buckets[3]._exec_group.param_arrays[0][0]
    w5 = mod._buckets[5]._exec_group.param_arrays[0][0]
    mod.init_optimizer(optimizer_params={"learning_rate": 0.5, "rescale_grad": 1.0})
    mod.update()
    assert w3.asscalar() == w5.asscalar() == 1 - 0.5 * g  # one shared weight array


def test_bucketing_checkpoint_roundtrip(tmp_path):
    mod = mx.mod.BucketingModule(_bucket_sym, default_bucket_key=3)
    mod.bind(data_shapes=[("data", (2,))])
    mod.init_params()
    mod.set_params({"w": mx.nd.array([0.25])}, {})
    prefix = str(tmp_path / "b")
    mod.save_checkpoint(prefix, 1)
    mod2 = mx.mod.BucketingModule.load(prefix, 1, sym_gen=_bucket_sym, default_bucket_key=3)
    mod2.bind(data_shapes=[("data", (2,))])
    assert mod2.get_params()[0]["w"].asscalar() == 0.25
