"""gluon.Trainer (MXNet 1.x): applies an optimizer (run by the core) to a set of Parameters."""
from .. import ndarray as nd
from .. import optimizer as opt
from .parameter import Parameter, ParameterDict

__all__ = ["Trainer"]


class Trainer:
    """Trainer(params, optimizer, optimizer_params=None, kvstore='device').

    step(batch_size) rescales gradients by 1/batch_size (times the user's rescale_grad), reduces
    them over contexts and updates every parameter whose grad_req is not 'null'. Optimizer states
    are saved with save_states in the core's language-neutral optimizer state file."""

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
        optimizer_params = dict(optimizer_params or {})
        self._scale = float(optimizer_params.get("rescale_grad", 1.0))
        self._kvstore_type = kvstore
        self._update_on_kvstore = update_on_kvstore
        self._compression_params = compression_params
        self._init_optimizer(optimizer, optimizer_params)

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
        if not isinstance(self._optimizer, opt.Optimizer):
            raise UserWarning("Optimizer has to be defined before its learning rate can be accessed.")
        return self._optimizer.learning_rate

    @property
    def optimizer(self):
        return self._optimizer

    def set_learning_rate(self, lr):
        self._optimizer.set_learning_rate(lr)

    def _check_and_rescale_grad(self, scale):
        if self._optimizer.rescale_grad != scale:
            self._optimizer.rescale_grad = scale

    def step(self, batch_size, ignore_stale_grad=False):
        """One update with gradients rescaled by rescale_grad / batch_size."""
        self._check_and_rescale_grad(self._scale / batch_size)
        self._allreduce_grads()
        self._update(ignore_stale_grad)

    def allreduce_grads(self):
        """Sum gradients over contexts (nothing to do with one context)."""
        self._allreduce_grads()

    def _allreduce_grads(self):
        for param in self._params:
            if param.grad_req == "null" or param._data is None:
                continue
            grads = param.list_grad()
            if len(grads) > 1:
                total = nd.add_n(*[g.as_in_context(grads[0].context) for g in grads])
                for g in grads:
                    total.copyto(g)

    def update(self, batch_size, ignore_stale_grad=False):
        """Like step, without the gradient reduction (after allreduce_grads)."""
        self._check_and_rescale_grad(self._scale / batch_size)
        self._update(ignore_stale_grad)

    def _update(self, ignore_stale_grad=False):
        """One optimizer call over all trainable parameters. With several contexts the gradients
        are already reduced: the first context's copy is updated (one optimizer state per
        parameter, in the core) and copied to the other contexts."""
        idx, ws, gs, replicas = [], [], [], []
        for i, param in enumerate(self._params):
            if param.grad_req == "null":
                continue
            if param._data is None:
                if ignore_stale_grad and param._deferred_init:
                    continue
                param.list_data()  # raises, naming the parameter
            data, grads = param.list_data(), param.list_grad()
            idx.append(i)
            ws.append(data[0])
            gs.append(grads[0])
            if len(data) > 1:
                replicas.append(data)
        if idx:
            self._updaters[0](idx, gs, ws)
        for data in replicas:
            for other in data[1:]:
                data[0].copyto(other)

    def save_states(self, fname):
        """Save the optimizer states (the core's optimizer state file, not pickle)."""
        self._updaters[0].save(fname)

    def load_states(self, fname):
        self._updaters[0].load(fname)
        self._optimizer = self._updaters[0].optimizer
        self._optimizer.param_dict = {i: p for i, p in enumerate(self._params)}
