# Learning-rate schedulers (configurations passed to the core), initializers and metrics.

# ------------------------------------------------------------------ schedulers

"""
A learning-rate scheduler configuration for `Optimizer(...; lr_scheduler=...)`, e.g.
`MX.FactorScheduler(100, 0.9)`. The core runs it (mx_lr_scheduler_*).
"""
struct LRScheduler
    config::Dict{String,Any}
end
_sched(type; kwargs...) = LRScheduler(Dict{String,Any}("type" => type,
    (string(k) => (v isa Tuple ? collect(v) : v) for (k, v) in kwargs if v !== nothing)...))
FactorScheduler(step::Integer, factor::Real=1.0; kwargs...) = _sched("factor"; step=step, factor=factor, kwargs...)
MultiFactorScheduler(step, factor::Real=1.0; kwargs...) = _sched("multifactor"; step=collect(step), factor=factor, kwargs...)
PolyScheduler(max_update::Integer; kwargs...) = _sched("poly"; max_update=max_update, kwargs...)
CosineScheduler(max_update::Integer; kwargs...) = _sched("cosine"; max_update=max_update, kwargs...)

"The learning rate of a scheduler at update count `n` (runs the core's scheduler)."
function get_lr(s::LRScheduler, n::Integer)
    out = Ref{Ptr{Cvoid}}(C_NULL)
    _check(ccall(_sym(:mx_lr_scheduler_new), Cint, (Cstring, Ptr{Ptr{Cvoid}}), json_string(s.config), out))
    r = Ref{Cdouble}(0)
    try
        _check(ccall(_sym(:mx_lr_scheduler_get), Cint, (Ptr{Cvoid}, Int64, Ptr{Cdouble}), out[], n, r))
    finally
        _check(ccall(_sym(:mx_lr_scheduler_free), Cint, (Ptr{Cvoid},), out[]))
    end
    r[]
end

# ------------------------------------------------------------------ initializers

"""
An initializer from MXNet's description (`["xavier", {"magnitude": 2}]`), run by the core with
MXNet's name rules (biases zero, gammas one, ...). Random draws use the generator of `MX.seed!`.
"""
mutable struct Initializer
    handle::Ptr{Cvoid}
    function Initializer(desc::AbstractString)
        out = Ref{Ptr{Cvoid}}(C_NULL)
        _check(ccall(_sym(:mx_initializer_new), Cint, (Cstring, Ptr{Ptr{Cvoid}}), desc, out))
        i = new(out[])
        finalizer(_release_initializer!, i)
        i
    end
end
const AbstractInitializer = Initializer
function _release_initializer!(i::Initializer)
    h = i.handle
    if h != C_NULL
        i.handle = C_NULL
        _check_nothrow(ccall(_sym(:mx_initializer_free), Cint, (Ptr{Cvoid},), h))
    end
    nothing
end
handle(i::Initializer) = i.handle == C_NULL ? throw(MXInvalidArgumentError("Initializer: freed")) : i.handle

_init(name; kwargs...) = Initializer(json_string(Any[name,
    Dict{String,Any}(string(k) => v for (k, v) in kwargs if v !== nothing)]))
"Uniform in [-scale, scale] (Python's mx.init.Uniform)."
Uniform(scale::Real=0.07) = _init("uniform"; scale=Float64(scale))
const UniformInitializer = Uniform
"Normal with standard deviation sigma."
Normal(sigma::Real=0.01) = _init("normal"; sigma=Float64(sigma))
const NormalInitializer = Normal
"Xavier (rnd_type \"uniform\"/\"gaussian\", factor_type \"avg\"/\"in\"/\"out\")."
Xavier(; rnd_type::AbstractString="uniform", factor_type::AbstractString="avg", magnitude::Real=3) =
    _init("xavier"; rnd_type=rnd_type, factor_type=factor_type, magnitude=Float64(magnitude))
const XavierInitializer = Xavier
MSRAPrelu(; factor_type::AbstractString="avg", slope::Real=0.25) = _init("msraprelu"; factor_type=factor_type, slope=Float64(slope))
Constant(value::Real) = _init("constant"; value=Float64(value))
Zero() = _init("zero")
One() = _init("one")
Orthogonal(; scale::Real=1.414, rand_type::AbstractString="uniform") = _init("orthogonal"; scale=Float64(scale), rand_type=rand_type)

"The canonical description JSON (MXNet's dumps())."
function dumps(i::Initializer)
    p = Ref{Ptr{UInt8}}(C_NULL)
    GC.@preserve i begin
        _check(ccall(_sym(:mx_initializer_json), Cint, (Ptr{Cvoid}, Ptr{Ptr{UInt8}}), handle(i), p))
        return unsafe_string(p[])
    end
end
Base.show(io::IO, i::Initializer) = print(io, "MX.Initializer(", i.handle == C_NULL ? "freed" : dumps(i), ")")

"""
    init!(initializer, name, arr; attrs=nothing)

Fill `arr` for the parameter `name` (MXNet's name rules; `attrs` the variable's attributes, whose
`__init__` overrides them).
"""
function init!(i::Initializer, name::AbstractString, arr::NDArray; attrs=nothing)
    a = (attrs === nothing || isempty(attrs)) ? nothing :
        json_string(Dict{String,Any}(string(k) => string(v) for (k, v) in attrs))
    GC.@preserve i arr _check(ccall(_sym(:mx_initializer_apply_desc), Cint, (Ptr{Cvoid}, Cstring, Cstring, Ptr{Cvoid}),
        handle(i), name, a === nothing ? C_NULL : a, handle(arr)))
    arr
