# Training progress for `fit` (the same behaviour as Python's mx.progress and R's bar):
# on a terminal one line redrawn in place with '\r' at most every `min_interval` seconds plus the
# final state; elsewhere (logs, pipes) one line per 10 %. The rate is measured from the first
# update: the first batch carries one-off costs, so later rates count the batches after it over
# the time since it ended.

mutable struct ProgressBar
    total::Int
    prefix::String
    width::Int
    inplace::Bool
    min_interval::Float64
    clock::Function
    out::IO
    count::Int
    start::Float64
    first::Union{Nothing,Tuple{Float64,Int}}
    last_draw::Union{Nothing,Float64}
    last_decile::Int
    draws::Int
end

ProgressBar(total::Integer; prefix::AbstractString="", width::Integer=30, out::IO=stderr,
            inplace::Bool=out isa Base.TTY, min_interval::Real=0.25, clock::Function=time) =
    ProgressBar(max(Int(total), 1), String(prefix), Int(width), inplace, Float64(min_interval), clock, out,
                0, Float64(clock()), nothing, nothing, -1, 0)

"""Items per second, measured from the first update."""
function progress_rate(p::ProgressBar, now::Real=p.clock())
    p.first === nothing && return 0.0
    t0, c0 = p.first
    p.count > c0 && now > t0 && return (p.count - c0) / (now - t0)
    return t0 > p.start ? c0 / (t0 - p.start) : 0.0
end

function progress_update!(p::ProgressBar, n::Integer=1)
    p.count = min(p.count + n, p.total)
    now = Float64(p.clock())
    p.first === nothing && (p.first = (now, p.count))
    done = p.count >= p.total
    if p.inplace
        !done && p.last_draw !== nothing && now - p.last_draw < p.min_interval && return false
    else
        decile = (p.count * 10) ÷ p.total
        decile == p.last_decile && return false
        p.last_decile = decile
    end
    p.last_draw = now
    frac = p.count / p.total
    filled = floor(Int, p.width * frac)
    line = string(p.prefix, " [", "#"^filled, "-"^(p.width - filled), "] ", lpad(floor(Int, 100 * frac), 3), "% ",
                  p.count, "/", p.total, " ", round(progress_rate(p, now); digits=1), " batch/s")
    p.draws += 1
    print(p.out, p.inplace ? "\r" * line : line * "\n")
    return true
end

progress_close(p::ProgressBar) = p.inplace && println(p.out)
