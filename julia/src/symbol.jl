# Symbols: graphs built from registry ops. Every generated op function (`MX.FullyConnected`,
# `MX.nd.<op>`) composes a symbol when any input is a `SymbolicNode`; `MX.sym.<op>` always does
# (also with no inputs, which then become variables "<name>_<input>"). Shapes are logical and the
# same as in Python: infer_shape(net; data=(32, 784)) means a batch of 32 rows of 784 values.

"A symbol (graph) handle."
mutable struct SymbolicNode
    handle::Ptr{Cvoid}
    function SymbolicNode(h::Ptr{Cvoid})
        h == C_NULL && throw(MXInternalError("libmx returned a NULL symbol handle"))
        s = new(h)
        finalizer(_release_symbol!, s)
        s
    end
end
const Symbolic = SymbolicNode

function _release_symbol!(s::SymbolicNode)
    h = s.handle
    if h != C_NULL
        s.handle = C_NULL
        _check_nothrow(ccall(_sym(:mx_symbol_free), Cint, (Ptr{Cvoid},), h))
    end
    nothing
end
function handle(s::SymbolicNode)
    s.handle == C_NULL && throw(MXInvalidArgumentError("SymbolicNode: the symbol was freed"))
    s.handle
end

"Operators generated from the registry that always build symbols: `MX.sym.<op>`."
module sym
end

_attr_str(v::AbstractString) = String(v)
_attr_str(v::Tuple) = _param_str(v, true)
_attr_str(v) = _param_scalar(v)

"""
    MX.Variable(name; attrs=Dict(), shape=nothing, lr_mult=nothing, wd_mult=nothing, dtype=nothing, init=nothing)

A graph input. `init` is an initializer (or its description JSON) stored as `__init__`.
"""
function Variable(name::Union{AbstractString,Symbol}; attrs=Dict{String,String}(), shape=nothing,
                  lr_mult=nothing, wd_mult=nothing, dtype=nothing, init=nothing)
    a = Dict{String,String}(string(k) => _attr_str(v) for (k, v) in attrs)
    shape === nothing || (a["__shape__"] = _param_str(Tuple(shape), true))
    lr_mult === nothing || (a["__lr_mult__"] = _param_scalar(Float64(lr_mult)))
    wd_mult === nothing || (a["__wd_mult__"] = _param_scalar(Float64(wd_mult)))
    dtype === nothing || (a["__dtype__"] = string(dtype_code(dtype)))
    init === nothing || (a["__init__"] = init isa AbstractString ? String(init) : dumps(init))
    ks, kp = _cstrings(collect(keys(a)))
    vs, vp = _cstrings(String[a[k] for k in ks])
    out = Ref{Ptr{Cvoid}}(C_NULL)
    GC.@preserve ks vs kp vp _check(ccall(_sym(:mx_symbol_variable), Cint,
        (Cstring, Cint, Ptr{Ptr{UInt8}}, Ptr{Ptr{UInt8}}, Ptr{Ptr{Cvoid}}),
        string(name), length(ks), kp, vp, out))
    SymbolicNode(out[])
end
var(name; kwargs...) = Variable(name; kwargs...)

