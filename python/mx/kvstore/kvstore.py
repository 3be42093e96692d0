"""mx.kvstore.KVStore (MXNet 1.9's API) over the core's KVStore (libmx mx_kvstore_*).

Keys are ints or strings (not mixed, as in MXNet); the core sees them as text. Reductions,
optimizer updates, gradient compression and the MPI transport all run in the core."""
import atexit
import json
import os
import weakref

from ..base import check_call, ffi, lib, py_str, c_str
from ..ndarray.ndarray import NDArray

# Looked up once: a lookup on the library from __del__ can run inside cffi's own lock (ABI
# mode, MX_LIBRARY) when the garbage collector fires there, and deadlock.
_mx_kvstore_free = lib.mx_kvstore_free

__all__ = ["KVStore", "KVStoreBase", "create", "nccl_status"]


def nccl_status():
    """(available, message): whether NCCL, which the dist types use for GPU arrays, can be
    loaded, and "NCCL 2.x.y (path)" or why not (what to install, MX_NCCL_LIBRARY)."""
    ok = ffi.new("int *")
    msg = ffi.new("const char **")
    check_call(lib.mx_kvstore_nccl_status(ok, msg))
    return bool(ok[0]), py_str(ffi.string(msg[0]))


class KVStoreBase:
    """MXNet's capability constants and registry of Python-defined kvstores."""
    OPTIMIZER = "optimizer"
    kv_registry = {}

    @staticmethod
    def register(klass):
        name = klass.__name__.lower()
        KVStoreBase.kv_registry[name] = klass
        return klass


def _key_str(k):
    if isinstance(k, bool) or not isinstance(k, (int, str)):
        raise TypeError("kvstore keys must be int or str, got %r" % (k,))
    return str(k)


def _check_arrays(vals, what):
    for v in vals:
        if not isinstance(v, NDArray):
            raise TypeError("kvstore %s: values must be mx.nd.NDArray, got %s"
                            % (what, type(v).__name__))
    return vals


def _flatten(key, value, what):
    """(keys, arrays) for the core, MXNet's conventions: one key with an array or a list of
    arrays (summed), or a list of keys with one array or list of arrays each."""
    if isinstance(key, (list, tuple)):
        keys = list(key)
        if not keys:
            return [], []
        kinds = {isinstance(k, str) for k in keys}
        if len(kinds) > 1:
            raise TypeError("kvstore %s: keys mix int and str (%r); MXNet forbids it" % (what, keys))
        if not isinstance(value, (list, tuple)) or len(value) != len(keys):
            raise ValueError("kvstore %s: %d keys need a list of %d values, got %r"
                             % (what, len(keys), len(keys), type(value).__name__))
        out_k, out_v = [], []
        for k, v in zip(keys, value):
            vs = list(v) if isinstance(v, (list, tuple)) else [v]
            _check_arrays(vs, what)
            out_k += [_key_str(k)] * len(vs)
            out_v += vs
        return out_k, out_v
    vs = list(value) if isinstance(value, (list, tuple)) else [value]
    _check_arrays(vs, what)
    return [_key_str(key)] * len(vs), vs


def _c_lists(keys, arrays):
    ckeys = [ffi.new("char[]", c_str(k)) for k in keys]  # kept alive by the caller's frame
    return (len(keys), ffi.new("const char *[]", ckeys), ckeys,
            ffi.new("mx_ndarray_t[]", [a.handle for a in arrays]))


