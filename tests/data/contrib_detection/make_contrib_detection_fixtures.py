"""Reference vectors, computed by Apache MXNet 1.9.1, for MXNet's contrib detection operators that MX
implements: box_nms (forward and its gradient), box_iou, bipartite_matching, box_encode, box_decode,
boolean_mask (forward and gradient), MultiBoxPrior, MultiBoxTarget, MultiBoxDetection, PSROIPooling
(forward and data gradient), Proposal, MultiProposal,
DeformableConvolution (forward and all gradients), ModulatedDeformableConvolution (forward;
MXNet's CPU has no backward), and gluon.rnn.LSTM with projection_size (LSTMP;
MXNet 1.9.1 runs it forward only on the CPU).

Run with the reference interpreter (never at test time):
    /opt/mxnet-venv/bin/python tests/data/contrib_detection/make_contrib_detection_fixtures.py
Writes contrib_detection_refs.npz next to this script: keys "<case>__<array>", plus
"<case>__kwargs" (the op's keyword arguments as a JSON string)."""
import json
import os

import mxnet as mx
import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = {}


def boxes_corner(rng, shape):
    """Random corner boxes (x0, y0, x1, y1) inside [0, 1], as float32."""
    lo = rng.uniform(0, 0.7, shape + (2,))
    size = rng.uniform(0.05, 0.4, shape + (2,))
    return np.concatenate([lo, lo + size], axis=-1).astype(np.float32)


def nms_data(rng, batch, n, ncls, width=6, tie=False):
    """(batch..., n, width) rows [id, score, x0, y0, x1, y1, extra...]; boxes cluster so NMS suppresses."""
    shape = tuple(batch) + (n,)
    ids = rng.randint(0, ncls, shape).astype(np.float32)
    scores = rng.uniform(0, 1, shape).astype(np.float32)
    if tie:
        scores[..., 1] = scores[..., 3]
    centres = rng.uniform(0.2, 0.8, (3, 2))
    pick = centres[rng.randint(0, 3, shape)]
    half = rng.uniform(0.05, 0.2, shape + (2,))
    jitter = rng.normal(0, 0.03, shape + (2,))
    box = np.concatenate([pick + jitter - half, pick + jitter + half], axis=-1).astype(np.float32)
    extra = rng.uniform(-1, 1, shape + (width - 6,)).astype(np.float32)
    return np.concatenate([ids[..., None], scores[..., None], box, extra], axis=-1)


def put(case, kwargs, **arrays):
    OUT[case + "__kwargs"] = np.array(json.dumps(kwargs))
    for k, v in arrays.items():
        OUT[case + "__" + k] = np.asarray(v)


def nms_case(case, data, kwargs, seed):
    rng = np.random.RandomState(seed)
    x = mx.nd.array(data)
    x.attach_grad()
    head = rng.uniform(-1, 1, data.shape).astype(np.float32)
    with mx.autograd.record():
        y = mx.nd.contrib.box_nms(x, **kwargs)
    y.backward(mx.nd.array(head))
    put(case, kwargs, data=data, out=y.asnumpy(), head=head, grad=x.grad.asnumpy())


