"""mx.viz: network summaries and Graphviz plots of symbols (MXNet 1.x ``mxnet.visualization``).

``print_summary(symbol, shape)`` prints one row per operator (output shape without the batch
axis, parameter count, the layers it reads) and the total; ``plot_network(symbol, ...)`` returns a
``graphviz.Digraph`` (PyPI ``graphviz``) that renders when Graphviz's ``dot`` is installed.
Parameter counts are the sizes of each operator's learnable inputs (weights, biases, BatchNorm's
gamma and beta; not the moving statistics), which is what MXNet prints for its layers.
"""
import copy
import json
import warnings

__all__ = ["print_summary", "plot_network"]

_LABEL_OPS = ("SoftmaxOutput", "LinearRegressionOutput", "LogisticRegressionOutput",
              "MAERegressionOutput", "SVMOutput")
_WEIGHT_SUFFIXES = ("_weight", "_bias", "_beta", "_gamma", "_moving_var", "_moving_mean",
                    "_running_var", "_running_mean")


def _check_symbol(symbol):
    from .symbol import Symbol
    if not isinstance(symbol, Symbol):
        raise TypeError("symbol must be a Symbol, got %s" % type(symbol).__name__)


def _entry_shapes(symbol, shape):
    """{(node index, output index): shape} for every output of every node (None if unknown)."""
    internals = symbol.get_internals()
    _, out_shapes, _ = internals.infer_shape_partial(**(shape or {}))
    if shape and any(not s for s in out_shapes):
        missing = [n for n, s in zip(internals.list_outputs(), out_shapes) if not s]
        raise ValueError("Input shape is incomplete: cannot infer the shapes of %s; give the shapes "
                         "of the inputs %s" % (missing[:5], symbol.list_inputs()))
    heads = json.loads(internals.tojson())["heads"]
    return {(h[0], h[1]): (tuple(s) if s else None) for h, s in zip(heads, out_shapes)}


def print_summary(symbol, shape=None, line_length=120, positions=(.44, .64, .74, 1.)):
    """Print a layer-by-layer summary of symbol.

    Parameters
    ----------
    symbol : Symbol
        The network.
    shape : dict of str -> tuple, optional
        Input shapes (e.g. ``{'data': (1, 3, 32, 32)}``); without them shapes and most parameter
        counts are unknown and printed empty / 0.
    line_length : int
        Width of the printed table.
    positions : list of float or int
        Right edges of the four columns, as fractions of line_length or as absolute columns.

    Returns
    -------
    None (prints). The last line before the rule is ``Total params: N``.
    """
    _check_symbol(symbol)
    conf = json.loads(symbol.tojson())
    nodes = conf["nodes"]
    aux = set(symbol.list_auxiliary_states())
    shapes = _entry_shapes(symbol, shape) if shape is not None else {}
    if shape is None:
        try:
            shapes = _entry_shapes(symbol, {})
        except Exception:  # noqa: BLE001 - shapes stay unknown
            shapes = {}
    positions = list(positions)
    if positions[-1] <= 1:
        positions = [int(line_length * p) for p in positions]
    used_as_head = {h[0] for h in conf["heads"]}

    def row(fields):
        line = ""
        for text, pos in zip(fields, positions):
            line += str(text)
            line = line[:pos]
            line += " " * (pos - len(line))
        print(line)

    # data inputs and labels of loss outputs are not parameters
    not_params = set(shape) if shape else ({nodes[0]["name"]} if nodes else set())
    for node in nodes:
        if node["op"] in _LABEL_OPS:
            not_params.update(nodes[nid]["name"] for nid, *_ in node["inputs"][1:])

    def nparams(node):
        total = 0
        for nid, idx, *_ in node.get("inputs", []):
            src = nodes[nid]
            if src["op"] != "null" or src["name"] in aux or src["name"] in not_params:
                continue
            s = shapes.get((nid, 0))
            if s:
                size = 1
                for d in s:
                    size *= int(d)
                total += size
        return total

    print("_" * line_length)
    row(["Layer (type)", "Output Shape", "Param #", "Previous Layer"])
    print("=" * line_length)
    total = 0
    shown = [i for i, n in enumerate(nodes) if n["op"] != "null" or i == 0]
    for k, i in enumerate(shown):
        node = nodes[i]
        s = shapes.get((i, 0))
        out = "x".join(str(d) for d in s[1:]) if s else ""
        prev = [nodes[nid]["name"] for nid, *_ in node.get("inputs", [])
                if nodes[nid]["op"] != "null" or nid in used_as_head or nid == 0]
        count = nparams(node) if node["op"] != "null" else 0
        total += count
        row(["%s(%s)" % (node["name"], node["op"]), out, count, prev[0] if prev else ""])
        for p in prev[1:]:
            row(["", "", "", p])
        print(("=" if k == len(shown) - 1 else "_") * line_length)
    print("Total params: %d" % total)
    print("_" * line_length)


