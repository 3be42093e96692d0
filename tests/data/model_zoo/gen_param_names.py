"""Generate mxnet_param_names.json with Apache MXNet 1.9.1 (run once):

    /opt/mxnet-venv/bin/python tests/data/model_zoo/gen_param_names.py NAME,NAME,... OUT.json

For each model-zoo name (classes=10, initialized, one forward pass at 224x224 or 299x299 for
inception): the parameter names less the net's own prefix, and their shapes, in collect_params()
order; the first entry ["__prefix__", p] holds the prefix hint (trailing digits stripped).
"""
import json, sys
import mxnet as mx
from mxnet.gluon.model_zoo import vision
names = sys.argv[1].split(",")
out = {}
for n in names:
    net = vision.get_model(n, classes=10)
    net.initialize()
    sz = 299 if 'inception' in n else 224
    net(mx.nd.zeros((1, 3, sz, sz)))
    p = net.prefix
    out[n] = [[k[len(p):], list(v.shape)] for k, v in net.collect_params().items()]
    assert all(k.startswith(p) for k in net.collect_params().keys())
    out[n].insert(0, ["__prefix__", p.rstrip("0123456789_")])
    print(n, p, len(out[n]), file=sys.stderr)
json.dump(out, open(sys.argv[2], "w"), indent=0, separators=(",", ":"))
