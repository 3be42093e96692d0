"""Convolution + BatchNorm folding (libmx/src/graph/executor_fuse.cc, ops/nn/conv_bn_fold.cc): in a
graph bound without gradients, a Convolution whose result only a BatchNorm reads runs as one
_fused_Convolution_BatchNorm(_relu) step that folds BatchNorm's moving statistics into the
convolution's weight and bias. The folded weights are cached per version of the six source arrays,
so every test changes a parameter between two predictions and checks the second against numpy
float64 (a stale cache would give the first parameters' answer)."""

import numpy as np
import pytest

import mx
from conv_reference import conv_ref
from switches import env, onednn
from mx import autograd, gluon

RNG = np.random.RandomState(11)


# ---------------------------------------------------------------- numpy float64 references
def bn_ref(y, gamma, beta, mean, var, eps, fix_gamma=False):
    g = np.ones_like(gamma) if fix_gamma else gamma
    s = (g / np.sqrt(var + eps))[None, :, None, None]
    return (y - mean[None, :, None, None]) * s + beta[None, :, None, None]


def forward_ops(ex):
    return [op for op, backward in ex.step_ops() if not backward]


def conv_bn_symbol(no_bias, relu, stride=1, pad=1, groups=1, fix_gamma=False, use_global_stats=False, eps=1e-3):
    data = mx.sym.Variable("data")
    c = mx.sym.Convolution(data, kernel=(3, 3), num_filter=6, stride=(stride, stride), pad=(pad, pad),
                           num_group=groups, no_bias=no_bias, name="conv")
    y = mx.sym.BatchNorm(c, fix_gamma=fix_gamma, use_global_stats=use_global_stats, eps=eps, name="bn")
    if relu:
        y = mx.sym.Activation(y, act_type="relu", name="relu")
    return mx.sym.Pooling(y, kernel=(2, 2), stride=(2, 2), pool_type="max", name="pool")


