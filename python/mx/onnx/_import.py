"""mx.onnx.import_model: an ONNX file -> (sym, arg_params, aux_params), for the ONNX operators
that export_model emits (docs/onnx_ops.md).

Initializers become parameters: BatchNormalization's mean and variance go to aux_params (MX's
BatchNorm keeps them as auxiliary states), the rest to arg_params. Initializers used as static
operands (shapes, axes, pads, slice bounds, scalar constants) are read as attributes instead.
The graph's inputs that are not initializers become the symbol's data variables.
"""
import numpy as np

from ..base import MXNotSupportedError, MXValueError

_IMPORTERS = {}


def importer(*op_types):
    def wrap(fn):
        for t in op_types:
            _IMPORTERS[t] = fn
        return fn
    return wrap


class Context:
    """Symbols of the tensors seen so far, constant values, and the parameters collected."""

    def __init__(self, graph, shapes):
        from onnx import numpy_helper
        from .. import symbol
        self.S = symbol
        self.consts = {t.name: numpy_helper.to_array(t) for t in graph.initializer}
        self.tensors = {}
        self.arg_params = {}
        self.aux_params = {}
        self.aux_names = set()
        self.shape_of = {}  # output of a Shape node -> the tensor it measures
        self._shapes = shapes
        for node in graph.node:
            if node.op_type == "BatchNormalization":
                self.aux_names.update(node.input[3:5])

    def const(self, name, what):
        if name not in self.consts:
            raise MXNotSupportedError("ONNX import: %s ('%s') must be a constant initializer"
                                      % (what, name))
        return self.consts[name]

    def shape(self, name):
        """The static shape of tensor name (from the model and ONNX shape inference), or None."""
        if name in self.consts:
            return self.consts[name].shape
        return self._shapes.get(name)

    def rank(self, name):
        s = self.shape(name)
        return None if s is None else len(s)

    def sym(self, name):
        """The symbol of tensor `name`; an initializer becomes a parameter variable."""
        if name in self.tensors:
            return self.tensors[name]
        if name in self.consts:
            from .. import ndarray as nd
            value = self.consts[name]
            target = self.aux_params if name in self.aux_names else self.arg_params
            target[name] = nd.array(value, dtype=value.dtype)
            v = self.S.var(name, shape=value.shape, dtype=value.dtype)
            self.tensors[name] = v
            return v
        raise MXValueError("ONNX import: tensor '%s' is used before it is produced" % name)


def _attrs(node):
    from onnx import helper
    return {a.name: helper.get_attribute_value(a) for a in node.attribute}


def import_model(model_file):
    """Read an ONNX model into MX: returns ``(sym, arg_params, aux_params)``.

    Parameters
    ----------
    model_file : str
        Path of the .onnx file.

    Returns
    -------
    sym : Symbol
        The graph; its data inputs keep the ONNX input names.
    arg_params, aux_params : dict of str -> NDArray
        Parameters (initializers) by name, split as MX's BatchNorm needs.

    ONNX operators outside those export_model emits raise ``MXNotSupportedError`` naming them.
    Example: ``sym, args, aux = mx.onnx.import_model('model.onnx')`` then
    ``mx.mod.Module(sym, data_names=['data'], label_names=None)`` and ``set_params(args, aux)``.
    """
    try:
        import onnx
    except ImportError:
        raise ImportError("mx.onnx needs the 'onnx' package (pip install onnx)") from None
    from . import _import_ops  # noqa: F401 - fills the importer table
    model = onnx.load(model_file)
    for opset in model.opset_import:
        if opset.domain in ("", "ai.onnx") and opset.version > 17:
            raise MXNotSupportedError("ONNX import: opset %d is newer than the importer knows "
                                      "(up to 17)" % opset.version)
    try:
        inferred = onnx.shape_inference.infer_shapes(model)
    except Exception:  # noqa: BLE001 - ranks stay unknown; importers that need one say so
        inferred = model
    shapes = {}
    for vi in list(inferred.graph.value_info) + list(inferred.graph.input) + list(inferred.graph.output):
        t = vi.type.tensor_type
        if t.HasField("shape"):
            shapes[vi.name] = tuple(d.dim_value if d.HasField("dim_value") else -1
                                    for d in t.shape.dim)
    g = model.graph
    ctx = Context(g, shapes)
    for inp in g.input:
        if inp.name not in ctx.consts:
            ctx.tensors[inp.name] = ctx.S.var(inp.name)
    for node in g.node:
        fn = _IMPORTERS.get(node.op_type)
        if fn is None or node.domain not in ("", "ai.onnx"):
            raise MXNotSupportedError("ONNX import: operator '%s' (node '%s') is not supported"
                                      % (node.op_type, node.name))
        outs = fn(ctx, node, _attrs(node))
        outs = outs if isinstance(outs, (list, tuple)) else [outs]
        for name, s in zip(node.output, outs):
            if name:
                ctx.tensors[name] = s
    heads = [ctx.sym(o.name) for o in g.output]
    sym = heads[0] if len(heads) == 1 else ctx.S.Group(heads)
    return sym, ctx.arg_params, ctx.aux_params
