"""Progress bars for training loops (Module.fit's default callback, the Estimator's
ProgressHandler).

- In Jupyter (ipykernel loaded) the bar is tqdm.auto's widget when tqdm is installed.
- On a terminal it redraws in place with '\\r', at most every `min_interval` seconds (a few
  times a second, however fast the batches come) plus the final state.
- Elsewhere (CI logs, pipes) it prints one line per 10 %, so logs stay short.

The rate is measured from the first update: the first batch carries one-off costs (memory
allocation, graph binding), so later rates count only the batches after it, over the time since
it ended; the first update itself shows that one batch's rate.
"""
import sys
import time


def _in_notebook():
    return "ipykernel" in sys.modules


class ProgressBar:
    """ProgressBar(total, prefix) then .update(n, **metrics) and .close()."""

    def __init__(self, total, prefix="", width=30, stream=None, min_interval=0.25, clock=None):
        self.total = max(int(total), 1)
        self.prefix = prefix
        self.width = width
        self.stream = stream or sys.stdout
        self.min_interval = float(min_interval)
        self._clock = clock or time.monotonic
        self.count = 0
        self.start = self._clock()
        self._first = None  # (time, count) at the first update
        self._last_draw = None
        self._last_decile = -1
        self.draws = 0
        self._tqdm = None
        if stream is None and _in_notebook():
            try:
                from tqdm.auto import tqdm
                self._tqdm = tqdm(total=self.total, desc=prefix, mininterval=self.min_interval)
            except ImportError:
                pass
        isatty = getattr(self.stream, "isatty", lambda: False)()
        self._inplace = isatty or _in_notebook()

    def rate(self, now=None):
        """Items per second, measured from the first update (see the module docstring)."""
        now = self._clock() if now is None else now
        if self._first is None:
            return 0.0
        t0, c0 = self._first
        if self.count > c0 and now > t0:
            return (self.count - c0) / (now - t0)
        return c0 / (t0 - self.start) if t0 > self.start else 0.0

    def update(self, n=1, **metrics):
        self.count = min(self.count + n, self.total)
        now = self._clock()
        if self._first is None:
            self._first = (now, self.count)
        if self._tqdm is not None:
            self._tqdm.update(n)
            if metrics:
                self._tqdm.set_postfix(metrics, refresh=False)
            return
        done = self.count >= self.total
        if self._inplace:
            if not done and self._last_draw is not None and now - self._last_draw < self.min_interval:
                return
        else:
            decile = int(self.count * 10 / self.total)
            if decile == self._last_decile:
                return
            self._last_decile = decile
        self._last_draw = now
        self._draw(now, metrics)

    def _draw(self, now, metrics):
        frac = self.count / self.total
        filled = int(self.width * frac)
        bar = "#" * filled + "-" * (self.width - filled)
        extra = " ".join("%s=%.4f" % kv for kv in metrics.items())
        line = "%s [%s] %3d%% %d/%d %.1f it/s %s" % (self.prefix, bar, int(frac * 100), self.count,
                                                     self.total, self.rate(now), extra)
        self.draws += 1
        if self._inplace:
            self.stream.write("\r" + line)
        else:
            self.stream.write(line.rstrip() + "\n")
        self.stream.flush()

    def close(self):
        if self._tqdm is not None:
            self._tqdm.close()
            return
        if self._inplace:
            self.stream.write("\n")
            self.stream.flush()
