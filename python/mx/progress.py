"""A dependency-free progress bar for training loops (terminal and notebooks)."""
import sys
import time


class ProgressBar:
    """ProgressBar(total, prefix) then .update(n, **metrics) and .close().

    Redraws in place with '\\r' on a terminal or in Jupyter; elsewhere (CI logs, pipes) prints a
    line every 10 % so logs stay short.
    """

    def __init__(self, total, prefix="", width=30, stream=None):
        self.total = max(int(total), 1)
        self.prefix = prefix
        self.width = width
        self.stream = stream or sys.stdout
        self.count = 0
        self.start = time.time()
        self._last_decile = -1
        isatty = getattr(self.stream, "isatty", lambda: False)()
        self._inplace = isatty or "ipykernel" in sys.modules

    def update(self, n=1, **metrics):
        self.count = min(self.count + n, self.total)
        frac = self.count / self.total
        elapsed = time.time() - self.start
        rate = self.count / elapsed if elapsed > 0 else 0.0
        filled = int(self.width * frac)
        bar = "#" * filled + "-" * (self.width - filled)
        extra = " ".join("%s=%.4f" % kv for kv in metrics.items())
        line = "%s [%s] %3d%% %d/%d %.1f it/s %s" % (self.prefix, bar, int(frac * 100), self.count,
                                                     self.total, rate, extra)
        if self._inplace:
            self.stream.write("\r" + line)
            self.stream.flush()
        else:
            decile = int(frac * 10)
            if decile != self._last_decile:
                self._last_decile = decile
                self.stream.write(line.rstrip() + "\n")
                self.stream.flush()

    def close(self):
        if self._inplace:
            self.stream.write("\n")
            self.stream.flush()
