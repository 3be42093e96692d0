"""Gluon blocks (MXNet 1.x ``mxnet.gluon.block``): Block, HybridBlock, SymbolBlock.

Hybridization
-------------
``HybridBlock.hybridize()`` traces ``hybrid_forward`` once with ``F = mx.sym`` on symbol variables
(inputs ``data`` or ``data0, data1, ...``; parameters by their full names) and binds the graph to
the core's executor, one binding per input-shape signature, sharing the parameters' own arrays
(so trainer updates and ``load_parameters`` are seen without copies).

Under ``autograd.record()`` the executor runs too: the whole call is taped as one autograd node
whose backward is the executor's backward (``mx_executor_forward_taped``), as MXNet's CachedOp.
Such a binding is busy until its call is back-propagated, so a block called several times in one
recording gets one binding per pending call. Higher-order gradients (create_graph) cannot pass a
hybridized block; call it un-hybridized for those.
"""
import json
import re
import threading
import warnings
import weakref
from collections import OrderedDict

import numpy as np

from .. import autograd
from .. import ndarray as nd
from .. import symbol as sym
from ..ndarray.ndarray import NDArray
from ..symbol import Symbol
from ..base import MXError
from .parameter import Parameter, ParameterDict, DeferredInitializationError

__all__ = ["Block", "HybridBlock", "SymbolBlock"]


def _named(err, layer):
    """The core's error with the innermost layer that raised it in front (`dense0: ...`), so the
    user sees which of their layers failed; outer blocks pass it through unchanged."""
    if getattr(err, "mx_layer", None):
        return err
    named = type(err)("%s: %s" % (layer, err))
    named.mx_layer = layer
    return named.with_traceback(err.__traceback__)


def _failing_layer(block, err):
    """The innermost descendant of a hybridized `block` whose graph node failed: the core names
    the node ('dense1_fwd'), which starts with that layer's prefix; `block` itself otherwise."""
    msg = str(err)
    best, best_depth, stack = block, 0, [(block, 0)]
    while stack:
        b, depth = stack.pop()
        if depth > best_depth and b.prefix and ("node '%s" % b.prefix) in msg:
            best, best_depth = b, depth
        stack.extend((c, depth + 1) for c in b._children.values())
    return best.name


class _NameCounter:
    """Global per-hint counter for top-level block prefixes ('dense0_', 'dense1_', ...)."""
    _tls = threading.local()

    @classmethod
    def get(cls, hint):
        c = getattr(cls._tls, "counter", None)
        if c is None:
            c = cls._tls.counter = {}
        n = c.get(hint, 0)
        c[hint] = n + 1
        return "%s%d" % (hint, n)


class _BlockScope:
    """The naming scope of a block: children created inside get prefixes parent_prefix + hint + n."""
    _current = threading.local()

    def __init__(self, block):
        # a weak reference: block -> scope -> block would be a cycle, and a block in a cycle
        # (with its executors' buffers) is freed only when the cyclic collector runs
        self._block_ref = weakref.ref(block)
        self._counter = {}
        self._old_scope = None

    @property
    def _block(self):
        return self._block_ref()

    @staticmethod
    def create(prefix, params, hint):
        current = getattr(_BlockScope._current, "value", None)
        if current is None:
            if prefix is None:
                prefix = _NameCounter.get(hint) + "_"
            if params is None:
                params = ParameterDict(prefix)
            else:
                params = ParameterDict(params.prefix, params)
            return prefix, params
        if prefix is None:
            count = current._counter.get(hint, 0)
            prefix = "%s%d_" % (hint, count)
            current._counter[hint] = count + 1
        if params is None:
            parent = current._block.params
            params = ParameterDict(parent.prefix + prefix, parent._shared)
        else:
            params = ParameterDict(params.prefix, params)
        return current._block.prefix + prefix, params

    def __enter__(self):
        if self._block._empty_prefix:
            return self
        self._old_scope = getattr(_BlockScope._current, "value", None)
        _BlockScope._current.value = self
        return self

    def __exit__(self, *exc):
        if self._block._empty_prefix:
            return
        _BlockScope._current.value = self._old_scope


def _gather_type_ctx_info(args):
    """(has_symbol, has_ndarray, set of contexts, first context) over (nested) inputs; None
    and other values are skipped, as MXNet's HybridBlock does before dispatching."""
    if isinstance(args, NDArray):
        return False, True, {args.context}, args.context
    if isinstance(args, Symbol):
        return True, False, set(), None
    has_sym = has_nd = False
    ctxs, first = set(), None
    if isinstance(args, (list, tuple)):
        for a in args:
            s, n, c, f = _gather_type_ctx_info(a)
            has_sym, has_nd = has_sym or s, has_nd or n
            ctxs |= c
            if first is None:
                first = f
    return has_sym, has_nd, ctxs, first


def _flatten(args, what):
    if isinstance(args, (NDArray, Symbol)):
        return [args], 0
    if args is None:
        return [None], -1
    if not isinstance(args, (list, tuple)):
        # ValueError as MXNet: a hybridized block's inputs are arrays (or None), not scalars
        raise ValueError("HybridBlock %s must be (nested) lists of Symbol or NDArray, got %s "
                         "of type %s" % (what, args, type(args).__name__))
    flat, fmts = [], []
    for a in args:
        f, fmt = _flatten(a, what)
        flat.extend(f)
        fmts.append(fmt)
    return flat, fmts


def _compatible_format(fmt, stored):
    """MXNet accepts a call whose input structure differs from the traced one only by trailing
    None inputs (arguments left at their default None)."""
    if not isinstance(fmt, list) or not isinstance(stored, list) or len(fmt) == len(stored):
        return False
    short, long_ = (fmt, stored) if len(fmt) < len(stored) else (stored, fmt)
    return long_[:len(short)] == short and all(f == -1 for f in long_[len(short):])


def _regroup(args, fmt):
    if isinstance(fmt, int):
        if fmt == 0:
            return args[0], args[1:]
        if fmt == -1:
            return None, args[1:]
        return args[:fmt], args[fmt:]
    ret = []
    for f in fmt:
        r, args = _regroup(args, f)
        ret.append(r)
    return ret, args


