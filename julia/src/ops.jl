# Operators: the registry (names, schemas), parameter conversion and caching, invocation, and one
# Julia function per registry operator generated at load time from the registry's JSON schema
# (mirroring python/mx/ndarray/register.py).
#
# Every op is `MX.nd.<name>` (aliases too; names that are not valid Julia identifiers get a
# trailing `_`). Ops whose names do not collide with anything visible in `MX` are also `MX.<name>`.
# Inputs are positional NDArrays (or keyword NDArrays by input name); parameters are keywords with
# MXNet's semantics (axes are 0-based, as the logical shapes are the same in every language):
#     MX.nd.broadcast_add(a, b);  MX.nd.sum(x; axis=1);  MX.nd.slice(x; :begin => (0,), :end => (2,))

"Operators generated from the registry: `MX.nd.<op name>`, and the creation functions."
module nd
import ..MX
# MX.nd.ones((2, 3)) etc. are MX's creation functions (creation.jl), never Base's.
for f in (:zeros, :ones, :full, :empty, :array, :arange)
    @eval begin
        @doc $("    MX.nd.$(f)(...)\n\nThe same as `MX.$(f)`: returns an NDArray.")
        $f(args...; kwargs...) = MX.$f(args...; kwargs...)
    end
end
end

"Registry information of one operator."
struct OpInfo
    name::String
    handle::Ptr{Cvoid}
    schema::Dict{String,Any}
    inputs::Vector{String}
    aux::Vector{String}
    variadic::Bool
    count_param::String
    single_output::Bool
    tuple_params::Set{String}
end

const _OPS = Dict{String,OpInfo}()
const _OP_NAMES = String[]

"Names of all registered operators (registry order)."
list_ops() = copy(_OP_NAMES)

function _op_count()
    n = Ref{Cint}(0)
    _check(ccall(_sym(:mx_op_count), Cint, (Ptr{Cint},), n))
    Int(n[])
end

function _op_name(i::Integer)
    p = Ref{Ptr{UInt8}}(C_NULL)
    _check(ccall(_sym(:mx_op_name), Cint, (Cint, Ptr{Ptr{UInt8}}), i, p))
    unsafe_string(p[])
end

function _op_find(name::AbstractString)
    h = Ref{Ptr{Cvoid}}(C_NULL)
    _check(ccall(_sym(:mx_op_find), Cint, (Cstring, Ptr{Ptr{Cvoid}}), name, h))
    h[]
end

function _op_schema_json(h::Ptr{Cvoid})
    p = Ref{Ptr{UInt8}}(C_NULL)
    _check(ccall(_sym(:mx_op_schema), Cint, (Ptr{Cvoid}, Ptr{Ptr{UInt8}}), h, p))
    unsafe_string(p[])
end

_strs(v) = v === nothing ? String[] : String[string(x) for x in v]

function _make_opinfo(name::AbstractString)
    h = _op_find(name)
    s = parse_json(_op_schema_json(h))
    params = get(s, "params", Any[])
    tp = Set{String}()
    for p in params
        t = lowercase(string(get(p, "type", "")))
        (occursin("tuple", t) || occursin("shape", t)) && push!(tp, string(p["name"]))
    end
    cp = get(s, "variadic_count_param", "")
    OpInfo(string(get(s, "name", name)), h, s, _strs(get(s, "inputs", nothing)), _strs(get(s, "aux", nothing)),
           get(s, "variadic_input", false) === true, cp === nothing ? "" : string(cp),
           length(_strs(get(s, "outputs", nothing))) == 1 && get(s, "num_outputs_depend_on_params", false) !== true,
           tp)
end

"Registry information of an op by name or alias (cached)."
function opinfo(name::AbstractString)
    info = get(_OPS, name, nothing)
    info === nothing || return info
    info = _make_opinfo(name)
    _OPS[String(name)] = info
    info
end

"Whether libmx registers an op of this name (or alias)."
function has_op(name::AbstractString)
    haskey(_OPS, name) && return true
    try
        opinfo(name)
        return true
    catch e
        e isa MXError || rethrow()
        return false
    end
end

"The parsed JSON schema of an op."
op_schema(name::AbstractString) = opinfo(name).schema

# ------------------------------------------------------------------ parameter values
#
# Values are passed as MXNet writes them in symbol JSON: true -> "True", (2, 3) -> "(2, 3)",
# nothing -> "None", Float32 -> "float32", MX.cpu() -> "cpu(0)".

_param_scalar(v::Bool) = v ? "True" : "False"
_param_scalar(v::Integer) = string(v)
function _param_scalar(v::AbstractFloat)
    isnan(v) && return "nan"
    isinf(v) && return v > 0 ? "inf" : "-inf"
    (isinteger(v) && abs(v) < 1e15) && return string(Int64(v))
    string(Float64(v))
