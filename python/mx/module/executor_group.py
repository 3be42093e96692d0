"""mx.module.executor_group: one executor per device for data-parallel Modules (MXNet's
DataParallelExecutorGroup).

A batch is split along each input's batch axis (its layout's 'N', axis 0 by default) into one
slice per device, sized by the work load list; every executor holds its own copy of the
parameters. Outputs and input gradients are concatenated back along the outputs' batch axes.
Gradients are combined by the Module (through a kvstore), never here: this file only moves
arrays between devices and composes registered ops."""
import logging

import numpy as np

from .. import ndarray as nd
from ..io import DataDesc


def _split_batch(batch_size, work_load_list):
    """Slices of [0, batch_size), one per device, proportional to the work loads (the last one
    takes the rounding remainder), as MXNet splits a batch."""
    total = float(sum(work_load_list))
    sizes = [int(round(w * batch_size / total)) for w in work_load_list]
    sizes[-1] += batch_size - sum(sizes)
    slices, end = [], 0
    for n in sizes:
        begin = min(end, batch_size)
        end = min(begin + n, batch_size)
        if begin >= end:
            raise ValueError("executor group: a batch of %d cannot be split over %d devices (work loads %s): "
                             "some slices would be empty" % (batch_size, len(work_load_list), work_load_list))
        slices.append(slice(begin, end))
    return slices


def _descs(shapes):
    out = []
    for s in shapes or []:
        if isinstance(s, DataDesc):
            out.append(s)
        else:
            name, shape = s
            if not isinstance(shape, (tuple, list)) or not all(isinstance(d, (int, np.integer)) for d in shape):
                raise TypeError("bind: the shape of %r must be a tuple of ints, got %r" % (name, shape))
            out.append(DataDesc(name, tuple(shape)))
    return out


def _batch_axis(layout):
    return DataDesc.get_batch_axis(layout)


def _merge(arrays, axis):
    """One array from per-device pieces (on the first piece's device)."""
    if len(arrays) == 1:
        return arrays[0]
    ctx = arrays[0].context
    pieces = [a if a.context == ctx else a.as_in_context(ctx) for a in arrays]
    return nd.concat(*pieces, dim=axis)


