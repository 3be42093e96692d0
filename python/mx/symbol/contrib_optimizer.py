"""mx.sym.contrib's optimizer wrappers, the symbolic twins of mx.nd.contrib's
(python/mx/ndarray/contrib_optimizer.py): adamw_update and mp_adamw_update as in MXNet 1.9.1's
python/mxnet/symbol/contrib.py, plus multi_adamw_update, multi_mp_adamw_update,
multi_lamb_update and multi_mp_lamb_update, which MXNet 1.9.1 offers on NDArrays only (here a
graph can hold them too). They only arrange arguments for the core operators (_adamw_update,
_multi_lamb_update, ...: the math is there): lists of symbols are interleaved per weight, and a
number given as rescale_grad becomes a one-element constant symbol. As for every mutating
update op in MX, the states (mean, var, weight32) stay arguments of the graph: binding them to
arrays makes the executor update those arrays in place (MXNet lists them as auxiliary states)."""
from . import _internal
from .symbol import Symbol

__all__ = ["adamw_update", "mp_adamw_update", "multi_adamw_update", "multi_mp_adamw_update",
           "multi_lamb_update", "multi_mp_lamb_update"]


def _rescale_symbol(rescale_grad):
    if isinstance(rescale_grad, Symbol):
        return rescale_grad
    return _internal._full(shape=(1,), value=float(rescale_grad))


def _interleave(*lists):
    return [a for group in zip(*lists) for a in group]


def _named(name):
    return {} if name is None else {"name": name}


def adamw_update(weight, grad, mean, var, rescale_grad, lr, eta, beta1=0.9, beta2=0.999, epsilon=1e-8, wd=0,
                 clip_gradient=-1, out=None, name=None, **kwargs):
    """AdamW step of one weight as a symbol (see ``_adamw_update``); ``rescale_grad`` may be a
    number or a one-element symbol (0, NaN or inf skips the step)."""
    return _internal._adamw_update(weight, grad, mean, var, _rescale_symbol(rescale_grad), lr=lr, eta=eta,
                                   beta1=beta1, beta2=beta2, epsilon=epsilon, wd=wd, clip_gradient=clip_gradient,
                                   **_named(name), **kwargs)


def mp_adamw_update(weight, grad, mean, var, weight32, rescale_grad, lr, eta, beta1=0.9, beta2=0.999, epsilon=1e-8,
                    wd=0, clip_gradient=-1, out=None, name=None, **kwargs):
    """Multi-precision AdamW step as a symbol (float32 master ``weight32``; see ``_mp_adamw_update``)."""
    return _internal._mp_adamw_update(weight, grad, mean, var, weight32, _rescale_symbol(rescale_grad), lr=lr,
                                      eta=eta, beta1=beta1, beta2=beta2, epsilon=epsilon, wd=wd,
                                      clip_gradient=clip_gradient, **_named(name), **kwargs)


def multi_adamw_update(weights, grads, mean, var, rescale_grad, lrs, wds, etas, out=None, name=None, size=0,
                       **kwargs):
    """AdamW step of several weights (lists of symbols; see ``_multi_adamw_update``)."""
    args = _interleave(weights, grads, mean, var) + [_rescale_symbol(rescale_grad)]
    return _internal._multi_adamw_update(*args, num_weights=size or len(weights), lrs=lrs, wds=wds, etas=etas,
                                         **_named(name), **kwargs)


def multi_mp_adamw_update(weights, grads, mean, var, weights32, rescale_grad, lrs, wds, etas, out=None, name=None,
                          size=0, **kwargs):
    """Multi-precision AdamW step of several weights (float32 masters ``weights32``)."""
    args = _interleave(weights, grads, mean, var, weights32) + [_rescale_symbol(rescale_grad)]
    return _internal._multi_mp_adamw_update(*args, num_weights=size or len(weights), lrs=lrs, wds=wds, etas=etas,
                                            **_named(name), **kwargs)


def multi_lamb_update(weights, grads, mean, var, step_count, lrs, wds, out=None, num_tensors=0, name=None, **kwargs):
    """LAMB step of several weights (lists of symbols; ``step_count`` one count per weight)."""
    return _internal._multi_lamb_update(*_interleave(weights, grads, mean, var),
                                        num_tensors=num_tensors or len(weights), step_count=step_count,
                                        learning_rates=lrs, wds=wds, **_named(name), **kwargs)


def multi_mp_lamb_update(weights, grads, mean, var, weights32, step_count, lrs, wds, out=None, num_tensors=0,
                         name=None, **kwargs):
    """Multi-precision LAMB step of several weights (float32 masters ``weights32``)."""
    return _internal._multi_mp_lamb_update(*_interleave(weights, grads, mean, var, weights32),
                                           num_tensors=num_tensors or len(weights), step_count=step_count,
                                           learning_rates=lrs, wds=wds, **_named(name), **kwargs)
