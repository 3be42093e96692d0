"""
    MX

Julia front end of MX, a deep-learning framework with Apache MXNet 1.x's API. Everything that
computes lives in libmx (C ABI, `libmx/include/mx/c_api.h`); this package converts arrays, maps
errors to Julia exceptions and generates one function per registry operator (`MX.nd.<op>`) at load.

Logical shapes are the same as in Python and R: a 2x3 `Matrix` becomes an NDArray of size (2, 3).

The library is found through `ENV["MX_LIBRARY"]`, else the repository's build folders.
"""
module MX

include("base.jl")
include("json.jl")
include("context.jl")
include("ndarray.jl")
include("ops.jl")
include("arith.jl")
include("autograd.jl")
include("random.jl")
include("symbol.jl")
include("executor.jl")
include("initializer.jl")
include("optimizer.jl")
include("io.jl")
include("model.jl")
# Extension points for the next parts (symbol.jl, executor.jl, optimizer.jl, io.jl, ...): each
# wraps its handles like NDArray (mutable struct + finalizer calling the matching mx_*_free),
# checks every status with _check and is included here.

export NDArray, MXError, MXInvalidArgumentError, MXShapeError, MXTypeError, MXUnsupportedError,
       MXOutOfMemoryError, MXIOError, MXFormatError, MXInternalError, MXUnknownError, MXLibraryError,
       SymbolicNode, Executor, FeedForward, ArrayDataProvider, DataBatch, CSVIter, MNISTIter,
       ImageRecordIter

function __init__()
    _load_library()
    _check_abi()
    # Generating functions evaluates code into MX, which is not allowed while another package is
    # being precompiled; the ops are then generated when that package's code is loaded for real.
    if ccall(:jl_generating_output, Cint, ()) == 0
        generate_ops!()
    end
    nothing
end

end # module
