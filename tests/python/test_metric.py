"""mx.metric: each metric against numpy, composite, custom, global stats, bad inputs."""
import math

import numpy as np
import pytest

import mx

rng = np.random.RandomState(0)


def nd(x, dtype=np.float32):
    return mx.nd.array(np.asarray(x, dtype=dtype))


def softmax_batch(n, c):
    p = rng.rand(n, c).astype(np.float32) + 0.01
    return p / p.sum(axis=1, keepdims=True)


def test_accuracy():
    pred = softmax_batch(20, 4)
    label = rng.randint(0, 4, 20).astype(np.float32)
    m = mx.metric.create("acc")
    m.update([nd(label)], [nd(pred)])
    name, val = m.get()
    assert name == "accuracy"
    assert val == pytest.approx((pred.argmax(1) == label).mean())
    # label with a trailing dim of 1, and predicted classes given directly
    m2 = mx.metric.Accuracy()
    m2.update(nd(label.reshape(20, 1)), nd(pred))
    m2.update(nd(label), nd(pred.argmax(1)))
    assert m2.get()[1] == pytest.approx((pred.argmax(1) == label).mean())
    assert m2.num_inst == 40
    # axis
    m3 = mx.metric.Accuracy(axis=0)
    m3.update([nd(label[:4])], [nd(pred[:4].T)])
    assert m3.get()[1] == pytest.approx((pred[:4].argmax(1) == label[:4]).mean())


def test_top_k():
    pred = softmax_batch(30, 6)
    label = rng.randint(0, 6, 30)
    m = mx.metric.create("top_k_accuracy", top_k=3)
    m.update([nd(label)], [nd(pred)])
    top = np.argsort(-pred, axis=1)[:, :3]
    expect = np.mean([label[i] in top[i] for i in range(30)])
    assert m.get() == ("top_k_accuracy_3", pytest.approx(expect))
    with pytest.raises(ValueError):
        mx.metric.TopKAccuracy(top_k=1)


def f1_ref(label, pred):
    pl = pred.argmax(1)
    tp = np.sum((pl == 1) & (label == 1))
    fp = np.sum((pl == 1) & (label != 1))
    fn = np.sum((pl != 1) & (label == 1))
    p = tp / (tp + fp) if tp + fp else 0.0
    r = tp / (tp + fn) if tp + fn else 0.0
    return 2 * p * r / (p + r) if p + r else 0.0


def test_f1_macro_micro():
    batches = [(rng.randint(0, 2, 16), softmax_batch(16, 2)) for _ in range(3)]
    macro, micro = mx.metric.F1(), mx.metric.F1(average="micro")
    for l, p in batches:
        macro.update([nd(l)], [nd(p)])
        micro.update([nd(l)], [nd(p)])
    assert macro.get()[1] == pytest.approx(np.mean([f1_ref(l, p) for l, p in batches]))
    L = np.concatenate([b[0] for b in batches])
    P = np.concatenate([b[1] for b in batches])
    assert micro.get()[1] == pytest.approx(f1_ref(L, P))
    assert micro.num_inst == 48
    with pytest.raises(ValueError, match="binary"):
        macro.update([nd([0, 1, 2])], [nd(softmax_batch(3, 3))])


def test_mcc():
    l, p = rng.randint(0, 2, 40), softmax_batch(40, 2)
    m = mx.metric.create("mcc")
    m.update([nd(l)], [nd(p)])
    pl = p.argmax(1)
    tp = np.sum((pl == 1) & (l == 1)); tn = np.sum((pl == 0) & (l == 0))
    fp = np.sum((pl == 1) & (l == 0)); fn = np.sum((pl == 0) & (l == 1))
    expect = (tp * tn - fp * fn) / math.sqrt((tp + fp) * (tp + fn) * (tn + fp) * (tn + fn))
    assert m.get()[1] == pytest.approx(expect)