def _label(node):
    op, a = node["op"], node.get("attrs", {})

    def dims(key, default):
        v = a.get(key)
        if not v:
            return default
        return "x".join(d.strip() for d in v.strip("()[] ").split(",") if d.strip())
    if op == "Convolution":
        return "Convolution\n%s/%s, %s" % (dims("kernel", ""), dims("stride", "1"), a["num_filter"])
    if op == "FullyConnected":
        return "FullyConnected\n%s" % a["num_hidden"]
    if op in ("Activation", "LeakyReLU"):
        return "%s\n%s" % (op, a.get("act_type", "leaky"))
    if op == "Pooling":
        return "Pooling\n%s, %s/%s" % (a.get("pool_type", "max"), dims("kernel", "[]"),
                                       dims("stride", "1"))
    return node["name"]


_COLORS = ("#8dd3c7", "#fb8072", "#ffffb3", "#bebada", "#80b1d3", "#fdb462", "#b3de69", "#fccde5")
_OP_COLOR = {"Convolution": 1, "FullyConnected": 1, "BatchNorm": 3, "Activation": 2,
             "LeakyReLU": 2, "Pooling": 4, "Concat": 5, "Flatten": 5, "Reshape": 5,
             "SoftmaxOutput": 6, "softmax": 6}


def plot_network(symbol, title="plot", save_format="pdf", shape=None, dtype=None, node_attrs={},
                 hide_weights=True):
    """A ``graphviz.Digraph`` of symbol's graph.

    Parameters
    ----------
    symbol : Symbol
        The network to draw.
    title : str
        The graph's name (and the file name ``render()`` writes).
    save_format : str
        Output format of ``render()``: 'pdf', 'png', 'svg', ...
    shape : dict of str -> tuple, optional
        Input shapes; edges are then labelled with the shape they carry (batch axis omitted).
    dtype : dict of str -> dtype, optional
        Input dtypes; edges are then labelled with their dtype too.
    node_attrs : dict
        Graphviz node attributes overriding the defaults (e.g. ``{"shape": "oval"}``).
    hide_weights : bool
        Hide the variables named like weights (``*_weight``, ``*_bias``, BatchNorm's statistics).

    Returns
    -------
    graphviz.Digraph
        ``.source`` is the DOT text; ``.render()`` needs Graphviz's ``dot`` program.

    Example
    -------
    >>> net = mx.sym.FullyConnected(mx.sym.var('data'), num_hidden=10, name='fc')
    >>> g = mx.viz.plot_network(net, shape={'data': (1, 20)})
    >>> 'fc' in g.source
    True
    """
    try:
        from graphviz import Digraph
    except ImportError:
        raise ImportError("plot_network needs the 'graphviz' package (pip install graphviz); "
                          "rendering also needs Graphviz's dot program") from None
    _check_symbol(symbol)
    conf = json.loads(symbol.tojson())
    nodes = conf["nodes"]
    names = [n["name"] for n in nodes]
    if len(names) != len(set(names)):
        dup = sorted({n for n in names if names.count(n) > 1})
        warnings.warn("There are multiple nodes with the same name in the graph (%s); the plot "
                      "may join them" % ", ".join(dup), RuntimeWarning)
    shapes = _entry_shapes(symbol, shape) if shape is not None else None
    types = None
    if dtype is not None:
        internals = symbol.get_internals()
        _, out_types, _ = internals.infer_type(**dtype)
        if out_types is None:
            raise ValueError("Input type is incomplete: give the dtypes of the inputs %s"
                             % symbol.list_inputs())
        heads = json.loads(internals.tojson())["heads"]
        types = {(h[0], h[1]): t for h, t in zip(heads, out_types)}
    attr_default = {"shape": "box", "fixedsize": "true", "width": "1.3", "height": "0.8034",
                    "style": "filled"}
    attr_default.update(node_attrs)
    dot = Digraph(name=title, format=save_format)
    hidden = set()
    for i, node in enumerate(nodes):
        attr = copy.deepcopy(attr_default)
        if node["op"] == "null":
            if node["name"].endswith(_WEIGHT_SUFFIXES):
                if hide_weights:
                    hidden.add(i)
                continue
            attr["shape"] = "oval"
            attr["fillcolor"] = _COLORS[0]
            dot.node(name=node["name"], label=node["name"], **attr)
            continue
        attr["fillcolor"] = _COLORS[_OP_COLOR.get(node["op"], 7)]
        dot.node(name=node["name"], label=_label(node), **attr)
    for node in nodes:
        if node["op"] == "null":
            continue
        for nid, idx, *_ in node.get("inputs", []):
            if nid in hidden:
                continue
            attr = {"dir": "back", "arrowtail": "open", "label": ""}
            if shapes is not None and shapes.get((nid, idx)):
                attr["label"] = "x".join(str(d) for d in shapes[(nid, idx)][1:])
            if types is not None and (nid, idx) in types:
                t = types[(nid, idx)]
                attr["label"] += "(%s)" % getattr(t, "__name__", str(t))
            dot.edge(tail_name=node["name"], head_name=nodes[nid]["name"], **attr)
    return dot
