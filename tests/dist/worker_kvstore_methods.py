"""Run by tests/dist/test_dist_kvstore.py under mpirun (1-3 workers): every KVStore method of
a 'dist_sync' store against a numpy reference. Each worker's inputs come from a seed made of
its rank, so every worker can compute what the others pushed. Prints 'WORKER-OK <rank>'."""
import os
import sys
import tempfile

import numpy as np

import mx
from mx import nd

TYPE = sys.argv[1] if len(sys.argv) > 1 else "dist_sync"
kv = mx.kv.create(TYPE)
rank, size = kv.rank, kv.num_workers
assert size == int(os.environ["OMPI_COMM_WORLD_SIZE"]), (size, os.environ["OMPI_COMM_WORLD_SIZE"])
assert rank == int(os.environ["OMPI_COMM_WORLD_RANK"])
assert kv.type == TYPE
assert mx.kvstore.worker_rank() == rank and mx.kvstore.worker_count() == size


def data(r, tag, shape, dtype=np.float32):
    seed = (r * 1000 + sum(map(ord, tag))) % (2 ** 31)
    rs = np.random.RandomState(seed)
    if np.issubdtype(dtype, np.integer):
        return rs.randint(-50, 50, size=shape).astype(dtype)
    return rs.uniform(-1, 1, size=shape).astype(dtype)


def all_ranks(tag, shape, dtype=np.float32):
    return [data(r, tag, shape, dtype) for r in range(size)]


def close(got, want, tol=1e-5, what=""):
    got = got.asnumpy() if hasattr(got, "asnumpy") else got
    assert got.shape == want.shape, (what, got.shape, want.shape)
    err = np.max(np.abs(got.astype(np.float64) - want.astype(np.float64))) if got.size else 0
    assert err <= tol, "%s: max error %g > %g" % (what, err, tol)


# init: rank 0's value wins everywhere (each worker passes a different one)
shape = (3, 4)
kv.init(3, nd.array(data(rank, "init3", shape)))
kv.init("w", nd.array(data(rank, "initw", shape)))
out = nd.zeros(shape)
kv.pull(3, out=out)
close(out, data(0, "init3", shape), 0, "init/pull int key")
kv.pull("w", out=out)
close(out, data(0, "initw", shape), 0, "init/pull str key")

# push: sum over the pushed list (device semantics) and over workers; stored value replaced
vals = [nd.array(data(rank, "p%d" % i, shape)) for i in range(2)]
kv.push(3, vals)
ref = sum(data(r, "p0", shape) + data(r, "p1", shape) for r in range(size))
outs = [nd.zeros(shape), nd.zeros(shape)]
kv.pull(3, out=outs)
for o in outs:
    close(o, ref, 1e-5, "push list + pull to list")

# pushpull in place (out=None) and into another array; several keys in one call
kv.init([10, 11], [nd.zeros((5,)), nd.zeros((2, 2))])
a = nd.array(data(rank, "a", (5,)))
b = nd.array(data(rank, "b", (2, 2)))
kv.pushpull([10, 11], [a, b])
close(a, sum(all_ranks("a", (5,))), 1e-5, "pushpull in place key 10")
close(b, sum(all_ranks("b", (2, 2))), 1e-5, "pushpull in place key 11")
c = nd.array(data(rank, "c", (5,)))
o = nd.zeros((5,))
kv.pushpull(10, c, out=o)
close(o, sum(all_ranks("c", (5,))), 1e-5, "pushpull out=")
close(c, data(rank, "c", (5,)), 0, "pushpull out= leaves the value alone")

# allreduce (Horovod's, what Trainer calls): two arrays per key and all workers summed in place,
# over two keys in one call; the stored values are not touched (key 10 still holds the pushpull
# sum of "c" from above)
a2 = [nd.array(data(rank, "ar%d" % i, (5,))) for i in range(2)]
b2 = nd.array(data(rank, "br", (2, 2)))
kv.allreduce([10, 10, 11], a2 + [b2])
want = sum(data(r, "ar0", (5,)) + data(r, "ar1", (5,)) for r in range(size))
close(a2[0], want, 1e-5, "allreduce array 0")
close(a2[1], want, 1e-5, "allreduce array 1")
close(b2, sum(all_ranks("br", (2, 2))), 1e-5, "allreduce key 11")
stored = nd.zeros((5,))
kv.pull(10, out=stored)
close(stored, sum(all_ranks("c", (5,))), 1e-5, "allreduce leaves the store alone")

# fusion buckets: many keys of mixed dtypes, tiny buckets and one large bucket give the same sums
keys = list(range(100, 130))
dtypes = [np.float32, np.float64, np.int32] * 10
shapes = [(i % 7 + 1, 3) for i in range(30)]
kv.init(keys, [nd.zeros(s, dtype=d) for s, d in zip(shapes, dtypes)])
for bucket in (64, 1 << 20):
    kv.set_bucket_size(bucket)
    arrs = [nd.array(data(rank, "k%d" % k, s, d), dtype=d) for k, s, d in zip(keys, shapes, dtypes)]
    kv.pushpull(keys, arrs)
    for k, s, d, x in zip(keys, shapes, dtypes, arrs):
        assert x.dtype == d
        close(x, sum(all_ranks("k%d" % k, s, d)), 1e-9 if d != np.float32 else 1e-5,
              "bucket %d key %d" % (bucket, k))
