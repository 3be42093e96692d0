# A small JSON reader (standard library only) for the registry schemas and other JSON the
# library returns. Objects become Dict{String,Any}, arrays Vector{Any}, numbers Int64 or Float64,
# null `nothing`.

struct JSONParseError <: Exception
    msg::String
end
Base.showerror(io::IO, e::JSONParseError) = print(io, "JSONParseError: ", e.msg)

mutable struct _JSONReader
    s::Vector{UInt8}
    i::Int
end

"Parse a JSON text."
function parse_json(text::AbstractString)
    r = _JSONReader(Vector{UInt8}(codeunits(String(text))), 1)
    v = _json_value(r)
    _json_ws(r)
    r.i <= length(r.s) && _json_fail(r, "trailing characters")
    return v
end

_json_fail(r::_JSONReader, what) = throw(JSONParseError("$(what) at byte $(r.i)"))

function _json_ws(r::_JSONReader)
    while r.i <= length(r.s) && r.s[r.i] in (0x20, 0x09, 0x0a, 0x0d)
        r.i += 1
    end
end

function _json_peek(r::_JSONReader)
    _json_ws(r)
    r.i <= length(r.s) || _json_fail(r, "unexpected end of input")
    return r.s[r.i]
end

function _json_expect(r::_JSONReader, word::String)
    n = sizeof(word)
    (r.i + n - 1 <= length(r.s) && String(r.s[r.i:r.i+n-1]) == word) || _json_fail(r, "expected $(word)")
    r.i += n
end

function _json_value(r::_JSONReader)
    c = _json_peek(r)
    if c == UInt8('{')
        r.i += 1
        d = Dict{String,Any}()
        _json_peek(r) == UInt8('}') && (r.i += 1; return d)
        while true
            _json_peek(r) == UInt8('"') || _json_fail(r, "expected a string key")
            k = _json_string(r)
            _json_peek(r) == UInt8(':') || _json_fail(r, "expected ':'")
            r.i += 1
            d[k] = _json_value(r)
            c = _json_peek(r)
            r.i += 1
            c == UInt8('}') && return d
            c == UInt8(',') || (r.i -= 1; _json_fail(r, "expected ',' or '}'"))
        end
    elseif c == UInt8('[')
        r.i += 1
        a = Any[]
        _json_peek(r) == UInt8(']') && (r.i += 1; return a)
        while true
            push!(a, _json_value(r))
            c = _json_peek(r)
            r.i += 1
            c == UInt8(']') && return a
            c == UInt8(',') || (r.i -= 1; _json_fail(r, "expected ',' or ']'"))
        end
    elseif c == UInt8('"')
        return _json_string(r)
    elseif c == UInt8('t')
        _json_expect(r, "true"); return true
    elseif c == UInt8('f')
        _json_expect(r, "false"); return false
    elseif c == UInt8('n')
        _json_expect(r, "null"); return nothing
    elseif c == UInt8('-') || UInt8('0') <= c <= UInt8('9')
        return _json_number(r)
    elseif c == UInt8('N')   # NaN, as some writers emit for non-finite defaults
        _json_expect(r, "NaN"); return NaN
    elseif c == UInt8('I')
        _json_expect(r, "Infinity"); return Inf
    end
    _json_fail(r, "unexpected character '$(Char(c))'")
end

function _json_number(r::_JSONReader)
    start = r.i
    isfloat = false
    if r.s[r.i] == UInt8('-')
        r.i += 1
        if r.i <= length(r.s) && r.s[r.i] == UInt8('I')
            _json_expect(r, "Infinity"); return -Inf
        end
    end
    while r.i <= length(r.s)
        c = r.s[r.i]
        if UInt8('0') <= c <= UInt8('9')
        elseif c in (UInt8('.'), UInt8('e'), UInt8('E'), UInt8('+'), UInt8('-'))
            isfloat = true
        else
            break
        end
        r.i += 1
    end
    t = String(r.s[start:r.i-1])
    if !isfloat
        v = tryparse(Int64, t)
        v === nothing || return v
    end
    v = tryparse(Float64, t)
    v === nothing && (r.i = start; _json_fail(r, "bad number '$(t)'"))
    return v
end

function _json_hex4(r::_JSONReader)
    r.i + 3 <= length(r.s) || _json_fail(r, "truncated \\u escape")
    v = tryparse(UInt16, String(r.s[r.i:r.i+3]); base=16)
    v === nothing && _json_fail(r, "bad \\u escape")
    r.i += 4
    return v
end

function _json_string(r::_JSONReader)
    r.i += 1 # opening quote
    io = IOBuffer()
    while true
        r.i <= length(r.s) || _json_fail(r, "unterminated string")
        c = r.s[r.i]
        r.i += 1
        if c == UInt8('"')
            break
        elseif c == UInt8('\\')
            r.i <= length(r.s) || _json_fail(r, "unterminated escape")
            e = r.s[r.i]
            r.i += 1
            if e == UInt8('n'); write(io, '\n')
            elseif e == UInt8('t'); write(io, '\t')
            elseif e == UInt8('r'); write(io, '\r')
            elseif e == UInt8('b'); write(io, '\b')
            elseif e == UInt8('f'); write(io, '\f')
            elseif e == UInt8('/'); write(io, '/')
            elseif e == UInt8('\\'); write(io, '\\')
            elseif e == UInt8('"'); write(io, '"')
            elseif e == UInt8('u')
                u = _json_hex4(r)
                if 0xd800 <= u <= 0xdbff && r.i + 1 <= length(r.s) && r.s[r.i] == UInt8('\\') &&
                        r.s[r.i+1] == UInt8('u')
                    r.i += 2
                    lo = _json_hex4(r)
                    write(io, Char(0x10000 + ((UInt32(u) - 0xd800) << 10) + (UInt32(lo) - 0xdc00)))
                else
                    write(io, Char(u))
                end
            else
                _json_fail(r, "bad escape '\\$(Char(e))'")
            end
        else
            write(io, c)
        end
    end
    return String(take!(io))
end

# Writing JSON (for the few C functions that take JSON arguments).
function json_string(x::AbstractString)
    io = IOBuffer()
    write(io, '"')
    for c in String(x)
        if c == '"'; write(io, "\\\"")
        elseif c == '\\'; write(io, "\\\\")
        elseif c == '\n'; write(io, "\\n")
        elseif c == '\t'; write(io, "\\t")
        elseif c == '\r'; write(io, "\\r")
        elseif c < ' '; write(io, "\\u", string(UInt32(c); base=16, pad=4))
        else write(io, c)
        end
    end
    write(io, '"')
    String(take!(io))
end
json_string(x::Bool) = x ? "true" : "false"
json_string(x::Integer) = string(x)
json_string(x::AbstractFloat) = isfinite(x) ? string(Float64(x)) : (isnan(x) ? "NaN" : (x > 0 ? "Infinity" : "-Infinity"))
json_string(::Nothing) = "null"
json_string(x::Symbol) = json_string(string(x))
json_string(x::Union{AbstractVector,Tuple}) = "[" * join([json_string(v) for v in x], ",") * "]"
json_string(x::AbstractDict) = "{" * join([json_string(string(k)) * ":" * json_string(v) for (k, v) in x], ",") * "}"
