"""The module's panel, parameter node and logic run through SLICER'S OWN PYTHON (parameterNodeWrapper,
ScriptedLoadableModule, i18n of the given tag, from ../shared/slicer-python) over slicer-core's real MRML.
Stand-ins, named so, only for PythonQt's widgets and the Slicer application (pythonqt_standins,
slicer_real_python). Not a test of a running Slicer: no Slicer application runs here.

Run as a script (it replaces modules in sys.modules, so it must not share a process with other tests):
    python real_slicer_panel_checks.py VERSION SCENARIO [ARGS...]
It prints one JSON report; Testing/test_slicer_real_python.py and Testing/test_stock_slicer.py assert on it.
"""
import json
import sys
import time
from pathlib import Path

import slicer_real_python

VERSION, SCENARIO = sys.argv[1], sys.argv[2]
slicer = slicer_real_python.load(VERSION)
import pythonqt_standins as qtstandins  # noqa: E402
from pythonqt_standins import tick  # noqa: E402

REPO = slicer_real_python.REPO
DATA = REPO / "Testing" / "Data"
report: dict = {}


class PipRecorder:
    """STAND-IN for slicer.util.pip_install: records the arguments (installs nothing) and what the panel showed
    while pip ran; presses Install dependencies again meanwhile, as an impatient user would."""

    def __init__(self) -> None:
        self.calls, self.during = [], []
        self.widget = None
        self.site = None  # when set: 'installs' by writing each package's metadata there (what the check reads)

    def __call__(self, arguments) -> None:
        ui = self.widget.ui
        self.calls.append(list(arguments))
        if self.site is not None:
            for requirement in arguments:
                if not requirement.startswith("-") and ">=" in requirement:
                    name, minimum = requirement.split(">=")
                    info = Path(self.site) / f"{name.replace('-', '_')}-{minimum}.dist-info"
                    info.mkdir(parents=True, exist_ok=True)
                    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: {minimum}\n")
        self.during.append({"apply": ui.applyButton.enabled, "install": ui.installDependenciesButton.enabled,
                            "status": ui.statusLabel.text})
        ui.installDependenciesButton.enabled = True  # force the click through: the guard must still hold
        ui.installDependenciesButton.click()


class DeviceReplyStandin:
    """STAND-IN for the child process asked for the devices (the real one imports torch: seconds per panel): it
    answers as that child does on a machine with one GPU."""

    def __init__(self, command, env):
        assert "torch.cuda.device_count()" in command[-1], command

    def poll(self):
        return [json.dumps({"cuda": ["Stand-in GPU"], "mps": False}) + "\n"], [], 0

    def cancel(self):
        pass


def make_widget(pip=None, askDevices: bool = False):
    """The module's own widget class on Slicer's real ScriptedLoadableModuleWidget, set up as Slicer does; the
    devices are asked of a real child process only when ``askDevices``."""
    import GANTranslate

    if not askDevices and (REPO / "GANTranslate" / "GANTranslateModuleLib").is_dir():  # (absent before the split)
        from GANTranslateModuleLib import translation_logic

        translation_logic.BackgroundProcess = DeviceReplyStandin

    parent = slicer.qMRMLWidget()
    parent.setLayout(qtstandins.sys.modules["qt"].QVBoxLayout())
    parent.isEntered = True
    widget = GANTranslate.GANTranslateWidget(parent)
    if pip is not None:
        slicer.util.pip_install = pip
        pip.widget = widget
    widget.setup()
    wait_for_devices(widget)
    return widget


def wait_for_devices(widget, seconds: float = 120) -> None:
    deadline = time.time() + seconds
    while getattr(getattr(widget, "panel", None), "_deviceQuery", None) is not None and time.time() < deadline:
        tick()
        time.sleep(0.05)


def read_volume(path: Path, name: str):
    node = slicer.mrmlScene.AddNewNodeByClass("vtkMRMLScalarVolumeNode", name)
    storage = slicer.mrmlScene.AddNewNodeByClass("vtkMRMLVolumeArchetypeStorageNode")
    storage.SetFileName(str(path))
    assert storage.ReadData(node)
    node.SetAndObserveStorageNodeID(storage.GetID())
    return node


def combo_items(combo) -> list:
    return [[combo.itemText(i), combo.itemData(i)] for i in range(combo.count)]


def parameter_node():
    """The module's parameter node as the module's own logic finds it in the scene."""
    import GANTranslate

    return GANTranslate.GANTranslateLogic().getParameterNode()


def panel_state(widget) -> dict:
    """What the panel shows (its widgets) and what the scene's parameter node holds."""
    ui, p = widget.ui, parameter_node()
    return {"source": ui.sourceSelector.currentData, "sourceText": ui.sourceSelector.currentText,
            "target": ui.targetSelector.currentData, "model": ui.modelSelector.currentData,
            "mode": ui.modeSelector.currentIndex, "axis": ui.axisSelector.currentIndex, "device": ui.deviceSelector.currentData,
            "input": ui.inputSelector.currentNode().GetName() if ui.inputSelector.currentNode() else None,
            "patch": ui.patchSizeSpinBox.value, "overlap": ui.overlapSpinBox.value,
            "node": node_state(p) if p else None, "apply": [ui.applyButton.text, ui.applyButton.enabled, ui.applyButton.toolTip],
            "install": [button.visible, button.enabled] if (button := getattr(ui, "installDependenciesButton", None)) else None,
            "status": ui.statusLabel.text}


