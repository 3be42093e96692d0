# Random numbers: one counter-based generator (Philox) in libmx, so a seed gives the same
# numbers in Python, R and Julia. Sampling ops are registry ops (MX.nd.random_uniform, ...).

"""
    MX.seed!(n; ctx=nothing)

Seed libmx's generator (every device, or only `ctx`'s device type).
"""
function seed!(n::Integer; ctx::Union{Context,Nothing}=nothing)
    n >= 0 || throw(MXInvalidArgumentError("seed!: the seed must be non-negative, got $(n)"))
    _check(ccall(_sym(:mx_random_seed), Cint, (UInt64, Cint), UInt64(n), ctx === nothing ? -1 : ctx.device_type))
    nothing
end

function _sample(ops::Tuple, what, dims::Tuple, T::Type, ctx::Context; kwargs...)
    for op in ops
        if has_op(op)
            return invoke_op(op, NDArray[]; shape=Tuple(Int[d for d in dims]), dtype=T, ctx=ctx, kwargs...)
        end
    end
    throw(MXUnsupportedError("$(what) needs one of the registry ops $(join(ops, ", ")), none is registered"))
end

"Uniform samples in [low, high) of the given logical shape (registry op `_random_uniform`)."
rand_uniform(low::Real, high::Real, dims::Integer...; dtype::Type=Float32, ctx::Context=current_context()) =
    _sample(("_random_uniform", "random_uniform", "uniform"), "rand_uniform", dims, dtype, ctx;
            low=Float64(low), high=Float64(high))

"Normal samples (registry op `_random_normal`)."
rand_normal(loc::Real, scale::Real, dims::Integer...; dtype::Type=Float32, ctx::Context=current_context()) =
    _sample(("_random_normal", "random_normal", "normal"), "rand_normal", dims, dtype, ctx;
            loc=Float64(loc), scale=Float64(scale))
