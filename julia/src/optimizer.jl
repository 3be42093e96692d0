# Optimizers, learning-rate schedulers, initializers and metrics: thin handles over the core's
# (mx_optimizer_*, mx_lr_scheduler_*, mx_initializer_*, mx_metric_*). Hyperparameters use
# MXNet's names; state files are the core's language-neutral format, so an optimizer state saved
# by Python or R resumes here and vice versa. Parameter indices are 0-based as in Python.

# ------------------------------------------------------------------ optimizers

mutable struct Optimizer
    handle::Ptr{Cvoid}
    name::String
    function Optimizer(h::Ptr{Cvoid}, name::String)
        h == C_NULL && throw(MXInternalError("libmx returned a NULL optimizer handle"))
        o = new(h, name)
        finalizer(_release_optimizer!, o)
        o
    end
end
function _release_optimizer!(o::Optimizer)
    h = o.handle
    if h != C_NULL
        o.handle = C_NULL
        _check_nothrow(ccall(_sym(:mx_optimizer_free), Cint, (Ptr{Cvoid},), h))
    end
    nothing
end
handle(o::Optimizer) = o.handle == C_NULL ? throw(MXInvalidArgumentError("Optimizer: freed")) : o.handle

_hp_value(v::LRScheduler) = v.config
_hp_value(v::AbstractDict) = Dict{String,Any}(string(k) => _hp_value(x) for (k, x) in v)
_hp_value(v::Tuple) = Any[_hp_value(x) for x in v]
_hp_value(v::AbstractVector) = Any[_hp_value(x) for x in v]
_hp_value(v::Symbol) = string(v)
_hp_value(v) = v

# MXNet.jl's Greek hyperparameter names (mx.SGD(η=0.1, μ=0.9, λ=1e-4)) for MXNet's own.
const _MXNETJL_HP = Dict(:η => :learning_rate, :μ => :momentum, :λ => :wd)

"""
    MX.Optimizer(name; learning_rate=0.01, wd=0, rescale_grad=1, clip_gradient=nothing, ...)

The core's optimizer `name` (sgd, nag, adam, adamw, rmsprop, adagrad, adadelta, ftrl, signum,
lamb, ...) with MXNet's hyperparameter names (MXNet.jl's `η`, `μ`, `λ` mean `learning_rate`,
`momentum`, `wd`). `param_idx2name` (Dict 0-based index => name) makes
weight-decay rules follow names as in Python.
"""
function Optimizer(name::Union{AbstractString,Symbol}; kwargs...)
    hp = Dict{String,Any}()
    for (k, v) in kwargs
        v === nothing && continue
        k = get(_MXNETJL_HP, k, k)
        if k === :param_idx2name
            hp["param_idx2name"] = Dict{String,Any}(string(Int(i)) => string(n) for (i, n) in v)
        else
            hp[string(k)] = _hp_value(v)
        end
    end
    out = Ref{Ptr{Cvoid}}(C_NULL)
    _check(ccall(_sym(:mx_optimizer_new), Cint, (Cstring, Cstring, Ptr{Ptr{Cvoid}}),
                 lowercase(string(name)), json_string(hp), out))
    Optimizer(out[], lowercase(string(name)))
end
SGD(; kwargs...) = Optimizer("sgd"; kwargs...)
NAG(; kwargs...) = Optimizer("nag"; kwargs...)
ADAM(; kwargs...) = Optimizer("adam"; kwargs...)
const Adam = ADAM
AdamW(; kwargs...) = Optimizer("adamw"; kwargs...)
RMSProp(; kwargs...) = Optimizer("rmsprop"; kwargs...)
AdaGrad(; kwargs...) = Optimizer("adagrad"; kwargs...)
AdaDelta(; kwargs...) = Optimizer("adadelta"; kwargs...)

"Set one hyperparameter (MXNet name), e.g. `set!(opt, :learning_rate, 0.1)`."
function set!(o::Optimizer, key::Union{AbstractString,Symbol}, value)
    GC.@preserve o _check(ccall(_sym(:mx_optimizer_set), Cint, (Ptr{Cvoid}, Cstring, Cstring),
                                handle(o), string(key), json_string(_hp_value(value))))
    o
end

"Per-index settings (0-based index as in Python): parameter name, lr_mult, wd_mult."
function set_index!(o::Optimizer, index::Integer, name::AbstractString; lr_mult::Real=1.0, wd_mult::Real=1.0)
    GC.@preserve o _check(ccall(_sym(:mx_optimizer_set_index), Cint, (Ptr{Cvoid}, Cint, Cstring, Cdouble, Cdouble),
                                handle(o), index, name, lr_mult, wd_mult))
    o