def test_regression_metrics():
    batches = [(rng.randn(10).astype(np.float32), rng.randn(10).astype(np.float32)) for _ in range(3)]
    mae, mse, rmse = (mx.metric.create(n) for n in ("mae", "mse", "rmse"))
    for l, p in batches:
        for m in (mae, mse, rmse):
            m.update([nd(l)], [nd(p)])
    # MXNet 1.x: the mean over updates of the per-batch value
    assert mae.get()[1] == pytest.approx(np.mean([np.abs(l - p).mean() for l, p in batches]), rel=1e-6)
    assert mse.get()[1] == pytest.approx(np.mean([((l - p) ** 2).mean() for l, p in batches]), rel=1e-6)
    assert rmse.get()[1] == pytest.approx(np.mean([np.sqrt(((l - p) ** 2).mean()) for l, p in batches]),
                                          rel=1e-6)
    assert mae.num_inst == 3
    # 1-D label against a (N, 1) prediction
    l, p = rng.randn(8).astype(np.float32), rng.randn(8, 1).astype(np.float32)
    m = mx.metric.MSE()
    m.update(nd(l), nd(p))
    assert m.get()[1] == pytest.approx(((l.reshape(8, 1) - p) ** 2).mean(), rel=1e-6)


def test_cross_entropy_nll():
    pred = softmax_batch(12, 5)
    label = rng.randint(0, 5, 12)
    expect = -np.log(pred[np.arange(12), label] + 1e-12).mean()
    for name, disp in (("ce", "cross-entropy"), ("nll_loss", "nll-loss")):
        m = mx.metric.create(name)
        m.update([nd(label)], [nd(pred)])
        assert m.get() == (disp, pytest.approx(expect, rel=1e-5))
        assert m.num_inst == 12


def test_perplexity():
    pred = softmax_batch(16, 7)
    label = rng.randint(0, 7, 16).astype(np.float32)
    m = mx.metric.Perplexity(ignore_label=None)
    m.update([nd(label)], [nd(pred)])
    expect = math.exp(-np.log(pred[np.arange(16), label.astype(int)]).mean())
    assert m.get()[1] == pytest.approx(expect, rel=1e-5)
    # ignore_label: those positions neither count nor contribute
    m = mx.metric.create("perplexity", ignore_label=0)
    m.update([nd(label)], [nd(pred)])
    keep = label != 0
    expect = math.exp(-np.log(pred[np.arange(16), label.astype(int)][keep]).mean())
    assert m.get()[1] == pytest.approx(expect, rel=1e-5)
    assert m.num_inst == keep.sum()


def test_loss_metric():
    a, b = rng.rand(4, 3).astype(np.float32), rng.rand(5).astype(np.float32)
    m = mx.metric.Loss()
    m.update(None, [nd(a), nd(b)])
    assert m.get()[1] == pytest.approx((a.sum() + b.sum()) / 17, rel=1e-6)


def test_pearson():
    l, p = rng.randn(50).astype(np.float32), rng.randn(50).astype(np.float32)
    m = mx.metric.create("pearsonr")
    m.update([nd(l)], [nd(p)])
    assert m.get()[1] == pytest.approx(np.corrcoef(p, l)[0, 1], rel=1e-5)
    micro = mx.metric.PearsonCorrelation(average="micro")
    micro.update([nd(l[:20])], [nd(p[:20])])
    micro.update([nd(l[20:])], [nd(p[20:])])
    assert micro.get()[1] == pytest.approx(np.corrcoef(p, l)[0, 1], rel=1e-5)


def test_reset_local_global_and_nan():
    m = mx.metric.Accuracy()
    assert math.isnan(m.get()[1])
    m.update([nd([1, 0])], [nd([[0, 1], [0, 1]])])  # 1 of 2
    m.reset_local()
    m.update([nd([1, 1])], [nd([[0, 1], [0, 1]])])  # 2 of 2
    assert m.get()[1] == 1.0
    assert m.get_global()[1] == pytest.approx(0.75)
    assert m.get_global_name_value() == [("accuracy", pytest.approx(0.75))]
    m.reset()
    assert math.isnan(m.get()[1]) and m.num_inst == 0 and m.global_num_inst == 0