class Block:
    """Base class of all layers and models (MXNet 1.x ``gluon.Block``).

    Subclasses create child blocks and parameters in ``__init__`` (inside ``with self.name_scope():``)
    and compute in ``forward(*args)`` with ``mx.nd`` operations; assigning a Block or Parameter to an
    attribute registers it. A plain Block always runs imperatively; see :class:`HybridBlock` for
    layers that can be compiled into a graph.

    Parameters
    ----------
    prefix : str, optional
        Prefix of the names of this block's parameters and children (default: the class name in
        lower case and a counter, e.g. ``dense0_``).
    params : ParameterDict, optional
        Share these parameters instead of creating new ones.

    Example
    -------
    >>> class MLP(mx.gluon.Block):
    ...     def __init__(self, **kwargs):
    ...         super().__init__(**kwargs)
    ...         with self.name_scope():
    ...             self.hidden = mx.gluon.nn.Dense(8, activation="relu")
    ...             self.out = mx.gluon.nn.Dense(2)
    ...     def forward(self, x):
    ...         return self.out(self.hidden(x))
    >>> net = MLP()
    >>> net.initialize()
    >>> net(mx.nd.ones((3, 4))).shape
    (3, 2)
    """

    def __init__(self, prefix=None, params=None):
        self._empty_prefix = prefix == ""
        self._prefix, self._params = _BlockScope.create(prefix, params, self._alias())
        self._name = self._prefix[:-1] if self._prefix.endswith("_") else self._prefix
        self._scope = _BlockScope(self)
        self._children = OrderedDict()
        self._reg_params = OrderedDict()
        self._forward_hooks = OrderedDict()
        self._forward_pre_hooks = OrderedDict()

    def __repr__(self):
        s = "{name}(\n{modstr}\n)"
        modstr = "\n".join("  ({key}): {block}".format(key=key, block=_indent(repr(block), 2))
                           for key, block in self.__dict__.items() if isinstance(block, Block))
        if not modstr:
            return "%s()" % self.__class__.__name__
        return s.format(name=self.__class__.__name__, modstr=modstr)

    def __setattr__(self, name, value):
        d = self.__dict__
        if name in d:
            existing = d[name]
            if isinstance(existing, (Parameter, Block)) and not isinstance(value, type(existing)):
                raise TypeError("Changing attribute type for {name} from {type1} to {type2} is not "
                                "allowed.".format(name=name, type1=type(existing), type2=type(value)))
        if isinstance(value, Block) and "_children" in d:
            self.register_child(value, name)
        elif isinstance(value, Parameter) and "_reg_params" in d:
            if name in self._reg_params and self._reg_params[name] is not value:
                raise ValueError("Overriding Parameter attribute %s is not allowed. If you want to "
                                 "share parameters between blocks, please set 'params' at Block "
                                 "construction instead." % name)
            self._reg_params[name] = value
        object.__setattr__(self, name, value)

    def _alias(self):
        return self.__class__.__name__.lower()

    @property
    def prefix(self):
        """The prefix of this block's parameter and child names (e.g. ``'dense0_'``)."""
        return self._prefix

    @property
    def name(self):
        """The block's name: its prefix without the trailing underscore."""
        return self._name

    def name_scope(self):
        """`with self.name_scope():` creates children named under this block's prefix."""
        return self._scope

    @property
    def params(self):
        """This block's own ParameterDict (children not included)."""
        return self._params

    def collect_params(self, select=None):
        """A ParameterDict of this block's and all its children's parameters.

        Parameters
        ----------
        select : str, optional
            A regular expression matched against the full parameter names (e.g. ``'.*weight|.*bias'``);
            only matching parameters are returned.

        Returns
        -------
        ParameterDict
        """
        self._check_container_with_block()
        ret = ParameterDict(self._params.prefix)
        if not select:
            ret.update(self.params)
        else:
            pattern = re.compile(select)
            ret.update({name: value for name, value in self.params.items() if pattern.match(name)})
        for cld in self._children.values():
            ret.update(cld.collect_params(select=select))
        return ret

    def _check_container_with_block(self):
        """Warn about attributes that are lists, tuples or dicts holding Blocks that are not
        registered children: their parameters would be missed (as MXNet warns)."""
        children = set(id(c) for c in self._children.values())

        def unregistered(data):
            if isinstance(data, (list, tuple)):
                return any(unregistered(e) for e in data)
            if isinstance(data, dict):
                return any(unregistered(v) for v in data.values())
            return isinstance(data, Block) and id(data) not in children
        for k, v in self.__dict__.items():
            if isinstance(v, (list, tuple, dict)) and not (k.startswith("__") or k == "_children"):
                if unregistered(v):
                    warnings.warn('"%s.%s" is an unregistered container with Blocks. Note that '
                                  "Blocks inside the list, tuple or dict will not be registered "
                                  "automatically. Make sure to register them using "
                                  "register_child() or switching to nn.Sequential/"
                                  "nn.HybridSequential instead." % (self.__class__.__name__, k),
                                  stacklevel=3)

    def _collect_params_with_prefix(self, prefix=""):
        if prefix:
            prefix += "."
        ret = OrderedDict((prefix + key, val) for key, val in self._reg_params.items())
        for name, child in self._children.items():
            ret.update(child._collect_params_with_prefix(prefix + name))
        return ret

    def save_parameters(self, filename, deduplicate=False):
        """Save the parameters to a file, keyed by structural names (``'0.weight'``, ``'conv.bias'``).

        Parameters
        ----------
        filename : str
            Output path (MXNet's ``.params`` format, readable by ``nd.load``, R and Julia).
        deduplicate : bool, default False
            Save shared parameters once.
        """
        params = self._collect_params_with_prefix()
        if deduplicate:
            seen, arg_dict = {}, {}
            for k, v in params.items():
                if id(v) not in seen:
                    seen[id(v)] = k
                    arg_dict[k] = v._reduce()
        else:
            arg_dict = {k: v._reduce() for k, v in params.items()}
        nd.save(filename, arg_dict)

    def save_params(self, filename):
        """Deprecated alias of ``save_parameters`` (MXNet 1.x).

        Parameters
        ----------
        filename : str
            Output path.
        """
        warnings.warn("save_params is deprecated. Please use save_parameters.")
        self.collect_params().save(filename, strip_prefix=self.prefix)

    def load_parameters(self, filename, ctx=None, allow_missing=False, ignore_extra=False,
                        cast_dtype=False, dtype_source="current"):
        """Load parameters written by ``save_parameters`` (files of ``collect_params().save`` work too).

        Parameters
        ----------
        filename : str
            Path of the ``.params`` file.
        ctx : Context or list of Context, optional
            Where to place the parameters (default: ``mx.cpu()``).
        allow_missing : bool, default False
            Leave parameters missing from the file uninitialised instead of raising.
        ignore_extra : bool, default False
            Ignore arrays in the file that the block does not have instead of raising.
        cast_dtype, dtype_source : optional
            Cast loaded arrays to the parameters' dtype (``dtype_source='current'``) or keep the file's.
        """
        loaded = nd.load(filename)
        if not isinstance(loaded, dict):
            raise ValueError("%s holds an unnamed list of arrays, not named parameters" % filename)
        params = self._collect_params_with_prefix()
        if not loaded and not params:
            return
        if not any("." in k for k in loaded.keys()):
            # a file written by collect_params().save / save_params: full names
            del loaded
            self.collect_params().load(filename, ctx, allow_missing, ignore_extra, self.prefix,
                                       cast_dtype=cast_dtype, dtype_source=dtype_source)
            return
        if not allow_missing:
            # a shared parameter saved once (save_parameters(deduplicate=True)) is found under
            # any of its structural names
            names_of = {}
            for k, v in params.items():
                names_of.setdefault(id(v), []).append(k)
            for name, v in params.items():
                if not any(n in loaded for n in names_of[id(v)]):
                    raise ValueError("Parameter '%s' is missing in file '%s', which contains "
                                     "parameters: %s. Set allow_missing=True to ignore missing "
                                     "parameters." % (name, filename, _brief(loaded.keys())))
        for name in loaded:
            if not ignore_extra and name not in params:
                raise ValueError("Parameter '%s' loaded from file '%s' is not present in ParameterDict, "
                                 "which contains parameters %s. Set ignore_extra=True to ignore. "
                                 % (name, filename, _brief(params.keys())))
            if name in params:
                try:
                    params[name]._load_init(loaded[name], ctx, cast_dtype=cast_dtype,
                                            dtype_source=dtype_source)
                except ValueError as e:
                    raise ValueError("%s (structural name '%s')" % (e, name)) from None

    def load_params(self, filename, ctx=None, allow_missing=False, ignore_extra=False):
        """Deprecated alias of ``load_parameters`` (MXNet 1.x).

        Parameters
        ----------
        filename : str
            Path of the ``.params`` file.
        ctx : Context, optional
            Where to place the parameters.
        allow_missing, ignore_extra : bool, default False
            As in ``load_parameters``.
        """
        warnings.warn("load_params is deprecated. Please use load_parameters.")
        self.load_parameters(filename, ctx, allow_missing, ignore_extra)

    def register_child(self, block, name=None):
        """Register a child block (done automatically when a Block is assigned to an attribute).

        Parameters
        ----------
        block : Block
            The child.
        name : str, optional
            Its key among the children (default: its index).
        """
        if name is None:
            name = str(len(self._children))
        self._children[name] = block

    def register_forward_pre_hook(self, hook):
        """Register ``hook(block, inputs)`` to run before every forward call.

        Parameters
        ----------
        hook : callable
            Called with the block and the tuple of inputs.

        Returns
        -------
        handle
            ``handle.detach()`` removes the hook.
        """
        key = object()
        self._forward_pre_hooks[key] = hook
        return _HookHandle(self._forward_pre_hooks, key)

    def register_op_hook(self, callback, monitor_all=False):
        """Install ``callback(node_name, op_name, array)`` on the hybridized children (recursively):
        called for every operator output of their graphs after each call (MXNet 1.x API).

        Parameters
        ----------
        callback : callable
            Called with the output's name, the operator's name and the NDArray.
        monitor_all : bool, default False
            Also report every operator's inputs ('<node>_<input>'), before its outputs.
        """
        for cld in self._children.values():
            cld.register_op_hook(callback, monitor_all)

    def register_forward_hook(self, hook):
        """Register ``hook(block, inputs, outputs)`` to run after every forward call.

        Parameters
        ----------
        hook : callable
            Called with the block, the inputs and the outputs.

        Returns
        -------
        handle
            ``handle.detach()`` removes the hook.
        """
        key = object()
        self._forward_hooks[key] = hook
        return _HookHandle(self._forward_hooks, key)

    def apply(self, fn):
        """Call ``fn(block)`` on every child recursively, then on this block.

        Parameters
        ----------
        fn : callable
            Function of one Block.

        Returns
        -------
        Block
            This block.
        """
        for cld in self._children.values():
            cld.apply(fn)
        fn(self)
        return self

    def initialize(self, init=None, ctx=None, verbose=False, force_reinit=False):
        """Initialize all parameters (``collect_params().initialize``).

        Parameters
        ----------
        init : Initializer, optional
            Default initializer for parameters without their own (default ``mx.init.Uniform()``).
        ctx : Context or list of Context, optional
            Where to allocate the parameters (default ``mx.cpu()``).
        verbose : bool, default False
            Log which initializer each parameter gets.
        force_reinit : bool, default False
            Re-initialize parameters that are already initialized.
        """
        from .. import initializer
        if init is None:
            init = initializer.Uniform()
        self.collect_params().initialize(init, ctx, verbose, force_reinit)

    def hybridize(self, active=True, **kwargs):
        """Hybridize the HybridBlock children (a plain Block itself always runs imperatively).

        Parameters
        ----------
        active : bool, default True
            Turn hybridization on or off.
        **kwargs
            Passed to the children's ``hybridize`` (``static_alloc``, ``static_shape``).
        """
        for cld in self._children.values():
            cld.hybridize(active, **kwargs)

    def cast(self, dtype):
        """Cast all parameters (and children's) to a dtype.

        Parameters
        ----------
        dtype : str or numpy dtype
            E.g. ``'float64'``.
        """
        for child in self._children.values():
            child.cast(dtype)
        for _, param in self.params.items():
            param.cast(dtype)

    def zero_grad(self):
        """Set the gradients of all parameters to zero (before accumulating with ``grad_req='add'``)."""
        self.collect_params().zero_grad()

    def reset_ctx(self, ctx):
        """Move all parameters to other device(s).

        Parameters
        ----------
        ctx : Context or list of Context
            The new device(s).
        """
        self.collect_params().reset_ctx(ctx)

    def __call__(self, *args):
        for hook in self._forward_pre_hooks.values():
            hook(self, args)
        try:
            out = self.forward(*args)
        except MXError as e:
            raise _named(e, self.name) from None
        for hook in self._forward_hooks.values():
            hook(self, args, out)
        return out

    def forward(self, *args):
        """The computation of the block; override it in subclasses (call the block, not ``forward``).

        Parameters
        ----------
        *args : NDArray
            The inputs.
        """
        raise NotImplementedError

    def summary(self, *inputs):
        """Print each block's output shape and parameter count for one forward pass (also for
        a hybridized block: its children run imperatively for the summary).

        Parameters
        ----------
        *inputs : NDArray
            Example inputs (parameters must be initialized).
        """
        summary = OrderedDict()
        seen = set()
        hooks = []

        def _register(block):
            def _hook(block, _, outputs):
                outs = outputs if isinstance(outputs, (list, tuple)) else [outputs]
                if any(isinstance(o, Symbol) for o in outs):
                    return  # a symbolic trace (deferred shape inference), not the forward
                # 'Input' is the first entry, so the first layer is '<Class>-1' as in MXNet
                name = "%s-%d" % (block.__class__.__name__, len(summary))
                summary[name] = OrderedDict()
                outs = outputs if isinstance(outputs, (list, tuple)) else [outputs]
                summary[name]["output_shape"] = _shapes(outs)
                params = 0
                summary[name]["trainable"] = 0
                summary[name]["shared"] = 0
                for p in block._reg_params.values():
                    n = int(np.prod(p.shape)) if p.shape else 0
                    params += n
                    if p.grad_req != "null":
                        summary[name]["trainable"] += n
                    if id(p) in seen:
                        summary[name]["shared"] += n
                    else:
                        seen.add(id(p))
                summary[name]["n_params"] = params
            if not isinstance(block, (Sequential, HybridSequential)) or block is self:
                hooks.append(block.register_forward_hook(_hook))

        def _shapes(items):  # inputs and outputs may nest lists (an RNN's states)
            found = []
            for item in items:
                if isinstance(item, (list, tuple)):
                    found.extend(_shapes(item))
                elif isinstance(item, NDArray):
                    found.append(item.shape)
            return found

        summary["Input"] = OrderedDict(output_shape=_shapes(inputs), n_params=0,
                                       trainable=0, shared=0)
        # a hybridized block runs its cached graph and never calls its children: run them
        # imperatively for the summary (same numbers), then restore the hybridized state
        try:
            restore = _run_children_imperatively(self)
            self.apply(_register)
            self(*inputs)
            lines = ["-" * 80, "%25s  %42s %15s" % ("Layer (type)", "Output Shape", "Param #"),
                     "=" * 80]
            total = trainable = shared = 0
            for layer, s in summary.items():
                shape = s["output_shape"]
                shape = shape[0] if len(shape) == 1 else shape
                lines.append("%25s  %42s %15s" % (layer, str(shape), s["n_params"]))
                total += s["n_params"]
                trainable += s["trainable"]
                shared += s["shared"]
            lines += ["=" * 80, "Parameters in forward computation graph, duplicate included",
                      "   Total params: %d" % total, "   Trainable params: %d" % trainable,
                      "   Non-trainable params: %d" % (total - trainable),
                      "Shared params in forward computation graph: %d" % shared,
                      "Unique parameters in model: %d" % (total - shared), "-" * 80]
            print("\n".join(lines))
        finally:
            for h in hooks:
                h.detach()
            restore()


