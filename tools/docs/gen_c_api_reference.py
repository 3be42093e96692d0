#!/usr/bin/env python3
"""Write the C ABI reference (.rst) from libmx/include/mx/c_api.h and its comments.

    python3 tools/docs/gen_c_api_reference.py OUT.rst [HEADER]

Documentation tooling, not a runtime parser: the header's layout conventions are enough. Sections
are the `/* ---- title */` rulers; each entry is a comment block with the declarations that follow
it up to the next blank line (verbatim, so ownership notes stay next to their functions). Every
MX_API function gets an anchor `c-<name>` and appears in its section's summary.
"""
import os
import re
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
RULER = re.compile(r"^/\* -{10,}\s*(.*?)\s*\*/\s*$")
FUNC = re.compile(r"\bMX_API\b[^;(]*?\b(mx_\w+)\s*\(")
TYPE = re.compile(r"^typedef\b.*?\b(mx_\w+)\s*;|^typedef\s+enum\s+(mx_\w+)|^typedef\s+\w+\s*\(\*\s*(mx_\w+)\)")


def parse(lines):
    """-> (intro comment lines, [(section title, [entry lines...])])"""
    intro, sections = [], []
    i = 0
    # The opening comment: conventions every function follows.
    if lines and lines[0].startswith("/*"):
        while i < len(lines):
            intro.append(lines[i])
            i += 1
            if lines[i - 1].rstrip().endswith("*/"):
                break
    entry, in_comment, depth = [], False, 0
    for line in lines[i:]:
        m = RULER.match(line)
        if m:
            if entry and sections:
                sections[-1][1].append(entry)
            sections.append((m.group(1), []))
            entry = []
            continue
        if not sections:
            continue  # include guards, MX_API macro, ABI version enum before the first ruler
        stripped = line.strip()
        if stripped.startswith("#") or stripped in ('extern "C" {', "}"):
            continue
        if not stripped and not in_comment and depth == 0:
            if entry and any(not l.lstrip().startswith(("/*", "*")) for l in entry):
                sections[-1][1].append(entry)
                entry = []
            continue
        entry.append(line.rstrip())
        if stripped.startswith("/*") and "*/" not in stripped:
            in_comment = True
        elif in_comment and "*/" in stripped:
            in_comment = False
        depth += line.count("{") - line.count("}")
    if entry and sections:
        sections[-1][1].append(entry)
    return intro, sections


def render(intro, sections, header_rel):
    out = [".. _c-api:", "", "C ABI reference", "===============", "",
           "Generated from ``%s`` (its declarations and comments, verbatim) by "
           "``tools/docs/gen_c_api_reference.py``. This header is the only door into libmx: the "
           "Python, R and Julia front ends include nothing else." % header_rel, "",
           "Conventions", "-----------", "", ".. code-block:: c", ""]
    out += ["   " + l for l in intro] + [""]
    nfunc = 0
    for title, entries in sections:
        t = title[:1].upper() + title[1:]
        out += [t, "-" * len(t), ""]
        names = [FUNC.search(l).group(1) for e in entries for l in e if FUNC.search(l)]
        if names:
            out += ["Functions: " + ", ".join(":ref:`%s <c-%s>`" % (n, n) for n in names) + ".", ""]
        for e in entries:
            for n in [FUNC.search(l).group(1) for l in e if FUNC.search(l)]:
                out += [".. _c-%s:" % n, ""]
                nfunc += 1
            out += [".. code-block:: c", ""] + ["   " + l if l else "" for l in e] + [""]
    return out, nfunc


def main():
    dst = sys.argv[1]
    header = sys.argv[2] if len(sys.argv) > 2 else os.path.join(ROOT, "libmx", "include", "mx", "c_api.h")
    with open(header) as f:
        lines = f.read().splitlines()
    intro, sections = parse(lines)
    out, nfunc = render(intro, sections, os.path.relpath(header, ROOT))
    declared = set(re.findall(r"\bMX_API\b[^;(]*?\b(mx_\w+)\s*\(", "\n".join(lines)))
    documented = set(re.findall(r"^\.\. _c-(mx_\w+):", "\n".join(out), re.M))
    if declared != documented:  # a layout the parser does not understand: fail rather than omit
        sys.exit("gen_c_api_reference: functions missing from the reference: %s"
                 % ", ".join(sorted(declared - documented)))
    os.makedirs(os.path.dirname(os.path.abspath(dst)), exist_ok=True)
    with open(dst, "w") as f:
        f.write("\n".join(out) + "\n")
    print("gen_c_api_reference: %d functions in %d sections -> %s" % (nfunc, len(sections), dst))


if __name__ == "__main__":
    main()