def main():
    rng = np.random.RandomState(20261207)
    # box_nms: defaults, class-aware, force_suppress, topk, valid_thresh, background, formats,
    # extra columns and a moved score/coordinate layout, batches of several dims, score ties.
    nms_case("nms_default", nms_data(rng, (), 12, 3), {}, 1)
    nms_case("nms_class", nms_data(rng, (2,), 10, 3), dict(id_index=0, overlap_thresh=0.3), 2)
    nms_case("nms_force", nms_data(rng, (2,), 10, 3), dict(id_index=0, force_suppress=True, overlap_thresh=0.3), 3)
    nms_case("nms_topk_valid", nms_data(rng, (3,), 9, 2),
             dict(id_index=0, topk=4, valid_thresh=0.3, overlap_thresh=0.4), 4)
    nms_case("nms_background", nms_data(rng, (2,), 8, 3), dict(id_index=0, background_id=1, overlap_thresh=0.2), 5)
    nms_case("nms_center_in", nms_data(rng, (2,), 8, 2), dict(in_format="center", out_format="center"), 6)
    nms_case("nms_to_center", nms_data(rng, (2,), 8, 2), dict(out_format="center", overlap_thresh=0.25), 7)
    nms_case("nms_to_corner", nms_data(rng, (2,), 8, 2), dict(in_format="center", overlap_thresh=0.25), 8)
    moved = nms_data(rng, (2, 2), 7, 2, width=8)[..., [2, 3, 4, 5, 6, 1, 0, 7]]  # coords first, score 5, id 6
    nms_case("nms_layout", moved, dict(coord_start=0, score_index=5, id_index=6, overlap_thresh=0.3), 9)
    nms_case("nms_ties", nms_data(rng, (), 6, 1, tie=True), dict(overlap_thresh=0.1), 10)
    nms_case("nms_topk0", nms_data(rng, (2,), 5, 2), dict(topk=0), 11)
    nms_case("nms_none_valid", nms_data(rng, (2,), 5, 2), dict(valid_thresh=2.0), 12)

    # box_iou
    for fmt in ("corner", "center"):
        lhs, rhs = boxes_corner(rng, (2, 3)), boxes_corner(rng, (5,))
        if fmt == "center":
            lhs[..., 2:] -= lhs[..., :2]
            rhs[..., 2:] -= rhs[..., :2]
            lhs[..., :2] += lhs[..., 2:] / 2
            rhs[..., :2] += rhs[..., 2:] / 2
        out = mx.nd.contrib.box_iou(mx.nd.array(lhs), mx.nd.array(rhs), format=fmt).asnumpy()
        put("iou_" + fmt, dict(format=fmt), lhs=lhs, rhs=rhs, out=out)

    # bipartite_matching
    for i, kw in enumerate([dict(threshold=1e-12), dict(threshold=0.3, topk=2), dict(threshold=0.6, is_ascend=True),
                            dict(threshold=0.2, topk=1)]):
        s = rng.uniform(0, 1, (2, 4, 3)).astype(np.float32)
        r, c = mx.nd.contrib.bipartite_matching(mx.nd.array(s), **kw)
        put("match%d" % i, kw, data=s, rows=r.asnumpy(), cols=c.asnumpy())

    # box_encode
    B, N, M = 2, 5, 3
    samples = rng.choice([-1.0, 0.0, 1.0], (B, N)).astype(np.float32)
    matches = rng.randint(0, M, (B, N)).astype(np.float32)
    anchors, refs = boxes_corner(rng, (B, N)), boxes_corner(rng, (B, M))
    means = np.array([0.1, -0.1, 0.05, 0.0], np.float32)
    stds = np.array([0.1, 0.1, 0.2, 0.2], np.float32)
    t, m = mx.nd.contrib.box_encode(*[mx.nd.array(a) for a in (samples, matches, anchors, refs, means, stds)])
    put("encode", {}, samples=samples, matches=matches, anchors=anchors, refs=refs, means=means, stds=stds,
        targets=t.asnumpy(), masks=m.asnumpy())

    # box_decode
    for i, kw in enumerate([dict(), dict(format="corner", std0=0.1, std1=0.1, std2=0.2, std3=0.2),
                            dict(format="center", clip=0.3), dict(format="corner", clip=0.1)]):
        data = rng.normal(0, 0.5, (2, 4, 4)).astype(np.float32)
        anc = boxes_corner(rng, (1, 4))
        out = mx.nd.contrib.box_decode(mx.nd.array(data), mx.nd.array(anc), **kw).asnumpy()
        put("decode%d" % i, kw, data=data, anchors=anc, out=out)

    # boolean_mask (axis 0 is all MXNet 1.9.1 supports)
    data = rng.normal(0, 1, (6, 3, 2)).astype(np.float32)
    index = np.array([1, 0, 1, 1, 0, 0], np.float32)
    x = mx.nd.array(data)
    x.attach_grad()
    head = rng.uniform(-1, 1, (3, 3, 2)).astype(np.float32)
    with mx.autograd.record():
        y = mx.nd.contrib.boolean_mask(x, mx.nd.array(index))
    y.backward(mx.nd.array(head))
    put("boolean_mask", {}, data=data, index=index, out=y.asnumpy(), head=head, grad=x.grad.asnumpy())

    # MultiBoxPrior
    for i, kw in enumerate([dict(), dict(sizes=(0.5, 0.25, 0.1), ratios=(1, 2, 0.5)),
                            dict(sizes=(0.9, 0.3), ratios=(1, 3), clip=True),
                            dict(sizes=(0.2,), ratios=(1, 2), steps=(0.2, 0.15), offsets=(0.3, 0.6))]):
        data = np.zeros((2, 3, 4, 5), np.float32)
        out = mx.nd.contrib.MultiBoxPrior(mx.nd.array(data), **kw).asnumpy()
        put("prior%d" % i, {k: list(v) if isinstance(v, tuple) else v for k, v in kw.items()}, shape=np.array(data.shape),
            out=out)

    # MultiBoxTarget: anchors of a 4x4 map, labels padded with -1 rows, random class predictions
    anchors = mx.nd.contrib.MultiBoxPrior(mx.nd.zeros((1, 1, 4, 4)), sizes=(0.3, 0.15), ratios=(1, 2)).asnumpy()
    A = anchors.shape[1]
    for i, kw in enumerate([dict(), dict(negative_mining_ratio=3, negative_mining_thresh=0.5),
                            dict(overlap_threshold=0.3, variances=[0.1, 0.1, 0.1, 0.1], ignore_label=-2),
                            dict(overlap_threshold=0.0, negative_mining_ratio=2, negative_mining_thresh=0.3)]):
        label = -np.ones((3, 4, 5), np.float32)
        for b, n in enumerate([3, 1, 0]):
            for k in range(n):
                lo = rng.uniform(0, 0.6, 2)
                label[b, k] = [rng.randint(0, 3)] + list(lo) + list(lo + rng.uniform(0.15, 0.4, 2))
        cls_pred = rng.normal(0, 1, (3, 4, A)).astype(np.float32)
        outs = mx.nd.contrib.MultiBoxTarget(mx.nd.array(anchors), mx.nd.array(label), mx.nd.array(cls_pred), **kw)
        put("target%d" % i, kw, anchor=anchors, label=label, cls_pred=cls_pred, loc_target=outs[0].asnumpy(),
            loc_mask=outs[1].asnumpy(), cls_target=outs[2].asnumpy())

    # MultiBoxDetection
    for i, kw in enumerate([dict(), dict(force_suppress=True, nms_threshold=0.3), dict(nms_topk=5, threshold=0.2),
                            dict(clip=False, nms_threshold=0.0), dict(variances=[0.2, 0.2, 0.1, 0.1], nms_threshold=0.6)]):
        logits = rng.normal(0, 2, (2, 4, A)).astype(np.float32)
        prob = np.exp(logits) / np.exp(logits).sum(1, keepdims=True)
        loc = rng.normal(0, 1, (2, A * 4)).astype(np.float32)
        out = mx.nd.contrib.MultiBoxDetection(mx.nd.array(prob), mx.nd.array(loc), mx.nd.array(anchors), **kw)
        put("detect%d" % i, kw, cls_prob=prob, loc_pred=loc, anchor=anchors, out=out.asnumpy())

    # PSROIPooling: ROIs inside, across and outside the map, a tiny one, several images
    for i, kw in enumerate([dict(spatial_scale=0.5, output_dim=2, pooled_size=3),
                            dict(spatial_scale=0.25, output_dim=3, pooled_size=2, group_size=2),
                            dict(spatial_scale=1.0, output_dim=1, pooled_size=4, group_size=2)]):
        g = kw.get("group_size", kw["pooled_size"])
        data = rng.normal(0, 1, (2, kw["output_dim"] * g * g, 7, 9)).astype(np.float32)
        rois = np.array([[0, 1, 2, 12, 10], [1, 0, 0, 17, 13], [0, 5.4, 3.6, 5.6, 4.2], [1, -4, 2, 30, 40],
                         [1, 16, 12, 40, 30]], np.float32)
        x = mx.nd.array(data)
        x.attach_grad()
        head = rng.uniform(-1, 1, (5, kw["output_dim"], kw["pooled_size"], kw["pooled_size"])).astype(np.float32)
        with mx.autograd.record():
            y = mx.nd.contrib.PSROIPooling(x, mx.nd.array(rois), **kw)
        y.backward(mx.nd.array(head))
        put("psroi%d" % i, kw, data=data, rois=rois, head=head, out=y.asnumpy(), grad=x.grad.asnumpy())

    # Proposal / MultiProposal: a 5x6 map, stride 8, small images so some cells fall outside
    for i, kw in enumerate([dict(rpn_pre_nms_top_n=60, rpn_post_nms_top_n=20, threshold=0.6, rpn_min_size=4,
                                 scales=(2, 4), ratios=(0.5, 1, 2), feature_stride=8, output_score=True),
                            dict(rpn_pre_nms_top_n=-1, rpn_post_nms_top_n=50, threshold=0.3, rpn_min_size=8,
                                 scales=(1, 3), ratios=(1, 2), feature_stride=8, output_score=True),
                            dict(rpn_pre_nms_top_n=30, rpn_post_nms_top_n=10, threshold=0.7, rpn_min_size=2,
                                 scales=(2,), ratios=(0.5, 1, 2), feature_stride=8, iou_loss=True, output_score=True)]):
        na = len(kw["scales"]) * len(kw["ratios"])
        for op, batch in (("Proposal", 1), ("MultiProposal", 2)):
            logits = rng.normal(0, 1, (batch, 2, na, 5, 6)).astype(np.float32)
            prob = (np.exp(logits) / np.exp(logits).sum(1, keepdims=True)).reshape(batch, 2 * na, 5, 6)
            deltas = rng.normal(0, 0.3 if not kw.get("iou_loss") else 3.0, (batch, 4 * na, 5, 6)).astype(np.float32)
            info = np.array([[36, 44, 1.0], [40, 48, 1.5]], np.float32)[:batch]
            f = getattr(mx.nd.contrib, op)
            rois, score = f(mx.nd.array(prob), mx.nd.array(deltas), mx.nd.array(info), **kw)
            put("%s%d" % (op.lower(), i), {k: list(v) if isinstance(v, tuple) else v for k, v in kw.items()},
                cls_prob=prob, bbox_pred=deltas, im_info=info, rois=rois.asnumpy(), score=score.asnumpy())

    # DeformableConvolution: offsets push taps across pixels and outside the map
    for i, kw in enumerate([dict(kernel=(3, 3), pad=(1, 1), num_filter=4),
                            dict(kernel=(3, 2), stride=(2, 1), dilate=(1, 2), pad=(1, 0), num_filter=6, num_group=2,
                                 num_deformable_group=2),
                            dict(kernel=(2, 2), num_filter=3, no_bias=True, num_deformable_group=4)]):
        C = 4
        x = rng.normal(0, 1, (2, C, 6, 7)).astype(np.float32)
        sym = mx.sym.contrib.DeformableConvolution(mx.sym.var("data"), mx.sym.var("offset"), **kw)
        (kh, kw_), (sh, sw) = kw["kernel"], kw.get("stride", (1, 1))
        (dh, dw), (ph, pw) = kw.get("dilate", (1, 1)), kw.get("pad", (0, 0))
        ho, wo = (6 + 2 * ph - dh * (kh - 1) - 1) // sh + 1, (7 + 2 * pw - dw * (kw_ - 1) - 1) // sw + 1
        oshape = (2, 2 * kh * kw_ * kw.get("num_deformable_group", 1), ho, wo)
        shapes = dict(zip(sym.list_arguments(), sym.infer_shape(data=x.shape, offset=oshape)[0]))
        off = rng.normal(0, 1.5, shapes["offset"]).astype(np.float32)
        wgt = rng.normal(0, 0.5, shapes[sym.list_arguments()[2]]).astype(np.float32)
        args = {"data": x, "offset": off, sym.list_arguments()[2]: wgt}
        if not kw.get("no_bias"):
            args[sym.list_arguments()[3]] = rng.normal(0, 0.5, (kw["num_filter"],)).astype(np.float32)
        nd = {k: mx.nd.array(v) for k, v in args.items()}
        grads = {k: mx.nd.zeros(v.shape) for k, v in args.items()}
        ex = sym.bind(mx.cpu(), nd, args_grad=grads)
        y = ex.forward(is_train=True)[0]
        head = rng.uniform(-1, 1, y.shape).astype(np.float32)
        ex.backward(mx.nd.array(head))
        names = ["data", "offset", "weight", "bias"]
        arrays = {"head": head, "out": y.asnumpy()}
        for n, k in zip(names, sym.list_arguments()):
            arrays[n] = args[k]
            arrays["grad_" + n] = grads[k].asnumpy()
        put("deform%d" % i, {k: list(v) if isinstance(v, tuple) else v for k, v in kw.items()}, **arrays)

    # ModulatedDeformableConvolution (DCNv2): offsets reach outside the map, masks in [0, 1]
    for i, kw in enumerate([dict(kernel=(3, 3), pad=(1, 1), num_filter=4),
                            dict(kernel=(3, 2), stride=(2, 1), dilate=(1, 2), pad=(1, 0), num_filter=6, num_group=2,
                                 num_deformable_group=2, no_bias=True)]):
        x = rng.normal(0, 1, (2, 4, 6, 7)).astype(np.float32)
        (kh, kw_), (sh, sw) = kw["kernel"], kw.get("stride", (1, 1))
        (dh, dw), (ph, pw) = kw.get("dilate", (1, 1)), kw.get("pad", (0, 0))
        ho, wo = (6 + 2 * ph - dh * (kh - 1) - 1) // sh + 1, (7 + 2 * pw - dw * (kw_ - 1) - 1) // sw + 1
        dg = kw.get("num_deformable_group", 1)
        arrays = {"data": x, "offset": rng.normal(0, 1.5, (2, 2 * kh * kw_ * dg, ho, wo)).astype(np.float32),
                  "mask": rng.uniform(0, 1, (2, kh * kw_ * dg, ho, wo)).astype(np.float32),
                  "weight": rng.normal(0, 0.5, (kw["num_filter"], 4 // kw.get("num_group", 1), kh, kw_)).astype(np.float32)}
        if not kw.get("no_bias"):
            arrays["bias"] = rng.normal(0, 0.5, (kw["num_filter"],)).astype(np.float32)
        # forward only: MXNet 1.9.1's CPU backward raises 'only implemented in GPU'
        y = mx.nd.contrib.ModulatedDeformableConvolution(*[mx.nd.array(v) for v in arrays.values()], **kw)
        put("mdeform%d" % i, {k: list(v) if isinstance(v, tuple) else v for k, v in kw.items()}, out=y.asnumpy(),
            **arrays)

    # gluon.rnn.LSTM(projection_size=...): parameters, states and outputs
    for i, (layers, bid) in enumerate([(2, False), (2, True), (1, False)]):
        net = mx.gluon.rnn.LSTM(5, num_layers=layers, projection_size=3, bidirectional=bid, input_size=4,
                                prefix="lstmp_")
        net.initialize(mx.init.Uniform(0.5))
        D = 2 if bid else 1
        x = rng.normal(size=(6, 2, 4)).astype(np.float32)
        h0 = rng.normal(size=(layers * D, 2, 3)).astype(np.float32)
        c0 = rng.normal(size=(layers * D, 2, 5)).astype(np.float32)
        out, (h, c) = net(mx.nd.array(x), [mx.nd.array(h0), mx.nd.array(c0)])
        params = {"param_" + k[len("lstmp_"):]: v.data().asnumpy() for k, v in net.collect_params().items()}
        put("lstmp%d" % i, dict(num_layers=layers, bidirectional=bid), x=x, h0=h0, c0=c0, out=out.asnumpy(),
            h=h.asnumpy(), c=c.asnumpy(), **params)

    np.savez_compressed(os.path.join(HERE, "contrib_detection_refs.npz"), **OUT)
    print("wrote %d arrays" % len(OUT))


if __name__ == "__main__":
    main()
