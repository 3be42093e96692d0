# julia --project=julia predict_on_device.jl DIR DEVICE
# Loads DIR/py-0001 on DEVICE ("gpu": MX.gpu(0); "cpu"), predicts DIR/Xt and writes DIR/jl_pred
# (raw row-major float32 + a shape file, as tests/gpu/test_gpu_xlang.py reads them).
using MX

dir, device = ARGS[1], ARGS[2]
include(joinpath(@__DIR__, "..", "..", "cross_language", "binio.jl"))  # readbin / writebin

ctx = device == "gpu" ? MX.gpu(0) : MX.cpu(0)
m = MX.load_checkpoint(joinpath(dir, "py"), 1, MX.FeedForward; context=ctx)
writebin("jl_pred", MX.predict(m, readbin("Xt"); batch_size=10))
println("predict_on_device: done on ", device)
