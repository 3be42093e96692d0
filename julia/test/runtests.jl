# MX.jl tests: the glue (conversion, ownership, error mapping, idioms). Numerics are tested once in
# the core's op harness; here values are compared with plain Julia computations.
#
#   MX_LIBRARY=/path/to/libmx.so julia --project=julia julia/test/runtests.jl

using Test
using SparseArrays
using MX

rss_kib() = parse(Int, split(read("/proc/self/statm", String))[2]) * 4

@testset "MX.jl" begin

@testset "library and ABI" begin
    @test MX.abi_version() == MX.MX_ABI_VERSION
    @test isfile(MX.libmx_path())
    @test MX.version() isa VersionNumber
    @test MX.features() isa Dict
    @test MX.last_error() isa String
    # a library of another ABI version is refused with a clear message
    err = try MX._check_abi(MX.MX_ABI_VERSION + 1); nothing catch e; e end
    @test err isa MXLibraryError
    @test occursin("ABI version $(MX.MX_ABI_VERSION + 1)", err.msg) && occursin("written for", err.msg)
    # a missing library is reported at `using MX`, naming MX_LIBRARY
    proj = normpath(joinpath(@__DIR__, ".."))
    cmd = `$(Base.julia_cmd()) --startup-file=no --project=$(proj) -e "using MX"`
    io = IOBuffer()
    env = copy(ENV); env["MX_LIBRARY"] = "/nonexistent/libmx.so"
    ok = success(pipeline(setenv(cmd, env); stderr=io))
    @test !ok
    @test occursin("MX_LIBRARY=/nonexistent/libmx.so does not exist", String(take!(io)))
end

@testset "JSON reader" begin
    v = MX.parse_json("""{"a": [1, -2.5e3, true, false, null], "b": "x\\"\\n\\u00e9\\ud83d\\ude00", "c": {}}""")
    @test v["a"] == Any[1, -2500.0, true, false, nothing]
    @test v["a"][1] isa Int64
    @test v["b"] == "x\"\né😀"
    @test v["c"] == Dict{String,Any}()
    @test_throws MX.JSONParseError MX.parse_json("{\"a\": [1, 2}")
    @test_throws MX.JSONParseError MX.parse_json("[1] x")
    @test MX.parse_json(MX.json_string(Dict("k" => ["a\"b\\", 1, 2.5, nothing]))) ==
          Dict{String,Any}("k" => Any["a\"b\\", 1, 2.5, nothing])
end

@testset "contexts" begin
    @test string(MX.cpu()) == "cpu(0)"
    @test MX.cpu(1) == MX.Context(1, 1)
    if MX.num_gpus() == 0
        err = try MX.gpu(); nothing catch e; e end
        @test err isa MXUnsupportedError
        @test occursin("no GPU", err.msg)
    else
        @test MX.gpu(0).device_type == MX.MX_GPU
    end
    @test MX.context(MX.zeros(2)) == MX.cpu()
end

@testset "conversion both ways keeps logical shapes" begin
    for T in (Float32, Float64, Float16, Int32, Int64, Int8, UInt8, Bool)
        for dims in ((), (5,), (2, 3), (2, 3, 4), (3, 1, 2, 2))
            A = T == Bool ? rand(Bool, dims...) : T <: Integer ? rand(T(0):T(100), dims...) :
                T.(round.(randn(dims...) .* 10; digits=2))
            A isa AbstractArray || (A = fill(A))
            x = MX.array(A)
            @test x isa NDArray{T,length(dims)}
            @test eltype(x) == T
            @test size(x) == size(A)
            @test ndims(x) == length(dims)
            @test length(x) == length(A)
            B = Array(x)
            @test B isa Array{T,length(dims)}
            @test B == A
        end
    end
    # A 2x3 Matrix is (2, 3) with A[i, j] at the same logical position; storage is row-major.
    A = Float32[1 2 3; 4 5 6]
    x = MX.array(A)
    @test size(x) == (2, 3)
    @test x[1, 3] == 3.0f0 && x[2, 1] == 4.0f0
    @test Array(reshape(x, 6)) == Float32[1, 2, 3, 4, 5, 6]      # row-major order
    @test Array(reshape(x, 3, 2)) == Float32[1 2; 3 4; 5 6]
    @test Array(reshape(x, -1, 2)) == Float32[1 2; 3 4; 5 6]
    A3 = reshape(collect(1.0:24.0), 2, 3, 4)
    x3 = MX.array(A3)
    @test size(x3) == (2, 3, 4)
    @test all(x3[i, j, k] == A3[i, j, k] for i in 1:2, j in 1:3, k in 1:4)
    # dtype conversion and scalars
    @test eltype(MX.array([1, 2, 3]; dtype=Float64)) == Float64
    @test Array(MX.array([1.5, 2.5]; dtype=Float32)) == Float32[1.5, 2.5]
    s = MX.array(3.5)
    @test size(s) == () && s[] == 3.5f0
    @test MX.array(1:4) isa NDArray{Int64,1}
    bf = MX.array(Float32[1.5, -2.0]; dtype=MX.BFloat16)
    @test Float32.(Array(bf)) == Float32[1.5, -2.0]
    # copies are independent, copyto! both ways
    y = copy(x)
    @test y == x && !MX.shares_memory(x, y)
    copyto!(y, Float32[9 9 9; 9 9 9])
    @test Array(x) == A
    z = MX.zeros(Float64, 2, 3)
    copyto!(z, x)
    @test Array(z) == Float64.(A)
    @test Array(MX.ones(Int32, 2)) == Int32[1, 1]
    @test_throws MXShapeError copyto!(z, MX.zeros(3, 2))
    @test_throws MXTypeError MX.array([1 + 2im])
    # show
    @test occursin("NDArray", sprint(show, x))
    @test occursin("2×3 NDArray{Float32,2}", sprint(show, MIME("text/plain"), x))