end

"""
    update!(opt, indices, weights, grads)

Update weights in place (0-based parameter indices; vectors of equal length, or one of each).
"""
function update!(o::Optimizer, indices::AbstractVector{<:Integer}, weights::AbstractVector, grads::AbstractVector)
    length(indices) == length(weights) == length(grads) || throw(MXInvalidArgumentError(
        "update!: $(length(indices)) indices, $(length(weights)) weights and $(length(grads)) gradients"))
    isempty(indices) && return o
    idx = Cint[i for i in indices]
    wh = Ptr{Cvoid}[handle(w) for w in weights]
    gh = Ptr{Cvoid}[handle(g) for g in grads]
    GC.@preserve o weights grads idx wh gh _check(ccall(_sym(:mx_optimizer_update), Cint,
        (Ptr{Cvoid}, Cint, Ptr{Cint}, Ptr{Ptr{Cvoid}}, Ptr{Ptr{Cvoid}}), handle(o), length(idx), idx, wh, gh))
    o
end
update!(o::Optimizer, index::Integer, weight::NDArray, grad::NDArray) = update!(o, [index], [weight], [grad])

"The current learning rate (after the scheduler)."
function learning_rate(o::Optimizer)
    r = Ref{Cdouble}(0)
    GC.@preserve o _check(ccall(_sym(:mx_optimizer_learning_rate), Cint, (Ptr{Cvoid}, Ptr{Cdouble}), handle(o), r))
    r[]
end

"Name, hyperparameters, update counts and per-index settings (a Dict)."
function optimizer_config(o::Optimizer)
    p = Ref{Ptr{UInt8}}(C_NULL)
    GC.@preserve o begin
        _check(ccall(_sym(:mx_optimizer_json), Cint, (Ptr{Cvoid}, Ptr{Ptr{UInt8}}), handle(o), p))
        return parse_json(unsafe_string(p[]))
    end
end

"Write the optimizer's states (and configuration) to a file in the core's shared format."
function save_states(o::Optimizer, path::AbstractString)
    GC.@preserve o _check(ccall(_sym(:mx_optimizer_save_states), Cint, (Ptr{Cvoid}, Cstring), handle(o), path))
    nothing
end
"Restore states saved by any front end (`save_states`, Python's Module.save_optimizer_states)."
function load_states!(o::Optimizer, path::AbstractString)
    GC.@preserve o _check(ccall(_sym(:mx_optimizer_load_states), Cint, (Ptr{Cvoid}, Cstring), handle(o), path))
    o
end

"`(Dict(\"<index>:<state>\" => NDArray), config Dict)`."
function export_states(o::Optimizer)
    n = Ref{Cint}(0)
    pn = Ref{Ptr{Ptr{UInt8}}}(C_NULL)
    pa = Ref{Ptr{Ptr{Cvoid}}}(C_NULL)
    pj = Ref{Ptr{UInt8}}(C_NULL)
    GC.@preserve o begin
        _check(ccall(_sym(:mx_optimizer_export_states), Cint,
            (Ptr{Cvoid}, Ptr{Cint}, Ptr{Ptr{Ptr{UInt8}}}, Ptr{Ptr{Ptr{Cvoid}}}, Ptr{Ptr{UInt8}}), handle(o), n, pn, pa, pj))
        names = String[unsafe_string(unsafe_load(pn[], i)) for i in 1:n[]]
        raw = Ptr{Cvoid}[unsafe_load(pa[], i) for i in 1:n[]]
        cfg = parse_json(unsafe_string(pj[]))
        return Dict{String,NDArray}(zip(names, NDArray[_wrap(h) for h in raw])), cfg
    end
end

"Import states exported by `export_states`."
function import_states!(o::Optimizer, states::AbstractDict, config)
    ks = collect(keys(states))
    ns, np = _cstrings(ks)
    arrs = NDArray[states[k] for k in ks]
    hs = Ptr{Cvoid}[handle(a) for a in arrs]
    js = config isa AbstractString ? String(config) : json_string(config)
    GC.@preserve o arrs hs ns np _check(ccall(_sym(:mx_optimizer_import_states), Cint,
        (Ptr{Cvoid}, Cint, Ptr{Ptr{UInt8}}, Ptr{Ptr{Cvoid}}, Cstring), handle(o), length(hs), np, hs, js))
    o
end

Base.show(io::IO, o::Optimizer) = print(io, "MX.Optimizer(\"", o.name, "\")")
