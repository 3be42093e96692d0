# KVStore over the core (mx_kvstore_*): values pushed under one key are summed over arrays and,
# for :dist_sync / :dist_device_sync / :horovod, over the workers of a job started with
# `python -m mx.tools.launch -n N julia train.jl` (allreduce over MPI, loaded at run time).

mutable struct KVStore
    handle::Ptr{Cvoid}
    function KVStore(h::Ptr{Cvoid})
        h == C_NULL && throw(MXInternalError("libmx returned a NULL kvstore handle"))
        kv = new(h)
        finalizer(_release_kvstore!, kv)
        kv
    end
end
function _release_kvstore!(kv::KVStore)
    h = kv.handle
    if h != C_NULL
        kv.handle = C_NULL
        _check_nothrow(ccall(_sym(:mx_kvstore_free), Cint, (Ptr{Cvoid},), h))
    end
    nothing
end
handle(kv::KVStore) = kv.handle == C_NULL ? throw(MXInvalidArgumentError("KVStore: freed")) : kv.handle

"""
    KVStore(kv_type=:local)

A key-value store: `:local`, `:device`, `:dist_sync`, `:dist_device_sync`, `:horovod`
(`:dist_async` is an MXUnsupportedError). See `init!`, `push!`, `pull!`, `pushpull!`,
`broadcast!`, `set_optimizer`, `barrier`, `rank`, `num_workers`, `kv_type`.
"""
function KVStore(kv_type::Union{Symbol,AbstractString}=:local)
    out = Ref{Ptr{Cvoid}}(C_NULL)
    _check(ccall(_sym(:mx_kvstore_new), Cint, (Cstring, Ptr{Ptr{Cvoid}}), string(kv_type), out))
    KVStore(out[])
end

function _kv_config(kv::KVStore)
    p = Ref{Ptr{UInt8}}(C_NULL)
    GC.@preserve kv begin
        _check(ccall(_sym(:mx_kvstore_config), Cint, (Ptr{Cvoid}, Ptr{Ptr{UInt8}}), handle(kv), p))
        return parse_json(unsafe_string(p[]))
    end
end
rank(kv::KVStore) = Int(_kv_config(kv)["rank"])
num_workers(kv::KVStore) = Int(_kv_config(kv)["num_workers"])
kv_type(kv::KVStore) = Symbol(_kv_config(kv)["type"])

# keys (Integer/String/Symbol, or vectors) and values (an NDArray or a vector per key) to flat
# lists of key strings and handles
_kv_key(k::Union{Integer,AbstractString,Symbol}) = string(k)
function _kv_flat(keys, vals)
    if !(keys isa AbstractVector)
        keys, vals = [keys], [vals]
    end
    length(keys) == length(vals) || throw(MXInvalidArgumentError(
        "kvstore: $(length(keys)) keys but $(length(vals)) values"))
    ks = String[]; hs = NDArray[]
    for (k, v) in zip(keys, vals)
        vs = v isa NDArray ? [v] : collect(v)
        for x in vs
            x isa NDArray || throw(MXInvalidArgumentError("kvstore: values must be NDArrays"))
            push!(ks, _kv_key(k)); push!(hs, x)
        end
    end
    ks, hs
end

# Each call spells its ccall out (tests/python/test_julia_static.py checks them against c_api.h);
# the flattening and the GC roots are shared: `f` gets the key strings and handle vectors.
function _kv_call(f, kv::KVStore, keys, vals)
    ks, vs = _kv_flat(keys, vals)
    vh = Ptr{Cvoid}[handle(v) for v in vs]
    GC.@preserve kv vs vh ks f(ks, vh)
    kv
end
function _kv_call(f, kv::KVStore, keys, vals, outs)
    ks, vs = _kv_flat(keys, vals)
    oks, os = _kv_flat(keys, outs)
    vh = Ptr{Cvoid}[handle(v) for v in vs]
    oh = Ptr{Cvoid}[handle(o) for o in os]
    GC.@preserve kv vs vh ks os oh oks f(ks, vh, oks, oh)
    kv
end

"Store copies of the values (dist: rank 0's values reach every worker)."
init!(kv::KVStore, keys, vals) = _kv_call(kv, keys, vals) do ks, vh
    _check(ccall(_sym(:mx_kvstore_init), Cint, (Ptr{Cvoid}, Cint, Ptr{Cstring}, Ptr{Ptr{Cvoid}}),
                 handle(kv), length(ks), ks, vh))
end

"Sum the values of each key (over arrays and workers); update or replace the stored value."
Base.push!(kv::KVStore, keys, vals) = _kv_call(kv, keys, vals) do ks, vh
    _check(ccall(_sym(:mx_kvstore_push), Cint, (Ptr{Cvoid}, Cint, Ptr{Cstring}, Ptr{Ptr{Cvoid}}, Cint),
                 handle(kv), length(ks), ks, vh, 0))
end

"Copy stored values into `outs`."
pull!(kv::KVStore, keys, outs) = _kv_call(kv, keys, outs) do ks, oh
    _check(ccall(_sym(:mx_kvstore_pull), Cint, (Ptr{Cvoid}, Cint, Ptr{Cstring}, Ptr{Ptr{Cvoid}}, Cint),
                 handle(kv), length(ks), ks, oh, 0))