def test_composite_and_create():
    pred = softmax_batch(10, 3)
    label = rng.randint(0, 3, 10)
    comp = mx.metric.create(["acc", "ce", mx.metric.TopKAccuracy(top_k=2)])
    assert isinstance(comp, mx.metric.CompositeEvalMetric)
    comp.update([nd(label)], [nd(pred)])
    names, values = comp.get()
    assert names == ["accuracy", "cross-entropy", "top_k_accuracy_2"]
    assert values[0] == pytest.approx((pred.argmax(1) == label).mean())
    assert values[1] == pytest.approx(-np.log(pred[np.arange(10), label] + 1e-12).mean(), rel=1e-5)
    assert dict(comp.get_name_value())["accuracy"] == values[0]
    comp.reset()
    assert all(math.isnan(v) for v in comp.get()[1])
    assert comp.get_metric(0).name == "accuracy"
    with pytest.raises(ValueError):
        comp.get_metric(5)


def test_custom_metric():
    def mean_abs(label, pred):
        return np.abs(label - pred).mean()

    m = mx.metric.create(mean_abs)
    l, p = rng.rand(6).astype(np.float32), rng.rand(6).astype(np.float32)
    m.update([nd(l)], [nd(p)])
    assert m.get() == ("mean_abs", pytest.approx(np.abs(l - p).mean()))
    m2 = mx.metric.np(lambda l, p: (float(np.sum(l == p)), l.size))
    m2.update([nd([1, 2, 3])], [nd([1, 0, 3])])
    assert m2.get()[1] == pytest.approx(2 / 3)
    assert m2.name.startswith("custom(")

    class Count(mx.metric.EvalMetric):
        def __init__(self):
            super().__init__("count")

        def update(self, labels, preds):
            self.sum_metric += len(preds)
            self.num_inst += 1

    c = Count()
    c.update([], [1, 2])
    assert c.get() == ("count", 2.0)


def test_numpy_inputs_and_int_labels():
    m = mx.metric.Accuracy()
    m.update([np.array([0, 1, 1], dtype=np.int32)], [np.array([[0.9, 0.1], [0.2, 0.8], [0.7, 0.3]])])
    assert m.get()[1] == pytest.approx(2 / 3)


def test_bad_inputs():
    pred = nd(softmax_batch(4, 3))
    with pytest.raises(ValueError, match="does not match"):
        mx.metric.Accuracy().update([nd([0, 1, 2, 0]), nd([0, 1, 2, 0])], [pred])
    with pytest.raises(ValueError):
        mx.metric.Accuracy().update([nd([0, 1, 2])], [pred])  # 3 labels, 4 predictions
    with pytest.raises(ValueError):
        mx.metric.MSE().update([nd(np.zeros((4, 3)))], [nd(np.zeros((4, 2)))])
    with pytest.raises(ValueError):
        mx.metric.CrossEntropy().update([nd([0, 1])], [pred])
    with pytest.raises(ValueError):
        mx.metric.CrossEntropy().update([nd([0, 1, 5, 0])], [pred])  # class out of range
    with pytest.raises(ValueError):
        mx.metric.Perplexity(None).update([nd([0, 1, 2])], [pred])
    with pytest.raises(ValueError):
        mx.metric.PearsonCorrelation().update([nd([1, 2, 3])], [nd([1, 2])])
    with pytest.raises(ValueError, match="unknown metric"):
        mx.metric.create("nosuchmetric")
    with pytest.raises(ValueError):
        mx.metric.F1(average="weird")
    with pytest.raises(TypeError):
        mx.metric.Accuracy().update("labels", [pred])