end

@testset "ownership: finalizers and free!" begin
    x = MX.zeros(3)
    MX.free!(x)
    MX.free!(x)                               # a second free is a no-op
    @test_throws MXInvalidArgumentError size(x)
    @test sprint(show, x) == "NDArray(freed)"
    # Many create/free cycles, through the garbage collector and explicitly: no leak, no crash.
    GC.gc(); GC.gc()
    before = rss_kib()
    wrong = 0
    for i in 1:20000
        a = MX.array(Float32[i, i + 1, i + 2])
        b = MX.empty(Float32, 128, 128)           # 64 KiB each, about 1.3 GB in all
        v = a[2:3]                                # a view keeps the storage alive
        v[1] == Float32(i + 1) || (wrong += 1)
        iseven(i) && MX.free!(b)
        if i % 2000 == 0
            GC.gc()
        end
    end
    @test wrong == 0
    GC.gc(); GC.gc()
    grown_mib = (rss_kib() - before) / 1024
    @info "resident memory growth after 20000 create/free cycles: $(round(grown_mib; digits=1)) MiB"
    @test grown_mib < 200
    @test MX.FINALIZER_FAILURES[] == 0
    # a view outlives its parent's handle
    p = MX.array(Float32[1 2; 3 4])
    v = p[2:2, :]
    MX.free!(p)
    GC.gc()
    @test Array(v) == Float32[3 4]
end

@testset "error mapping" begin
    @test MX.error_type(-1) === MXInvalidArgumentError
    @test MX.error_type(-2) === MXShapeError
    @test MX.error_type(-3) === MXTypeError
    @test MX.error_type(-4) === MXUnsupportedError
    @test MX.error_type(-5) === MXOutOfMemoryError
    @test MX.error_type(-6) === MXIOError
    @test MX.error_type(-7) === MXFormatError
    @test MX.error_type(-8) === MXInternalError
    @test MX.error_type(-42) === MXUnknownError
    for T in (MXInvalidArgumentError, MXShapeError, MXTypeError, MXUnsupportedError)
        @test T <: MXError <: Exception
    end
    # errors raised by libmx carry its category and mx_last_error()'s message
    a = MX.zeros(2, 3); b = MX.zeros(4, 5)
    err = try MX.nd.broadcast_add(a, b); nothing catch e; e end
    @test err isa MXShapeError
    @test err.status == -2
    @test occursin("broadcast_add", err.msg)
    @test occursin("broadcast_add", sprint(showerror, err))
    @test err.msg == MX.last_error()
    err = try MX.opinfo("no_such_op_xyz"); nothing catch e; e end
    @test err isa MXInvalidArgumentError
    @test occursin("no_such_op_xyz", err.msg)
    @test_throws MXInvalidArgumentError MX.nd._plus_scalar(a; no_such_param=1)
    @test_throws MXInvalidArgumentError MX.empty(Float32, -1)
    @test_throws MXTypeError MX.nd.broadcast_add(a, 1.0)       # parameters are keywords
    @test_throws MXInvalidArgumentError a[1, 2, 3]
    @test_throws BoundsError a[3, 1]
    # the library still works after errors
    @test Array(a .+ 1) == fill(1.0f0, 2, 3)
end

