"""A bad-call case: a call and what must come out of it: an exception of an expected type whose
message holds a fragment, or a value equal to an independent (numpy) reference."""
import re

import numpy as np


class Case:
    def __init__(self, group, name, fn, raises=None, match=None, value=None, check=None):
        self.group, self.name, self.fn = group, "%s: %s" % (group, name), fn
        self.raises, self.match, self.value, self.check = raises, match, value, check

    def run(self):
        try:
            got = self.fn()
        except Exception as e:  # noqa: BLE001 - classified below
            if self.raises is None:
                return "fail", "raised %s: %s" % (type(e).__name__, str(e)[:400])
            if not isinstance(e, self.raises):
                return "fail", "raised %s (%s), expected %s" % (
                    type(e).__name__, str(e)[:400], _names(self.raises))
            if type(e).__name__ == "MXInternalError":
                return "fail", "MXInternalError is never a clear error: %s" % str(e)[:400]
            if self.match and not re.search(self.match, str(e), re.I | re.S):
                return "fail", "%s message %r lacks %r" % (type(e).__name__, str(e)[:400], self.match)
            return "pass", type(e).__name__
        if self.raises is not None:
            return "fail", "returned %r, expected %s" % (_short(got), _names(self.raises))
        if self.check is not None:
            ok = self.check(got)
            return ("pass", "") if ok else ("fail", "check failed on %r" % (_short(got),))
        want = self.value() if callable(self.value) else self.value
        g = got.asnumpy() if hasattr(got, "asnumpy") else got
        try:
            np.testing.assert_allclose(np.asarray(g, dtype=np.float64), np.asarray(want, dtype=np.float64),
                                       rtol=1e-5, atol=1e-6)
        except AssertionError as e:
            return "fail", "value mismatch: %s" % str(e)[:400]
        except (TypeError, ValueError):
            if g != want:
                return "fail", "value %r != %r" % (_short(g), _short(want))
        return "pass", ""


def _names(t):
    return " or ".join(x.__name__ for x in (t if isinstance(t, tuple) else (t,)))


def _short(v):
    r = repr(v)
    return r[:200]
