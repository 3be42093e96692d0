#!/usr/bin/env python3
"""Write the operator reference (.rst, one page per family) from libmx's op registry.

    PYTHONPATH=python python3 tools/docs/gen_op_reference.py OUT_DIR

The source is the registry schema (mx_op_schema, the JSON R's Rd pages and Julia's docstrings are
generated from too): every public operator with its inputs, parameters, types, defaults, choices
and doc string. Families are grouped by name here (documentation tooling only).
"""
import os
import re
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "python"))

from mx.ndarray import _internal_ops as _ops  # noqa: E402

UNARY_MATH = {"abs", "sign", "negative", "square", "relu", "round", "rint", "ceil", "floor", "trunc", "fix",
              "sqrt", "exp", "expm1", "log", "log10", "log2", "log1p", "sin", "cos", "sinh", "cosh", "tanh",
              "sigmoid", "degrees", "radians", "reciprocal", "rsqrt", "cbrt", "rcbrt", "tan", "arcsin",
              "arccos", "arctan", "arcsinh", "arccosh", "arctanh", "softsign", "erf", "erfinv", "gamma",
              "gammaln", "clip", "hard_sigmoid", "identity", "logical_not", "ones_like", "zeros_like"}
REDUCE = {"sum", "mean", "prod", "max", "min", "nansum", "nanprod", "norm", "argmax", "argmin",
          "argmax_channel", "argsort", "sort", "topk", "pick"}

FAMILIES = [
    ("contrib", "Contrib operators (mx.nd.contrib)", lambda n: n.startswith("contrib.")),
    ("nn", "Neural-network layers", lambda n: n[:1].isupper() or n in (
        "softmax", "log_softmax", "softmin", "make_loss", "ctc_loss", "depth_to_space", "space_to_depth", "smooth_l1",
        "softmax_cross_entropy")),
    ("random", "Random sampling", lambda n: n.startswith(("random_", "sample_")) or n in (
        "normal", "uniform", "shuffle")),
    ("linalg", "Linear algebra (mx.nd.linalg)", lambda n: n.startswith("linalg_") or n in ("dot", "batch_dot", "khatri_rao")),
    ("broadcast", "Broadcasting and element-wise binary", lambda n: n.startswith(("broadcast_", "elemwise_"))
        or n in ("add_n", "maximum", "minimum", "hypot", "power")),
    ("unary", "Element-wise unary math", lambda n: n in UNARY_MATH),
    ("reduce", "Reductions, sorting and indexing by value", lambda n: n in REDUCE),
    ("shape", "Shapes, copying, indexing and creation", lambda n: True),
]


def family_of(name):
    for key, _, test in FAMILIES:
        if test(name):
            return key
    raise AssertionError(name)


def esc(text):
    """Escape rst inline markup characters in free text from the registry."""
    return re.sub(r"([\\*`|_])", r"\\\1", str(text))


def public_names(s):
    """Names users call; a contrib op ``_contrib_X`` is ``contrib.X`` (mx.nd.contrib.X)."""
    names = [n for n in [s["name"]] + list(s["aliases"]) if not n.startswith("_")]
    if not names and s["name"].startswith("_contrib_"):
        names = ["contrib." + s["name"][len("_contrib_"):]]
    return names


def op_section(s):
    name, aliases = public_names(s)[0], public_names(s)[1:]
    out = [".. _op-%s:" % name.replace(".", "-"), "", name, "~" * len(name), ""]
    out += [esc(s.get("doc") or "(no description in the registry)"), ""]
    names = ["``mx.nd.%s``" % name, "``mx.sym.%s``" % name] + ["``mx.nd.%s``" % a for a in aliases]
    if name.startswith("contrib."):
        out += ["Python: ``mx.nd.%s``, ``mx.sym.%s``; registry name ``%s``." % (name, name, s["name"]), ""]
    else:
        out += ["Python: %s. R: ``mx.nd.%s`` / ``mx.symbol.%s``. Julia: ``MX.nd.%s``."
                % (", ".join(names), name, name, name), ""]
    if s["name"] != name:
        out += ["Registered as ``%s``." % s["name"], ""]
    inputs = list(s["inputs"])
    if s["variadic_input"]:
        inputs.append("*data")
    if s["inputs_depend_on_params"]:
        inputs_note = " (the inputs listed are those of the default parameters)"
    else:
        inputs_note = ""
    out += ["**Inputs**%s: %s" % (inputs_note, ", ".join("``%s``" % i for i in inputs) or "none"), ""]
    if s["aux"]:
        out += ["**Auxiliary states** (updated in place): %s" % ", ".join("``%s``" % a for a in s["aux"]), ""]
    out += ["**Outputs**: %s%s" % (", ".join("``%s``" % o for o in s["outputs"]),
                                   " (the count depends on the parameters)" if s["num_outputs_depend_on_params"]
                                   else ""), ""]
    if s["params"]:
        out += [".. list-table::", "   :header-rows: 1", "   :widths: 18 18 16 48", "",
                "   * - parameter", "     - type", "     - default", "     - description"]
        for p in s["params"]:
            t = p["type"]
            if p["choices"]:
                t = "one of " + ", ".join("``%s``" % c for c in p["choices"])
            else:
                t = esc(t)
            default = "required" if p["required"] else ("``%s``" % p["default"] if p["default"] not in ("", None)
                                                         else "(empty)")
            out += ["   * - ``%s``" % p["name"], "     - %s" % t, "     - %s" % default,
                    "     - %s" % (esc(p["doc"]) if p["doc"] else "")]
        out.append("")
    else:
        out += ["No parameters.", ""]
    return out


def main():
    out_dir = sys.argv[1]
    os.makedirs(out_dir, exist_ok=True)
    schemas = [s for s in (_ops.op_schema(n) for n in _ops.list_ops()) if public_names(s)]
    by_family = {key: [] for key, _, _ in FAMILIES}
    for s in schemas:
        by_family[family_of(public_names(s)[0])].append(s)
    index = ["Operators", "=========", "",
             "Every public operator in libmx's registry (%d), generated from the registry schema by "
             "``tools/docs/gen_op_reference.py``: the same source as ``help(mx.nd.<op>)`` in Python, the "
             "``mx.nd.<op>`` Rd pages in R and ``MX.nd.<op>`` docstrings in Julia. Each operator is "
             "both an imperative function (``mx.nd``) and a symbol constructor (``mx.sym``)." % len(schemas),
             "", ".. toctree::", "   :maxdepth: 1", ""]
    for key, title, _ in FAMILIES:
        ops = sorted(by_family[key], key=lambda s: public_names(s)[0].lower())
        index.append("   ops_%s" % key)
        page = [title, "=" * len(title), "", ", ".join(":ref:`%s <op-%s>`" % (public_names(s)[0], public_names(s)[0].replace(".", "-")) for s in ops), ""]
        for s in ops:
            page += op_section(s)
        with open(os.path.join(out_dir, "ops_%s.rst" % key), "w") as f:
            f.write("\n".join(page) + "\n")
    with open(os.path.join(out_dir, "operators.rst"), "w") as f:
        f.write("\n".join(index) + "\n")
    print("gen_op_reference: %d operators in %d families -> %s" % (len(schemas), len(FAMILIES), out_dir))


if __name__ == "__main__":
    main()
