# Julia half of tests/cross_language/test_julia_cross.py. Usage: julia --project=julia julia_cross.jl DIR
# DIR holds what Python wrote (see the pytest file); this writes its results there.
using MX

dir = ARGS[1]
include(joinpath(@__DIR__, "binio.jl"))  # readbin / writebin

X = readbin("X"); Y = vec(readbin("Y")); Xt = readbin("Xt")
bs = 10

# 1. a Python checkpoint predicts here
m = MX.load_checkpoint(joinpath(dir, "py"), 2, MX.FeedForward)
writebin("jl_pred_of_py", MX.predict(m, Xt; batch_size=bs))

# 2. resume Python's Adam state for epochs 3..4, then write a Julia checkpoint
m = MX.load_checkpoint(joinpath(dir, "py"), 2, MX.FeedForward)
train = MX.ArrayDataProvider(X; label=Y, batch_size=bs, shuffle=false)
MX.fit(m, :adam, train; optimizer_params=(learning_rate=0.01,), begin_epoch=2, n_epoch=4,
       load_optimizer_states=joinpath(dir, "py-0002.states"), verbosity=0)
MX.save_checkpoint(m, joinpath(dir, "jl"), 4; save_optimizer_states=true)
writebin("jl_pred_own", MX.predict(m, Xt; batch_size=bs))

# 3. the same seed gives the same initial weights
net = MX.load_symbol(joinpath(dir, "py-symbol.json"))
m0 = MX.FeedForward(net)
MX.seed!(7)
MX.init_model(m0, MX.Xavier(magnitude=2.0); data=(bs, size(X, 2)), softmax_label=(bs,))
MX.save_checkpoint(joinpath(dir, "jlinit"), 0, nothing, m0.arg_params, m0.aux_params)
println("julia_cross: done")