@testset "generated operators" begin
    names = MX.list_ops()
    @test length(names) > 0
    for name in names
        s = MX.op_schema(name)
        for alias in vcat([name], [string(x) for x in s["aliases"]])
            jl = MX.julia_name(alias)
            @test isdefined(MX.nd, jl)
            f = getfield(MX.nd, jl)
            @test f isa Function
            @test occursin(name, string(Base.Docs.doc(f)))
        end
    end
    @test MX.broadcast_add === MX.nd.broadcast_add         # public ops also in MX
    @test occursin("broadcast", string(Base.Docs.doc(MX.nd.broadcast_add)))
    # one call of every op with no required parameter on suitable inputs: each either returns
    # arrays or raises an MXError (never another exception, never a crash)
    A = rand(Float32, 2, 3) .+ 0.5f0
    ok = 0; mxerr = 0
    for name in names
        s = MX.op_schema(name)
        (startswith(name, "_backward") || get(s, "hidden", false) === true) && continue
        any(p -> p["required"] === true, s["params"]) && continue
        n = get(s, "variadic_input", false) === true ? 2 : length(s["inputs"]) + length(s["aux"])
        n == 0 && continue
        args = [MX.array(A) for _ in 1:n]
        f = getfield(MX.nd, MX.julia_name(name))
        try
            r = f(args...)
            @test r isa NDArray || (r isa Vector && all(x -> x isa NDArray, r))
            ok += 1
        catch e
            e isa MXError || rethrow()
            mxerr += 1
        end
    end
    @info "generated ops called: $(ok) returned arrays, $(mxerr) raised MXError (unsuitable inputs)"
    @test ok > 0
    # parameters: scalar, out=, keyword inputs, variadic
    x = MX.array(Float32[1 2; 3 4])
    @test Array(MX.nd._plus_scalar(x; scalar=1.5)) == Float32[2.5 3.5; 4.5 5.5]
    out = MX.zeros(2, 2)
    r = MX.nd._mul_scalar(x; scalar=2, out=out)
    @test r === out && Array(out) == Float32[2 4; 6 8]
    @test Array(MX.nd.broadcast_sub(lhs=x, rhs=x)) == zeros(Float32, 2, 2)
    @test Array(MX.nd.broadcast_sub(x; rhs=MX.ones(2, 2))) == Float32[0 1; 2 3]
    @test parse(Float64, string(MX.op_params("_plus_scalar"; scalar=2)["scalar"])) == 2.0
    if MX.has_op("add_n")
        @test Array(MX.nd.add_n(x, x, x)) == Float32[3 6; 9 12]
        @test Array(MX.nd.add_n([x, x])) == Float32[2 4; 6 8]
    end
    if MX.has_op("sum")
        @test Array(MX.nd.sum(x; axis=1)) == Float32[3, 7]        # axes are 0-based, as in Python
        @test Array(sum(x; axis=0)) == Float32[4, 6]
    end
    MX.has_op("exp") && @test Array(exp.(x)) ≈ exp.(Float32[1 2; 3 4])
    MX.has_op("exp") && @test Array(exp(x)) ≈ exp.(Float32[1 2; 3 4])
    MX.has_op("dot") && @test Array(x * x) ≈ Float32[1 2; 3 4] * Float32[1 2; 3 4]
end

@testset "linalg ops from the core" begin
    using LinearAlgebra
    m = [4.0 1.0 0.5; 1.0 3.0 0.2; 0.5 0.2 2.0]
    a = MX.array(m)
    @test isapprox(Array(MX.nd.linalg_potrf(a)), cholesky(m).L; rtol=1e-10)
    @test isapprox(Array(MX.nd.linalg_inverse(a)), inv(m); rtol=1e-10)
    @test isapprox(Array(MX.nd.linalg_det(a))[1], det(m); rtol=1e-10)
    @test_throws MXInvalidArgumentError MX.nd.linalg_inverse(MX.array(ones(2, 2)))
end

@testset "arithmetic and broadcasting" begin
    A = Float32[1 2 3; 4 5 6]; B = Float32[2 2 2; 3 3 3]; r = Float32[10 20 30]
    a = MX.array(A); b = MX.array(B); rr = MX.array(r)
    @test Array(a .+ b) == A .+ B
    @test Array(a .- b) == A .- B
    @test Array(a .* b) == A .* B
    @test Array(a ./ b) ≈ A ./ B
    @test Array(a .+ rr) == A .+ r                      # numpy broadcasting on logical shapes
    @test Array(a .* MX.array(reshape(Float32[1, 2], 2, 1))) == A .* [1, 2]
    @test Array(a .+ 1) == A .+ 1
    @test Array(2 .* a) == 2 .* A
    @test Array(10 .- a) == 10 .- A
    @test Array(1 ./ a) ≈ 1 ./ A
    @test Array(a .^ 2) == A .^ 2
    @test Array(2 .^ a) == 2 .^ A
    @test Array(a .* b .+ a ./ 2) ≈ A .* B .+ A ./ 2
    @test Array(a .> 2) == Float32.(A .> 2)
    @test Array(max.(a, 3)) == max.(A, 3)
    @test Array(a + b) == A + B
    @test Array(a - 1) == A .- 1
    @test Array(3 * a) == 3 * A
    @test Array(a / 2) == A / 2
    @test Array(-a) == -A
    @test Array(a .+ B) == A .+ B                       # a Julia array operand is converted
    y = MX.zeros(2, 3)
    y .= a .+ b
    @test Array(y) == A .+ B
    y .= 0
    @test Array(y) == zeros(Float32, 2, 3)
    @test a == A && a ≈ A
