"""LSTM/GRU language-model training step on the CPU (T=35, N=64, emb 256, H=512, 2 layers,
V=1000; benchmarks/gpu_workers.py's gpu_lstm at its GPU sizes). Prints the median CPU time per step
(process_time) over `reps` steps after two warm-up steps. argv: fw (mx|torch) cell (lstm|gru) reps.
Run it at one thread (OMP_NUM_THREADS=1 MX_NUM_THREADS=1), frameworks alternating."""
import sys, time
import numpy as np
fw, cell, reps = sys.argv[1], sys.argv[2], int(sys.argv[3])
T, N, V, E, H = 35, 64, 1000, 256, 512
rng = np.random.RandomState(0)
xs = rng.randint(0, V, (T, N))
ys = rng.randint(0, V, (T * N,))
if fw == "mx":
    import mx
    x = mx.nd.array(xs.astype(np.float32)); y = mx.nd.array(ys.astype(np.float32))
    layer = mx.gluon.rnn.LSTM if cell == "lstm" else mx.gluon.rnn.GRU
    emb, rnn, out = mx.gluon.nn.Embedding(V, E), layer(H, num_layers=2), mx.gluon.nn.Dense(V, flatten=False)
    params = mx.gluon.ParameterDict()
    for blk in (emb, rnn, out):
        blk.initialize(mx.init.Xavier())
        params.update(blk.collect_params())
    loss_fn = mx.gluon.loss.SoftmaxCrossEntropyLoss()
    trainer = mx.gluon.Trainer(params, "sgd", {"learning_rate": 0.1})
    def step():
        with mx.autograd.record():
            loss = loss_fn(out(rnn(emb(x))).reshape((-1, V)), y)
        loss.backward()
        trainer.step(N)
        mx.nd.waitall()
else:
    import torch
    torch.set_num_threads(1)
    x = torch.tensor(xs); y = torch.tensor(ys)
    class M(torch.nn.Module):
        def __init__(s):
            super().__init__()
            s.emb = torch.nn.Embedding(V, E)
            s.rnn = (torch.nn.LSTM if cell == "lstm" else torch.nn.GRU)(E, H, num_layers=2)
            s.out = torch.nn.Linear(H, V)
        def forward(s, x):
            return s.out(s.rnn(s.emb(x))[0])
    m = M(); opt = torch.optim.SGD(m.parameters(), lr=0.1); lf = torch.nn.CrossEntropyLoss()
    def step():
        opt.zero_grad()
        loss = lf(m(x).reshape(-1, V), y)
        loss.backward()
        opt.step()
for _ in range(2):
    step()
ts = []
for _ in range(reps):
    t0 = time.process_time(); step(); ts.append(time.process_time() - t0)
print("%s %s %.4f" % (fw, cell, float(np.median(ts))))
