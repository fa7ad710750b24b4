"""WIRING CHECK WITH STAND-INS, NOT A SLICER TEST: runs GANTranslateLogic's blocking path against Slicer's
real MRML (slicer-core), with small stand-ins for the parts of the Slicer application that cannot exist
here (qt, ScriptedLoadableModule bases, i18n, parameterNodeWrapper, slice-view layout, temp folder).
It proves the Logic's own wiring: write input, run the engine's CLI in a child process, import the result
into a real scene. The real Slicer test is GANTranslateTest (Testing/run_slicer_selftest.sh).

Run as a script (it replaces modules in sys.modules, so it must not share a process with other tests):
    python module_logic_wiring_standins.py PACKAGE_DIR VOLUME_FILE               # the blocking path
    python module_logic_wiring_standins.py PACKAGE_DIR VOLUME_FILE --background  # the GUI's timer path, with a
                                                                                 # scripted process (no engine)
"""
import json
import sys
import tempfile
import types
from pathlib import Path

import slicer  # the real MRML from slicer-core
import slicer.util
from slicer import vtkMRMLScene, vtkMRMLVolumeArchetypeStorageNode

REPO = Path(__file__).resolve().parent.parent
calls = {"setSliceViewerLayers": []}
timers: list = []


class ScriptedProcess:
    """A TranslationProcess that replays what the engine's CLI prints; on its last poll it 'writes' the output
    (a copy of the input) when told to succeed. Records cancel()."""

    def __init__(self, command, env, polls, succeed):
        self.polls, self.succeed, self.cancelled = list(polls), succeed, False
        self.output = command[command.index("-o") + 1]
        self.input = command[command.index("-i") + 1]

    def poll(self):
        lines, errors, exit_code = self.polls.pop(0)
        if exit_code == 0 and self.succeed:
            Path(self.output).write_bytes(Path(self.input).read_bytes())
        return lines, errors, exit_code

    def cancel(self):
        self.cancelled = True


def progress_line(stage, done, total):
    return json.dumps({"event": "progress", "stage": stage, "done": done, "total": total}) + "\n"


def tick():
    for timer in timers:
        if timer.active:
            timer.slot()


def install_standins() -> None:
    qt = types.ModuleType("qt")

    class QSettings:  # stand-in: an in-memory settings store
        store: dict = {}

        def value(self, key, default=None):
            return self.store.get(key, default)

        def setValue(self, key, value):
            self.store[key] = value

    class QTimer:  # stand-in: ticks only when the script calls tick()
        def __init__(self):
            self.active, self.slot = False, None

        def setInterval(self, milliseconds):
            pass

        def connect(self, signal, slot):
            self.slot = slot

        def start(self):
            self.active = True
            timers.append(self)

        def stop(self):
            self.active = False

    qt.QSettings = QSettings
    qt.QTimer = QTimer
    sys.modules["qt"] = qt

    i18n = types.ModuleType("slicer.i18n")
    i18n.tr = lambda text: text
    i18n.translate = lambda context, text: text
    sys.modules["slicer.i18n"] = i18n

    wrapper = types.ModuleType("slicer.parameterNodeWrapper")
    wrapper.parameterNodeWrapper = lambda cls: cls
    wrapper.Choice = lambda values: values
    wrapper.WithinRange = lambda low, high: (low, high)
    sys.modules["slicer.parameterNodeWrapper"] = wrapper

    scripted = types.ModuleType("slicer.ScriptedLoadableModule")
    for name in ("ScriptedLoadableModule", "ScriptedLoadableModuleWidget", "ScriptedLoadableModuleTest"):
        setattr(scripted, name, type(name, (), {"__init__": lambda self, *a, **k: None}))
    scripted.ScriptedLoadableModuleLogic = type("ScriptedLoadableModuleLogic", (), {"__init__": lambda self, *a: None})
    sys.modules["slicer.ScriptedLoadableModule"] = scripted

    slicer.util.tempDirectory = lambda key="", *a, **k: tempfile.mkdtemp(prefix=key)
    slicer.util.setSliceViewerLayers = lambda **kwargs: calls["setSliceViewerLayers"].append(kwargs)
    slicer.util.resetSliceViews = lambda: None
    volumes_logic = types.SimpleNamespace(ApplyVolumeDisplayPreset=lambda display, preset: False)
    slicer.modules = types.SimpleNamespace(volumes=types.SimpleNamespace(logic=lambda: volumes_logic))
    slicer.mrmlScene = vtkMRMLScene()


def module_with_sample(volume_file: str, install: bool = True):
    """The module under test, imported over the stand-ins (installed here unless the caller did), and a real
    volume node read from ``volume_file``."""
    if install:
        install_standins()
    sys.path.insert(0, str(REPO / "GANTranslate"))
    import GANTranslate  # noqa: the module under test

    node = slicer.mrmlScene.AddNewNodeByClass("vtkMRMLScalarVolumeNode", "T1 sample")
    storage = vtkMRMLVolumeArchetypeStorageNode()
    storage.SetFileName(volume_file)
    assert storage.ReadData(node)
    return GANTranslate, node


