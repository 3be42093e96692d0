"""numpy float64 references of grouped 2-D convolution and its gradients, shared by the tests."""
import numpy as np


def conv_ref(x, w, b, stride=1, pad=0, groups=1):
    n, c, h, wd = x.shape
    f, cg, kh, kw = w.shape
    xp = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    oh, ow = (h + 2 * pad - kh) // stride + 1, (wd + 2 * pad - kw) // stride + 1
    y = np.zeros((n, f, oh, ow))
    fg = f // groups
    for g in range(groups):
        xs = xp[:, g * cg:(g + 1) * cg]
        for i in range(kh):
            for j in range(kw):
                patch = xs[:, :, i:i + stride * oh:stride, j:j + stride * ow:stride]
                y[:, g * fg:(g + 1) * fg] += np.einsum("ncij,fc->nfij", patch, w[g * fg:(g + 1) * fg, :, i, j])
    if b is not None:
        y += b[None, :, None, None]
    return y


def conv_grads_ref(x, w, gy, stride=1, pad=0, groups=1):
    """dx, dw, db of sum(conv(x, w) * gy)."""
    n, c, h, wd = x.shape
    f, cg, kh, kw = w.shape
    oh, ow = gy.shape[2:]
    xp = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    dxp = np.zeros_like(xp)
    dw = np.zeros_like(w)
    fg = f // groups
    for g in range(groups):
        cs, fs = slice(g * cg, (g + 1) * cg), slice(g * fg, (g + 1) * fg)
        for i in range(kh):
            for j in range(kw):
                sl = (slice(None), cs, slice(i, i + stride * oh, stride), slice(j, j + stride * ow, stride))
                dw[fs, :, i, j] += np.einsum("ncij,nfij->fc", xp[sl], gy[:, fs])
                dxp[sl] += np.einsum("nfij,fc->ncij", gy[:, fs], w[fs, :, i, j])
    dx = dxp[:, :, pad:pad + h, pad:pad + wd]
    return dx, dw, gy.sum(axis=(0, 2, 3))