def _run_children_imperatively(block):
    """Switch every hybridized block under `block` to imperative calls; returns the function
    that restores their hybridized state."""
    hybrid = []
    block.apply(lambda b: hybrid.append((b, b._active))
                if isinstance(b, HybridBlock) and not isinstance(b, SymbolBlock) else None)
    for b, _ in hybrid:
        b._active = False

    def restore():
        for b, active in hybrid:
            b._active = active
    return restore


class _HookHandle:
    def __init__(self, hooks, key):
        self._hooks, self._key = hooks, key

    def detach(self):
        self._hooks.pop(self._key, None)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.detach()


def _indent(s, n):
    lines = s.split("\n")
    return "\n".join([lines[0]] + [" " * n + line for line in lines[1:]])


def _brief(names):
    names = list(names)
    s = ", ".join(names[:10])
    if len(names) > 10:
        s += ", ... (%d in all)" % len(names)
    return s


class _CachedGraph:
    """A traced graph bound to the core executor, one executor per input signature."""

    def __init__(self, inputs, out, out_fmt, params):
        self.input_names = [i.name for i in inputs]
        self.symbol = out
        self.out_fmt = out_fmt
        self.arg_names = out.list_arguments()
        self.aux_names = out.list_auxiliary_states()
        self.params = params  # full name -> Parameter
        unknown = [n for n in self.arg_names + self.aux_names
                   if n not in params and n not in self.input_names]
        if unknown:
            raise ValueError("the graph has inputs %s that are neither block inputs %s nor parameters"
                             % (unknown, self.input_names))
        self.execs = {}        # inference bindings, one per input signature
        self.train_execs = {}  # recorded bindings: signature -> list of (executor, param arrays)

    def _param_arrays(self, ctx):
        return [self.params[n].data(ctx) for n in self.arg_names if n not in self.input_names], \
               [self.params[n].data(ctx) for n in self.aux_names]

    def run(self, args, is_train):
        if autograd.is_recording():
            return self._run_taped(args, is_train)
        ctx = args[0].context
        key = (ctx, tuple((a.shape, a._code(), a.stype) for a in args))
        pargs, paux = self._param_arrays(ctx)
        ent = self.execs.get(key)
        if ent is None or any(a is not b for a, b in zip(ent[1], pargs + paux)):
            inputs = dict(zip(self.input_names, args))
            arrays, it = [], iter(pargs)
            for n in self.arg_names:
                if n in inputs:
                    arrays.append(_input_like(inputs[n], ctx))
                else:
                    arrays.append(next(it))
            ex = self.symbol.bind(ctx, arrays, grad_req="null", aux_states=paux)
            ent = (ex, pargs + paux)
            self.execs[key] = ent
        ex = ent[0]
        outs = ex.forward(is_train=is_train, **dict(zip(self.input_names, args)))
        return [o.copy() for o in outs]

    def _run_taped(self, args, is_train):
        """Under autograd.record(): the executor runs forward and the tape gets one node whose
        backward is the executor's backward (gradients for parameters and tracked inputs). A
        binding is busy until its recorded call is back-propagated, so a block called several
        times in one recording gets one binding per pending call."""
        ctx = args[0].context
        tracked = tuple(autograd._is_tracked(a) for a in args)
        wants = tuple(self.params[n].grad_req != "null" for n in self.arg_names if n not in self.input_names)
        key = (ctx, tuple((a.shape, a._code(), a.stype) for a in args), tracked, wants)
        pargs, paux = self._param_arrays(ctx)
        pool = [e for e in self.train_execs.get(key, []) if all(a is b for a, b in zip(e[1], pargs + paux))]
        self.train_execs[key] = pool
        ex = next((e[0] for e in pool if not e[0].busy), None)
        if ex is None:
            inputs = dict(zip(self.input_names, zip(args, tracked)))
            arrays, grads, reqs, it, pw = [], [], [], iter(pargs), iter(wants)
            for n in self.arg_names:
                gst = "default"
                if n in inputs:
                    a, want = inputs[n]
                    arrays.append(_input_like(a, ctx))
                else:
                    a, want = next(it), next(pw)
                    arrays.append(a)
                    gst = self.params[n].grad_stype
                # a Parameter(grad_stype='row_sparse') gets its gradient row_sparse (dot(csr, w),
                # Embedding(sparse_grad=True) compute it so; other values are converted)
                grads.append((nd.zeros(a.shape, ctx=ctx, dtype=a.dtype) if gst == "default" else
                              nd.sparse.zeros(gst, a.shape, ctx=ctx, dtype=a.dtype)) if want else None)
                reqs.append("write" if want else "null")
            ex = self.symbol.bind(ctx, arrays, args_grad=grads, grad_req=reqs, aux_states=paux)
            pool.append((ex, pargs + paux))
        feed = dict(zip(self.input_names, args))
        it = iter(pargs)
        inputs = [feed[n] if n in feed else next(it) for n in self.arg_names]
        return ex.forward_taped(is_train, inputs, range(len(inputs)))


