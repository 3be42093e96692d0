"""Locating pretrained parameter files in a local folder (no network access).

MXNet 1.x stores model-zoo parameters as ``<root>/<name>-<short sha1>.params``; this module
accepts that name or plain ``<root>/<name>.params``.
"""
import glob
import os

__all__ = ["get_model_file", "default_root"]


def default_root():
    return os.path.join(os.environ.get("MXNET_HOME", os.path.join("~", ".mxnet")), "models")


def get_model_file(name, root=None):
    """Path of the parameter file for model `name` under `root`; raises if there is none."""
    root = os.path.expanduser(root if root is not None else default_root())
    plain = os.path.join(root, name + ".params")
    hashed = sorted(glob.glob(os.path.join(glob.escape(root), glob.escape(name) + "-*.params")))
    # a hashed name is 8 hex digits after the dash; do not mistake 'resnet18_v1-foo' style names
    hashed = [p for p in hashed
              if all(c in "0123456789abcdef" for c in os.path.basename(p)[len(name) + 1:-7].lower())]
    if hashed:
        return hashed[0]
    if os.path.isfile(plain):
        return plain
    raise FileNotFoundError(
        "Pretrained parameters for model '%s' not found: looked for %s and %s. This build does "
        "not download files; place the MXNet model-zoo .params file there or pass root=<folder>."
        % (name, os.path.join(root, name + "-<hash>.params"), plain))


def purge(root=None):
    """Remove all .params files under root."""
    root = os.path.expanduser(root if root is not None else default_root())
    for f in glob.glob(os.path.join(glob.escape(root), "*.params")):
        os.remove(f)
