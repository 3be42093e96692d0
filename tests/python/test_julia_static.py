"""Checks of the Julia front end that need no Julia (they always run).

1. Every `ccall` in julia/src matches the prototype in libmx/include/mx/c_api.h: the same function
   name, arity, argument and return types (C types mapped to Julia types), and every call of a
   status-returning function is checked (`_check(ccall(...))`, or `_check_nothrow` in finalizers).
2. Every .jl file parses with tree-sitter's Julia grammar (PyPI: tree-sitter, tree-sitter-julia).
3. No syntax or API newer than Julia 1.5 (a small deny list).

Each check is shown to catch a deliberately broken sample.
"""
import pathlib
import re

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
HEADER = ROOT / "libmx" / "include" / "mx" / "c_api.h"
JULIA = ROOT / "julia"
JL_SRC = JULIA / "src"

# ------------------------------------------------------------------ the C header


def _strip_c_comments(text):
    text = re.sub(r"/\*.*?\*/", " ", text, flags=re.S)
    return re.sub(r"//[^\n]*", " ", text)


def parse_header(text):
    """{name: (return_type, [param_type, ...])} of the MX_API functions, plus the handle and
    function-pointer typedef names."""
    text = _strip_c_comments(text)
    handles = set(re.findall(r"typedef\s+struct\s+\w+\s*\*\s*(\w+)\s*;", text))
    fnptrs = set(re.findall(r"typedef\s+[\w\s\*]+\(\s*\*\s*(\w+)\s*\)\s*\(", text))
    enums = set(re.findall(r"typedef\s+enum\s+\w*\s*\{[^}]*\}\s*(\w+)\s*;", text, flags=re.S))
    protos = {}
    for m in re.finditer(r"MX_API\s+([^;()]+?)\b(mx_\w+)\s*\(([^)]*)\)\s*;", text, flags=re.S):
        ret = " ".join(m.group(1).split())
        name = m.group(2)
        params = " ".join(m.group(3).split())
        ptypes = []
        if params and params != "void":
            for p in params.split(","):
                p = p.strip()
                # drop the parameter name: the last identifier not part of the type
                pm = re.match(r"^(.*?[\s\*])(\w+)$", p)
                ptypes.append(" ".join(pm.group(1).split()) if pm else p)
        protos[name] = (ret, ptypes)
    return protos, handles, fnptrs, enums


_SCALARS = {
    "void": {"Cvoid", "Nothing"},
    "int": {"Cint", "Int32"},
    "unsigned": {"Cuint", "UInt32"},
    "int64_t": {"Int64", "Clonglong"},
    "uint64_t": {"UInt64", "Culonglong"},
    "int32_t": {"Int32", "Cint"},
    "size_t": {"Csize_t", "UInt"},
    "double": {"Cdouble", "Float64"},
    "float": {"Cfloat", "Float32"},
    "char": {"UInt8", "Cchar", "Cuchar"},
}


def julia_types_for(ctype, handles, fnptrs, enums):
    """The set of Julia type spellings acceptable for a C type."""
    t = " ".join(ctype.replace("*", " * ").split())
    t = re.sub(r"\bconst\b", "", t)
    t = " ".join(t.split())
    depth = t.count("*")
    base = t.replace("*", "").strip()
    if base in handles or base in fnptrs:
        base_set, depth = {"Cvoid"}, depth + 1   # an opaque handle is a pointer
    elif base in enums:
        base_set = _SCALARS["int"]
    elif base in _SCALARS:
        base_set = _SCALARS[base]
    else:
        raise ValueError("c_api.h type %r has no Julia mapping in this test" % ctype)
    if depth == 0:
        return set(base_set)
    # char * is a C string: Cstring, or a pointer to bytes
    if base == "char":
        levels = {"Cstring"} | {"Ptr{%s}" % b for b in base_set}
        depth -= 1
    else:
        levels = set(base_set)
    for i in range(depth):
        outer = {"Ptr{%s}" % x for x in levels}
        if i == depth - 1:
            outer |= {"Ref{%s}" % x for x in levels}   # Ref{T} passes a T* as well
        levels = outer
    return levels


# ------------------------------------------------------------------ the Julia ccalls


def _split_top(s, sep=","):
    """Split at top-level separators, respecting brackets and string literals."""
    parts, depth, cur, i = [], 0, [], 0
    while i < len(s):
        c = s[i]
        if c == '"':
            j = i + 1
            while j < len(s) and s[j] != '"':
                j += 2 if s[j] == "\\" else 1
            cur.append(s[i:j + 1])
            i = j + 1
            continue
        if c == "'" and i + 2 < len(s) and (s[i + 2] == "'" or s[i + 1] == "\\"):
            j = s.index("'", i + 2 if s[i + 1] != "\\" else i + 3)
            cur.append(s[i:j + 1])
            i = j + 1
            continue
        if c in "([{":
            depth += 1
        elif c in ")]}":
            depth -= 1
        if c == sep and depth == 0:
            parts.append("".join(cur).strip())
            cur = []
        else:
            cur.append(c)
        i += 1
    tail = "".join(cur).strip()
    if tail:
        parts.append(tail)
    return parts


