"""Turn c_api.h into declarations cffi's cdef() accepts.

Shared by the build (which compiles the out-of-line API-mode extension) and by the ABI-mode
fallback used when MX_LIBRARY points at another libmx build.
"""
import re


def cdef_from_header(text):
    out = []
    skip_depth = 0
    for line in text.splitlines():
        s = line.strip()
        if s.startswith("#"):
            # Preprocessor lines: keep nothing; the #if defined(_WIN32) block holds no declarations.
            continue
        if s.startswith('extern "C"') or s == "}" and skip_depth == 0 and out and out[-1] == "":
            continue
        out.append(line)
    body = "\n".join(out)
    body = re.sub(r"/\*.*?\*/", "", body, flags=re.S)
    body = body.replace('extern "C" {', "")
    body = re.sub(r"\bMX_API\s+", "", body)
    # Drop the closing brace of the extern "C" block (a line holding only "}").
    body = re.sub(r"^\}\s*$", "", body, flags=re.M)
    return body
