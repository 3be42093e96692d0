"""Reference values from Apache MXNet 1.9.1 for MX's compatibility tests outside operators
(tests/python/mxnet_compat/test_compat_training_api.py): CTC loss with the blank index inside a
label (MXNet aligns it like any class), the PCC metric on a multiclass batch, and the
optimizer states an Updater holds after SGD-momentum and Adam steps.

Run with the reference interpreter (never at test time):
    /opt/mxnet-venv/bin/python tests/data/compat_gluon/make_compat_gluon_fixtures.py
Writes compat_gluon_refs.npz next to this script."""
import os

import mxnet as mx
import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))


def main():
    rng = np.random.RandomState(7)
    out = {}
    # CTC: T=6, N=3, K=4, blank 'last' (3); labels hold the blank index within their lengths
    x = rng.standard_normal((6, 3, 4)).astype("float32")
    lab = np.array([[2, 3, 1], [3, 3, 0], [1, 0, 2]], np.float32)
    ll = np.array([2, 3, 3], np.float32)
    loss = mx.nd.ctc_loss(mx.nd.array(x), mx.nd.array(lab), label_lengths=mx.nd.array(ll),
                          use_label_lengths=True, blank_label="last")
    out.update(ctc_x=x, ctc_label=lab, ctc_label_lengths=ll, ctc_loss=loss.asnumpy())
    # PCC over two updates of a 4-class problem (scores, then class indices)
    s1 = rng.uniform(0, 1, (30, 4)).astype("float32")
    l1 = rng.randint(0, 4, 30).astype("float32")
    p2 = rng.randint(0, 4, 25).astype("float32")
    l2 = rng.randint(0, 4, 25).astype("float32")
    m = mx.metric.create("pcc")
    m.update([mx.nd.array(l1)], [mx.nd.array(s1)])
    out["pcc_after_1"] = np.array(m.get()[1])
    m.update([mx.nd.array(l2)], [mx.nd.array(p2)])
    out.update(pcc_s1=s1, pcc_l1=l1, pcc_p2=p2, pcc_l2=l2, pcc_after_2=np.array(m.get()[1]))
    # Updater states after two steps
    w0 = rng.standard_normal((3, 2)).astype("float32")
    g1 = rng.standard_normal((3, 2)).astype("float32")
    g2 = rng.standard_normal((3, 2)).astype("float32")
    out.update(upd_w0=w0, upd_g1=g1, upd_g2=g2)
    for name, opt in (("sgd", mx.optimizer.SGD(learning_rate=0.1, momentum=0.9, wd=0.01)),
                      ("adam", mx.optimizer.Adam(learning_rate=0.05))):
        upd = mx.optimizer.get_updater(opt)
        w = mx.nd.array(w0)
        for g in (g1, g2):
            upd(0, mx.nd.array(g), w)
        st = upd.states[0]
        st = st if isinstance(st, (tuple, list)) else (st,)
        for i, s in enumerate(st):
            out["upd_%s_state%d" % (name, i)] = s.asnumpy()
        out["upd_%s_w" % name] = w.asnumpy()
    np.savez(os.path.join(HERE, "compat_gluon_refs.npz"), **out)


if __name__ == "__main__":
    main()
