"""mx.onnx.export_model: an MX symbol and its parameters -> an ONNX model (opset 13).

The exporter walks the graph in topological order and lets one converter per MX operator
(`_export_ops.py`, registered with `@converter`) emit the ONNX nodes. Parameters become
initializers; the remaining variables become graph inputs (the label of a loss output such as
SoftmaxOutput is dropped, as MXNet does). Graph outputs are named after the symbol's outputs with
MXNet's '_output' suffix removed ('fc1_output' -> 'fc1').
"""
import logging

import numpy as np

from ..base import MXNotSupportedError, MXValueError
from ._graph import Graph

OPSET = 13
_REGISTRY = {}
_LABEL_OPS = {"SoftmaxOutput", "LinearRegressionOutput", "LogisticRegressionOutput",
              "MAERegressionOutput", "SVMOutput"}


def converter(*op_names):
    """Register fn(builder, node) as the converter of the MX operators op_names."""
    def wrap(fn):
        for name in op_names:
            _REGISTRY[name] = fn
        return fn
    return wrap


def get_operator_support(opset_version=None):
    """Sorted names of the MX operators export_model converts."""
    from . import _export_ops  # noqa: F401 - fills the registry
    return sorted(_REGISTRY)


def _onnx():
    try:
        import onnx
        return onnx
    except ImportError:
        raise ImportError("mx.onnx needs the 'onnx' package (pip install onnx)") from None


class Builder:
    """Collects ONNX nodes and initializers; hands out unique tensor names."""

    def __init__(self):
        self.onnx = _onnx()
        self.nodes = []
        self.initializers = []
        self._used = set()

    def reserve(self, name):
        self._used.add(name)
        return name

    def unique(self, hint):
        name, i = hint, 0
        while name in self._used:
            i += 1
            name = "%s_%d" % (hint, i)
        self._used.add(name)
        return name

    def const(self, value, hint, dtype=None):
        """An initializer holding value (numpy-convertible); returns its name."""
        from onnx import numpy_helper
        arr = np.asarray(value, dtype=dtype)
        name = self.unique(hint)
        self.initializers.append(numpy_helper.from_array(arr, name))
        return name

    def ints(self, values, hint):
        return self.const(np.asarray(values, dtype=np.int64), hint)

    def add(self, op_type, inputs, outputs=None, hint=None, n_out=1, **attrs):
        """Append one ONNX node; returns its output name (or list of names when n_out > 1)."""
        if outputs is None:
            base = hint or op_type.lower()
            outputs = [self.unique(base if n_out == 1 else "%s_%d" % (base, i))
                       for i in range(n_out)]
        elif isinstance(outputs, str):
            outputs = [outputs]
        self.nodes.append(self.onnx.helper.make_node(
            op_type, list(inputs), list(outputs), name=self.unique("node_" + outputs[0]), **attrs))
        return outputs[0] if len(outputs) == 1 else list(outputs)


class ConvNode:
    """What a converter sees of one MX node: op, name, attrs, ONNX input names, the ONNX names it
    must produce (one per visible output), input/output shapes and dtypes."""

    def __init__(self, node, graph, names):
        self.op = node.op
        self.name = node.name
        self.attrs = node.attrs
        self.inputs = [names[e] for e in node.inputs]
        self.in_shapes = [graph.nodes[i].out_shapes[j] for i, j in node.inputs]
        self.in_dtypes = [graph.nodes[i].out_dtypes[j] for i, j in node.inputs]
        self.out_shapes = node.out_shapes
        self.out_dtypes = node.out_dtypes
        self.outputs = [names[(node.index, k)] for k in range(node.num_outputs)]

    def fail(self, what):
        return MXNotSupportedError("ONNX export: operator '%s' (node '%s'): %s"
                                   % (self.op, self.name, what))


def _canonical(op):
    """The registry's own name of an alias ('reshape' -> 'Reshape'), else op."""
    from ..ndarray import _internal_ops
    try:
        return _internal_ops.op_schema(op)["name"]
    except Exception:  # noqa: BLE001 - unknown to the core: no converter either
        return op


