"""mx.viz: print_summary matches real MXNet 1.9.1's printout (tests/data/viz fixture, made by
make_print_summary.py) and parameter counts from numpy shapes; plot_network's Digraph has the
graph's nodes and edges, and renders to PNG with Graphviz's dot (compared by structure)."""
import contextlib
import importlib.util
import io
import os
import re
import shutil

import numpy as np
import pytest

import mx

HERE = os.path.dirname(os.path.abspath(__file__))
DATA = os.path.join(HERE, "..", "data", "viz")


def _small_net():
    spec = importlib.util.spec_from_file_location("make_ps", os.path.join(DATA, "make_print_summary.py"))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)  # defines small_net(sym) only; mxnet is imported under __main__
    return mod.small_net(mx.sym)


def test_print_summary_matches_mxnet():
    net = _small_net()
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        mx.viz.print_summary(net, shape={"data": (1, 4, 12, 12)})
    with open(os.path.join(DATA, "print_summary_mxnet.txt")) as f:
        expected = f.read()
    assert buf.getvalue() == expected
    # the total equals the sizes of the learnable arguments computed from numpy shapes
    arg_shapes, _, _ = net.infer_shape(data=(1, 4, 12, 12))
    learnable = sum(int(np.prod(s)) for n, s in zip(net.list_arguments(), arg_shapes)
                    if n not in ("data", "softmax_label"))
    assert re.search(r"Total params: (\d+)", buf.getvalue()).group(1) == str(learnable)


def test_print_summary_rejects_non_symbols_and_bad_shapes():
    with pytest.raises(TypeError, match="Symbol"):
        mx.viz.print_summary("net")
    with pytest.raises(Exception):
        mx.viz.print_summary(_small_net(), shape={"data": (1, 4)})


def _edges(source):
    return set(re.findall(r"^\s*(\w+) -> (\w+)", source, re.M))


def _labels(source):
    return {m[0]: m[1] or m[2] for m in
            re.findall(r'^\t(\w+) \[label=(?:"([^"]*)"|(\S+))', source, re.M)}


def test_plot_network_structure():
    net = _small_net()
    g = mx.viz.plot_network(net, title="small", shape={"data": (1, 4, 12, 12)})
    src = g.source
    assert g.name == "small"
    expected = {("conv1", "data"), ("bn1", "conv1"), ("relu1", "bn1"), ("pool1", "relu1"),
                ("conv2", "pool1"), ("flat", "conv2"), ("fc1", "flat"), ("fc2", "fc1"),
                ("softmax", "fc2"), ("softmax", "softmax_label")}
    assert _edges(src) == expected  # weights, biases and BatchNorm statistics hidden
    labels = _labels(src)
    assert labels["conv1"] == "Convolution\n3x3/1, 8" and labels["fc1"] == "FullyConnected\n20"
    assert labels["pool1"] == "Pooling\nmax, 2x2/2x2" and labels["relu1"] == "Activation\nrelu"
    assert labels["data"] == "data" and labels["bn1"] == "bn1"
    assert re.search(r'conv2 -> pool1 \[.*label="8x6x6"', src)
    shown = mx.viz.plot_network(net, hide_weights=False)
    assert "conv1_weight" not in _edges(shown.source)  # drawn as bare ovals, as MXNet does


@pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz's dot is not installed")
def test_plot_network_renders_png(tmp_path, monkeypatch):
    # dot is not ours: under make test-asan it must not inherit the sanitizer runtime
    monkeypatch.delenv("LD_PRELOAD", raising=False)
    net = _small_net()
    g = mx.viz.plot_network(net, title="small", save_format="png", shape={"data": (1, 4, 12, 12)})
    path = g.render(filename="small", directory=str(tmp_path), cleanup=True)
    with open(path, "rb") as f:
        assert f.read(8) == b"\x89PNG\r\n\x1a\n"
    # what dot laid out: the same nodes and edges (its 'plain' output), not pixels
    plain = g.pipe(format="plain").decode()
    nodes = {line.split()[1] for line in plain.splitlines() if line.startswith("node ")}
    edges = {tuple(line.split()[1:3]) for line in plain.splitlines() if line.startswith("edge ")}
    assert nodes == {"data", "conv1", "bn1", "relu1", "pool1", "conv2", "flat", "fc1", "fc2",
                     "softmax", "softmax_label"}
    assert edges == _edges(g.source)
