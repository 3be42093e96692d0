"""mx.name: automatic symbol naming (MXNet's NameManager and Prefix).

Outside any `with NameManager()` block the core names unnamed symbols itself; inside one, the
innermost manager chooses every name (Prefix adds its prefix to given names too)."""
import threading


class NameManager:
    """Names unnamed symbols hint0, hint1, ... (the hint is the op name in lower case)."""

    _current = threading.local()

    def __init__(self):
        self._counter = {}
        self._old_manager = None

    def get(self, name, hint):
        if name:
            return name
        n = self._counter.get(hint, 0)
        self._counter[hint] = n + 1
        return "%s%d" % (hint, n)

    def __enter__(self):
        self._old_manager = getattr(NameManager._current, "value", None)
        NameManager._current.value = self
        return self

    def __exit__(self, *exc):
        NameManager._current.value = self._old_manager

    @classmethod
    def active(cls):
        """The manager of the innermost `with` block, or None (then the core names symbols)."""
        return getattr(cls._current, "value", None)


class _CurrentDescriptor:
    def __get__(self, obj, cls):
        m = NameManager.active()
        if m is None:
            m = NameManager()
            NameManager._current.value = m
        return m


NameManager.current = _CurrentDescriptor()


class Prefix(NameManager):
    """Adds a prefix to every name created inside the block."""

    def __init__(self, prefix):
        super().__init__()
        self._prefix = prefix

    def get(self, name, hint):
        return self._prefix + super().get(name, hint)
