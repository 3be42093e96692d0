"""BucketingModule: one Module per bucket key (e.g. sequence length), all sharing one set of
parameters, gradients and one optimizer (MXNet's mx.mod.BucketingModule)."""
import logging

from ..context import cpu
from .base_module import BaseModule
from .module import Module


class BucketingModule(BaseModule):
    """Modules for variable-sized inputs: ``sym_gen(bucket_key)`` gives the network for a key;
    each batch runs the module of its ``bucket_key`` (created on first use, sharing the default
    bucket's parameters).

    Parameters
    ----------
    sym_gen : callable
        ``sym_gen(bucket_key) -> (symbol, data_names, label_names)``.
    default_bucket_key : hashable
        The key of the bucket bound first (usually the largest); its module owns the parameters.
    logger : logging.Logger-like, default the ``logging`` module
        Receives the training log.
    context : Context or list of Context, default cpu()
        The device(s).
    work_load_list, fixed_param_names, state_names, group2ctxs, compression_params : optional
        As :class:`Module`.
    """

    def __init__(self, sym_gen, default_bucket_key=None, logger=logging, context=None, work_load_list=None,
                 fixed_param_names=None, state_names=None, group2ctxs=None, compression_params=None):
        super().__init__(logger=logger)
        if default_bucket_key is None:
            raise ValueError("BucketingModule: default_bucket_key must be given")
        if not callable(sym_gen):
            raise TypeError("BucketingModule: sym_gen must be callable, got %r" % (sym_gen,))
        self._sym_gen = sym_gen
        self._default_bucket_key = default_bucket_key
        self._module_kwargs = dict(logger=logger, context=context if context is not None else cpu(),
                                   work_load_list=work_load_list, fixed_param_names=fixed_param_names,
                                   state_names=state_names, group2ctxs=group2ctxs,
                                   compression_params=compression_params)
        sym, data_names, label_names = self._call_sym_gen(default_bucket_key)
        self._default_symbol = sym
        self._default_names = (data_names, label_names)
        self._buckets = {}
        self._curr_module = None
        self._curr_bucket_key = None
        self._arg_params = self._aux_params = None
        self._grad_req = "write"
        self._monitor = None

    def _call_sym_gen(self, key):
        from ..name import NameManager
        with NameManager():  # fresh automatic names per call, so every bucket names alike
            out = self._sym_gen(key)
        if not (isinstance(out, tuple) and len(out) == 3):
            raise ValueError("BucketingModule: sym_gen(%r) must return (symbol, data_names, label_names)" % (key,))
        sym, data_names, label_names = out
        return sym, list(data_names or []), list(label_names or [])

    def _make_module(self, key):
        sym, data_names, label_names = self._call_sym_gen(key)
        return Module(sym, data_names=data_names, label_names=label_names, **self._module_kwargs)

    # ------------------------------------------------------------------ properties
    def _current(self):
        if self._curr_module is None:
            raise RuntimeError("BucketingModule: call bind() first")
        return self._curr_module

    @property
    def default_bucket_key(self):
        return self._default_bucket_key

    @property
    def data_names(self):
        return self._curr_module.data_names if self.binded else self._default_names[0]

    @property
    def output_names(self):
        return self._curr_module.output_names if self.binded else self._default_symbol.list_outputs()

    @property
    def data_shapes(self):
        return self._current().data_shapes

    @property
    def label_shapes(self):
        return self._current().label_shapes

    @property
    def output_shapes(self):
        return self._current().output_shapes

    @property
    def symbol(self):
        """The current bucket's symbol (the default bucket's before bind)."""
        return self._curr_module.symbol if self._curr_module is not None else self._default_symbol

    # ------------------------------------------------------------------ binding
    def bind(self, data_shapes, label_shapes=None, for_training=True, inputs_need_grad=False, force_rebind=False,
             shared_module=None, grad_req="write"):
        """Bind the default bucket's module (the others are bound on first use).

        Parameters
        ----------
        data_shapes, label_shapes, for_training, inputs_need_grad, force_rebind, grad_req
            As :meth:`Module.bind`.
        shared_module : optional
            Not supported (must be None), as in MXNet.
        """
        if self.params_initialized and self._curr_module is not None:
            self._arg_params, self._aux_params = self.get_params()
        if force_rebind:
            self._buckets, self._curr_module, self._curr_bucket_key = {}, None, None
            self.binded = False
        if self.binded:
            self.logger.warning("Already bound, ignoring bind()")
            return
        if shared_module is not None:
            raise ValueError("BucketingModule.bind: shared_module is not supported")
        self.for_training, self.inputs_need_grad = for_training, inputs_need_grad
        self._grad_req = grad_req
        module = self._make_module(self._default_bucket_key)
        if self._arg_params is not None:  # loaded (BucketingModule.load) or kept across a rebind
            module._arg_params, module._aux_params = self._arg_params, self._aux_params
            module.params_initialized = True
        module.bind(data_shapes, label_shapes, for_training, inputs_need_grad, force_rebind=False,
                    shared_module=None, grad_req=grad_req)
        self._buckets = {self._default_bucket_key: module}
        self._curr_module, self._curr_bucket_key = module, self._default_bucket_key
        self.binded = True

    def switch_bucket(self, bucket_key, data_shapes, label_shapes=None):
        """Make `bucket_key`'s module current, creating and binding it (sharing the default
        bucket's parameters) if needed.

        Parameters
        ----------
        bucket_key : hashable
            The bucket.
        data_shapes, label_shapes : list of DataDesc or (name, shape)
            Its input shapes.
        """
        if not self.binded:
            raise RuntimeError("switch_bucket: call bind() first")
        if bucket_key not in self._buckets:
            default = self._buckets[self._default_bucket_key]
            if not default.params_initialized:
                raise RuntimeError("switch_bucket: initialise the parameters (init_params) before using other buckets")
            module = self._make_module(bucket_key)
            module.bind(data_shapes, label_shapes, self.for_training, self.inputs_need_grad, force_rebind=False,
                        shared_module=default, grad_req=self._grad_req)
            if self._monitor is not None:
                module.install_monitor(self._monitor)
            if self.optimizer_initialized:
                module.borrow_optimizer(default)
            self._buckets[bucket_key] = module
        self._curr_module, self._curr_bucket_key = self._buckets[bucket_key], bucket_key

    # ------------------------------------------------------------------ parameters
    def init_params(self, initializer=None, arg_params=None, aux_params=None, allow_missing=False, force_init=False,
                    allow_extra=False):
        """Initialise the shared parameters (see :meth:`Module.init_params`)."""
        if self.params_initialized and not force_init:
            return
        if not self.binded:
            raise RuntimeError("init_params: call bind() first")
        kw = {} if initializer is None else {"initializer": initializer}
        self._curr_module.init_params(arg_params=arg_params, aux_params=aux_params, allow_missing=allow_missing,
                                      force_init=force_init, allow_extra=allow_extra, **kw)
        self.params_initialized = True

    def get_params(self):
        """Copies of the shared parameters: (arg_params, aux_params)."""
        if self._curr_module is None:
            if self._arg_params is None:
                raise RuntimeError("get_params: parameters are not initialised")
            return ({k: v.copy() for k, v in self._arg_params.items()},
                    {k: v.copy() for k, v in (self._aux_params or {}).items()})
        return self._curr_module.get_params()

    def set_params(self, arg_params, aux_params, allow_missing=False, force_init=True, allow_extra=False):
        """Set the shared parameters (see :meth:`Module.set_params`)."""
        if not allow_missing:
            self.init_params(initializer=None, arg_params=arg_params, aux_params=aux_params,
                             allow_missing=allow_missing, force_init=force_init, allow_extra=allow_extra)
            return
        if self.params_initialized and not force_init:
            self.logger.warning("Parameters already initialized and force_init=False. set_params call ignored.")
            return
        self._current().set_params(arg_params, aux_params, allow_missing=allow_missing, force_init=force_init,
                                   allow_extra=allow_extra)
        self.params_initialized = True

    def get_states(self, merge_multi_context=True):
        return self._current().get_states(merge_multi_context)

    def set_states(self, states=None, value=None):
        self._current().set_states(states, value)

    # ------------------------------------------------------------------ optimizer
    def init_optimizer(self, kvstore="local", optimizer="sgd", optimizer_params=(("learning_rate", 0.01),),
                       force_init=False):
        """Create the optimizer on the current module; every bucket uses it."""
        if self.optimizer_initialized and not force_init:
            self.logger.warning("optimizer already initialized, ignoring init_optimizer()")
            return
        self._curr_module.init_optimizer(kvstore, optimizer, optimizer_params, force_init=force_init)
        for mod in self._buckets.values():
            if mod is not self._curr_module:
                mod.borrow_optimizer(self._curr_module)
        self.optimizer_initialized = True

    # ------------------------------------------------------------------ computation
    def prepare(self, data_batch, sparse_row_id_fn=None):
        """Switch to the batch's bucket ahead of forward, and pull the rows of row_sparse
        weights the batch needs (``sparse_row_id_fn``, see :meth:`Module.prepare`)."""
        self._switch_for(data_batch)
        self._curr_module.prepare(data_batch, sparse_row_id_fn=sparse_row_id_fn)

    def _switch_for(self, data_batch):
        key = getattr(data_batch, "bucket_key", None)
        if key is None:
            key = self._curr_bucket_key
        provide_data = getattr(data_batch, "provide_data", None)
        provide_label = getattr(data_batch, "provide_label", None)
        if key not in self._buckets and provide_data is None:
            raise ValueError("BucketingModule: a batch for the new bucket %r must carry provide_data" % (key,))
        self.switch_bucket(key, provide_data, provide_label)

    def forward(self, data_batch, is_train=None):
        """Run the batch's bucket forward (see :meth:`Module.forward`)."""
        if not (self.binded and self.params_initialized):
            raise RuntimeError("forward: bind the module and initialise its parameters first")
        self._switch_for(data_batch)
        self._curr_module.forward(data_batch, is_train=is_train)

    def backward(self, out_grads=None):
        self._current().backward(out_grads=out_grads)

    def update(self):
        """One optimizer step on the shared parameters from the current bucket's gradients."""
        if not self.optimizer_initialized:
            raise RuntimeError("update: call init_optimizer first")
        self._current().update()

    def get_outputs(self, merge_multi_context=True):
        return self._current().get_outputs(merge_multi_context)

    def get_input_grads(self, merge_multi_context=True):
        return self._current().get_input_grads(merge_multi_context)

    def update_metric(self, eval_metric, labels, pre_sliced=False, pad=None):
        self._current().update_metric(eval_metric, labels, pre_sliced, pad=pad)

    def install_monitor(self, mon):
        self._monitor = mon
        for mod in self._buckets.values():
            mod.install_monitor(mon)

    # ------------------------------------------------------------------ checkpoints
    def save_checkpoint(self, prefix, epoch, remove_amp_cast=False):
        """The default bucket's symbol and the shared parameters, as MXNet's checkpoint files."""
        self._buckets[self._default_bucket_key].save_checkpoint(prefix, epoch)

    @staticmethod
    def load(prefix, epoch, sym_gen=None, default_bucket_key=None, **kwargs):
        """A BucketingModule whose parameters come from ``prefix-%04d.params``."""
        from ..model import load_checkpoint
        _, args, auxs = load_checkpoint(prefix, epoch)
        mod = BucketingModule(sym_gen=sym_gen, default_bucket_key=default_bucket_key, **kwargs)
        mod._arg_params, mod._aux_params = args, auxs
        mod.params_initialized = True
        return mod
