"""Data-parallel training of a small MLP, run by tests/dist/test_dist_train.py.

Under mpirun with --kvstore dist_sync, worker r trains on part r of the data (NDArrayIter
num_parts/part_index) with batch G/N; the reference is one process (--kvstore local) training
on the concatenated batches (--parts N reorders the data so its batch t is the workers' batches
t, concatenated). Each worker starts from different random parameters (seed 100 + rank): the
kvstore's broadcast from rank 0 must make them equal. Writes the final parameters to
<out>.<rank>.npz. --save-at K writes a rank-0 checkpoint after K steps; --resume PREFIX continues
from such a checkpoint in one process."""
import argparse
import json

import numpy as np

import mx
from mx import autograd, gluon, nd

GLOBAL_BATCH, IN_DIM, HIDDEN, CLASSES = 12, 8, 16, 4

p = argparse.ArgumentParser()
p.add_argument("--api", choices=["gluon", "module"], required=True)
p.add_argument("--opt", choices=["sgd", "adam"], required=True)
p.add_argument("--kvstore", default="dist_sync")
p.add_argument("--update-on-kvstore", type=int, default=None)
p.add_argument("--parts", type=int, default=1, help="reference: reorder data as for N workers")
p.add_argument("--steps", type=int, default=20)
p.add_argument("--save-at", type=int, default=None)
p.add_argument("--resume", default=None)
p.add_argument("--start", type=int, default=0)
p.add_argument("--out", required=True)
p.add_argument("--model", choices=["mlp", "lenet"], default="mlp")
p.add_argument("--hybridize", action="store_true")
p.add_argument("--overlap", type=int, default=None, help="kv.set_overlap (default: the core's)")
p.add_argument("--bucket-bytes", type=int, default=None, help="small: several fusion buckets")
p.add_argument("--timeline", default=None, help="kv.set_timeline(path): a Chrome trace per rank")
a = p.parse_args()

