"""Installing the Python packages the engine needs into Slicer's Python, on request and never at import.

Why a class of its own: a stock Slicer has none of torch, MONAI, safetensors, jsonschema, scikit-image, tqdm or
PyYAML, and the panel must still set up and offer to install them. The rules (SlicerNNUnet and TotalSegmentator
follow the same): Slicer's own numpy and SimpleITK are never installed or replaced (a constraints file pins
every one Slicer has); PyTorch comes from the PyTorch extension when it is there (it picks the CUDA build that
fits the machine); a package already imported in Slicer's process is never upgraded in place (on Windows pip
cannot replace a loaded DLL, and elsewhere the old code stays loaded), so a restart is asked for instead.
``install`` reports and never raises, so the panel always comes back usable.

Importable without Slicer (the stock 5.8 check runs it on Python 3.9 without MRML): pip is injected.
"""
import importlib
import importlib.util
import os
import shutil
import sys
import tempfile
from dataclasses import dataclass, field
from typing import Callable, Dict, List, Mapping, Optional

from GANTranslateLib.python_requirements import REQUIREMENTS, constraints, unmet

try:
    from slicer.i18n import tr as _
except ImportError:  # outside Slicer (the stock-5.8 check has no MRML): untranslated

    def _(text: str) -> str:
        return text

SLICER_OWN = ("numpy", "SimpleITK")  # shipped with Slicer and built against it: never installed or replaced here
IMPORT_NAMES = {"scikit-image": "skimage", "PyYAML": "yaml", "SimpleITK": "SimpleITK"}  # distribution -> module
TORCH_SIZE = _("a large download: about 190 MB for the CPU build, 2 to 3 GB for a CUDA build with its libraries")


def importName(distribution: str) -> str:
    return IMPORT_NAMES.get(distribution, distribution.lower())


@dataclass(frozen=True)
class InstallPlan:
    """What an install would do: the packages (name -> why), and why it cannot be done here, if so."""
    packages: Dict[str, str] = field(default_factory=dict)
    blocked: str = ""
    restartFirst: bool = False  # blocked until Slicer restarts (a loaded package must be upgraded)

    @property
    def needed(self) -> bool:
        return bool(self.packages)

    def description(self) -> str:
        """What and how big, for the confirmation and the status line."""
        parts = []
        for name, why in self.packages.items():
            size = f"; {TORCH_SIZE}" if name == "torch" else ""
            parts.append(f"{name} ({why}{size})")
        return ", ".join(parts)


@dataclass(frozen=True)
class InstallResult:
    ok: bool
    message: str
    needsRestart: bool = False


class InstallLogic:
    def __init__(self, pipInstall: Callable[[List[str]], None], loadedModules: Optional[Mapping] = None,
                 requirements: Mapping[str, str] = REQUIREMENTS) -> None:
        self.pipInstall = pipInstall  # slicer.util.pip_install in Slicer; raises when pip fails
        self.loadedModules = sys.modules if loadedModules is None else loadedModules
        self.requirements = dict(requirements)
        self.installing = False  # guards against a second install while one runs

    def missing(self) -> Dict[str, str]:
        """Each package missing or too old -> why; read from package metadata, so nothing is imported. Slicer's
        own packages may be built without pip metadata: one that can be found on the path is Slicer's, and there."""
        importlib.invalidate_caches()
        problems = unmet(self.requirements)
        for name in SLICER_OWN:
            if problems.get(name) == "missing" and importlib.util.find_spec(importName(name)) is not None:
                del problems[name]
        return problems

    def plan(self) -> InstallPlan:
        problems = self.missing()
        own = {name: why for name, why in problems.items() if name in SLICER_OWN}
        if own:
            return InstallPlan(problems, _("Slicer's own {packages} cannot be replaced by GANTranslate; use a standard "
                                           "3D Slicer 5.10 or newer.").format(
                packages=", ".join(f"{name} ({why})" for name, why in own.items())))
        loaded = [name for name, why in problems.items() if why != "missing" and importName(name) in self.loadedModules]
        if loaded:
            return InstallPlan(problems, _("{packages} already loaded in Slicer and older than GANTranslate needs: restart "
                                           "Slicer, then press Install dependencies before running anything that uses it.").format(
                packages=", ".join(f"{name} ({problems[name]})" for name in loaded)), restartFirst=True)
        return InstallPlan(problems)

    def install(self, plan: InstallPlan) -> InstallResult:
        """Install what the plan names; the result says what happened, and never raises."""
        if self.installing:
            return InstallResult(False, _("An install is already running."))
        if plan.blocked:
            return InstallResult(False, plan.blocked, needsRestart=plan.restartFirst)
        self.installing = True
        try:
            if "torch" in plan.packages:
                self.installTorch()
            others = [name for name in plan.packages if name != "torch"]
            if others:
                self._pipWithConstraints(others)
        except Exception as error:  # pip's or the PyTorch extension's failure, reported to the user
            return InstallResult(False, _("Installing failed: {error}").format(error=error))
        finally:
            self.installing = False
        left = self.missing()
        if left:
            return InstallResult(False, _("Still missing after the install: {packages}.").format(
                packages=", ".join(f"{name} ({why})" for name, why in left.items())))
        return InstallResult(True, _("Installed {packages}.").format(packages=", ".join(plan.packages)))

    def installTorch(self) -> None:
        """Through the PyTorch extension when it is installed (the right CUDA build for this machine), else pip."""
        minimum = f">={self.requirements['torch']}"
        try:
            import PyTorchUtils
        except ModuleNotFoundError as error:
            if error.name != "PyTorchUtils":
                raise
            self.pipInstall([f"torch{minimum}"])
            return
        torch = PyTorchUtils.PyTorchUtilsLogic().installTorch(askConfirmation=False, torchVersionRequirement=minimum)
        if torch is None:
            raise RuntimeError(_("the PyTorch extension did not install PyTorch (see the Python console)"))

    def _pipWithConstraints(self, names: List[str]) -> None:
        folder = tempfile.mkdtemp(prefix="GANTranslate-pip-")
        try:
            path = os.path.join(folder, "constraints.txt")
            with open(path, "w", encoding="utf-8") as handle:
                handle.write(constraints())
            self.pipInstall([f"{name}>={self.requirements[name]}" for name in names] + ["-c", path])
        finally:
            shutil.rmtree(folder, ignore_errors=True)
