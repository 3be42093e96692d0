# Cases of the Julia bad-call sweep (issue 15), run by bad_calls.jl in a child process. Each case
# either must throw the named exception type (MX's error types, or Julia's own where the package
# checks before calling libmx) with a message matching `msg`, or return a value the predicate
# accepts (checked against plain Julia computations).
using MX, Test

struct BadCase
    name::String
    f::Function
    expect::Any        # an exception type (or Union of them), or a predicate on the value
    msg::Regex
end
bad(name, f, T, msg=r"."s) = BadCase(name, f, T, msg)
good(name, f, pred) = BadCase(name, f, pred, r"")

# Never MXInternalError ("a bug in MX") for bad input: every MX error type but that one.
const MXClear = Union{MXInvalidArgumentError,MXShapeError,MXTypeError,MXUnsupportedError,
                      MXOutOfMemoryError,MXIOError,MXFormatError}

function judge_case(c::BadCase)
    v = try
        c.f()
    catch e
        m = sprint(showerror, e)
        if c.expect isa Type && e isa c.expect
            return occursin(c.msg, m) ? ("PASS", m) : ("FAIL", "message does not match $(c.msg): $m")
        end
        return ("FAIL", "threw $(typeof(e)): $m")
    end
    c.expect isa Type && return ("FAIL", "returned a $(typeof(v)) instead of throwing $(c.expect)")
    ok = try c.expect(v) === true catch e; false end
    return ok ? ("PASS", "value ok") : ("FAIL", "wrong value: " * first(repr(v), 300))
end

m23() = MX.array(Float32[1 2 3; 4 5 6])
tmp(name) = joinpath(mktempdir(), name)
function writefile(path, bytes)
    open(io -> write(io, bytes), path, "w")
    path
end
fc_sym() = MX.nd.FullyConnected(MX.Variable("x"); num_hidden=3, name="fc")
function freed()
    x = MX.ones(Float32, 2)
    MX.free!(x)
    x
end

# Cases held back (not run, and named by bad_calls.jl) while a core fix is pending: none now.
const HELD_BACK = Set{String}()

