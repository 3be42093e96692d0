# NDArray: a handle to a row-major array in libmx. Shapes are logical and the same as in Python
# and R: a Julia 2x3 Matrix becomes an NDArray of size (2, 3) (DESIGN.md section 3). Conversion
# copies and permutes the column-major Julia data; no shape is ever shown reversed.

"bfloat16 storage type (conversion only; arithmetic happens in libmx)."
primitive type BFloat16 16 end
BFloat16(x::Float32) = reinterpret(BFloat16, UInt16((reinterpret(UInt32, x) + 0x7fff +
    ((reinterpret(UInt32, x) >> 16) & 1)) >> 16))
BFloat16(x::Real) = BFloat16(Float32(x))
Base.Float32(x::BFloat16) = reinterpret(Float32, UInt32(reinterpret(UInt16, x)) << 16)
Base.Float64(x::BFloat16) = Float64(Float32(x))
Base.convert(::Type{BFloat16}, x::Real) = BFloat16(x)
Base.convert(::Type{T}, x::BFloat16) where {T<:AbstractFloat} = T(Float32(x))
Base.show(io::IO, x::BFloat16) = print(io, "BFloat16(", Float32(x), ")")
Base.zero(::Type{BFloat16}) = reinterpret(BFloat16, 0x0000)
Base.one(::Type{BFloat16}) = BFloat16(1.0f0)

# c_api.h mx_dtype <-> Julia element types
const _DTYPES = Dict{Int,DataType}(0 => Float32, 1 => Float64, 2 => Float16, 3 => UInt8, 4 => Int32,
                                   5 => Int8, 6 => Int64, 7 => Bool, 12 => BFloat16)
const _DTYPE_CODES = Dict{DataType,Int}(v => k for (k, v) in _DTYPES)
const _DTYPE_NAMES = Dict{DataType,String}(Float32 => "float32", Float64 => "float64",
    Float16 => "float16", UInt8 => "uint8", Int32 => "int32", Int8 => "int8", Int64 => "int64",
    Bool => "bool", BFloat16 => "bfloat16")

"The mx_dtype code of a Julia element type."
function dtype_code(T::Type)
    c = get(_DTYPE_CODES, T, nothing)
    c === nothing && throw(MXTypeError("element type $(T) has no MX dtype (supported: " *
                                       join(sort([string(k) for k in keys(_DTYPE_CODES)]), ", ") * ")"))
    c
end
function dtype_from_code(c::Integer)
    T = get(_DTYPES, Int(c), nothing)
    T === nothing && throw(MXTypeError("libmx returned the unknown dtype code $(c)"))
    T
end
"MXNet's dtype name of a Julia element type (\"float32\", ...)."
dtype_name(T::Type) = (dtype_code(T); _DTYPE_NAMES[T])

"""
    NDArray{T,N}

An `N`-dimensional array of element type `T` held by libmx. The handle is released by a
finalizer (or at once with `MX.free!`).
"""
mutable struct NDArray{T,N}
    handle::Ptr{Cvoid}
    function NDArray{T,N}(handle::Ptr{Cvoid}) where {T,N}
        handle == C_NULL && throw(MXInvalidArgumentError("NDArray: NULL handle"))
        x = new{T,N}(handle)
        finalizer(_release!, x)
        return x
    end
end

function _release!(x::NDArray)
    h = x.handle
    if h != C_NULL
        x.handle = C_NULL
        _check_nothrow(ccall(_sym(:mx_ndarray_free), Cint, (Ptr{Cvoid},), h))
    end
    nothing
end

"""
    free!(x::NDArray)

Release the handle now instead of waiting for the garbage collector. Using `x` afterwards throws.
"""
function free!(x::NDArray)
    h = x.handle
    x.handle = C_NULL
    h == C_NULL || _check(ccall(_sym(:mx_ndarray_free), Cint, (Ptr{Cvoid},), h))
    nothing
end

function handle(x::NDArray)
    h = x.handle
    h == C_NULL && throw(MXInvalidArgumentError("NDArray: the array was freed (free!) and cannot be used"))
    h
end

"Wrap a new owned handle returned by libmx, with element type and rank read from the library."
function _wrap(h::Ptr{Cvoid})
    h == C_NULL && throw(MXInternalError("libmx returned a NULL array handle"))
    local T, n
    try
        d = Ref{Cint}(0)
        _check(ccall(_sym(:mx_ndarray_dtype), Cint, (Ptr{Cvoid}, Ptr{Cint}), h, d))
        T = dtype_from_code(d[])
        n = _ndim(h)
    catch
        _check_nothrow(ccall(_sym(:mx_ndarray_free), Cint, (Ptr{Cvoid},), h))
        rethrow()
    end
    return NDArray{T,n}(h)
