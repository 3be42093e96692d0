"""BaseModule: the training loop (fit), evaluation (score) and prediction shared by modules."""
import logging
import sys
import time

from ..model import BatchEndParam


def _as_list(obj):
    if obj is None:
        return []
    return list(obj) if isinstance(obj, (list, tuple)) else [obj]


def _interactive():
    return getattr(sys.stdout, "isatty", lambda: False)() or "ipykernel" in sys.modules


class BaseModule:
    """Base class of modules: the training loop (``fit``), evaluation (``score``) and prediction.

    Subclasses (:class:`Module`) implement ``bind``, ``init_params``, ``init_optimizer``,
    ``forward``, ``backward``, ``update``, ``get_outputs`` and ``update_metric``.

    Parameters
    ----------
    logger : logging.Logger-like, default the ``logging`` module
        Receives the training and validation log lines.
    """
    def __init__(self, logger=logging):
        self.logger = logger
        self.binded = False
        self.for_training = False
        self.inputs_need_grad = False
        self.params_initialized = False
        self.optimizer_initialized = False
        self._symbol = None

    @property
    def symbol(self):
        """The module's symbol."""
        return self._symbol

    def prepare(self, data_batch, sparse_row_id_fn=None):
        """Get ready for a batch (Module pulls row_sparse weights' rows; see Module.prepare)."""
        if sparse_row_id_fn is not None:
            import warnings
            warnings.warn(UserWarning("sparse_row_id_fn is not invoked for BaseModule."))

    def forward_backward(self, data_batch):
        """``forward(data_batch, is_train=True)`` followed by ``backward()``.

        Parameters
        ----------
        data_batch : DataBatch
            The batch to train on.
        """
        self.forward(data_batch, is_train=True)
        self.backward()

    # ------------------------------------------------------------------ evaluation
    def score(self, eval_data, eval_metric, num_batch=None, batch_end_callback=None, score_end_callback=None,
              reset=True, epoch=0, sparse_row_id_fn=None):
        """Evaluate a metric over a data iterator.

        Parameters
        ----------
        eval_data : DataIter
            The evaluation data.
        eval_metric : str or EvalMetric
            The metric (or its name for ``mx.metric.create``, e.g. ``'acc'``).
        num_batch : int, optional
            Stop after this many batches.
        batch_end_callback, score_end_callback : callable or list of callables, optional
            Called with a ``BatchEndParam`` after each batch / at the end.
        reset : bool, default True
            Reset ``eval_data`` first.
        epoch : int, default 0
            Reported to the callbacks.
        sparse_row_id_fn : optional
            ``batch -> {name: row ids}``: rows of row_sparse weights pulled before each batch.

        Returns
        -------
        list of (str, float)
            ``eval_metric.get_name_value()``, e.g. ``[('accuracy', 0.91)]``.
        """
        from .. import metric as _metric
        if not (self.binded and self.params_initialized):
            raise RuntimeError("score: bind the module and initialise its parameters first")
        if reset:
            eval_data.reset()
        if not isinstance(eval_metric, _metric.EvalMetric):
            eval_metric = _metric.create(eval_metric)
        eval_metric.reset()
        nbatch = 0
        for nbatch, batch in enumerate(eval_data):
            if num_batch is not None and nbatch == num_batch:
                break
            self.prepare(batch, sparse_row_id_fn=sparse_row_id_fn)
            self.forward(batch, is_train=False)
            self.update_metric(eval_metric, batch.label, pad=getattr(batch, "pad", None))
            for cb in _as_list(batch_end_callback):
                cb(BatchEndParam(epoch=epoch, nbatch=nbatch, eval_metric=eval_metric, locals=locals()))
        for cb in _as_list(score_end_callback):
            cb(BatchEndParam(epoch=epoch, nbatch=nbatch, eval_metric=eval_metric, locals=locals()))
        return eval_metric.get_name_value()

    def iter_predict(self, eval_data, num_batch=None, reset=True, sparse_row_id_fn=None):
        """Iterate over predictions batch by batch.

        Parameters
        ----------
        eval_data : DataIter
            The data to predict on.
        num_batch : int, optional
            Stop after this many batches.
        reset : bool, default True
            Reset ``eval_data`` first.
        sparse_row_id_fn : optional
            ``batch -> {name: row ids}``: rows of row_sparse weights pulled before each batch.

        Yields
        ------
        (list of NDArray, int, DataBatch)
            The outputs with the batch's padding removed, the batch index and the batch.
        """
        if not (self.binded and self.params_initialized):
            raise RuntimeError("iter_predict: bind the module and initialise its parameters first")
        if reset:
            eval_data.reset()
        for nbatch, batch in enumerate(eval_data):
            if num_batch is not None and nbatch == num_batch:
                break
            self.prepare(batch, sparse_row_id_fn=sparse_row_id_fn)
            self.forward(batch, is_train=False)
            pad = getattr(batch, "pad", None) or 0
            outputs = [out[0:out.shape[0] - pad].copy() for out in self.get_outputs()]
            yield outputs, nbatch, batch

    def predict(self, eval_data, num_batch=None, merge_batches=True, reset=True, always_output_list=False,
                sparse_row_id_fn=None):
        """Run the network over a whole iterator and collect the outputs.

        Parameters
        ----------
        eval_data : DataIter or NDArray or numpy.ndarray
            The data; an array is wrapped in an ``NDArrayIter`` (batches of up to 128).
        num_batch : int, optional
            Stop after this many batches.
        merge_batches : bool, default True
            Concatenate the batches along the first axis (else a list per batch).
        reset : bool, default True
            Reset ``eval_data`` first.
        always_output_list : bool, default False
            Return a list even for a single-output network.
        sparse_row_id_fn : optional
            ``batch -> {name: row ids}``: rows of row_sparse weights pulled before each batch.

        Returns
        -------
        NDArray or list of NDArray
            Shape ``(num_samples, ...)`` per output, padding removed.
        """
        from .. import ndarray as nd
        if isinstance(eval_data, nd.NDArray) or hasattr(eval_data, "shape"):
            from ..io import NDArrayIter
            eval_data = NDArrayIter(eval_data, batch_size=min(len(eval_data), 128))
        outs = [o for o, _, _ in self.iter_predict(eval_data, num_batch=num_batch, reset=reset,
                                                   sparse_row_id_fn=sparse_row_id_fn)]
        if not outs:
            return []
        if not merge_batches:
            return outs
        merged = []
        for i in range(len(outs[0])):
            parts = [o[i] for o in outs]
            merged.append(parts[0] if len(parts) == 1 else nd.concat(*parts, dim=0))
        if len(merged) == 1 and not always_output_list:
            return merged[0]
        return merged

    # ------------------------------------------------------------------ training
    def fit(self, train_data, eval_data=None, eval_metric="acc", epoch_end_callback=None,
            batch_end_callback=None, kvstore="local", optimizer="sgd", optimizer_params=(("learning_rate", 0.01),),
            eval_end_callback=None, eval_batch_end_callback=None, initializer=None, arg_params=None,
            aux_params=None, allow_missing=False, force_rebind=False, force_init=False, begin_epoch=0,
            num_epoch=None, validation_metric=None, monitor=None, sparse_row_id_fn=None):
        """Train the module (MXNet's ``Module.fit``).

        Binds, initialises the parameters and the optimizer, then runs ``num_epoch - begin_epoch`` epochs
        of ``forward_backward`` + ``update`` over ``train_data``, logging the training metric each epoch
        and evaluating ``eval_data`` when given. Shows a progress bar in a terminal or notebook when no
        ``batch_end_callback`` is given.

        Parameters
        ----------
        train_data : DataIter
            The training data (``provide_data``/``provide_label`` give the bind shapes).
        eval_data : DataIter, optional
            Validation data, scored after each epoch.
        eval_metric : str or EvalMetric, default 'acc'
            The training metric.
        epoch_end_callback : callable or list, optional
            Called as ``cb(epoch, symbol, arg_params, aux_params)``, e.g. ``mx.callback.do_checkpoint(prefix)``.
        batch_end_callback : callable or list, optional
            Called with a ``BatchEndParam`` after every batch, e.g. ``mx.callback.Speedometer(batch_size)``.
        kvstore : str or KVStore, default 'local'
            'local' trains in this process; 'dist_sync' (or 'dist_device_sync', 'horovod')
            trains data-parallel in a job started by ``python -m mx.tools.launch``: gradients
            summed over the workers, the optimizer run on the kvstore.
        optimizer : str or Optimizer, default 'sgd'
            The optimizer.
        optimizer_params : dict or pairs, default (('learning_rate', 0.01),)
            Its arguments.
        eval_end_callback, eval_batch_end_callback : callable or list, optional
            Callbacks of the validation ``score``.
        initializer : Initializer, optional
            For parameters not in ``arg_params`` (default ``Uniform(0.01)``).
        arg_params, aux_params : dict of str to NDArray, optional
            Starting values (e.g. from a checkpoint).
        allow_missing : bool, default False
            Initialise parameters missing from ``arg_params``.
        force_rebind, force_init : bool, default False
            Rebind / re-initialise a module that is already bound / initialised.
        begin_epoch : int, default 0
            First epoch number (to resume from a checkpoint).
        num_epoch : int
            Train until this epoch number (required).
        validation_metric : str or EvalMetric, optional
            Metric for ``eval_data`` (default: ``eval_metric``).
        monitor, sparse_row_id_fn : optional
            ``batch -> {name: row ids}``: rows of row_sparse weights pulled before each batch.
        """
        from .. import metric as _metric
        from .. import initializer as _init
        from ..callback import ProgressBar
        if num_epoch is None:
            raise ValueError("fit: num_epoch must be given")
        self.bind(data_shapes=train_data.provide_data, label_shapes=train_data.provide_label, for_training=True,
                  force_rebind=force_rebind)
        self.init_params(initializer=initializer if initializer is not None else _init.Uniform(0.01),
                         arg_params=arg_params, aux_params=aux_params, allow_missing=allow_missing,
                         force_init=force_init)
        self.init_optimizer(kvstore=kvstore, optimizer=optimizer, optimizer_params=optimizer_params)
        if validation_metric is None:
            validation_metric = eval_metric
        if not isinstance(eval_metric, _metric.EvalMetric):
            eval_metric = _metric.create(eval_metric)
        if batch_end_callback is None and _interactive():
            n = getattr(train_data, "num_data", None)
            if n and train_data.batch_size:
                batch_end_callback = ProgressBar((n + train_data.batch_size - 1) // train_data.batch_size)
        for epoch in range(begin_epoch, num_epoch):
            tic = time.time()
            eval_metric.reset()
            nbatch = 0
            train_data.reset()
            for nbatch, batch in enumerate(train_data):
                self.prepare(batch, sparse_row_id_fn=sparse_row_id_fn)  # row_sparse weights' rows
                self.forward_backward(batch)
                self.update()
                self.update_metric(eval_metric, batch.label, pad=getattr(batch, "pad", None))
                for cb in _as_list(batch_end_callback):
                    cb(BatchEndParam(epoch=epoch, nbatch=nbatch, eval_metric=eval_metric, locals=locals()))
            for name, val in eval_metric.get_name_value():
                self.logger.info("Epoch[%d] Train-%s=%f", epoch, name, val)
            self.logger.info("Epoch[%d] Time cost=%.3f", epoch, time.time() - tic)
            arg_params, aux_params = self.get_params()
            for cb in _as_list(epoch_end_callback):
                cb(epoch, self.symbol, arg_params, aux_params)
            if eval_data is not None:
                res = self.score(eval_data, validation_metric, score_end_callback=eval_end_callback,
                                 batch_end_callback=eval_batch_end_callback, epoch=epoch)
                for name, val in res:
                    self.logger.info("Epoch[%d] Validation-%s=%f", epoch, name, val)
