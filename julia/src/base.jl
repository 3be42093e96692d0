# Library loading, the ABI check, status codes and error mapping.
#
# libmx is located at load time (ENV["MX_LIBRARY"], else the default build locations) and opened
# with Libdl; every C function is called through a function pointer looked up once by name
# (`_sym(:mx_name)`), so the library path is a run-time choice, not a compile-time constant.

using Libdl

"The C ABI version (MX_ABI_VERSION in c_api.h) this package was written for."
const MX_ABI_VERSION = 1

const _LIB = Ref{Ptr{Cvoid}}(C_NULL)
const _LIBPATH = Ref{String}("")
const _SYMS = Dict{Symbol,Ptr{Cvoid}}()
const _SYMS_LOCK = ReentrantLock()

"""
    MX.python_libdir(python=get(ENV, "MX_PYTHON", "python3"))

The folder of the libmx that the Python package `mx` uses (`python3 -m mx --libdir`), or
`nothing` when there is no such interpreter or package.
"""
function python_libdir(python::AbstractString=get(ENV, "MX_PYTHON", "python3"))
    Sys.which(python) === nothing && !isfile(python) && return nothing
    out = try
        readchomp(pipeline(`$(python) -m mx --libdir`; stderr=devnull))
    catch
        return nothing
    end
    isempty(out) ? nothing : out
end

"Candidate paths of libmx.so, most specific first: MX_LIBRARY, the Python package's, the build tree's."
function library_candidates()
    c = String[]
    p = get(ENV, "MX_LIBRARY", "")
    isempty(p) || push!(c, p)
    if isempty(p)
        d = python_libdir()
        d === nothing || push!(c, joinpath(d, "libmx.so"))
    end
    root = normpath(joinpath(@__DIR__, "..", ".."))
    push!(c, joinpath(root, "build", "install", "lib", "libmx.so"))
    push!(c, joinpath(root, "build", "libmx.so"))
    push!(c, joinpath(root, "python", "mx", "libmx.so"))
    return c
end

# libgomp (loaded with libmx) reads its wait policy once, at load: without a user choice its
# threads spin ~300000 iterations after each parallel region, starving other processes on a
# shared machine. Brief spinning instead, unless OMP_WAIT_POLICY or GOMP_SPINCOUNT is set
# (docs/ONEDNN.md, Threads; the Python package does the same).
function _omp_wait_default!()
    if !haskey(ENV, "OMP_WAIT_POLICY") && !haskey(ENV, "GOMP_SPINCOUNT")
        ENV["GOMP_SPINCOUNT"] = "10000"
    end
    nothing
end

function _load_library()
    _LIB[] == C_NULL || return _LIB[]
    _omp_wait_default!()
    cands = library_candidates()
    explicit = get(ENV, "MX_LIBRARY", "")
    if !isempty(explicit) && !isfile(explicit)
        throw(MXLibraryError("MX_LIBRARY=$(explicit) does not exist"))
    end
    for p in cands
        isfile(p) || continue
        h = Libdl.dlopen(p, Libdl.RTLD_LAZY | Libdl.RTLD_LOCAL; throw_error=false)
        h === nothing && throw(MXLibraryError("cannot open $(p) (dlopen failed: $(Libdl.dlerror()))"))
        _LIB[] = h
        _LIBPATH[] = p
        return h
    end
    throw(MXLibraryError("libmx not found; set ENV[\"MX_LIBRARY\"] to the path of libmx.so " *
                         "(tried: $(join(cands, ", ")))"))
end

"Path of the loaded libmx."
libmx_path() = _LIBPATH[]

# The address of a C API function (looked up once, then cached).
function _sym(name::Symbol)
    p = get(_SYMS, name, C_NULL)
    p == C_NULL || return p
    lock(_SYMS_LOCK) do
        lib = _load_library()
        q = Libdl.dlsym(lib, name; throw_error=false)
        q === nothing && throw(MXLibraryError("$(libmx_path()) has no function $(name) " *
                                              "(built from an older c_api.h?)"))
        _SYMS[name] = q
        q
    end
end

# ------------------------------------------------------------------ errors

"Any error reported by libmx (or by this package on its behalf)."
abstract type MXError <: Exception end

"The library could not be found, opened, or has the wrong ABI version."
struct MXLibraryError <: MXError
    msg::String
end
Base.showerror(io::IO, e::MXLibraryError) = print(io, "MXLibraryError: ", e.msg)