end

@testset "indexing" begin
    A = reshape(Float32.(1:24), 4, 6)
    x = MX.array(A)
    v = x[2:3, :]                                      # first-axis range: a view
    @test size(v) == (2, 6) && Array(v) == A[2:3, :]
    @test MX.shares_memory(v, x)
    row = x[2, :]
    @test size(row) == (6,) && Array(row) == A[2, :]
    @test x[3, 4] == A[3, 4]
    @test x[:, :] == A
    v[1, :] = 0                                         # writes through the view
    @test Array(x)[2, :] == zeros(Float32, 6)
    x[1:2, :] = fill(7.0f0, 2, 6)
    @test Array(x)[1:2, :] == fill(7.0f0, 2, 6)
    x[4, :] = MX.array(Float32.(1:6))
    @test Array(x)[4, :] == Float32.(1:6)
    if MX.has_op("slice")
        x = MX.array(A)
        @test Array(x[:, 2:3]) == A[:, 2:3]
        @test Array(x[2:3, 2:2:6]) == A[2:3, 2:2:6]
        @test Array(x[:, 5]) == A[:, 5]
        @test Array(x[1:2:4, :]) == A[1:2:4, :]
    else
        @test_throws MXUnsupportedError MX.array(A)[:, 2:3]
    end
    if MX.has_op("_slice_assign") && MX.has_op("_slice_assign_scalar")
        x = MX.array(A); B = copy(A)
        x[:, 2:3] = fill(-1.0f0, 4, 2); B[:, 2:3] .= -1
        x[2:3, 5] = 9; B[2:3, 5] .= 9
        @test Array(x) == B
    end
end

@testset "autograd" begin
    X = [0.5 -1.0 2.0; 1.5 0.25 -0.75]
    x = MX.array(X; dtype=Float64)
    MX.attach_grad!(x)
    g0 = MX.grad(x)
    @test g0 isa NDArray && Array(g0) == zeros(2, 3)
    @test !MX.is_recording()
    local y
    MX.record() do
        @test MX.is_recording() && MX.is_training()
        y = x .* x .* x .+ 2 .* x .- x ./ 4              # y = x^3 + 2x - x/4
    end
    @test !MX.is_recording()
    MX.backward!(y)
    @test Array(MX.grad(x)) ≈ 3 .* X .^ 2 .+ 2 .- 1 / 4
    # head gradients and grad_req :add
    MX.attach_grad!(x; grad_req=:add)
    for _ in 1:2
        local z
        MX.record() do
            z = x .* x
        end
        MX.backward!(z; head_grads=MX.array(fill(0.5, 2, 3)))
    end
    @test Array(MX.grad(x)) ≈ 2 .* (0.5 .* 2 .* X)
    # the functional form
    w = MX.array(X; dtype=Float64)
    MX.attach_grad!(w)
    let z
        MX.record() do
            z = w .* w .+ w
        end
        g = MX.grad(z, w)
        @test Array(g) ≈ 2 .* X .+ 1
    end
    # scopes restore the previous state, also after an exception
    @test_throws ErrorException MX.record(() -> error("inside"))
    @test !MX.is_recording()
    MX.record() do
        MX.pause() do
            @test !MX.is_recording()
        end
        @test MX.is_recording()
        MX.predict_mode() do
            @test !MX.is_training()
        end
    end
end

@testset "random seeds" begin
    MX.seed!(42)                                          # the C call itself works
    if MX.has_op("_random_uniform") || MX.has_op("random_uniform") || MX.has_op("uniform")
        MX.seed!(7); a = Array(MX.rand_uniform(0, 1, 3, 4))
        MX.seed!(7); b = Array(MX.rand_uniform(0, 1, 3, 4))
        MX.seed!(8); c = Array(MX.rand_uniform(0, 1, 3, 4))
        @test size(a) == (3, 4)
        @test a == b
        @test a != c
        @test all(0 .<= a .< 1)
    else
        @test_throws MXUnsupportedError MX.rand_uniform(0, 1, 3)
    end
    @test_throws MXInvalidArgumentError MX.seed!(-1)
end


