"""MXNet's contrib detection operators (box_nms / box_non_maximum_suppression, box_iou,
bipartite_matching, box_encode, box_decode): against Apache MXNet 1.9.1's outputs
(tests/data/contrib_detection/make_contrib_detection_fixtures.py made the vectors), numpy
reference implementations written here, the box_nms gradient, the symbolic API and bad input."""
import json
import os

import numpy as np
import pytest

import mx
from finite_differences import central_gradient

REFS = np.load(os.path.join(os.path.dirname(__file__), "..", "..", "data", "contrib_detection",
                            "contrib_detection_refs.npz"))


def _case(name):
    c = {k.split("__", 1)[1]: REFS[k] for k in REFS.files if k.startswith(name + "__")}
    c["kwargs"] = json.loads(str(c["kwargs"]))
    return c


NMS_CASES = sorted({k.split("__")[0] for k in REFS.files if k.startswith("nms_")})


# ---- numpy references (independent of MX and of MXNet's code)
def _iou_np(a, b, fmt):
    if fmt == "center":
        a = np.concatenate([a[..., :2] - a[..., 2:] / 2, a[..., :2] + a[..., 2:] / 2], -1)
        b = np.concatenate([b[..., :2] - b[..., 2:] / 2, b[..., :2] + b[..., 2:] / 2], -1)
    a = a.reshape(-1, 4)[:, None, :]
    b = b.reshape(-1, 4)[None, :, :]
    w = np.clip(np.minimum(a[..., 2], b[..., 2]) - np.maximum(a[..., 0], b[..., 0]), 0, None)
    h = np.clip(np.minimum(a[..., 3], b[..., 3]) - np.maximum(a[..., 1], b[..., 1]), 0, None)
    inter = w * h
    area = lambda x: np.clip(x[..., 2] - x[..., 0], 0, None) * np.clip(x[..., 3] - x[..., 1], 0, None)
    with np.errstate(invalid="ignore", divide="ignore"):
        iou = inter / (area(a) + area(b) - inter)
    return np.where(inter > 0, iou, 0)


def _nms_np(data, overlap_thresh=0.5, valid_thresh=0.0, topk=-1, coord_start=2, score_index=1, id_index=-1,
            background_id=-1, force_suppress=False, in_format="corner", out_format="corner"):
    """Greedy NMS per batch: (output, index of the input row each output row came from or -1)."""
    shape = data.shape
    rows = data.reshape(-1, shape[-2], shape[-1])
    out = -np.ones_like(rows)
    src = -np.ones(rows.shape[:2], np.int64)
    n = shape[-2]
    for b, box in enumerate(rows):
        cand = [i for i in range(n) if box[i, score_index] > valid_thresh and
                (id_index < 0 or box[i, id_index] != background_id)]
        cand = sorted(cand, key=lambda i: -box[i, score_index])  # stable: ties keep input order
        if topk >= 0:
            cand = cand[:topk]
        kept = []
        for i in cand:
            ok = True
            for j in kept:
                if not force_suppress and id_index >= 0 and box[i, id_index] != box[j, id_index]:
                    continue
                c = slice(coord_start, coord_start + 4)
                if _iou_np(box[j, c], box[i, c], in_format)[0, 0] > overlap_thresh:
                    ok = False
                    break
            if ok:
                kept.append(i)
        for k, i in enumerate(kept):
            out[b, k] = box[i]
            src[b, k] = b * n + i
        if in_format != out_format:
            c = out[b, :, coord_start:coord_start + 4]
            live = c[:, 0] >= 0
            if out_format == "center":
                conv = np.concatenate([(c[:, :2] + c[:, 2:]) / 2, c[:, 2:] - c[:, :2]], 1)
            else:
                conv = np.concatenate([c[:, :2] - c[:, 2:] / 2, c[:, :2] + c[:, 2:] / 2], 1)
            c[live] = conv[live]
    return out.reshape(shape), src.reshape(shape[:-1])


