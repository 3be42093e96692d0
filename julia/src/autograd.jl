# Autograd: recording scopes, marking variables, backward and grad (all in libmx's tape).

const MX_GRAD_NULL = 0
const MX_GRAD_WRITE = 1
const MX_GRAD_INPLACE = 2
const MX_GRAD_ADD = 3

const _GRAD_REQS = Dict{Symbol,Int}(:null => MX_GRAD_NULL, :write => MX_GRAD_WRITE,
                                    :inplace => MX_GRAD_INPLACE, :add => MX_GRAD_ADD)

function _set_recording(flag::Bool)
    prev = Ref{Cint}(0)
    _check(ccall(_sym(:mx_autograd_set_recording), Cint, (Cint, Ptr{Cint}), flag, prev))
    prev[] != 0
end
function _set_training(flag::Bool)
    prev = Ref{Cint}(0)
    _check(ccall(_sym(:mx_autograd_set_training), Cint, (Cint, Ptr{Cint}), flag, prev))
    prev[] != 0
end

"Whether autograd is recording on this thread."
function is_recording()
    f = Ref{Cint}(0)
    _check(ccall(_sym(:mx_autograd_is_recording), Cint, (Ptr{Cint},), f))
    f[] != 0
end

"Whether ops run in training mode (dropout active, batch statistics) on this thread."
function is_training()
    f = Ref{Cint}(0)
    _check(ccall(_sym(:mx_autograd_is_training), Cint, (Ptr{Cint},), f))
    f[] != 0
end

function _scope(f, recording::Union{Bool,Nothing}, training::Union{Bool,Nothing})
    prev_r = recording === nothing ? nothing : _set_recording(recording)
    prev_t = nothing
    try
        prev_t = training === nothing ? nothing : _set_training(training)
        return f()
    finally
        prev_t === nothing || _set_training(prev_t)
        prev_r === nothing || _set_recording(prev_r)
    end
end

"""
    MX.record(train_mode=true) do ... end

Record the ops run inside the block for `backward!`/`grad` (MXNet's `autograd.record()`).
"""
record(f; train_mode::Bool=true) = _scope(f, true, train_mode)
record(f, train_mode::Bool) = _scope(f, true, train_mode)
"Run the block without recording (MXNet's `autograd.pause()`)."
pause(f; train_mode::Bool=false) = _scope(f, false, train_mode)
"Run the block in training mode, recording unchanged."
train_mode(f) = _scope(f, nothing, true)
"Run the block in prediction mode, recording unchanged."
predict_mode(f) = _scope(f, nothing, false)

"""
    attach_grad!(x; grad_req=:write)

Make `x` a leaf of the autograd graph with a zero gradient buffer (`grad(x)`). `grad_req` is
`:write`, `:add` or `:null`.
"""
function attach_grad!(x::NDArray; grad_req::Symbol=:write)
    mark_variables!([x]; grad_reqs=[grad_req])
    x
end

"Mark arrays as graph leaves, with optional caller-provided gradient buffers."
function mark_variables!(vars::AbstractVector; grad_reqs=fill(:write, length(vars)), grads=nothing)
    vs = collect(NDArray, vars)
    reqs = Cint[get(_GRAD_REQS, r isa Symbol ? r : Symbol(r), -1) for r in grad_reqs]
    length(reqs) == length(vs) || throw(MXInvalidArgumentError("mark_variables!: $(length(vs)) arrays but $(length(reqs)) grad_reqs"))
    any(r -> r < 0, reqs) && throw(MXInvalidArgumentError("grad_req must be one of :write, :add, :null, :inplace; got $(grad_reqs)"))
    hs = Ptr{Cvoid}[handle(v) for v in vs]
    gs = grads === nothing ? nothing : collect(NDArray, grads)
    gh = gs === nothing ? Ptr{Cvoid}[] : Ptr{Cvoid}[handle(g) for g in gs]
    GC.@preserve vs gs hs gh reqs _check(ccall(_sym(:mx_autograd_mark_variables), Cint,
        (Cint, Ptr{Ptr{Cvoid}}, Ptr{Cint}, Ptr{Ptr{Cvoid}}),
        length(hs), hs, reqs, gs === nothing ? C_NULL : pointer(gh)))
    nothing
end

"""
    grad(x) -> NDArray or nothing

The gradient buffer of a variable marked with `attach_grad!` (shares memory with it).
"""
function grad(x::NDArray)
    out = Ref{Ptr{Cvoid}}(C_NULL)
    GC.@preserve x _check(ccall(_sym(:mx_ndarray_grad), Cint, (Ptr{Cvoid}, Ptr{Ptr{Cvoid}}), handle(x), out))
    out[] == C_NULL ? nothing : _wrap(out[])
end

_handles_or_null(v::Nothing, n) = Ptr{Cvoid}[]
_handles_or_null(v, n) = Ptr{Cvoid}[g === nothing ? C_NULL : handle(g) for g in v]

"""
    backward!(heads; head_grads=nothing, retain_graph=false, train_mode=true)

Back-propagate from `heads` (an NDArray or a vector) into the gradient buffers of the variables.
`head_grads` default to ones.
"""
function backward!(heads; head_grads=nothing, retain_graph::Bool=false, train_mode::Bool=true)
    hv = heads isa NDArray ? NDArray[heads] : collect(NDArray, heads)
    hg = head_grads isa NDArray ? Any[head_grads] : head_grads
    hh = Ptr{Cvoid}[handle(h) for h in hv]
    gh = _handles_or_null(hg, length(hv))
    hg === nothing || length(gh) == length(hh) || throw(MXInvalidArgumentError("backward!: $(length(hh)) heads but $(length(gh)) head_grads"))
    GC.@preserve hv hg hh gh _check(ccall(_sym(:mx_autograd_backward), Cint,
        (Cint, Ptr{Ptr{Cvoid}}, Ptr{Ptr{Cvoid}}, Cint, Cint),
        length(hh), hh, hg === nothing ? C_NULL : pointer(gh), retain_graph, train_mode))
    nothing
end

"""
    grad(heads, variables; head_grads=nothing, retain_graph=create_graph, create_graph=false, train_mode=true)

Gradients of `heads` with respect to `variables`, returned as new arrays (one NDArray when
`variables` is one NDArray) instead of being written into gradient buffers. With
`create_graph=true` the computation is recorded, for higher-order gradients.
"""
function grad(heads, variables; head_grads=nothing, create_graph::Bool=false,
              retain_graph::Bool=create_graph, train_mode::Bool=true)
    hv = heads isa NDArray ? NDArray[heads] : collect(NDArray, heads)
    vv = variables isa NDArray ? NDArray[variables] : collect(NDArray, variables)
    hg = head_grads isa NDArray ? Any[head_grads] : head_grads
    hh = Ptr{Cvoid}[handle(h) for h in hv]
    vh = Ptr{Cvoid}[handle(v) for v in vv]
    gh = _handles_or_null(hg, length(hv))
    out = fill(C_NULL, length(vv))
    GC.@preserve hv vv hg hh vh gh out _check(ccall(_sym(:mx_autograd_grad), Cint,
        (Cint, Ptr{Ptr{Cvoid}}, Ptr{Ptr{Cvoid}}, Cint, Ptr{Ptr{Cvoid}}, Cint, Cint, Cint, Ptr{Ptr{Cvoid}}),
        length(hh), hh, hg === nothing ? C_NULL : pointer(gh), length(vh), vh,
        retain_graph, create_graph, train_mode, out))
    res = NDArray[_wrap(h) for h in out]
    return variables isa NDArray ? res[1] : res
end