def node_state(p) -> dict:
    return {"source": p.sourceDomain, "target": p.targetDomain, "model": p.modelId, "mode": p.mode, "axis": p.axis,
            "device": p.device, "patch": p.patchSize, "overlap": p.overlap,
            "input": p.inputVolume.GetName() if p.inputVolume else None}


def choose(combo, data) -> None:
    """As the user picks an item: the combo's current index changes, its signal reaches the panel."""
    index = combo.findData(data)
    assert index >= 0, (data, combo_items(combo))
    combo.setCurrentIndex(index)


def scenario_setup() -> None:
    """A stock Slicer's first use: the panel sets up, lists the bundled models, shows a card, names what is missing."""
    import types

    import GANTranslate

    module = types.SimpleNamespace(path=str(REPO / "GANTranslate" / "GANTranslate.py"))  # qSlicerScriptedLoadableModule's
    GANTranslate.GANTranslate(module)
    report["module"] = {"title": module.title, "categories": module.categories, "icon": module.icon.path,
                        "acknowledged": bool(module.acknowledgementText), "self_test": "GANTranslate" in slicer.selfTests}
    pip = PipRecorder()
    read_volume(DATA / "tcga_t2_brats_crop.nrrd", "T2 sample")
    widget = make_widget(pip, askDevices=True)
    ui = widget.ui
    report["sources"] = combo_items(ui.sourceSelector)
    report["state"] = panel_state(widget)
    report["models"] = sorted(m.card.id for m in widget.logic.installedModels()[0])
    report["card"] = ui.modelCardLabel.text
    report["devices"] = combo_items(ui.deviceSelector)
    report["install_button"] = [ui.installDependenciesButton.visible, ui.installDependenciesButton.text]
    ui.installDependenciesButton.click()
    report["install"] = {"confirmations": list(slicer_real_python.dialogs["confirmations"]), "pip": list(pip.calls),
                         "during": list(pip.during), "after": panel_state(widget), "errors": list(slicer_real_python.dialogs["errors"])}
    if report["install"]["pip"]:  # again, with a pip that leaves the packages' metadata behind: the panel refreshes
        import tempfile

        pip.site = tempfile.mkdtemp(prefix="gantranslate-site-")
        sys.path.append(pip.site)
        ui.installDependenciesButton.click()
        wait_for_devices(widget)
        report["installed"] = {"state": panel_state(widget), "devices": combo_items(ui.deviceSelector),
                               "device_tooltip": ui.deviceSelector.toolTip,
                               "errors": list(slicer_real_python.dialogs["errors"])}
    report["slot_errors"] = qtstandins.slot_errors


def scenario_restore(scene_file: str) -> None:
    """Choices made in the panel reach the node; the scene saved and loaded back (while the module is open, and
    into a fresh panel) shows every choice again, and Apply runs exactly those."""
    volume = read_volume(DATA / "tcga_t2_brats_crop.nrrd", "sample")
    widget = make_widget()
    ui = widget.ui
    report["fresh"] = panel_state(widget)
    report["devices"] = combo_items(ui.deviceSelector)
    choose(ui.sourceSelector, "T2")
    choose(ui.targetSelector, "T1")
    choose(ui.modelSelector, "t2-to-t1-pix2pix-2d")
    ui.modeSelector.setCurrentIndex(2)  # patch
    ui.axisSelector.setCurrentIndex(2)  # coronal
    choose(ui.deviceSelector, "cpu")
    ui.patchSizeSpinBox.value = 96
    ui.overlapSpinBox.value = 0.25
    report["chosen"] = panel_state(widget)
    scene = slicer.mrmlScene
    scene.SetURL(scene_file)
    report["saved"] = bool(scene.Commit())
    # back to other choices, then the saved scene imported while the module is open: the singleton node is updated
    choose(ui.sourceSelector, "T1")
    ui.modeSelector.setCurrentIndex(0)
    choose(ui.deviceSelector, "auto")
    ui.patchSizeSpinBox.value = 0
    ui.overlapSpinBox.value = 0.5
    report["changed"] = panel_state(widget)
    scene.SetURL(scene_file)
    scene.Import()
    report["imported"] = panel_state(widget)
    report["imported_nodes"] = scene.GetNumberOfNodesByClass("vtkMRMLScriptedModuleNode")
    commands = []

    class NeverEnding:  # STAND-IN for the engine's process: records the command
        def __init__(self, command, env):
            commands.append(command)

        def poll(self):
            return [], [], None

        def cancel(self):
            pass

    widget.logic.startProcess = NeverEnding
    ui.applyButton.click()
    report["command"] = commands[0] if commands else None
    widget.logic.cancel()
    widget.cleanup()
    # Slicer restarted: a new scene, the saved one loaded, then the module opened
    scene.Clear(0)
    slicer.mrmlScene = fresh = slicer.vtkMRMLScene()
    fresh.SetURL(scene_file)
    fresh.Connect()
    report["reloaded"] = panel_state(make_widget())
    report["volume_id"] = volume.GetID()
    report["slot_errors"] = qtstandins.slot_errors


