"""Peak memory of the graph executor with and without memory planning (MX only: the number is
what the plan allocates vs one buffer per value), for a deep MLP and LeNet, training and
inference.

    python benchmarks/memory_planning.py
"""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "python"))
import mx  # noqa: E402


def deep_mlp(depth=16, width=1024):
    h = mx.sym.var("data")
    for i in range(depth):
        h = mx.sym.Activation(mx.sym.FullyConnected(h, num_hidden=width, name="fc%d" % i), act_type="relu")
    return mx.sym.SoftmaxOutput(mx.sym.FullyConnected(h, num_hidden=10, name="out"), name="softmax")


def lenet():
    d = mx.sym.var("data")
    h = mx.sym.Pooling(mx.sym.Activation(mx.sym.Convolution(d, kernel=(5, 5), num_filter=20), act_type="tanh"),
                       kernel=(2, 2), stride=(2, 2), pool_type="max")
    h = mx.sym.Pooling(mx.sym.Activation(mx.sym.Convolution(h, kernel=(5, 5), num_filter=50), act_type="tanh"),
                       kernel=(2, 2), stride=(2, 2), pool_type="max")
    h = mx.sym.Activation(mx.sym.FullyConnected(mx.sym.Flatten(h), num_hidden=500), act_type="tanh")
    return mx.sym.SoftmaxOutput(mx.sym.FullyConnected(h, num_hidden=10), name="softmax")


def main():
    rows = []
    for name, sym, shape in [("deep MLP 16x1024", deep_mlp(), (256, 1024)), ("LeNet", lenet(), (256, 1, 28, 28))]:
        for mode in ("null", "write"):
            ex = sym.simple_bind(mx.cpu(), grad_req={n: mode for n in sym.list_arguments() if n != "data"},
                                 data=shape)
            planned, unplanned = ex.memory_bytes()
            rows.append((name, "training" if mode == "write" else "inference", planned, unplanned))
    print("%-18s %-10s %12s %12s %7s" % ("network", "mode", "planned MB", "unplanned MB", "ratio"))
    for name, mode, p, u in rows:
        print("%-18s %-10s %12.1f %12.1f %6.2fx" % (name, mode, p / 2**20, u / 2**20, u / max(p, 1)))


if __name__ == "__main__":
    main()