def _input_like(a, ctx):
    """The array an input is bound to: its storage type (csr inputs reach the sparse kernels,
    e.g. dot(csr, dense)), shape and dtype."""
    if a.stype != "default":
        return nd.sparse.zeros(a.stype, a.shape, ctx=ctx, dtype=a.dtype)
    return nd.zeros(a.shape, ctx=ctx, dtype=a.dtype)


class HybridBlock(Block):
    """A Block whose computation can be compiled into a graph (MXNet 1.x ``gluon.HybridBlock``).

    Subclasses implement ``hybrid_forward(F, x, *args, **params)`` where ``F`` is ``mx.nd``
    (imperative) or ``mx.sym`` (after ``hybridize()``, the graph is traced once per input signature
    and run by the core's executor, for training too), and the block's parameters arrive as keyword
    arguments. ``export`` writes the traced graph as an MXNet checkpoint.

    Parameters
    ----------
    prefix : str, optional
        Prefix of parameter and child names.
    params : ParameterDict, optional
        Parameters to share.

    Example
    -------
    >>> class Scale(mx.gluon.HybridBlock):
    ...     def __init__(self, **kwargs):
    ...         super().__init__(**kwargs)
    ...         with self.name_scope():
    ...             self.s = self.params.get("s", shape=(1,), init=mx.init.One())
    ...     def hybrid_forward(self, F, x, s):
    ...         return F.broadcast_mul(x, s)
    >>> blk = Scale()
    >>> blk.initialize()
    >>> blk.hybridize()
    >>> blk(mx.nd.array([1, 2])).asnumpy()
    array([1., 2.], dtype=float32)
    """

    _inferring_by_running = False  # set while _infer_shape_by_running runs this block once

    def __init__(self, prefix=None, params=None):
        super().__init__(prefix=prefix, params=params)
        self._cached_graph = ()
        self._cached = None
        self._active = False
        self._flags = {}
        self._in_format = None
        self._out_format = None

    def __setattr__(self, name, value):
        super().__setattr__(name, value)
        if isinstance(value, HybridBlock) and "_cached" in self.__dict__:
            self._clear_cached_op()

    def register_child(self, block, name=None):
        """Register a child; a HybridBlock accepts only HybridBlock children.

        Parameters
        ----------
        block : HybridBlock
            The child.
        name : str, optional
            Its key among the children.
        """
        if not isinstance(block, HybridBlock):
            raise ValueError("Children of HybridBlock must also be HybridBlock, but %s has type %s. "
                             "If you are using Sequential, please try HybridSequential instead."
                             % (str(block), str(type(block))))
        super().register_child(block, name)
        if "_cached" in self.__dict__:
            self._clear_cached_op()

    def hybridize(self, active=True, static_alloc=False, static_shape=False, **kwargs):
        """Compile this block into a graph at its next call (or go back to imperative execution).

        Parameters
        ----------
        active : bool, default True
            Whether to hybridize.
        static_alloc, static_shape : bool, default False
            Accepted for MXNet compatibility (the executor always plans memory once per signature).
        **kwargs
            Ignored.
        """
        self._active = active
        self._flags = dict(static_alloc=static_alloc, static_shape=static_shape, **kwargs)
        self._clear_cached_op()
        super().hybridize(active, static_alloc=static_alloc, static_shape=static_shape, **kwargs)

    def _clear_cached_op(self):
        self._cached_graph = ()
        self._cached = None

    def register_op_hook(self, callback, monitor_all=False):
        """Install ``callback(node_name, op_name, array)``, called after each hybridized call for
        every operator output of the traced graph ('<node>_output'; with monitor_all, first each
        operator's inputs '<node>_<input>'), as MXNet's CachedOp op hook (symbol/_monitor.py). The
        children get the same hook (for when they run on their own).

        Parameters
        ----------
        callback : callable
            Called with the name, the operator's name and the NDArray.
        monitor_all : bool, default False
            Also report operator inputs.
        """
        self._op_hook = (callback, bool(monitor_all))
        for cld in self._children.values():
            cld._op_hook = self._op_hook

    def cast(self, dtype):
        """Cast the parameters to a dtype (the traced graph is rebuilt).

        Parameters
        ----------
        dtype : str or numpy dtype
            E.g. ``'float64'``.
        """
        self._clear_cached_op()
        super().cast(dtype)

    # ------------------------------------------------------------------ tracing
    def _get_graph(self, *args):
        if not self._cached_graph:
            flat, self._in_format = _flatten(list(args), "input")
            real = sum(a is not None for a in flat)
            if real == 0:
                raise ValueError("All args are None and we do not support such a case. Received "
                                 "args=%s" % (list(args),))
            inputs, cnt = [], 0
            for a in flat:  # inputs named data, or data0, data1, ... over the non-None ones
                if a is None:
                    inputs.append(None)
                    continue
                inputs.append(sym.var("data" if real == 1 else "data%d" % cnt))
                cnt += 1
            grouped, _ = _regroup(inputs, self._in_format)
            params = {k: v.var() for k, v in self._reg_params.items()}
            with self.name_scope():
                out = self.hybrid_forward(sym, *grouped, **params)
            out, self._out_format = _flatten(out, "output")
            self._cached_graph = ([i for i in inputs if i is not None],
                                  out[0] if len(out) == 1 else sym.Group(out))
        return self._cached_graph

    def _deferred_infer_shape(self, *args):
        try:
            self.infer_shape(*args)
        except NotImplementedError:
            raise
        except Exception as e:
            if self._inferring_by_running or not self._infer_shape_by_running(args):
                raise ValueError("Deferred initialization failed because shape cannot be inferred. %s"
                                 % e) from e

    def _infer_shape_by_running(self, args):
        """Some parameter shapes do not follow from the traced graph but a child block infers
        them itself when it runs (an RNN layer's input size, flattened into one parameter
        vector, inside a hybridized parent). Take what the graph gives, then run this block
        once imperatively in predict mode (no running-statistics update, no dropout) so every
        child completes its own parameters. True when all shapes are then known."""
        inputs, out = self._get_graph(*args)
        flat, _ = _flatten(list(args), "input")
        given = {i.name: a.shape for i, a in zip(inputs, [a for a in flat if a is not None])}
        arg_shapes, _, aux_shapes = out.infer_shape_partial(**given)
        found = dict(zip(out.list_arguments(), arg_shapes))
        found.update(zip(out.list_auxiliary_states(), aux_shapes))
        params = self.collect_params()
        for name, p in params.items():
            shape = found.get(name)
            if shape and all(d > 0 for d in shape):
                p.shape = shape
        restore = _run_children_imperatively(self)
        self._inferring_by_running = True
        try:
            with autograd.pause(train_mode=False):
                self.forward(*args)
        finally:
            self._inferring_by_running = False
            restore()
        return all(p.shape and all(d > 0 for d in p.shape) for p in params.values())

    def infer_shape(self, *args):
        """Fill in the unknown parameter shapes (deferred initialization) from example inputs.

        Parameters
        ----------
        *args : NDArray
            Inputs with the shapes the block will see.
        """
        inputs, out = self._get_graph(*args)
        flat, _ = _flatten(list(args), "input")
        flat = [a for a in flat if a is not None]
        shapes = {i.name: a.shape for i, a in zip(inputs, flat)}
        arg_shapes, _, aux_shapes = out._infer_shape_strict(**shapes)
        sdict = dict(zip(out.list_arguments(), arg_shapes))
        sdict.update(zip(out.list_auxiliary_states(), aux_shapes))
        for name, p in self.collect_params().items():
            if name in sdict:
                p.shape = sdict[name]

    def infer_type(self, *args):
        """Infer the parameters' dtypes from example inputs.

        Parameters
        ----------
        *args : NDArray
            Inputs with the dtypes the block will see.
        """
        pass

    def _build_cache(self, *args):
        inputs, out = self._get_graph(*args)
        params = dict(self.collect_params().items())
        self._cached = _CachedGraph(inputs, out, self._out_format, params)

    def _call_cached_op(self, *args):
        flat, fmt = _flatten(list(args), "input")
        if self._cached is None:
            self._build_cache(*args)
        if fmt != self._in_format and not _compatible_format(fmt, self._in_format):
            raise ValueError("The hybridized block %s was traced with %d inputs (format %s) but is now "
                             "called with %d (format %s). Call hybridize() again to retrace."
                             % (self.name, len(self._cached.input_names), self._in_format,
                                len([a for a in flat if a is not None]), fmt))
        args = [a for a in flat if a is not None]
        for a in args:
            if not isinstance(a, NDArray):
                raise ValueError("a hybridized block takes NDArrays, got %s" % type(a).__name__)
        try:
            try:
                outs = self._cached.run(args, autograd.is_training())
            except DeferredInitializationError:
                self._deferred_infer_shape(*args)
                for p in self._cached.params.values():
                    p._finish_deferred_init()
                outs = self._cached.run(args, autograd.is_training())
        except MXError as e:
            raise _named(e, _failing_layer(self, e)) from None
        hook = getattr(self, "_op_hook", None)
        if hook is not None and hook[0] is not None:
            from ..symbol._monitor import run_op_hook
            with autograd.pause(train_mode=autograd.is_training()):
                run_op_hook(self._cached, args, autograd.is_training(), hook[0], hook[1])
        ret, _ = _regroup(outs, self._out_format)
        return ret

    # ------------------------------------------------------------------ calls
    def forward(self, x, *args):
        """Run the block: through the traced graph when hybridized, else ``hybrid_forward(mx.nd, ...)``.

        Parameters
        ----------
        x : NDArray or Symbol
            The first input.
        *args : NDArray or Symbol
            Further inputs.
        """
        has_symbol, has_ndarray, ctx_set, first_ctx = _gather_type_ctx_info([x] + list(args))
        if has_symbol and has_ndarray:
            raise ValueError("In HybridBlock, we do not support mixed NDArrays and Symbols types "
                             "for the input. Please check the type of the args.")
        if not has_symbol and not has_ndarray:
            raise ValueError("In HybridBlock, there must be one NDArray or one Symbol in the "
                             "input. Please check the type of the args.")
        if has_ndarray:
            with first_ctx as ctx:
                if self._active:
                    if len(ctx_set) > 1:
                        raise ValueError("Find multiple contexts in the input: after "
                                         "hybridize() a HybridBlock supports one input context; "
                                         "found %s" % sorted(str(c) for c in ctx_set))
                    return self._call_cached_op(x, *args)
                try:
                    params = {k: v.data(ctx) for k, v in self._reg_params.items()}
                except DeferredInitializationError:
                    self._deferred_infer_shape(x, *args)
                    for _, v in self.params.items():
                        v._finish_deferred_init()
                    params = {k: v.data(ctx) for k, v in self._reg_params.items()}
                return self.hybrid_forward(nd, x, *args, **params)
        params = {k: v.var() for k, v in self._reg_params.items()}
        with self.name_scope():
            return self.hybrid_forward(sym, x, *args, **params)

    def hybrid_forward(self, F, x, *args, **kwargs):
        """The computation, written once for ``F = mx.nd`` and ``F = mx.sym``; override in subclasses.

        Parameters
        ----------
        F : module
            ``mx.nd`` or ``mx.sym``.
        x : NDArray or Symbol
            The first input.
        *args : NDArray or Symbol
            Further inputs.
        **kwargs : NDArray or Symbol
            The block's parameters, by name.
        """
        raise NotImplementedError

    def export(self, path, epoch=0, remove_amp_cast=True):
        """Save the traced graph and parameters as an MXNet checkpoint.

        Writes ``path-symbol.json`` and ``path-%04d.params`` (``arg:``/``aux:`` names, as MXNet), which
        ``SymbolBlock.imports``, ``mx.mod.Module.load``, R's ``mx.model.load`` and Julia's
        ``MX.load_checkpoint`` read. Call the hybridized block once first.

        Parameters
        ----------
        path : str
            Path prefix.
        epoch : int, default 0
            Epoch number in the ``.params`` file name.
        remove_amp_cast : bool, default True
            Accepted for MXNet compatibility.

        Returns
        -------
        (str, str)
            The symbol file and the parameter file written.
        """
        if not self._cached_graph:
            raise RuntimeError("Please first call block.hybridize() and then run forward with this "
                               "block at least once before calling export.")
        out = self._cached_graph[1]
        out.save("%s-symbol.json" % path)
        arg_names = set(out.list_arguments())
        aux_names = set(out.list_auxiliary_states())
        arg_dict = {}
        for name, param in self.collect_params().items():
            if name in arg_names:
                arg_dict["arg:%s" % name] = param._reduce()
            elif name in aux_names:
                arg_dict["aux:%s" % name] = param._reduce()
        nd.save("%s-%04d.params" % (path, epoch), arg_dict)
        return "%s-symbol.json" % path, "%s-%04d.params" % (path, epoch)


