"""gluon.utils (MXNet 1.x): split_data, split_and_load, clip_global_norm, check_sha1, download."""
import hashlib
import math
import os
import shutil
import tempfile
import urllib.parse
import urllib.request
import warnings

from .. import ndarray as nd
from ..ndarray.ndarray import NDArray

__all__ = ["split_data", "split_and_load", "clip_global_norm", "check_sha1", "download"]


def split_data(data, num_slice, batch_axis=0, even_split=True):
    """Split data into num_slice slices along batch_axis."""
    size = data.shape[batch_axis]
    if even_split and size % num_slice != 0:
        raise ValueError("data with shape %s cannot be evenly split into %d slices along axis %d. "
                         "Use a batch size that's multiple of %d or set even_split=False to allow "
                         "uneven partitioning of data." % (str(data.shape), num_slice, batch_axis,
                                                          num_slice))
    # numpy's array_split sections, as MXNet 1.9: the first size % num_slice slices hold one
    # sample more
    each, extras = divmod(size, num_slice)
    bounds = [0]
    for i in range(num_slice):
        bounds.append(bounds[-1] + each + (1 if i < extras else 0))
    return [_section(data, batch_axis, bounds[i], bounds[i + 1]) for i in range(num_slice)]


def _section(data, axis, begin, end):
    if getattr(data, "stype", "default") == "csr" and axis == 0:
        return data[begin:end]  # row slices of a csr batch stay csr (as MXNet)
    if end > begin:
        return nd.slice_axis(data, axis=axis, begin=begin, end=end)
    # more slices than samples: an empty slice, as numpy's array_split gives
    shape = list(data.shape)
    shape[axis] = 0
    return nd.zeros(tuple(shape), ctx=data.context, dtype=data.dtype)


def split_and_load(data, ctx_list, batch_axis=0, even_split=True):
    """Split data and copy each slice to one context of ctx_list."""
    if not isinstance(data, NDArray):
        data = nd.array(data, ctx=ctx_list[0])
    if len(ctx_list) == 1:
        return [data.as_in_context(ctx_list[0])]
    slices = split_data(data, len(ctx_list), batch_axis, even_split)
    return [s.as_in_context(c) for s, c in zip(slices, ctx_list)]


def clip_global_norm(arrays, max_norm, check_isfinite=True):
    """Scale arrays in place so that the 2-norm of their concatenation is at most max_norm;
    returns that norm (before scaling)."""
    if not arrays:
        raise ValueError("clip_global_norm: no arrays")
    ctx = arrays[0].context
    total = nd.add_n(*[nd.square(nd.norm(a)).reshape((1,)).as_in_context(ctx) for a in arrays])
    total_norm = nd.sqrt(total)
    if check_isfinite:
        if not math.isfinite(float(total_norm.asscalar())):
            warnings.warn(UserWarning("nan or inf is detected. Clipping results will be undefined."),
                          stacklevel=2)
    scale = nd._internal._rdiv_scalar(total_norm + 1e-8, scalar=float(max_norm))
    scale = nd._internal._minimum_scalar(scale, scalar=1.0)
    for a in arrays:
        a *= scale.as_in_context(a.context)
    return total_norm.asscalar() if check_isfinite else total_norm


def check_sha1(filename, sha1_hash):
    sha1 = hashlib.sha1()
    with open(filename, "rb") as f:
        while True:
            data = f.read(1048576)
            if not data:
                break
            sha1.update(data)
    return sha1.hexdigest() == sha1_hash


def download(url, path=None, overwrite=False, sha1_hash=None, retries=5, verify_ssl=True):
    """Fetch url into path (MXNet 1.x gluon.utils.download) without network access.

    ``file://`` URLs and plain local paths are copied; a file already at the destination (with
    the right sha1_hash when one is given) is the local cache and is returned unchanged unless
    overwrite=True. Network URLs raise ``OSError`` naming the destination, since MX never
    downloads: put the file there yourself.

    Parameters
    ----------
    url : str
    path : str, optional
        Destination file or folder (default: the current folder, file name from the URL).
    overwrite : bool
    sha1_hash : str, optional
        Expected SHA-1 of the file; a mismatch of the copied file raises ``ValueError``.
    retries, verify_ssl :
        Accepted for compatibility (there is no network transfer to retry or verify).

    Returns
    -------
    str : the destination path.
    """
    parsed = urllib.parse.urlparse(url)
    fname = os.path.basename(parsed.path) or "download"
    if path is None:
        dest = fname
    else:
        dest = os.path.expanduser(path)
        if os.path.isdir(dest) or dest.endswith(os.sep):
            dest = os.path.join(dest, fname)
    if os.path.isfile(dest) and not overwrite and (not sha1_hash or check_sha1(dest, sha1_hash)):
        return dest
    if parsed.scheme == "file":
        src = urllib.request.url2pathname(parsed.path)
    elif parsed.scheme == "" or (len(parsed.scheme) == 1 and os.name == "nt"):
        src = os.path.expanduser(url)
    else:
        raise OSError("download: MX does not access the network; cannot fetch %s. Place the file at "
                      "%s (or pass a file:// URL)" % (url, os.path.abspath(dest)))
    if not os.path.isfile(src):
        raise FileNotFoundError("download: %s: no such file '%s'" % (url, src))
    folder = os.path.dirname(os.path.abspath(dest))
    os.makedirs(folder, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=".download-")  # rename: never a partial file
    os.close(fd)
    try:
        shutil.copyfile(src, tmp)
        if sha1_hash and not check_sha1(tmp, sha1_hash):
            raise ValueError("download: %s does not have the expected SHA-1 %s" % (url, sha1_hash))
        os.replace(tmp, dest)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)
    return dest