end

function _ndim(h::Ptr{Cvoid})
    nd = Ref{Cint}(0)
    sp = Ref{Ptr{Int64}}(C_NULL)
    _check(ccall(_sym(:mx_ndarray_shape), Cint, (Ptr{Cvoid}, Ptr{Cint}, Ptr{Ptr{Int64}}), h, nd, sp))
    Int(nd[])
end

# ------------------------------------------------------------------ basic properties

function Base.size(x::NDArray{T,N}) where {T,N}
    nd = Ref{Cint}(0)
    sp = Ref{Ptr{Int64}}(C_NULL)
    GC.@preserve x begin
        _check(ccall(_sym(:mx_ndarray_shape), Cint, (Ptr{Cvoid}, Ptr{Cint}, Ptr{Ptr{Int64}}),
                     handle(x), nd, sp))
        nd[] == N || throw(MXInternalError("NDArray{$(T),$(N)}: the library reports $(nd[]) dimensions"))
        return ntuple(i -> Int(unsafe_load(sp[], i)), Val(N))
    end
end
Base.size(x::NDArray, d::Integer) = d <= ndims(x) ? size(x)[d] : 1
Base.ndims(::NDArray{T,N}) where {T,N} = N
Base.eltype(::Type{NDArray{T,N}}) where {T,N} = T
Base.eltype(::NDArray{T}) where {T} = T
Base.length(x::NDArray) = prod(size(x))
Base.axes(x::NDArray) = map(Base.OneTo, size(x))
Base.lastindex(x::NDArray, d::Integer) = size(x, d)
Base.firstindex(x::NDArray, d::Integer) = 1

"The device of an array."
function context(x::NDArray)
    t = Ref{Cint}(0); i = Ref{Cint}(0)
    GC.@preserve x _check(ccall(_sym(:mx_ndarray_device), Cint, (Ptr{Cvoid}, Ptr{Cint}, Ptr{Cint}),
                                handle(x), t, i))
    Context(Int(t[]), Int(i[]))
end

# ------------------------------------------------------------------ creation and conversion

"""
    MX.empty(T, dims...; ctx=current_context())

A new array with uninitialised contents.
"""
function empty(::Type{T}, dims::Integer...; ctx::Context=current_context()) where {T}
    shape = Int64[d for d in dims]
    any(d -> d < 0, shape) && throw(MXInvalidArgumentError("MX.empty: negative dimension in $(dims)"))
    out = Ref{Ptr{Cvoid}}(C_NULL)
    _check(ccall(_sym(:mx_ndarray_new), Cint, (Ptr{Int64}, Cint, Cint, Cint, Cint, Ptr{Ptr{Cvoid}}),
                 shape, length(shape), dtype_code(T), ctx.device_type, ctx.device_id, out))
    return NDArray{T,length(dims)}(out[])
end
empty(dims::Integer...; ctx::Context=current_context()) = empty(Float32, dims...; ctx=ctx)
empty(::Type{T}, dims::Tuple; ctx::Context=current_context()) where {T} = empty(T, dims...; ctx=ctx)

"Row-major bytes of a Julia array with the same logical shape (a permuted copy)."
function _row_major(A::AbstractArray{T,N}) where {T,N}
    N <= 1 && return collect(A)
    return permutedims(A, ntuple(i -> N + 1 - i, Val(N)))
end

function _copy_from!(x::NDArray{T}, A::AbstractArray) where {T}
    size(A) == size(x) || throw(MXShapeError("copyto!: source of size $(size(A)) does not match " *
                                             "the NDArray's size $(size(x))"))
    buf = _row_major(convert(AbstractArray{T}, A))
    GC.@preserve x buf _check(ccall(_sym(:mx_ndarray_copy_from), Cint, (Ptr{Cvoid}, Ptr{Cvoid}, Csize_t),
                                    handle(x), buf, sizeof(T) * length(buf)))
    x
end