def pool_ref(y):
    n, c, h, w = y.shape
    return y[:, :, :h // 2 * 2, :w // 2 * 2].reshape(n, c, h // 2, 2, w // 2, 2).max(axis=(3, 5))


def random_params(no_bias, groups=1, cin=4):
    p = {"data": RNG.randn(3, cin, 9, 9), "conv_weight": RNG.randn(6, cin // groups, 3, 3) * 0.3,
         "bn_gamma": RNG.uniform(0.5, 1.5, 6), "bn_beta": RNG.randn(6) * 0.2}
    if not no_bias:
        p["conv_bias"] = RNG.randn(6) * 0.2
    aux = {"bn_moving_mean": RNG.randn(6) * 0.3, "bn_moving_var": RNG.uniform(0.3, 2.0, 6)}
    return p, aux


def reference(p, aux, relu, stride=1, pad=1, groups=1, fix_gamma=False, eps=1e-3):
    c = conv_ref(p["data"], p["conv_weight"], p.get("conv_bias"), stride, pad, groups)
    y = bn_ref(c, p["bn_gamma"], p["bn_beta"], aux["bn_moving_mean"], aux["bn_moving_var"], eps, fix_gamma)
    return pool_ref(np.maximum(y, 0) if relu else y)


def bind(sym, p, aux, dtype, grad=False):
    args = {k: mx.nd.array(v, dtype=dtype) for k, v in p.items()}
    auxs = {k: mx.nd.array(v, dtype=dtype) for k, v in aux.items()}
    if grad:
        grads = {k: mx.nd.zeros(v.shape, dtype=dtype) for k, v in p.items()}
        return sym.bind(mx.cpu(), args, args_grad=grads, aux_states=auxs)
    return sym.bind(mx.cpu(), args, grad_req="null", aux_states=auxs)


def tol(dtype):
    return dict(rtol=1e-4, atol=1e-4) if dtype == "float32" else dict(rtol=1e-10, atol=1e-10)


# ---------------------------------------------------------------- folding happens and matches numpy
@pytest.mark.parametrize("dtype,onednn_on", [("float32", True), ("float32", False), ("float64", True)])
@pytest.mark.parametrize("no_bias,relu", [(True, True), (False, True), (True, False), (False, False)])
def test_folded_step_matches_numpy(dtype, onednn_on, no_bias, relu):
    p, aux = random_params(no_bias)
    with onednn(onednn_on):
        ex = bind(conv_bn_symbol(no_bias, relu), p, aux, dtype)
        y = ex.forward(is_train=False)[0].asnumpy()
    want = "_fused_Convolution_BatchNorm_relu" if relu else "_fused_Convolution_BatchNorm"
    assert forward_ops(ex) == [want, "Pooling"], forward_ops(ex)
    np.testing.assert_allclose(y, reference(p, aux, relu), **tol(dtype))


@pytest.mark.parametrize("kw", [dict(stride=2, pad=0), dict(groups=2), dict(fix_gamma=True),
                                dict(use_global_stats=True, eps=1e-5)])
def test_geometry_and_batchnorm_flags(kw):
    groups = kw.get("groups", 1)
    p, aux = random_params(False, groups=groups)
    ex = bind(conv_bn_symbol(False, True, **kw), p, aux, "float64")
    y = ex.forward(is_train=False)[0].asnumpy()
    assert forward_ops(ex)[0] == "_fused_Convolution_BatchNorm_relu"
    ref_kw = {k: v for k, v in kw.items() if k != "use_global_stats"}
    np.testing.assert_allclose(y, reference(p, aux, True, **ref_kw), rtol=1e-10, atol=1e-10)


def test_same_numbers_as_the_unfused_graph():
    p, aux = random_params(True)
    sym = conv_bn_symbol(True, True)
    y1 = bind(sym, p, aux, "float32").forward(is_train=False)[0].asnumpy()
    with env("MX_EXEC_FUSION", "0"):
        ex0 = bind(sym, p, aux, "float32")
        y0 = ex0.forward(is_train=False)[0].asnumpy()
    assert forward_ops(ex0) == ["Convolution", "BatchNorm", "Activation", "Pooling"]
    np.testing.assert_allclose(y1, y0, rtol=1e-5, atol=1e-5)


# ---------------------------------------------------------------- never stale
@pytest.mark.parametrize("dtype,onednn_on", [("float32", True), ("float32", False), ("float64", True)])
def test_every_parameter_change_between_predicts_is_seen(dtype, onednn_on):
    p, aux = random_params(False)
    with onednn(onednn_on):
        ex = bind(conv_bn_symbol(False, True), p, aux, dtype)
        for step in range(8):
            y = ex.forward(is_train=False)[0].asnumpy()
            np.testing.assert_allclose(y, reference(p, aux, True), err_msg="after change %d" % step, **tol(dtype))
            y2 = ex.forward(is_train=False)[0].asnumpy()  # unchanged: from the cache, same answer
            np.testing.assert_allclose(y2, y, rtol=0, atol=0)
            # one change per round, through a different write path each time
            if step == 0:
                p["conv_weight"] = p["conv_weight"] * -1.5
                ex.arg_dict["conv_weight"][:] = p["conv_weight"]
            elif step == 1:
                p["conv_bias"] = p["conv_bias"] + 0.7
                ex.arg_dict["conv_bias"] += 0.7
            elif step == 2:
                p["bn_gamma"] = RNG.uniform(0.5, 1.5, 6)
                mx.nd.array(p["bn_gamma"], dtype=dtype).copyto(ex.arg_dict["bn_gamma"])
            elif step == 3:
                p["bn_beta"][2] = 3.0
                ex.arg_dict["bn_beta"][2] = 3.0
            elif step == 4:
                aux["bn_moving_mean"] = aux["bn_moving_mean"] * 2 - 0.5
                ex.aux_dict["bn_moving_mean"][:] = aux["bn_moving_mean"]
            elif step == 5:
                aux["bn_moving_var"] = aux["bn_moving_var"] * 3
                mx.nd.elemwise_mul(ex.aux_dict["bn_moving_var"], mx.nd.ones((6,), dtype=dtype) * 3,
                                   out=ex.aux_dict["bn_moving_var"])
            elif step == 6:
                p["data"] = RNG.randn(*p["data"].shape)
                ex.forward(is_train=False, data=mx.nd.array(p["data"], dtype=dtype))


def test_training_mode_forward_uses_batch_statistics_then_predict_uses_the_new_moving_ones():
    p, aux = random_params(False)
    ex = bind(conv_bn_symbol(False, True), p, aux, "float64")
    assert forward_ops(ex)[0] == "_fused_Convolution_BatchNorm_relu"
    ex.forward(is_train=False)  # fold with the first statistics
    y = ex.forward(is_train=True)[0].asnumpy()
    c = conv_ref(p["data"], p["conv_weight"], p["conv_bias"], 1, 1)
    mean, var = c.mean(axis=(0, 2, 3)), c.var(axis=(0, 2, 3))
    np.testing.assert_allclose(y, pool_ref(np.maximum(bn_ref(c, p["bn_gamma"], p["bn_beta"], mean, var, 1e-3), 0)),
                               rtol=1e-10, atol=1e-10)
    aux["bn_moving_mean"] = 0.9 * aux["bn_moving_mean"] + 0.1 * mean
    aux["bn_moving_var"] = 0.9 * aux["bn_moving_var"] + 0.1 * var
    np.testing.assert_allclose(ex.aux_dict["bn_moving_mean"].asnumpy(), aux["bn_moving_mean"], rtol=1e-10)
    np.testing.assert_allclose(ex.aux_dict["bn_moving_var"].asnumpy(), aux["bn_moving_var"], rtol=1e-10)
    y = ex.forward(is_train=False)[0].asnumpy()
    np.testing.assert_allclose(y, reference(p, aux, True), rtol=1e-10, atol=1e-10)


# ---------------------------------------------------------------- when it must not fold
def test_training_binding_keeps_batchnorm():
    p, aux = random_params(False)
    ex = bind(conv_bn_symbol(False, True), p, aux, "float32", grad=True)
    assert "BatchNorm" in forward_ops(ex)


def test_convolution_output_read_elsewhere_is_not_folded():
    p, aux = random_params(False)
    data = mx.sym.Variable("data")
    c = mx.sym.Convolution(data, kernel=(3, 3), num_filter=6, pad=(1, 1), name="conv")
    b = mx.sym.BatchNorm(c, fix_gamma=False, name="bn")
    ex = bind(mx.sym.Group([b, c]), p, aux, "float64")
    outs = ex.forward(is_train=False)
    assert forward_ops(ex) == ["Convolution", "BatchNorm"]
    cr = conv_ref(p["data"], p["conv_weight"], p["conv_bias"], 1, 1)
    np.testing.assert_allclose(outs[1].asnumpy(), cr, rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(outs[0].asnumpy(), bn_ref(cr, p["bn_gamma"], p["bn_beta"], aux["bn_moving_mean"],
                                                         aux["bn_moving_var"], 1e-3), rtol=1e-10, atol=1e-10)


def test_direct_call_of_the_fused_op_is_refused():
    op = getattr(mx.nd, "_fused_Convolution_BatchNorm", None) or getattr(mx.nd._internal,
                                                                         "_fused_Convolution_BatchNorm", None)
    if op is None:
        pytest.skip("the fused op is not exposed to Python")
    z = mx.nd.zeros((1, 1, 3, 3))
    with pytest.raises(mx.MXNetError):
        op(z, mx.nd.zeros((1, 1, 1, 1)), mx.nd.zeros(1), mx.nd.zeros(1), mx.nd.zeros(1), mx.nd.zeros(1),
           mx.nd.zeros(1)).asnumpy()


# ---------------------------------------------------------------- Gluon: predict, set_data, load, train
def gluon_net():
    net = gluon.nn.HybridSequential()
    net.add(gluon.nn.Conv2D(6, 3, padding=1, use_bias=False, in_channels=4), gluon.nn.BatchNorm(in_channels=6),
            gluon.nn.Activation("relu"), gluon.nn.Conv2D(5, 3, in_channels=6), gluon.nn.BatchNorm(in_channels=5))
    net.initialize(mx.init.Normal(0.3))
    for name, prm in net.collect_params().items():
        if name.endswith(("gamma", "running_var")):
            prm.set_data(mx.nd.array(RNG.uniform(0.5, 1.5, prm.shape)))
        elif name.endswith(("beta", "running_mean")):
            prm.set_data(mx.nd.array(RNG.randn(*prm.shape) * 0.3))
    return net


def gluon_ref(net, x):
    ps = {k: v.data().asnumpy().astype(np.float64) for k, v in net.collect_params().items()}
    names = list(ps)
    get = lambda suffix, i: ps[[n for n in names if n.endswith(suffix)][i]]  # noqa: E731
    bn = lambda y, i: bn_ref(y, get("gamma", i), get("beta", i), get("running_mean", i),  # noqa: E731
                             get("running_var", i), 1e-5)
    y = np.maximum(bn(conv_ref(x, get("weight", 0), None, 1, 1), 0), 0)
    return bn(conv_ref(y, get("weight", 1), get("bias", 0), 1, 0), 1)


def test_gluon_predict_sees_set_data_load_parameters_and_training_steps(tmp_path):
    net = gluon_net()
    net.hybridize()
    x = RNG.randn(2, 4, 7, 7)
    xa = mx.nd.array(x)
    np.testing.assert_allclose(net(xa).asnumpy(), gluon_ref(net, x), rtol=1e-4, atol=1e-4)
    # set_data on a BatchNorm parameter
    bn = net[1]
    bn.gamma.set_data(bn.gamma.data() * 2)
    np.testing.assert_allclose(net(xa).asnumpy(), gluon_ref(net, x), rtol=1e-4, atol=1e-4)
    # load_parameters from a file saved by another net
    other = gluon_net()
    other(xa)
    f = str(tmp_path / "p.params")
    other.save_parameters(f)
    net.load_parameters(f)
    np.testing.assert_allclose(net(xa).asnumpy(), gluon_ref(other, x), rtol=1e-4, atol=1e-4)
    # a training step in between (weights by the Trainer, moving statistics by the forward)
    trainer = gluon.Trainer(net.collect_params(), "sgd", {"learning_rate": 0.5})
    before = gluon_ref(net, x)
    with autograd.record():
        loss = (net(xa) ** 2).sum()
    loss.backward()
    trainer.step(1)
    after = gluon_ref(net, x)
    assert np.abs(after - before).max() > 1e-2  # the step really changed the function
    np.testing.assert_allclose(net(xa).asnumpy(), after, rtol=1e-4, atol=1e-4)


def test_module_predict_folds_and_matches_numpy():
    p, aux = random_params(True)
    sym = conv_bn_symbol(True, True)
    mod = mx.mod.Module(sym, data_names=["data"], label_names=None)
    mod.bind(data_shapes=[("data", p["data"].shape)], for_training=False)
    mod.set_params({k: mx.nd.array(v) for k, v in p.items() if k != "data"},
                   {k: mx.nd.array(v) for k, v in aux.items()})
    it = mx.io.NDArrayIter(p["data"].astype(np.float32), batch_size=3)
    y = mod.predict(it).asnumpy()
    np.testing.assert_allclose(y, reference(p, aux, True), rtol=1e-4, atol=1e-4)
    new_aux = dict(aux, bn_moving_var=aux["bn_moving_var"] * 4)
    mod.set_params({k: mx.nd.array(v) for k, v in p.items() if k != "data"},
                   {k: mx.nd.array(v) for k, v in new_aux.items()})
    y = mod.predict(it).asnumpy()
    np.testing.assert_allclose(y, reference(p, new_aux, True), rtol=1e-4, atol=1e-4)
