"""Which ops have GPU kernels, checked on any machine (the registry says so without a device):
every op in the graphs of the Gluon recurrent layers (and a small model trained with them) has
one in a CUDA build, as issue 12 requires, and none in a build without CUDA."""
import json

import pytest

import mx
from mx.ndarray.register import _ops

CUDA = mx.runtime.Features().is_enabled("CUDA")


def _has_gpu(name):
    return bool(_ops.op_schema(name)["has_gpu_kernel"])


def _graph_ops(sym):
    return sorted({n["op"] for n in json.loads(sym.tojson())["nodes"] if n["op"] != "null"})


NEW_GPU_OPS = ["RNN", "_backward_RNN", "LayerNorm", "_backward_LayerNorm", "InstanceNorm", "_backward_InstanceNorm",
               "GroupNorm", "_backward_GroupNorm", "L2Normalization", "_backward_L2Normalization", "sort", "argsort",
               "topk", "_take_along_axis", "_scatter_along_axis", "SequenceMask", "SequenceReverse", "SequenceLast",
               "_backward_SequenceLast", "CTCLoss", "_backward_CTCLoss"]


@pytest.mark.parametrize("name", NEW_GPU_OPS)
def test_ops_have_gpu_kernels(name):
    assert _has_gpu(name) == CUDA, name


class _Model(mx.gluon.HybridBlock):
    def __init__(self, layer):
        super().__init__()
        with self.name_scope():
            self.rnn = layer
            self.out = mx.gluon.nn.Dense(3, flatten=True)

    def hybrid_forward(self, F, x):
        return self.out(F.slice_axis(self.rnn(x), axis=1, begin=-1, end=None))


@pytest.mark.parametrize("layer", [
    lambda: mx.gluon.rnn.LSTM(8, num_layers=2, layout="NTC"),
    lambda: mx.gluon.rnn.LSTM(8, num_layers=2, layout="NTC", dropout=0.3, bidirectional=True),
    lambda: mx.gluon.rnn.GRU(8, num_layers=1, layout="NTC"),
    lambda: mx.gluon.rnn.RNN(8, num_layers=2, activation="tanh", layout="NTC"),
    lambda: mx.gluon.rnn.LSTM(8, num_layers=1, layout="NTC", projection_size=4),
], ids=["lstm", "lstm-bi-dropout", "gru", "rnn", "lstmp"])
def test_recurrent_model_graph_runs_on_gpu(layer):
    net = _Model(layer())
    net.initialize()
    loss = mx.gluon.loss.SoftmaxCrossEntropyLoss()
    data, label = mx.sym.var("data"), mx.sym.var("label")
    ops = _graph_ops(loss(net(data), label))
    assert "RNN" in ops
    missing = [o for o in ops if _has_gpu(o) != CUDA]
    assert not missing, "ops of the graph without a GPU kernel: %s" % missing


@pytest.mark.parametrize("name", ["resnet18_v1", "mobilenetv2_1.0"])
def test_model_zoo_graph_runs_on_gpu(name):
    # the nets tests/gpu/test_gpu_models.py runs on the GPU, with a loss for training
    net = mx.gluon.model_zoo.vision.get_model(name, classes=10)
    net.initialize()
    loss = mx.gluon.loss.SoftmaxCrossEntropyLoss()
    ops = _graph_ops(loss(net(mx.sym.var("data")), mx.sym.var("label")))
    assert "Convolution" in ops and "BatchNorm" in ops
    missing = [o for o in ops if _has_gpu(o) != CUDA]
    assert not missing, "ops of the graph without a GPU kernel: %s" % missing


LOSSES = ["CTCLoss", "CosineEmbeddingLoss", "HingeLoss", "HuberLoss", "KLDivLoss", "L1Loss", "L2Loss", "LogisticLoss",
          "PoissonNLLLoss", "SigmoidBCELoss", "SoftmaxCrossEntropyLoss", "SquaredHingeLoss", "TripletLoss"]


@pytest.mark.parametrize("name", LOSSES)
def test_gluon_loss_graph_runs_on_gpu(name):
    extra = [mx.sym.var("third")] if name in ("CosineEmbeddingLoss", "TripletLoss") else []
    sym = getattr(mx.gluon.loss, name)()(mx.sym.var("pred"), mx.sym.var("label"), *extra)
    ops = _graph_ops(sym)
    missing = [o for o in ops if _has_gpu(o) != CUDA]
    assert ops and not missing, "ops of %s without a GPU kernel: %s" % (name, missing)


def test_every_model_zoo_net_runs_on_gpu():
    vision = mx.gluon.model_zoo.vision
    bad = {}
    for name in sorted(vision._models):
        ops = _graph_ops(vision.get_model(name, classes=10)(mx.sym.var("data")))
        missing = [o for o in ops if _has_gpu(o) != CUDA]
        if missing:
            bad[name] = missing
    assert len(vision._models) >= 30 and not bad, bad
