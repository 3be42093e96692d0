# Creation functions: NDArrays made on the device by the core's creation ops (`_zeros`, `_ones`,
# `_full`, `_arange`), with shapes given as dims... or as one tuple (MXNet.jl style). `MX.nd.<name>`
# forwards to them (ops.jl), so `MX.nd.ones((2, 3))` is an NDArray and never Base's `ones`.

_shape(dims::Tuple) = Int64[d for d in dims]
_shape(dims::Integer...) = Int64[d for d in dims]

# A fresh array of the shape, written by one creation op (no host buffer, no math here).
function _created(op::AbstractString, ::Type{T}, dims::Vector{Int64}, ctx::Context; kwargs...) where {T}
    any(d -> d < 0, dims) && throw(MXInvalidArgumentError("$(op[2:end]): negative dimension in $(Tuple(dims))"))
    x = empty(T, dims...; ctx=ctx)
    invoke_op(op, NDArray[]; out=x, shape=Tuple(dims), dtype=T, kwargs...)
    return x
end

"""
    MX.zeros([T=Float32,] dims...; ctx=current_context())
    MX.zeros([T=Float32,] dims::Tuple; ctx=current_context())

An NDArray of zeros of element type `T` and logical size `dims` (`MX.zeros(2, 3)` and
`MX.nd.zeros((2, 3))` are both 2x3).
"""
zeros(::Type{T}, dims::Integer...; ctx::Context=current_context()) where {T} =
    _created("_zeros", T, _shape(dims...), ctx)
zeros(::Type{T}, dims::Tuple; ctx::Context=current_context()) where {T} = _created("_zeros", T, _shape(dims), ctx)
zeros(dims::Integer...; ctx::Context=current_context()) = zeros(Float32, dims...; ctx=ctx)
zeros(dims::Tuple; ctx::Context=current_context()) = zeros(Float32, dims; ctx=ctx)

"""
    MX.ones([T=Float32,] dims...; ctx=current_context())
    MX.ones([T=Float32,] dims::Tuple; ctx=current_context())

An NDArray of ones of element type `T` and logical size `dims`.
"""
ones(::Type{T}, dims::Integer...; ctx::Context=current_context()) where {T} =
    _created("_ones", T, _shape(dims...), ctx)
ones(::Type{T}, dims::Tuple; ctx::Context=current_context()) where {T} = _created("_ones", T, _shape(dims), ctx)
ones(dims::Integer...; ctx::Context=current_context()) = ones(Float32, dims...; ctx=ctx)
ones(dims::Tuple; ctx::Context=current_context()) = ones(Float32, dims; ctx=ctx)

"""
    MX.full(dims, value; dtype=Float32, ctx=current_context())

An NDArray of logical size `dims` (a tuple or one integer) with every element `value`.
"""
full(dims::Union{Tuple,Integer}, value::Real; dtype::Type=Float32, ctx::Context=current_context()) =
    _created("_full", dtype, _shape(dims isa Integer ? (dims,) : dims), ctx; value=value)

empty(dims::Tuple; ctx::Context=current_context()) = empty(Float32, dims...; ctx=ctx)

"""
    MX.arange(start, stop=nothing; step=1, repeat=1, dtype=Float32, ctx=current_context())

Evenly spaced values in `[start, stop)` (MXNet's `arange`: with one argument, `[0, start)`).
"""
function arange(start::Real, stop::Union{Real,Nothing}=nothing; step::Real=1, repeat::Integer=1,
                dtype::Type=Float32, ctx::Context=current_context())
    x = invoke_op("_arange", NDArray[]; start=start, stop=stop, step=step, repeat=repeat, dtype=dtype,
                  ctx=ctx)
    context(x) == ctx ? x : to_device(x, ctx)
end

"""
    Base.fill!(x::NDArray, value)

Set every element of `x` to `value` (the core's `_full` op writes it in place).
"""
function Base.fill!(x::NDArray{T}, value::Real) where {T}
    invoke_op("_full", NDArray[]; out=x, shape=size(x), dtype=T, value=value)
    x
end

"""
    NDArray(A::AbstractArray; dtype=eltype(A), ctx=current_context())
    NDArray{T}(A::AbstractArray; ctx=current_context())

Copy a Julia array into a new NDArray of the same logical size (as `MX.array`).
"""
NDArray(A::AbstractArray; kwargs...) = array(A; kwargs...)
NDArray(v::Number; kwargs...) = array(v; kwargs...)
NDArray{T}(A::Union{AbstractArray,Number}; ctx::Context=current_context()) where {T} = array(A; dtype=T, ctx=ctx)
