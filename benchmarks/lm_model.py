"""The language-model training step the LSTM benchmarks share (workers.py's lstm_lm, gpu_workers.py's
gpu_lstm, rnn_lm_cpu.py): embedding 256 -> 2-layer LSTM (or GRU) -> dense over the vocabulary, 35
steps, SGD. Each builder returns (step, batch); step() runs one training step without waiting."""
import numpy as np

T, V, E = 35, 1000, 256


def gluon_lm_step(mxmod, cell="lstm", N=64, H=512, ctx=None):
    """For MX and MXNet 1.9.1 (the same Gluon API)."""
    rng = np.random.RandomState(0)
    kw = {} if ctx is None else {"ctx": ctx}
    x = mxmod.nd.array(rng.randint(0, V, (T, N)).astype(np.float32), **kw)
    y = mxmod.nd.array(rng.randint(0, V, (T * N,)).astype(np.float32), **kw)
    layer = mxmod.gluon.rnn.LSTM if cell == "lstm" else mxmod.gluon.rnn.GRU
    emb, rnn, out = mxmod.gluon.nn.Embedding(V, E), layer(H, num_layers=2), mxmod.gluon.nn.Dense(V, flatten=False)
    params = mxmod.gluon.ParameterDict()
    for blk in (emb, rnn, out):
        blk.initialize(mxmod.init.Xavier(), **kw)
        params.update(blk.collect_params())
    loss_fn = mxmod.gluon.loss.SoftmaxCrossEntropyLoss()
    trainer = mxmod.gluon.Trainer(params, "sgd", {"learning_rate": 0.1})

    def step():
        with mxmod.autograd.record():
            loss = loss_fn(out(rnn(emb(x))).reshape((-1, V)), y)
        loss.backward()
        trainer.step(N)
    return step


def torch_lm_step(cell="lstm", N=64, H=512, dev="cpu"):
    import torch
    torch.manual_seed(0)
    nn = torch.nn

    class Model(nn.Module):
        def __init__(self):
            super().__init__()
            self.emb, self.out = nn.Embedding(V, E), nn.Linear(H, V)
            self.rnn = (nn.LSTM if cell == "lstm" else nn.GRU)(E, H, num_layers=2)

        def forward(self, x):
            return self.out(self.rnn(self.emb(x))[0])
    net = Model().to(dev)
    rng = np.random.RandomState(0)
    x = torch.from_numpy(rng.randint(0, V, (T, N))).to(dev)
    y = torch.from_numpy(rng.randint(0, V, (T * N,))).to(dev)
    opt = torch.optim.SGD(net.parameters(), lr=0.1)
    loss_fn = nn.CrossEntropyLoss()

    def step():
        opt.zero_grad()
        loss_fn(net(x).reshape(-1, V), y).backward()
        opt.step()
    return step
