# Raw row-major float32 arrays with a shape file (name.bin + name.shape, e.g. "4,3"), the format the
# Python halves of the cross-language tests write and read. Reads and writes under the global
# `dir` that the including script sets first.
function readbin(name)
    shp = Tuple(parse.(Int, split(strip(read(joinpath(dir, name * ".shape"), String)), ',')))
    buf = Array{Float32}(undef, reverse(shp))
    read!(joinpath(dir, name * ".bin"), buf)
    length(shp) <= 1 ? buf : permutedims(buf, ndims(buf):-1:1)
end
function writebin(name, A::AbstractArray)
    B = ndims(A) <= 1 ? Float32.(A) : permutedims(Float32.(A), ndims(A):-1:1)
    write(joinpath(dir, name * ".bin"), B)
    write(joinpath(dir, name * ".shape"), join(size(A), ","))
end