kv.set_bucket_size(25 << 20)

# a large key (20 MiB + 12 bytes, in huge-page backed storage): pushpull in place leaves the
# sum in the array and in the store; pushpull into another array leaves the value alone
NBIG = (5 << 20) + 3
kv.init("big", nd.zeros((NBIG,)))
big = nd.array(data(rank, "big", (NBIG,)))
want_big = sum(all_ranks("big", (NBIG,)))
kv.pushpull("big", big)
close(big, want_big, 1e-5, "large pushpull in place")
pulled = nd.zeros((NBIG,))
kv.pull("big", out=pulled)
close(pulled, want_big, 1e-5, "large pushpull: the store holds the sum")
src = nd.array(data(rank, "big2", (NBIG,)))
kv.pushpull("big", src, out=pulled)
close(pulled, sum(all_ranks("big2", (NBIG,))), 1e-5, "large pushpull out=")
close(src, data(rank, "big2", (NBIG,)), 0, "large pushpull out= leaves the value alone")
del big, pulled, src, want_big

# broadcast: differing initial parameters become rank 0's
p = nd.array(data(rank, "param", (4,)))
kv.broadcast("param", p, out=p)
close(p, data(0, "param", (4,)), 0, "broadcast")

# set_optimizer: SGD with momentum runs on the kvstore with the summed gradient
lr, mom, wd = 0.1, 0.9, 0.01
w0 = data(0, "opt_w", (6,))
kv.init(20, nd.array(data(rank, "opt_w", (6,))))
kv.set_optimizer(mx.optimizer.SGD(learning_rate=lr, momentum=mom, wd=wd, rescale_grad=0.5))
w, m = w0.astype(np.float64), np.zeros(6)
weight = nd.zeros((6,))
for step in range(3):
    g = nd.array(data(rank, "opt_g%d" % step, (6,)))
    kv.pushpull(20, g, out=weight)
    gsum = sum(all_ranks("opt_g%d" % step, (6,))).astype(np.float64) * 0.5
    m = mom * m - lr * (gsum + wd * w)
    w = w + m
    close(weight, w, 1e-5, "sgd momentum on kvstore step %d" % step)

# save/load optimizer states: after reloading the step-3 states, a step starts from the saved
# momentum (not from the momentum of the step taken after saving)
fd, path = tempfile.mkstemp(suffix=".states")
os.close(fd)
kv.save_optimizer_states(path)
m_saved = m.copy()
g3 = sum(all_ranks("opt_g3", (6,))).astype(np.float64) * 0.5
kv.pushpull(20, nd.array(data(rank, "opt_g3", (6,))), out=weight)
m = mom * m - lr * (g3 + wd * w)
w = w + m
close(weight, w, 1e-5, "sgd step 4")
kv.load_optimizer_states(path)
os.unlink(path)
kv.pushpull(20, nd.array(data(rank, "opt_g3", (6,))), out=weight)
m = mom * m_saved - lr * (g3 + wd * w)
w = w + m
close(weight, w, 1e-5, "sgd step after load_optimizer_states")

# barrier
kv.barrier()

# gradient compression '2bit' (threshold 0.5) with error feedback, against numpy
kvc = mx.kv.create(TYPE)
kvc.set_gradient_compression({"type": "2bit", "threshold": 0.5})
kvc.init("g", nd.zeros((8,)))
res = [np.zeros(8, np.float32) for _ in range(size)]
for step in range(3):
    grads = [data(r, "cg%d" % step, (8,)) * 0.8 for r in range(size)]
    want = np.zeros(8, np.float32)
    for r in range(size):
        v = res[r] + grads[r]
        q = np.where(v >= 0.5, 0.5, np.where(v <= -0.5, -0.5, 0.0)).astype(np.float32)
        res[r] = v - q
        want += q
    x = nd.array(grads[rank])
    sent = kvc._config()["payload_bytes"]
    kvc.pushpull("g", x)
    close(x, want, 1e-6, "2bit compression step %d" % step)
    if size > 1:  # 8 values travel as 2-bit codes: 2 bytes, not 32
        assert kvc._config()["payload_bytes"] - sent == 2, kvc._config()["payload_bytes"] - sent

# 2bit on a larger key with a threshold that is not a power of two, pushed then pulled: every
# worker holds the same sum, 1/16 of the float32 bytes travel, the residual carries over
kvc.set_gradient_compression({"type": "2bit", "threshold": 0.3})
n = 1001
kvc.init("big", nd.zeros((n,)))
res = [np.zeros(n, np.float32) for _ in range(size)]
for step in range(2):
    grads = [data(r, "big%d" % step, (n,)) for r in range(size)]
    want = np.zeros(n, np.float32)
    for r in range(size):
        v = res[r] + grads[r]
        q = np.where(v >= np.float32(0.3), np.float32(0.3),
                     np.where(v <= np.float32(-0.3), np.float32(-0.3), np.float32(0))).astype(np.float32)
        res[r] = v - q
        want += q
    sent = kvc._config()["payload_bytes"]
    kvc.push("big", nd.array(grads[rank]))
    if size > 1:
        assert kvc._config()["payload_bytes"] - sent == (n + 3) // 4
    out_big = nd.zeros((n,))
    kvc.pull("big", out=out_big)
    close(out_big, want, 1e-6, "2bit compression, key of %d values, step %d" % (n, step))

