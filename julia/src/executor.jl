# Executors: a symbol bound to arrays on a device. Array lists follow the symbol's
# list_arguments / list_outputs / list_auxiliary_states order; the dictionaries index them by name.

"""
    Executor

A symbol bound to arrays on a device (`MX.bind`, `MX.simple_bind`): `forward(e; is_train)`,
`backward(e)`, and its arrays by position (`e.arg_arrays`, `e.grad_arrays`, `e.aux_arrays`,
`e.outputs`) or by name (`e.arg_dict`, `e.grad_dict`, `e.aux_dict`).
"""
mutable struct Executor
    handle::Ptr{Cvoid}
    symbol::SymbolicNode
    arg_arrays::Vector{NDArray}
    grad_arrays::Vector{Union{NDArray,Nothing}}
    aux_arrays::Vector{NDArray}
    outputs::Vector{NDArray}
    arg_dict::Dict{String,NDArray}
    grad_dict::Dict{String,NDArray}
    aux_dict::Dict{String,NDArray}
    function Executor(h::Ptr{Cvoid}, s::SymbolicNode)
        h == C_NULL && throw(MXInternalError("libmx returned a NULL executor handle"))
        e = new(h, s)
        finalizer(_release_executor!, e)
        e
    end
end

function _release_executor!(e::Executor)
    h = e.handle
    if h != C_NULL
        e.handle = C_NULL
        _check_nothrow(ccall(_sym(:mx_executor_free), Cint, (Ptr{Cvoid},), h))
    end
    nothing
end
function handle(e::Executor)
    e.handle == C_NULL && throw(MXInvalidArgumentError("Executor: freed"))
    e.handle
end

function _exec_arrays(e::Executor, kind::Integer)
    n = Ref{Cint}(0)
    p = Ref{Ptr{Ptr{Cvoid}}}(C_NULL)
    GC.@preserve e _check(ccall(_sym(:mx_executor_arrays), Cint, (Ptr{Cvoid}, Cint, Ptr{Cint}, Ptr{Ptr{Ptr{Cvoid}}}),
                                handle(e), kind, n, p))
    raw = Ptr{Cvoid}[unsafe_load(p[], i) for i in 1:n[]]
    Union{NDArray,Nothing}[h == C_NULL ? nothing : _wrap(h) for h in raw]
end

function _fill_arrays!(e::Executor)
    s = e.symbol
    e.arg_arrays = NDArray[x for x in _exec_arrays(e, 1)]
    e.grad_arrays = _exec_arrays(e, 2)
    e.aux_arrays = NDArray[x for x in _exec_arrays(e, 3)]
    e.outputs = NDArray[x for x in _exec_arrays(e, 0)]
    e.arg_dict = Dict(zip(list_arguments(s), e.arg_arrays))
    e.grad_dict = Dict{String,NDArray}(n => g for (n, g) in zip(list_arguments(s), e.grad_arrays) if g !== nothing)
    e.aux_dict = Dict(zip(list_auxiliary_states(s), e.aux_arrays))
    e
end

_grad_req_code(r::Symbol) = get(_GRAD_REQS, r, nothing) === nothing ?
    throw(MXInvalidArgumentError("grad_req must be one of :null, :write, :inplace, :add; got :$(r)")) : _GRAD_REQS[r]
_grad_req_code(r::AbstractString) = _grad_req_code(Symbol(r))

"""
    simple_bind(sym, ctx=cpu(); grad_req=:write, type_dict=nothing, data=(32, 784), ...)

Allocate every array (zero-filled) from the given input shapes. `grad_req` is one symbol for
every argument or a Dict name => :null/:write/:add.
"""
simple_bind(s::SymbolicNode, ctx::Context=current_context(); grad_req=:write, type_dict=nothing, kwargs...) =
    simple_bind(s, ctx, Dict{String,Any}(string(k) => v for (k, v) in kwargs); grad_req=grad_req, type_dict=type_dict)