def _load_inputs(sym, params):
    from .. import ndarray as nd
    from .. import symbol
    if isinstance(sym, str):
        sym = symbol.load(sym)
    if not isinstance(sym, symbol.Symbol):
        raise TypeError("export_model: sym must be a Symbol or the path of a -symbol.json file, "
                        "got %s" % type(sym).__name__)
    if isinstance(params, str):
        loaded = nd.load(params)
        if not isinstance(loaded, dict):
            raise MXValueError("export_model: %s holds an unnamed list of arrays" % params)
        params = {k.split(":", 1)[1] if k.startswith(("arg:", "aux:")) else k: v
                  for k, v in loaded.items()}
    elif isinstance(params, (list, tuple)):
        if len(params) != 2 or not all(isinstance(p, dict) for p in params):
            raise MXValueError("export_model: params given as a list must be [arg_params, "
                               "aux_params]")
        merged = dict(params[0])
        merged.update(params[1])
        params = merged
    elif not isinstance(params, dict):
        raise TypeError("export_model: params must be a dict, [arg_params, aux_params] or the "
                        "path of a .params file, got %s" % type(params).__name__)
    out = {}
    for k, v in params.items():
        out[k] = v.asnumpy() if hasattr(v, "asnumpy") else np.asarray(v)
    return sym, out


def _label_names(graph):
    names = set()
    for n in graph.nodes:
        if n.op in _LABEL_OPS and len(n.inputs) > 1:
            src = graph.nodes[n.inputs[1][0]]
            if src.op == "null":
                names.add(src.name)
    return names


def _graph_output_name(name):
    for suffix in ("_output",):
        if name.endswith(suffix):
            return name[:-len(suffix)]
    return name


def build_model(sym, params, in_shapes, in_types=np.float32, dynamic=False,
                dynamic_input_shapes=None, verbose=False):
    """The onnx.ModelProto for sym with params (names without 'arg:'/'aux:')."""
    onnx = _onnx()
    from onnx import helper
    from . import _export_ops  # noqa: F401 - fills the registry
    graph = Graph(sym)
    labels = _label_names(graph)
    input_names = [n for n in sym.list_inputs() if n not in params and n not in labels]
    if in_shapes is None:
        raise MXValueError("export_model: in_shapes is required: one shape per data input %s"
                           % input_names)
    in_shapes = [tuple(int(d) for d in s) for s in in_shapes]
    if not isinstance(in_types, (list, tuple)):
        in_types = [in_types] * len(in_shapes)
    if len(in_shapes) != len(input_names) or len(in_types) != len(in_shapes):
        raise MXValueError("export_model: the model has %d data input(s) %s but in_shapes has %d "
                           "and in_types %d entries" % (len(input_names), input_names,
                                                        len(in_shapes), len(in_types)))
    if dynamic_input_shapes is not None:
        if not dynamic:
            raise MXValueError("export_model: dynamic_input_shapes is given; set dynamic=True")
        if len(dynamic_input_shapes) != len(in_shapes) or any(
                len(a) != len(b) for a, b in zip(dynamic_input_shapes, in_shapes)):
            raise MXValueError("export_model: dynamic_input_shapes %s must match in_shapes %s in "
                               "count and rank" % (dynamic_input_shapes, in_shapes))
    shapes = dict(zip(input_names, in_shapes))
    shapes.update({k: v.shape for k, v in params.items()})
    dtypes = {n: np.dtype(t) for n, t in zip(input_names, in_types)}
    dtypes.update({k: v.dtype for k, v in params.items()})
    for lab in labels:
        shapes.pop(lab, None)
    graph.infer(shapes, dtypes, partial=bool(labels))

    b = Builder()
    names = {}
    inputs = []
    for n in graph.nodes:
        if n.op == "null":  # variables of one name are one input (MXNet binds them by name)
            names[(n.index, 0)] = b.reserve(n.name)
    heads = list(graph.heads)
    out_names = {}
    for (nid, idx), mxname in zip(heads, graph.output_names):
        out_names[(nid, idx)] = _graph_output_name(mxname)
    # every op output gets a tensor name: the graph output name for heads, else node name(+index)
    for n in graph.nodes:
        if n.op == "null":
            continue
        for k in range(n.num_outputs):
            if (n.index, k) in out_names and graph.nodes[n.index].op != "null":
                names[(n.index, k)] = b.reserve(out_names[(n.index, k)])
            else:
                names[(n.index, k)] = b.unique(n.name if k == 0 else "%s_output%d" % (n.name, k))
    used = set()
    for n in graph.nodes:
        for e in n.inputs:
            used.add(e[0])
    for nid, _ in heads:
        used.add(nid)
    declared = set()
    for n in graph.nodes:
        if n.op == "null":
            if n.name in labels or n.index not in used or n.name in declared:
                continue
            declared.add(n.name)
            if n.name in params:
                from onnx import numpy_helper
                b.initializers.append(numpy_helper.from_array(params[n.name], n.name))
            elif n.name in input_names:
                i = input_names.index(n.name)
                shape = in_shapes[i]
                if dynamic:
                    shape = (tuple(None for _ in shape) if dynamic_input_shapes is None
                             else tuple(dynamic_input_shapes[i]))
                inputs.append(helper.make_tensor_value_info(
                    n.name, helper.np_dtype_to_tensor_dtype(np.dtype(in_types[i])), shape))
            else:
                raise MXValueError("export_model: argument '%s' is neither a data input nor in "
                                   "params" % n.name)
            continue
        fn = _REGISTRY.get(n.op) or _REGISTRY.get(_canonical(n.op))
        if fn is None:
            raise MXNotSupportedError(
                "ONNX export: operator '%s' (node '%s') has no ONNX converter; the supported "
                "operators are listed by mx.onnx.get_operator_support()" % (n.op, n.name))
        if verbose:
            logging.info("ONNX export: converting %s (%s)", n.name, n.op)
        fn(b, ConvNode(n, graph, names))
    outputs = []
    seen = set()
    for (nid, idx), mxname in zip(heads, graph.output_names):
        node = graph.nodes[nid]
        tensor = names[(nid, idx)]
        oname = out_names[(nid, idx)]
        if node.op == "null" or oname in seen or tensor != oname:
            oname = b.unique(oname)
            b.add("Identity", [tensor], [oname])
        seen.add(oname)
        shape = node.out_shapes[idx]
        if dynamic and shape is not None:
            shape = tuple(None for _ in shape)
        outputs.append(helper.make_tensor_value_info(
            oname, helper.np_dtype_to_tensor_dtype(node.out_dtypes[idx]), shape))
    g = helper.make_graph(b.nodes, "mx_exported_model", inputs, outputs, initializer=b.initializers)
    model = helper.make_model(g, producer_name="mx", opset_imports=[helper.make_opsetid("", OPSET)])
    model.ir_version = min(model.ir_version, 8)
    onnx.checker.check_model(model)
    return model