def scenario_inputs() -> None:
    """The automatic input pick skips label maps and vector volumes, a guessed contrast is labelled a guess, a
    name that names none leaves the choice to the user, and a sequence frame is said."""
    scene = slicer.mrmlScene
    label = scene.AddNewNodeByClass("vtkMRMLLabelMapVolumeNode", "T1 labels")
    label.SetAndObserveImageData(read_volume(DATA / "tcga_t2_brats_crop.nrrd", "scratch").GetImageData())
    scene.RemoveNode(scene.GetFirstNodeByName("scratch"))
    scene.AddNewNodeByClass("vtkMRMLVectorVolumeNode", "T1 colour")
    plain = read_volume(DATA / "tcga_t1_native_oblique_crop.nii.gz", "patient 7 series 3")
    t2 = read_volume(DATA / "tcga_t2_brats_crop.nrrd", "AX T2 FSE")
    widget = make_widget()
    ui, p = widget.ui, parameter_node()
    report["picked"] = panel_state(widget)
    ui.inputSelector.setCurrentNode(t2)  # the user picks another input
    report["guessed"] = panel_state(widget)
    ui.inputSelector.setCurrentNode(plain)  # an unchanged guess goes with its input
    report["guess_dropped"] = panel_state(widget)
    choose(ui.sourceSelector, "T1")  # the user's own choice stays when the input changes
    ui.inputSelector.setCurrentNode(t2)
    report["kept"] = panel_state(widget)
    p.sourceDomain = ""  # written to the node by another wrapper (a script): the panel follows
    report["unchosen"] = panel_state(widget)
    for cls in (slicer.vtkMRMLSequenceBrowserNode,):  # as Slicer's Sequences module does
        scene.RegisterNodeClass(cls())
    browser = scene.AddNewNodeByClass("vtkMRMLSequenceBrowserNode", "cine")
    sequence = scene.AddNewNodeByClass("vtkMRMLSequenceNode", "cine frames")
    browser.SetAndObserveMasterSequenceNodeID(sequence.GetID())
    browser.AddProxyNode(t2, sequence, False)
    from GANTranslateModuleLib.input_choice import sequenceBrowserOf

    report["sequence_browser"] = sequenceBrowserOf(scene, t2).GetName() if sequenceBrowserOf(scene, t2) else None
    report["plain_browser"] = sequenceBrowserOf(scene, plain) is None
    from module_logic_wiring_standins import ScriptedProcess  # STAND-IN for the engine: copies the input as output

    done = json.dumps({"event": "done", "device": "cpu"}) + "\n"
    widget.logic.startProcess = lambda command, env: ScriptedProcess(command, env, [([done], [], 0)], True)
    model = next(m for m in widget.logic.installedModels()[0] if ("T2", "T1") in m.card.directions)
    output = widget.logic.process(t2, None, model, "T2", "T1", wait=True)
    report["frame_result"] = {"warnings": output.GetAttribute("GANTranslate.Warnings"),
                              "intended_use": output.GetAttribute("GANTranslate.IntendedUse")}
    report["slot_errors"] = qtstandins.slot_errors


def scenario_catalog() -> None:
    """Cancel in the catalog dialog installs nothing (PythonQt's static getItem would return the first entry)."""
    widget = make_widget()
    added = []
    widget.logic.addModelPackage = lambda source, sha256=None: added.append(source) or source
    entries = widget.logic.installableCatalogModels()
    if not entries:  # every catalog model is installed here: offer one, as a newer catalog would
        from GANTranslateLib.model_catalog import load_catalog

        entries = load_catalog()[:1]
        widget.logic.installableCatalogModels = lambda: entries
    qt = sys.modules["qt"]
    qt.QInputDialog.answers = [(False, None), (True, 0)]
    widget.ui.installFromCatalogButton.click()
    report["cancelled"] = {"added": list(added), "status": widget.ui.statusLabel.text}
    widget.ui.installFromCatalogButton.click()
    report["accepted"] = {"added": list(added), "status": widget.ui.statusLabel.text, "entry": entries[0].id}
    report["slot_errors"] = qtstandins.slot_errors


SCENARIOS = {"setup": scenario_setup, "restore": scenario_restore, "inputs": scenario_inputs, "catalog": scenario_catalog}

if __name__ == "__main__":
    SCENARIOS[SCENARIO](*sys.argv[3:])
    print(json.dumps(report, default=str))
