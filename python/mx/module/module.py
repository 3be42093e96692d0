"""Module: a symbol bound to one device, with parameters, an optimizer and a metric."""
import logging
import os

import numpy as np

from .. import ndarray as nd
from ..context import Context, cpu
from ..io import DataDesc
from .base_module import BaseModule, _as_list


def _descs(shapes):
    out = []
    for s in shapes or []:
        if isinstance(s, DataDesc):
            out.append(s)
        else:
            name, shape = s
            out.append(DataDesc(name, shape))
    return out


_DEFAULT_INIT = object()  # init_params() without an initializer argument: Uniform(0.01), as MXNet
def _create_kvstore(kvstore):
    """(kvstore or None, update_on_kvstore) as MXNet's model._create_kvstore for one device:
    no kvstore for 'local'/'device'; dist types update on the kvstore unless
    MXNET_UPDATE_ON_KVSTORE=0."""
    import os
    from .. import kvstore as kvs
    if kvstore is None:
        return None, False
    if isinstance(kvstore, kvs.KVStore):
        kv = kvstore
    elif isinstance(kvstore, str):
        if "dist" not in kvstore and kvstore != "horovod":
            if kvstore not in ("local", "device", "nccl", "local_update_cpu",
                               "local_allreduce_cpu", "local_allreduce_device"):
                kvs.create(kvstore)  # raises, naming the bad type
            return None, False
        kv = kvs.create(kvstore)
    else:
        raise TypeError("kvstore must be a KVStore, a str or None, got %r" % (kvstore,))
    return kv, bool(int(os.getenv("MXNET_UPDATE_ON_KVSTORE", "1")))


