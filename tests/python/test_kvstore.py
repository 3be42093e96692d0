"""Single-process KVStore ('local', 'device') against numpy; the multi-worker checks are the
dist suite (tests/dist, on mpirun)."""
import numpy as np
import pytest

import mx
from mx import nd
from mx.base import MXNotSupportedError

RS = np.random.RandomState(0)


def rand(*shape):
    return RS.uniform(-1, 1, shape).astype(np.float32)


@pytest.mark.parametrize("kvtype", ["local", "device"])
def test_push_sums_and_pull_copies(kvtype):
    kv = mx.kv.create(kvtype)
    assert kv.type == kvtype and kv.rank == 0 and kv.num_workers == 1
    a0 = rand(2, 3)
    kv.init("a", nd.array(a0))
    o = nd.zeros((2, 3))
    kv.pull("a", out=o)
    np.testing.assert_array_equal(o.asnumpy(), a0)
    vals = [rand(2, 3) for _ in range(3)]
    kv.push("a", [nd.array(v) for v in vals])
    outs = [nd.zeros((2, 3)), nd.zeros((2, 3))]
    kv.pull("a", out=outs)
    for x in outs:
        np.testing.assert_allclose(x.asnumpy(), vals[0] + vals[1] + vals[2], rtol=1e-6)


def test_list_keys_pushpull_and_broadcast():
    kv = mx.kv.create("device")
    kv.init([1, 2], [nd.zeros((4,)), nd.zeros((2, 2))])
    x, y = rand(4), rand(2, 2)
    ax, ay = nd.array(x), nd.array(y)
    kv.pushpull([1, 2], [[ax, ax], ay])  # key 1 gets two arrays: their sum
    np.testing.assert_allclose(ax.asnumpy(), 2 * x, rtol=1e-6)
    np.testing.assert_allclose(ay.asnumpy(), y, rtol=1e-6)
    out = nd.zeros((3,))
    kv.broadcast("b", nd.array([1, 2, 3]), out=out)
    np.testing.assert_array_equal(out.asnumpy(), [1, 2, 3])


def test_allreduce_sums_in_place_and_leaves_the_store():
    kv = mx.kv.create("device")
    s0 = rand(3, 2)
    kv.init("w", nd.array(s0))
    vals = [rand(3, 2) for _ in range(3)]
    arrs = [nd.array(v) for v in vals]
    kv.allreduce("w", arrs)
    for a in arrs:
        np.testing.assert_allclose(a.asnumpy(), vals[0] + vals[1] + vals[2], rtol=1e-6)
    stored = nd.zeros((3, 2))
    kv.pull("w", out=stored)
    np.testing.assert_array_equal(stored.asnumpy(), s0)
    with pytest.raises(mx.base.MXNetError, match="'nokey'"):
        kv.allreduce("nokey", nd.zeros((1,)))
    with pytest.raises(mx.base.MXNetError, match="'w'"):
        kv.allreduce("w", nd.zeros((2, 2)))


def test_optimizer_on_kvstore_matches_numpy_sgd():
    kv = mx.kv.create("local")
    w0, lr, mom = rand(5), 0.1, 0.9
    kv.init(0, nd.array(w0))
    kv.set_optimizer(mx.optimizer.SGD(learning_rate=lr, momentum=mom))
    w, m = w0.astype(np.float64), np.zeros(5)
    out = nd.zeros((5,))
    for _ in range(3):
        g = rand(5)
        kv.pushpull(0, nd.array(g), out=out)
        m = mom * m - lr * g
        w = w + m
        np.testing.assert_allclose(out.asnumpy(), w, rtol=1e-5, atol=1e-6)


def test_gradient_compression_2bit_device():
    kv = mx.kv.create("device")
    kv.set_gradient_compression({"type": "2bit", "threshold": 0.5})
    kv.init("g", nd.zeros((6,)))
    res = np.zeros(6, np.float32)
    for _ in range(3):
        g = rand(6) * 0.9
        v = res + g
        q = np.where(v >= 0.5, 0.5, np.where(v <= -0.5, -0.5, 0.0)).astype(np.float32)
        res = v - q
        x = nd.array(g)
        kv.pushpull("g", x)
        np.testing.assert_allclose(x.asnumpy(), q, atol=1e-7)


def test_python_updater():
    kv = mx.kv.create("local")
    kv._set_updater(lambda key, grad, weight: weight.__isub__(grad * 2))
    kv.init(7, nd.ones((3,)))
    kv.push(7, [nd.ones((3,)), nd.ones((3,))])
    o = nd.zeros((3,))
    kv.pull(7, out=o)
    np.testing.assert_allclose(o.asnumpy(), [-3, -3, -3])


def test_errors():
    kv = mx.kv.create("local")
    kv.init("a", nd.zeros((2,)))
    with pytest.raises(MXNotSupportedError, match="dist_async"):
        mx.kv.create("dist_async")
    with pytest.raises(ValueError, match="unknown kvstore type 'bogus'"):
        mx.kv.create("bogus")
    with pytest.raises(ValueError, match="duplicate init of key 'a'"):
        kv.init("a", nd.zeros((2,)))
    with pytest.raises(ValueError, match="key 'zz' has not been initialised"):
        kv.push("zz", nd.zeros((2,)))
    with pytest.raises(ValueError, match=r"key 'a' was initialised as \(2,\) float32"):
        kv.push("a", nd.zeros((3,)))
    with pytest.raises(ValueError, match="row_ids"):
        kv.row_sparse_pull("a", out=nd.zeros((2,)))
    with pytest.raises(ValueError, match="not supported for kvstore 'local'"):
        kv.set_gradient_compression({"type": "2bit"})
    with pytest.raises(TypeError, match="mix int and str"):
        kv.push([1, "a"], [nd.zeros((2,)), nd.zeros((2,))])
    with pytest.raises(ValueError, match="no optimizer"):
        kv.save_optimizer_states("/tmp/never-written.states")


def test_distributed_sampler_parts_are_disjoint_and_even():
    from mx.gluon.data import DistributedSampler
    parts = [list(DistributedSampler(10, num_parts=3, part_index=i)) for i in range(3)]
    assert [len(p) for p in parts] == [4, 4, 4]
    assert sorted(set(sum(parts, []))) == list(range(10))
    sh = [list(DistributedSampler(10, 2, i, shuffle=True, seed=3)) for i in range(2)]
    assert sorted(sh[0] + sh[1]) == list(range(10))


def test_ndarrayiter_parts():
    x = np.arange(10, dtype=np.float32).reshape(10, 1)
    got = [b.data[0].asnumpy().ravel().tolist()
           for b in mx.io.NDArrayIter(x, batch_size=2, num_parts=2, part_index=1)]
    assert got == [[5, 6], [7, 8], [9, 5]]


def test_launcher_command_line():
    from mx.tools import launch
    args, prog = launch.parse(["-n", "4", "-H", "hosts", "Rscript", "train.R"])
    cmd = launch.build_command(args, prog, "mpirun", is_root=True)
    assert cmd[:4] == ["mpirun", "-n", "4", "--oversubscribe"]
    assert "--allow-run-as-root" in cmd and cmd[cmd.index("--hostfile") + 1] == "hosts"
    assert cmd[-2:] == ["Rscript", "train.R"]
    assert "--allow-run-as-root" not in launch.build_command(args, prog, "mpirun", is_root=False)
