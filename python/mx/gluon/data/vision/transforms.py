"""Image transforms as Blocks (MXNet 1.x ``gluon.data.vision.transforms``).

Images are HxWxC (or NxHxWxC) NDArrays, uint8 as decoded; ToTensor turns them into CxHxW float32
in [0, 1]. All pixel computation runs in registered MX ops (resizing in the core's bilinear
resize); random choices come from MX's generator, so mx.random.seed makes them reproducible.
"""
import math
import numbers
import warnings

import numpy as np

from .... import ndarray as nd
from ....base import check_call, ffi, lib
from ....ndarray import NDArray
from ...block import Block, HybridBlock, Sequential

__all__ = ["Compose", "Cast", "ToTensor", "Normalize", "Resize", "CenterCrop", "RandomResizedCrop",
           "RandomCrop", "RandomFlipLeftRight", "RandomFlipTopBottom"]


class Compose(Sequential):
    """Applies the transforms in order: Compose([Resize(32), ToTensor()])."""

    def __init__(self, transforms):
        super().__init__()
        for i, t in enumerate(transforms):
            if not callable(t):
                raise TypeError("Compose: transform %d (%s) is not callable" % (i, type(t).__name__))
            self.add(t if isinstance(t, Block) else _FnBlock(t))


class _FnBlock(Block):
    """A plain function as a Block (so Compose accepts lambdas)."""

    def __init__(self, fn):
        super().__init__()
        self._fn = fn

    def forward(self, x, *args):
        return self._fn(x, *args)


def _check_image(x, who, ndims=(3, 4)):
    if not isinstance(x, NDArray):
        raise TypeError("%s: expected an NDArray image, got %s" % (who, type(x).__name__))
    if x.ndim not in ndims:
        raise ValueError("%s: expected an image of %s dimensions, got shape %s"
                         % (who, " or ".join(str(d) for d in ndims), x.shape))


class Cast(HybridBlock):
    """Casts the input to dtype."""

    def __init__(self, dtype="float32"):
        super().__init__()
        self._dtype = np.dtype(dtype).name if dtype != "bfloat16" else dtype

    def hybrid_forward(self, F, x):
        return F.cast(x, dtype=self._dtype)


class ToTensor(HybridBlock):
    """HxWxC (or NxHxWxC) with values in [0, 255] -> CxHxW (NxCxHxW) float32 in [0, 1]."""

    def __init__(self):
        super().__init__()

    def hybrid_forward(self, F, x):
        if isinstance(x, NDArray):
            _check_image(x, "ToTensor")
        x = F.cast(x, dtype="float32")
        # (..., H, W, C) -> (..., C, W, H) -> (..., C, H, W)
        x = F.swapaxes(F.swapaxes(x, dim1=-1, dim2=-3), dim1=-1, dim2=-2)
        return x / 255.0


def _per_channel(v, name):
    if isinstance(v, numbers.Number):
        return (float(v),)
    try:
        vals = tuple(float(a) for a in v)
    except TypeError:
        raise TypeError("Normalize: %s must be a number or a sequence of numbers, got %r" % (name, v)) from None
    if not vals:
        raise ValueError("Normalize: %s is empty" % name)
    return vals


class Normalize(HybridBlock):
    """(x - mean[c]) / std[c] for each channel c of a CxHxW (or NxCxHxW) float tensor; mean and
    std are numbers or sequences of one value per channel."""

    def __init__(self, mean=0.0, std=1.0):
        super().__init__()
        self._mean = _per_channel(mean, "mean")
        self._std = _per_channel(std, "std")
        if any(s == 0 for s in self._std):
            raise ValueError("Normalize: std must not contain 0, got %r" % (std,))

    def _expand(self, c):
        out = []
        for name, vals in (("mean", self._mean), ("std", self._std)):
            if len(vals) == 1:
                vals = vals * c
            elif len(vals) != c:
                raise ValueError("Normalize: %s has %d values but the input has %d channels (axis -3)"
                                 % (name, len(vals), c))
            out.append(vals)
        return out

    def hybrid_forward(self, F, x):
        if isinstance(x, NDArray):
            _check_image(x, "Normalize")
            c = x.shape[-3]
            mean, std = self._expand(c)
            shape = (c, 1, 1)
            m = nd.array(mean, ctx=x.context, dtype=x.dtype).reshape(shape)
            s = nd.array(std, ctx=x.context, dtype=x.dtype).reshape(shape)
            return F.broadcast_div(F.broadcast_sub(x, m), s)
        # symbolic: the channel count must come from the parameters
        c = max(len(self._mean), len(self._std))
        mean, std = self._expand(c)
        if c == 1:
            return (x - mean[0]) / std[0]
        parts = F.split(x, num_outputs=c, axis=-3)
        return F.concat(*[(parts[i] - mean[i]) / std[i] for i in range(c)], dim=-3)


