"""Intermediate values of a graph for monitors: ``Executor.set_monitor_callback`` and the op hook of
hybridized blocks (``HybridBlock.register_op_hook``). The graph's internals run once more through
the core executor (the fused plan does not keep intermediates); this module only names the values
as MXNet does: an operator's outputs '<node>_<output>', with monitor_all first its inputs
'<node>_<input>' (executors: each preceded by the source value's own name). Nothing is computed here."""
import json

from ..ndarray._internal_ops import op_schema

_INPUT_NAMES = {}
# MXNet 1.9.1 registers no input names for these ops: their inputs are reported as 'input0', ...
_UNNAMED_INPUTS = {"Activation", "SoftmaxActivation"}


def _input_names(op, count):
    """The op's input names (MXNet's FListInputNames): the registry's; 'argN' for variadic ops."""
    if op not in _INPUT_NAMES:
        s = op_schema(op)
        if op in _UNNAMED_INPUTS:
            _INPUT_NAMES[op] = "input"
        elif s.get("variadic_input") or op == "UpSampling":  # MXNet: UpSampling's inputs are arg0, arg1, ...
            _INPUT_NAMES[op] = "arg"
        else:
            _INPUT_NAMES[op] = list(s.get("inputs", [])) + list(s.get("aux", []))
    names = _INPUT_NAMES[op]
    if isinstance(names, str):
        return ["%s%d" % (names, i) for i in range(count)]
    return [names[i] if i < len(names) else "input%d" % i for i in range(count)]


def report(internals, outs, callback, monitor_all, sources):
    """Calls callback(name, op_name, array) over the operator nodes of `internals` (a Symbol's
    get_internals()) whose forward outputs are `outs`, in topological order. With `sources`
    (executor monitors), each monitored input is preceded by its source value under the source's
    own name ('data', 'conv_weight', ...), as MXNet's executor reports them."""
    names = internals.list_outputs()
    nodes = json.loads(internals.tojson())["nodes"]
    pos, entry = 0, {}  # (node id, output index) -> position in the internals' outputs
    for nid, node in enumerate(nodes):
        if node["op"] == "null":
            entry[(nid, 0)] = pos
            pos += 1
            continue
        k = 0
        while pos + k < len(names) and names[pos + k].startswith(node["name"] + "_"):
            entry[(nid, k)] = pos + k
            k += 1
        if monitor_all:
            for (src, idx, *_), iname in zip(node["inputs"], _input_names(node["op"], len(node["inputs"]))):
                if (src, idx) in entry:
                    at = entry[(src, idx)]
                    if sources:
                        callback(names[at], node["op"], outs[at])
                    callback("%s_%s" % (node["name"], iname), node["op"], outs[at])
        for j in range(k):
            callback(names[pos + j], node["op"], outs[pos + j])
        pos += k


def run_op_hook(cached, args, is_train, callback, monitor_all):
    """The op hook over a hybridized block's traced graph (`cached`, a gluon _CachedGraph) fed with `args`."""
    internals = cached.symbol.get_internals()
    ctx = args[0].context
    feed = dict(zip(cached.input_names, args))
    values = {n: feed[n] if n in feed else cached.params[n].data(ctx) for n in internals.list_arguments()}
    # copies: a training-mode rerun must not update running statistics a second time
    aux = {n: cached.params[n].data(ctx).copy() for n in internals.list_auxiliary_states()}
    ex = internals.bind(ctx, args=values, aux_states=aux, grad_req="null")
    report(internals, ex.forward(is_train=is_train), callback, monitor_all, sources=False)