# One concrete type per status category of c_api.h; each carries the status and mx_last_error().
for (T, code, what) in (
        (:MXInvalidArgumentError, -1, "invalid argument"),
        (:MXShapeError, -2, "shape error"),
        (:MXTypeError, -3, "type error"),
        (:MXUnsupportedError, -4, "unsupported"),
        (:MXOutOfMemoryError, -5, "out of memory"),
        (:MXIOError, -6, "I/O error"),
        (:MXFormatError, -7, "format error"),
        (:MXInternalError, -8, "internal error"),
        (:MXUnknownError, -100, "unknown status"))
    @eval begin
        struct $T <: MXError
            status::Int
            msg::String
        end
        $T(msg::AbstractString) = $T($code, String(msg))
        Base.showerror(io::IO, e::$T) = print(io, $(string(T)), ": ", e.msg)
    end
    @eval @doc $("MX status $(code) ($(what)): `status` is the C status code, `msg` the message " *
                 "of mx_last_error().") $T
end

const _ERROR_TYPES = Dict{Int,Any}(
    -1 => MXInvalidArgumentError, -2 => MXShapeError, -3 => MXTypeError, -4 => MXUnsupportedError,
    -5 => MXOutOfMemoryError, -6 => MXIOError, -7 => MXFormatError, -8 => MXInternalError)

"The thread-local message of the last failed call (`\"\"` if none)."
function last_error()
    p = ccall(_sym(:mx_last_error), Cstring, ())
    p == C_NULL ? "" : unsafe_string(p)
end

"The MXError subtype for a status code."
error_type(status::Integer) = get(_ERROR_TYPES, Int(status), MXUnknownError)

"Build the exception for a failed status, with mx_last_error()'s message."
function mxerror(status::Integer)
    msg = last_error()
    isempty(msg) && (msg = "libmx call failed with status $(status)")
    return error_type(status)(Int(status), msg)
end

# Every status-returning ccall goes through _check (or _check_nothrow in finalizers).
@inline function _check(status::Cint)
    status == 0 || throw(mxerror(status))
    nothing
end

# Finalizers must not throw: a failed release is recorded instead.
const FINALIZER_FAILURES = Ref{Int}(0)
const FINALIZER_LAST_ERROR = Ref{String}("")
function _check_nothrow(status::Cint)
    if status != 0
        FINALIZER_FAILURES[] += 1
        FINALIZER_LAST_ERROR[] = last_error()
    end
    nothing
end

# ------------------------------------------------------------------ version, features, logging

"The ABI version of the loaded library (c_api.h's MX_ABI_VERSION when it was built)."
abi_version() = Int(ccall(_sym(:mx_abi_version), Cint, ()))

"The loaded library's version as a VersionNumber."
function version()
    ma = Ref{Cint}(0); mi = Ref{Cint}(0); pa = Ref{Cint}(0)
    ccall(_sym(:mx_version), Cvoid, (Ptr{Cint}, Ptr{Cint}, Ptr{Cint}), ma, mi, pa)
    VersionNumber(ma[], mi[], pa[])
end

"Features compiled into libmx, parsed from mx_features()'s JSON (a Dict)."
function features()
    p = Ref{Ptr{UInt8}}(C_NULL)
    _check(ccall(_sym(:mx_features), Cint, (Ptr{Ptr{UInt8}},), p))
    parse_json(unsafe_string(p[]))
end

"Set the number of threads of the CPU kernels."
function set_num_threads(n::Integer)
    _check(ccall(_sym(:mx_set_num_threads), Cint, (Cint,), n))
    nothing
end

function _check_abi(v::Integer=abi_version())
    v == MX_ABI_VERSION || throw(MXLibraryError(
        "$(libmx_path()) has C ABI version $(v), but this MX.jl was written for ABI version " *
        "$(MX_ABI_VERSION); rebuild libmx from the same source tree as the Julia package " *
        "(or point ENV[\"MX_LIBRARY\"] at a matching libmx.so)"))
    nothing
end

# A C string array kept alive with its Julia strings.
function _cstrings(v::AbstractVector{<:AbstractString})
    s = String[String(x) for x in v]
    for x in s
        occursin('\0', x) && throw(MXInvalidArgumentError("string contains a NUL byte: $(repr(x))"))
    end
    ptrs = Ptr{UInt8}[pointer(x) for x in s]
    return s, ptrs
end
