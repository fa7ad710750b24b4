"""The devices this computer can run the engine on, asked of a child process.

Why not ``import torch`` in the panel: importing torch into Slicer's own process at set-up costs seconds,
initialises CUDA there, and loads torch's DLLs, after which pip cannot replace torch on Windows. The engine
runs in a child process anyway, so that same Python is asked which GPUs it sees.
"""
import json
from typing import List, Optional, Sequence, Tuple

from GANTranslateLib.background_process import BackgroundProcess
from GANTranslateLib.background_run import child_environment
from GANTranslateLib.python_requirements import installed
from slicer.i18n import tr as _

DEVICE_SCRIPT = (
    "import json, torch\n"
    "mps = getattr(torch.backends, 'mps', None)\n"
    "print(json.dumps({'cuda': [torch.cuda.get_device_name(i) for i in range(torch.cuda.device_count())],\n"
    "                  'mps': bool(mps and mps.is_available())}))\n"
)


def deviceQueryCommand(python: str) -> List[str]:
    return [python, "-c", DEVICE_SCRIPT]


def devicesFromReply(lines: Sequence[str]) -> List[Tuple[str, str]]:
    """(device, label) pairs from the child's reply: each GPU by name, Apple's MPS, and the CPU last."""
    reply = json.loads([line for line in lines if line.strip()][-1])
    devices = [(f"cuda:{i}", _("GPU {index}: {name}").format(index=i, name=name)) for i, name in enumerate(reply["cuda"])]
    if reply.get("mps"):
        devices.append(("mps", _("Apple GPU (MPS)")))
    return devices + [("cpu", _("CPU (slow)"))]


class DeviceQuery:
    """One asking of the child process, polled from the panel's timer so that set-up never waits for torch."""

    def __init__(self, python: str, startProcess=BackgroundProcess) -> None:
        self._lines: List[str] = []
        self._errors: List[str] = []
        self._process = startProcess(deviceQueryCommand(python), child_environment("auto")) if installed("torch") else None

    def poll(self) -> Optional[Tuple[List[Tuple[str, str]], str]]:
        """None while the child runs; then (devices, problem), where problem is '' or why only the CPU is listed."""
        if self._process is None:
            return [("cpu", _("CPU (slow)"))], _("PyTorch is not installed yet")
        lines, errors, exitCode = self._process.poll()
        self._lines += lines
        self._errors += errors
        if exitCode is None:
            return None
        try:
            if exitCode != 0:
                raise ValueError("".join(self._errors).strip().splitlines()[-1:] or [f"exit code {exitCode}"])
            return devicesFromReply(self._lines), ""
        except (ValueError, KeyError, IndexError) as error:
            return [("cpu", _("CPU (slow)"))], _("PyTorch could not list the GPUs ({error})").format(error=error)

    def cancel(self) -> None:
        if self._process is not None:
            self._process.cancel()
