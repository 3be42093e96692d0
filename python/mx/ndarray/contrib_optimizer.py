"""mx.nd.contrib's optimizer wrappers (MXNet 1.x python/mxnet/ndarray/contrib.py): adamw_update,
mp_adamw_update, multi_adamw_update, multi_mp_adamw_update, multi_lamb_update and
multi_mp_lamb_update. They only arrange arguments for the core operators (_adamw_update,
_multi_lamb_update, ...: the math is there): lists of arrays are interleaved per weight, and a
number given as rescale_grad becomes the one-element array the operators read."""
from . import _internal
from .ndarray import NDArray
from .utils import full

__all__ = ["adamw_update", "mp_adamw_update", "multi_adamw_update", "multi_mp_adamw_update",
           "multi_lamb_update", "multi_mp_lamb_update"]


def _rescale_array(rescale_grad, ctx):
    if isinstance(rescale_grad, NDArray):
        return rescale_grad.as_in_context(ctx)
    return full((1,), rescale_grad, ctx=ctx)


def _interleave(*lists):
    return [a for group in zip(*lists) for a in group]


def adamw_update(weight, grad, mean, var, rescale_grad, lr, eta, beta1=0.9, beta2=0.999, epsilon=1e-8, wd=0,
                 clip_gradient=-1, out=None, name=None, **kwargs):
    """AdamW step of one weight (see ``mx.nd._internal._adamw_update``); ``rescale_grad`` may be a
    number or a one-element array (0, NaN or inf skips the step)."""
    return _internal._adamw_update(weight, grad, mean, var, _rescale_array(rescale_grad, weight.context), lr=lr,
                                   eta=eta, beta1=beta1, beta2=beta2, epsilon=epsilon, wd=wd,
                                   clip_gradient=clip_gradient, out=out, **kwargs)


def mp_adamw_update(weight, grad, mean, var, weight32, rescale_grad, lr, eta, beta1=0.9, beta2=0.999, epsilon=1e-8,
                    wd=0, clip_gradient=-1, out=None, name=None, **kwargs):
    """Multi-precision AdamW step (float32 master ``weight32``; see ``_mp_adamw_update``)."""
    return _internal._mp_adamw_update(weight, grad, mean, var, weight32, _rescale_array(rescale_grad, weight.context),
                                      lr=lr, eta=eta, beta1=beta1, beta2=beta2, epsilon=epsilon, wd=wd,
                                      clip_gradient=clip_gradient, out=out, **kwargs)


def multi_adamw_update(weights, grads, mean, var, rescale_grad, lrs, wds, etas, out=None, name=None, size=0,
                       **kwargs):
    """AdamW step of several weights at once (lists; see ``_multi_adamw_update``)."""
    args = _interleave(weights, grads, mean, var) + [_rescale_array(rescale_grad, weights[0].context)]
    return _internal._multi_adamw_update(*args, out=out, num_weights=size or len(weights), lrs=lrs, wds=wds,
                                         etas=etas, **kwargs)


def multi_mp_adamw_update(weights, grads, mean, var, weights32, rescale_grad, lrs, wds, etas, out=None, name=None,
                          size=0, **kwargs):
    """Multi-precision AdamW step of several weights (float32 masters ``weights32``)."""
    args = _interleave(weights, grads, mean, var, weights32) + [_rescale_array(rescale_grad, weights[0].context)]
    return _internal._multi_mp_adamw_update(*args, out=out, num_weights=size or len(weights), lrs=lrs, wds=wds,
                                            etas=etas, **kwargs)


def multi_lamb_update(weights, grads, mean, var, step_count, lrs, wds, out=None, num_tensors=0, **kwargs):
    """LAMB step of several weights (lists; ``step_count`` one count per weight; see ``_multi_lamb_update``)."""
    return _internal._multi_lamb_update(*_interleave(weights, grads, mean, var), out=out,
                                        num_tensors=num_tensors or len(weights), step_count=step_count,
                                        learning_rates=lrs, wds=wds, **kwargs)


def multi_mp_lamb_update(weights, grads, mean, var, weights32, step_count, lrs, wds, out=None, num_tensors=0,
                         **kwargs):
    """Multi-precision LAMB step of several weights (float32 masters ``weights32``)."""
    return _internal._multi_mp_lamb_update(*_interleave(weights, grads, mean, var, weights32), out=out,
                                           num_tensors=num_tensors or len(weights), step_count=step_count,
                                           learning_rates=lrs, wds=wds, **kwargs)