class KVStore(KVStoreBase):
    """A key-value store for data-parallel training: push sums values (over arrays and, for
    the dist types, over workers by allreduce on MPI); pull reads the stored value."""

    def __init__(self, handle, type_name=None):
        self.handle = handle
        self._type_name = type_name   # the name it was created with, when an alias of a core type
        self._keys = []               # keys initialised in the core, in order
        self._meta = {}               # their (shape, dtype)
        self._py_updater = None          # a Python updater set with _set_updater
        self._py_store = {}           # its weights: key -> NDArray
        self._grad_keys = set()       # shadow keys in the core holding reduced gradients
        self._optimizer = None

    def __del__(self):
        h = getattr(self, "handle", None)
        if h is not None:
            _mx_kvstore_free(h)
            self.handle = None

    # ------------------------------------------------------------------ properties
    @property
    def _updater(self):
        """MXNet's kvstore._updater: the Python updater given to _set_updater, or (after
        set_optimizer) an Updater over the core optimizer the store runs, for its ``optimizer``
        and ``states``; None when the store only reduces."""
        if self._py_updater is not None:
            return self._py_updater
        if self._optimizer is None:
            return None
        if getattr(self, "_core_updater", None) is None or \
                self._core_updater.optimizer is not self._optimizer:
            from ..optimizer import get_updater
            self._core_updater = get_updater(self._optimizer)
        return self._core_updater

    @property
    def type(self):
        if self._type_name is not None:
            return self._type_name
        out = ffi.new("const char **")
        check_call(lib.mx_kvstore_type(self.handle, out))
        return py_str(out[0])

    @property
    def rank(self):
        out = ffi.new("int *")
        check_call(lib.mx_kvstore_rank(self.handle, out))
        return out[0]

    @property
    def num_workers(self):
        out = ffi.new("int *")
        check_call(lib.mx_kvstore_num_workers(self.handle, out))
        return out[0]

    def _config(self):
        out = ffi.new("const char **")
        check_call(lib.mx_kvstore_config(self.handle, out))
        return json.loads(py_str(out[0]))

    def is_capable(self, capability):
        if capability.lower() == KVStoreBase.OPTIMIZER:
            return True
        raise ValueError("Unknown capability: {}".format(capability))

    # ------------------------------------------------------------------ core calls
    def _call2(self, fn, keys, vals, okeys, outs, priority):
        n, ck, keep1, cv = _c_lists(keys, vals)
        m, cok, keep2, co = _c_lists(okeys, outs)
        check_call(fn(self.handle, n, ck, cv, m, cok, co, int(priority)))

    def init(self, key, value):
        """Initialise keys (dist: rank 0's values go to every worker)."""
        keys, vals = _flatten(key, value, "init")
        if self._py_updater is not None:
            for k, v in zip(keys, vals):
                self._py_store[k] = v.copy()
        n, ck, keep, cv = _c_lists(keys, vals)
        check_call(lib.mx_kvstore_init(self.handle, n, ck, cv))
        for k, v in zip(keys, vals):
            if k not in self._meta:
                self._keys.append(k)
                self._meta[k] = (v.shape, v.dtype)
        if self._py_updater is not None:
            self.pull(keys, out=[self._py_store[k] for k in keys], ignore_sparse=False)

    def push(self, key, value, priority=0):
        """Sum the values of each key over arrays and workers; update or replace the stored value."""
        keys, vals = _flatten(key, value, "push")
        if self._py_updater is not None:
            return self._push_python_updater(keys, vals)
        n, ck, keep, cv = _c_lists(keys, vals)
        check_call(lib.mx_kvstore_push(self.handle, n, ck, cv, int(priority)))

    def pull(self, key, out=None, priority=0, ignore_sparse=True):
        """Copy stored values into `out` (an array or list of arrays per key). With
        ``ignore_sparse`` (the default, as MXNet) row_sparse outputs are left as they are: their
        rows come from row_sparse_pull."""
        if out is None:
            raise ValueError("kvstore pull: out must be given (an NDArray or list of NDArrays)")
        keys, outs = _flatten(key, out, "pull")
        if ignore_sparse:
            kept = [(k, o) for k, o in zip(keys, outs) if o.stype != "row_sparse"]
            keys, outs = [k for k, _ in kept], [o for _, o in kept]
            if not keys:
                return
        if self._py_updater is not None:
            for k, o in zip(keys, outs):
                if k not in self._py_store:
                    raise ValueError("kvstore pull: key '%s' has not been initialised" % k)
                self._py_store[k].copyto(o)
            return
        n, ck, keep, co = _c_lists(keys, outs)
        check_call(lib.mx_kvstore_pull(self.handle, n, ck, co, int(priority)))

    def pushpull(self, key, value, out=None, priority=0):
        """push then pull in one call; with out=None the values receive the result (in place)."""
        self._pushpull_by(lib.mx_kvstore_pushpull, key, value, out, priority)

    def _pushpull_by(self, c_function, key, value, out, priority):
        if out is None:
            out = value
        keys, vals = _flatten(key, value, "pushpull")
        okeys, outs = _flatten(key, out, "pushpull")
        if self._py_updater is not None:
            self._push_python_updater(keys, vals)
            return self.pull(key, out=out, ignore_sparse=False)
        self._call2(c_function, keys, vals, okeys, outs, priority)

    def allreduce(self, key, value, priority=0):
        """Sum each key's arrays over the arrays given and over workers, in place (Horovod's
        ``allreduce_``). Keys must be initialised; the stored values stay as they are, so unlike
        ``pushpull`` nothing is copied into the store and no optimizer runs. This is what a
        trainer that updates its own weights calls each step."""
        keys, vals = _flatten(key, value, "allreduce")
        n, ck, keep, cv = _c_lists(keys, vals)
        check_call(lib.mx_kvstore_allreduce(self.handle, n, ck, cv, int(priority)))

    def _allreduce_grads(self, key, value, priority=0):
        """``allreduce`` of gradient arrays that backward writes, called once per step: from the
        second call on, the next backward's gradients are reduced while backward still runs
        (see ``set_overlap``); same results as ``allreduce``."""
        keys, vals = _flatten(key, value, "allreduce")
        n, ck, keep, cv = _c_lists(keys, vals)
        check_call(lib.mx_kvstore_allreduce_grads(self.handle, n, ck, cv, int(priority)))

    def _pushpull_grads(self, key, value, out=None, priority=0):
        """``pushpull`` of gradient arrays that backward writes, overlapped like
        ``_allreduce_grads``."""
        self._pushpull_by(lib.mx_kvstore_pushpull_grads, key, value, out, priority)

    def _overlap_sync(self):
        """Finish the reductions a backward started (gradients then hold the sums)."""
        check_call(lib.mx_kvstore_overlap_sync(self.handle))

    def set_overlap(self, flag):
        """Reduce gradients while backward runs (dist types; default off, or the environment
        variable MX_KVSTORE_OVERLAP=1 for on). Set it alike on every worker. With it on,
        gradients read after backward (``Parameter.grad()``) are already summed over workers."""
        check_call(lib.mx_kvstore_set_config(self.handle, b"overlap",
                                             b"true" if flag else b"false"))

    def broadcast(self, key, value, out, priority=0):
        """Initialise with `value` (rank 0's, for dist types) and pull it into `out`."""
        keys, vals = _flatten(key, value, "broadcast")
        okeys, outs = _flatten(key, out, "broadcast")
        if self._py_updater is not None:
            self.init(key, value)
            return self.pull(key, out=out, ignore_sparse=False)
        self._call2(lib.mx_kvstore_broadcast, keys, vals, okeys, outs, priority)

    def row_sparse_pull(self, key, out=None, priority=0, row_ids=None):
        """Pull only the rows `row_ids` (an NDArray, or a list matching `out`) of each key's stored
        value into `out` (RowSparseNDArray; other rows are absent)."""
        if out is None or row_ids is None:
            raise ValueError("kvstore row_sparse_pull: out and row_ids must be given")
        if self._py_updater is not None:
            raise ValueError("kvstore row_sparse_pull: not available with a Python updater")
        keys, outs = _flatten(key, out, "row_sparse_pull")
        if isinstance(row_ids, (list, tuple)):
            # one per output, possibly nested per key as the outputs are
            ids = [r for item in row_ids for r in (item if isinstance(item, (list, tuple)) else [item])]
        else:
            ids = [row_ids] * len(outs)
        if len(ids) != len(outs):
            raise ValueError("kvstore row_sparse_pull: %d row_ids for %d outputs" % (len(ids), len(outs)))
        n, ck, keep, co = _c_lists(keys, outs)
        ci = ffi.new("mx_ndarray_t[]", [r.handle for r in ids])
        check_call(lib.mx_kvstore_row_sparse_pull(self.handle, n, ck, co, ci, int(priority)))

    def set_gradient_compression(self, compression_params):
        """MXNet's {'type': '2bit', 'threshold': 0.5} (not for the 'local' type)."""
        if not isinstance(compression_params, dict):
            raise TypeError("compression_params must be a dict, got %s"
                            % type(compression_params).__name__)
        check_call(lib.mx_kvstore_set_gradient_compression(
            self.handle, c_str(json.dumps(compression_params))))

    def set_optimizer(self, optimizer):
        """Run `optimizer` (in the core) on every push: update_on_kvstore."""
        from ..optimizer import Optimizer
        if not isinstance(optimizer, Optimizer):
            raise TypeError("set_optimizer: expected an mx.optimizer.Optimizer, got %s"
                            % type(optimizer).__name__)
        check_call(lib.mx_kvstore_set_optimizer(self.handle, optimizer._handle))
        self._optimizer = optimizer

    def save_optimizer_states(self, fname, dump_optimizer=False):
        """The core's optimizer state file (it always holds the optimizer's configuration)."""
        if self._py_updater is not None and self._optimizer is None:
            raise RuntimeError("save_optimizer_states: a Python updater keeps its own states")
        check_call(lib.mx_kvstore_save_optimizer_states(self.handle, c_str(os.fspath(fname))))

    def load_optimizer_states(self, fname):
        check_call(lib.mx_kvstore_load_optimizer_states(self.handle, c_str(os.fspath(fname))))

    def barrier(self):
        """Wait until every worker reaches this call."""
        check_call(lib.mx_kvstore_barrier(self.handle))

    _barrier = barrier

    def set_bucket_size(self, nbytes):
        """Size of the fusion buckets one allreduce reduces (default 25 MiB)."""
        check_call(lib.mx_kvstore_set_config(self.handle, b"bucket_bytes", c_str(str(int(nbytes)))))

    def set_timeline(self, path):
        """Write a Chrome trace of this worker's gradient reduction to `path` (backward passes,
        step-time calls, each fusion bucket's ready/send/done times; open it in
        chrome://tracing or ui.perfetto.dev). A dist kvstore with several workers writes
        ``path`` with ``.rank<N>`` before the extension. ``None`` closes (and writes) the file;
        the environment variable MX_KVSTORE_TIMELINE=path does the same as a call at creation.
        The file is valid JSON at all times and at most a second behind while training runs."""
        value = json.dumps("" if path is None else os.fspath(path))
        check_call(lib.mx_kvstore_set_config(self.handle, b"timeline", c_str(value)))
        if path is not None:
            _with_timeline.add(self)

    def set_timeout(self, seconds):
        """Seconds a collective waits for the other workers before failing."""
        check_call(lib.mx_kvstore_set_config(self.handle, b"timeout", c_str(repr(float(seconds)))))

    def _send_command_to_servers(self, head, body):
        raise NotImplementedError("MX's dist kvstore has no servers (allreduce over MPI)")

    # ------------------------------------------------------------------ Python updaters
    def _set_updater(self, updater):
        """updater(key, merged_gradient, stored_weight), run in Python after the reduction
        (MXNet's kvstore._set_updater). From now on the stored values live in Python; keys
        initialised before are moved there with their current values."""
        if self._py_updater is None:
            from .. import ndarray as nd
            for k in self._keys:
                if k not in self._py_store and not k.startswith("__grad__:"):
                    shape, dtype = self._stored_meta(k)
                    buf = nd.zeros(shape, dtype=dtype)
                    n, ck, keep, co = _c_lists([k], [buf])
                    check_call(lib.mx_kvstore_pull(self.handle, n, ck, co, 0))
                    self._py_store[k] = buf
        self._py_updater = updater

    def _stored_meta(self, key):
        meta = self._meta.get(key)
        if meta is None:
            raise ValueError("kvstore: the shape of key '%s' is unknown" % key)
        return meta

    def _push_python_updater(self, keys, vals):
        from .. import ndarray as nd
        uniq = []
        for k in keys:
            if k not in self._py_store:
                raise ValueError("kvstore push: key '%s' has not been initialised" % k)
            if k not in uniq:
                uniq.append(k)
        gkeys = ["__grad__:" + k for k in uniq]
        new = [g for g in gkeys if g not in self._grad_keys]
        if new:
            zeros = [nd.zeros(self._py_store[k[9:]].shape, dtype=self._py_store[k[9:]].dtype)
                     for k in new]
            n, ck, keep, cv = _c_lists(new, zeros)
            check_call(lib.mx_kvstore_init(self.handle, n, ck, cv))
            self._grad_keys.update(new)
        # the reduction is dense here: a Python updater gets dense merged gradients
        vals = [v.tostype("default") if getattr(v, "stype", "default") != "default" else v
                for v in vals]
        merged = [nd.zeros(self._py_store[k].shape, dtype=self._py_store[k].dtype) for k in uniq]
        self._call2(lib.mx_kvstore_pushpull, ["__grad__:" + k for k in keys], vals, gkeys,
                    merged, 0)
        for k, g in zip(uniq, merged):
            self._py_updater(int(k) if k.lstrip("-").isdigit() else k, g, self._py_store[k])


# Kvstores with a timeline open: closed at exit so their files hold every event.
_with_timeline = weakref.WeakSet()


@atexit.register
def _close_timelines():
    for kv in list(_with_timeline):
        try:
            kv.set_timeline(None)
        except Exception:  # noqa: BLE001  (exit path: a broken job must still exit)
            pass


_ALIASES = {"local_update_cpu": "local", "local_allreduce_cpu": "local",
            "local_allreduce_device": "device"}


def create(name="local"):
    """A KVStore: 'local', 'device', 'dist_sync', 'dist_device_sync', 'horovod'.
    'dist_async' raises MXNotSupportedError (MX reduces by allreduce, without servers)."""
    if not isinstance(name, str):
        raise TypeError("name must be a string")
    if name in KVStoreBase.kv_registry:
        return KVStoreBase.kv_registry[name]()
    core = _ALIASES.get(name, name)
    h = ffi.new("mx_kvstore_t *")
    check_call(lib.mx_kvstore_new(c_str(core), h))
    kv = KVStore(h[0], name if core != name else None)
    if os.environ.get("MX_KVSTORE_TIMELINE"):
        _with_timeline.add(kv)
    return kv
