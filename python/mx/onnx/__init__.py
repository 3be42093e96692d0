"""mx.onnx: ONNX export and import (ONNX opset 13), as MXNet 1.9's ``mxnet.onnx``.

``export_model(sym, params, in_shapes, ...)`` writes an ONNX file from a symbol (or the files of
``HybridBlock.export``); ``import_model(path)`` reads one back as ``(sym, arg_params,
aux_params)`` for the ONNX operators export emits; ``get_operator_support()`` lists the exportable
MX operators (docs/onnx_ops.md has the table). The ``onnx`` package is imported on first use.
"""
from ._export import export_model, get_operator_support, OPSET  # noqa: F401
from ._import import import_model  # noqa: F401

__all__ = ["export_model", "import_model", "get_operator_support", "OPSET"]