class Module(BaseModule):
    """A symbol bound to one device, with its parameters, optimizer and metric (MXNet's ``mx.mod.Module``).

    The intermediate-level training API: ``bind`` allocates the executor for given input shapes,
    ``init_params`` / ``init_optimizer`` prepare training, and ``forward`` / ``backward`` / ``update``
    run one step; ``fit``, ``score`` and ``predict`` (from :class:`BaseModule`) loop over data
    iterators. Checkpoints (``save_checkpoint`` / ``Module.load``) use MXNet's
    ``prefix-symbol.json`` + ``prefix-NNNN.params`` (+ ``.states``) files.

    Parameters
    ----------
    symbol : Symbol
        The network; usually ends in a loss output such as ``SoftmaxOutput``.
    data_names : list of str, default ('data',)
        Names of the symbol's data inputs, in the order of ``DataBatch.data``.
    label_names : list of str, default ('softmax_label',)
        Names of the label inputs; names the symbol does not have are ignored (None for no labels).
    logger : logging.Logger-like, default the ``logging`` module
        Receives the training log (``Epoch[0] Train-accuracy=...``).
    context : Context or list of one Context, optional
        The device (default ``mx.cpu()``). MX binds one device per module.
    work_load_list, group2ctxs, compression_params : optional
        Accepted for MXNet compatibility and ignored (single device, no kvstore).
    fixed_param_names : list of str, optional
        Parameters that are not updated by training (their ``grad_req`` is ``'null'``).
    state_names : list of str, optional
        Inputs that are neither data, label nor parameters (e.g. RNN states), set by the user.

    Example
    -------
    >>> data = mx.sym.Variable("data")
    >>> net = mx.sym.SoftmaxOutput(mx.sym.FullyConnected(data, num_hidden=3, name="fc"), name="softmax")
    >>> x = np.random.rand(20, 4).astype("float32")
    >>> it = mx.io.NDArrayIter(x, (np.arange(20) % 3).astype("float32"), batch_size=5)
    >>> mod = mx.mod.Module(net)
    >>> mod.fit(it, num_epoch=2, optimizer_params={"learning_rate": 0.1})
    >>> mod.predict(it).shape
    (20, 3)
    """
    def __init__(self, symbol, data_names=("data",), label_names=("softmax_label",), logger=logging,
                 context=None, work_load_list=None, fixed_param_names=None, state_names=None, group2ctxs=None,
                 compression_params=None):
        super().__init__(logger=logger)
        if isinstance(context, (list, tuple)):
            if len(context) != 1:
                raise ValueError("Module: MX binds one device per module; got %d contexts" % len(context))
            context = context[0]
        self._context = Context(context) if context is not None else cpu()
        self._symbol = symbol
        args = symbol.list_arguments()
        self._data_names = list(data_names or [])
        self._label_names = [n for n in (label_names or []) if n in args]
        for n in self._data_names:
            if n not in args:
                raise ValueError("Module: data name %r is not an input of the symbol (inputs: %s)" % (n, args))
        self._state_names = list(state_names or [])
        self._fixed_param_names = list(fixed_param_names or [])
        inputs = set(self._data_names + self._label_names + self._state_names)
        self._param_names = [n for n in args if n not in inputs]
        for n in self._fixed_param_names:
            if n not in self._param_names:
                raise ValueError("Module: fixed parameter %r is not a parameter of the symbol" % n)
        self._aux_names = symbol.list_auxiliary_states()
        self._output_names = symbol.list_outputs()
        self._arg_params = None
        self._aux_params = None
        self._exec = None
        self._optimizer = None
        self._updater = None
        self._kvstore = None
        self._update_on_kvstore = False
        self._compression_params = compression_params
        self._preload_opt_states = None
        self._data_shapes = self._label_shapes = None

    # ------------------------------------------------------------------ properties
    data_names = property(lambda self: self._data_names)
    label_names = property(lambda self: self._label_names)
    output_names = property(lambda self: self._output_names)
    data_shapes = property(lambda self: self._data_shapes)
    label_shapes = property(lambda self: self._label_shapes)

    @property
    def output_shapes(self):
        """Pairs ``(output name, shape)`` for the bound input shapes."""
        shapes = {d.name: d.shape for d in (self._data_shapes or []) + (self._label_shapes or [])}
        _, out, _ = self._symbol._infer_shape_strict(**shapes)
        return list(zip(self._output_names, out))

    # ------------------------------------------------------------------ checkpoints
    @staticmethod
    def load(prefix, epoch, load_optimizer_states=False, **kwargs):
        """Create a Module from a checkpoint (``prefix-symbol.json`` and ``prefix-%04d.params``).

        Parameters
        ----------
        prefix : str
            Path prefix of the checkpoint files.
        epoch : int
            Epoch number of the ``.params`` file to load.
        load_optimizer_states : bool, default False
            Also load ``prefix-%04d.states`` when ``init_optimizer`` runs (e.g. to resume ``fit``).
        **kwargs
            Passed to :class:`Module` (``data_names``, ``label_names``, ``context``, ...).

        Returns
        -------
        Module
            Not bound yet; its parameters are set from the file (bind, then ``fit(..., begin_epoch=epoch)``
            resumes training).
        """
        from ..model import load_checkpoint
        sym, args, auxs = load_checkpoint(prefix, epoch)
        mod = Module(symbol=sym, **kwargs)
        mod._arg_params, mod._aux_params = args, auxs
        mod.params_initialized = True
        if load_optimizer_states:
            mod._preload_opt_states = "%s-%04d.states" % (prefix, epoch)
        return mod

    def save_checkpoint(self, prefix, epoch, save_optimizer_states=False, remove_amp_cast=True):
        """Save the symbol and the current parameters as an MXNet checkpoint.

        Writes ``prefix-symbol.json`` and ``prefix-%04d.params`` (``arg:``/``aux:`` prefixed names).

        Parameters
        ----------
        prefix : str
            Path prefix of the files.
        epoch : int
            Epoch number in the ``.params`` (and ``.states``) file name.
        save_optimizer_states : bool, default False
            Also write the optimizer state to ``prefix-%04d.states``.
        remove_amp_cast : bool, default True
            Accepted for MXNet compatibility (MX inserts no AMP casts).
        """
        from ..model import save_checkpoint
        arg, aux = self.get_params()
        save_checkpoint(prefix, epoch, self._symbol, arg, aux)
        if save_optimizer_states:
            self.save_optimizer_states("%s-%04d.states" % (prefix, epoch))

    def save_optimizer_states(self, fname):
        """Write the updater's optimizer state (momenta, counts...) to a file, in MXNet's format.

        Parameters
        ----------
        fname : str
            Output path, conventionally ``prefix-%04d.states``.
        """
        if not self.optimizer_initialized:
            raise RuntimeError("save_optimizer_states: call init_optimizer first")
        if self._kvstore is not None and self._update_on_kvstore:
            self._kvstore.save_optimizer_states(fname)
        else:
            self._updater.save(fname)

    def load_optimizer_states(self, fname):
        """Restore optimizer state written by ``save_optimizer_states`` (call ``init_optimizer`` first).

        Parameters
        ----------
        fname : str
            Path of the ``.states`` file.
        """
        if not self.optimizer_initialized:
            raise RuntimeError("load_optimizer_states: call init_optimizer first")
        if not os.path.exists(fname):
            raise FileNotFoundError("optimizer state file '%s' does not exist" % fname)
        self._updater.load(fname)

    # ------------------------------------------------------------------ binding
    def bind(self, data_shapes, label_shapes=None, for_training=True, inputs_need_grad=False, force_rebind=False,
             shared_module=None, grad_req="write"):
        """Allocate the executor for the given input shapes.

        Parameters
        ----------
        data_shapes : list of DataDesc or (name, shape)
            Typically ``train_iter.provide_data``; the first axis is the batch size.
        label_shapes : list of DataDesc or (name, shape), optional
            Typically ``train_iter.provide_label``; None for prediction only.
        for_training : bool, default True
            Allocate gradients for the parameters (False for inference).
        inputs_need_grad : bool, default False
            Also compute gradients for the data inputs (``get_input_grads``).
        force_rebind : bool, default False
            Rebind even if already bound (a warning otherwise).
        shared_module : Module, optional
            Accepted for MXNet compatibility; memory is not shared.
        grad_req : {'write', 'add', 'null'}, default 'write'
            How parameter gradients are stored.
        """
        if self.binded and not force_rebind:
            self.logger.warning("Already bound, ignoring bind()")
            return
        self.for_training, self.inputs_need_grad = for_training, inputs_need_grad
        self._data_shapes = _descs(data_shapes)
        self._label_shapes = [d for d in _descs(label_shapes) if d.name in self._label_names]
        shapes = {d.name: d.shape for d in self._data_shapes + self._label_shapes}
        types = {d.name: getattr(d, "dtype", np.float32) for d in self._data_shapes + self._label_shapes}
        reqs = {}
        for n in self._symbol.list_arguments():
            # grad_req: one string for parameters and (inputs_need_grad) data, or a dict by name
            req = grad_req.get(n, "null") if isinstance(grad_req, dict) else grad_req
            if n in self._param_names:
                reqs[n] = req if (for_training and n not in self._fixed_param_names) else "null"
            else:
                reqs[n] = req if (inputs_need_grad and n in self._data_names) else "null"
        self._exec = self._symbol.simple_bind(self._context, grad_req=reqs, type_dict=types, **shapes)
        self.binded = True
        if self.params_initialized and self._arg_params is not None:
            self._exec.copy_params_from(self._arg_params, self._aux_params, allow_extra_params=True)

    def _reshape_to(self, batch):
        shapes = {}
        for d, a in zip(self._data_names, batch.data):
            shapes[d] = a.shape
        for l, a in zip(self._label_names, batch.label or []):
            shapes[l] = a.shape
        bound = self._exec.arg_dict
        if batch.data:  # labels not given (prediction) follow the data's batch size
            n = batch.data[0].shape[0]
            for l in self._label_names:
                if l not in shapes:
                    shapes[l] = (n,) + tuple(bound[l].shape[1:])
        if any(bound[k].shape != tuple(v) for k, v in shapes.items()):
            self._exec = self._exec.reshape(partial_shaping=True, allow_up_sizing=True, _share_outputs=False, **shapes)

    # ------------------------------------------------------------------ parameters
    def init_params(self, initializer=_DEFAULT_INIT, arg_params=None, aux_params=None, allow_missing=False,
                    force_init=False, allow_extra=False):
        """Initialise the parameters and auxiliary states (after ``bind``).

        Parameters
        ----------
        initializer : Initializer, optional
            For parameters not given in ``arg_params``/``aux_params`` (default ``Uniform(0.01)``).
            None (as ``set_params`` passes) leaves missing ones as bound, with ``allow_missing``.
        arg_params : dict of str to NDArray, optional
            Parameter values to copy in (shapes must match).
        aux_params : dict of str to NDArray, optional
            Auxiliary state values (e.g. BatchNorm's moving statistics).
        allow_missing : bool, default False
            Initialise parameters missing from ``arg_params`` instead of raising.
        force_init : bool, default False
            Re-initialise even if parameters are already initialised.
        allow_extra : bool, default False
            Accept (and ignore) given arrays the network does not have.
        """
        from .. import initializer as _init
        if self.params_initialized and not force_init:
            if self.binded and self._arg_params is not None:
                self._exec.copy_params_from(self._arg_params, self._aux_params, allow_extra_params=True)
            return
        if not self.binded:
            raise RuntimeError("init_params: call bind() first")
        if initializer is _DEFAULT_INIT:
            initializer = _init.Uniform(0.01)
        arg_dict, aux_dict = self._exec.arg_dict, self._exec.aux_dict
        attrs = self._symbol.attr_dict()

        def fill(name, arr, given, kind):
            if given is not None and name in given:
                src = given[name]
                if tuple(src.shape) != tuple(arr.shape):
                    raise ValueError("init_params: %s '%s' has shape %s in the given parameters but the network "
                                     "needs %s" % (kind, name, tuple(src.shape), tuple(arr.shape)))
                src.copyto(arr)
            elif given is not None and not allow_missing:
                raise RuntimeError("init_params: %s '%s' is missing from the given parameters (pass "
                                   "allow_missing=True to initialise it)" % (kind, name))
            elif initializer is not None:
                initializer(_init.InitDesc(name, attrs.get(name, {})), arr)
            elif given is None:
                raise RuntimeError("init_params: no initializer and no given value for %s '%s'" % (kind, name))
            # else (set_params, allow_missing, no initializer): keep the bound array as it is, as
            # MXNet does; e.g. softmax_label of a Module made with label_names=None for prediction

        for name in self._param_names:
            fill(name, arg_dict[name], arg_params, "parameter")
        for name in self._aux_names:
            fill(name, aux_dict[name], aux_params, "auxiliary state")
        if not allow_extra:
            for given, names, kind in ((arg_params, self._param_names, "parameter"),
                                       (aux_params, self._aux_names, "auxiliary state")):
                extra = sorted(set(given or {}) - set(names))
                if extra and given is not None:
                    self.logger.warning("init_params: ignoring %s(s) not in the network: %s", kind, extra)
        self.params_initialized = True
        self._arg_params = {n: arg_dict[n] for n in self._param_names}
        self._aux_params = {n: aux_dict[n] for n in self._aux_names}

    def set_params(self, arg_params, aux_params, allow_missing=False, force_init=True, allow_extra=False):
        """Set the parameters from dictionaries (``init_params`` with ``force_init=True``).

        Parameters
        ----------
        arg_params : dict of str to NDArray
            Parameter values.
        aux_params : dict of str to NDArray
            Auxiliary state values.
        allow_missing : bool, default False
            Initialise missing ones with the default initializer instead of raising.
        force_init : bool, default True
            Overwrite parameters that are already initialised.
        allow_extra : bool, default False
            Ignore given arrays the network does not have.
        """
        self.init_params(initializer=None, arg_params=arg_params, aux_params=aux_params,
                         allow_missing=allow_missing, force_init=force_init, allow_extra=allow_extra)

    def get_params(self):
        """Copies of the current parameters.

        Returns
        -------
        (dict of str to NDArray, dict of str to NDArray)
            ``(arg_params, aux_params)``, copies that later training does not change.
        """
        if not self.params_initialized:
            raise RuntimeError("get_params: parameters are not initialised")
        if self.binded:
            arg_dict, aux_dict = self._exec.arg_dict, self._exec.aux_dict
            return ({n: arg_dict[n].copy() for n in self._param_names},
                    {n: aux_dict[n].copy() for n in self._aux_names})
        return ({k: v.copy() for k, v in self._arg_params.items()},
                {k: v.copy() for k, v in (self._aux_params or {}).items()})

    # ------------------------------------------------------------------ optimizer
    def init_optimizer(self, kvstore="local", optimizer="sgd", optimizer_params=(("learning_rate", 0.01),),
                       force_init=False):
        """Create the optimizer and its updater (after ``bind`` and ``init_params``).

        Parameters
        ----------
        kvstore : str, default 'local'
            Only ``'local'``/``'device'`` (one device); distributed kvstores are not supported.
        optimizer : str or Optimizer, default 'sgd'
            An optimizer name for ``mx.optimizer.create`` or an Optimizer instance.
        optimizer_params : dict or sequence of pairs, default (('learning_rate', 0.01),)
            Arguments of the optimizer; ``rescale_grad`` defaults to ``1 / batch_size``.
        force_init : bool, default False
            Replace an optimizer that is already initialised.
        """
        from .. import optimizer as opt
        if self.optimizer_initialized and not force_init:
            self.logger.warning("optimizer already initialized, ignoring init_optimizer()")
            return
        if not (self.binded and self.params_initialized):
            raise RuntimeError("init_optimizer: bind the module and initialise its parameters first")
        kv, update_on_kvstore = _create_kvstore(kvstore)
        batch_size = self._data_shapes[0].shape[0]
        if kv is not None and "dist" in kv.type and "_sync" in kv.type:
            batch_size *= kv.num_workers  # MXNet: gradients are summed over the workers
        idx2name = dict(enumerate(self._param_names))
        if isinstance(optimizer, str):
            params = dict(optimizer_params)
            params.setdefault("rescale_grad", 1.0 / batch_size)
            optimizer = opt.create(optimizer, sym=self._symbol, param_idx2name=idx2name, **params)
        elif not isinstance(optimizer, opt.Optimizer):
            raise TypeError("init_optimizer: optimizer must be a name or an mx.optimizer.Optimizer")
        else:
            if getattr(optimizer, "rescale_grad", 1.0) == 1.0 and batch_size != 1:
                self.logger.warning("Optimizer created manually outside Module but rescale_grad is not "
                                    "normalized to 1.0/batch_size (%s vs. %s).", optimizer.rescale_grad,
                                    1.0 / batch_size)
            if not getattr(optimizer, "idx2name", None):
                optimizer.set_idx2name(idx2name) if hasattr(optimizer, "set_idx2name") else None
        self._optimizer = optimizer
        self._updater = opt.get_updater(optimizer)
        self._kvstore, self._update_on_kvstore = kv, update_on_kvstore
        if kv is not None:
            if self._compression_params:
                kv.set_gradient_compression(self._compression_params)
            if update_on_kvstore:
                kv.set_optimizer(optimizer)
            # Every worker starts from rank 0's parameters (broadcast from rank 0 for dist types).
            arg_dict = self._exec.arg_dict
            names = [n for n in self._param_names]
            kv.broadcast(names, [arg_dict[n] for n in names], out=[arg_dict[n] for n in names])
        self.optimizer_initialized = True
        if self._preload_opt_states is not None:
            self.load_optimizer_states(self._preload_opt_states)
            self._preload_opt_states = None

    # ------------------------------------------------------------------ computation
    def forward(self, data_batch, is_train=None):
        """Run the network forward on one batch (the executor is reshaped if the batch size changed).

        Parameters
        ----------
        data_batch : DataBatch
            ``data`` (and ``label`` when training) in the order of ``data_names``/``label_names``.
        is_train : bool, optional
            Training mode (dropout active, BatchNorm batch statistics); default ``for_training``.
        """
        if not (self.binded and self.params_initialized):
            raise RuntimeError("forward: bind the module and initialise its parameters first")
        if is_train is None:
            is_train = self.for_training
        if len(data_batch.data) != len(self._data_names):
            raise ValueError("forward: the batch has %d data arrays but the module expects %d (%s)" % (
                len(data_batch.data), len(self._data_names), self._data_names))
        self._reshape_to(data_batch)
        arg_dict = self._exec.arg_dict
        for name, arr in zip(self._data_names, data_batch.data):
            arr.copyto(arg_dict[name]) if isinstance(arr, nd.NDArray) else nd.array(arr).copyto(arg_dict[name])
        if is_train and self._label_names:
            labels = data_batch.label or []
            if len(labels) < len(self._label_names):
                raise ValueError("forward: training needs labels for %s" % self._label_names)
        for name, arr in zip(self._label_names, data_batch.label or []):
            arr.copyto(arg_dict[name]) if isinstance(arr, nd.NDArray) else nd.array(arr).copyto(arg_dict[name])
        self._exec.forward(is_train=is_train)

    def backward(self, out_grads=None):
        """Back-propagate from the outputs of the last ``forward(is_train=True)``.

        Parameters
        ----------
        out_grads : NDArray or list of NDArray, optional
            Head gradients for outputs that are not loss layers.
        """
        if not self.for_training:
            raise RuntimeError("backward: the module was bound with for_training=False")
        self._exec.backward(out_grads)

    def update(self):
        """Apply one optimizer step to every parameter from its current gradient."""
        if not self.optimizer_initialized:
            raise RuntimeError("update: call init_optimizer first")
        arg_dict, grad_dict = self._exec.arg_dict, self._exec.grad_dict
        idx, weights, grads = [], [], []
        for i, name in enumerate(self._param_names):
            g = grad_dict.get(name)
            if g is None:
                continue
            idx.append(i)
            weights.append(arg_dict[name])
            grads.append(g)
        if not idx:
            return
        if self._kvstore is not None:
            # One fused call: the core packs the gradients into buckets, reduces them over the
            # workers and (update_on_kvstore) runs the optimizer on the kvstore.
            names = [self._param_names[i] for i in idx]
            if self._update_on_kvstore:
                self._kvstore.pushpull(names, grads, out=weights)
                return
            self._kvstore.pushpull(names, grads)
        self._updater(idx, grads, weights)

    def get_outputs(self, merge_multi_context=True):
        """The outputs of the last forward pass.

        Parameters
        ----------
        merge_multi_context : bool, default True
            Accepted for MXNet compatibility (one device, so always merged).

        Returns
        -------
        list of NDArray
            One array per symbol output, batch along the first axis.
        """
        return list(self._exec.outputs)

    def get_input_grads(self, merge_multi_context=True):
        """Gradients with respect to the data inputs (bind with ``inputs_need_grad=True``).

        Parameters
        ----------
        merge_multi_context : bool, default True
            Accepted for MXNet compatibility.

        Returns
        -------
        list of NDArray
            One gradient per data input, in ``data_names`` order.
        """
        if not self.inputs_need_grad:
            raise RuntimeError("get_input_grads: bind with inputs_need_grad=True")
        return [self._exec.grad_dict.get(n) for n in self._data_names]  # None where grad_req is 'null'

    def update_metric(self, eval_metric, labels, pre_sliced=False, pad=None):
        """Update a metric with the outputs of the last forward pass.

        Parameters
        ----------
        eval_metric : EvalMetric
            The metric to update.
        labels : list of NDArray
            The batch's labels.
        pre_sliced : bool, default False
            Accepted for MXNet compatibility.
        pad : int, optional
            Number of padding samples at the end of the batch, left out of the metric.
        """
        outputs = self.get_outputs()
        labels = _as_list(labels)
        if pad:
            outputs = [o[0:o.shape[0] - pad] for o in outputs]
            labels = [l[0:l.shape[0] - pad] for l in labels]
        eval_metric.update(labels, outputs)

    def install_monitor(self, mon):
        """Not supported in MX yet: raises NotImplementedError.

        Parameters
        ----------
        mon : Monitor
            MXNet's executor monitor.
        """
        raise NotImplementedError("Module.install_monitor is not supported in MX yet")