def main(package_dir: str, volume_file: str) -> None:
    GANTranslate, node = module_with_sample(volume_file)
    from GANTranslateLib.inference_options import InferenceOptions
    from GANTranslateLib.model_registry import find_package

    scene = slicer.mrmlScene
    logic = GANTranslate.GANTranslateLogic()
    logic.pythonExecutable = lambda: sys.executable  # PythonSlicer's stand-in: this interpreter
    progress = []
    before = scene.GetNumberOfNodesByClass("vtkMRMLScalarVolumeNode")
    try:
        logic.process(node, None, find_package(package_dir), "T1", "FLAIR", InferenceOptions(device="cpu"), wait=True)
        failed = None
    except RuntimeError as error:
        failed = str(error)
    unchanged = scene.GetNumberOfNodesByClass("vtkMRMLScalarVolumeNode") == before
    output = logic.process(node, None, find_package(package_dir), "T1", "T2", InferenceOptions(device="cpu", disagreement=True), wait=True,
                           onProgress=lambda fraction, stage: progress.append(fraction))
    disagreement = output.GetNodeReference("GANTranslateDisagreementMap")  # a reference: kept right on scene import
    logic.showInput(True)  # the "Show input" button, pressed and released
    logic.showInput(False)
    logic.setCtWindow("bone")  # an MR result keeps its automatic window
    print(json.dumps({
        "bad_direction_error": failed, "scene_unchanged_after_failure": unchanged,
        "name": output.GetName(), "model": output.GetAttribute("GANTranslate.ModelId"),
        "same_geometry": output.GetSpacing() == node.GetSpacing() and output.GetOrigin() == node.GetOrigin(),
        "dimensions_equal": output.GetImageData().GetDimensions() == node.GetImageData().GetDimensions(),
        "progress_monotone": progress == sorted(progress) and progress[-1] == 1.0,
        "disagreement_name": disagreement.GetName(),
        "disagreement_same_grid": disagreement.GetImageData().GetDimensions() == node.GetImageData().GetDimensions(),
        "mr_window_automatic": bool(output.GetDisplayNode().GetAutoWindowLevel()),
        "layers": [{k: v.GetName() if hasattr(v, "GetName") else v for k, v in c.items()} for c in calls["setSliceViewerLayers"]],
    }))


def background(package_dir: str, volume_file: str) -> None:
    """The path the GUI takes (process(wait=False), a timer polling the process), with scripted processes:
    progress and warnings reach the callbacks, a failure is one message and leaves the scene as it was, Cancel
    ends the process and calls nothing back, and success adds the node."""
    GANTranslate, node = module_with_sample(volume_file)
    from GANTranslateLib.inference_options import InferenceOptions
    from GANTranslateLib.model_registry import find_package

    scene = slicer.mrmlScene
    logic = GANTranslate.GANTranslateLogic()
    package = find_package(package_dir)
    report = {}

    def run(name, polls, succeed=True, cancel_after=None):
        events = {"progress": [], "log": [], "finished": []}
        started = []
        logic.startProcess = lambda command, env: started.append(ScriptedProcess(command, env, polls, succeed)) or started[-1]
        nodes = scene.GetNumberOfNodesByClass("vtkMRMLScalarVolumeNode")
        returned = logic.process(node, None, package, "T1", "T2", InferenceOptions(device="cpu"), wait=False,
                                 onProgress=lambda fraction, stage: events["progress"].append(round(fraction, 3)),
                                 onLog=events["log"].append,
                                 onFinished=lambda output, error: events["finished"].append(
                                     (output.GetName() if output else None, error)))
        work_dir = Path(started[0].output).parent
        running_after_start = logic.isRunning()
        for count in range(len(polls)):
            if cancel_after == count:
                logic.cancel()
            tick()
        report[name] = {"returned": returned, "running_after_start": running_after_start, **events,
                        "running_at_end": logic.isRunning(), "cancelled": started[0].cancelled,
                        "work_dir_left": work_dir.exists(),
                        "nodes_added": scene.GetNumberOfNodesByClass("vtkMRMLScalarVolumeNode") - nodes}

    warning = json.dumps({"event": "warning", "message": "input histogram distance 0.41: unlike the training data"}) + "\n"
    run("success", [([progress_line("inference", 1, 4)], [], None), ([warning, progress_line("inference", 4, 4)], [], None),
                    ([json.dumps({"event": "done", "device": "cpu"}) + "\n"], [], 0)])
    run("failure", [([progress_line("inference", 1, 4)], [], None),
                    ([], ["Traceback ...\n", "RuntimeError: CUDA out of memory. Tried to allocate 2 GiB\n"], 1)], succeed=False)
    run("cancel", [([progress_line("inference", 1, 4)], [], None), ([progress_line("inference", 2, 4)], [], None),
                   ([], [], 0)], cancel_after=1)
    print(json.dumps(report))


if __name__ == "__main__":
    (background if "--background" in sys.argv else main)(sys.argv[1], sys.argv[2])