class SymbolBlock(HybridBlock):
    """A block that runs a symbol graph, e.g. one written by ``HybridBlock.export``.

    Parameters
    ----------
    outputs : Symbol or list of Symbol
        The graph's outputs.
    inputs : Symbol or list of Symbol
        The variables that are the block's inputs; every other argument becomes a parameter.
    params : ParameterDict, optional
        Parameters to share.

    Example
    -------
    >>> net = mx.gluon.nn.HybridSequential()
    >>> net.add(mx.gluon.nn.Dense(3))
    >>> net.initialize()
    >>> net.hybridize()
    >>> y = net(mx.nd.ones((2, 4)))
    >>> net.export("dense_example")
    ('dense_example-symbol.json', 'dense_example-0000.params')
    >>> back = mx.gluon.SymbolBlock.imports("dense_example-symbol.json", ["data"],
    ...                                     "dense_example-0000.params")
    >>> back(mx.nd.ones((2, 4))).shape
    (2, 3)
    """

    @staticmethod
    def imports(symbol_file, input_names, param_file=None, ctx=None, allow_missing=False,
                ignore_extra=False):
        """Load a SymbolBlock from a symbol file and (optionally) a parameter file.

        Parameters
        ----------
        symbol_file : str
            Path of ``prefix-symbol.json``.
        input_names : str or list of str
            Names of the input variables (e.g. ``'data'``).
        param_file : str, optional
            Path of the ``.params`` file (``arg:``/``aux:`` prefixes accepted).
        ctx : Context, optional
            Where to place the parameters.
        allow_missing, ignore_extra : bool, default False
            As in ``load_parameters``.

        Returns
        -------
        SymbolBlock
        """
        if isinstance(input_names, str):
            input_names = [input_names]
        output = sym.load(symbol_file)
        inputs = [sym.var(i) for i in input_names]
        ret = SymbolBlock(output, inputs)
        if param_file is not None:
            ret.collect_params().load(param_file, ctx=ctx, allow_missing=allow_missing,
                                      ignore_extra=ignore_extra, cast_dtype=True)
        return ret

    def __init__(self, outputs, inputs, params=None):
        super().__init__(prefix="", params=None)
        self._prefix = ""
        if isinstance(inputs, Symbol):
            inputs = [inputs] if len(inputs) == 1 else list(inputs)
        if isinstance(outputs, (list, tuple)):
            outputs = outputs[0] if len(outputs) == 1 else sym.Group(list(outputs))
        input_names = [i.name for i in inputs]
        arg_names = outputs.list_arguments()
        aux_names = outputs.list_auxiliary_states()
        for n in input_names:
            if n not in arg_names and n not in aux_names:
                warnings.warn("input '%s' is not used by the symbol (its arguments are %s)"
                              % (n, arg_names))
        attrs = outputs.attr_dict() if hasattr(outputs, "attr_dict") else {}
        for name in arg_names:
            if name in input_names:
                continue
            self._params.get(name, allow_deferred_init=True, **_var_attrs(attrs.get(name, {})))
        for name in aux_names:
            if name in input_names:
                continue
            self._params.get(name, grad_req="null", allow_deferred_init=True,
                             **_var_attrs(attrs.get(name, {})))
        if params is not None:
            for k, v in params.items():
                if k in self._params._params:
                    self._params._params[k] = v
        # full names double as structural names, so save/load_parameters work on a SymbolBlock
        for k, v in self._params.items():
            self._reg_params[k] = v
        self._cached_graph = (list(inputs), outputs)
        self._in_format = [0] * len(inputs) if len(inputs) > 1 else [0]
        self._out_format = [0] * len(outputs) if len(outputs) > 1 else 0
        self._active = True

    def forward(self, x, *args):
        """Run the graph on the inputs.

        Parameters
        ----------
        x : NDArray
            The first input.
        *args : NDArray
            Further inputs, in ``input_names`` order.
        """
        if isinstance(x, Symbol):
            # the graph with its input variables replaced by these symbols (MXNet composes too)
            flat, fmt = _flatten([x] + list(args), "input")
            if fmt != self._in_format:
                raise ValueError("SymbolBlock: input format %s does not match %s"
                                 % (fmt, self._in_format))
            ret = self._cached_graph[1](**{i.name: a for i, a in zip(self._cached_graph[0], flat)})
            out, _ = _regroup(list(ret), self._out_format)
            return out
        if not isinstance(x, NDArray):
            raise TypeError("SymbolBlock takes NDArrays, got %s" % type(x).__name__)
        n_in = len(self._cached_graph[0])
        if 1 + len(args) != n_in:
            raise ValueError("SymbolBlock expects %d inputs (%s), got %d" % (
                n_in, [i.name for i in self._cached_graph[0]], 1 + len(args)))
        with x.context:
            return self._call_cached_op(x, *args)

    def hybridize(self, active=True, **kwargs):
        """Run the graph through the executor (a SymbolBlock is a graph already).

        Parameters
        ----------
        active : bool, default True
            Whether to use the executor.
        **kwargs
            Ignored.
        """
        self._flags = kwargs

    def _clear_cached_op(self):
        self._cached = None

    def cast(self, dtype):
        """Cast the parameters to a dtype.

        Parameters
        ----------
        dtype : str or numpy dtype
            The new dtype.
        """
        self._clear_cached_op()
        for p in self._params.values():
            p.cast(dtype)

    def hybrid_forward(self, F, x, *args, **kwargs):
        """Evaluate the graph with ``F`` (used internally).

        Parameters
        ----------
        F : module
            ``mx.nd`` or ``mx.sym``.
        x : NDArray or Symbol
            The first input.
        *args, **kwargs
            Further inputs and the parameters.
        """
        raise NotImplementedError