end
(i::Initializer)(name::AbstractString, arr::NDArray) = init!(i, name, arr)

# ------------------------------------------------------------------ metrics

"""
    MX.Metric(name; args...)

The core's metric (acc, top_k_accuracy, f1, mae, mse, rmse, ce, perplexity, loss, ...).
`update!(m, labels, preds)`, `get(m)` -> `(name, value)`, `reset!(m)`.
"""
mutable struct Metric
    handle::Ptr{Cvoid}
    kind::String
    function Metric(name::Union{AbstractString,Symbol}; kwargs...)
        out = Ref{Ptr{Cvoid}}(C_NULL)
        args = Dict{String,Any}(string(k) => v for (k, v) in kwargs if v !== nothing)
        _check(ccall(_sym(:mx_metric_new), Cint, (Cstring, Cstring, Ptr{Ptr{Cvoid}}), string(name), json_string(args), out))
        m = new(out[], string(name))
        finalizer(_release_metric!, m)
        m
    end
end
const AbstractEvalMetric = Metric
function _release_metric!(m::Metric)
    h = m.handle
    if h != C_NULL
        m.handle = C_NULL
        _check_nothrow(ccall(_sym(:mx_metric_free), Cint, (Ptr{Cvoid},), h))
    end
    nothing
end
handle(m::Metric) = m.handle == C_NULL ? throw(MXInvalidArgumentError("Metric: freed")) : m.handle

Accuracy(; kwargs...) = Metric("acc"; kwargs...)
TopKAccuracy(k::Integer=1; kwargs...) = Metric("top_k_accuracy"; top_k=k, kwargs...)
MSE(; kwargs...) = Metric("mse"; kwargs...)
MAE(; kwargs...) = Metric("mae"; kwargs...)
RMSE(; kwargs...) = Metric("rmse"; kwargs...)
CrossEntropy(; kwargs...) = Metric("ce"; kwargs...)
const ACE = CrossEntropy
Perplexity(; kwargs...) = Metric("perplexity"; kwargs...)
F1(; kwargs...) = Metric("f1"; kwargs...)
Loss(; kwargs...) = Metric("loss"; kwargs...)

_as_ndvec(x::NDArray) = NDArray[x]
_as_ndvec(x::AbstractVector{<:NDArray}) = collect(NDArray, x)
_as_ndvec(x::AbstractArray) = NDArray[array(x)]
_as_ndvec(::Nothing) = nothing

"Accumulate (labels, predictions): NDArrays, vectors of NDArrays, or Julia arrays."
function update!(m::Metric, labels, preds)
    p = _as_ndvec(preds)
    l = _as_ndvec(labels)
    l === nothing || length(l) == length(p) || throw(MXInvalidArgumentError(
        "update!: $(length(l)) labels but $(length(p)) predictions"))
    ph = Ptr{Cvoid}[handle(x) for x in p]
    lh = l === nothing ? Ptr{Cvoid}[] : Ptr{Cvoid}[handle(x) for x in l]
    GC.@preserve m p l ph lh _check(ccall(_sym(:mx_metric_update), Cint, (Ptr{Cvoid}, Cint, Ptr{Ptr{Cvoid}}, Ptr{Ptr{Cvoid}}),
        handle(m), length(ph), l === nothing ? C_NULL : pointer(lh), ph))
    m
end

function _metric_get(f::Symbol, m::Metric)
    pn = Ref{Ptr{UInt8}}(C_NULL); v = Ref{Cdouble}(0); n = Ref{Int64}(0)
    GC.@preserve m begin
        if f === :mx_metric_get_global
            _check(ccall(_sym(:mx_metric_get_global), Cint, (Ptr{Cvoid}, Ptr{Ptr{UInt8}}, Ptr{Cdouble}, Ptr{Int64}),
                         handle(m), pn, v, n))
        else
            _check(ccall(_sym(:mx_metric_get), Cint, (Ptr{Cvoid}, Ptr{Ptr{UInt8}}, Ptr{Cdouble}, Ptr{Int64}),
                         handle(m), pn, v, n))
        end
        return (unsafe_string(pn[]), v[], Int(n[]))
    end
end
"`(name, value)` since the last reset (MXNet's EvalMetric.get)."
Base.get(m::Metric) = (r = _metric_get(:mx_metric_get, m); (r[1], r[2]))
"`(name, value)` since the last full reset (MXNet's get_global)."
get_global(m::Metric) = (r = _metric_get(:mx_metric_get_global, m); (r[1], r[2]))
"Number of instances seen since the last reset."
num_inst(m::Metric) = _metric_get(:mx_metric_get, m)[3]
function reset!(m::Metric)
    GC.@preserve m _check(ccall(_sym(:mx_metric_reset), Cint, (Ptr{Cvoid},), handle(m)))
    m
end
function reset_local!(m::Metric)
    GC.@preserve m _check(ccall(_sym(:mx_metric_reset_local), Cint, (Ptr{Cvoid},), handle(m)))
    m
end
function metric_config(m::Metric)
    p = Ref{Ptr{UInt8}}(C_NULL)
    GC.@preserve m begin
        _check(ccall(_sym(:mx_metric_json), Cint, (Ptr{Cvoid}, Ptr{Ptr{UInt8}}), handle(m), p))
        return parse_json(unsafe_string(p[]))
    end
end
Base.show(io::IO, m::Metric) = print(io, "MX.Metric(\"", m.kind, "\")")
