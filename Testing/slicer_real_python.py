"""Slicer's own Python layer, read at test time from ../shared/slicer-python/<version> (never copied into the
project), over slicer-core's real MRML: ``slicer.parameterNodeWrapper``, ``slicer.ScriptedLoadableModule`` and
``slicer.i18n`` are Slicer's files of that tag. What cannot exist without the application is a stand-in, named
so: PythonQt's qt/ctk widgets (pythonqt_standins), ``slicer.app``, message boxes, the slice views.

Use from a script or child process only (it replaces modules in sys.modules): ``load(version)``.
"""
from __future__ import annotations

import importlib.util
import os
import sys
import tempfile
import types
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
SHARED = REPO.parent / "shared" / "slicer-python"
VERSIONS = ("v5.10.0", "v5.8.1")
dialogs: dict = {"errors": [], "confirmations": [], "answers": [], "restarts": 0}
calls: dict = {"setSliceViewerLayers": []}


def available(version: str) -> bool:
    return (SHARED / version / "slicer" / "parameterNodeWrapper" / "__init__.py").is_file()


def _load(name: str, path: Path, package: bool):
    spec = importlib.util.spec_from_file_location(
        f"slicer.{name}", path / "__init__.py" if package else path,
        submodule_search_locations=[str(path)] if package else None)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


class SlicerAppStandin:
    """STAND-IN for slicer.app (the application object does not exist without Slicer)."""

    def __init__(self) -> None:
        self.cursor = []

    def translate(self, context: str, text: str) -> str:  # what Slicer's i18n.tr calls
        return text

    def processEvents(self) -> None:
        pass

    def setOverrideCursor(self, cursor) -> None:
        self.cursor.append(cursor)

    def restoreOverrideCursor(self) -> None:
        self.cursor.pop()

    def testingEnabled(self) -> bool:
        return False

    def connect(self, signal: str, slot) -> None:
        pass

    def moduleManager(self):
        return types.SimpleNamespace(connect=lambda *args: None, disconnect=lambda *args: None)


def load(version: str):
    """The ``slicer`` module: slicer-core's MRML with Slicer's own Python layer of ``version`` on it."""
    import slicer  # slicer-core: the real MRML
    import slicer.util

    import pythonqt_standins

    pythonqt_standins.install(slicer)
    folder = SHARED / version / "slicer"
    slicer.i18n = _load("i18n", folder / "i18n.py", package=False)
    slicer.parameterNodeWrapper = _load("parameterNodeWrapper", folder / "parameterNodeWrapper", package=True)
    slicer.ScriptedLoadableModule = _load("ScriptedLoadableModule", folder / "ScriptedLoadableModule.py", package=False)
    slicer.app = SlicerAppStandin()
    slicer.mrmlScene = slicer.vtkMRMLScene()
    _install_dialog_standins(slicer)
    sys.path.insert(0, str(REPO / "GANTranslate"))
    return slicer


def _install_dialog_standins(slicer) -> None:
    """STAND-INS for message boxes (recorded; confirmations answered from dialogs['answers'], True when empty),
    slice views and Slicer's temporary folder."""
    util = slicer.util
    util.errorDisplay = lambda text, *args, **kwargs: dialogs["errors"].append(text)

    def confirm(text, *args, **kwargs):
        dialogs["confirmations"].append(text)
        return dialogs["answers"].pop(0) if dialogs["answers"] else True

    util.confirmOkCancelDisplay = confirm
    util.mainWindow = lambda: None
    util.restart = lambda: dialogs.__setitem__("restarts", dialogs["restarts"] + 1)
    util.setSliceViewerLayers = lambda **kwargs: calls["setSliceViewerLayers"].append(kwargs)
    util.resetSliceViews = lambda: None
    util.tempDirectory = lambda key="", *args, **kwargs: tempfile.mkdtemp(prefix=key)
    volumes = types.SimpleNamespace(ApplyVolumeDisplayPreset=lambda display, preset: False)
    slicer.modules = types.SimpleNamespace(volumes=types.SimpleNamespace(logic=lambda: volumes),
                                           gantranslate=types.SimpleNamespace(path=str(REPO / "GANTranslate" / "GANTranslate.py")))
    os.environ.setdefault("GANTRANSLATE_MODELS", tempfile.mkdtemp(prefix="gantranslate-user-models-"))
