# Devices. Numbering equals c_api.h's mx_device_type (MXNet's Context::DeviceType).

const MX_CPU = 1
const MX_GPU = 2
const MX_CPU_PINNED = 3

"A device: `MX.cpu(0)`, `MX.gpu(1)`."
struct Context
    device_type::Int
    device_id::Int
end

const _DEVICE_NAMES = Dict(MX_CPU => "cpu", MX_GPU => "gpu", MX_CPU_PINNED => "cpu_pinned")

device_name(c::Context) = get(_DEVICE_NAMES, c.device_type, "device$(c.device_type)")
Base.show(io::IO, c::Context) = print(io, device_name(c), "(", c.device_id, ")")
Base.string(c::Context) = sprint(show, c)

"The CPU device."
cpu(id::Integer=0) = Context(MX_CPU, Int(id))
"Page-locked CPU memory."
cpu_pinned(id::Integer=0) = Context(MX_CPU_PINNED, Int(id))

"Number of usable GPUs (0 on a build without CUDA or a machine without a GPU)."
function num_gpus()
    n = Ref{Cint}(0)
    _check(ccall(_sym(:mx_device_count), Cint, (Cint, Ptr{Cint}), MX_GPU, n))
    Int(n[])
end

"""
    gpu(id=0)

GPU number `id`. Throws `MXUnsupportedError` when this build or machine has no such GPU.
"""
function gpu(id::Integer=0)
    n = num_gpus()
    if id < 0 || id >= n
        throw(MXUnsupportedError(n == 0 ?
            "gpu($(id)): no GPU is available (this libmx was built without CUDA or the machine has no GPU)" :
            "gpu($(id)): only $(n) GPU(s) available (ids 0 to $(n - 1))"))
    end
    Context(MX_GPU, Int(id))
end

const _DEFAULT_CONTEXT = Ref{Context}(Context(MX_CPU, 0))

"The device new arrays go to when none is given."
current_context() = _DEFAULT_CONTEXT[]

"""
    with_context(f, ctx)

Run `f()` with `ctx` as the default device of new arrays.
"""
function with_context(f, ctx::Context)
    old = _DEFAULT_CONTEXT[]
    _DEFAULT_CONTEXT[] = ctx
    try
        return f()
    finally
        _DEFAULT_CONTEXT[] = old
    end
end