"""
    MX.array(A; dtype=eltype(A), ctx=current_context())

Copy a Julia array (or number) into a new NDArray of the same logical shape: a 2x3 `Matrix`
becomes an NDArray of size (2, 3).
"""
function array(A::AbstractArray{S,N}; dtype::Type=_default_dtype(S),
               ctx::Context=current_context()) where {S,N}
    x = empty(dtype, size(A)...; ctx=ctx)
    _copy_from!(x, A)
end
array(v::Number; dtype::Type=_default_dtype(typeof(v)), ctx::Context=current_context()) =
    array(fill(v); dtype=dtype, ctx=ctx)
array(x::NDArray; dtype::Type=eltype(x), ctx::Context=context(x)) =
    (y = empty(dtype, size(x)...; ctx=ctx); copyto!(y, x))
_default_dtype(::Type{S}) where {S} = haskey(_DTYPE_CODES, S) ? S :
    (S <: Integer ? Int64 : (S <: Real ? Float32 : throw(MXTypeError("no MX dtype for element type $(S)"))))

"Copy an NDArray into a new Julia Array of the same logical shape."
function Base.Array(x::NDArray{T,N}) where {T,N}
    stype(x) == :default || return Array(tostype(x, :default))  # csr / row_sparse: densified by libmx
    s = size(x)
    buf = Array{T}(undef, reverse(s))
    GC.@preserve x buf _check(ccall(_sym(:mx_ndarray_copy_to), Cint, (Ptr{Cvoid}, Ptr{Cvoid}, Csize_t),
                                    handle(x), buf, sizeof(T) * length(buf)))
    N <= 1 && return reshape(buf, s)
    return permutedims(buf, ntuple(i -> N + 1 - i, Val(N)))
end
Base.Array{T}(x::NDArray) where {T} = convert(Array{T}, Array(x))
Base.convert(::Type{Array}, x::NDArray) = Array(x)
Base.collect(x::NDArray) = Array(x)

# zeros, ones, full, arange, fill! and the NDArray(::Array) constructor: creation.jl

"Copy values of `src` into `dst` (same shape; dtype converted; any devices)."
function Base.copyto!(dst::NDArray, src::NDArray)
    size(dst) == size(src) || throw(MXShapeError("copyto!: source size $(size(src)) != destination size $(size(dst))"))
    GC.@preserve dst src _check(ccall(_sym(:mx_ndarray_copy), Cint, (Ptr{Cvoid}, Ptr{Cvoid}),
                                      handle(src), handle(dst)))
    dst
end
Base.copyto!(dst::NDArray, src::AbstractArray) = _copy_from!(dst, src)
Base.copyto!(dst::AbstractArray, src::NDArray) = copyto!(dst, Array(src))

"A deep copy (same dtype and device)."
Base.copy(x::NDArray{T}) where {T} = copyto!(empty(T, size(x)...; ctx=context(x)), x)
Base.deepcopy(x::NDArray) = copy(x)
Base.similar(x::NDArray{T}, ::Type{S}=T, dims::Tuple=size(x)) where {T,S} = empty(S, dims...; ctx=context(x))

"A new array on another device (deep copy)."
function to_device(x::NDArray, ctx::Context)
    out = Ref{Ptr{Cvoid}}(C_NULL)
    GC.@preserve x _check(ccall(_sym(:mx_ndarray_to_device), Cint, (Ptr{Cvoid}, Cint, Cint, Ptr{Ptr{Cvoid}}),
                                handle(x), ctx.device_type, ctx.device_id, out))
    _wrap(out[])
end

"A new handle to the same storage, detached from the autograd graph."
function detach(x::NDArray)
    out = Ref{Ptr{Cvoid}}(C_NULL)
    GC.@preserve x _check(ccall(_sym(:mx_ndarray_detach), Cint, (Ptr{Cvoid}, Ptr{Ptr{Cvoid}}), handle(x), out))
    _wrap(out[])
end

"Whether two arrays view overlapping bytes of the same storage."
function shares_memory(a::NDArray, b::NDArray)
    f = Ref{Cint}(0)
    GC.@preserve a b _check(ccall(_sym(:mx_ndarray_shares_memory), Cint, (Ptr{Cvoid}, Ptr{Cvoid}, Ptr{Cint}),
                                  handle(a), handle(b), f))
    f[] != 0
end

"Block until pending work on the array is done."
function wait_to_read(x::NDArray)
    GC.@preserve x _check(ccall(_sym(:mx_ndarray_wait_to_read), Cint, (Ptr{Cvoid},), handle(x)))
    x
