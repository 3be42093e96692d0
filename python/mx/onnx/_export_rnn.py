"""ONNX converter of MX's fused RNN operator (modes lstm, gru, rnn_tanh, rnn_relu).

MX's RNN takes one flat parameter vector: all weights (layer by layer, direction by direction,
i2h then h2h), then all biases in the same order. ONNX's LSTM/GRU/RNN are one layer each with
W [D, G*H, I], R [D, G*H, H], B [D, 2*G*H] and another gate order, so the converter slices the
flat vector in the graph (it stays valid when the parameters are graph inputs), reorders the gate
blocks with Gather, and chains one ONNX node per layer. Gate orders: MXNet LSTM i,f,c,o vs ONNX
i,o,f,c; MXNet GRU r,z,n vs ONNX z,r,h (linear_before_reset=1 is MXNet's GRU).
"""
from ._export import converter

_GATES = {"lstm": 4, "gru": 3, "rnn_tanh": 1, "rnn_relu": 1}
# ONNX gate k takes MXNet gate _ORDER[mode][k]
_ORDER = {"lstm": [0, 3, 1, 2], "gru": [1, 0, 2], "rnn_tanh": [0], "rnn_relu": [0]}
_ONNX_OP = {"lstm": "LSTM", "gru": "GRU", "rnn_tanh": "RNN", "rnn_relu": "RNN"}


def _piece(b, n, flat, offset, rows, cols, mode, hint):
    """Slice flat[offset : offset + G*rows*cols] -> [1, G*rows, cols] in ONNX gate order."""
    g = _GATES[mode]
    size = g * rows * cols
    s = b.add("Slice", [flat, b.ints([offset], hint + "_start"), b.ints([offset + size], hint + "_end"),
                        b.ints([0], hint + "_axis")], hint=hint + "_flat")
    s = b.add("Reshape", [s, b.ints([g, rows, cols], hint + "_gshape")], hint=hint + "_gates")
    if g > 1:
        s = b.add("Gather", [s, b.ints(_ORDER[mode], hint + "_order")], hint=hint + "_reordered",
                  axis=0)
    out = b.add("Reshape", [s, b.ints([1, g * rows, cols], hint + "_shape")], hint=hint)
    return out, offset + size


@converter("RNN")
def convert_rnn(b, n):
    """RNN (lstm/gru/rnn_tanh/rnn_relu, stacked, bidirectional) -> one LSTM/GRU/RNN per layer."""
    a = n.attrs
    mode = a["mode"]
    if a.get("projection_size") not in (None, 0):
        raise n.fail("projection_size is not supported")
    if a.get("lstm_state_clip_min") is not None or a.get("lstm_state_clip_max") is not None:
        raise n.fail("lstm_state_clip_min/max have no ONNX equivalent")
    if a.get("use_sequence_length"):
        raise n.fail("use_sequence_length=True is not supported")
    H, L = int(a["state_size"]), int(a["num_layers"])
    D = 2 if a["bidirectional"] else 1
    g = _GATES[mode]
    x, flat, h0 = n.inputs[0], n.inputs[1], n.inputs[2]
    c0 = n.inputs[3] if mode == "lstm" else None
    in_size = n.in_shapes[0][2]
    # weights first
    off = 0
    W, R = [], []
    for layer in range(L):
        isz = in_size if layer == 0 else D * H
        w_d, r_d = [], []
        for d in range(D):
            hint = "%s_l%d_d%d" % (n.name, layer, d)
            w, off = _piece(b, n, flat, off, H, isz, mode, hint + "_W")
            r, off = _piece(b, n, flat, off, H, H, mode, hint + "_R")
            w_d.append(w)
            r_d.append(r)
        W.append(w_d)
        R.append(r_d)
    B = []
    for layer in range(L):
        b_d = []
        for d in range(D):
            hint = "%s_l%d_d%d" % (n.name, layer, d)
            wb, off = _piece(b, n, flat, off, H, 1, mode, hint + "_Wb")
            rb, off = _piece(b, n, flat, off, H, 1, mode, hint + "_Rb")
            wb = b.add("Reshape", [wb, b.ints([1, g * H], hint + "_bshape")], hint=hint + "_Wb2")
            rb = b.add("Reshape", [rb, b.ints([1, g * H], hint + "_bshape2")], hint=hint + "_Rb2")
            b_d.append(b.add("Concat", [wb, rb], hint=hint + "_B", axis=1))
        B.append(b_d)

    def cat(parts, hint):
        return parts[0] if len(parts) == 1 else b.add("Concat", parts, hint=hint, axis=0)

    attrs = dict(hidden_size=H, direction="bidirectional" if D == 2 else "forward")
    if mode == "gru":
        attrs["linear_before_reset"] = 1
    elif mode in ("rnn_tanh", "rnn_relu"):
        attrs["activations"] = ["Tanh" if mode == "rnn_tanh" else "Relu"] * D
    hs, cs = [], []
    y = x
    for layer in range(L):
        hint = "%s_l%d" % (n.name, layer)

        def state(s, what):
            return b.add("Slice", [s, b.ints([layer * D], hint + what + "_start"),
                                   b.ints([(layer + 1) * D], hint + what + "_end"),
                                   b.ints([0], hint + what + "_axis")], hint=hint + what)
        ins = [y, cat(W[layer], hint + "_W"), cat(R[layer], hint + "_R"),
               cat(B[layer], hint + "_B"), "", state(h0, "_h0")]
        if mode == "lstm":
            ins.append(state(c0, "_c0"))
        outs = b.add(_ONNX_OP[mode], ins, hint=hint + "_out", n_out=3 if mode == "lstm" else 2,
                     **attrs)
        yl, hl = outs[0], outs[1]
        hs.append(hl)
        if mode == "lstm":
            cs.append(outs[2])
        # Y [T, D, N, H] -> [T, N, D*H]
        yt = b.add("Transpose", [yl], hint=hint + "_yT", perm=[0, 2, 1, 3])
        last = layer == L - 1
        y = b.add("Reshape", [yt, b.ints([0, 0, -1], hint + "_yshape")],
                  n.outputs[0] if last else None, hint=None if last else hint + "_y")
    if len(n.outputs) > 1:
        if len(hs) == 1:
            b.add("Identity", hs, n.outputs[1])
        else:
            b.add("Concat", hs, n.outputs[1], axis=0)
    if len(n.outputs) > 2:
        if len(cs) == 1:
            b.add("Identity", cs, n.outputs[2])
        else:
            b.add("Concat", cs, n.outputs[2], axis=0)