# ---- box_nms
@pytest.mark.parametrize("case", NMS_CASES)
def test_box_nms_matches_mxnet(case):
    c = _case(case)
    x = mx.nd.array(c["data"])
    x.attach_grad()
    with mx.autograd.record():
        y = mx.nd.contrib.box_nms(x, **c["kwargs"])
    y.backward(mx.nd.array(c["head"]))
    np.testing.assert_allclose(y.asnumpy(), c["out"], rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(x.grad.asnumpy(), c["grad"], rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("kwargs", [
    {}, dict(id_index=0, overlap_thresh=0.3), dict(id_index=0, force_suppress=True, topk=5, valid_thresh=0.2),
    dict(in_format="center", out_format="corner", overlap_thresh=0.2), dict(id_index=0, background_id=0)])
def test_box_nms_numpy_reference_and_gradient(kwargs):
    rng = np.random.RandomState(7)
    data = np.concatenate([rng.randint(0, 3, (3, 15, 1)), rng.uniform(0, 1, (3, 15, 1)),
                           rng.uniform(0, 0.5, (3, 15, 2)), rng.uniform(0.5, 1, (3, 15, 2))], -1)
    want, src = _nms_np(data, **kwargs)
    x = mx.nd.array(data, dtype="float64")
    x.attach_grad()
    head = rng.normal(size=data.shape)
    with mx.autograd.record():
        y = mx.nd.contrib.box_non_maximum_suppression(x, **kwargs)
    y.backward(mx.nd.array(head, dtype="float64"))
    np.testing.assert_allclose(y.asnumpy(), want, rtol=1e-12)
    # gradient: each kept output row's head gradient lands on its input row; suppressed rows get 0
    grad = np.zeros_like(data).reshape(-1, data.shape[-1])
    flat_src, flat_head = src.reshape(-1), head.reshape(-1, data.shape[-1])
    grad[flat_src[flat_src >= 0]] = flat_head[flat_src >= 0]
    np.testing.assert_allclose(x.grad.asnumpy(), grad.reshape(data.shape), rtol=1e-12)


def test_box_nms_gradient_finite_differences():
    # The kept rows are a permutation of input rows: small perturbations of the coordinates do not
    # change which boxes survive, so central differences of sum(head * out) give the gradient.
    rng = np.random.RandomState(3)
    data = np.concatenate([rng.uniform(0, 1, (6, 1)), rng.uniform(0, 0.3, (6, 2)) + np.arange(6)[:, None] * 0.1,
                           rng.uniform(0.6, 0.9, (6, 2))], -1)
    kw = dict(coord_start=1, score_index=0, overlap_thresh=0.6)
    head = rng.normal(size=data.shape)
    f = lambda d: float((mx.nd.contrib.box_nms(mx.nd.array(d, dtype="float64"), **kw).asnumpy() * head).sum())
    x = mx.nd.array(data, dtype="float64")
    x.attach_grad()
    with mx.autograd.record():
        y = mx.nd.contrib.box_nms(x, **kw)
    y.backward(mx.nd.array(head, dtype="float64"))
    eps, fd = 1e-6, np.zeros_like(data)
    for idx in np.ndindex(*data.shape):
        if idx[1] == 0:
            continue  # scores: moving one may reorder ties; coordinates suffice
        d1, d2 = data.copy(), data.copy()
        d1[idx] += eps
        d2[idx] -= eps
        fd[idx] = (f(d1) - f(d2)) / (2 * eps)
    np.testing.assert_allclose(x.grad.asnumpy()[:, 1:], fd[:, 1:], rtol=1e-5, atol=1e-7)


def test_box_nms_symbol_executor():
    c = _case("nms_class")
    s = mx.sym.contrib.box_nms(mx.sym.var("data"), **c["kwargs"])
    assert s.list_outputs() == [s.name + "_output"]
    grad = mx.nd.zeros(c["data"].shape)
    ex = s.bind(mx.cpu(), {"data": mx.nd.array(c["data"])}, args_grad={"data": grad})
    out = ex.forward(is_train=True)[0]
    ex.backward(mx.nd.array(c["head"]))
    np.testing.assert_allclose(out.asnumpy(), c["out"], rtol=1e-6)
    np.testing.assert_allclose(grad.asnumpy(), c["grad"], rtol=1e-6)


@pytest.mark.parametrize("shape, kwargs, msg", [
    ((5,), {}, "at least 2 dimensions"),
    ((3, 4), {}, "at least 5"),
    ((3, 6), dict(score_index=3), "score_index"),
    ((3, 6), dict(coord_start=3), "coord"),
    ((3, 6), dict(id_index=1), "id_index"),
    ((3, 6), dict(id_index=2), "id_index"),
])
def test_box_nms_bad_input(shape, kwargs, msg):
    with pytest.raises(mx.MXNetError, match=msg):
        mx.nd.contrib.box_nms(mx.nd.zeros(shape), **kwargs)
    with pytest.raises(mx.MXNetError, match="in_format"):
        mx.nd.contrib.box_nms(mx.nd.zeros((3, 6)), in_format="diagonal")


# ---- box_iou
@pytest.mark.parametrize("fmt", ["corner", "center"])
def test_box_iou(fmt):
    c = _case("iou_" + fmt)
    out = mx.nd.contrib.box_iou(mx.nd.array(c["lhs"]), mx.nd.array(c["rhs"]), format=fmt).asnumpy()
    assert out.shape == c["lhs"].shape[:-1] + c["rhs"].shape[:-1]
    np.testing.assert_allclose(out, c["out"], rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(out.reshape(-1), _iou_np(c["lhs"], c["rhs"], fmt).reshape(-1), rtol=1e-5, atol=1e-7)


def test_box_iou_zero_gradient_and_errors():
    a, b = mx.nd.array([[0, 0, 1, 1.0]]), mx.nd.array([[0.5, 0.5, 2, 2.0]])
    a.attach_grad()
    with mx.autograd.record():
        y = mx.nd.contrib.box_iou(a, b)
    y.backward()
    np.testing.assert_allclose(y.asnumpy(), [[0.25 / (1 + 2.25 - 0.25)]], rtol=1e-6)
    assert (a.grad.asnumpy() == 0).all()
    with pytest.raises(mx.MXNetError, match="lhs"):
        mx.nd.contrib.box_iou(mx.nd.zeros((2, 3)), b)
    with pytest.raises(mx.MXNetError, match="rhs"):
        mx.nd.contrib.box_iou(a, mx.nd.zeros((4,)))


# ---- bipartite_matching
def _matching_np(s, threshold, is_ascend=False, topk=-1):
    rows, cols = -np.ones(s.shape[:-1]), -np.ones(s.shape[:-2] + s.shape[-1:])
    for b in range(s.shape[0]):
        flat = s[b].reshape(-1)
        order = np.argsort(flat if is_ascend else -flat, kind="stable")
        count = 0
        for idx in order:
            r, c = divmod(idx, s.shape[-1])
            if rows[b, r] != -1 or cols[b, c] != -1:
                continue
            if not (flat[idx] < threshold if is_ascend else flat[idx] > threshold):
                break
            rows[b, r], cols[b, c] = c, r
            count += 1
            if topk > 0 and count > topk:
                break
    return rows, cols


@pytest.mark.parametrize("i", range(4))
def test_bipartite_matching(i):
    c = _case("match%d" % i)
    r, cl = mx.nd.contrib.bipartite_matching(mx.nd.array(c["data"]), **c["kwargs"])
    np.testing.assert_array_equal(r.asnumpy(), c["rows"])
    np.testing.assert_array_equal(cl.asnumpy(), c["cols"])
    rr, cc = _matching_np(c["data"], **c["kwargs"])
    np.testing.assert_array_equal(r.asnumpy(), rr)
    np.testing.assert_array_equal(cl.asnumpy(), cc)


def test_bipartite_matching_needs_threshold():
    with pytest.raises(mx.MXNetError, match="threshold"):
        mx.nd.contrib.bipartite_matching(mx.nd.zeros((2, 3)))
    with pytest.raises(mx.MXNetError, match="2 dimensions"):
        mx.nd.contrib.bipartite_matching(mx.nd.zeros((3,)), threshold=0.1)


# ---- box_encode / box_decode
def test_box_encode():
    c = _case("encode")
    names = ["samples", "matches", "anchors", "refs", "means", "stds"]
    t, m = mx.nd.contrib.box_encode(*[mx.nd.array(c[n]) for n in names])
    np.testing.assert_allclose(t.asnumpy(), c["targets"], rtol=1e-5, atol=1e-6)
    np.testing.assert_array_equal(m.asnumpy(), c["masks"])
    # numpy reference
    ref = c["refs"][np.arange(2)[:, None], c["matches"].astype(int)]
    rc, rs = (ref[..., :2] + ref[..., 2:]) / 2, ref[..., 2:] - ref[..., :2]
    ac, asz = (c["anchors"][..., :2] + c["anchors"][..., 2:]) / 2, c["anchors"][..., 2:] - c["anchors"][..., :2]
    want = (np.concatenate([(rc - ac) / asz, np.log(rs / asz)], -1) - c["means"]) / c["stds"]
    want = np.where(c["samples"][..., None] > 0.5, want, 0)
    np.testing.assert_allclose(t.asnumpy(), want, rtol=1e-4, atol=1e-5)
    sym = mx.sym.contrib.box_encode(*[mx.sym.var(n) for n in names])
    assert sym.list_arguments() == names
    with pytest.raises(mx.MXNetError, match="samples"):
        mx.nd.contrib.box_encode(mx.nd.ones((2, 4)), *[mx.nd.array(c[n]) for n in names[1:]])
    bad = c["matches"].copy()
    bad[c["samples"] > 0.5] = 7
    with pytest.raises(mx.MXNetError, match="out of range"):
        mx.nd.contrib.box_encode(*[mx.nd.array(bad if n == "matches" else c[n]) for n in names])[0].asnumpy()


@pytest.mark.parametrize("i", range(4))
def test_box_decode(i):
    c = _case("decode%d" % i)
    kw = c["kwargs"]
    out = mx.nd.contrib.box_decode(mx.nd.array(c["data"]), mx.nd.array(c["anchors"]), **kw).asnumpy()
    np.testing.assert_allclose(out, c["out"], rtol=1e-5, atol=1e-6)
    a = c["anchors"][0].astype(np.float64)
    if kw.get("format", "center") == "corner":
        a = np.concatenate([(a[:, :2] + a[:, 2:]) / 2, a[:, 2:] - a[:, :2]], 1)
    std = np.array([kw.get("std%d" % k, 1.0) for k in range(4)])
    d = c["data"] * std
    if kw.get("clip", -1) > 0:
        d[..., 2:] = np.minimum(d[..., 2:], kw["clip"])
    centre, size = d[..., :2] * a[:, 2:] + a[:, :2], np.exp(d[..., 2:]) * a[:, 2:]
    np.testing.assert_allclose(out, np.concatenate([centre - size / 2, centre + size / 2], -1), rtol=1e-4, atol=1e-5)


def test_box_decode_bad_input():
    with pytest.raises(mx.MXNetError, match="data must be"):
        mx.nd.contrib.box_decode(mx.nd.zeros((2, 4)), mx.nd.zeros((1, 2, 4)))
    with pytest.raises(mx.MXNetError, match="anchors"):
        mx.nd.contrib.box_decode(mx.nd.zeros((1, 2, 4)), mx.nd.zeros((1, 2, 3)))


# ---- MultiBoxPrior / MultiBoxTarget / MultiBoxDetection (SSD)
def _prior_np(h, w, sizes=(1.0,), ratios=(1.0,), clip=False, steps=(-1, -1), offsets=(0.5, 0.5)):
    sy, sx = (1.0 / h, 1.0 / w) if steps[0] <= 0 or steps[1] <= 0 else steps
    halves = [(s * h / w * np.sqrt(ratios[0]) / 2, s / np.sqrt(ratios[0]) / 2) for s in sizes]
    halves += [(sizes[0] * h / w * np.sqrt(r) / 2, sizes[0] / np.sqrt(r) / 2) for r in ratios[1:]]
    out = []
    for r in range(h):
        for c in range(w):
            cy, cx = (r + offsets[0]) * sy, (c + offsets[1]) * sx
            out += [[cx - hw, cy - hh, cx + hw, cy + hh] for hw, hh in halves]
    out = np.array(out)[None]
    return np.clip(out, 0, 1) if clip else out


@pytest.mark.parametrize("i", range(4))
def test_multibox_prior(i):
    c = _case("prior%d" % i)
    out = mx.nd.contrib.MultiBoxPrior(mx.nd.zeros(tuple(c["shape"])), **c["kwargs"]).asnumpy()
    np.testing.assert_allclose(out, c["out"], rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(out, _prior_np(c["shape"][2], c["shape"][3], **c["kwargs"]), rtol=1e-5, atol=1e-6)
    s = mx.sym.contrib.MultiBoxPrior(mx.sym.var("data"), **c["kwargs"])
    assert s.infer_shape(data=tuple(c["shape"]))[1] == [out.shape]


@pytest.mark.parametrize("i", range(4))
def test_multibox_target(i):
    c = _case("target%d" % i)
    outs = mx.nd.contrib.MultiBoxTarget(mx.nd.array(c["anchor"]), mx.nd.array(c["label"]), mx.nd.array(c["cls_pred"]),
                                        **c["kwargs"])
    np.testing.assert_allclose(outs[0].asnumpy(), c["loc_target"], rtol=1e-5, atol=1e-5)
    np.testing.assert_array_equal(outs[1].asnumpy(), c["loc_mask"])
    np.testing.assert_array_equal(outs[2].asnumpy(), c["cls_target"])
    # positives decode back to their ground-truth box (independent check of the encoding)
    var = np.array(c["kwargs"].get("variances", [0.1, 0.1, 0.2, 0.2]))
    anc = c["anchor"][0]
    for b in range(c["label"].shape[0]):
        t = outs[0].asnumpy()[b].reshape(-1, 4)
        for j in np.nonzero(outs[2].asnumpy()[b] > 0)[0]:
            a = anc[j]
            aw, ah = a[2] - a[0], a[3] - a[1]
            cx, cy = t[j, 0] * var[0] * aw + (a[0] + a[2]) / 2, t[j, 1] * var[1] * ah + (a[1] + a[3]) / 2
            w, h = np.exp(t[j, 2] * var[2]) * aw, np.exp(t[j, 3] * var[3]) * ah
            box = np.array([cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2])
            gts = c["label"][b][:, 1:5]
            assert np.abs(gts - box).max(1).min() < 1e-4


def _detection_np(prob, loc, anc, clip=True, threshold=0.01, nms_threshold=0.5, force_suppress=False,
                  variances=(0.1, 0.1, 0.2, 0.2), nms_topk=-1, background_id=0):
    B, C, A = prob.shape
    out = -np.ones((B, A, 6))
    for b in range(B):
        rows = []
        for i in range(A):
            j = 1 + int(np.argmax(prob[b, 1:, i]))
            score = prob[b, j, i]
            a, d = anc[0, i], loc[b, 4 * i:4 * i + 4]
            aw, ah = a[2] - a[0], a[3] - a[1]
            cx, cy = d[0] * variances[0] * aw + (a[0] + a[2]) / 2, d[1] * variances[1] * ah + (a[1] + a[3]) / 2
            w, h = np.exp(d[2] * variances[2]) * aw / 2, np.exp(d[3] * variances[3]) * ah / 2
            box = np.array([cx - w, cy - h, cx + w, cy + h])
            if clip:
                box = np.clip(box, 0, 1)
            if score >= threshold:
                rows.append(np.concatenate([[j - 1, score], box]))
        if not rows:
            continue
        rows = np.array(rows)
        out[b, :len(rows)] = rows
        if nms_threshold <= 0 or nms_threshold > 1:
            continue
        order = np.argsort(-rows[:, 1], kind="stable")
        keep = len(rows) if nms_topk <= 0 else min(nms_topk, len(rows))
        out[b, keep:len(rows), 0] = -1
        out[b, :keep] = rows[order[:keep]]
        for i in range(keep):
            if out[b, i, 0] < 0:
                continue
            for j in range(i + 1, keep):
                if out[b, j, 0] >= 0 and (force_suppress or out[b, i, 0] == out[b, j, 0]):
                    if _iou_np(out[b, i, 2:], out[b, j, 2:], "corner")[0, 0] >= nms_threshold:
                        out[b, j, 0] = -1
    return out


@pytest.mark.parametrize("i", range(5))
def test_multibox_detection(i):
    c = _case("detect%d" % i)
    args = [mx.nd.array(c[n]) for n in ("cls_prob", "loc_pred", "anchor")]
    out = mx.nd.contrib.MultiBoxDetection(*args, **c["kwargs"]).asnumpy()
    np.testing.assert_allclose(out, c["out"], rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(out, _detection_np(c["cls_prob"], c["loc_pred"], c["anchor"], **c["kwargs"]),
                               rtol=1e-4, atol=1e-5)


def test_multibox_bad_input_and_zero_gradients():
    with pytest.raises(mx.MXNetError, match="height"):
        mx.nd.contrib.MultiBoxPrior(mx.nd.zeros((1, 2, 3)))
    with pytest.raises(mx.MXNetError, match="offsets"):
        mx.nd.contrib.MultiBoxPrior(mx.nd.zeros((1, 1, 2, 2)), offsets=(0.5, 1.5))
    anc = mx.nd.contrib.MultiBoxPrior(mx.nd.zeros((1, 1, 2, 2)))
    with pytest.raises(mx.MXNetError, match="cls_pred"):
        mx.nd.contrib.MultiBoxTarget(anc, mx.nd.zeros((1, 2, 5)), mx.nd.zeros((1, 3, 5)))
    with pytest.raises(mx.MXNetError, match="anchors disagrees"):
        mx.nd.contrib.MultiBoxDetection(mx.nd.zeros((1, 3, 4)), mx.nd.zeros((1, 12)), anc)
    prob = mx.nd.softmax(mx.nd.array(np.random.RandomState(0).normal(size=(1, 3, 4))), axis=1)
    loc = mx.nd.zeros((1, 16))
    prob.attach_grad()
    loc.attach_grad()
    with mx.autograd.record():
        out = mx.nd.contrib.MultiBoxDetection(prob, loc, anc)
    out.backward()
    assert (prob.grad.asnumpy() == 0).all() and (loc.grad.asnumpy() == 0).all()


# ---- PSROIPooling
def _psroi_np(data, rois, spatial_scale, output_dim, pooled_size, group_size=0):
    g = group_size or pooled_size
    H, W = data.shape[2:]
    out = np.zeros((len(rois), output_dim, pooled_size, pooled_size))
    for n, r in enumerate(rois):
        x0, y0 = np.round(r[1]) * spatial_scale, np.round(r[2]) * spatial_scale
        x1, y1 = (np.round(r[3]) + 1) * spatial_scale, (np.round(r[4]) + 1) * spatial_scale
        bh, bw = max(y1 - y0, 0.1) / pooled_size, max(x1 - x0, 0.1) / pooled_size
        for k in range(output_dim):
            for ph in range(pooled_size):
                for pw in range(pooled_size):
                    h0, h1 = [int(np.clip(v, 0, H)) for v in (np.floor(ph * bh + y0), np.ceil((ph + 1) * bh + y0))]
                    w0, w1 = [int(np.clip(v, 0, W)) for v in (np.floor(pw * bw + x0), np.ceil((pw + 1) * bw + x0))]
                    c = (k * g + min(ph * g // pooled_size, g - 1)) * g + min(pw * g // pooled_size, g - 1)
                    patch = data[int(r[0]), c, h0:h1, w0:w1]
                    out[n, k, ph, pw] = patch.mean() if patch.size else 0
    return out


@pytest.mark.parametrize("i", range(3))
def test_psroipooling(i):
    c = _case("psroi%d" % i)
    x = mx.nd.array(c["data"])
    x.attach_grad()
    with mx.autograd.record():
        y = mx.nd.contrib.PSROIPooling(x, mx.nd.array(c["rois"]), **c["kwargs"])
    y.backward(mx.nd.array(c["head"]))
    np.testing.assert_allclose(y.asnumpy(), c["out"], rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(x.grad.asnumpy(), c["grad"], rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(y.asnumpy(), _psroi_np(c["data"], c["rois"], **c["kwargs"]), rtol=1e-5, atol=1e-6)


def test_psroipooling_gradient_finite_differences_and_errors():
    rng = np.random.RandomState(4)
    data = rng.normal(size=(1, 8, 5, 6))
    rois = np.array([[0, 0, 0, 9, 7], [0, 2, 1, 5, 8.0]])
    kw = dict(spatial_scale=0.5, output_dim=2, pooled_size=2)
    head = rng.normal(size=(2, 2, 2, 2))
    x = mx.nd.array(data, dtype="float64")
    x.attach_grad()
    with mx.autograd.record():
        y = mx.nd.contrib.PSROIPooling(x, mx.nd.array(rois, dtype="float64"), **kw)
    y.backward(mx.nd.array(head, dtype="float64"))
    # the op is linear in data: the gradient is the adjoint, checked by <head, f(e_i)> for every basis e_i
    fd = np.zeros_like(data)
    for idx in np.ndindex(*data.shape):
        e = np.zeros_like(data)
        e[idx] = 1
        fd[idx] = (mx.nd.contrib.PSROIPooling(mx.nd.array(e, dtype="float64"), mx.nd.array(rois, dtype="float64"),
                                              **kw).asnumpy() * head).sum()
    np.testing.assert_allclose(x.grad.asnumpy(), fd, rtol=1e-12, atol=1e-12)
    with pytest.raises(mx.MXNetError, match="channels"):
        mx.nd.contrib.PSROIPooling(mx.nd.zeros((1, 7, 5, 6)), mx.nd.array(rois), **kw)
    with pytest.raises(mx.MXNetError, match="rois"):
        mx.nd.contrib.PSROIPooling(mx.nd.zeros((1, 8, 5, 6)), mx.nd.zeros((2, 4)), **kw)
    with pytest.raises(mx.MXNetError, match="batch index"):
        mx.nd.contrib.PSROIPooling(mx.nd.zeros((1, 8, 5, 6)), mx.nd.array([[3, 0, 0, 2, 2]]), **kw).asnumpy()


# ---- Proposal / MultiProposal (Faster R-CNN RPN)
@pytest.mark.parametrize("op", ["Proposal", "MultiProposal"])
@pytest.mark.parametrize("i", range(3))
def test_proposal_matches_mxnet(op, i):
    c = _case("%s%d" % (op.lower(), i))
    args = [mx.nd.array(c[n]) for n in ("cls_prob", "bbox_pred", "im_info")]
    rois, score = getattr(mx.nd.contrib, op)(*args, **c["kwargs"])
    np.testing.assert_allclose(rois.asnumpy(), c["rois"], rtol=1e-5, atol=1e-4)
    np.testing.assert_allclose(score.asnumpy(), c["score"], rtol=1e-6, atol=1e-7)
    # independent properties: boxes inside the image, batch indices, scores sorted within the kept prefix
    post = c["kwargs"]["rpn_post_nms_top_n"]
    r = rois.asnumpy().reshape(-1, post, 5)
    for b in range(r.shape[0]):
        assert (r[b, :, 0] == b).all()
    kw = dict(c["kwargs"], output_score=False)
    only = getattr(mx.nd.contrib, op)(*args, **kw)
    assert isinstance(only, mx.nd.NDArray) and only.shape == rois.shape


def test_proposal_symbol_and_errors():
    s = mx.sym.contrib.MultiProposal(mx.sym.var("cls_prob"), mx.sym.var("bbox_pred"), mx.sym.var("im_info"),
                                     rpn_post_nms_top_n=7, scales=(2, 4), ratios=(1,))
    args, outs, _ = s.infer_shape(cls_prob=(3, 4, 5, 6))
    assert args == [(3, 4, 5, 6), (3, 8, 5, 6), (3, 3)] and outs == [(21, 5)]
    with pytest.raises(mx.MXNetError, match="one image"):
        mx.nd.contrib.Proposal(mx.nd.ones((2, 24, 3, 3)), mx.nd.ones((2, 48, 3, 3)), mx.nd.ones((2, 3)))
    with pytest.raises(mx.MXNetError, match="channels"):
        mx.nd.contrib.Proposal(mx.nd.ones((1, 4, 3, 3)), mx.nd.ones((1, 8, 3, 3)), mx.nd.ones((1, 3)))
    with pytest.raises(mx.MXNetError, match="feature map"):
        mx.nd.contrib.Proposal(mx.nd.ones((1, 24, 3, 3)), mx.nd.zeros((1, 48, 3, 3)),
                               mx.nd.array([[480, 480, 1]])).asnumpy()


# ---- DeformableConvolution
@pytest.mark.parametrize("i", range(3))
def test_deformable_convolution_matches_mxnet(i):
    c = _case("deform%d" % i)
    kw = c["kwargs"]
    names = ["data", "offset", "weight"] + ([] if kw.get("no_bias") else ["bias"])
    arrs = [mx.nd.array(c[n]) for n in names]
    for a in arrs:
        a.attach_grad()
    with mx.autograd.record():
        y = mx.nd.contrib.DeformableConvolution(*arrs, **kw)
    y.backward(mx.nd.array(c["head"]))
    np.testing.assert_allclose(y.asnumpy(), c["out"], rtol=1e-4, atol=1e-4)
    for n, a in zip(names, arrs):
        np.testing.assert_allclose(a.grad.asnumpy(), c["grad_" + n], rtol=1e-4, atol=1e-4, err_msg=n)


def _deform_np(x, off, w, b, kernel, stride=(1, 1), dilate=(1, 1), pad=(0, 0), num_group=1, num_deformable_group=1,
               **_):
    """Direct definition: every tap sampled bilinearly at its moved position (0 outside the map)."""
    B, C, H, W = x.shape
    F, kh, kw = w.shape[0], kernel[0], kernel[1]
    Ho, Wo = off.shape[2:]
    cpg, cg, fg = C // num_deformable_group, C // num_group, F // num_group

    def sample(plane, h, v):
        if not (0 <= h < H and 0 <= v < W):
            return 0.0
        h0, v0 = int(np.floor(h)), int(np.floor(v))
        h1, v1 = min(h0 + 1, H - 1), min(v0 + 1, W - 1)
        if h0 >= H - 1:
            h = h0 = H - 1
        if v0 >= W - 1:
            v = v0 = W - 1
        a, bb = h - h0, v - v0
        return (1 - a) * (1 - bb) * plane[h0, v0] + (1 - a) * bb * plane[h0, v1] + a * (1 - bb) * plane[h1, v0] + \
            a * bb * plane[h1, v1]

    out = np.zeros((B, F, Ho, Wo))
    for n in range(B):
        for f in range(F):
            g = f // fg
            for ho in range(Ho):
                for wo in range(Wo):
                    s = 0.0 if b is None else b[f]
                    for c in range(g * cg, (g + 1) * cg):
                        base = (c // cpg) * 2 * kh * kw
                        for i in range(kh):
                            for j in range(kw):
                                t = i * kw + j
                                h = ho * stride[0] - pad[0] + i * dilate[0] + off[n, base + 2 * t, ho, wo]
                                v = wo * stride[1] - pad[1] + j * dilate[1] + off[n, base + 2 * t + 1, ho, wo]
                                s += w[f, c - g * cg, i, j] * sample(x[n, c], h, v)
                    out[n, f, ho, wo] = s
    return out


def test_deformable_convolution_numpy_and_finite_differences():
    rng = np.random.RandomState(11)
    kw = dict(kernel=(2, 3), stride=(1, 2), pad=(1, 1), num_filter=2, num_group=2, num_deformable_group=2)
    x = rng.normal(size=(1, 4, 4, 5))
    off = rng.uniform(-2, 2, (1, 24, 5, 3))
    w = rng.normal(size=(2, 2, 2, 3))
    b = rng.normal(size=(2,))
    arrs = [mx.nd.array(a, dtype="float64") for a in (x, off, w, b)]
    for a in arrs:
        a.attach_grad()
    head = rng.normal(size=(1, 2, 5, 3))
    with mx.autograd.record():
        y = mx.nd.contrib.DeformableConvolution(*arrs, **kw)
    y.backward(mx.nd.array(head, dtype="float64"))
    np.testing.assert_allclose(y.asnumpy(), _deform_np(x, off, w, b, **kw), rtol=1e-10, atol=1e-10)
    f = lambda *v: float((mx.nd.contrib.DeformableConvolution(*[mx.nd.array(a, dtype="float64") for a in v], **kw)
                          .asnumpy() * head).sum())
    vals = [x, off, w, b]
    for k, name in enumerate(["data", "offset", "weight", "bias"]):
        fd = central_gradient(f, vals, k)
        np.testing.assert_allclose(arrs[k].grad.asnumpy(), fd, rtol=1e-5, atol=1e-6, err_msg=name)


def test_deformable_convolution_shapes_and_errors():
    s = mx.sym.contrib.DeformableConvolution(mx.sym.var("data"), mx.sym.var("offset"), kernel=(3, 3), num_filter=8,
                                             num_deformable_group=2, stride=(2, 2))
    args, outs, _ = s.infer_shape(data=(2, 4, 9, 9))
    assert args[1:] == [(2, 36, 4, 4), (8, 4, 3, 3), (8,)] and outs == [(2, 8, 4, 4)]
    with pytest.raises(mx.MXNetError, match="offset"):
        mx.nd.contrib.DeformableConvolution(mx.nd.ones((1, 4, 5, 5)), mx.nd.ones((1, 9, 3, 3)), mx.nd.ones((2, 4, 3, 3)),
                                            mx.nd.ones(2), kernel=(3, 3), num_filter=2)
    with pytest.raises(mx.MXNetError, match="num_deformable_group"):
        mx.nd.contrib.DeformableConvolution(mx.nd.ones((1, 4, 5, 5)), mx.nd.ones((1, 54, 3, 3)), mx.nd.ones((2, 4, 3, 3)),
                                            mx.nd.ones(2), kernel=(3, 3), num_filter=2, num_deformable_group=3)
    with pytest.raises(mx.MXNetError, match="2-d"):
        mx.nd.contrib.DeformableConvolution(mx.nd.ones((1, 4, 5)), mx.nd.ones((1, 6, 3)), mx.nd.ones((2, 4, 3)),
                                            mx.nd.ones(2), kernel=(3,), num_filter=2)


# ---- ModulatedDeformableConvolution (DCNv2)
def _mdeform_np(x, off, mask, w, b, kernel, stride=(1, 1), dilate=(1, 1), pad=(0, 0), num_group=1,
                num_deformable_group=1, **_):
    """Direct definition: each tap bilinear on the zero-padded map (reads in (-1, H) x (-1, W)) times its mask."""
    B, C, H, W = x.shape
    F, kh, kw = w.shape[0], kernel[0], kernel[1]
    Ho, Wo = off.shape[2:]
    cpg, cg, fg = C // num_deformable_group, C // num_group, F // num_group

    def sample(plane, h, v):
        if not (-1 < h < H and -1 < v < W):
            return 0.0
        h0, v0 = int(np.floor(h)), int(np.floor(v))
        px = lambda r, q: plane[r, q] if 0 <= r < H and 0 <= q < W else 0.0
        a, bb = h - h0, v - v0
        return (1 - a) * (1 - bb) * px(h0, v0) + (1 - a) * bb * px(h0, v0 + 1) + a * (1 - bb) * px(h0 + 1, v0) + \
            a * bb * px(h0 + 1, v0 + 1)

    out = np.zeros((B, F, Ho, Wo))
    for n in range(B):
        for f in range(F):
            g = f // fg
            for ho in range(Ho):
                for wo in range(Wo):
                    s = 0.0 if b is None else b[f]
                    for c in range(g * cg, (g + 1) * cg):
                        dgi = c // cpg
                        for i in range(kh):
                            for j in range(kw):
                                t = i * kw + j
                                h = ho * stride[0] - pad[0] + i * dilate[0] + off[n, dgi * 2 * kh * kw + 2 * t, ho, wo]
                                v = wo * stride[1] - pad[1] + j * dilate[1] + off[n, dgi * 2 * kh * kw + 2 * t + 1, ho, wo]
                                s += w[f, c - g * cg, i, j] * sample(x[n, c], h, v) * mask[n, dgi * kh * kw + t, ho, wo]
                    out[n, f, ho, wo] = s
    return out


@pytest.mark.parametrize("i", range(2))
def test_modulated_deformable_convolution_matches_mxnet(i):
    c = _case("mdeform%d" % i)
    kw = c["kwargs"]
    names = ["data", "offset", "mask", "weight"] + ([] if kw.get("no_bias") else ["bias"])
    y = mx.nd.contrib.ModulatedDeformableConvolution(*[mx.nd.array(c[n]) for n in names], **kw)
    np.testing.assert_allclose(y.asnumpy(), c["out"], rtol=1e-4, atol=1e-4)
    ref = _mdeform_np(*[c[n] for n in ("data", "offset", "mask", "weight")], c.get("bias"), **kw)
    np.testing.assert_allclose(y.asnumpy(), ref, rtol=1e-4, atol=1e-4)


def test_modulated_deformable_convolution_gradients():
    rng = np.random.RandomState(12)
    kw = dict(kernel=(2, 2), stride=(1, 2), pad=(1, 1), num_filter=2, num_deformable_group=2)
    vals = [rng.normal(size=(1, 4, 4, 5)), rng.uniform(-2, 2, (1, 16, 5, 3)), rng.uniform(0, 1, (1, 8, 5, 3)),
            rng.normal(size=(2, 4, 2, 2)), rng.normal(size=(2,))]
    arrs = [mx.nd.array(a, dtype="float64") for a in vals]
    for a in arrs:
        a.attach_grad()
    head = rng.normal(size=(1, 2, 5, 3))
    with mx.autograd.record():
        y = mx.nd.contrib.ModulatedDeformableConvolution(*arrs, **kw)
    y.backward(mx.nd.array(head, dtype="float64"))
    np.testing.assert_allclose(y.asnumpy(), _mdeform_np(*vals, **kw), rtol=1e-10, atol=1e-10)
    f = lambda *v: float((mx.nd.contrib.ModulatedDeformableConvolution(
        *[mx.nd.array(a, dtype="float64") for a in v], **kw).asnumpy() * head).sum())
    for k, name in enumerate(["data", "offset", "mask", "weight", "bias"]):
        fd = central_gradient(f, vals, k)
        np.testing.assert_allclose(arrs[k].grad.asnumpy(), fd, rtol=1e-5, atol=1e-6, err_msg=name)
    s = mx.sym.contrib.ModulatedDeformableConvolution(mx.sym.var("data"), mx.sym.var("offset"), mx.sym.var("mask"),
                                                      kernel=(3, 3), num_filter=8, num_deformable_group=2)
    assert s.infer_shape(data=(2, 4, 9, 9))[0][1:] == [(2, 36, 7, 7), (2, 18, 7, 7), (8, 4, 3, 3), (8,)]


def test_mx_contrib_short_aliases():
    # MXNet 1.x code calls mx.contrib.nd.box_nms / mx.contrib.sym.MultiBoxPrior
    c = _case("nms_default")
    np.testing.assert_allclose(mx.contrib.nd.box_nms(mx.nd.array(c["data"])).asnumpy(), c["out"], rtol=1e-6)
    assert mx.contrib.sym.MultiBoxPrior(mx.sym.var("x")).infer_shape(x=(1, 3, 2, 2))[1] == [(1, 4, 4)]