def _strip_julia_comments(src):
    out = []
    for line in src.split("\n"):
        # a '#' outside a string starts a comment (good enough for these sources)
        in_str, keep = False, []
        for k, c in enumerate(line):
            if c == '"' and (k == 0 or line[k - 1] != "\\"):
                in_str = not in_str
            if c == "#" and not in_str:
                break
            keep.append(c)
        out.append("".join(keep))
    return "\n".join(out)


def parse_ccalls(src, filename="<string>"):
    """Every ccall(...) in Julia source: dicts with name, ret, argtypes, nargs, checked, where."""
    code = _strip_julia_comments(src)
    calls = []
    for m in re.finditer(r"\bccall\s*\(", code):
        start = m.end()
        depth, i = 1, start
        while i < len(code) and depth:
            if code[i] in "([{":
                depth += 1
            elif code[i] in ")]}":
                depth -= 1
            i += 1
        inner = code[start:i - 1]
        args = _split_top(inner)
        line = code.count("\n", 0, m.start()) + 1
        where = "%s:%d" % (filename, line)
        if len(args) < 3:
            calls.append(dict(name=None, where=where, error="ccall with fewer than 3 arguments"))
            continue
        fn, ret, types = args[0], " ".join(args[1].split()), args[2].strip()
        nm = re.search(r":(\w+)", fn)
        tm = re.fullmatch(r"\((.*)\)", types, flags=re.S)
        if not nm or not tm:
            calls.append(dict(name=None, where=where,
                              error="cannot read the function or the argument type tuple: %r" % inner[:80]))
            continue
        argtypes = [" ".join(a.split()).replace(" ", "") for a in _split_top(tm.group(1))]
        prefix = code[:m.start()].rstrip()
        checked = re.search(r"\b_check(_nothrow)?\($", prefix) is not None
        calls.append(dict(name=nm.group(1), ret=ret.replace(" ", ""), argtypes=argtypes,
                          nargs=len(args) - 3, checked=checked, where=where, error=None))
    return calls


# functions whose int result is a value, not a status
NOT_STATUS = {"mx_abi_version"}


def check_ccalls(calls, protos, handles, fnptrs, enums):
    """A list of problems (empty when every ccall matches c_api.h)."""
    problems = []
    for c in calls:
        if c["error"]:
            problems.append("%s: %s" % (c["where"], c["error"]))
            continue
        name = c["name"]
        if name.startswith("jl_"):
            continue  # Julia runtime functions, not libmx
        if name not in protos:
            problems.append("%s: %s is not declared in c_api.h" % (c["where"], name))
            continue
        cret, cparams = protos[name]
        if len(c["argtypes"]) != len(cparams):
            problems.append("%s: %s takes %d arguments in c_api.h, the ccall declares %d types"
                            % (c["where"], name, len(cparams), len(c["argtypes"])))
        if c["nargs"] != len(c["argtypes"]):
            problems.append("%s: %s: %d argument types but %d values passed"
                            % (c["where"], name, len(c["argtypes"]), c["nargs"]))
        ok_ret = julia_types_for(cret, handles, fnptrs, enums)
        if c["ret"] not in ok_ret:
            problems.append("%s: %s returns %s in c_api.h: expected one of %s, the ccall says %s"
                            % (c["where"], name, cret, sorted(ok_ret), c["ret"]))
        for k, (ct, jt) in enumerate(zip(cparams, c["argtypes"])):
            ok = julia_types_for(ct, handles, fnptrs, enums)
            if jt not in ok:
                problems.append("%s: %s argument %d is `%s` in c_api.h: expected one of %s, the ccall says %s"
                                % (c["where"], name, k + 1, ct, sorted(ok), jt))
        if cret == "int" and name not in NOT_STATUS and not c["checked"]:
            problems.append("%s: the status of %s is not checked (wrap the ccall in _check(...))"
                            % (c["where"], name))
    return problems


@pytest.fixture(scope="module")
def header():
    return parse_header(HEADER.read_text())


def _jl_files(folder):
    return sorted(folder.rglob("*.jl"))