function simple_bind(s::SymbolicNode, ctx::Context, shape_dict::AbstractDict; grad_req=:write, type_dict=nothing)
    shapes = _shape_json(shape_dict)
    types = type_dict === nothing ? nothing :
        "{" * join([json_string(string(k)) * ":" * json_string(dtype_name(v)) for (k, v) in type_dict], ",") * "}"
    if grad_req isa AbstractDict
        default = MX_GRAD_NULL
        reqs = "{" * join([json_string(string(k)) * ":" * json_string(string(v)) for (k, v) in grad_req], ",") * "}"
    else
        default = _grad_req_code(grad_req)
        reqs = nothing
    end
    out = Ref{Ptr{Cvoid}}(C_NULL)
    GC.@preserve s _check(ccall(_sym(:mx_executor_simple_bind), Cint,
        (Ptr{Cvoid}, Cint, Cint, Cstring, Cstring, Cint, Cstring, Ptr{Ptr{Cvoid}}),
        handle(s), ctx.device_type, ctx.device_id, shapes,
        types === nothing ? Cstring(C_NULL) : types, default,
        reqs === nothing ? Cstring(C_NULL) : reqs, out))
    _fill_arrays!(Executor(out[], s))
end

"""
    bind(sym, ctx, args; args_grad=nothing, grad_req=:write, aux_states=NDArray[])

Bind given arrays (vectors in list order, or Dicts by name).
"""
function bind(s::SymbolicNode, ctx::Context, args; args_grad=nothing, grad_req=:write, aux_states=NDArray[])
    names = list_arguments(s)
    auxn = list_auxiliary_states(s)
    _ordered(v::AbstractVector, ns, what) = (length(v) == length(ns) ||
        throw(MXInvalidArgumentError("bind: $(length(v)) $(what) given, the symbol has $(length(ns))")); collect(v))
    _ordered(d::AbstractDict, ns, what) = [get(d, n, get(d, Symbol(n), nothing)) for n in ns]
    a = _ordered(args, names, "arguments")
    any(x -> x === nothing, a) && throw(MXInvalidArgumentError("bind: missing argument(s) " *
        join([n for (n, x) in zip(names, a) if x === nothing], ", ")))
    g = args_grad === nothing ? fill(nothing, length(names)) : _ordered(args_grad, names, "gradients")
    x = _ordered(aux_states, auxn, "auxiliary states")
    reqs = grad_req isa AbstractDict ? Cint[_grad_req_code(get(grad_req, n, :null)) for n in names] :
                                       fill(Cint(_grad_req_code(grad_req)), length(names))
    for i in eachindex(g)
        g[i] === nothing && (reqs[i] = MX_GRAD_NULL)
    end
    ah = Ptr{Cvoid}[handle(v) for v in a]
    gh = Ptr{Cvoid}[v === nothing ? C_NULL : handle(v) for v in g]
    xh = Ptr{Cvoid}[handle(v) for v in x]
    out = Ref{Ptr{Cvoid}}(C_NULL)
    GC.@preserve s a g x ah gh xh reqs _check(ccall(_sym(:mx_executor_bind), Cint,
        (Ptr{Cvoid}, Cint, Cint, Cint, Ptr{Ptr{Cvoid}}, Ptr{Ptr{Cvoid}}, Ptr{Cint}, Cint, Ptr{Ptr{Cvoid}}, Ptr{Ptr{Cvoid}}),
        handle(s), ctx.device_type, ctx.device_id, length(ah), ah, args_grad === nothing ? C_NULL : pointer(gh),
        reqs, length(xh), xh, out))
    _fill_arrays!(Executor(out[], s))
end

"""
    forward(exec; is_train=false, data=..., ...)

Copy the given inputs (NDArrays or Julia arrays) into the bound arguments and run the graph.
Returns the outputs.
"""
function forward(e::Executor; is_train::Bool=false, kwargs...)
    for (k, v) in kwargs
        dst = get(e.arg_dict, string(k), nothing)
        dst === nothing && throw(MXInvalidArgumentError("forward: '$(k)' is not an argument of the symbol"))
        copyto!(dst, v)
    end
    GC.@preserve e _check(ccall(_sym(:mx_executor_forward), Cint, (Ptr{Cvoid}, Cint), handle(e), is_train ? 1 : 0))
    e.outputs = NDArray[x for x in _exec_arrays(e, 0)]
    e.outputs
end

