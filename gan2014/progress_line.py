"""A one-line progress display rewritten in place (steps done / total, elapsed, remaining, fields).

Used by the commands that run for minutes without a training loop of their own (the inference net's
training, the semi-supervised classifier sweep). Nothing is shown before ``delay`` seconds so that
fast runs (tests) stay silent, and the line is redrawn at most every ``interval`` seconds.
"""
import sys
import time


class StepProgress:
    """``update(done, **fields)`` redraws ``label: done/total, elapsed, ~remaining, k v ...``."""

    def __init__(self, label, total, stream=None, delay=1.0, interval=0.5, enabled=True):
        if int(total) <= 0:
            raise ValueError(f"{label}: the progress total must be positive, got {total!r}")
        self.label, self.total = label, int(total)
        self.stream = sys.stderr if stream is None else stream
        self.delay, self.interval, self.enabled = delay, interval, enabled
        self.began = time.perf_counter()
        self.last_shown = None
        self.width = 0

    def elapsed(self):
        return time.perf_counter() - self.began

    def update(self, done, **fields):
        if not self.enabled:
            return
        now, elapsed = time.perf_counter(), self.elapsed()
        if self.last_shown is None and elapsed < self.delay and done < self.total:
            return
        if self.last_shown is not None and now - self.last_shown < self.interval \
                and done < self.total:
            return
        remaining = elapsed / max(done, 1) * (self.total - done)
        parts = [f"{self.label}: {done}/{self.total}", f"{elapsed:.0f}s", f"~{remaining:.0f}s left"]
        parts += [f"{key} {_short(value)}" for key, value in fields.items()]
        text = ", ".join(parts)
        # Blanks cover the rest of a longer previous line.
        self.stream.write("\r" + text.ljust(self.width))
        self.stream.flush()
        self.width, self.last_shown = len(text), now

    def close(self):
        if self.enabled and self.last_shown is not None:
            self.stream.write("\n")
            self.stream.flush()


def _short(value):
    return f"{value:.4g}" if isinstance(value, float) else str(value)