class DataParallelExecutorGroup:
    """Executors of one symbol on several devices, each running a slice of every batch.

    Parameters
    ----------
    symbol : Symbol
        The network.
    contexts : list of Context
        One executor per context.
    workload : list of float
        Relative share of the batch for each context.
    data_shapes, label_shapes : list of DataDesc or (name, shape)
        Whole-batch shapes of the inputs.
    param_names : list of str
        Arguments that are parameters (copied to every device).
    for_training : bool
        Allocate parameter gradients.
    inputs_need_grad : bool
        Allocate data gradients.
    shared_group : DataParallelExecutorGroup, optional
        Share its parameter, gradient and auxiliary arrays (bucketing: one set of weights).
    logger : optional
        Accepted for MXNet compatibility.
    fixed_param_names : list of str, optional
        Parameters without gradients.
    grad_req : str or dict, default 'write'
        Gradient request for parameters and (inputs_need_grad) data; a dict gives one per name.
    state_names : list of str, optional
        Inputs set with set_states.
    group2ctxs : optional
        Accepted; MX places every node of an executor on that executor's device.
    """

    def __init__(self, symbol, contexts, workload, data_shapes, label_shapes, param_names, for_training,
                 inputs_need_grad, shared_group=None, logger=logging, fixed_param_names=None, grad_req="write",
                 state_names=None, group2ctxs=None):
        self.symbol = symbol
        self.contexts = list(contexts)
        self.workload = list(workload) if workload is not None else [1] * len(self.contexts)
        if len(self.workload) != len(self.contexts):
            raise ValueError("executor group: %d work loads for %d contexts" % (len(self.workload), len(self.contexts)))
        self.param_names = list(param_names)
        self.arg_names = symbol.list_arguments()
        self.aux_names = symbol.list_auxiliary_states()
        self.for_training = for_training
        self.inputs_need_grad = inputs_need_grad
        self.logger = logger
        self.fixed_param_names = list(fixed_param_names or [])
        self.state_names = list(state_names or [])
        self.grad_req = grad_req
        self.group2ctxs = group2ctxs
        self.execs = []
        self.bind_exec(data_shapes, label_shapes, shared_group)

    # ------------------------------------------------------------------ binding
    def _reqs(self, data_names):
        reqs = {}
        for n in self.arg_names:
            req = self.grad_req.get(n, "null") if isinstance(self.grad_req, dict) else self.grad_req
            if n in self.param_names:
                reqs[n] = req if (self.for_training and n not in self.fixed_param_names) else "null"
            else:
                reqs[n] = req if (self.inputs_need_grad and n in data_names) else "null"
        return reqs

    def bind_exec(self, data_shapes, label_shapes, shared_group=None, reshape=False):
        """(Re)create the executors for whole-batch input shapes. With reshape=True (or a
        shared_group) the parameter, gradient and auxiliary arrays are reused."""
        self.data_shapes = _descs(data_shapes)
        self.label_shapes = _descs(label_shapes) if label_shapes else None
        inputs = self.data_shapes + (self.label_shapes or [])
        self.data_names = [d.name for d in self.data_shapes]
        self.label_names = [d.name for d in (self.label_shapes or [])]
        self.batch_size = self.data_shapes[0].shape[_batch_axis(self.data_shapes[0].layout)]
        self.slices = _split_batch(self.batch_size, self.workload)
        self.data_layouts = [_batch_axis(d.layout) for d in self.data_shapes]
        self.label_layouts = [_batch_axis(d.layout) for d in (self.label_shapes or [])]
        reqs = self._reqs(self.data_names)
        source = self if reshape else shared_group
        if source is not None and len(source.execs) != len(self.contexts):
            raise ValueError("executor group: the shared group runs on %d devices, this one on %d"
                             % (len(source.execs), len(self.contexts)))
        types = {d.name: getattr(d, "dtype", np.float32) for d in inputs}
        execs = []
        for i, (ctx, sl) in enumerate(zip(self.contexts, self.slices)):
            shapes = {}
            for d in inputs:
                shape = list(d.shape)
                axis = _batch_axis(d.layout)
                if shape:
                    shape[axis] = sl.stop - sl.start
                shapes[d.name] = tuple(shape)
            shared = source.execs[i] if source is not None else None
            execs.append(self._bind_one(ctx, shapes, types, reqs, shared))
        self.execs = execs
        self._collect()

    def _bind_one(self, ctx, shapes, types, reqs, shared):
        arg_shapes, _, aux_shapes = self.symbol._infer_shape_strict(**shapes)
        arg_types, _, aux_types = self.symbol.infer_type(**types)
        args, grads, aux = {}, {}, {}
        # Arguments declared sparse (var(stype='csr'), e.g. LibSVMIter data; weights declared
        # row_sparse, whose rows Module.prepare pulls from the kvstore) are bound to sparse arrays,
        # so their ops run sparse kernels.
        from ..symbol.executor import _arg_stypes
        stypes = {n: st for n, st in _arg_stypes(self.symbol, self.arg_names, None).items()
                  if n not in self.param_names or st == "row_sparse"}
        for name, shape, dt in zip(self.arg_names, arg_shapes, arg_types):
            sarr = shared.arg_dict.get(name) if shared is not None else None
            if name in self.param_names and sarr is not None:
                if tuple(sarr.shape) != tuple(shape):
                    raise ValueError("executor group: shared parameter '%s' has shape %s but this symbol needs %s"
                                     % (name, tuple(sarr.shape), tuple(shape)))
                args[name] = sarr
                g = shared.grad_dict.get(name)
                if g is not None and reqs[name] != "null":
                    grads[name] = g
                    continue
            elif name in stypes:
                args[name] = nd.sparse.zeros(stypes[name], shape, ctx=ctx, dtype=dt)
            else:
                args[name] = nd.zeros(shape, ctx=ctx, dtype=dt)
            if reqs[name] != "null":
                grads[name] = nd.zeros(shape, ctx=ctx, dtype=dt)
        for name, shape, dt in zip(self.aux_names, aux_shapes, aux_types):
            sarr = shared.aux_dict.get(name) if shared is not None else None
            aux[name] = sarr if sarr is not None and tuple(sarr.shape) == tuple(shape) else \
                nd.zeros(shape, ctx=ctx, dtype=dt)
        ex = self.symbol.bind(ctx, args, args_grad=grads, grad_req=reqs, aux_states=aux)
        # Gradients inferred row_sparse (the weight of dot(csr, w), Embedding(sparse_grad=True))
        # get row_sparse arrays, as MXNet's: the optimizer then updates only their rows.
        return ex._with_sparse_grads([reqs[n] if n in grads else "null" for n in self.arg_names])

    def _collect(self):
        e = self.execs
        self.data_arrays = [[x.arg_dict[n] for x in e] for n in self.data_names]
        self.label_arrays = [[x.arg_dict[n] for x in e] for n in self.label_names] if self.label_names else None
        self.state_arrays = [[x.arg_dict[n] for x in e] for n in self.state_names]
        self.param_arrays = [[x.arg_dict[n] for x in e] for n in self.param_names]
        self.grad_arrays = [[x.grad_dict.get(n) for x in e] for n in self.param_names]
        self.aux_arrays = [[x.aux_dict[n] for x in e] for n in self.aux_names]
        self.input_grad_arrays = [[x.grad_dict.get(n) for x in e] for n in self.data_names] \
            if self.inputs_need_grad else None
        outs = self.symbol.list_outputs()
        self.output_layouts = [_batch_axis(self.symbol[i].attr("__layout__")) for i in range(len(outs))]

    def reshape(self, data_shapes, label_shapes):
        """New executors for new whole-batch shapes, keeping the parameters."""
        if _descs(data_shapes) == self.data_shapes and (_descs(label_shapes) if label_shapes else None) == \
                self.label_shapes:
            return
        self.bind_exec(data_shapes, label_shapes, reshape=True)

    # ------------------------------------------------------------------ parameters
    def set_params(self, arg_params, aux_params, allow_extra=False):
        """Copy the given values to every device."""
        for x in self.execs:
            x.copy_params_from(arg_params, aux_params, allow_extra_params=allow_extra)

    def get_params(self, arg_params, aux_params):
        """Write the current values (the first device's; all devices hold the same after an
        update) into the given dicts' arrays."""
        for name, block in zip(self.param_names, self.param_arrays):
            block[0].copyto(arg_params[name])
        for name, block in zip(self.aux_names, self.aux_arrays):
            block[0].copyto(aux_params[name])

    # ------------------------------------------------------------------ computation
    @staticmethod
    def _load(sources, targets, axes, slices):
        for src, dst_list, axis in zip(sources, targets, axes):
            if isinstance(src, (list, tuple)):  # already one array per device
                for s, d in zip(src, dst_list):
                    s.copyto(d)
                continue
            if not isinstance(src, nd.NDArray):
                src = nd.array(src)
            if len(dst_list) == 1:
                src.copyto(dst_list[0])
                continue
            for sl, d in zip(slices, dst_list):
                nd.slice_axis(src, axis=axis, begin=sl.start, end=sl.stop).copyto(d)

    def forward(self, data_batch, is_train=None):
        """Split the batch over the devices and run every executor forward."""
        if is_train is None:
            is_train = self.for_training
        self._load(data_batch.data, self.data_arrays, self.data_layouts, self.slices)
        if self.label_arrays is not None and data_batch.label:
            self._load(data_batch.label, self.label_arrays, self.label_layouts, self.slices)
        for x in self.execs:
            x.forward(is_train=is_train)

    def backward(self, out_grads=None):
        """Back-propagate on every device (out_grads: whole-batch head gradients, split here)."""
        if not self.for_training:
            raise RuntimeError("backward: the executors were bound with for_training=False")
        if out_grads is not None and not isinstance(out_grads, (list, tuple)):
            out_grads = [out_grads]
        for i, (x, sl) in enumerate(zip(self.execs, self.slices)):
            grads = None
            if out_grads is not None:
                grads = []
                for g, axis in zip(out_grads, self.output_layouts):
                    if len(self.execs) > 1:
                        g = nd.slice_axis(g, axis=axis, begin=sl.start, end=sl.stop)
                    grads.append(g.as_in_context(self.contexts[i]))
            x.backward(out_grads=grads)

    def get_outputs(self, merge_multi_context=True, begin=0, end=None):
        """Outputs: merged along their batch axes, or one list of per-device arrays per output."""
        n = len(self.execs[0].outputs)
        end = n if end is None else end
        outs = [[x.outputs[i] for x in self.execs] for i in range(begin, end)]
        if merge_multi_context:
            return [_merge(o, axis) for o, axis in zip(outs, self.output_layouts[begin:end])]
        return outs

    def get_states(self, merge_multi_context=True):
        """The state inputs (per device, or merged along axis 0)."""
        if merge_multi_context:
            return [_merge(s, 0) for s in self.state_arrays]
        return self.state_arrays

    def set_states(self, states=None, value=None):
        """Set the state inputs from arrays (per device lists, as get_outputs(False) gives) or a value."""
        if states is not None:
            if value is not None:
                raise ValueError("set_states: give states or value, not both")
            self._load(states, self.state_arrays, [0] * len(states), self.slices)
        else:
            for block in self.state_arrays:
                for a in block:
                    a[:] = value

    def get_input_grads(self, merge_multi_context=True):
        """Gradients of the data inputs (None where grad_req is 'null')."""
        if not self.inputs_need_grad:
            raise RuntimeError("get_input_grads: bind with inputs_need_grad=True")
        if not merge_multi_context:
            return self.input_grad_arrays
        return [None if any(g is None for g in block) else _merge(block, axis)
                for block, axis in zip(self.input_grad_arrays, self.data_layouts)]

    def get_output_shapes(self):
        """(name, whole-batch shape) per output."""
        outs = self.get_outputs()
        return list(zip(self.symbol.list_outputs(), [tuple(o.shape) for o in outs]))

    def install_monitor(self, mon):
        for x in self.execs:
            mon.install(x)