end
_param_scalar(v::Rational) = _param_scalar(Float64(v))
_param_scalar(v::AbstractString) = String(v)
_param_scalar(v::Symbol) = string(v)
_param_scalar(::Nothing) = "None"
_param_scalar(v::Context) = string(v)
_param_scalar(v::Type) = dtype_name(v)
_param_scalar(v) = throw(MXTypeError("cannot pass a value of type $(typeof(v)) as an operator parameter"))

function _param_str(v, istuple::Bool)
    if v isa Union{Tuple,AbstractVector}
        items = String[_param_scalar(x) for x in v]
        return "(" * join(items, ", ") * (length(items) == 1 ? ",)" : ")")
    end
    (istuple && v isa Integer && !(v isa Bool)) && return "(" * string(v) * ",)"
    _param_scalar(v)
end

mutable struct _Params
    handle::Ptr{Cvoid}
    function _Params(h::Ptr{Cvoid})
        p = new(h)
        finalizer(_release_params!, p)
        p
    end
end
function _release_params!(p::_Params)
    h = p.handle
    if h != C_NULL
        p.handle = C_NULL
        _check_nothrow(ccall(_sym(:mx_params_free), Cint, (Ptr{Cvoid},), h))
    end
    nothing
end

const _PARAMS_CACHE = Dict{Tuple{Ptr{Cvoid},String},_Params}()
const _PARAMS_CACHE_MAX = 65536

# Parsed parameters for (op, keys, values): parsed once by the core and cached.
function _params(info::OpInfo, keys::Vector{String}, vals::Vector{String})
    isempty(keys) && return nothing
    p = sortperm(keys)
    keys = keys[p]; vals = vals[p]
    ck = (info.handle, join(String[k * "\x01" * v for (k, v) in zip(keys, vals)], "\x02"))
    cached = get(_PARAMS_CACHE, ck, nothing)
    cached === nothing || return cached
    ks, kp = _cstrings(keys)
    vs, vp = _cstrings(vals)
    out = Ref{Ptr{Cvoid}}(C_NULL)
    GC.@preserve ks vs kp vp _check(ccall(_sym(:mx_params_new), Cint,
        (Ptr{Cvoid}, Cint, Ptr{Ptr{UInt8}}, Ptr{Ptr{UInt8}}, Ptr{Ptr{Cvoid}}),
        info.handle, length(keys), kp, vp, out))
    length(_PARAMS_CACHE) >= _PARAMS_CACHE_MAX && empty!(_PARAMS_CACHE)  # unbounded distinct values
    _PARAMS_CACHE[ck] = _Params(out[])
end

"The canonical JSON of an op's parameters with defaults filled in (a Dict)."
function op_params(name::AbstractString; kwargs...)
    info = opinfo(name)
    ks = String[string(k) for (k, _) in kwargs]
    vs = String[_param_str(v, string(k) in info.tuple_params) for (k, v) in kwargs]
    p = _params(info, ks, vs)
    p === nothing && (p = _params_default(info))
    j = Ref{Ptr{UInt8}}(C_NULL)
    GC.@preserve p _check(ccall(_sym(:mx_params_json), Cint, (Ptr{Cvoid}, Ptr{Ptr{UInt8}}), p.handle, j))
    parse_json(unsafe_string(j[]))
end

function _params_default(info::OpInfo)
    out = Ref{Ptr{Cvoid}}(C_NULL)
    _check(ccall(_sym(:mx_params_new), Cint, (Ptr{Cvoid}, Cint, Ptr{Ptr{UInt8}}, Ptr{Ptr{UInt8}}, Ptr{Ptr{Cvoid}}),
                 info.handle, 0, C_NULL, C_NULL, out))
    _Params(out[])
end

# ------------------------------------------------------------------ invocation

