# Data providers. Logical shapes as in Python: the first dimension of every array is the sample
# dimension, so a 100x4 Matrix is 100 samples of 4 features and batches are (batch_size, 4).
# The last batch is padded by wrapping around to the first samples (NDArrayIter's "pad"); its
# `pad` field says how many samples are padding.

using Random

"A batch: data and label NDArrays (provider order) and the number of padded samples."
struct DataBatch
    data::Vector{NDArray}
    label::Vector{NDArray}
    pad::Int
end

abstract type AbstractDataProvider end

"""
    ArrayDataProvider(data; label=nothing, batch_size=1, shuffle=false, data_name=:data,
                      label_name=:softmax_label, data_padding=nothing, dtype=Float32, rng=nothing)

Batches of Julia arrays. `data`/`label` may be one array, or pairs/a Dict name => array. With
`shuffle` the order is drawn anew at every reset from `rng` (default: Random.GLOBAL_RNG).
"""
mutable struct ArrayDataProvider <: AbstractDataProvider
    data_names::Vector{String}
    data_arrays::Vector{Array}
    label_names::Vector{String}
    label_arrays::Vector{Array}
    batch_size::Int
    shuffle::Bool
    dtype::Type
    rng::AbstractRNG
    order::Vector{Int}
end

_named_arrays(x::Nothing, default) = (String[], Array[])
_named_arrays(x::AbstractArray, default) = (String[string(default)], Array[x])
_named_arrays(x::Pair, default) = _named_arrays([x], default)
function _named_arrays(x::Union{AbstractDict,AbstractVector{<:Pair},Tuple}, default)
    ps = collect(x)
    (String[string(first(p)) for p in ps], Array[collect(last(p)) for p in ps])
end

function ArrayDataProvider(data; label=nothing, batch_size::Integer=1, shuffle::Bool=false,
                           data_name=:data, label_name=:softmax_label, dtype::Type=Float32, rng=nothing)
    dn, da = _named_arrays(data, data_name)
    ln, la = _named_arrays(label, label_name)
    isempty(da) && throw(MXInvalidArgumentError("ArrayDataProvider: no data"))
    n = size(da[1], 1)
    for (nm, a) in zip(vcat(dn, ln), vcat(da, la))
        size(a, 1) == n || throw(MXShapeError("ArrayDataProvider: '$(nm)' has $(size(a, 1)) samples " *
                                              "(first dimension) but '$(dn[1])' has $(n)"))
    end
    batch_size >= 1 || throw(MXInvalidArgumentError("ArrayDataProvider: batch_size must be positive"))
    p = ArrayDataProvider(dn, da, ln, la, Int(batch_size), shuffle, dtype,
                          rng === nothing ? Random.GLOBAL_RNG : rng, collect(1:n))
    reset!(p)
    p
end

# MXNet.jl's form: ArrayDataProvider(:data => X, :label => y; batch_size=...).
ArrayDataProvider(data::Pair, label::Pair; kwargs...) = ArrayDataProvider(data; label=label, kwargs...)

num_samples(p::ArrayDataProvider) = size(p.data_arrays[1], 1)
get_batch_size(p::ArrayDataProvider) = p.batch_size
Base.length(p::ArrayDataProvider) = cld(num_samples(p), p.batch_size)
_batch_shape(a::Array, bs) = (bs, size(a)[2:end]...)
"`[(name, shape)]` of a batch's data (logical shapes)."
provide_data(p::ArrayDataProvider) = [(n, _batch_shape(a, p.batch_size)) for (n, a) in zip(p.data_names, p.data_arrays)]
provide_label(p::ArrayDataProvider) = [(n, _batch_shape(a, p.batch_size)) for (n, a) in zip(p.label_names, p.label_arrays)]

function reset!(p::ArrayDataProvider)
    p.order = p.shuffle ? randperm(p.rng, num_samples(p)) : collect(1:num_samples(p))
    p
end

function _take(a::Array, idx::Vector{Int}, T)
    colons = ntuple(_ -> Colon(), ndims(a) - 1)
    array(a[idx, colons...]; dtype=T)
end

function _get_batch(p::ArrayDataProvider, k::Integer)
    n = num_samples(p)
    first_ = (k - 1) * p.batch_size + 1
    pos = [mod1(i, n) for i in first_:first_+p.batch_size-1]
    pad = max(0, first_ + p.batch_size - 1 - n)
    idx = p.order[pos]
    DataBatch(NDArray[_take(a, idx, p.dtype) for a in p.data_arrays],
              NDArray[_take(a, idx, p.dtype) for a in p.label_arrays], pad)
end

Base.iterate(p::ArrayDataProvider, k::Int=1) = k > length(p) ? nothing : (_get_batch(p, k), k + 1)
Base.eltype(::Type{ArrayDataProvider}) = DataBatch

# ------------------------------------------------------------------ core iterators
# MXNet's CSVIter, MNISTIter and ImageRecordIter run by libmx (mx_dataiter_*). Same logical shapes
# as Python (batch first, images NCHW); usable wherever an ArrayDataProvider is (fit, score,
# predict). Keyword names are MXNet's (data_csv, data_shape, batch_size, ...).

