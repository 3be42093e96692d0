"""mx.optimizer.contrib: MXNet's contrib optimizers (update rules run in the core)."""
from .optimizer import _make_class

__all__ = ["GroupAdaGrad"]

GroupAdaGrad = _make_class(
    "GroupAdaGrad", "groupadagrad", [("eps", 1e-5)],
    "AdaGrad with one rate per row of a 2-d weight: history (shape (rows, 1)) += "
    "mean(square(clip(rescale*g)), axis=1); w -= lr*g/sqrt(history + eps). A row_sparse gradient "
    "updates only its rows (MXNet's group_adagrad_update); weight decay is refused.")
