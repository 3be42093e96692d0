"""ONNX LSTM/GRU/RNN -> MX's fused RNN operator (one layer each).

The ONNX weights W [D, G*H, I], R [D, G*H, H] and B [D, 2*G*H] are reordered to MXNet's gate
order with slice_axis/concat and flattened into the RNN operator's parameter vector (weights of
each direction, then biases), all inside the symbol, so they stay parameters. Y [T, D, N, H] is
MX's output [T, N, D*H] reshaped and transposed.
"""
from ._import import importer
from ._import_ops import _fail, _nm

_GATES = {"LSTM": 4, "GRU": 3, "RNN": 1}
# MXNet gate k is ONNX gate _FROM_ONNX[k] (LSTM: MX i,f,c,o / ONNX i,o,f,c; GRU: MX r,z,n / ONNX z,r,h)
_FROM_ONNX = {"LSTM": [0, 2, 3, 1], "GRU": [1, 0, 2], "RNN": [0]}


def _mx_order(S, t, op, d, rows, cols):
    """Direction d of t [D, G*rows(, cols)] as a flat vector in MX gate order."""
    g = _GATES[op]
    x = S.slice_axis(t, axis=0, begin=d, end=d + 1)
    x = S.reshape(x, shape=(g, rows, cols) if cols else (g, rows))
    if g > 1:
        x = S.Concat(*[S.slice_axis(x, axis=0, begin=k, end=k + 1) for k in _FROM_ONNX[op]], dim=0)
    return S.reshape(x, shape=(-1,))


@importer("LSTM", "GRU", "RNN")
def _rnn(ctx, node, a):
    S = ctx.S
    op = node.op_type
    H = int(a["hidden_size"])
    direction = a.get("direction", b"forward")
    direction = direction.decode() if isinstance(direction, bytes) else direction
    if direction == "reverse":
        raise _fail(node, "direction='reverse' is not supported")
    D = 2 if direction == "bidirectional" else 1
    if a.get("clip") is not None or a.get("input_forget"):
        raise _fail(node, "clip and input_forget are not supported")
    if op == "GRU" and not a.get("linear_before_reset"):
        raise _fail(node, "linear_before_reset=0 differs from MXNet's GRU")
    mode = {"LSTM": "lstm", "GRU": "gru"}.get(op)
    if op == "RNN":
        acts = [x.decode() if isinstance(x, bytes) else x for x in a.get("activations", ["Tanh"] * D)]
        if len(set(acts)) != 1 or acts[0] not in ("Tanh", "Relu"):
            raise _fail(node, "activations %s are not supported" % acts)
        mode = "rnn_tanh" if acts[0] == "Tanh" else "rnn_relu"
    ins = list(node.input) + [""] * (8 - len(node.input))
    if ins[4]:
        raise _fail(node, "sequence_lens is not supported")
    if op == "LSTM" and len(node.input) > 7 and node.input[7]:
        raise _fail(node, "peepholes are not supported")
    x, w, r = ctx.sym(ins[0]), ctx.sym(ins[1]), ctx.sym(ins[2])
    wshape = ctx.shape(ins[1])
    if wshape is None or len(wshape) != 3 or wshape[2] < 0:
        raise _fail(node, "the input size (W's shape) is unknown")
    isz = int(wshape[2])
    g = _GATES[op]
    parts = []
    for d in range(D):
        parts.append(_mx_order(S, w, op, d, H, isz))
        parts.append(_mx_order(S, r, op, d, H, H))
    if ins[3]:
        bias = ctx.sym(ins[3])
        for d in range(D):
            bd = S.slice_axis(bias, axis=0, begin=d, end=d + 1)
            wb = S.reshape(S.slice_axis(bd, axis=1, begin=0, end=g * H), shape=(1, g * H))
            rb = S.reshape(S.slice_axis(bd, axis=1, begin=g * H, end=2 * g * H), shape=(1, g * H))
            parts.append(_mx_order(S, wb, op, 0, H, None))
            parts.append(_mx_order(S, rb, op, 0, H, None))
    else:
        z = S.zeros_like(S.reshape(S.slice_axis(w, axis=1, begin=0, end=1), shape=(-1,)))
        zeros = S.broadcast_to(S.slice_axis(S.reshape(z, shape=(-1,)), axis=0, begin=0, end=1),
                               shape=(2 * D * g * H,))
        parts.append(zeros)
    flat = S.Concat(*parts, dim=0)

    def state(name):
        if name:
            return ctx.sym(name)
        z = S.zeros_like(S.slice_axis(S.slice_axis(x, axis=0, begin=0, end=1), axis=2, begin=0, end=1))
        return S.broadcast_axis(z, axis=(0, 2), size=(D, H))
    states = [state(ins[5])]
    if op == "LSTM":
        states.append(state(ins[6]))
    out = S.RNN(x, flat, *states, state_size=H, num_layers=1, bidirectional=D == 2, mode=mode,
                state_outputs=True, name=_nm(node) + "_rnn")
    y = S.transpose(S.reshape(out[0], shape=(0, 0, D, H)), axes=(0, 2, 1, 3), name=_nm(node))
    res = [y, out[1]]
    if op == "LSTM":
        res.append(out[2])
    return res