"Back-propagate (head gradients: one NDArray per output, or nothing for ones / loss outputs)."
function backward(e::Executor, head_grads=nothing; is_train::Bool=true)
    hg = head_grads === nothing ? NDArray[] : (head_grads isa NDArray ? NDArray[head_grads] : collect(head_grads))
    hh = Ptr{Cvoid}[handle(x) for x in hg]
    GC.@preserve e hg hh _check(ccall(_sym(:mx_executor_backward), Cint, (Ptr{Cvoid}, Cint, Ptr{Ptr{Cvoid}}, Cint),
                                      handle(e), length(hh), isempty(hh) ? C_NULL : pointer(hh), is_train ? 1 : 0))
    nothing
end

"Copy parameters (Dicts name => NDArray) into the executor's arrays."
function copy_params_from!(e::Executor, arg_params::AbstractDict, aux_params::AbstractDict=Dict{String,NDArray}();
                           allow_extra_params::Bool=false)
    for (k, v) in arg_params
        dst = get(e.arg_dict, string(k), nothing)
        dst === nothing ? (allow_extra_params || throw(MXInvalidArgumentError("copy_params_from!: no argument '$(k)'"))) :
                          copyto!(dst, v)
    end
    for (k, v) in aux_params
        dst = get(e.aux_dict, string(k), nothing)
        dst === nothing ? (allow_extra_params || throw(MXInvalidArgumentError("copy_params_from!: no auxiliary state '$(k)'"))) :
                          copyto!(dst, v)
    end
    e
end

"(planned bytes, unplanned bytes) of the executor's memory plan."
function memory(e::Executor)
    a = Ref{Int64}(0); b = Ref{Int64}(0)
    GC.@preserve e _check(ccall(_sym(:mx_executor_memory), Cint, (Ptr{Cvoid}, Ptr{Int64}, Ptr{Int64}), handle(e), a, b))
    (Int(a[]), Int(b[]))
end

Base.show(io::IO, e::Executor) = print(io, "Executor(", e.handle == C_NULL ? "freed" : join(list_outputs(e.symbol), ", "), ")")

# ------------------------------------------------------------------ NDArray files

"""
    MX.save(filename, arrays)

Save NDArrays: a Dict name => NDArray (names kept) or a vector (unnamed list), in MXNet's
.params format (or safetensors by extension).
"""
function save(filename::AbstractString, arrays::AbstractDict)
    ks = sort!([string(k) for k in keys(arrays)])
    vals = NDArray[haskey(arrays, k) ? arrays[k] : arrays[Symbol(k)] for k in ks]
    ns, np = _cstrings(ks)
    hs = Ptr{Cvoid}[handle(v) for v in vals]
    GC.@preserve vals hs ns np _check(ccall(_sym(:mx_ndarray_save), Cint,
        (Cstring, Cint, Ptr{Ptr{Cvoid}}, Ptr{Ptr{UInt8}}, Cint), filename, length(hs), hs, np, 0))
    nothing
end
function save(filename::AbstractString, arrays::AbstractVector{<:NDArray})
    hs = Ptr{Cvoid}[handle(v) for v in arrays]
    GC.@preserve arrays hs _check(ccall(_sym(:mx_ndarray_save), Cint,
        (Cstring, Cint, Ptr{Ptr{Cvoid}}, Ptr{Ptr{UInt8}}, Cint), filename, length(hs), hs, C_NULL, 0))
    nothing
end
save(filename::AbstractString, x::NDArray) = save(filename, NDArray[x])

"Load an NDArray file: a Dict name => NDArray when named, else a Vector."
function load(filename::AbstractString)
    n = Ref{Cint}(0)
    pa = Ref{Ptr{Ptr{Cvoid}}}(C_NULL)
    pn = Ref{Ptr{Ptr{UInt8}}}(C_NULL)
    _check(ccall(_sym(:mx_ndarray_load), Cint, (Cstring, Ptr{Cint}, Ptr{Ptr{Ptr{Cvoid}}}, Ptr{Ptr{Ptr{UInt8}}}),
                 filename, n, pa, pn))
    raw = Ptr{Cvoid}[unsafe_load(pa[], i) for i in 1:n[]]
    names = pn[] == C_NULL ? nothing : String[unsafe_string(unsafe_load(pn[], i)) for i in 1:n[]]
    arrs = NDArray[_wrap(h) for h in raw]
    names === nothing && return arrs
    Dict{String,NDArray}(zip(names, arrs))
end
