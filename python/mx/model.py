"""Checkpoints in MXNet's layout: prefix-symbol.json + prefix-%04d.params (arg:/aux: names)."""
from collections import namedtuple

from . import ndarray as nd
from . import symbol as sym

BatchEndParam = namedtuple("BatchEndParams", ["epoch", "nbatch", "eval_metric", "locals"])
BatchEndParam.__doc__ = """What batch-end and score-end callbacks receive (MXNet's ``BatchEndParam``).

Parameters
----------
epoch : int
    The current epoch.
nbatch : int
    Index of the batch in the epoch.
eval_metric : EvalMetric
    The metric being accumulated.
locals : dict
    The local variables of the training loop (for advanced callbacks).
"""


def save_checkpoint(prefix, epoch, symbol, arg_params, aux_params, remove_amp_cast=True):
    """Write an MXNet checkpoint: ``prefix-symbol.json`` (when ``symbol`` is given) and
    ``prefix-%04d.params`` with ``arg:``/``aux:`` prefixed names.

    Parameters
    ----------
    prefix : str
        Path prefix.
    epoch : int
        Epoch number in the file name.
    symbol : Symbol or None
        The network.
    arg_params : dict of str to NDArray
        Parameters.
    aux_params : dict of str to NDArray
        Auxiliary states.
    remove_amp_cast : bool, default True
        Accepted for MXNet compatibility.
    """
    if symbol is not None:
        symbol.save("%s-symbol.json" % prefix)
    save_dict = {"arg:%s" % k: v.as_in_context(v.context) for k, v in (arg_params or {}).items()}
    save_dict.update({"aux:%s" % k: v for k, v in (aux_params or {}).items()})
    nd.save("%s-%04d.params" % (prefix, epoch), save_dict)


def load_params(prefix, epoch):
    """Load ``prefix-%04d.params``.

    Parameters
    ----------
    prefix : str
        Path prefix.
    epoch : int
        Epoch number.

    Returns
    -------
    (dict, dict)
        ``(arg_params, aux_params)``.
    """
    fname = "%s-%04d.params" % (prefix, epoch)
    loaded = nd.load(fname)
    if not isinstance(loaded, dict):
        raise ValueError("%s holds an unnamed list of arrays, not a checkpoint with arg:/aux: names" % fname)
    arg_params, aux_params = {}, {}
    for k, v in loaded.items():
        tp, _, name = k.partition(":")
        if tp == "arg" and name:
            arg_params[name] = v
        elif tp == "aux" and name:
            aux_params[name] = v
        else:
            raise ValueError("%s: key %r is neither 'arg:<name>' nor 'aux:<name>'" % (fname, k))
    return arg_params, aux_params


def load_checkpoint(prefix, epoch):
    """Load a checkpoint written by MX or Apache MXNet.

    Parameters
    ----------
    prefix : str
        Path prefix.
    epoch : int
        Epoch number.

    Returns
    -------
    (Symbol, dict, dict)
        The symbol, ``arg_params`` and ``aux_params``.
    """
    symbol = sym.load("%s-symbol.json" % prefix)
    arg_params, aux_params = load_params(prefix, epoch)
    return symbol, arg_params, aux_params