def test_header_parser_reads_the_abi(header):
    protos, handles, fnptrs, enums = header
    assert protos["mx_ndarray_new"] == ("int", ["const int64_t *", "int", "int", "int", "int", "mx_ndarray_t *"])
    assert protos["mx_last_error"] == ("const char *", [])
    assert protos["mx_abi_version"] == ("int", [])
    assert "mx_ndarray_t" in handles and "mx_log_fn" in fnptrs and "mx_status" in enums
    assert len(protos) > 50
    for name, (ret, params) in protos.items():   # every type of the header is mapped
        julia_types_for(ret, handles, fnptrs, enums)
        for p in params:
            julia_types_for(p, handles, fnptrs, enums)


def test_every_ccall_matches_c_api_h(header):
    files = _jl_files(JL_SRC)
    assert files, "no Julia sources under %s" % JL_SRC
    calls, problems = [], []
    for f in files:
        cs = parse_ccalls(f.read_text(), str(f.relative_to(ROOT)))
        calls += cs
    problems = check_ccalls(calls, *header)
    assert not problems, "ccalls that do not match c_api.h:\n" + "\n".join(problems)
    used = {c["name"] for c in calls}
    for must in ("mx_abi_version", "mx_last_error", "mx_ndarray_new", "mx_ndarray_free", "mx_op_count",
                 "mx_op_name", "mx_op_schema", "mx_op_invoke", "mx_autograd_backward", "mx_random_seed"):
        assert must in used, "julia/src never calls %s" % must
    assert len(calls) > 40


GOOD_SAMPLE = """
function f(x)
    out = Ref{Ptr{Cvoid}}(C_NULL)
    _check(ccall(_sym(:mx_ndarray_new), Cint, (Ptr{Int64}, Cint, Cint, Cint, Cint, Ptr{Ptr{Cvoid}}),
                 shape, 2, 0, 1, 0, out))
    GC.@preserve x _check(ccall(_sym(:mx_ndarray_copy_to), Cint, (Ptr{Cvoid}, Ptr{Cvoid}, Csize_t), h, buf, n))
    p = ccall(_sym(:mx_last_error), Cstring, ())  # a comment with ccall(
    v = ccall(_sym(:mx_abi_version), Cint, ())
    ccall(:jl_generating_output, Cint, ())
end
"""


def test_ccall_checker_accepts_a_correct_sample(header):
    calls = parse_ccalls(GOOD_SAMPLE)
    assert [c["name"] for c in calls] == ["mx_ndarray_new", "mx_ndarray_copy_to", "mx_last_error",
                                          "mx_abi_version", "jl_generating_output"]
    assert check_ccalls(calls, *header) == []


@pytest.mark.parametrize("bad, expect", [
    # ndim is `int` in c_api.h, not int64_t
    (GOOD_SAMPLE.replace("(Ptr{Int64}, Cint, Cint", "(Ptr{Int64}, Int64, Cint"), "argument 2"),
    # nbytes is size_t
    (GOOD_SAMPLE.replace("Ptr{Cvoid}, Csize_t)", "Ptr{Cvoid}, Cint)"), "argument 3"),
    # a pointer level missing
    (GOOD_SAMPLE.replace("Cint, Ptr{Ptr{Cvoid}}),", "Cint, Ptr{Cvoid}),"), "argument 6"),
    # wrong return type
    (GOOD_SAMPLE.replace("_sym(:mx_last_error), Cstring", "_sym(:mx_last_error), Cint"), "returns"),
    # wrong arity (a type dropped and its value too)
    (GOOD_SAMPLE.replace("(Ptr{Cvoid}, Ptr{Cvoid}, Csize_t), h, buf, n)", "(Ptr{Cvoid}, Ptr{Cvoid}), h, buf)"),
     "takes 3 arguments"),
    # values and types disagree
    (GOOD_SAMPLE.replace("h, buf, n))", "h, buf))"), "values passed"),
    # a misspelt function
    (GOOD_SAMPLE.replace(":mx_ndarray_copy_to", ":mx_ndarray_copyto"), "not declared"),
    # a status ignored
    (GOOD_SAMPLE.replace("GC.@preserve x _check(ccall(_sym(:mx_ndarray_copy_to), Cint, (Ptr{Cvoid}, Ptr{Cvoid}, Csize_t), h, buf, n))",
                         "GC.@preserve x ccall(_sym(:mx_ndarray_copy_to), Cint, (Ptr{Cvoid}, Ptr{Cvoid}, Csize_t), h, buf, n)"),
     "not checked"),
], ids=["arg-type", "size_t", "pointer-depth", "return-type", "arity", "values", "name", "unchecked"])
def test_ccall_checker_rejects_broken_samples(header, bad, expect):
    assert bad != GOOD_SAMPLE
    problems = check_ccalls(parse_ccalls(bad), *header)
    assert problems, "the broken sample was accepted"
    assert any(expect in p for p in problems), problems


