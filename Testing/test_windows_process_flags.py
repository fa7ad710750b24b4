"""On Windows the engine's launcher (PythonSlicer.exe, a console program) and taskkill start without a console
window: run here with the platform patched to Windows, since no Windows machine runs these tests."""
import io
import subprocess
import types

import pytest

from GANTranslateLib import background_process

CREATE_NO_WINDOW, CREATE_NEW_PROCESS_GROUP, STARTF_USESHOWWINDOW, SW_HIDE = 0x08000000, 0x00000200, 0x1, 0


class StartupInfoAsOnWindows:
    """subprocess.STARTUPINFO as Windows' Python defines it (absent elsewhere)."""

    def __init__(self):
        self.dwFlags, self.wShowWindow = 0, 1


class PopenRecorder:
    made: list = []

    def __init__(self, command, **options):
        self.command, self.options, self.pid, self.returncode = command, options, 4242, None
        self.stdout, self.stderr = io.StringIO(""), io.StringIO("")
        PopenRecorder.made.append(self)

    def poll(self):
        return self.returncode

    def wait(self, timeout=None):
        self.returncode = 1
        return 1


@pytest.fixture
def windows(monkeypatch):
    monkeypatch.setattr(background_process, "os", types.SimpleNamespace(name="nt"))
    for name, value in (("STARTUPINFO", StartupInfoAsOnWindows), ("CREATE_NO_WINDOW", CREATE_NO_WINDOW),
                        ("CREATE_NEW_PROCESS_GROUP", CREATE_NEW_PROCESS_GROUP),
                        ("STARTF_USESHOWWINDOW", STARTF_USESHOWWINDOW), ("SW_HIDE", SW_HIDE)):
        monkeypatch.setattr(subprocess, name, value, raising=False)
    PopenRecorder.made = []
    monkeypatch.setattr(subprocess, "Popen", PopenRecorder)
    runs = []
    monkeypatch.setattr(subprocess, "run", lambda command, **options: runs.append((command, options)))
    return runs


def hidden(options: dict) -> bool:
    info = options.get("startupinfo")
    return (bool(options.get("creationflags", 0) & CREATE_NO_WINDOW) and info is not None
            and bool(info.dwFlags & STARTF_USESHOWWINDOW) and info.wShowWindow == SW_HIDE)


def test_the_engine_starts_without_a_console_window_in_a_group_of_its_own(windows) -> None:
    process = background_process.BackgroundProcess(["PythonSlicer.exe", "-m", "GANTranslateLib.cli"])
    options = PopenRecorder.made[0].options
    assert hidden(options)
    assert options["creationflags"] & CREATE_NEW_PROCESS_GROUP  # so that Cancel ends the whole tree
    assert "start_new_session" not in options
    process.cancel()


def test_cancel_runs_taskkill_hidden_on_the_whole_tree(windows) -> None:
    process = background_process.BackgroundProcess(["PythonSlicer.exe", "-m", "GANTranslateLib.cli"])
    process.cancel()
    (command, options), = windows
    assert command == ["taskkill", "/T", "/F", "/PID", "4242"]
    assert hidden(options)


def test_posix_keeps_its_own_session_and_no_windows_options() -> None:
    if background_process.os.name != "posix":
        pytest.skip("checks the POSIX options")
    assert background_process.process_group_options() == {"start_new_session": True}
    assert background_process.hidden_window_options() == {}
