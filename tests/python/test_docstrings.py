"""Public API names carry real docstrings: a description, and a Parameters section where the
callable takes parameters (classes: more than a one-line summary). Registry operators must have a
description of at least three words and a doc for every parameter (R and Julia show the same text).
"""
import inspect

import pytest

import mx
from mx.ndarray import _internal_ops as _ops

MODULES = ["mx.autograd", "mx.nd", "mx.sym", "mx.mod", "mx.gluon", "mx.gluon.nn", "mx.gluon.loss",
           "mx.gluon.rnn", "mx.gluon.data", "mx.io", "mx.optimizer", "mx.initializer", "mx.metric",
           "mx.lr_scheduler", "mx.callback", "mx.model"]
# Methods of these classes are checked too (the classes users call most).
METHODS_OF = ["mx.mod.Module", "mx.gluon.Trainer", "mx.nd.NDArray", "mx.sym.Symbol", "mx.gluon.Block",
              "mx.gluon.HybridBlock"]


def _resolve(dotted):
    obj = mx
    for part in dotted.split(".")[1:]:
        obj = getattr(obj, part)
    return obj


def _takes_parameters(f):
    try:
        sig = inspect.signature(f)
    except (TypeError, ValueError):
        return False
    return any(p.name not in ("self", "cls") and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)
               for p in sig.parameters.values())


def _problem(obj, is_class):
    doc = inspect.getdoc(obj) or ""
    lines = [l for l in doc.splitlines() if l.strip()]
    if not lines:
        return "no docstring"
    if is_class and len(lines) < 2:
        return "a one-line class docstring"
    target = obj.__init__ if is_class else obj
    if _takes_parameters(target) and "Parameters\n" not in doc:
        return "no Parameters section"
    return None


def _public_api():
    """{dotted name: (object, is_class)} for classes and functions defined in mx."""
    seen, out = set(), {}
    for modname in MODULES:
        mod = _resolve(modname)
        names = getattr(mod, "__all__", None) or [n for n in dir(mod) if not n.startswith("_")]
        for n in names:
            obj = getattr(mod, n, None)
            if not (inspect.isclass(obj) or inspect.isfunction(obj)):
                continue
            if not getattr(obj, "__module__", "").startswith("mx") or id(obj) in seen:
                continue
            if getattr(obj, "__module__", "") == "mx.ndarray.register":
                continue  # registry operators: test_registry_operator_docs
            seen.add(id(obj))
            out["%s.%s" % (modname, n)] = (obj, inspect.isclass(obj))
    for clsname in METHODS_OF:
        cls = _resolve(clsname)
        for n in dir(cls):  # inherited ones too (Module.fit lives in BaseModule)
            f = getattr(cls, n, None)
            if n.startswith("_") or not inspect.isfunction(f) or not f.__module__.startswith("mx"):
                continue
            out["%s.%s" % (clsname, n)] = (f, False)
    return out


API = _public_api()

def test_public_api_is_walked():
    assert len(API) > 200
    for name in ["mx.mod.Module", "mx.gluon.Trainer", "mx.gluon.nn.Conv2D", "mx.gluon.loss.L2Loss",
                 "mx.io.NDArrayIter", "mx.optimizer.SGD", "mx.initializer.Xavier", "mx.metric.Accuracy",
                 "mx.autograd.record", "mx.sym.Variable", "mx.mod.Module.fit"]:
        assert name in API, name


def test_public_names_have_real_docstrings():
    missing = {n: p for n, (o, c) in sorted(API.items()) if (p := _problem(o, c))}
    assert not missing, "public names without a real docstring (%d):\n" % len(missing) + "\n".join(
        "  %s: %s" % kv for kv in missing.items())


def test_the_check_catches_weak_docstrings():
    class OneLiner:
        """Just a summary."""

        def __init__(self, a):
            pass

    def no_params_section(x, y=1):
        """Adds things."""

    def documented(x):
        """Doubles x.

        Parameters
        ----------
        x : NDArray
        """

    assert _problem(OneLiner, True) == "a one-line class docstring"
    assert _problem(no_params_section, False) == "no Parameters section"
    assert _problem(lambda: None, False) == "no docstring"
    assert _problem(documented, False) is None


def _public_ops():
    """(public name, schema); contrib ops (``_contrib_X``) are public as ``contrib.X``."""
    for name in _ops.list_ops():
        s = _ops.op_schema(name)
        public = [n for n in [name] + list(s["aliases"]) if not n.startswith("_")]
        if public:
            yield public[0], s
        elif name.startswith("_contrib_"):
            yield "contrib." + name[len("_contrib_"):], s


@pytest.mark.parametrize("name,schema", list(_public_ops()), ids=[n for n, _ in _public_ops()])
def test_registry_operator_docs(name, schema):
    doc = schema.get("doc") or ""
    assert len(doc.split()) >= 3, "%s: registry doc too short: %r (improve its .doc() in libmx/src/ops)" % (name, doc)
    undocumented = [p["name"] for p in schema["params"] if not p["doc"]]
    assert not undocumented, "%s: parameters without a doc: %s" % (name, undocumented)
    f = mx.nd
    for part in name.split("."):
        f = getattr(f, part)
    if f.__module__ == "mx.ndarray.register":  # else a Python wrapper, checked by the API walk
        assert doc in f.__doc__ and "Parameters" in f.__doc__