def _var_attrs(attrs):
    kw = {}
    shape = attrs.get("__shape__")
    if shape:
        try:
            s = tuple(int(d) for d in shape.strip("()[] ").split(",") if d.strip())
            kw["shape"] = s
        except ValueError:
            pass
    dt = attrs.get("__dtype__")
    if dt is not None:
        try:
            from ..ndarray.ndarray import dtype_np
            kw["dtype"] = dtype_np(int(dt))
        except (ValueError, KeyError):
            pass
    return kw


# containers live here to avoid an import cycle with nn
class Sequential(Block):
    """Stacks Blocks sequentially: the output of each is the input of the next.

    Parameters
    ----------
    prefix : str, optional
        Prefix of the children's names.
    params : ParameterDict, optional
        Parameters to share.

    Example
    -------
    >>> net = mx.gluon.nn.Sequential()
    >>> net.add(mx.gluon.nn.Dense(8, activation="relu"), mx.gluon.nn.Dense(2))
    >>> net.initialize()
    >>> net(mx.nd.ones((3, 5))).shape
    (3, 2)
    """

    def __init__(self, prefix=None, params=None):
        super().__init__(prefix=prefix, params=params)

    def add(self, *blocks):
        """Append blocks to the sequence.

        Parameters
        ----------
        *blocks : Block
            The blocks, in order.
        """
        for block in blocks:
            self.register_child(block)

    def forward(self, x, *args):
        """Run the children in order.

        Parameters
        ----------
        x : NDArray
            The input of the first child.
        *args
            Extra inputs of the first child.
        """
        for block in self._children.values():
            x = block(x, *args)
            args = []
            if isinstance(x, (tuple, list)):
                args = x[1:]
                x = x[0]
        if args:
            x = tuple([x] + list(args))
        return x

    def __repr__(self):
        s = "{name}(\n{modstr}\n)"
        modstr = "\n".join("  ({key}): {block}".format(key=key, block=_indent(repr(block), 2))
                           for key, block in self._children.items())
        return s.format(name=self.__class__.__name__, modstr=modstr)

    def __getitem__(self, key):
        layers = list(self._children.values())[key]
        if isinstance(layers, list):
            net = type(self)(prefix=self._prefix)
            with net.name_scope():
                net.add(*layers)
            return net
        return layers

    def __len__(self):
        return len(self._children)

    def hybridize(self, active=True, **kwargs):
        """Hybridize the children (a warning names children that are not HybridBlocks).

        Parameters
        ----------
        active : bool, default True
            Whether to hybridize.
        **kwargs
            Passed to the children.
        """
        if self._children and all(isinstance(c, HybridBlock) for c in self._children.values()):
            warnings.warn("All children of this Sequential layer '%s' are HybridBlocks. Consider "
                          "using HybridSequential for the best performance." % self.prefix,
                          stacklevel=2)
        super().hybridize(active, **kwargs)