# Compose the op `info` from symbols: positional symbols, named symbols (inputs), parameters.
function _sym_compose(info::OpInfo, args::Tuple, kwargs)
    pos = SymbolicNode[]
    for a in args
        if a isa SymbolicNode
            push!(pos, a)
        elseif info.variadic && a isa Union{AbstractVector,Tuple} && all(x -> x isa SymbolicNode, a)
            append!(pos, a)
        else
            throw(MXTypeError("$(info.name): positional arguments of a symbolic call must be " *
                              "SymbolicNodes, got $(typeof(a)) (pass parameters by keyword)"))
        end
    end
    name = ""
    attrs = Dict{String,String}()
    keys_ = String[]; vals = String[]
    kwn = String[]; kws = SymbolicNode[]
    for (k, v) in kwargs
        ks = string(k)
        if ks == "name"
            v === nothing || (name = string(v))
        elseif ks == "attrs" || ks == "attr"
            for (ak, av) in v
                attrs[string(ak)] = _attr_str(av)
            end
        elseif v isa SymbolicNode
            push!(kwn, ks); push!(kws, v)
        elseif v !== nothing
            push!(keys_, ks); push!(vals, _param_str(v, ks in info.tuple_params))
        end
    end
    if info.variadic && !isempty(info.count_param) && !(info.count_param in keys_)
        push!(keys_, info.count_param); push!(vals, string(length(pos) + length(kws)))
    end
    p = _params(info, keys_, vals)
    ph = p === nothing ? C_NULL : p.handle
    ah = Ptr{Cvoid}[handle(s) for s in pos]
    kh = Ptr{Cvoid}[handle(s) for s in kws]
    kn, knp = _cstrings(kwn)
    aks, akp = _cstrings(collect(keys(attrs)))
    avs, avp = _cstrings(String[attrs[k] for k in aks])
    out = Ref{Ptr{Cvoid}}(C_NULL)
    GC.@preserve p pos kws ah kh kn knp aks akp avs avp _check(ccall(_sym(:mx_symbol_compose), Cint,
        (Ptr{Cvoid}, Ptr{Cvoid}, Cstring, Cint, Ptr{Ptr{Cvoid}}, Cint, Ptr{Ptr{UInt8}}, Ptr{Ptr{Cvoid}},
         Cint, Ptr{Ptr{UInt8}}, Ptr{Ptr{UInt8}}, Ptr{Ptr{Cvoid}}),
        info.handle, ph, isempty(name) ? C_NULL : pointer(name), length(ah), ah, length(kh), knp, kh,
        length(akp), akp, avp, out))
    SymbolicNode(out[])
end

_is_symbolic_call(args, kwargs) =
    any(a -> a isa SymbolicNode || (a isa Union{AbstractVector,Tuple} && !isempty(a) && all(x -> x isa SymbolicNode, a)), args) ||
    any(p -> p[2] isa SymbolicNode, kwargs)

function _define_sym_op(info::OpInfo, alias::AbstractString)
    jl = julia_name(alias)
    Core.eval(sym, :(function $jl(args...; kwargs...)
                         $(_sym_compose)($info, args, kwargs)
                     end))
    nothing
end

# ------------------------------------------------------------------ groups, outputs, internals

"Group several symbols into one with all their outputs."
function Group(syms::SymbolicNode...)
    hs = Ptr{Cvoid}[handle(s) for s in syms]
    out = Ref{Ptr{Cvoid}}(C_NULL)
    GC.@preserve syms hs _check(ccall(_sym(:mx_symbol_group), Cint, (Cint, Ptr{Ptr{Cvoid}}, Ptr{Ptr{Cvoid}}),
                                      length(hs), hs, out))
    SymbolicNode(out[])
end

function num_outputs(s::SymbolicNode)
    n = Ref{Cint}(0)
    GC.@preserve s _check(ccall(_sym(:mx_symbol_num_outputs), Cint, (Ptr{Cvoid}, Ptr{Cint}), handle(s), n))
    Int(n[])
end

"Output `i` (1-based) or the output named `name`."
function Base.getindex(s::SymbolicNode, i::Integer)
    1 <= i <= num_outputs(s) || throw(BoundsError(s, i))
    out = Ref{Ptr{Cvoid}}(C_NULL)
    GC.@preserve s _check(ccall(_sym(:mx_symbol_get_output), Cint, (Ptr{Cvoid}, Cint, Ptr{Ptr{Cvoid}}),
                                handle(s), i - 1, out))
    SymbolicNode(out[])
end
function Base.getindex(s::SymbolicNode, name::Union{AbstractString,Symbol})
    outs = list_outputs(s)
    i = findfirst(==(string(name)), outs)
    i === nothing && throw(MXInvalidArgumentError("no output named '$(name)' (outputs: $(join(outs, ", ")))"))
    s[i]
end
Base.length(s::SymbolicNode) = num_outputs(s)

"Every intermediate output as one symbol (index it by name: `get_internals(net)[\"fc1_output\"]`)."
function get_internals(s::SymbolicNode)
    out = Ref{Ptr{Cvoid}}(C_NULL)
    GC.@preserve s _check(ccall(_sym(:mx_symbol_get_internals), Cint, (Ptr{Cvoid}, Ptr{Ptr{Cvoid}}), handle(s), out))
    SymbolicNode(out[])
end

