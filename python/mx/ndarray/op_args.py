"""Sorting an op call's arguments into inputs and parameters, as MXNet's generated functions do:
inputs first (positionally or by name, in the registry's order), then parameters positionally in
the registry's declaration order (`nd.repeat(x, 2)`, `nd.clip(x, 0, 1)`) or by keyword.

Shared by mx.nd and mx.sym so both accept the same call forms."""


def split_args(op_name, input_names, param_names, args, kwargs, is_input):
    """Returns the input objects in registry order (missing optional inputs left out; the core
    checks the count for ops whose inputs depend on parameters). Parameters given positionally
    are moved into kwargs; input keywords are removed from it. The returned list holds the input
    objects themselves, so callers keep them alive while their handles are in use."""
    if not input_names:
        # inputs named only at call time (UpSampling's arg0..argN): leading arrays are inputs
        lead = 0
        while lead < len(args) and is_input(args[lead]):
            lead += 1
        input_names = ["arg%d" % i for i in range(lead)]
    n_in = len(input_names)
    slots = [None] * n_in
    pos = 0
    for i, a in enumerate(args):
        if pos < n_in and (a is None or is_input(a)):
            slots[pos] = a
            pos += 1
            continue
        rest = args[i:]
        if pos < n_in and not param_names:
            raise TypeError("%s: input '%s' has the wrong type %s" % (op_name, input_names[pos], type(a).__name__))
        if len(rest) > len(param_names):
            raise TypeError("%s: takes at most %d positional arguments (%d inputs, then parameters %s), got %d"
                            % (op_name, n_in + len(param_names), n_in, param_names, len(args)))
        for pname, v in zip(param_names, rest):
            if is_input(v):
                raise TypeError("%s: parameter '%s' given an array/symbol positionally (inputs come first: %s)"
                                % (op_name, pname, input_names))
            if pname in kwargs:
                raise TypeError("%s: got multiple values for parameter '%s'" % (op_name, pname))
            kwargs[pname] = v
        break
    if kwargs:
        for j, k in enumerate(input_names):
            if k in kwargs:
                v = kwargs.pop(k)
                if v is None:
                    continue
                if not is_input(v):
                    raise TypeError("%s: input '%s' has the wrong type %s" % (op_name, k, type(v).__name__))
                if slots[j] is not None:
                    raise TypeError("%s: got multiple values for input '%s'" % (op_name, k))
                slots[j] = v
    return [x for x in slots if x is not None]
