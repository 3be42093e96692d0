"""Module: a symbol bound to one or several devices (data parallel), with parameters, an
optimizer and a metric."""
import logging
import os
import warnings

import numpy as np

from .. import ndarray as nd
from ..context import Context, cpu
from ..io import DataDesc
from .base_module import BaseModule, _as_list
from .executor_group import DataParallelExecutorGroup


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
def _create_kvstore(kvstore, num_device=1):
    """(kvstore or None, update_on_kvstore) as MXNet's model._create_kvstore: no kvstore for
    'local'/'device' on one device (several devices sum their gradients through one); the
    optimizer runs on the kvstore unless MXNET_UPDATE_ON_KVSTORE=0."""
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
            if num_device == 1:
                return None, False
            kvstore = "device" if kvstore in ("nccl", "local_allreduce_device") else "local"
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
    context : Context or list of Context, optional
        The device(s) (default ``mx.cpu()``); with several, each batch is split over them and
        their gradients are summed (data parallelism, as MXNet).
    work_load_list : list of float, optional
        Share of each batch per device (default equal).
    group2ctxs : optional
        Accepted for MXNet compatibility; MX runs every node on the executor's device.
    compression_params : dict, optional
        Gradient compression for a dist kvstore.
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
        if context is None:
            context = [cpu()]
        elif not isinstance(context, (list, tuple)):
            context = [context]
        if not context:
            raise ValueError("Module: context must name at least one device")
        self._context = [Context(c) for c in context]
        if work_load_list is None:
            work_load_list = [1] * len(self._context)
        if len(work_load_list) != len(self._context):
            raise ValueError("Module: %d work loads for %d contexts" % (len(work_load_list), len(self._context)))
        self._work_load_list = list(work_load_list)
        self._group2ctxs = group2ctxs
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
        self._exec_group = None
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
    def _exec(self):
        """The first device's executor (the only one on a single device)."""
        return self._exec_group.execs[0] if self._exec_group is not None else None

    @property
    def _total_exec_bytes(self):
        """Bytes held by the executors' arguments, gradients and auxiliary states."""
        total = 0
        for x in (self._exec_group.execs if self._exec_group is not None else []):
            for arrs in (x.arg_arrays, x.grad_arrays, x.aux_arrays):
                total += sum(a.size * np.dtype(a.dtype).itemsize for a in arrs if a is not None)
        return total

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
            if self._kvstore._py_updater is not None:  # local kvstore on several devices: a Python updater
                self._kvstore._py_updater.save(fname)
            else:
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
        if self._kvstore is not None and self._update_on_kvstore:
            if self._kvstore._py_updater is not None:
                self._kvstore._py_updater.load(fname)
            else:
                self._kvstore.load_optimizer_states(fname)
            return
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
            A bound module whose parameters (and gradients) this one shares (bucketing).
        grad_req : {'write', 'add', 'null'} or dict, default 'write'
            How parameter (and, with inputs_need_grad, data) gradients are stored; a dict by name.
        """
        if self.binded and not force_rebind:
            self.logger.warning("Already bound, ignoring bind()")
            return
        self.for_training, self.inputs_need_grad = for_training, inputs_need_grad
        data_descs = _descs(data_shapes)
        label_descs = [d for d in _descs(label_shapes) if d.name in self._label_names]
        shared_group = None
        if shared_module is not None:
            if not (isinstance(shared_module, Module) and shared_module.binded and shared_module.params_initialized):
                raise ValueError("bind: shared_module must be a bound Module with initialised parameters")
            shared_group = shared_module._exec_group
        self._exec_group = DataParallelExecutorGroup(
            self._symbol, self._context, self._work_load_list, data_descs, label_descs, self._param_names,
            for_training, inputs_need_grad, shared_group, logger=self.logger,
            fixed_param_names=self._fixed_param_names, grad_req=grad_req, state_names=self._state_names,
            group2ctxs=self._group2ctxs)
        self._data_shapes, self._label_shapes = data_descs, label_descs
        self._grad_req = grad_req
        self.binded = True
        if shared_module is not None:
            self.params_initialized = True
            self._arg_params, self._aux_params = shared_module._arg_params, shared_module._aux_params
        elif self.params_initialized and self._arg_params is not None:
            self._exec_group.set_params(self._arg_params, self._aux_params, allow_extra=True)

    def reshape(self, data_shapes, label_shapes=None):
        """Rebind for new input shapes (e.g. another batch size), keeping the parameters.

        Parameters
        ----------
        data_shapes : list of DataDesc or (name, shape)
            The new data shapes.
        label_shapes : list of DataDesc or (name, shape), optional
            The new label shapes.
        """
        if not self.binded:
            raise RuntimeError("reshape: call bind() first")
        data_descs = _descs(data_shapes)
        label_descs = [d for d in _descs(label_shapes) if d.name in self._label_names]
        self._exec_group.reshape(data_descs, label_descs)
        self._data_shapes, self._label_shapes = data_descs, label_descs

    def _reshape_to(self, batch):
        """Rebind when the batch's shapes differ from the bound ones (as MXNet's forward does)."""
        def desc(old, arr):
            return DataDesc(old.name, tuple(arr.shape), getattr(old, "dtype", np.float32), old.layout)
        if len(batch.data) != len(self._data_shapes):
            return
        data = [desc(d, a) for d, a in zip(self._data_shapes, batch.data)]
        labels = list(self._label_shapes or [])
        if getattr(batch, "label", None):
            labels = [desc(d, a) for d, a in zip(labels, batch.label)]
        elif labels and batch.data:
            # labels not given (prediction) follow the data's batch size
            n = batch.data[0].shape[DataDesc.get_batch_axis(self._data_shapes[0].layout)]
            labels = [DataDesc(d.name, (n,) + tuple(d.shape[1:]), getattr(d, "dtype", np.float32), d.layout)
                      for d in labels]
        if [tuple(d.shape) for d in data] != [tuple(d.shape) for d in self._data_shapes] or \
                [tuple(d.shape) for d in labels] != [tuple(d.shape) for d in (self._label_shapes or [])]:
            self.reshape(data, labels)

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
                self._exec_group.set_params(self._arg_params, self._aux_params, allow_extra=True)
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
        if len(self._exec_group.execs) > 1:  # the other devices start from the same values
            for x in self._exec_group.execs[1:]:
                x.copy_params_from(self._arg_params, self._aux_params, allow_extra_params=True)

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
        if not allow_missing or not self.binded:
            self.init_params(initializer=None, arg_params=arg_params, aux_params=aux_params,
                             allow_missing=allow_missing, force_init=force_init, allow_extra=allow_extra)
            return
        if self.params_initialized and not force_init:
            self.logger.warning("Parameters already initialized and force_init=False. set_params call ignored.")
            return
        # As MXNet: with allow_missing the given arrays are copied as they are (missing ones keep
        # their values); names the network lacks raise ValueError unless allow_extra.
        self._exec_group.set_params(arg_params, aux_params, allow_extra=allow_extra)
        self.params_initialized = True
        arg_dict, aux_dict = self._exec.arg_dict, self._exec.aux_dict
        self._arg_params = {n: arg_dict[n] for n in self._param_names}
        self._aux_params = {n: aux_dict[n] for n in self._aux_names}

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
        kv, update_on_kvstore = _create_kvstore(kvstore, len(self._context))
        batch_size = self._exec_group.batch_size
        if kv is not None and "dist" in kv.type and "_sync" in kv.type:
            batch_size *= kv.num_workers  # MXNet: gradients are summed over the workers
        idx2name = dict(enumerate(self._param_names))
        ndev = len(self._context)
        if ndev > 1 and not update_on_kvstore:  # one optimizer index per parameter copy (update())
            idx2name = {i * ndev + k: n for i, n in enumerate(self._param_names) for k in range(ndev)}
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
                optimizer.idx2name = idx2name.copy()
        self._optimizer = optimizer
        self._updater = opt.get_updater(optimizer)
        self._kvstore, self._update_on_kvstore = kv, update_on_kvstore
        if kv is not None:
            if self._compression_params:
                kv.set_gradient_compression(self._compression_params)
            group = self._exec_group
            # row_sparse weights live in the kvstore, which runs the optimizer on them; prepare()
            # pulls the rows a batch needs (MXNet's Module with sparse weights).
            sparse_w = [i for i, block in enumerate(group.param_arrays) if block[0].stype != "default"]
            if update_on_kvstore:
                if "dist" in kv.type or kv.type == "horovod" or sparse_w:
                    kv.set_optimizer(optimizer)  # the core optimizer: row_sparse_pull needs it
                else:  # as MXNet's local kvstore: the Module's updater runs after the reduction
                    kv._set_updater(opt.get_updater(optimizer))
            # Every worker (and device) starts from rank 0's first-device parameters; the
            # kvstore keeps the whole row_sparse weights.
            dense_w = [i for i in range(len(self._param_names)) if i not in sparse_w]
            if sparse_w:
                kv.init(self._kv_keys(sparse_w), [group.param_arrays[i][0] for i in sparse_w])
            kv.broadcast(self._kv_keys(dense_w), [group.param_arrays[i][0] for i in dense_w],
                         out=[group.param_arrays[i] for i in dense_w])
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
        if is_train and self._label_names:
            labels = getattr(data_batch, "label", None) or []
            if len(labels) < len(self._label_names):
                raise ValueError("forward: training needs labels for %s" % self._label_names)
        self._reshape_to(data_batch)
        self._exec_group.forward(data_batch, is_train=is_train)

    def backward(self, out_grads=None):
        """Back-propagate from the outputs of the last ``forward(is_train=True)``.

        Parameters
        ----------
        out_grads : NDArray or list of NDArray, optional
            Head gradients for outputs that are not loss layers.
        """
        if not self.for_training:
            raise RuntimeError("backward: the module was bound with for_training=False")
        self._exec_group.backward(out_grads)

    def update(self):
        """Apply one optimizer step to every parameter from its current gradient."""
        if not self.optimizer_initialized:
            raise RuntimeError("update: call init_optimizer first")
        group = self._exec_group
        ndev = len(group.execs)
        idx, weights, grads = [], [], []  # per parameter: one array per device
        for i, (w, g) in enumerate(zip(group.param_arrays, group.grad_arrays)):
            if g[0] is None:
                continue
            idx.append(i)
            weights.append(w)
            grads.append(g)
        if not idx:
            return
        if self._kvstore is not None:
            # One fused call: the core packs the gradients into buckets, sums them over the
            # devices and workers and (update_on_kvstore) runs the optimizer on the kvstore.
            keys = self._kv_keys(idx)
            # Gradients that backward overwrites are reduced while backward runs (the core
            # overlaps, see KVStore.set_overlap); accumulated ones ('add') cannot be.
            pushpull = self._kvstore.pushpull
            if self._grad_req_all_write() and hasattr(self._kvstore, "_pushpull_grads"):
                pushpull = self._kvstore._pushpull_grads
            if self._update_on_kvstore:
                # Sparse weights or gradients: push, then pull, which skips row_sparse weights
                # (prepare() pulls their rows), as MXNet's _update_params_on_kvstore.
                dense = [k for k, (w, g) in enumerate(zip(weights, grads))
                         if w[0].stype == "default" and g[0].stype == "default"]
                other = [k for k in range(len(idx)) if k not in dense]
                if dense:
                    pushpull([keys[k] for k in dense], [grads[k] for k in dense],
                             out=[weights[k] for k in dense])
                if other:
                    self._kvstore.push([keys[k] for k in other], [grads[k] for k in other])
                    self._kvstore.pull([keys[k] for k in other], out=[weights[k] for k in other])
                return
            pushpull(keys, grads)
        # Each device updates its copy (MXNet's index i*num_device+k: one state per copy).
        for k in range(ndev):
            self._updater([i * ndev + k for i in idx], [g[k] for g in grads], [w[k] for w in weights])

    def prepare(self, data_batch, sparse_row_id_fn=None):
        """Before a batch: pull from the kvstore the rows of row_sparse weights the batch needs.

        Parameters
        ----------
        data_batch : DataBatch
            The next batch (passed to ``sparse_row_id_fn``).
        sparse_row_id_fn : callable, optional
            ``data_batch -> {param_name: row ids NDArray}``; each row_sparse weight then holds
            exactly those rows of the kvstore's copy (which ``update`` changed).
        """
        if not self.binded:
            raise RuntimeError("prepare: bind the module first")
        if sparse_row_id_fn is None:
            return
        if self._kvstore is None or not self._update_on_kvstore:
            warnings.warn(UserWarning("Parameters are not updated in the KVStore. No need to call sparse_row_id_fn."))
            return
        row_ids = sparse_row_id_fn(data_batch)
        if not isinstance(row_ids, dict):
            raise TypeError("prepare: sparse_row_id_fn must return a dict of parameter name -> row ids, got %s"
                            % type(row_ids).__name__)
        group = self._exec_group
        for name, ids in row_ids.items():
            if name not in group.param_names:
                raise ValueError("prepare: '%s' is not a parameter of the module" % (name,))
            i = group.param_names.index(name)
            arrays = group.param_arrays[i]
            if arrays[0].stype != "row_sparse":
                warnings.warn(UserWarning("%s.stype is not 'row_sparse'. No need to perform row_sparse_pull." % name))
                continue
            self._kvstore.row_sparse_pull(self._kv_keys([i])[0], out=arrays, row_ids=[ids] * len(arrays),
                                          priority=-i)

    def _grad_req_all_write(self):
        """Whether every trained parameter's gradient is overwritten by backward ('write')."""
        req = getattr(self, "_grad_req", "write")
        if isinstance(req, str):
            return req == "write"
        values = req.values() if isinstance(req, dict) else req
        return all(r in ("write", "null") for r in values)

    def _kv_keys(self, indices):
        """kvstore keys of parameters: their names, except for a local kvstore running the
        Module's updater, whose keys are the updater's integer indices (its states and .states
        files then match a single-device Module's)."""
        kv = self._kvstore
        if kv is not None and kv._py_updater is not None:
            return list(indices)
        return [self._param_names[i] for i in indices]

    def get_outputs(self, merge_multi_context=True):
        """The outputs of the last forward pass.

        Parameters
        ----------
        merge_multi_context : bool, default True
            Concatenate the devices' outputs along each output's batch axis; False gives one list of
            per-device arrays per output.

        Returns
        -------
        list of NDArray (or of lists of NDArray)
            One array per symbol output.
        """
        return self._exec_group.get_outputs(merge_multi_context)

    def get_input_grads(self, merge_multi_context=True):
        """Gradients with respect to the data inputs (bind with ``inputs_need_grad=True``).

        Parameters
        ----------
        merge_multi_context : bool, default True
            Concatenate the devices' gradients (False: one list of per-device arrays per input).

        Returns
        -------
        list of NDArray
            One gradient per data input, in ``data_names`` order (None where grad_req is 'null').
        """
        if not self.inputs_need_grad:
            raise RuntimeError("get_input_grads: bind with inputs_need_grad=True")
        return self._exec_group.get_input_grads(merge_multi_context)

    def get_states(self, merge_multi_context=True):
        """The state inputs (``state_names``).

        Parameters
        ----------
        merge_multi_context : bool, default True
            Concatenate the devices' arrays (False: per-device lists).

        Returns
        -------
        list of NDArray
        """
        return self._exec_group.get_states(merge_multi_context)

    def set_states(self, states=None, value=None):
        """Set the state inputs from arrays or to a value.

        Parameters
        ----------
        states : list of NDArray or of per-device lists, optional
            New values (e.g. ``get_outputs(merge_multi_context=False)`` of a previous step).
        value : number, optional
            Fill every state with this value.
        """
        self._exec_group.set_states(states, value)

    def borrow_optimizer(self, shared_module):
        """Use another module's optimizer, updater and kvstore (bucketing shares one optimizer).

        Parameters
        ----------
        shared_module : Module
            A module whose optimizer is initialised.
        """
        if not shared_module.optimizer_initialized:
            raise RuntimeError("borrow_optimizer: the shared module has no optimizer yet")
        self._optimizer = shared_module._optimizer
        self._kvstore = shared_module._kvstore
        self._update_on_kvstore = shared_module._update_on_kvstore
        self._updater = shared_module._updater
        self.optimizer_initialized = True

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
        """Install an ``mx.mon.Monitor`` on the executors (call after ``bind``). It reports the
        forward outputs of every node and, at ``toc()``, the arguments and auxiliary states.

        Parameters
        ----------
        mon : Monitor
            The monitor.
        """
        if not self.binded:
            raise RuntimeError("install_monitor: call bind() first")
        self._exec_group.install_monitor(mon)