function _invoke(info::OpInfo, inputs::Vector{<:NDArray}, params::Union{_Params,Nothing}, out)
    hs = Ptr{Cvoid}[handle(x) for x in inputs]
    ph = params === nothing ? C_NULL : params.handle
    if out !== nothing
        outs = out isa NDArray ? NDArray[out] : collect(NDArray, out)
        oh = Ptr{Cvoid}[handle(o) for o in outs]
        n = Ref{Cint}(0)
        op = Ref{Ptr{Ptr{Cvoid}}}(C_NULL)
        GC.@preserve inputs outs params hs oh _check(ccall(_sym(:mx_op_invoke), Cint,
            (Ptr{Cvoid}, Ptr{Cvoid}, Cint, Ptr{Ptr{Cvoid}}, Cint, Ptr{Ptr{Cvoid}}, Ptr{Cint}, Ptr{Ptr{Ptr{Cvoid}}}),
            info.handle, ph, length(hs), hs, length(oh), oh, n, op))
        return out
    end
    if info.single_output
        r = Ref{Ptr{Cvoid}}(C_NULL)
        GC.@preserve inputs params hs _check(ccall(_sym(:mx_op_invoke1), Cint,
            (Ptr{Cvoid}, Ptr{Cvoid}, Cint, Ptr{Ptr{Cvoid}}, Ptr{Ptr{Cvoid}}),
            info.handle, ph, length(hs), hs, r))
        return _wrap(r[])
    end
    n = Ref{Cint}(0)
    op = Ref{Ptr{Ptr{Cvoid}}}(C_NULL)
    GC.@preserve inputs params hs _check(ccall(_sym(:mx_op_invoke), Cint,
        (Ptr{Cvoid}, Ptr{Cvoid}, Cint, Ptr{Ptr{Cvoid}}, Cint, Ptr{Ptr{Cvoid}}, Ptr{Cint}, Ptr{Ptr{Ptr{Cvoid}}}),
        info.handle, ph, length(hs), hs, 0, C_NULL, n, op))
    # take ownership of every handle first (thread-local array), then wrap
    raw = Ptr{Cvoid}[unsafe_load(op[], i) for i in 1:n[]]
    res = NDArray[]
    for (i, h) in enumerate(raw)
        try
            push!(res, _wrap(h))
        catch
            for j in i+1:length(raw)
                _check_nothrow(ccall(_sym(:mx_ndarray_free), Cint, (Ptr{Cvoid},), raw[j]))
            end
            rethrow()
        end
    end
    return length(res) == 1 ? res[1] : res
end

"""
    invoke_op(name, inputs; out=nothing, params...)

Run the registry op `name` on a vector of NDArrays. Returns one NDArray, or a vector for ops with
several visible outputs; with `out` the results are written there.
"""
function invoke_op(name::AbstractString, inputs::AbstractVector; out=nothing, kwargs...)
    info = opinfo(name)
    _op_call(info, Tuple(inputs), kwargs, out)
end

# The body of every generated op function.
function _op_call(info::OpInfo, args::Tuple, kwargs, out)
    if _is_symbolic_call(args, kwargs)
        out === nothing || throw(MXInvalidArgumentError("$(info.name): `out` cannot be given when composing symbols"))
        return _sym_compose(info, args, kwargs)
    end
    inputs = NDArray[]
    for a in args
        if a isa NDArray
            push!(inputs, a)
        elseif info.variadic && a isa Union{AbstractVector,Tuple} && all(x -> x isa NDArray, a)
            append!(inputs, a)
        else
            throw(MXTypeError("$(info.name): positional arguments must be NDArrays, got $(typeof(a)) " *
                              "(pass parameters by keyword)"))
        end
    end
    keys = String[]; vals = String[]
    named = Dict{String,NDArray}()
    for (k, v) in kwargs
        ks = string(k)
        if ks == "name"
            continue
        elseif ks in info.inputs || ks in info.aux
            v === nothing && continue
            v isa NDArray || throw(MXTypeError("$(info.name): input '$(ks)' must be an NDArray, got $(typeof(v))"))
            named[ks] = v
        elseif v isa NDArray
            throw(MXInvalidArgumentError("$(info.name): '$(ks)' is not an input of this op " *
                                         "(inputs: $(join(vcat(info.inputs, info.aux), ", ")))"))
        elseif v !== nothing
            push!(keys, ks); push!(vals, _param_str(v, ks in info.tuple_params))
        end
    end
    if !isempty(named)
        # keyword inputs follow the positional ones in declaration order
        order = vcat(info.inputs, info.aux)
        for k in order[min(length(inputs), length(order))+1:end]
            haskey(named, k) && push!(inputs, pop!(named, k))
        end
        isempty(named) || throw(MXInvalidArgumentError("$(info.name): input(s) $(join(collect(keys(named)), ", ")) " *
                                                      "given both by position and by name"))
    end
    if info.variadic && !isempty(info.count_param) && !(info.count_param in keys)
        push!(keys, info.count_param); push!(vals, string(length(inputs) - length(info.aux)))
    end
    _invoke(info, inputs, _params(info, keys, vals), out)
end

# ------------------------------------------------------------------ generation at load

const _JL_KEYWORDS = Set(["baremodule", "begin", "break", "catch", "const", "continue", "do", "else",
    "elseif", "end", "export", "false", "finally", "for", "function", "global", "if", "import",
    "let", "local", "macro", "module", "quote", "return", "struct", "true", "try", "using", "while",
    "where", "in", "isa", "abstract", "mutable", "primitive", "type", "nd", "eval", "include"])

"The Julia name of an op (`MX.nd.<name>`)."
julia_name(name::AbstractString) =
    (Base.isidentifier(name) && !(name in _JL_KEYWORDS) && !Base.isoperator(Symbol(name))) ?
        Symbol(name) : Symbol(replace(name, r"[^A-Za-z0-9_]" => "_") * "_")