@testset "symbols and executors" begin
    data = MX.Variable(:data)
    net = MX.SoftmaxOutput(MX.FullyConnected(data; num_hidden=3, name="fc"); name="sm")
    @test MX.list_arguments(net) == ["data", "fc_weight", "fc_bias", "sm_label"]
    @test MX.list_outputs(net) == ["sm_output"]
    a, o, x = MX.infer_shape(net; data=(5, 4))
    @test a == [(5, 4), (3, 4), (3,), (5,)] && o == [(5, 3)]
    @test MX.list_arguments(MX.from_json(MX.to_json(net))) == MX.list_arguments(net)
    @test MX.list_arguments(MX.sym.FullyConnected(name="f2", num_hidden=2)) == ["f2_data", "f2_weight", "f2_bias"]
    e = MX.simple_bind(net, MX.cpu(); data=(5, 4))
    outs = MX.forward(e; data=ones(Float32, 5, 4))
    @test size(outs[1]) == (5, 3)
    @test Array(outs[1]) ≈ fill(1f0 / 3, 5, 3)
end

@testset "training: an MLP learns, checkpoints round-trip" begin
    MX.seed!(1)
    X = Float32[(i % 7) / 7 - 0.5 for i in 1:200, j in 1:1] .+ Float32[(j == 2) * 0.3 for i in 1:200, j in 1:2]
    X = Float32.(hcat([sin(0.37i) for i in 1:200], [cos(0.91i) for i in 1:200]))
    Y = Float32[x[1] + x[2] > 0 ? 1 : 0 for x in eachrow(X)]
    data = MX.Variable(:data)
    h = MX.Activation(MX.FullyConnected(data; num_hidden=16, name="fc1"); act_type="relu")
    net = MX.SoftmaxOutput(MX.FullyConnected(h; num_hidden=2, name="fc2"); name="softmax")
    m = MX.FeedForward(net)
    train = MX.ArrayDataProvider(X; label=Y, batch_size=20, shuffle=true)
    MX.fit(m, :adam, train; n_epoch=30, optimizer_params=(learning_rate=0.05,), initializer=MX.Xavier(),
           verbosity=0)
    acc = MX.score(m, MX.ArrayDataProvider(X; label=Y, batch_size=20), MX.Accuracy())[1][2]
    @test acc > 0.9
    p = MX.predict(m, X; batch_size=30)   # 200 = 6*30 + 20: the last batch is padded
    @test size(p) == (200, 2)
    prefix = joinpath(mktempdir(), "mlp")
    MX.save_checkpoint(m, prefix, 3; save_optimizer_states=true)
    @test isfile(prefix * "-symbol.json") && isfile(prefix * "-0003.params") && isfile(prefix * "-0003.states")
    m2 = MX.load_checkpoint(prefix, 3, MX.FeedForward)
    @test MX.predict(m2, X; batch_size=30) == p
    opt = MX.ADAM(learning_rate=0.05)
    MX.load_states!(opt, prefix * "-0003.states")
    @test MX.optimizer_config(opt)["name"] == "adam"
    met = MX.Accuracy()
    MX.update!(met, MX.array(Float32[0, 1]), MX.array(Float32[0.9 0.1; 0.2 0.8]))
    @test MX.get(met)[2] == 1.0
end
@testset "progress bars: throttled, rate from the first update, deciles in logs" begin
    t = Ref(0.0)
    clock() = t[]
    buf = IOBuffer()
    p = MX.ProgressBar(100; inplace=true, min_interval=0.25, clock=clock, out=buf)
    for i in 1:100
        t[] += 0.01               # 100 batches a second
        MX.progress_update!(p)
    end
    @test p.draws == 5            # first update, at 0.26, 0.51, 0.76 s, and the final 100/100
    @test occursin("100% 100/100", String(take!(buf)))
    t[] = 0.0
    p = MX.ProgressBar(10; inplace=true, clock=clock, out=buf)
    t[] += 2.0                    # a slow first batch
    MX.progress_update!(p)
    @test MX.progress_rate(p) == 0.5
    for i in 1:4
        t[] += 0.1
        MX.progress_update!(p)
    end
    @test MX.progress_rate(p) ≈ 4 / 0.4
    take!(buf)
    p = MX.ProgressBar(37; inplace=false, clock=clock, out=buf)
    for i in 1:37
        t[] += 0.05
        MX.progress_update!(p)
    end
    lines = split(strip(String(take!(buf))), "\n")
    @test length(lines) == 11     # deciles 0..9 once each, then 100 %
    @test !any(occursin('\r', l) for l in lines)
    @test endswith(lines[end], "batch/s") && occursin("100% 37/37", lines[end])
