"""gluon.Trainer (MXNet 1.x): applies an optimizer (run by the core) to a set of Parameters."""
from .. import ndarray as nd
from .. import optimizer as opt
from .parameter import Parameter, ParameterDict

__all__ = ["Trainer"]


def _grad_fresh(arr):
    """Whether backward wrote arr's gradient since the last step (kept by the core)."""
    return arr._fresh_grad


def _set_grad_fresh(arr, flag):
    arr._fresh_grad = flag


class Trainer:
    """Applies an optimizer to a set of Parameters (MXNet's ``gluon.Trainer``).

    ``step(batch_size)`` rescales the gradients by ``rescale_grad / batch_size``, reduces them over
    the parameters' contexts and updates every parameter whose ``grad_req`` is not ``'null'``. The
    optimizer itself runs in the core; ``save_states`` writes its state in MXNet's ``.states`` format
    (readable by R and Julia), not as a pickle.

    Parameters
    ----------
    params : ParameterDict, dict or list of Parameter
        The parameters to train, typically ``net.collect_params()``.
    optimizer : str or Optimizer
        An optimizer name (``'sgd'``, ``'adam'``, ...) or an ``mx.optimizer.Optimizer``.
    optimizer_params : dict, optional
        Arguments of the optimizer (``learning_rate``, ``momentum``, ``wd``, ...); must be None
        when ``optimizer`` is an instance.
    kvstore : str or KVStore, default 'device'
        'local'/'device' train in this process; 'dist_sync', 'dist_device_sync', 'horovod' (or
        an ``mx.kv`` KVStore of those types) sum gradients over the workers of a job started by
        ``python -m mx.tools.launch`` (allreduce over MPI) and broadcast rank 0's parameters
        when the Trainer is created (docs/distributed.md).
    compression_params : dict, optional
        Gradient compression for the kvstore, e.g. ``{'type': '2bit', 'threshold': 0.5}``.
    update_on_kvstore : bool, optional
        Run the optimizer on the kvstore (default True for dist types, as MXNet).

    Example
    -------
    >>> net = mx.gluon.nn.Dense(1)
    >>> net.initialize()
    >>> trainer = mx.gluon.Trainer(net.collect_params(), "sgd", {"learning_rate": 0.1})
    >>> x, y = mx.nd.ones((4, 2)), mx.nd.zeros((4, 1))
    >>> with mx.autograd.record():
    ...     loss = ((net(x) - y) ** 2).mean()
    >>> loss.backward()
    >>> trainer.step(batch_size=4)
    """

    def __init__(self, params, optimizer, optimizer_params=None, kvstore="device",
                 compression_params=None, update_on_kvstore=None):
        if isinstance(params, (dict, ParameterDict)):
            params = list(params.values())
        if not isinstance(params, (list, tuple)):
            raise ValueError("First argument must be a list or dict of Parameters, got %s."
                             % type(params))
        self._params = []
        self._param2idx = {}
        for i, param in enumerate(params):
            if not isinstance(param, Parameter):
                raise ValueError("First argument must be a list or dict of Parameters, got list of %s."
                                 % type(param))
            if param.name in self._param2idx:
                raise ValueError("Parameter '%s' is given to the Trainer twice" % param.name)
            self._param2idx[param.name] = i
            self._params.append(param)
            param._set_trainer(self)
        # MXNet: a row_sparse weight lives in the kvstore (updated there, read by row_sparse_pull)
        self._contains_sparse_weight = any(p._stype != "default" for p in self._params)
        self._contains_sparse_grad = any(p._grad_stype != "default" for p in self._params)
        optimizer_params = dict(optimizer_params or {})
        self._scale = float(optimizer_params.get("rescale_grad", 1.0))
        self._kvstore_params = {"kvstore": kvstore, "update_on_kvstore": update_on_kvstore}
        self._compression_params = compression_params
        self._kvstore = None
        self._update_on_kvstore = None
        self._distributed = False
        self._kv_initialized = False
        self._params_to_init = list(self._params)
        self._init_optimizer(optimizer, optimizer_params)
        kv_type = getattr(kvstore, "type", kvstore)
        if isinstance(kv_type, str) and ("dist" in kv_type or kv_type == "horovod"):
            # Distributed: create the store and broadcast rank 0's parameters now, so the first
            # forward pass of every worker already uses the same values (parameters whose
            # initialisation is deferred are broadcast at the first step).
            self._prepare()

    def _init_optimizer(self, optimizer, optimizer_params):
        param_dict = {i: param for i, param in enumerate(self._params)}
        if isinstance(optimizer, opt.Optimizer):
            if optimizer_params:
                raise ValueError("optimizer_params must be None if optimizer is an instance of "
                                 "Optimizer instead of str")
            self._optimizer = optimizer
            self._optimizer.param_dict = param_dict
            self._optimizer._sync_param_dict(list(param_dict))
        else:
            self._optimizer = opt.create(optimizer, param_dict=param_dict, **optimizer_params)
        self._updaters = [opt.get_updater(self._optimizer)]

    @property
    def learning_rate(self):
        """The optimizer's current learning rate."""
        if not isinstance(self._optimizer, opt.Optimizer):
            raise UserWarning("Optimizer has to be defined before its learning rate can be accessed.")
        return self._optimizer.learning_rate

    @property
    def optimizer(self):
        """The Optimizer instance this Trainer applies."""
        return self._optimizer

    def set_learning_rate(self, lr):
        """Set the learning rate of the optimizer (a learning-rate scheduler, if any, takes over again at
        the next update).

        Parameters
        ----------
        lr : float
            The new learning rate.
        """
        self._optimizer.set_learning_rate(lr)

    # ------------------------------------------------------------------ kvstore
    def _init_kvstore(self):
        """Create the kvstore as MXNet's Trainer does: none for one device and a non-dist
        type; update_on_kvstore defaults to True for dist types (MXNET_UPDATE_ON_KVSTORE)."""
        from ..kvstore import kvstore as kvs
        import os
        config = self._kvstore_params
        kv, want = config["kvstore"], config["update_on_kvstore"]
        ndev = 1
        for p in self._params:
            try:
                ndev = max(ndev, len(p.list_ctx()))
            except RuntimeError:
                pass  # not initialised yet: step() will name it
        if self._contains_sparse_weight:
            # As MXNet: sparse weights need a kvstore, and are updated on it.
            if want is False:
                raise ValueError("Cannot set update_on_kvstore=False when sparse weights are present.")
            if isinstance(kv, kvs.KVStore):
                store = kv
            elif isinstance(kv, str):
                store = kvs.create(kv)
            else:
                raise TypeError("Cannot create '%s' KVStore with row_sparse parameters. The type must "
                                "be KVStore or str." % (kv,))
            want = True
        elif kv is None:
            store = None
        elif isinstance(kv, kvs.KVStoreBase):
            store = kv
        elif isinstance(kv, str):
            store = None if (ndev == 1 and "dist" not in kv and kv != "horovod") else kvs.create(kv)
        else:
            raise TypeError("kvstore must be a KVStore, a str or None, got %r" % (kv,))
        if store is None:
            self._kvstore, self._update_on_kvstore, self._distributed = None, None, False
        elif not isinstance(store, kvs.KVStore):
            # a Python kvstore (KVStoreBase.register): it reduces; the optimizer runs here
            # unless the store says it can run one
            capable = store.is_capable(kvs.KVStoreBase.OPTIMIZER)
            if want and not capable:
                raise ValueError("Please set update_on_kvstore to False when training with %s"
                                 % type(store).__name__)
            update = capable if want is None else bool(want)
            self._distributed = False
            if update:
                store.set_optimizer(self._optimizer)
            self._kvstore, self._update_on_kvstore = store, update
        else:
            self._distributed = "dist" in store.type or store.type == "horovod"
            if self._contains_sparse_grad and not self._contains_sparse_weight:
                # As MXNet: dense weights with sparse gradients are updated here (sparse grads
                # pushed and pulled) on one machine, on the store when distributed.
                if want is False and self._distributed:
                    raise ValueError("Cannot set update_on_kvstore=False on dist kvstore when sparse "
                                     "gradients are present.")
                update = self._distributed
            else:
                update = bool(int(os.getenv("MXNET_UPDATE_ON_KVSTORE", "1")))
            if want is not None:
                update = bool(want)
            if self._compression_params:
                store.set_gradient_compression(self._compression_params)
            if update:
                store.set_optimizer(self._optimizer)
            self._kvstore, self._update_on_kvstore = store, update
        self._kv_initialized = True

    def _init_params(self):
        """Give every parameter's value to the kvstore; dist types broadcast rank 0's values,
        so all workers start from the same parameters."""
        pending, keys, vals, outs = [], [], [], []
        for param in self._params_to_init:
            if param._deferred_init:
                pending.append(param)
                continue
            data = param._check_and_get(param._data, list)
            if param._stype != "default":
                # The kvstore keeps the whole value; the arrays get rows by row_sparse_pull.
                self._kvstore.init(self._param2idx[param.name], data[0])
                continue
            keys.append(self._param2idx[param.name])
            vals.append(data[0])
            outs.append(data)
        if keys and self._kvstore is not None:
            if self._python_store():
                for k, v, o in zip(keys, vals, outs):
                    self._kvstore.broadcast(k, v, out=o)
            else:
                self._kvstore.broadcast(keys, vals, out=outs)
        self._params_to_init = pending

    def _row_sparse_pull(self, parameter, out, row_id, full_idx=False):
        """Rows `row_id` of a row_sparse parameter's value (kept in the kvstore) into `out`."""
        self._prepare()
        idx = self._param2idx[parameter.name]
        if full_idx and not self._distributed:
            self._kvstore.pull(idx, out=out, ignore_sparse=False)
        else:
            self._kvstore.row_sparse_pull(idx, out=out, row_ids=row_id)

    def _python_store(self):
        from ..kvstore import kvstore as kvs
        return self._kvstore is not None and not isinstance(self._kvstore, kvs.KVStore)

    def _reset_kvstore(self):
        """Forget the kvstore (MXNet does this when parameters are loaded while the optimizer
        runs on the store): the next step creates it again from the loaded values. The
        optimizer, and its states, are kept."""
        if self._kvstore is not None and "dist" in self._kvstore.type:
            raise RuntimeError("Cannot reset distributed KVStore.")
        self._kv_initialized = False
        self._kvstore = None
        self._distributed = None
        self._update_on_kvstore = None
        self._params_to_init = list(self._params)

    def _prepare(self):
        if not self._kv_initialized:
            self._init_kvstore()
        if self._params_to_init:
            self._init_params()

    def _check_and_rescale_grad(self, scale):
        # The kvstore shares the core optimizer (MXNet's dist servers held a pickled copy and
        # warned here), so a changed batch size simply takes effect. Set without reading: a read
        # fetches the core optimizer's whole state as JSON (about 0.2 ms, every step).
        self._optimizer.rescale_grad = scale

    def step(self, batch_size, ignore_stale_grad=False):
        """Make one optimization step: rescale, reduce and apply the gradients.

        Parameters
        ----------
        batch_size : int
            Gradients are divided by this (times ``rescale_grad``): pass the number of samples the
            loss was summed over (with a dist kvstore gradients are also summed over the workers:
            pass the global batch size).
        ignore_stale_grad : bool, default False
            Skip parameters whose gradient was not computed since the last step instead of raising.
        """
        self._check_and_rescale_grad(self._scale / batch_size)
        self._prepare()
        self._allreduce_grads()
        self._update(ignore_stale_grad)

    def allreduce_grads(self):
        """Sum the gradients over the parameters' contexts (for use with ``update``)."""
        self._prepare()
        if self._kvstore is not None and self._update_on_kvstore:
            raise AssertionError("allreduce_grads() when parameters are updated on kvstore is "
                                 "not supported. Try setting `update_on_kvstore` to False when "
                                 "creating trainer.")
        self._allreduce_grads()

    def _allreduce_grads(self):
        if self._kvstore is not None:
            # One fused call for all parameters: the core packs them into fusion buckets.
            # row_sparse weights are only pushed (updated in the kvstore, read by row_sparse_pull).
            keys, grads, outs, push_keys, push_grads = [], [], [], [], []
            for i, param in enumerate(self._params):
                if param.grad_req == "null" or param._data is None:
                    continue
                if param._stype != "default":
                    push_keys.append(i)
                    push_grads.append(param.list_grad())
                    continue
                keys.append(i)
                grads.append(param.list_grad())
                outs.append(param.list_data() if self._update_on_kvstore else param.list_grad())
            if (keys or push_keys) and self._update_on_kvstore and \
                    hasattr(self._optimizer, "_sync_param_dict"):
                # the store's core optimizer reads lr_mult/wd_mult it was given: pass the
                # parameters' current ones (they may change between steps, as in MXNet)
                self._optimizer._sync_param_dict(keys + push_keys)
            if push_keys:
                self._kvstore.push(push_keys, push_grads)
            if not keys:
                return
            # Gradients that backward overwrites ('write') can be reduced while backward runs
            # (the core overlaps; see KVStore.set_overlap); accumulated ones ('add') cannot.
            overlap = hasattr(self._kvstore, "_allreduce_grads") and all(
                self._params[k].grad_req == "write" for k in keys)
            if self._python_store():
                for k, g, o in zip(keys, grads, outs):
                    self._kvstore.pushpull(k, g, out=o, priority=-k)
            elif self._update_on_kvstore or not hasattr(self._kvstore, "allreduce"):
                if overlap:
                    self._kvstore._pushpull_grads(keys, grads, out=outs)
                else:
                    self._kvstore.pushpull(keys, grads, out=outs)
            elif overlap:
                self._kvstore._allreduce_grads(keys, grads)
            else:
                # The trainer updates its own weights: the gradients are reduced in place and
                # never copied into the store (nothing reads it back); row_sparse gradients
                # come back row_sparse.
                self._kvstore.allreduce(keys, grads)
            return
        for param in self._params:
            if param.grad_req == "null" or param._data is None:
                continue
            grads = param.list_grad()
            if len(grads) > 1:
                total = nd.add_n(*[g.as_in_context(grads[0].context) for g in grads])
                for g in grads:
                    total.copyto(g)

    def _overlap_sync(self):
        """Complete the gradient reductions a backward started (before anyone reads them)."""
        kv = self._kvstore
        if kv is not None and self._distributed and hasattr(kv, "_overlap_sync"):
            kv._overlap_sync()

    def update(self, batch_size, ignore_stale_grad=False):
        """Apply the gradients without reducing them first (call ``allreduce_grads`` before).

        Parameters
        ----------
        batch_size : int
            Gradients are divided by this (times ``rescale_grad``).
        ignore_stale_grad : bool, default False
            Skip parameters whose gradient is stale instead of raising.
        """
        self._prepare()
        if self._kvstore is not None and self._update_on_kvstore:
            raise AssertionError("update() when parameters are updated on kvstore is not "
                                 "supported. Try setting `update_on_kvstore` to False when "
                                 "creating trainer.")
        self._check_and_rescale_grad(self._scale / batch_size)
        self._update(ignore_stale_grad)

    def _update(self, ignore_stale_grad=False):
        """One optimizer call over all trainable parameters. With several contexts the gradients
        are already reduced: the first context's copy is updated (one optimizer state per
        parameter, in the core) and copied to the other contexts."""
        if self._kvstore is not None and self._update_on_kvstore:
            return  # the kvstore ran the optimizer in pushpull
        idx, ws, gs, replicas, fresh = [], [], [], [], []
        for i, param in enumerate(self._params):
            if param.grad_req == "null":
                continue
            if param._data is None:
                if ignore_stale_grad and param._deferred_init:
                    continue
                param.list_data()  # raises, naming the parameter
            data, grads = param.list_data(), param.list_grad()
            # As MXNet: a gradient no backward has written since the last step is stale. Raise
            # (UserWarning, MXNet's class) unless ignore_stale_grad, which skips the parameter.
            # Flags are cleared only after every parameter passed, so a refused step changes
            # nothing (MXNet cleared the ones checked before the stale one).
            stale = [d for d in data if not _grad_fresh(d)]
            if stale:
                if ignore_stale_grad:
                    continue
                raise UserWarning(
                    "Gradient of Parameter `%s` on context %s has not been updated by backward since "
                    "last `step`. This could mean a bug in your model that made it only use a subset "
                    "of the Parameters (Blocks) for this iteration. If you are intentionally only "
                    "using a subset, call step with ignore_stale_grad=True to suppress this warning "
                    "and skip updating of Parameters with stale gradient"
                    % (param.name, stale[0].context))
            fresh.extend(data)
            idx.append(i)
            ws.append(data[0])
            gs.append(grads[0])
            if len(data) > 1:
                replicas.append(data)
        for d in fresh:
            _set_grad_fresh(d, False)
        if idx:
            self._updaters[0](idx, gs, ws)
        for data in replicas:
            for other in data[1:]:
                data[0].copyto(other)

    def save_states(self, fname):
        """Save the optimizer state (momenta, update counts) to a file.

        Parameters
        ----------
        fname : str
            Output path; MXNet's ``.states`` format, which R and Julia load too.
        """
        self._updaters[0].save(fname)

    def load_states(self, fname):
        """Load an optimizer state written by ``save_states``.

        Parameters
        ----------
        fname : str
            Path of the state file.
        """
        self._updaters[0].load(fname)
        self._optimizer = self._updaters[0].optimizer
        self._optimizer.param_dict = {i: p for i, p in enumerate(self._params)}
