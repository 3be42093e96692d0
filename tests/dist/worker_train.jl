# Data-parallel MLP or LeNet-like CNN training from Julia, run by tests/dist/test_dist_r_julia.py:
#   julia --project=julia worker_train.jl <optimizer> <kvstore> <parts> <out> [mlp|lenet]
# Same protocol as worker_train.R: under mpirun (dist_sync) worker r trains on part r with batch
# 12/N; one process (local, parts P) trains on the batches concatenated. Writes the parameters
# to <out>.<rank>.params (MX.save_checkpoint's .params file).
using MX
opt, kvstore, parts, out = ARGS[1], ARGS[2], parse(Int, ARGS[3]), ARGS[4]
model_kind = length(ARGS) >= 5 ? ARGS[5] : "mlp"
dist = occursin("dist", kvstore)
rank = dist ? MX.worker_rank() : 0
nw = dist ? MX.worker_count() : 1
G, steps = 12, 20
n = G * steps
X = Float32[sin(0.37 * i + 1.3 * j) for i in 1:n, j in 1:8]   # deterministic data
Y = Float32[(7 * i + round(Int, 3 * X[i, 1] + 3)) % 4 for i in 1:n]
if model_kind == "lenet"  # samples along the first axis: n x 1 x 8 x 8 images
    X = Float32[sin(0.37 * i + 1.3 * j + 0.7 * k) for i in 1:n, c in 1:1, j in 1:8, k in 1:8]
end
rows_of(A, idx) = ndims(A) == 2 ? A[idx, :] : A[idx, :, :, :]
b = G ÷ max(nw, parts)
if !dist && parts > 1
    ord = [r * (n ÷ parts) + t * b + k for t in 0:steps-1 for r in 0:parts-1 for k in 1:b]
    X, Y = rows_of(X, ord), Y[ord]
    b = G
elseif dist
    rows = (rank * (n ÷ nw) + 1):((rank + 1) * (n ÷ nw))
    X, Y = rows_of(X, rows), Y[rows]
end
data = MX.Variable(:data)
if model_kind == "lenet"  # convolution, relu, max-pool, then the classifier
    conv = MX.Activation(MX.Convolution(data; kernel=(3, 3), num_filter=4, name="conv1"); act_type="relu")
    data = MX.Flatten(MX.Pooling(conv; kernel=(2, 2), stride=(2, 2), pool_type="max"))
end
h = MX.Activation(MX.FullyConnected(data; num_hidden=16, name="fc1"); act_type="relu")
net = MX.SoftmaxOutput(MX.FullyConnected(h; num_hidden=4, name="fc2"); name="softmax")
m = MX.FeedForward(net)
MX.seed!(100 + rank)
hp = opt == "sgd" ? (learning_rate=0.05, momentum=0.9, wd=0.001) : (learning_rate=0.01, wd=0.001)
# With a timeline asked for (MX_KVSTORE_TIMELINE), the kvstore is made here so it can be closed.
kv = dist && !isempty(get(ENV, "MX_KVSTORE_TIMELINE", "")) ? MX.KVStore(kvstore) : Symbol(kvstore)
MX.fit(m, Symbol(opt), MX.ArrayDataProvider(X; label=Y, batch_size=b); n_epoch=1, verbosity=0,
       initializer=MX.Xavier(), optimizer_params=hp, kvstore=kv)
kv isa MX.KVStore && MX.set_timeline!(kv, nothing)  # writes the trace
MX.save_checkpoint(m, "$(out).$(rank)", 1)
println("WORKER-OK $(rank)")
