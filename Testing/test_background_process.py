"""The background process the Slicer module runs: Cancel ends the launcher and its child, a command that
cannot start is one clear error, and a child that floods stderr cannot block."""
import os
import sys
import textwrap
import time
from pathlib import Path

import pytest

from conftest import DATA, make_package
from GANTranslateLib.background_process import BackgroundProcess
from GANTranslateLib.background_run import RunRequest, child_environment, parse_line, predict_command
from GANTranslateLib.errors import GANTranslateError
from GANTranslateLib.inference_options import InferenceOptions

# A launcher as PythonSlicer is: it starts the real worker as its child and waits for it.
LAUNCHER = textwrap.dedent("""
    import subprocess, sys, time
    worker = subprocess.Popen([sys.executable, "-c", "import time\\nwhile True: time.sleep(0.1)"])
    print(worker.pid, flush=True)
    worker.wait()
""")


def alive(pid: int) -> bool:
    """True while the process exists and is not a zombie waiting for its parent."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    status = Path(f"/proc/{pid}/status")
    return not (status.exists() and "\nState:\tZ" in status.read_text(encoding="utf-8"))


def first_line(process: BackgroundProcess, timeout: float = 30) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        lines, _, _ = process.poll()
        if lines:
            return lines[0]
        time.sleep(0.05)
    raise AssertionError("no output from the child")


@pytest.mark.skipif(os.name != "posix", reason="process groups are POSIX; Windows uses taskkill /T")
def test_cancel_ends_the_launcher_and_its_child(tmp_path: Path) -> None:
    process = BackgroundProcess([sys.executable, "-c", LAUNCHER])
    worker = int(first_line(process))
    assert alive(process.pid) and alive(worker)
    process.cancel()
    deadline = time.monotonic() + 5
    while alive(worker) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not alive(process.pid) and not alive(worker)  # with a plain kill of the launcher, the worker lives on


def test_a_command_that_cannot_start_is_one_error() -> None:
    with pytest.raises(GANTranslateError, match="could not start the translation process"):
        BackgroundProcess(["/nonexistent/PythonSlicer", "-m", "GANTranslateLib.cli"])


def test_a_child_that_floods_stderr_finishes(tmp_path: Path) -> None:
    flood = "import sys\nfor i in range(20000): sys.stderr.write('x' * 100 + '\\n')\nprint('done', flush=True)"
    process = BackgroundProcess([sys.executable, "-c", flood])
    assert process.wait(timeout=60) == 0
    lines, errors, code = process.poll()
    assert lines == ["done\n"] and len(errors) == 20000 and code == 0


def test_a_real_translation_reports_progress_and_ends_with_its_exit_code(tmp_path: Path) -> None:
    package = make_package(tmp_path / "m")
    out = tmp_path / "out.nrrd"
    request = RunRequest(model=str(package.path), input_path=str(DATA / "tcga_t2_brats_crop.nrrd"), output_path=str(out),
                         options=InferenceOptions(device="cpu"))
    process = BackgroundProcess(predict_command(sys.executable, request), child_environment("cpu"))
    events, code = [], None
    deadline = time.monotonic() + 120
    while code is None and time.monotonic() < deadline:
        lines, _, code = process.poll()
        events += [e for e in map(parse_line, lines) if e is not None]
        time.sleep(0.05)
    assert code == 0 and events[-1].kind == "done" and out.is_file()