# ------------------------------------------------------------------ tree-sitter syntax check


def _julia_parser():
    # Optional: the julia suite parses and runs the same files with Julia 1.5.3 itself; this check
    # only adds a parse without Julia.
    ts = pytest.importorskip("tree_sitter", reason="tree-sitter is not installed (optional, not in pyproject: "
                             "pip install tree-sitter tree-sitter-julia); make test's julia suite parses "
                             "these files with Julia itself")
    tj = pytest.importorskip("tree_sitter_julia", reason="tree-sitter-julia is not installed (optional, not "
                             "in pyproject: pip install tree-sitter-julia); make test's julia suite parses "
                             "these files with Julia itself")
    lang = ts.Language(tj.language())
    try:
        return ts.Parser(lang)
    except TypeError:          # older py-tree-sitter
        p = ts.Parser()
        p.set_language(lang)
        return p


def syntax_errors(parser, source):
    """(line, column, text) of every ERROR or missing node."""
    data = source.encode("utf-8") if isinstance(source, str) else source
    tree = parser.parse(data)
    errs = []
    stack = [tree.root_node]
    while stack:
        n = stack.pop()
        if n.type == "ERROR" or n.is_missing:
            errs.append((n.start_point[0] + 1, n.start_point[1] + 1,
                         data[n.start_byte:n.end_byte][:60].decode("utf-8", "replace")))
        elif n.has_error:
            stack.extend(n.children)
    return errs


def test_every_julia_file_parses():
    parser = _julia_parser()
    files = _jl_files(JULIA)
    assert files
    bad = {}
    for f in files:
        errs = syntax_errors(parser, f.read_text())
        if errs:
            bad[str(f.relative_to(ROOT))] = errs[:5]
    assert not bad, "Julia syntax errors (tree-sitter-julia): %r" % bad


@pytest.mark.parametrize("broken", [
    "function f(x)\n    x + 1\n",                 # missing `end`
    "f(x) = (x + 1\n",                             # unbalanced parenthesis
    "x = [1, 2,, 3]\n",                            # stray comma
    "a = 1 +\n",                                   # dangling operator
], ids=["missing-end", "paren", "comma", "dangling-op"])
def test_syntax_check_catches_broken_samples(broken):
    parser = _julia_parser()
    assert syntax_errors(parser, "function f(x)\n    x + 1\nend\n") == []
    assert syntax_errors(parser, broken), "tree-sitter accepted %r" % broken


def test_syntax_check_catches_a_broken_real_file():
    parser = _julia_parser()
    src = (JL_SRC / "ndarray.jl").read_text()
    assert syntax_errors(parser, src) == []
    k = src.index("function _release!(x::NDArray)")
    broken = src[:k] + src[k:].replace("    nothing\nend\n", "    nothing\n", 1)   # drop one `end`
    assert syntax_errors(parser, broken)


# ------------------------------------------------------------------ nothing newer than Julia 1.5

NEWER_THAN_1_5 = [
    (r"\bReturns\(", "Returns (1.7)"),
    (r"@kwdef\b", "@kwdef (exported in 1.9)"),
    (r"@something\b", "@something (1.7)"),
    (r"^\s*\(;\s*\w[\w\s,]*\)\s*=", "property destructuring (; a) = x (1.7)"),
    (r"\bismutabletype\(", "ismutabletype (1.7)"),
    (r"\bBase\.Splat\b|\bsplat\(", "splat (1.9)"),
    (r"@atomic\b", "@atomic (1.7)"),
    (r"\beachsplit\(", "eachsplit (1.8)"),
    (r"\bstack\(", "stack (1.9)"),
    (r"\ballequal\(", "allequal (1.8)"),
    (r"\baddenv\(", "addenv (1.6)"),
    (r"@inline\s+\w+\(", "call-site @inline (1.8)"),
    (r"\bLibdl\.dlopen\([^)]*\bthrow_error\s*=\s*false\b.*\bdlerror\b", "Libdl.dlerror"),
]


def newer_syntax(source):
    code = _strip_julia_comments(source)
    hits = []
    for k, line in enumerate(code.split("\n"), 1):
        for pat, what in NEWER_THAN_1_5:
            if re.search(pat, line):
                hits.append("line %d: %s" % (k, what))
    return hits


def test_no_syntax_newer_than_julia_1_5():
    hits = {}
    for f in _jl_files(JULIA):
        h = newer_syntax(f.read_text())
        if h:
            hits[str(f.relative_to(ROOT))] = h
    assert not hits, "Julia 1.5 cannot run: %r" % hits
    assert newer_syntax("(; a, b) = x\n") and newer_syntax("f = Returns(1)\n")