end
@testset "sparse: csr and row_sparse with SparseArrays" begin
    S = sparse([1, 1, 3, 4], [2, 5, 1, 5], Float32[1.5, -2, 3, 4], 4, 5)
    x = NDArray(S)
    @test MX.stype(x) == :csr && size(x) == (4, 5)
    @test Array(x) == Matrix(S)
    @test MX.sparse_indptr(x) == [0, 2, 2, 3, 4]        # row offsets, 0-based
    @test MX.sparse_indices(x) == [1, 4, 0, 4]          # column numbers, 0-based
    @test MX.sparse_data(x) == Float32[1.5, -2, 3, 4]
    @test SparseMatrixCSC(x) == S
    y = MX.nd.sum(x; axis=1)                            # an op on csr (kernel or storage fallback)
    @test Array(y) ≈ vec(sum(Matrix(S); dims=2))
    d = MX.array(Float32[0 1 0; 0 0 0; 2 0 3])
    r = MX.tostype(d, :row_sparse)
    @test MX.stype(r) == :row_sparse && MX.sparse_indices(r) == [0, 2]
    @test Array(r) == Float32[0 1 0; 0 0 0; 2 0 3]
    @test sparse(r) == sparse(Float32[0 1 0; 0 0 0; 2 0 3])
    rs = MX.row_sparse_array(Float32[1 2; 3 4], [1, 3], (5, 2))
    @test Array(rs) == Float32[0 0; 1 2; 0 0; 3 4; 0 0]
    c = MX.csr_matrix(Float64[7, 8], [0, 1, 1, 2], [2, 0], (3, 3))
    @test Array(c) == [0 0 7.0; 0 0 0; 8 0 0]
    @test MX.stype(MX.tostype(c, :default)) == :default
    @test_throws MXInvalidArgumentError MX.tostype(c, :coo)
    @test_throws MXError MX.csr_matrix(Float32[1], [0, 1], [7], (1, 3))   # column 7 of 3
end
@testset "creation functions return NDArrays; NDArray(::Array)" begin
    for f in (MX.nd.ones, MX.nd.zeros, MX.ones, MX.zeros, MX.nd.empty)
        x = f((2, 3))
        @test x isa NDArray{Float32,2}
        @test size(x) == (2, 3)
    end
    @test Array(MX.nd.ones((2, 3))) == Base.ones(Float32, 2, 3)
    @test Array(MX.nd.zeros(Float64, (4,))) == Base.zeros(4)
    @test MX.nd.zeros(Float64, (4,)) isa NDArray{Float64,1}
    @test Array(MX.ones(Int32, 2, 2)) == Base.ones(Int32, 2, 2)
    @test Array(MX.nd.full((2, 2), 7.5)) == fill(7.5f0, 2, 2)
    @test Array(MX.nd.arange(5)) == Float32[0, 1, 2, 3, 4]
    @test Array(MX.arange(1, 3; step=0.5, dtype=Float64)) == collect(1.0:0.5:2.5)
    x = MX.zeros(2, 3)
    @test fill!(x, 2) === x
    @test Array(x) == fill(2.0f0, 2, 3)
    @test_throws MXInvalidArgumentError MX.zeros(2, -1)
    A = Float64[1 2 3; 4 5 6]
    y = NDArray(A)
    @test y isa NDArray{Float64,2}
    @test Array(y) == A
    @test NDArray{Float32}(A) isa NDArray{Float32,2}
    @test Array(NDArray{Float32}(A)) == Float32.(A)
    @test Array(NDArray(Int32[1, 2])) == Int32[1, 2]
end

@testset "mx alias: MXNet.jl-style code runs" begin
    @test mx === MX
    @test mx.zeros(2, 3) isa NDArray
    mx.seed!(3)
    X = Float32.(hcat([sin(0.37i) for i in 1:100], [cos(0.91i) for i in 1:100]))
    y = Float32[x[1] - x[2] > 0 ? 1 : 0 for x in eachrow(X)]
    fc1 = mx.FullyConnected(mx.Variable(:data); name=:fc1, num_hidden=16)
    act = mx.Activation(fc1; name=:relu1, act_type=:relu)
    net = mx.SoftmaxOutput(mx.FullyConnected(act; name=:fc2, num_hidden=2); name=:softmax)
    model = mx.FeedForward(net; context=mx.cpu())
    provider = mx.ArrayDataProvider(:data => X, :softmax_label => y; batch_size=10, shuffle=true)
    mx.fit(model, mx.ADAM(η=0.05), provider; n_epoch=30, initializer=mx.Xavier(), verbosity=0)
    probs = mx.predict(model, mx.ArrayDataProvider(:data => X; batch_size=10))
    @test size(probs) == (100, 2)
    @test sum((probs[:, 2] .> 0.5) .== (y .== 1)) >= 90
    # the Greek names reach the core as MXNet's hyperparameters
    hp = mx.optimizer_config(mx.SGD(η=0.25, μ=0.5, λ=0.125))["hparams"]
    @test (hp["learning_rate"], hp["momentum"], hp["wd"]) == (0.25, 0.5, 0.125)
