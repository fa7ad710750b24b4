"""Progress for people (a bar on a terminal) and for programs (one JSON object per line)."""
from __future__ import annotations

import json
import sys
from typing import Optional, TextIO


class JsonLinesProgress:
    """One JSON line per step on stdout, flushed at once; the Slicer module reads these."""

    def __init__(self, stream: Optional[TextIO] = None) -> None:
        self.stream = stream or sys.stdout  # looked up when made, not when this module was imported

    def __call__(self, stage: str, done: int, total: int) -> None:
        self.event("progress", stage=stage, done=done, total=total)

    def event(self, kind: str, **fields) -> None:
        self.stream.write(json.dumps({"event": kind, **fields}) + "\n")
        self.stream.flush()

    def close(self) -> None:
        pass


class TerminalProgress:
    """A tqdm bar per stage on stderr."""

    def __init__(self) -> None:
        self.bar = None
        self.stage: Optional[str] = None

    def __call__(self, stage: str, done: int, total: int) -> None:
        from tqdm import tqdm

        if stage != self.stage:
            self.close()
            self.stage = stage
            if stage == "compiling":  # tens of seconds without a bar: say what is happening
                print("compiling the network for this CPU (once per model, precision and size; later runs take it "
                      "from the cache) ...", file=sys.stderr)
            if stage == "inference":
                self.bar = tqdm(total=total, desc="translating", unit="batch", file=sys.stderr, leave=False)
        if self.bar is not None:
            self.bar.n = done
            self.bar.refresh()

    def event(self, kind: str, **fields) -> None:
        pass

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None


class NoProgress:
    def __call__(self, stage: str, done: int, total: int) -> None:
        pass

    def event(self, kind: str, **fields) -> None:
        pass

    def close(self) -> None:
        pass


def make_reporter(kind: str):
    if kind == "json":
        return JsonLinesProgress()
    if kind == "bar" or (kind == "auto" and sys.stderr.isatty()):
        return TerminalProgress()
    return NoProgress()
