"""Reading an MX symbol as a list of nodes with typed attributes, shapes and dtypes.

Shared by the ONNX exporter and mx.viz: attribute strings of the graph JSON are turned into Python
values, missing attributes take the defaults the core's operator registry declares (so converters
never repeat MXNet's defaults), and every node output gets its inferred shape and dtype.
"""
import ast
import json

import numpy as np

from ..ndarray import _internal_ops as _ops

_SCHEMA_CACHE = {}


def parse_value(text):
    """'(3, 3)' -> (3, 3), 'True' -> True, '0.5' -> 0.5, 'None' -> None, 'relu' -> 'relu'."""
    if not isinstance(text, str):
        return text
    s = text.strip()
    if s in ("true", "false"):
        return s == "true"
    try:
        v = ast.literal_eval(s)
    except (ValueError, SyntaxError):
        return s
    if isinstance(v, list):
        v = tuple(v)
    return v


def op_defaults(op):
    """{param: default value} from the registry (empty for unknown ops)."""
    if op not in _SCHEMA_CACHE:
        try:
            schema = _ops.op_schema(op)
        except Exception:  # noqa: BLE001 - an op the core does not know has no defaults
            schema = {"params": []}
        _SCHEMA_CACHE[op] = {p["name"]: parse_value(p["default"]) for p in schema["params"]
                             if not p.get("required")}
    return _SCHEMA_CACHE[op]


class Node:
    """One graph node: op ('null' for variables), name, attrs (typed, defaults filled), inputs as
    (node index, output index) pairs, and after inference out_shapes / out_dtypes per output."""

    def __init__(self, index, raw):
        self.index = index
        self.op = raw["op"]
        self.name = raw["name"]
        self.raw_attrs = dict(raw.get("attrs") or raw.get("param") or {})
        self.inputs = [(e[0], e[1]) for e in raw.get("inputs", [])]
        attrs = dict(op_defaults(self.op)) if self.op != "null" else {}
        attrs.update({k: parse_value(v) for k, v in self.raw_attrs.items()
                      if not (k.startswith("__") and k.endswith("__"))})
        self.attrs = attrs
        self.out_shapes = []
        self.out_dtypes = []


class Graph:
    """The nodes of `sym` in topological order plus its heads; shapes and dtypes inferred from
    `known_shapes` / `known_dtypes` ({variable name: shape / numpy dtype})."""

    def __init__(self, sym):
        internals = sym.get_internals()
        data = json.loads(internals.tojson())
        self.nodes = [Node(i, n) for i, n in enumerate(data["nodes"])]
        # the internals symbol lists every output of every node: its heads tell which
        self._entries = [(h[0], h[1]) for h in data["heads"]]
        self._internals = internals
        by_name = {}
        for n in self.nodes:
            by_name.setdefault(n.name, n.index)
        own = json.loads(sym.tojson())
        self.heads = [(by_name[own["nodes"][h[0]]["name"]], h[1]) for h in own["heads"]]
        self.output_names = sym.list_outputs()
        for n in self.nodes:
            n.num_outputs = 1 if n.op == "null" else 0
        for nid, idx in self._entries:
            node = self.nodes[nid]
            if node.op != "null":
                node.num_outputs = max(node.num_outputs, idx + 1)

    def consumers(self):
        """{node index: [(consumer node, input slot), ...]}."""
        out = {}
        for n in self.nodes:
            for slot, (nid, _) in enumerate(n.inputs):
                out.setdefault(nid, []).append((n, slot))
        return out

    def infer(self, known_shapes, known_dtypes=None, partial=False):
        """Fill out_shapes (tuples; None where unknown) and out_dtypes of every node."""
        internals = self._internals
        args = set(internals.list_arguments()) | set(internals.list_auxiliary_states())
        shapes = {k: tuple(v) for k, v in known_shapes.items() if k in args}
        if partial:
            _, out_shapes, _ = internals.infer_shape_partial(**shapes)
            out_shapes = [s if s else None for s in out_shapes]
        else:
            _, out_shapes, _ = internals.infer_shape(**shapes)
        dtypes = {k: np.dtype(v) for k, v in (known_dtypes or {}).items() if k in args}
        out_types = None
        if dtypes:
            _, out_types, _ = internals.infer_type(**dtypes)
        for n in self.nodes:
            n.out_shapes = [None] * n.num_outputs
            n.out_dtypes = [np.dtype(np.float32)] * n.num_outputs
        for k, (nid, idx) in enumerate(self._entries):
            node = self.nodes[nid]
            node.out_shapes[idx] = tuple(out_shapes[k]) if out_shapes[k] is not None else None
            if out_types is not None:
                node.out_dtypes[idx] = np.dtype(out_types[k])
        return self