"The inputs of the last node (a group), or `nothing`."
function get_children(s::SymbolicNode)
    out = Ref{Ptr{Cvoid}}(C_NULL)
    GC.@preserve s _check(ccall(_sym(:mx_symbol_get_children), Cint, (Ptr{Cvoid}, Ptr{Ptr{Cvoid}}), handle(s), out))
    out[] == C_NULL ? nothing : SymbolicNode(out[])
end

function _symbol_list(s::SymbolicNode, kind::Integer)
    n = Ref{Cint}(0)
    p = Ref{Ptr{Ptr{UInt8}}}(C_NULL)
    GC.@preserve s begin
        _check(ccall(_sym(:mx_symbol_list), Cint, (Ptr{Cvoid}, Cint, Ptr{Cint}, Ptr{Ptr{Ptr{UInt8}}}),
                     handle(s), kind, n, p))
        return String[unsafe_string(unsafe_load(p[], i)) for i in 1:n[]]
    end
end
list_arguments(s::SymbolicNode) = _symbol_list(s, 0)
list_outputs(s::SymbolicNode) = _symbol_list(s, 1)
list_auxiliary_states(s::SymbolicNode) = _symbol_list(s, 2)
list_inputs(s::SymbolicNode) = _symbol_list(s, 3)

"The node name of a one-output symbol."
function Base.nameof(s::SymbolicNode)
    p = Ref{Ptr{UInt8}}(C_NULL)
    GC.@preserve s begin
        _check(ccall(_sym(:mx_symbol_name), Cint, (Ptr{Cvoid}, Ptr{Ptr{UInt8}}), handle(s), p))
        return unsafe_string(p[])
    end
end

"A node attribute (a String) or `nothing`."
function get_attr(s::SymbolicNode, key::Union{AbstractString,Symbol})
    p = Ref{Ptr{UInt8}}(C_NULL)
    GC.@preserve s begin
        _check(ccall(_sym(:mx_symbol_get_attr), Cint, (Ptr{Cvoid}, Cstring, Ptr{Ptr{UInt8}}), handle(s), string(key), p))
        return p[] == C_NULL ? nothing : unsafe_string(p[])
    end
end
function set_attr!(s::SymbolicNode, key::Union{AbstractString,Symbol}, value)
    GC.@preserve s _check(ccall(_sym(:mx_symbol_set_attr), Cint, (Ptr{Cvoid}, Cstring, Cstring),
                                handle(s), string(key), _attr_str(value)))
    s
end
"Attributes of every node, `Dict(node name => Dict(key => value))`."
function attr_dict(s::SymbolicNode)
    p = Ref{Ptr{UInt8}}(C_NULL)
    GC.@preserve s begin
        _check(ccall(_sym(:mx_symbol_list_attr), Cint, (Ptr{Cvoid}, Cint, Ptr{Ptr{UInt8}}), handle(s), 1, p))
        return parse_json(unsafe_string(p[]))
    end
end

# ------------------------------------------------------------------ JSON

"MXNet's -symbol.json text."
function to_json(s::SymbolicNode)
    p = Ref{Ptr{UInt8}}(C_NULL)
    GC.@preserve s begin
        _check(ccall(_sym(:mx_symbol_to_json), Cint, (Ptr{Cvoid}, Ptr{Ptr{UInt8}}), handle(s), p))
        return unsafe_string(p[])
    end
end
"A symbol from -symbol.json text."
function from_json(json::AbstractString)
    out = Ref{Ptr{Cvoid}}(C_NULL)
    _check(ccall(_sym(:mx_symbol_from_json), Cint, (Cstring, Ptr{Ptr{Cvoid}}), json, out))
    SymbolicNode(out[])
end
const load_json = from_json
"Write a -symbol.json file (atomically)."
function save(filename::AbstractString, s::SymbolicNode)
    GC.@preserve s _check(ccall(_sym(:mx_symbol_save), Cint, (Ptr{Cvoid}, Cstring), handle(s), filename))
    nothing
end
"Read a -symbol.json file (written by MX in any language, or by Apache MXNet)."
function load_symbol(filename::AbstractString)
    out = Ref{Ptr{Cvoid}}(C_NULL)
    _check(ccall(_sym(:mx_symbol_load), Cint, (Cstring, Ptr{Ptr{Cvoid}}), filename, out))
    SymbolicNode(out[])
end