"The docstring of a generated op function, from its schema."
function op_docstring(s::Dict{String,Any}, jlname::Symbol)
    io = IOBuffer()
    name = string(get(s, "name", jlname))
    ins = _strs(get(s, "inputs", nothing))
    aux = _strs(get(s, "aux", nothing))
    variadic = get(s, "variadic_input", false) === true
    sig = variadic ? "data..." : join(ins, ", ")
    println(io, "    MX.nd.", jlname, "(", sig, isempty(sig) ? "" : "; ", "params..., out=nothing)")
    println(io)
    println(io, get(s, "doc", nothing) === nothing || isempty(s["doc"]) ? name : s["doc"])
    println(io)
    println(io, "Registry op `", name, "`", isempty(_strs(get(s, "aliases", nothing))) ? "" :
                " (aliases: " * join(_strs(s["aliases"]), ", ") * ")", ".")
    println(io)
    println(io, "# Inputs")
    for i in ins
        println(io, "- `", i, "::NDArray`")
    end
    variadic && println(io, "- any number of NDArrays (positional, or one vector)")
    for a in aux
        println(io, "- `", a, "::NDArray`: auxiliary state, updated in place")
    end
    params = get(s, "params", Any[])
    if !isempty(params)
        println(io)
        println(io, "# Parameters (keywords)")
        for p in params
            t = string(get(p, "type", ""))
            ch = get(p, "choices", nothing)
            if ch !== nothing && !isempty(ch)
                t = "{" * join(["\"$(c)\"" for c in ch], ", ") * "}"
            end
            req = get(p, "required", false) === true ? "required" :
                  "default " * (get(p, "default", nothing) === nothing ? "None" : string(p["default"]))
            d = get(p, "doc", nothing)
            println(io, "- `", p["name"], "` (", t, ", ", req, ")", d === nothing || isempty(d) ? "" : ": " * d)
        end
    end
    println(io)
    println(io, "Returns an NDArray, or a vector of NDArrays for several outputs; with `out`, writes there.")
    String(take!(io))
end

# Julia functions extended for NDArrays when the registry has the op (elementwise maths and
# reductions; the registry's parameters are keywords).
const _BASE_METHODS = [(:abs, "abs"), (:sign, "sign"), (:sqrt, "sqrt"), (:cbrt, "cbrt"), (:exp, "exp"),
    (:expm1, "expm1"), (:log, "log"), (:log2, "log2"), (:log10, "log10"), (:log1p, "log1p"),
    (:sin, "sin"), (:cos, "cos"), (:tan, "tan"), (:asin, "arcsin"), (:acos, "arccos"),
    (:atan, "arctan"), (:sinh, "sinh"), (:cosh, "cosh"), (:tanh, "tanh"), (:asinh, "arcsinh"),
    (:acosh, "arccosh"), (:atanh, "arctanh"), (:floor, "floor"), (:ceil, "ceil"),
    (:trunc, "trunc"), (:round, "rint"), (:sum, "sum"), (:prod, "prod"), (:maximum, "max"),
    (:minimum, "min"), (:transpose, "transpose"), (:permutedims, "transpose")]

const _GENERATED = Ref(false)

"Generate `MX.nd.<op>` for every registry op (run by `__init__`)."
function generate_ops!()
    empty!(_OP_NAMES)
    n = _op_count()
    for i in 0:n-1
        push!(_OP_NAMES, _op_name(i))
    end
    for name in _OP_NAMES
        info = opinfo(name)
        for alias in vcat([name], _strs(get(info.schema, "aliases", nothing)))
            _OPS[alias] = info
            _define_op(info, alias)
            _define_sym_op(info, alias)
        end
    end
    for (f, opname) in _BASE_METHODS
        if has_op(opname) && !isempty(opinfo(opname).inputs)
            info = opinfo(opname)
            Core.eval(@__MODULE__, :(Base.$f(x::NDArray; out=nothing, kwargs...) =
                                      _op_call($info, (x,), kwargs, out)))
        end
    end
    _GENERATED[] = true
    nothing
end

function _define_op(info::OpInfo, alias::AbstractString)
    jl = julia_name(alias)
    doc = op_docstring(info.schema, jl)
    fdef = :(function $jl(args...; out=nothing, kwargs...)
                 $(_op_call)($info, args, kwargs, out)
             end)
    Core.eval(nd, :(Core.@doc $doc $fdef))
    # also MX.<name> when that name is free in MX (and not internal)
    if !startswith(alias, "_") && !isdefined(@__MODULE__, jl)
        Core.eval(@__MODULE__, :(const $jl = nd.$jl))
    end
    nothing
end
