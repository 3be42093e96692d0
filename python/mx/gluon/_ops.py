"""Look up registered operators by name for F (mx.nd or mx.sym), with a clear error when an
operator is not (yet) registered in the loaded libmx."""


def op(F, name, layer=None):
    fn = getattr(F, name, None)
    if fn is None:
        fn = getattr(getattr(F, "_internal", None), name, None)
    if fn is None:
        raise NotImplementedError(
            "%soperator '%s' is not registered in this libmx build; the layer cannot run until the "
            "core provides it" % ("%s: " % layer if layer else "", name))
    return fn
