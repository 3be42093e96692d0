"""Writes print_summary_mxnet.txt: real MXNet 1.9.1's mx.viz.print_summary of a small conv net.
Run with /opt/mxnet-venv/bin/python from this folder. tests/python/test_viz.py builds the same net
with MX and compares the per-layer parameter counts and the total."""
import contextlib
import io


def small_net(sym):
    data = sym.var("data")
    c1 = sym.Convolution(data, kernel=(3, 3), num_filter=8, pad=(1, 1), name="conv1")
    b1 = sym.BatchNorm(c1, fix_gamma=False, name="bn1")
    a1 = sym.Activation(b1, act_type="relu", name="relu1")
    p1 = sym.Pooling(a1, kernel=(2, 2), stride=(2, 2), pool_type="max", name="pool1")
    c2 = sym.Convolution(p1, kernel=(3, 3), num_filter=6, num_group=2, no_bias=True, name="conv2")
    f = sym.Flatten(c2, name="flat")
    fc1 = sym.FullyConnected(f, num_hidden=20, name="fc1")
    fc2 = sym.FullyConnected(fc1, num_hidden=10, no_bias=True, name="fc2")
    return sym.SoftmaxOutput(fc2, name="softmax")


if __name__ == "__main__":
    import mxnet as mx  # here, so that the MX test can import small_net without MXNet
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        mx.viz.print_summary(small_net(mx.sym), shape={"data": (1, 4, 12, 12)})
    with open("print_summary_mxnet.txt", "w") as f:
        f.write(buf.getvalue())
