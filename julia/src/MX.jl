"""
    MX

Julia front end of MX, a deep-learning framework with Apache MXNet 1.x's API. Everything that
computes lives in libmx (C ABI, `libmx/include/mx/c_api.h`); this package converts arrays, maps
errors to Julia exceptions and generates one function per registry operator (`MX.nd.<op>`) at load.

Logical shapes are the same as in Python and R: a 2x3 `Matrix` becomes an NDArray of size (2, 3).

The library is found through `ENV["MX_LIBRARY"]`, else the libmx of the Python package
(`python3 -m mx --libdir`), else the repository's build folders (see julia/README.md).
"""
module MX

using SparseArrays

include("base.jl")
include("json.jl")
include("context.jl")
include("ndarray.jl")
include("ops.jl")
include("creation.jl")
include("sparse.jl")
include("arith.jl")
include("autograd.jl")
include("random.jl")
include("symbol.jl")
include("executor.jl")
include("initializer.jl")
include("optimizer.jl")
include("kvstore.jl")
include("io.jl")
include("progress.jl")
include("model.jl")
# Extension points for the next parts (symbol.jl, executor.jl, optimizer.jl, io.jl, ...): each
# wraps its handles like NDArray (mutable struct + finalizer calling the matching mx_*_free),
# checks every status with _check and is included here.

"""
    mx

`MX` under the name MXNet.jl code uses: after `using MX`, `mx.zeros(2, 3)`, `mx.Variable(:data)`,
`mx.FeedForward(net; context=mx.cpu())`, `mx.SGD(η=0.1)`, `mx.fit(model, opt, provider; n_epoch=2)`
and `mx.predict(model, provider)` run on this package. Where MXNet.jl's semantics differ from
MXNet's (MXNet.jl puts the batch last), MX follows MXNet: the batch is the first dimension.
"""
const mx = MX

export mx, NDArray, MXError, MXInvalidArgumentError, MXShapeError, MXTypeError, MXUnsupportedError,
       MXOutOfMemoryError, MXIOError, MXFormatError, MXInternalError, MXUnknownError, MXLibraryError,
       SymbolicNode, Executor, FeedForward, ArrayDataProvider, DataBatch, CSVIter, MNISTIter,
       ImageRecordIter, KVStore, stype, tostype

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