"""
    CoreDataProvider(name; kwargs...)

A provider over the core's iterator `name` ("CSVIter", "MNISTIter", "ImageRecordIter") with
MXNet's arguments as keywords. Iterating yields `DataBatch`es (fresh arrays for every batch);
`reset!` starts the next epoch.
"""
mutable struct CoreDataProvider <: AbstractDataProvider
    handle::Ptr{Cvoid}
    name::String
    data_desc::Vector{Tuple{String,Tuple}}
    label_desc::Vector{Tuple{String,Tuple}}
    function CoreDataProvider(name::AbstractString; kwargs...)
        args = Dict{String,Any}()
        for (k, v) in kwargs
            v === nothing && continue
            args[string(k)] = v isa Tuple ? collect(v) : v
        end
        out = Ref{Ptr{Cvoid}}(C_NULL)
        _check(ccall(_sym(:mx_dataiter_new), Cint, (Cstring, Cstring, Ptr{Ptr{Cvoid}}),
                     string(name), json_string(args), out))
        p = new(out[], string(name), Tuple{String,Tuple}[], Tuple{String,Tuple}[])
        finalizer(_release_dataiter!, p)
        js = Ref{Ptr{UInt8}}(C_NULL)
        _check(ccall(_sym(:mx_dataiter_provide), Cint, (Ptr{Cvoid}, Ptr{Ptr{UInt8}}), p.handle, js))
        desc = parse_json(unsafe_string(js[]))
        for (key, dst) in (("data", p.data_desc), ("label", p.label_desc))
            for d in desc[key]
                push!(dst, (String(d["name"]), Tuple(Int(s) for s in d["shape"])))
            end
        end
        p
    end
end

function _release_dataiter!(p::CoreDataProvider)
    h = p.handle
    if h != C_NULL
        p.handle = C_NULL
        _check_nothrow(ccall(_sym(:mx_dataiter_free), Cint, (Ptr{Cvoid},), h))
    end
    nothing
end
handle(p::CoreDataProvider) = p.handle == C_NULL ? throw(MXInvalidArgumentError("data iterator: freed")) : p.handle

"CSV files (MXNet's CSVIter): data_csv, data_shape, label_csv, label_shape, batch_size, round_batch."
CSVIter(; kwargs...) = CoreDataProvider("CSVIter"; kwargs...)
"IDX files, gzipped or not (MXNet's MNISTIter): image, label, batch_size, shuffle, flat, seed, num_parts, part_index."
MNISTIter(; kwargs...) = CoreDataProvider("MNISTIter"; kwargs...)
"Images of a RecordIO file (MXNet's ImageRecordIter): path_imgrec, data_shape (C, H, W), batch_size, ..."
ImageRecordIter(; kwargs...) = CoreDataProvider("ImageRecordIter"; kwargs...)

provide_data(p::CoreDataProvider) = p.data_desc
provide_label(p::CoreDataProvider) = p.label_desc
get_batch_size(p::CoreDataProvider) = isempty(p.data_desc) ? 0 : p.data_desc[1][2][1]
Base.IteratorSize(::Type{CoreDataProvider}) = Base.SizeUnknown()
Base.eltype(::Type{CoreDataProvider}) = DataBatch

function reset!(p::CoreDataProvider)
    GC.@preserve p _check(ccall(_sym(:mx_dataiter_reset), Cint, (Ptr{Cvoid},), handle(p)))
    p
end

function _dataiter_arrays(p::CoreDataProvider, fn::Symbol)
    n = Ref{Cint}(0)
    arr = Ref{Ptr{Ptr{Cvoid}}}(C_NULL)
    if fn === :data
        GC.@preserve p _check(ccall(_sym(:mx_dataiter_data), Cint, (Ptr{Cvoid}, Ptr{Cint}, Ptr{Ptr{Ptr{Cvoid}}}),
                                    handle(p), n, arr))
    else
        GC.@preserve p _check(ccall(_sym(:mx_dataiter_label), Cint, (Ptr{Cvoid}, Ptr{Cint}, Ptr{Ptr{Ptr{Cvoid}}}),
                                    handle(p), n, arr))
    end
    hs = [unsafe_load(arr[], i) for i in 1:n[]]   # copy out of the thread-local buffer first
    out = NDArray[]
    for (i, h) in enumerate(hs)
        try
            push!(out, _wrap(h))
        catch
            for j in i+1:length(hs)
                _check_nothrow(ccall(_sym(:mx_ndarray_free), Cint, (Ptr{Cvoid},), hs[j]))
            end
            rethrow()
        end
    end
    out
end

"Padding samples at the end of the current batch."
function get_pad(p::CoreDataProvider)
    pad = Ref{Int64}(0)
    GC.@preserve p _check(ccall(_sym(:mx_dataiter_pad), Cint, (Ptr{Cvoid}, Ptr{Int64}), handle(p), pad))
    Int(pad[])
end

"Instance indices of the current batch."
function get_index(p::CoreDataProvider)
    n = Ref{Cint}(0)
    ptr = Ref{Ptr{UInt64}}(C_NULL)
    GC.@preserve p begin
        _check(ccall(_sym(:mx_dataiter_index), Cint, (Ptr{Cvoid}, Ptr{Cint}, Ptr{Ptr{UInt64}}), handle(p), n, ptr))
        copy(unsafe_wrap(Array, ptr[], Int(n[])))
    end
end

"Advance to the next batch; false at the end of the epoch."
function iter_next!(p::CoreDataProvider)
    has = Ref{Cint}(0)
    GC.@preserve p _check(ccall(_sym(:mx_dataiter_next), Cint, (Ptr{Cvoid}, Ptr{Cint}), handle(p), has))
    has[] != 0
end

"The current batch."
current_batch(p::CoreDataProvider) = DataBatch(_dataiter_arrays(p, :data), _dataiter_arrays(p, :label), get_pad(p))

# Iteration continues the current epoch; reset! (done by fit/score/predict) starts a new one.
Base.iterate(p::CoreDataProvider, state=nothing) = iter_next!(p) ? (current_batch(p), nothing) : nothing