function Base.show(io::IO, s::SymbolicNode)
    if s.handle == C_NULL
        print(io, "SymbolicNode(freed)")
    else
        print(io, "SymbolicNode(outputs: ", join(list_outputs(s), ", "), ")")
    end
end

# ------------------------------------------------------------------ inference

_shape_json(shapes) = "{" * join([json_string(string(k)) * ":" * json_string(collect(Int, v)) for (k, v) in shapes], ",") * "}"
_tuple_or_nothing(v) = v === nothing ? nothing : Tuple(Int[x for x in v])

"""
    infer_shape(sym; data=(32, 784), ...)  or  infer_shape(sym, Dict("data" => (32, 784)))

`(arg_shapes, out_shapes, aux_shapes)` as vectors of tuples (logical shapes, list order), or
`(nothing, nothing, nothing)` when the shapes cannot be completed. `partial=true` returns what is
known, with `nothing` for unknown shapes.
"""
function infer_shape(s::SymbolicNode, shapes::AbstractDict; partial::Bool=false)
    p = Ref{Ptr{UInt8}}(C_NULL)
    j = GC.@preserve s begin
        _check(ccall(_sym(:mx_symbol_infer_shape), Cint, (Ptr{Cvoid}, Cstring, Cint, Ptr{Ptr{UInt8}}),
                     handle(s), _shape_json(shapes), 1, p))
        parse_json(unsafe_string(p[]))
    end
    complete = j["complete"] === true
    (!complete && !partial) && return (nothing, nothing, nothing)
    conv(v) = [_tuple_or_nothing(x) for x in v]
    return (conv(j["arg_shapes"]), conv(j["out_shapes"]), conv(j["aux_shapes"]))
end
infer_shape(s::SymbolicNode; partial::Bool=false, kwargs...) =
    infer_shape(s, Dict{String,Any}(string(k) => v for (k, v) in kwargs); partial=partial)

"`(arg_types, out_types, aux_types)` as vectors of Julia element types (or `nothing`)."
function infer_type(s::SymbolicNode; kwargs...)
    known = "{" * join([json_string(string(k)) * ":" * json_string(dtype_name(v)) for (k, v) in kwargs], ",") * "}"
    p = Ref{Ptr{UInt8}}(C_NULL)
    j = GC.@preserve s begin
        _check(ccall(_sym(:mx_symbol_infer_type), Cint, (Ptr{Cvoid}, Cstring, Cint, Ptr{Ptr{UInt8}}),
                     handle(s), known, 1, p))
        parse_json(unsafe_string(p[]))
    end
    byname = Dict(v => k for (k, v) in _DTYPE_NAMES)
    conv(v) = [x === nothing ? nothing : byname[x] for x in v]
    return (conv(j["arg_types"]), conv(j["out_types"]), conv(j["aux_types"]))
end

# ------------------------------------------------------------------ arithmetic on symbols

function _sym_op(name::AbstractString, args::SymbolicNode...; kwargs...)
    _sym_compose(opinfo(name), args, kwargs)
end
Base.:+(a::SymbolicNode, b::SymbolicNode) = _sym_op("elemwise_add", a, b)
Base.:-(a::SymbolicNode, b::SymbolicNode) = _sym_op("elemwise_sub", a, b)
Base.:*(a::SymbolicNode, b::SymbolicNode) = _sym_op("elemwise_mul", a, b)
Base.:/(a::SymbolicNode, b::SymbolicNode) = _sym_op("elemwise_div", a, b)
Base.:+(a::SymbolicNode, b::Real) = _sym_op("_plus_scalar", a; scalar=Float64(b))
Base.:+(b::Real, a::SymbolicNode) = a + b
Base.:-(a::SymbolicNode, b::Real) = _sym_op("_minus_scalar", a; scalar=Float64(b))
Base.:-(b::Real, a::SymbolicNode) = _sym_op("_rminus_scalar", a; scalar=Float64(b))
Base.:*(a::SymbolicNode, b::Real) = _sym_op("_mul_scalar", a; scalar=Float64(b))
Base.:*(b::Real, a::SymbolicNode) = a * b
Base.:/(a::SymbolicNode, b::Real) = _sym_op("_div_scalar", a; scalar=Float64(b))
Base.:/(b::Real, a::SymbolicNode) = _sym_op("_rdiv_scalar", a; scalar=Float64(b))
Base.:-(a::SymbolicNode) = a * -1.0