dist = "dist" in a.kvstore
rank = mx.kvstore.worker_rank() if dist else 0
nworkers = mx.kvstore.worker_count() if dist else 1
TOTAL_STEPS = 20
rs = np.random.RandomState(42)
SAMPLE = (IN_DIM,) if a.model == "mlp" else (1, 14, 14)
X = rs.uniform(-1, 1, (TOTAL_STEPS * GLOBAL_BATCH,) + SAMPLE).astype(np.float32)
Y = rs.randint(0, CLASSES, TOTAL_STEPS * GLOBAL_BATCH).astype(np.float32)
if not dist and a.parts > 1:
    # batch t of one process = batch t of every worker's part, concatenated in rank order
    n, P = len(X), a.parts
    b = GLOBAL_BATCH // P
    order = [np.arange(r * n // P + t * b, r * n // P + (t + 1) * b)
             for t in range(TOTAL_STEPS) for r in range(P)]
    order = np.concatenate(order)
    X, Y = X[order], Y[order]
batch = GLOBAL_BATCH // nworkers
it = mx.io.NDArrayIter(X, Y, batch_size=batch, num_parts=nworkers, part_index=rank,
                       label_name="softmax_label")
opt_params = {"learning_rate": 0.05, "momentum": 0.9, "wd": 0.001} if a.opt == "sgd" else \
    {"learning_rate": 0.01, "wd": 0.001}
mx.random.seed(100 + rank)  # different initial parameters on every worker


def save_npz(named, tag=""):
    np.savez("%s%s.%d.npz" % (a.out, tag, rank), **{k: v.asnumpy() for k, v in named.items()})


def configure(kv):
    """--bucket-bytes / --overlap on the job's kvstore (before its first reduction)."""
    if kv is None or not dist:
        return
    if a.bucket_bytes:
        kv.set_bucket_size(a.bucket_bytes)
    if a.overlap is not None:
        kv.set_overlap(bool(a.overlap))
    if a.timeline:
        kv.set_timeline(a.timeline)


def report(kv):
    """How many fusion buckets were reduced while backward still ran (read by the tests)."""
    if kv is not None and dist:
        with open("%s.overlap.%d.json" % (a.out, rank), "w") as f:
            json.dump(kv._config()["overlap_stats"], f)
        if a.timeline:
            kv.set_timeline(None)  # writes the file now


if a.api == "gluon":
    net = gluon.nn.HybridSequential()
    if a.model == "mlp":
        net.add(gluon.nn.Dense(HIDDEN, in_units=IN_DIM, activation="relu"),
                gluon.nn.Dense(CLASSES, in_units=HIDDEN))
    else:  # LeNet, small: 14x14 inputs
        net.add(gluon.nn.Conv2D(4, 3, in_channels=1, activation="relu"), gluon.nn.MaxPool2D(2, 2),
                gluon.nn.Conv2D(6, 3, in_channels=4, activation="relu"), gluon.nn.MaxPool2D(2, 2),
                gluon.nn.Flatten(), gluon.nn.Dense(HIDDEN, in_units=24, activation="relu"),
                gluon.nn.Dense(CLASSES, in_units=HIDDEN))
    net.initialize(mx.init.Xavier())
    if a.hybridize:
        net.hybridize()
    save_npz({k: v.data() for k, v in net.collect_params().items()}, ".init")
    kw = {} if a.update_on_kvstore is None else {"update_on_kvstore": bool(a.update_on_kvstore)}
    trainer = gluon.Trainer(net.collect_params(), a.opt, opt_params, kvstore=a.kvstore, **kw)
    configure(trainer._kvstore)
    if a.resume:
        net.load_parameters(a.resume + ".params")
        trainer.load_states(a.resume + ".states")
    loss_fn = gluon.loss.SoftmaxCrossEntropyLoss()
    for step, b in enumerate(it):
        if step < a.start:
            continue
        if step >= a.steps:
            break
        with autograd.record():
            loss = loss_fn(net(b.data[0]), b.label[0])
        loss.backward()
        trainer.step(GLOBAL_BATCH)
        if a.save_at is not None and step + 1 == a.save_at and mx.kvstore.is_rank0():
            net.save_parameters(a.out + ".params")
            trainer.save_states(a.out + ".states")
    if dist:  # created and broadcast at construction for dist types
        assert trainer._kvstore is not None and trainer._kvstore.num_workers == nworkers
    report(trainer._kvstore)
    save_npz({k: v.data() for k, v in net.collect_params().items()})
else:
    data = mx.sym.var("data")
    if a.model == "mlp":
        h = mx.sym.Activation(mx.sym.FullyConnected(data, num_hidden=HIDDEN, name="fc1"), act_type="relu")
    else:
        h = data
        for i, nf in enumerate((4, 6)):
            h = mx.sym.Convolution(h, num_filter=nf, kernel=(3, 3), name="conv%d" % i)
            h = mx.sym.Pooling(mx.sym.Activation(h, act_type="relu"), kernel=(2, 2), stride=(2, 2),
                               pool_type="max")
        h = mx.sym.Activation(mx.sym.FullyConnected(mx.sym.Flatten(h), num_hidden=HIDDEN, name="fc1"),
                              act_type="relu")
    out = mx.sym.SoftmaxOutput(mx.sym.FullyConnected(h, num_hidden=CLASSES, name="fc2"), name="softmax")
    mod = mx.mod.Module(out, data_names=["data"], label_names=["softmax_label"])
    mod.bind(data_shapes=it.provide_data, label_shapes=it.provide_label)
    mod.init_params(mx.init.Xavier())
    save_npz(mod.get_params()[0], ".init")
    kv = mx.kv.create(a.kvstore) if dist else a.kvstore
    configure(kv if dist else None)
    mod.fit(it, num_epoch=1, kvstore=kv, optimizer=a.opt, optimizer_params=opt_params,
            initializer=mx.init.Xavier())
    report(kv if dist else None)
    save_npz(mod.get_params()[0])
print("WORKER-OK %d" % rank, flush=True)