class HybridSequential(HybridBlock):
    """Stacks HybridBlocks sequentially; can be hybridized as a whole.

    Parameters
    ----------
    prefix : str, optional
        Prefix of the children's names.
    params : ParameterDict, optional
        Parameters to share.

    Example
    -------
    >>> net = mx.gluon.nn.HybridSequential()
    >>> net.add(mx.gluon.nn.Dense(8, activation="relu"), mx.gluon.nn.Dense(2))
    >>> net.initialize()
    >>> net.hybridize()
    >>> net(mx.nd.ones((3, 5))).shape
    (3, 2)
    """

    def __init__(self, prefix=None, params=None):
        super().__init__(prefix=prefix, params=params)

    def add(self, *blocks):
        """Append blocks to the sequence.

        Parameters
        ----------
        *blocks : HybridBlock
            The blocks, in order.
        """
        for block in blocks:
            self.register_child(block)

    def hybrid_forward(self, F, x, *args):
        """Run the children in order.

        Parameters
        ----------
        F : module
            ``mx.nd`` or ``mx.sym``.
        x : NDArray or Symbol
            The input of the first child.
        *args
            Extra inputs of the first child.
        """
        for block in self._children.values():
            x = block(x, *args)
            args = []
            if isinstance(x, (tuple, list)):
                args = x[1:]
                x = x[0]
        if args:
            x = tuple([x] + list(args))
        return x

    __repr__ = Sequential.__repr__
    __len__ = Sequential.__len__
    __getitem__ = Sequential.__getitem__