end

"push! then pull! in one call (`outs` defaults to the values: reduced in place)."
pushpull!(kv::KVStore, keys, vals, outs=vals) = _kv_call(kv, keys, vals, outs) do ks, vh, oks, oh
    _check(ccall(_sym(:mx_kvstore_pushpull), Cint,
        (Ptr{Cvoid}, Cint, Ptr{Cstring}, Ptr{Ptr{Cvoid}}, Cint, Ptr{Cstring}, Ptr{Ptr{Cvoid}}, Cint),
        handle(kv), length(ks), ks, vh, length(oks), oks, oh, 0))
end

"""`pushpull!` of the gradient arrays an executor's `backward` writes: with overlap on
(`set_overlap!(kv, true)` or MX_KVSTORE_OVERLAP=1, alike on every worker) the next backward
reduces them bucket by bucket while it runs; the results are those of `pushpull!`."""
pushpull_grads!(kv::KVStore, keys, vals, outs=vals) = _kv_call(kv, keys, vals, outs) do ks, vh, oks, oh
    _check(ccall(_sym(:mx_kvstore_pushpull_grads), Cint,
        (Ptr{Cvoid}, Cint, Ptr{Cstring}, Ptr{Ptr{Cvoid}}, Cint, Ptr{Cstring}, Ptr{Ptr{Cvoid}}, Cint),
        handle(kv), length(ks), ks, vh, length(oks), oks, oh, 0))
end

"Finish the reductions a backward started (before reading gradients between backward and the step)."
function overlap_sync!(kv::KVStore)
    GC.@preserve kv _check(ccall(_sym(:mx_kvstore_overlap_sync), Cint, (Ptr{Cvoid},), handle(kv)))
    kv
end

function _kv_set_config(kv::KVStore, key::AbstractString, json::AbstractString)
    GC.@preserve kv _check(ccall(_sym(:mx_kvstore_set_config), Cint, (Ptr{Cvoid}, Cstring, Cstring),
                                 handle(kv), key, json))
    kv
end
"Reduce gradients while backward runs (dist types; set alike on every worker)."
set_overlap!(kv::KVStore, flag::Bool) = _kv_set_config(kv, "overlap", flag ? "true" : "false")
"""Write a Chrome trace of the reduction (backward passes, each bucket's ready/send/done times)
to `path` (`.rank<N>` before the extension with several workers); `nothing` closes it."""
set_timeline!(kv::KVStore, path::Union{Nothing,AbstractString}) =
    _kv_set_config(kv, "timeline", json_string(path === nothing ? "" : String(path)))

"init! then pull!: every worker gets rank 0's values."
broadcast!(kv::KVStore, keys, vals, outs) = _kv_call(kv, keys, vals, outs) do ks, vh, oks, oh
    _check(ccall(_sym(:mx_kvstore_broadcast), Cint,
        (Ptr{Cvoid}, Cint, Ptr{Cstring}, Ptr{Ptr{Cvoid}}, Cint, Ptr{Cstring}, Ptr{Ptr{Cvoid}}, Cint),
        handle(kv), length(ks), ks, vh, length(oks), oks, oh, 0))
end

"Run `opt` on every push (update on the kvstore)."
function set_optimizer(kv::KVStore, opt::Optimizer)
    GC.@preserve kv opt _check(ccall(_sym(:mx_kvstore_set_optimizer), Cint, (Ptr{Cvoid}, Ptr{Cvoid}),
                                     handle(kv), handle(opt)))
    kv
end

"Wait until every worker reaches this call."
function barrier(kv::KVStore)
    GC.@preserve kv _check(ccall(_sym(:mx_kvstore_barrier), Cint, (Ptr{Cvoid},), handle(kv)))
    nothing
end
function save_optimizer_states(kv::KVStore, path::AbstractString)
    GC.@preserve kv _check(ccall(_sym(:mx_kvstore_save_optimizer_states), Cint, (Ptr{Cvoid}, Cstring),
                                 handle(kv), path))
    nothing
end
function load_optimizer_states(kv::KVStore, path::AbstractString)
    GC.@preserve kv _check(ccall(_sym(:mx_kvstore_load_optimizer_states), Cint, (Ptr{Cvoid}, Cstring),
                                 handle(kv), path))
    nothing
end
"MXNet's compression parameters, e.g. Dict(\"type\" => \"2bit\", \"threshold\" => 0.5)."
function set_gradient_compression(kv::KVStore, params::AbstractDict)
    GC.@preserve kv _check(ccall(_sym(:mx_kvstore_set_gradient_compression), Cint, (Ptr{Cvoid}, Cstring),
                                 handle(kv), json_string(Dict{String,Any}(string(k) => v for (k, v) in params))))
    kv
end

"This worker's rank and the job size from the launcher's environment (0 and 1 outside a job)."
function worker_rank()
    for v in ("MX_RANK", "OMPI_COMM_WORLD_RANK", "PMI_RANK")
        s = get(ENV, v, "")
        isempty(s) || return parse(Int, s)
    end
    0
end
function worker_count()
    for v in ("MX_NUM_WORKERS", "OMPI_COMM_WORLD_SIZE", "PMI_SIZE")
        s = get(ENV, v, "")
        isempty(s) || return parse(Int, s)
    end
    1
end