# ---------------------------------------------------------------------- geometry helpers

_warned_interp = set()


def _check_interp(interpolation, who):
    if interpolation not in (0, 1, 2, 3, 4, 9, 10):
        raise ValueError("%s: interpolation must be one of MXNet's codes 0-4, 9, 10, got %r" % (who, interpolation))
    if interpolation != 1 and (who, interpolation) not in _warned_interp:
        _warned_interp.add((who, interpolation))
        warnings.warn("%s: interpolation=%d is not available in MX; using bilinear (1)" % (who, interpolation),
                      stacklevel=3)


def _size_wh(size, who):
    """(width, height) from an int (square) or a (width, height) pair."""
    if isinstance(size, numbers.Integral) and not isinstance(size, bool):
        w = h = int(size)
    else:
        try:
            w, h = (int(s) for s in size)
        except (TypeError, ValueError):
            raise ValueError("%s: size must be an int or a (width, height) pair, got %r" % (who, size)) from None
    if w <= 0 or h <= 0:
        raise ValueError("%s: size must be positive, got %r" % (who, size))
    return w, h


def _resize_hwc(x, w, h):
    """Bilinear resize of a uint8 HxWxC (or NxHxWxC) image to h x w (the core's image resize)."""
    if x.dtype != np.uint8:
        raise TypeError("resize: only uint8 images can be resized, got %s (resize before ToTensor / Cast)"
                        % np.dtype(x.dtype).name)
    if x.ndim == 4:
        return nd.stack(*[_resize_hwc(x[i], w, h) for i in range(x.shape[0])])
    if x.shape[0] == h and x.shape[1] == w:
        return x
    out = ffi.new("mx_ndarray_t *")
    check_call(lib.mx_image_resize(x.handle, int(h), int(w), out))
    from ....ndarray.ndarray import _wrap
    return _wrap(out[0])


def _crop(x, x0, y0, w, h):
    """The w x h window at (x0, y0) of an HxWxC or NxHxWxC image."""
    lead = (None,) * (x.ndim - 3)
    return nd.slice(x, begin=lead + (y0, x0, None), end=lead + (y0 + h, x0 + w, None))


def _hw(x):
    return x.shape[-3], x.shape[-2]


def _scale_down(src_w, src_h, w, h):
    """Shrink the crop (w, h), keeping its aspect ratio, until it fits in the image."""
    w, h = float(w), float(h)
    if src_h < h:
        w, h = w * src_h / h, float(src_h)
    if src_w < w:
        w, h = float(src_w), h * src_w / w
    return int(w), int(h)


def _fixed_crop(x, x0, y0, w, h, size=None):
    out = _crop(x, x0, y0, w, h)
    if size is not None and (w, h) != tuple(size):
        out = _resize_hwc(out, size[0], size[1])
    return out


def _uniform(n):
    """n samples of U[0, 1) from MX's generator, as Python floats."""
    return [float(v) for v in nd.random.uniform(0, 1, shape=(n,)).asnumpy()]


def _randint(u, lo, hi):
    """An int in [lo, hi] from a U[0, 1) sample."""
    return min(hi, lo + int(u * (hi - lo + 1)))


# ---------------------------------------------------------------------- geometric transforms

class Resize(Block):
    """Resizes an HxWxC (or NxHxWxC) uint8 image (bilinear). size: int -> size x size, or with
    keep_ratio=True the shorter side becomes size and the longer keeps the aspect ratio;
    (width, height) -> exactly that."""

    def __init__(self, size, keep_ratio=False, interpolation=1):
        super().__init__()
        _check_interp(interpolation, "Resize")
        self._int_size = isinstance(size, numbers.Integral) and not isinstance(size, bool)
        self._size = _size_wh(size, "Resize")
        self._keep = bool(keep_ratio)
        self._interpolation = interpolation

    def forward(self, x):
        _check_image(x, "Resize")
        h, w = _hw(x)
        if self._int_size and self._keep:
            s = self._size[0]
            if h > w:
                nw, nh = s, h * s // w
            else:
                nh, nw = s, w * s // h
        else:
            nw, nh = self._size
        return _resize_hwc(x, nw, nh)


class CenterCrop(Block):
    """Crops the centre (width, height) window (an int size is square); an image smaller than the
    window gives the largest centred window of that aspect ratio, resized up to size."""

    def __init__(self, size, interpolation=1):
        super().__init__()
        _check_interp(interpolation, "CenterCrop")
        self._size = _size_wh(size, "CenterCrop")

    def forward(self, x):
        _check_image(x, "CenterCrop")
        h, w = _hw(x)
        nw, nh = _scale_down(w, h, *self._size)
        x0, y0 = (w - nw) // 2, (h - nh) // 2
        return _fixed_crop(x, x0, y0, nw, nh, self._size)


