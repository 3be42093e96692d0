# Arithmetic and broadcasting mapped to registry operators (no math happens in Julia).
#   a .+ b (NDArray, NDArray)  -> broadcast_add (numpy broadcasting over the logical shapes)
#   a .+ 2 / 2 .+ a             -> _plus_scalar
#   2 .- a                      -> _rminus_scalar
# Other functions f.(x) map to the registry op of the same name (or the table below).

# Julia function -> (array op array, array op scalar, scalar op array)
const _BINARY_OPS = Dict{Any,NTuple{3,String}}(
    (+) => ("broadcast_add", "_plus_scalar", "_plus_scalar"),
    (-) => ("broadcast_sub", "_minus_scalar", "_rminus_scalar"),
    (*) => ("broadcast_mul", "_mul_scalar", "_mul_scalar"),
    (/) => ("broadcast_div", "_div_scalar", "_rdiv_scalar"),
    (^) => ("broadcast_power", "_power_scalar", "_rpower_scalar"),
    (%) => ("broadcast_mod", "_mod_scalar", "_rmod_scalar"),
    mod => ("broadcast_mod", "_mod_scalar", "_rmod_scalar"),
    (==) => ("broadcast_equal", "_equal_scalar", "_equal_scalar"),
    (!=) => ("broadcast_not_equal", "_not_equal_scalar", "_not_equal_scalar"),
    (>) => ("broadcast_greater", "_greater_scalar", "_lesser_scalar"),
    (>=) => ("broadcast_greater_equal", "_greater_equal_scalar", "_lesser_equal_scalar"),
    (<) => ("broadcast_lesser", "_lesser_scalar", "_greater_scalar"),
    (<=) => ("broadcast_lesser_equal", "_lesser_equal_scalar", "_greater_equal_scalar"),
    (&) => ("broadcast_logical_and", "_logical_and_scalar", "_logical_and_scalar"),
    (|) => ("broadcast_logical_or", "_logical_or_scalar", "_logical_or_scalar"),
    xor => ("broadcast_logical_xor", "_logical_xor_scalar", "_logical_xor_scalar"),
    max => ("broadcast_maximum", "_maximum_scalar", "_maximum_scalar"),
    min => ("broadcast_minimum", "_minimum_scalar", "_minimum_scalar"),
    hypot => ("broadcast_hypot", "_hypot_scalar", "_hypot_scalar"))

# Julia function -> registry op, where the names differ
const _UNARY_OPS = Dict{Any,String}(
    (-) => "negative", (!) => "logical_not", asin => "arcsin", acos => "arccos", atan => "arctan",
    asinh => "arcsinh", acosh => "arccosh", atanh => "arctanh", ceil => "ceil", round => "rint",
    identity => "_copy")

function _need_op(op::AbstractString, what)
    has_op(op) || throw(MXUnsupportedError("$(what) needs the registry op '$(op)', which this libmx does not register"))
    op
end

_fname(f) = try string(nameof(f)) catch; string(f) end

# An array operand that is not an NDArray becomes one with the dtype and device of the other.
_as_nd(v::NDArray, like::NDArray) = v
_as_nd(v::AbstractArray, like::NDArray) = array(v; dtype=eltype(like), ctx=context(like))
_as_nd(v, like::NDArray) = throw(MXTypeError("cannot combine an NDArray with a value of type $(typeof(v))"))

function _binary(f, a, b)
    ops = get(_BINARY_OPS, f, nothing)
    ops === nothing && return _unknown(f, a, b)
    what = "broadcasting '$(_fname(f))'"
    if a isa NDArray && b isa NDArray
        return invoke_op(_need_op(ops[1], what), [a, b])
    elseif a isa NDArray && b isa Number
        return invoke_op(_need_op(ops[2], what), [a]; scalar=Float64(b))
    elseif b isa NDArray && a isa Number
        return invoke_op(_need_op(ops[3], what), [b]; scalar=Float64(a))
    elseif a isa NDArray
        return invoke_op(_need_op(ops[1], what), [a, _as_nd(b, a)])
    else
        return invoke_op(_need_op(ops[1], what), [_as_nd(a, b), b])
    end
