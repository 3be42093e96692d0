# Sparse storage (csr, row_sparse) held by libmx, and conversion to and from SparseArrays'
# SparseMatrixCSC. A sparse NDArray has its logical dense size; the core keeps its parts
# (data, indices, indptr) and runs the ops. Julia's column-compressed matrix of A is the
# row-compressed form of transpose(A), so conversion transposes and shifts indices to 0-based.

const _STYPES = Dict(0 => :default, 1 => :row_sparse, 2 => :csr)
const _STYPE_CODES = Dict(v => k for (k, v) in _STYPES)
const _SPARSE_DATA, _SPARSE_INDICES, _SPARSE_INDPTR = 0, 1, 2

function _stype_code(s)
    c = get(_STYPE_CODES, Symbol(s), nothing)
    c === nothing && throw(MXInvalidArgumentError("unknown storage type $(repr(s)) (use :default, :row_sparse or :csr)"))
    c
end

"""
    stype(x::NDArray) -> Symbol

Storage type of `x`: `:default` (dense), `:row_sparse` or `:csr`.
"""
function stype(x::NDArray)
    s = Ref{Cint}(0)
    _check(ccall(_sym(:mx_ndarray_stype), Cint, (Ptr{Cvoid}, Ptr{Cint}), handle(x), s))
    _STYPES[Int(s[])]
end

"""
    tostype(x::NDArray, s) -> NDArray

A copy of `x` stored as `s` (`:default`, `:row_sparse` or `:csr`); dense to sparse keeps the
non-zero rows (row_sparse) or elements (csr).
"""
function tostype(x::NDArray, s)
    out = Ref{Ptr{Cvoid}}(C_NULL)
    _check(ccall(_sym(:mx_ndarray_cast_storage), Cint, (Ptr{Cvoid}, Cint, Ptr{Ptr{Cvoid}}),
                 handle(x), _stype_code(s), out))
    _wrap(out[])
end

function _sparse_part(x::NDArray, part::Integer)
    out = Ref{Ptr{Cvoid}}(C_NULL)
    _check(ccall(_sym(:mx_ndarray_sparse_part), Cint, (Ptr{Cvoid}, Cint, Ptr{Ptr{Cvoid}}), handle(x), part, out))
    Array(_wrap(out[]))
end

"""
    sparse_data(x), sparse_indices(x), sparse_indptr(x)

The parts of a sparse NDArray as Julia arrays (0-based indices, as MXNet stores them):
row_sparse has data (the stored rows) and indices (their row numbers); csr has data, indices
(column numbers) and indptr (row offsets).
"""
sparse_data(x::NDArray) = _sparse_part(x, _SPARSE_DATA)
sparse_indices(x::NDArray) = _sparse_part(x, _SPARSE_INDICES)
@doc (@doc sparse_data) sparse_indptr(x::NDArray) = _sparse_part(x, _SPARSE_INDPTR)
@doc (@doc sparse_data) sparse_indices

function _sparse_new(code::Integer, dims, parts::Vector{<:NDArray})
    shape = Int64[d for d in dims]
    hs = Ptr{Cvoid}[handle(p) for p in parts]
    out = Ref{Ptr{Cvoid}}(C_NULL)
    GC.@preserve parts _check(ccall(_sym(:mx_ndarray_sparse_new), Cint,
        (Cint, Ptr{Int64}, Cint, Cint, Ptr{Ptr{Cvoid}}, Ptr{Ptr{Cvoid}}),
        code, shape, length(shape), length(hs), hs, out))
    _wrap(out[])
end

"""
    csr_matrix(data, indptr, indices, dims) -> NDArray

A csr NDArray of size `dims` (two dimensions) from its parts, with 0-based `indptr` and
`indices` as MXNet's `mx.nd.sparse.csr_matrix((data, indices, indptr), shape)`.
"""
csr_matrix(data::AbstractVector, indptr::AbstractVector{<:Integer}, indices::AbstractVector{<:Integer}, dims) =
    _sparse_new(_STYPE_CODES[:csr], dims, [array(data), array(Int64.(indptr)), array(Int64.(indices))])

"""
    row_sparse_array(data, indices, dims) -> NDArray

A row_sparse NDArray of size `dims`: `data` holds the stored rows (its first dimension runs
over them) and `indices` their 0-based row numbers, increasing.
"""
row_sparse_array(data::AbstractArray, indices::AbstractVector{<:Integer}, dims) =
    _sparse_new(_STYPE_CODES[:row_sparse], dims, [array(data), array(Int64.(indices))])

"""
    NDArray(S::SparseMatrixCSC) -> NDArray

A csr NDArray of the same size and values as `S` (explicitly stored zeros are kept).
"""
function NDArray(S::SparseMatrixCSC{T}) where {T}
    St = copy(transpose(S))  # column-compressed transpose(S) = row-compressed S
    csr_matrix(St.nzval, St.colptr .- 1, St.rowval .- 1, size(S))
end

"""
    SparseMatrixCSC(x::NDArray) -> SparseMatrixCSC

A two-dimensional NDArray as a Julia sparse matrix (csr and row_sparse keep what they store;
a dense array keeps its non-zeros).
"""
function SparseArrays.SparseMatrixCSC(x::NDArray{T,2}) where {T}
    c = stype(x) == :csr ? x : tostype(x, :csr)
    m, n = size(x)
    At = SparseMatrixCSC(n, m, Int.(sparse_indptr(c)) .+ 1, Int.(sparse_indices(c)) .+ 1, Vector{T}(sparse_data(c)))
    copy(transpose(At))
end
SparseArrays.sparse(x::NDArray{T,2}) where {T} = SparseMatrixCSC(x)