# row_sparse_pull on a dist store: the stored value's listed rows, the same on every worker
kvr = mx.kv.create(TYPE)
table = data(0, "rsp_table", (5, 3))
kvr.init("emb", nd.array(table))
got = nd.sparse.zeros("row_sparse", (5, 3))
kvr.row_sparse_pull("emb", out=got, row_ids=nd.array([1, 3]))
assert got.stype == "row_sparse"
want = np.zeros((5, 3), np.float32)
want[[1, 3]] = table[[1, 3]]
close(got.tostype("default"), want, 0, "row_sparse_pull of rows 1 and 3")

# row_sparse pushes: summed as row_sparse over the workers (the union of their rows). Few rows
# ('few': P x 3 < 100 rows) travel by allgather; many ('many') by a dense allreduce and a row
# mask. With an optimizer on the store, lazy sgd updates only the union's rows.
def rsp_rows(r, tag, nrows, k):
    rs = np.random.RandomState((r * 7919 + sum(map(ord, tag))) % (2 ** 31))
    return np.sort(rs.choice(nrows, k, replace=False))


for tag, nrows, k in [("few", 100, 3), ("many", 6, 4)]:
    want = np.zeros((nrows, 2), np.float32)
    rows = set()
    for r in range(size):
        d = np.zeros((nrows, 2), np.float32)
        rr = rsp_rows(r, tag, nrows, k)
        d[rr] = data(r, tag, (k, 2))
        want += d
        rows.update(rr.tolist())
        if r == rank:
            mine = d
    rows = sorted(rows)
    kvs = mx.kv.create(TYPE)
    kvs.init(tag, nd.zeros((nrows, 2)))
    got = nd.sparse.zeros("row_sparse", (nrows, 2))
    kvs.pushpull(tag, nd.array(mine).tostype("row_sparse"), out=got)
    assert got.stype == "row_sparse"
    assert got.indices.asnumpy().tolist() == rows, (tag, got.indices.asnumpy(), rows)
    close(got.tostype("default"), want, 1e-5, "row_sparse push of key %s" % tag)
    kvo = mx.kv.create(TYPE)
    kvo.set_optimizer(mx.optimizer.create("sgd", learning_rate=0.5, wd=0.1))
    w0 = data(0, tag + "w", (nrows, 2))
    key = 100 + nrows  # an int key: a name not ending in _weight would get no weight decay
    kvo.init(key, nd.array(w0))
    kvo.push(key, nd.array(mine).tostype("row_sparse"))
    outw = nd.zeros((nrows, 2))
    kvo.pull(key, out=outw)
    expect = w0.copy()
    expect[rows] = w0[rows] - 0.5 * (want[rows] + 0.1 * w0[rows])
    close(outw, expect, 1e-5, "lazy sgd on the store, key %s" % tag)

# allreduce of row_sparse arrays (a Trainer's sparse gradients on a dist store): two arrays per
# key summed in place over the list and the workers as row_sparse (the union of their rows),
# through the allgather path ('arfew') and the dense allreduce + row mask ('armany').
for tag, nrows, k in [("arfew", 100, 3), ("armany", 6, 4)]:
    want = np.zeros((nrows, 2), np.float32)
    rows, mine = set(), []
    for r in range(size):
        for i in range(2):
            d = np.zeros((nrows, 2), np.float32)
            rr = rsp_rows(r, "%s%d" % (tag, i), nrows, k)
            d[rr] = data(r, "%s%d" % (tag, i), (k, 2))
            want += d
            rows.update(rr.tolist())
            if r == rank:
                mine.append(nd.array(d).tostype("row_sparse"))
    rows = sorted(rows)
    kva = mx.kv.create(TYPE)
    kva.init(tag, nd.zeros((nrows, 2)))
    kva.allreduce([tag, tag], mine)
    for i, got in enumerate(mine):
        assert got.stype == "row_sparse", (tag, i, got.stype)
        assert got.indices.asnumpy().tolist() == rows, (tag, i, got.indices.asnumpy(), rows)
        close(got.tostype("default"), want, 1e-5, "row_sparse allreduce of key %s, array %d" % (tag, i))

# errors: uninitialised key, dist_async
for fn, exc, words in [
        (lambda: kv.pull(999, out=out), ValueError, "999"),
        (lambda: mx.kv.create("dist_async"), mx.base.MXNotSupportedError, "dist_async")]:
    try:
        fn()
    except exc as e:
        assert words in str(e), str(e)
    else:
        raise AssertionError("no error for %s" % words)

kv.barrier()
print("WORKER-OK %d" % rank, flush=True)