end

@testset "every exported name and creation function is documented" begin
    documented(n) = haskey(Docs.meta(MX), Docs.Binding(MX, n))
    @test isempty([n for n in names(MX) if n !== :MX && !documented(n)])
    for f in (:zeros, :ones, :full, :arange, :array, :empty, :NDArray, :Executor)
        @test documented(f)
    end
end

@testset "core data iterators" begin
    fixtures = normpath(joinpath(@__DIR__, "..", "..", "tests", "data", "mxnet-1.9.1"))
    csvdir = joinpath(fixtures, "csv")
    if !isdir(csvdir)
        @info "skipped: MXNet 1.9.1 fixtures not found at $(fixtures)"
        @test_skip false
    else
        parse_rows(f) = [parse.(Float64, split(l, ",")) for l in readlines(f) if !isempty(strip(l))]
        X = permutedims(hcat(parse_rows(joinpath(csvdir, "data.csv"))...))
        y = [r[1] for r in parse_rows(joinpath(csvdir, "label.csv"))]
        # rows of each batch (0-based) and pads, as MXNet 1.9.1 (csviter_round_batch_*.npz)
        expected = Dict(true => [[([0, 1, 2, 3], 0), ([4, 5, 6, 7], 0), ([8, 9, 0, 1], 2)],
                                 [([2, 3, 4, 5], 0), ([6, 7, 8, 9], 0)]],
                        false => [[([0, 1, 2, 3], 0), ([4, 5, 6, 7], 0), ([8, 9, 6, 7], 2)],
                                  [([0, 1, 2, 3], 0), ([4, 5, 6, 7], 0), ([8, 9, 6, 7], 2)]])
        for rb in (true, false)
            it = MX.CSVIter(data_csv=joinpath(csvdir, "data.csv"), data_shape=(3,),
                            label_csv=joinpath(csvdir, "label.csv"), label_shape=(1,), batch_size=4,
                            round_batch=rb)
            @test MX.provide_data(it) == [("data", (4, 3))]
            @test MX.provide_label(it) == [("softmax_label", (4,))]
            @test MX.get_batch_size(it) == 4
            for epoch in 1:2
                got = [(Array(b.data[1]), Array(b.label[1]), b.pad) for b in it]
                exp = expected[rb][epoch]
                @test length(got) == length(exp)
                for ((d, l, pad), (rows, epad)) in zip(got, exp)
                    @test size(d) == (4, 3)
                    @test d ≈ Float32.(X[rows .+ 1, :])
                    @test l == Float32.(y[rows .+ 1])
                    @test pad == epad
                end
                MX.reset!(it)
            end
        end
        # fresh arrays; zero labels without label_csv
        it = MX.CSVIter(data_csv=joinpath(csvdir, "data.csv"), data_shape=(3,), batch_size=4)
        b0, _ = iterate(it)
        first_ = Array(b0.data[1])
        iterate(it)
        @test Array(b0.data[1]) == first_
        @test Array(b0.label[1]) == zeros(Float32, 4)
        @test length(MX.get_index(it)) == 4
        @test_throws MXIOError MX.CSVIter(data_csv=joinpath(mktempdir(), "missing.csv"), data_shape=(3,), batch_size=2)
        @test_throws MXShapeError MX.CSVIter(data_csv=joinpath(csvdir, "data.csv"), data_shape=(4,), batch_size=2)
        @test_throws MXError MX.CSVIter(data_csv=joinpath(csvdir, "data.csv"), data_shape=(3,), batch_size=2, bogus=1)
        # usable by fit / score / predict
        MX.seed!(1)
        net = MX.SoftmaxOutput(MX.FullyConnected(MX.Variable(:data); num_hidden=10, name="fc"); name="softmax")
        m = MX.FeedForward(net)
        train = MX.CSVIter(data_csv=joinpath(csvdir, "data.csv"), data_shape=(3,),
                           label_csv=joinpath(csvdir, "label.csv"), batch_size=5)
        MX.fit(m, :sgd, train; n_epoch=2, optimizer_params=(learning_rate=0.01,), verbosity=0)
        @test size(Array(m.arg_params["fc_weight"])) == (10, 3)
        @test size(MX.predict(m, train)) == (10, 10)
        @test 0 <= MX.score(m, train, MX.Accuracy())[1][2] <= 1

        recdir = joinpath(fixtures, "recordio")
        it = MX.ImageRecordIter(path_imgrec=joinpath(recdir, "images_png.rec"), data_shape=(3, 8, 8),
                                batch_size=4, shuffle=false)
        @test MX.provide_data(it) == [("data", (4, 3, 8, 8))]
        @test MX.provide_label(it) == [("softmax_label", (4,))]
        for epoch in 1:2
            MX.reset!(it)
            bs = collect(it)
            @test length(bs) == 1
            x = Array(bs[1].data[1])
            @test size(x) == (4, 3, 8, 8)
            @test minimum(x) == 0 && maximum(x) == 255
            @test sum(Float64.(x)) == 97699
            @test x[1, 1, 1, :] == Float32[0, 32, 64, 96, 128, 160, 192, 224]
            @test Array(bs[1].label[1]) == Float32[0, 1, 2, 3]
            @test bs[1].pad == 0
        end
    end

    fm = "/usr/share/datasets/fashion-mnist"
    if !isdir(fm)
        @info "skipped: Fashion-MNIST not installed (Debian dataset-fashion-mnist)"
        @test_skip false
    else
        ip = joinpath(fm, "t10k-images-idx3-ubyte.gz")
        lp = joinpath(fm, "t10k-labels-idx1-ubyte.gz")
        gunzip(f) = read(pipeline(`gzip -dc $f`))
        imgs = gunzip(ip)[17:end]
        labs = gunzip(lp)[9:end]
        it = MX.MNISTIter(image=ip, label=lp, batch_size=1000, shuffle=false, flat=true)
        @test MX.provide_data(it) == [("data", (1000, 784))]
        @test MX.provide_label(it) == [("softmax_label", (1000,))]
        bs = collect(it)
        @test length(bs) == 10
        raw = permutedims(reshape(imgs, 784, :))   # (10000, 784), row-major pixels
        @test Array(bs[4].data[1]) ≈ Float32.(raw[3001:4000, :]) ./ 255
        @test Array(bs[10].label[1]) == Float32.(labs[9001:end])
        @test all(b.pad == 0 for b in bs)
        it = MX.MNISTIter(image=ip, label=lp, batch_size=8, shuffle=false)
        MX.reset!(it)
        b, _ = iterate(it)
        x = Array(b.data[1])
        @test size(x) == (8, 1, 28, 28)
        @test x[2, 1, :, :] ≈ Float32.(permutedims(reshape(raw[2, :], 28, 28))) ./ 255
    end
