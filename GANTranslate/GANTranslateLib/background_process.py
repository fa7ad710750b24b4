"""The background translation as a child process: output read on threads, handed out by ``poll``, and a
cancel that ends the whole process tree.

Why not Qt's QProcess: Slicer's ``PythonSlicer`` is a launcher, and the Python that computes runs as its
child. Killing the launcher (what QProcess.kill does) leaves that child computing, and holding GPU memory,
until it next writes to a closed pipe. So the child is started in a process group of its own (a new
session on POSIX, a new process group on Windows) and Cancel ends the group (``killpg``) or, on Windows,
the tree (``taskkill /T``). On Windows the child is also started without a console window
(``CREATE_NO_WINDOW`` and a hidden ``STARTUPINFO``, as Slicer's own ``launchConsoleProcess`` does): ``PythonSlicer.exe``
is a console program, so a window would open on every Apply, and closing it would kill the run; ``taskkill`` is
started hidden the same way. A command that cannot start raises at once, where QProcess would only emit
``errorOccurred`` and never ``finished``. Both pipes are drained by threads, so neither can fill and block
the child. The Slicer module polls this from a timer; tests drive it, or a stand-in with the same
methods, without Slicer.
"""
from __future__ import annotations

import os
import queue
import signal
import subprocess
import threading
from typing import Optional, Protocol, Sequence

from .errors import GANTranslateError


class TranslationProcess(Protocol):
    """What the module needs of a running translation (BackgroundProcess, or a test's fake)."""

    def poll(self) -> tuple[list[str], list[str], Optional[int]]: ...

    def cancel(self) -> None: ...


def hidden_window_options(new_group: bool = False) -> dict:
    """Popen options that start a program without a console window on Windows (nothing elsewhere)."""
    if os.name != "nt":
        return {}
    startupinfo = subprocess.STARTUPINFO()
    startupinfo.dwFlags |= subprocess.STARTF_USESHOWWINDOW
    startupinfo.wShowWindow = subprocess.SW_HIDE
    flags = subprocess.CREATE_NO_WINDOW | (subprocess.CREATE_NEW_PROCESS_GROUP if new_group else 0)
    return {"creationflags": flags, "startupinfo": startupinfo}


def process_group_options() -> dict:
    """Popen options that put the child in a process group of its own, so Cancel can end the whole tree."""
    if os.name == "posix":
        return {"start_new_session": True}
    return hidden_window_options(new_group=True)


class BackgroundProcess:
    def __init__(self, command: Sequence[str], env: Optional[dict[str, str]] = None) -> None:
        options = process_group_options()
        try:
            self.process = subprocess.Popen(list(command), env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                            text=True, encoding="utf-8", errors="replace", bufsize=1, **options)
        except OSError as error:
            raise GANTranslateError(f"could not start the translation process {command[0]} ({error.strerror}); "
                                    "check the Slicer installation") from None
        self._lines: queue.Queue[str] = queue.Queue()
        self._errors: queue.Queue[str] = queue.Queue()
        self._readers = [threading.Thread(target=self._drain, args=(self.process.stdout, self._lines), daemon=True),
                         threading.Thread(target=self._drain, args=(self.process.stderr, self._errors), daemon=True)]
        for reader in self._readers:
            reader.start()
        self.cancelled = False

    @property
    def pid(self) -> int:
        return self.process.pid

    @staticmethod
    def _drain(stream, into: queue.Queue) -> None:
        for line in stream:
            into.put(line)
        stream.close()

    def poll(self) -> tuple[list[str], list[str], Optional[int]]:
        """The stdout lines and stderr text that arrived since the last call, and the exit code once the
        process has ended and all of its output has been handed out (else None)."""
        finished = self.process.poll() is not None and not any(r.is_alive() for r in self._readers)
        lines, errors = _take(self._lines), _take(self._errors)
        return lines, errors, (self.process.returncode if finished else None)

    def wait(self, timeout: Optional[float] = None) -> int:
        self.process.wait(timeout)
        for reader in self._readers:
            reader.join(timeout)
        return self.process.returncode

    def cancel(self) -> None:
        """End the process and every process it started; return once the child has gone."""
        self.cancelled = True
        if self.process.poll() is None:
            if os.name == "posix":
                try:
                    os.killpg(self.process.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            else:
                subprocess.run(["taskkill", "/T", "/F", "/PID", str(self.process.pid)], capture_output=True,
                               **hidden_window_options())
        self.process.wait()
        for reader in self._readers:
            reader.join(5)


def _take(source: queue.Queue) -> list[str]:
    items = []
    while True:
        try:
            items.append(source.get_nowait())
        except queue.Empty:
            return items