end
"Block until all pending work is done."
waitall() = (_check(ccall(_sym(:mx_waitall), Cint, ())); nothing)

# A view with another shape (C API; not taped by autograd).
function _reshape_view(x::NDArray{T}, dims::Tuple) where {T}
    shape = Int64[d for d in dims]
    out = Ref{Ptr{Cvoid}}(C_NULL)
    GC.@preserve x _check(ccall(_sym(:mx_ndarray_reshape), Cint, (Ptr{Cvoid}, Ptr{Int64}, Cint, Ptr{Ptr{Cvoid}}),
                                handle(x), shape, length(shape), out))
    _wrap(out[])
end

"""
    reshape(x::NDArray, dims...)

A view with a new logical shape of the same size (one dimension may be -1; row-major order, as
in Python). While autograd records, the registry's `reshape` op is used so the step is taped.
"""
function Base.reshape(x::NDArray, dims::Tuple{Vararg{Integer}})
    if is_recording() && has_op("reshape")
        return invoke_op("reshape", [x]; shape=Tuple(Int[d for d in dims]))
    end
    _reshape_view(x, dims)
end
Base.reshape(x::NDArray, dims::Integer...) = reshape(x, dims)
Base.vec(x::NDArray) = reshape(x, (-1,))

# C API views along the first axis
function _slice_view(x::NDArray, b::Integer, e::Integer)
    out = Ref{Ptr{Cvoid}}(C_NULL)
    GC.@preserve x _check(ccall(_sym(:mx_ndarray_slice), Cint, (Ptr{Cvoid}, Int64, Int64, Ptr{Ptr{Cvoid}}),
                                handle(x), b, e, out))
    _wrap(out[])
end
function _at_view(x::NDArray, i::Integer)
    out = Ref{Ptr{Cvoid}}(C_NULL)
    GC.@preserve x _check(ccall(_sym(:mx_ndarray_at), Cint, (Ptr{Cvoid}, Int64, Ptr{Ptr{Cvoid}}),
                                handle(x), i, out))
    _wrap(out[])
end

# ------------------------------------------------------------------ indexing
#
# Julia's 1-based indices, one per dimension. An integer drops its dimension; all-integer
# indexing returns a Julia scalar. A range over the first axis (others `:`) is a view sharing
# memory (MXNet semantics); other slices go through the registry's `slice` (copy) and
# `_slice_assign` / `_slice_assign_scalar` (in place) operators.

const _IndexT = Union{Integer,AbstractRange{<:Integer},Colon}

function _norm_index(x::NDArray, I::Tuple)
    shp = size(x)
    N = length(shp)
    length(I) == N || throw(MXInvalidArgumentError(
        "indexing an NDArray with $(N) dimension(s) needs $(N) indices, got $(length(I))"))
    b = Vector{Int}(undef, N); e = Vector{Int}(undef, N); st = Vector{Int}(undef, N)
    drop = falses(N)
    for k in 1:N
        i = I[k]
        n = shp[k]
        if i isa Colon
            b[k], e[k], st[k] = 0, n, 1
        elseif i isa Integer
            1 <= i <= n || throw(BoundsError(x, I))
            b[k], e[k], st[k] = i - 1, i, 1
            drop[k] = true
        elseif i isa AbstractRange
            s = step(i)
            if isempty(i)
                throw(MXInvalidArgumentError("empty index range $(i) for dimension $(k)"))
            end
            (1 <= first(i) <= n && 1 <= last(i) <= n) || throw(BoundsError(x, I))
            s > 0 || throw(MXInvalidArgumentError("index range $(i) for dimension $(k): only positive steps are supported"))
            b[k], e[k], st[k] = first(i) - 1, last(i), s
        else
            throw(MXInvalidArgumentError("unsupported index $(repr(i)) for dimension $(k) " *
                                         "(integers, ranges and `:` are supported)"))
        end
    end
    return b, e, st, drop
end

_full(b, e, st, shp, k) = b[k] == 0 && e[k] == shp[k] && st[k] == 1
_tuple_param(v::Vector{Int}) = Tuple(v)