const ALL_BAD_CALLS = Vector{BadCase}([
    # ---- creation
    bad("zeros with a negative dimension", () -> MX.zeros(2, -1), Union{ArgumentError,MXClear}),
    bad("empty with a negative dimension", () -> MX.empty(Float32, -3), Union{ArgumentError,MXClear}),
    bad("zeros of 2^62 elements", () -> MX.zeros(2^62), Union{MXOutOfMemoryError,MXInvalidArgumentError,MXShapeError}, r"memory|large|too"i),
    bad("zeros of 2^31 x 2^31", () -> MX.zeros(2^31, 2^31), Union{MXOutOfMemoryError,MXInvalidArgumentError,MXShapeError}, r"memory|large|too"i),
    bad("ones of 2^40 x 2^40 (count wraps)", () -> MX.ones(2^40, 2^40), Union{MXOutOfMemoryError,MXInvalidArgumentError,MXShapeError}, r"memory|large|too"i),
    bad("empty of 2^63-1 elements", () -> MX.empty(Float64, typemax(Int)), Union{MXOutOfMemoryError,MXInvalidArgumentError,MXShapeError}, r"memory|large|too"i),
    bad("array of complex numbers", () -> MX.array(ComplexF64[1, 2]), Union{MXTypeError,ArgumentError}, r"Complex"),
    bad("array of strings", () -> MX.array(["a", "b"]), Union{MXTypeError,ArgumentError,MethodError}, r"String"),
    bad("empty with dtype String", () -> MX.empty(String, 2), Union{MXTypeError,ArgumentError}, r"String"),
    bad("array of an Int128 beyond Int64", () -> MX.array([Int128(2)^100]), Union{InexactError,MXTypeError,ArgumentError}),
    good("0-d zeros", () -> MX.zeros(Float32), v -> size(v) == () && Array(v)[] == 0),
    good("zero-size array", () -> MX.array(zeros(Float32, 0, 3)), v -> size(v) == (0, 3)),
    good("NaN survives a round trip", () -> Array(MX.array(Float32[NaN, 1])), v -> isnan(v[1]) && v[2] == 1),
    # ---- shapes
    bad("reshape to a different size", () -> reshape(m23(), (4, 2)), Union{MXShapeError,DimensionMismatch}, r"4"),
    bad("reshape with two -1", () -> reshape(m23(), (-1, -1)), Union{MXShapeError,MXInvalidArgumentError,DimensionMismatch,ArgumentError}),
    good("reshape keeps row-major order", () -> Array(reshape(m23(), (3, 2))), v -> v == Float32[1 2; 3 4; 5 6]),
    bad("add of incompatible shapes", () -> m23() + MX.ones(3, 2), MXShapeError, r"\(2, 3\).*\(3, 2\)"),
    bad("dot of (2,3) and (2,3)", () -> MX.nd.dot(m23(), m23()), MXShapeError),
    bad("concat of mismatched shapes", () -> MX.nd.concat(m23(), MX.ones(3, 2); dim=0), MXShapeError),
    bad("transpose with repeated axes", () -> MX.nd.transpose(m23(); axes=(0, 0)), MXClear, r"axes"),
    bad("broadcast_to a negative shape", () -> MX.nd.broadcast_to(MX.ones(1, 1); shape=(2, -5)), MXClear, r"-5"),
    bad("broadcast_to (2^31, 2^31)", () -> MX.nd.broadcast_to(MX.ones(1, 1); shape=(2^31, 2^31)),
        Union{MXOutOfMemoryError,MXInvalidArgumentError,MXShapeError}, r"memory|large|too"i),
    bad("slice_axis with begin > end", () -> MX.nd.slice_axis(m23(); axis=1, Symbol("begin") => 2, Symbol("end") => 1), MXClear),
    # ---- dtypes and integer arithmetic
    bad("Convolution on int32", () -> MX.nd.Convolution(MX.ones(Int32, 1, 1, 3, 3), MX.ones(Int32, 1, 1, 1, 1);
                                                          kernel=(1, 1), num_filter=1, no_bias=true), MXTypeError, r"int32"),
    good("int32 typemin / -1 wraps as numpy", () -> Array(MX.array(Int32[typemin(Int32), 7]) ./ MX.array(Int32[-1, 2])),
         v -> v == Int32[typemin(Int32), 3]),
    good("int32 typemin % -1 is 0", () -> Array(MX.array(Int32[typemin(Int32)]) .% MX.array(Int32[-1])), v -> v == Int32[0]),
    good("int64 typemin / -1 wraps as numpy", () -> Array(MX.array(Int64[typemin(Int64)]) ./ MX.array(Int64[-1])),
         v -> v == Int64[typemin(Int64)]),
    good("int64 typemin % -1 is 0", () -> Array(MX.array(Int64[typemin(Int64)]) .% MX.array(Int64[-1])), v -> v == Int64[0]),
    good("int32 typemin / -1 scalar", () -> Array(MX.array(Int32[typemin(Int32)]) / -1), v -> v == Int32[typemin(Int32)]),
    bad("astype to an unknown dtype", () -> MX.nd.cast(m23(); dtype="float128"), MXClear, r"float128"),
    # ---- operators with bad parameters
    bad("sum over axis 5 of a 2-d array", () -> MX.nd.sum(m23(); axis=5), MXInvalidArgumentError, r"axis.*5"),
    bad("FullyConnected with num_hidden -1", () -> MX.nd.FullyConnected(m23(), MX.ones(1, 3); num_hidden=-1, no_bias=true), MXClear, r"num_hidden"),
    bad("Convolution with a 0x0 kernel", () -> MX.nd.Convolution(MX.ones(1, 1, 3, 3), MX.ones(1, 1, 1, 1);
                                                               kernel=(0, 0), num_filter=1, no_bias=true), MXClear, r"kernel"),
    bad("Pooling with an unknown pool_type", () -> MX.nd.Pooling(MX.ones(1, 1, 4, 4); kernel=(2, 2), pool_type="median"), MXClear, r"median"),
    bad("Activation with an unknown act_type", () -> MX.nd.Activation(m23(); act_type="bogus"), MXClear, r"bogus"),
    bad("unknown keyword parameter", () -> MX.nd.broadcast_to(m23(); no_such_param=1), MXClear, r"no_such_param"),
    bad("softmax over axis 10", () -> MX.nd.softmax(m23(); axis=10), MXClear, r"axis"),
    bad("one_hot with depth -1", () -> MX.nd.one_hot(MX.array(Float32[0, 1]); depth=-1), MXClear, r"depth"),
    bad("arange with step 0", () -> MX.nd._arange(; start=0, stop=10, step=0), MXClear, r"step"),
    bad("eye(2^31)", () -> MX.nd._eye(; N=2^31), Union{MXOutOfMemoryError,MXInvalidArgumentError,MXShapeError}, r"memory|large|too"i),
    bad("Reshape with a non-integer shape string", () -> MX.nd.Reshape(m23(); shape="(3, x)"), MXClear, r"shape"),
    good("topk ignores nothing: k=2 of 3", () -> Array(MX.nd.topk(MX.array(Float32[3, 1, 2]); k=2, ret_typ="value")),
         v -> v == Float32[3, 2]),
    good("sort puts NaN last", () -> Array(MX.nd.sort(MX.array(Float32[3, NaN, 1]))),
         v -> v[1:2] == Float32[1, 3] && isnan(v[3])),
    # ---- indexing
    bad("row index past the end", () -> m23()[3, 1], BoundsError),
    bad("index 0", () -> m23()[0, 1], BoundsError),
    bad("range past the end", () -> m23()[1:5, 1], BoundsError),
    bad("setindex! past the end", () -> (x = m23(); x[3, 1] = 1), BoundsError),
    bad("setindex! of a string", () -> (x = m23(); x[1, 1] = "a"), Union{MethodError,ArgumentError,MXTypeError}),
    good("scalar index", () -> m23()[2, 3], v -> (v isa Number ? v : Array(v)[]) == 6),
    good("column slice", () -> Array(m23()[:, 2]), v -> vec(v) == Float32[2, 5]),
    # ---- autograd misuse
    bad("backward on an unrecorded array", () -> MX.backward!(m23()), MXClear, r"record|graph|grad"i),
    good("grad of an array without attach_grad! is nothing", () -> MX.grad(m23()), v -> v === nothing),
    bad("backward twice without retain_graph", () -> let
            x = m23()
            MX.attach_grad!(x)
            y = MX.record(() -> x .* x)
            MX.backward!(y)
            MX.backward!(y)
        end, MXClear, r"retain|graph|again"i),
    bad("attach_grad! with an unknown grad_req", () -> MX.attach_grad!(m23(); grad_req=:bogus), Union{MXClear,ArgumentError}, r"bogus"),
    bad("head gradient of the wrong shape", () -> let
            x = m23()
            MX.attach_grad!(x)
            y = MX.record(() -> x .* 2)
            MX.backward!(y; head_grads=[MX.ones(3, 3)])
        end, MXShapeError),
    good("gradient of x*x is 2x", () -> let
            x = m23()
            MX.attach_grad!(x)
            y = MX.record(() -> x .* x)
            MX.backward!(y)
            Array(MX.grad(x))
        end, v -> v == 2 .* Float32[1 2 3; 4 5 6]),
    # ---- symbols
    bad("symbol from malformed JSON", () -> MX.from_json("{bad"), MXFormatError, r"offset|parse error"i),
    bad("symbol JSON with an unknown op", () -> MX.from_json("""{"nodes": [{"op": "NoSuchOp", "name": "n", "inputs": []}],
            "arg_nodes": [], "heads": [[0, 0, 0]]}"""), MXClear, r"NoSuchOp"),
    bad("symbol JSON without nodes", () -> MX.from_json("{}"), MXClear, r"nodes"),
    bad("infer_shape with a negative dimension", () -> MX.infer_shape(fc_sym(), Dict("x" => (2, -1))), MXShapeError, r"-1"),
    bad("infer_shape of an unknown argument", () -> MX.infer_shape(fc_sym(), Dict("nope" => (2, 3))), MXClear, r"nope"),
    bad("malformed __shape__ attribute", () -> MX.infer_shape(MX.Variable("x"; attrs=Dict("__shape__" => "(4, 3.5)")), Dict{String,Any}()),
        Union{MXFormatError,MXInvalidArgumentError,MXShapeError}, r"3\.5"),
    bad("output index past the end", () -> fc_sym()[5], Union{BoundsError,MXClear}),
    bad("internal output by unknown name", () -> MX.get_internals(fc_sym())["nope_output"], Union{KeyError,ArgumentError,MXClear}, r"nope"),
    bad("load_symbol of a missing file", () -> MX.load_symbol("/nonexistent/dir/net-symbol.json"), MXIOError, r"nonexistent"),
    good("infer_shape of FullyConnected", () -> MX.infer_shape(fc_sym(), Dict("x" => (2, 5))),
         v -> v !== nothing && (2, 3) in v[2]),
    # ---- executors
    bad("simple_bind with a negative shape", () -> MX.simple_bind(fc_sym(), MX.cpu(); x=(2, -1)), MXClear),
    bad("simple_bind without the input shape", () -> MX.simple_bind(fc_sym(), MX.cpu()), MXClear, r"x|shape"),
    bad("bind with too few arrays", () -> MX.bind(fc_sym(), MX.cpu(), [MX.ones(2, 5)]), Union{MXClear,ArgumentError}),
    bad("forward with an input of the wrong shape", () -> let
            e = MX.simple_bind(fc_sym(), MX.cpu(); x=(2, 5))
            MX.forward(e; x=MX.ones(3, 5))
        end, Union{MXClear,DimensionMismatch}),
    # MXNet allows backward before forward (MX runs the forward pass first): bias gradient = batch size
    good("backward before forward", () -> let
            e = MX.simple_bind(fc_sym(), MX.cpu(); x=(2, 5))
            MX.backward(e, [MX.ones(2, 3)])
            Array(e.grad_dict["fc_bias"])
        end, v -> length(v) == 3 && all(v .== 2)),
    # ---- data iterators
    bad("CSVIter of a missing file", () -> MX.CSVIter(data_csv="/nonexistent.csv", data_shape=(3,), batch_size=2), MXIOError, r"nonexistent"),
    bad("CSVIter with batch_size 0", () -> MX.CSVIter(data_csv=writefile(tmp("d.csv"), "1,2,3\n"), data_shape=(3,), batch_size=0),
        MXInvalidArgumentError, r"batch_size"),
    bad("CSVIter with batch_size 2^40", () -> MX.CSVIter(data_csv=writefile(tmp("d.csv"), "1,2,3\n"), data_shape=(3,), batch_size=2^40),
        MXInvalidArgumentError, r"^(?!.*must be positive).*batch_size"s),
    bad("CSVIter on /dev/zero", () -> MX.CSVIter(data_csv="/dev/zero", data_shape=(3,), batch_size=2), MXClear, r"^(?!.*Success)"s),
    bad("CSVIter with a non-number", () -> MX.CSVIter(data_csv=writefile(tmp("d.csv"), "1,x,3\n"), data_shape=(3,), batch_size=1),
        MXFormatError, r"x"),
    bad("MNISTIter of a missing file", () -> MX.MNISTIter(image="/nonexistent-images", label="/nonexistent-labels", batch_size=2), MXIOError),
    bad("MNISTIter of random bytes", () -> MX.MNISTIter(image=writefile(tmp("img"), rand(UInt8(0):UInt8(9), 100)),
                                                        label=writefile(tmp("lab"), rand(UInt8(0):UInt8(9), 100)), batch_size=2),
        MXFormatError, r"magic"),
    bad("ImageRecordIter of a text file", () -> MX.ImageRecordIter(path_imgrec=writefile(tmp("x.rec"), "not a record file"),
                                                                   data_shape=(3, 8, 8), batch_size=1), MXFormatError),
    bad("ArrayDataProvider with batch_size 0", () -> MX.ArrayDataProvider(rand(Float32, 4, 2); batch_size=0), Union{ArgumentError,MXClear}),
    bad("ArrayDataProvider with fewer labels than samples", () -> MX.ArrayDataProvider(rand(Float32, 4, 2); label=rand(Float32, 3), batch_size=2),
        Union{ArgumentError,DimensionMismatch,MXClear}),
    # ---- files
    bad("load of a missing file", () -> MX.load("/nonexistent/x.params"), MXIOError, r"nonexistent"),
    bad("load of random bytes", () -> MX.load(writefile(tmp("r.params"), UInt8[0x12, 0x01, 0, 0, 0, 0, 0, 0, 0xff, 0xff])), MXFormatError),
    bad("load of a truncated file", () -> let
            p = tmp("t.params")
            MX.save(p, Dict("w" => m23()))
            b = read(p)
            writefile(p, b[1:end-5])
            MX.load(p)
        end, MXFormatError, r"offset|truncated"i),
    bad("load of a directory", () -> MX.load(mktempdir()), Union{MXIOError,MXFormatError}),
    bad("save to a path with a NUL", () -> MX.save("victim.params\0.x", m23()), ArgumentError, r"NUL"),
    bad("load of a path with a NUL", () -> MX.load("victim.params\0.x"), ArgumentError, r"NUL"),
    bad("save into a missing directory", () -> MX.save("/nonexistent/dir/x.params", m23()), MXIOError, r"nonexistent"),
    good("save and load round trip", () -> let
            p = tmp("ok.params")
            MX.save(p, Dict("w" => m23()))
            Array(MX.load(p)["w"])
        end, v -> v == Float32[1 2 3; 4 5 6]),
    # ---- freed handles
    bad("arithmetic on a freed array", () -> freed() .+ 1, MXInvalidArgumentError, r"freed"),
    good("free! twice is harmless", () -> (x = freed(); MX.free!(x); true), v -> v === true),
    bad("Array() of a freed array", () -> Array(freed()), MXInvalidArgumentError, r"freed"),
    bad("size of a freed array", () -> size(freed()), MXInvalidArgumentError, r"freed"),
    bad("copyto! into a freed array", () -> copyto!(freed(), Float32[1, 2]), MXInvalidArgumentError, r"freed"),
])

const BAD_CALLS = filter(c -> !(c.name in HELD_BACK), ALL_BAD_CALLS)
