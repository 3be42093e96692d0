"""mx.AttrScope: attributes attached to every symbol created inside a `with` block."""
import threading


class AttrScope:
    """with mx.AttrScope(ctx_group='dev1'): ... gives each new symbol those attributes
    (attributes passed explicitly win). Scopes nest; inner values override outer ones."""

    _current = threading.local()

    def __init__(self, **kwargs):
        for k, v in kwargs.items():
            if not isinstance(v, str):
                raise ValueError("AttrScope: attribute '%s' must be a str, got %s" % (k, type(v).__name__))
        self._attr = kwargs
        self._old_scope = None

    def get(self, attr):
        """The scope's attributes updated with attr (a dict or None)."""
        if not self._attr:
            return dict(attr) if attr else {}
        out = dict(self._attr)
        if attr:
            out.update(attr)
        return out

    def __enter__(self):
        self._old_scope = AttrScope.active()
        merged = dict(self._old_scope._attr) if self._old_scope is not None else {}
        merged.update(self._attr)
        self._attr = merged
        AttrScope._current.value = self
        return self

    def __exit__(self, *exc):
        AttrScope._current.value = self._old_scope

    @classmethod
    def active(cls):
        return getattr(cls._current, "value", None)


class _CurrentDescriptor:
    def __get__(self, obj, cls):
        s = AttrScope.active()
        return s if s is not None else AttrScope()


AttrScope.current = _CurrentDescriptor()
