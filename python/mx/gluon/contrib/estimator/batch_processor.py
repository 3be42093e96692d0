"""gluon.contrib.estimator.BatchProcessor (MXNet 1.9): what the Estimator does with one batch.

Subclass it and pass an instance as ``Estimator(..., batch_processor=...)`` to change how a
batch is split, fed, or how its loss is formed (e.g. several outputs, extra inputs):

    class TwoInputs(BatchProcessor):
        def fit_batch(self, estimator, train_batch, batch_axis=0):
            ...  # return data, label, pred, loss (lists, one entry per device)
"""
from .... import autograd
from ...utils import split_and_load

__all__ = ["BatchProcessor"]


class BatchProcessor:
    """Forward (and backward) of one batch for an Estimator, split over its devices."""

    def _get_data_and_label(self, batch, ctx, batch_axis=0):
        """(data, label): batch[0] and batch[1] split along `batch_axis` over the devices `ctx`."""
        data = split_and_load(batch[0], ctx_list=ctx, batch_axis=batch_axis)
        label = split_and_load(batch[1], ctx_list=ctx, batch_axis=batch_axis)
        return data, label

    def evaluate_batch(self, estimator, val_batch, batch_axis=0):
        """Forward of `val_batch` through ``estimator.val_net`` and ``estimator.val_loss``.

        Returns
        -------
        data, label, pred, loss : lists of NDArray, one entry per device
        """
        data, label = self._get_data_and_label(val_batch, estimator.context, batch_axis)
        pred = [estimator.val_net(x) for x in data]
        loss = [estimator.val_loss(p, y) for p, y in zip(pred, label)]
        return data, label, pred, loss

    def fit_batch(self, estimator, train_batch, batch_axis=0):
        """Forward under autograd and backward of `train_batch` through ``estimator.net`` and
        ``estimator.loss`` (the optimizer step is the GradientUpdateHandler's).

        Returns
        -------
        data, label, pred, loss : lists of NDArray, one entry per device
        """
        data, label = self._get_data_and_label(train_batch, estimator.context, batch_axis)
        with autograd.record():
            pred = [estimator.net(x) for x in data]
            loss = [estimator.loss(p, y) for p, y in zip(pred, label)]
        for l in loss:
            l.backward()
        return data, label, pred, loss