end

function _unary(f, x::NDArray)
    op = get(_UNARY_OPS, f, _fname(f))
    has_op(op) || return _unknown(f, x)
    invoke_op(op, [x])
end

_unknown(f, args...) = throw(MXUnsupportedError("$(_fname(f)).(...) on NDArrays: no registry op implements " *
    "'$(_fname(f))' (call an MX.nd op explicitly)"))

# ------------------------------------------------------------------ broadcasting hooks

struct NDArrayStyle <: Base.Broadcast.BroadcastStyle end
Base.Broadcast.BroadcastStyle(::Type{<:NDArray}) = NDArrayStyle()
Base.Broadcast.BroadcastStyle(s::NDArrayStyle, ::Base.Broadcast.BroadcastStyle) = s
Base.Broadcast.broadcastable(x::NDArray) = x

_bc_arg(x) = x
_bc_arg(x::Base.RefValue) = x[]

# Every f.(args...) involving an NDArray is computed eagerly by a registry op. Nested dot
# expressions arrive with their inner parts already computed (each is an NDArray).
function Base.Broadcast.broadcasted(::NDArrayStyle, f, args...)
    a = map(_bc_arg, args)
    if f === Base.literal_pow && length(a) == 3 && a[3] isa Val   # x .^ 2
        return _binary(a[1], a[2], _val_param(a[3]))
    end
    length(a) == 1 && a[1] isa NDArray && return _unary(f, a[1])
    length(a) == 2 && return _binary(f, a[1], a[2])
    _unknown(f, a...)
end
_val_param(::Val{p}) where {p} = p

Base.Broadcast.materialize(x::NDArray) = x
# y .= expr: the result is copied into y (broadcast to y's shape when needed)
function Base.Broadcast.materialize!(dest::NDArray, x::NDArray)
    _assign!(dest, x)
    dest
end
function Base.Broadcast.materialize!(dest::NDArray, bc::Base.Broadcast.Broadcasted)
    if bc.f === identity && length(bc.args) == 1
        v = _bc_arg(bc.args[1])
        _assign!(dest, v)
        return dest
    end
    _assign!(dest, Base.Broadcast.materialize(bc))
    dest
end

# ------------------------------------------------------------------ operators

Base.:+(a::NDArray, b::NDArray) = _binary(+, a, b)
Base.:-(a::NDArray, b::NDArray) = _binary(-, a, b)
Base.:+(a::NDArray, b::Number) = _binary(+, a, b)
Base.:+(a::Number, b::NDArray) = _binary(+, a, b)
Base.:-(a::NDArray, b::Number) = _binary(-, a, b)
Base.:-(a::Number, b::NDArray) = _binary(-, a, b)
Base.:*(a::NDArray, b::Number) = _binary(*, a, b)
Base.:*(a::Number, b::NDArray) = _binary(*, a, b)
Base.:/(a::NDArray, b::Number) = _binary(/, a, b)
Base.:-(x::NDArray) = has_op("negative") ? invoke_op("negative", [x]) : _binary(*, x, -1)
Base.:+(x::NDArray) = x

"Matrix product (registry op `dot`)."
Base.:*(a::NDArray, b::NDArray) = invoke_op(_need_op("dot", "NDArray * NDArray (matrix product)"), [a, b])

# == compares whole arrays as Julia does (shape and values), returning a Bool.
Base.:(==)(a::NDArray, b::NDArray) = size(a) == size(b) && Array(a) == Array(b)
Base.:(==)(a::NDArray, b::AbstractArray) = size(a) == size(b) && Array(a) == b
Base.:(==)(a::AbstractArray, b::NDArray) = b == a
Base.isapprox(a::NDArray, b; kw...) = isapprox(Array(a), b isa NDArray ? Array(b) : b; kw...)
Base.isapprox(a::AbstractArray, b::NDArray; kw...) = isapprox(a, Array(b); kw...)