end
# bad-call sweep (issue 15): cases in bad_calls_cases.jl, run in a child process
include("bad_calls.jl")

@testset "reliability: huge shapes and INT_MIN division (issue 15)" begin
    one = MX.ones(1, 1)
    err = try MX.nd.broadcast_to(one; shape=(2^31, 2^31)); nothing catch e; e end
    @test err isa MXShapeError
    @test occursin("2147483648, 2147483648", err.msg)
    err = try MX.nd.broadcast_to(one; shape=(2^40, 2^40)); nothing catch e; e end
    @test err isa MXShapeError
    @test occursin("64 bits", err.msg)
    @test Array(one .+ 1) == fill(2.0f0, 1, 1)        # the process goes on working
    for T in (Int32, Int64)
        a = MX.array(T[typemin(T), 7]); m = MX.array(T[-1, -1])
        @test Array(MX.nd.broadcast_div(a, m)) == T[typemin(T), -7]   # wraps, as numpy
        @test Array(MX.nd.broadcast_mod(a, m)) == T[0, 0]
        @test Array(MX.nd._div_scalar(a; scalar=-1)) == T[typemin(T), -7]
        @test Array(MX.nd._mod_scalar(a; scalar=-1)) == T[0, 0]
    end
end

@testset "kvstore (one process)" begin
    kv = MX.KVStore(:device)
    @test MX.kv_type(kv) == :device && MX.num_workers(kv) == 1 && MX.rank(kv) == 0
    MX.init!(kv, [3, 4], [MX.zeros(Float32, 2, 2), MX.zeros(Float32, 3)])
    a = Float32[1 2; 3 4]
    push!(kv, 3, [MX.array(a), MX.array(2 .* a)])      # summed
    o = MX.zeros(Float32, 2, 2)
    MX.pull!(kv, 3, o)
    @test Array(o) == 3 .* a
    kv2 = MX.KVStore(:local)
    MX.init!(kv2, "w", MX.array(Float32[1, 2, 3]))
    MX.set_optimizer(kv2, MX.SGD(learning_rate=0.5))
    w = MX.zeros(Float32, 3)
    MX.pushpull!(kv2, "w", MX.array(Float32[1, 1, 2]), w)
    @test Array(w) == Float32[1, 2, 3] .- 0.5f0 .* Float32[1, 1, 2]
    @test_throws MXUnsupportedError MX.KVStore(:dist_async)
    @test_throws MXShapeError push!(kv2, "w", MX.zeros(Float32, 2))
end
end # MX.jl