class RandomResizedCrop(Block):
    """Crops a random window of area fraction in `scale` and aspect ratio (w/h) in `ratio`
    (log-uniform), then resizes it to size; falls back to a centre crop after 10 tries."""

    def __init__(self, size, scale=(0.08, 1.0), ratio=(3.0 / 4.0, 4.0 / 3.0), interpolation=1):
        super().__init__()
        _check_interp(interpolation, "RandomResizedCrop")
        self._size = _size_wh(size, "RandomResizedCrop")
        if isinstance(scale, numbers.Number):
            scale = (float(scale), 1.0)
        scale, ratio = tuple(float(s) for s in scale), tuple(float(r) for r in ratio)
        if len(scale) != 2 or not 0 < scale[0] <= scale[1]:
            raise ValueError("RandomResizedCrop: scale must be (min, max) with 0 < min <= max, got %r" % (scale,))
        if len(ratio) != 2 or not 0 < ratio[0] <= ratio[1]:
            raise ValueError("RandomResizedCrop: ratio must be (min, max) with 0 < min <= max, got %r" % (ratio,))
        self._scale, self._ratio = scale, ratio

    def forward(self, x):
        _check_image(x, "RandomResizedCrop")
        h, w = _hw(x)
        area = h * w
        log_r = (math.log(self._ratio[0]), math.log(self._ratio[1]))
        for _ in range(10):
            ua, ur, ux, uy = _uniform(4)
            target = (self._scale[0] + ua * (self._scale[1] - self._scale[0])) * area
            r = math.exp(log_r[0] + ur * (log_r[1] - log_r[0]))
            nw = int(round(math.sqrt(target * r)))
            nh = int(round(math.sqrt(target / r)))
            if 0 < nw <= w and 0 < nh <= h:
                return _fixed_crop(x, _randint(ux, 0, w - nw), _randint(uy, 0, h - nh), nw, nh, self._size)
        nw, nh = _scale_down(w, h, *self._size)
        return _fixed_crop(x, (w - nw) // 2, (h - nh) // 2, nw, nh, self._size)


class RandomCrop(Block):
    """Crops a random (width, height) window, after padding the image by `pad` (an int pads H and
    W on both sides; or numpy-style ((top, bottom), (left, right)[, (0, 0)])) with pad_value."""

    def __init__(self, size, pad=None, pad_value=0, interpolation=1):
        super().__init__()
        _check_interp(interpolation, "RandomCrop")
        self._size = _size_wh(size, "RandomCrop")
        if pad is None or pad == 0:
            self._pad = None
        elif isinstance(pad, numbers.Integral):
            if pad < 0:
                raise ValueError("RandomCrop: pad must be >= 0, got %r" % (pad,))
            self._pad = ((int(pad), int(pad)), (int(pad), int(pad)))
        else:
            try:
                p = tuple((int(a), int(b)) for a, b in pad)
            except (TypeError, ValueError):
                raise ValueError("RandomCrop: pad must be an int or ((top, bottom), (left, right)[, (0, 0)]), "
                                 "got %r" % (pad,)) from None
            if len(p) not in (2, 3) or (len(p) == 3 and p[2] != (0, 0)) or min(min(q) for q in p) < 0:
                raise ValueError("RandomCrop: pad must be an int or ((top, bottom), (left, right)[, (0, 0)]) of "
                                 "non-negative ints, got %r" % (pad,))
            self._pad = p[:2]
        self._pad_value = pad_value

    def forward(self, x):
        _check_image(x, "RandomCrop", ndims=(3,))
        if self._pad is not None:
            (t, b), (l, r) = self._pad
            h, w, c = x.shape
            padded = nd.full((h + t + b, w + l + r, c), self._pad_value, ctx=x.context, dtype=x.dtype)
            padded[t:t + h, l:l + w] = x
            x = padded
        h, w = _hw(x)
        nw, nh = _scale_down(w, h, *self._size)
        ux, uy = _uniform(2)
        return _fixed_crop(x, _randint(ux, 0, w - nw), _randint(uy, 0, h - nh), nw, nh, self._size)


class RandomFlipLeftRight(Block):
    """Flips the image horizontally (the W axis of HxWxC / NxHxWxC) with probability 0.5."""

    _axis = -2

    def __init__(self):
        super().__init__()

    def forward(self, x):
        _check_image(x, type(self).__name__)
        if _uniform(1)[0] < 0.5:
            return nd.flip(x, axis=self._axis)
        return x


class RandomFlipTopBottom(RandomFlipLeftRight):
    """Flips the image vertically (the H axis) with probability 0.5."""

    _axis = -3
