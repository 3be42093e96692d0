"""Operator sub-namespaces laid out as MXNet's: `mx.nd.linalg.potrf` is the registered op
`linalg_potrf` (alias `_linalg_potrf`), and the same for `mx.sym.linalg`."""
import sys
import types


def make_namespace(fullname, ops, prefix, doc):
    """A module `fullname` holding every function of the dict `ops` whose name starts with `prefix`,
    under the name without it; registered in sys.modules so that `import fullname` works."""
    module = types.ModuleType(fullname, doc)
    for name, fn in sorted(ops.items()):
        if name.startswith(prefix) and callable(fn) and len(name) > len(prefix):
            setattr(module, name[len(prefix):], fn)
    sys.modules[fullname] = module
    return module