function Base.getindex(x::NDArray{T,N}, I::_IndexT...) where {T,N}
    if N == 0
        isempty(I) || throw(MXInvalidArgumentError("a 0-dimensional NDArray takes no indices"))
        return Array(x)[]
    end
    b, e, st, drop = _norm_index(x, I)
    shp = size(x)
    if all(drop)
        # x[i, j, ...]: a Julia scalar, read through views along the first axis
        y = x
        for k in 1:N
            y = _at_view(y, b[k])
        end
        return Array(y)[]
    end
    rest_full = all(k -> _full(b, e, st, shp, k), 2:N)
    if rest_full && st[1] == 1 && !is_recording()
        return drop[1] ? _at_view(x, b[1]) : _slice_view(x, b[1], e[1])
    end
    has_op("slice") || throw(MXUnsupportedError("indexing $(I) needs the registry op 'slice', " *
                                                "which this libmx does not register"))
    y = invoke_op("slice", [x]; :begin => Tuple(b), :end => Tuple(e), :step => Tuple(st))
    if any(drop)
        keep = Tuple(size(y)[k] for k in 1:N if !drop[k])
        y = reshape(y, keep)
    end
    return y
end

function Base.setindex!(x::NDArray{T,N}, v, I::_IndexT...) where {T,N}
    if N == 0
        isempty(I) || throw(MXInvalidArgumentError("a 0-dimensional NDArray takes no indices"))
        _assign!(x, v)
        return x
    end
    b, e, st, drop = _norm_index(x, I)
    shp = size(x)
    rest_full = all(k -> _full(b, e, st, shp, k), 2:N)
    if rest_full && st[1] == 1 && !is_recording()
        view = drop[1] ? _at_view(x, b[1]) : _slice_view(x, b[1], e[1])
        _assign!(view, v)
        return x
    end
    kw = (:begin => Tuple(b), :end => Tuple(e), :step => Tuple(st))
    if v isa Number
        has_op("_slice_assign_scalar") || throw(MXUnsupportedError(
            "assigning to $(I) needs the registry op '_slice_assign_scalar', which this libmx does not register"))
        invoke_op("_slice_assign_scalar", [x]; out=x, scalar=Float64(v), kw...)
    else
        has_op("_slice_assign") || throw(MXUnsupportedError(
            "assigning to $(I) needs the registry op '_slice_assign', which this libmx does not register"))
        tshape = Tuple(length(b[k]:st[k]:e[k]-1) for k in 1:N)
        rhs = v isa NDArray ? v : array(v isa AbstractArray ? v : fill(v); dtype=T, ctx=context(x))
        if size(rhs) != tshape
            length(rhs) == prod(tshape) || throw(MXShapeError("cannot assign a value of size $(size(rhs)) to $(I) (size $(tshape))"))
            rhs = reshape(rhs, tshape)
        end
        invoke_op("_slice_assign", [x, rhs]; out=x, kw...)
    end
    return x
end

function _assign!(view::NDArray{T}, v) where {T}
    if v isa NDArray
        if size(v) == size(view)
            copyto!(view, v)
        elseif length(v) == length(view)
            copyto!(view, reshape(v, size(view)))
        elseif has_op("broadcast_to")
            copyto!(view, invoke_op("broadcast_to", [v]; shape=size(view)))
        else
            throw(MXShapeError("cannot assign an NDArray of size $(size(v)) to a slice of size $(size(view))"))
        end
    elseif v isa Number
        _copy_from!(view, fill(convert(T, v), size(view)))   # conversion, not math
    elseif v isa AbstractArray
        _copy_from!(view, length(v) == length(view) && size(v) != size(view) ? reshape(v, size(view)) : v)
    else
        throw(MXTypeError("cannot assign a value of type $(typeof(v)) into an NDArray"))
    end
end

Base.fill!(x::NDArray, v::Number) = (x[ntuple(_ -> Colon(), ndims(x))...] = v; x)

# ------------------------------------------------------------------ display

function Base.summary(io::IO, x::NDArray{T,N}) where {T,N}
    s = size(x)
    print(io, N == 0 ? "0-dimensional" : (N == 1 ? "$(s[1])-element" : join(s, "×")),
          " NDArray{", T, ",", N, "} @", context(x))
end

function Base.show(io::IO, x::NDArray)
    if x.handle == C_NULL
        print(io, "NDArray(freed)")
        return
    end
    print(io, "NDArray(")
    show(io, Array(x))
    print(io, ")")
end

function Base.show(io::IO, mime::MIME"text/plain", x::NDArray)
    if x.handle == C_NULL
        print(io, "NDArray(freed)")
        return
    end
    summary(io, x)
    println(io, ":")
    A = Array(x)
    Base.print_array(IOContext(io, :compact => true, :limit => true), A)
end