def export_model(sym, params, in_shapes=None, in_types=np.float32, onnx_file_path="model.onnx",
                 verbose=False, dynamic=False, dynamic_input_shapes=None,
                 run_shape_inference=False, input_type=None, input_shape=None):
    """Export an MX model to an ONNX file (opset 13); MXNet 1.9's ``mxnet.onnx.export_model``.

    Parameters
    ----------
    sym : Symbol or str
        The model's symbol, or the path of its ``-symbol.json`` file (e.g. from
        ``HybridBlock.export``).
    params : dict, [arg_params, aux_params] or str
        Parameter values by name (NDArray or numpy), or the path of a ``.params`` file
        ('arg:'/'aux:' prefixes are removed).
    in_shapes : list of tuple
        The shape of each data input (the symbol's inputs that are not parameters), in
        ``sym.list_inputs()`` order, e.g. ``[(1, 3, 224, 224)]``.
    in_types : dtype or list of dtype
        The dtype of each data input (default float32).
    onnx_file_path : str
        Where the model is written.
    verbose : bool
        Log each converted node.
    dynamic : bool
        Leave input/output dimensions unspecified (all of them, or as given by
        ``dynamic_input_shapes``, e.g. ``[(None, 3, 224, 224)]`` for a dynamic batch).
    run_shape_inference : bool
        Run ONNX shape inference on the result (kept unchanged if inference fails).
    input_type, input_shape :
        Old names of in_types and in_shapes.

    Returns
    -------
    str : onnx_file_path.

    Operators without a converter raise ``MXNotSupportedError`` naming the operator; see
    ``get_operator_support()`` and docs/onnx_ops.md.
    """
    if input_type is not None:
        in_types = input_type
    if input_shape is not None:
        in_shapes = input_shape
    sym, params = _load_inputs(sym, params)
    model = build_model(sym, params, in_shapes, in_types, dynamic, dynamic_input_shapes, verbose)
    if run_shape_inference:
        try:
            from onnx import shape_inference
            model = shape_inference.infer_shapes(model)
        except Exception:  # noqa: BLE001 - MXNet keeps the model when inference fails
            logging.info("ONNX shape inference failed; the model is kept without it")
    with open(onnx_file_path, "wb") as f:
        f.write(model.SerializeToString())
    return onnx_file_path
