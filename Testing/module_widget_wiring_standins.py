"""WIRING CHECK WITH STAND-INS, NOT A SLICER TEST: drives GANTranslateWidget's own run path (Apply, progress
bar, Apply <-> Cancel, status line, error display, node creation) with the module's real .ui loaded by Qt
(PySide6, offscreen), Slicer's real MRML (slicer-core) and a scripted process in place of the engine.

What is a stand-in here: PythonQt's view of a Qt widget (Qt properties as attributes, signals connected by
their signature; ``PythonQtStyleStandin``), the parameter node wrapper (a plain object, no GUI binding), the
Slicer application (wait cursor, error dialog recorder), the timer (ticks when told) and the process. The
widget's code, the .ui and the scene are the module's own. The real Slicer test is GANTranslateTest
(Testing/run_slicer_selftest.sh).

Run as a script (it replaces modules in sys.modules, so it must not share a process with other tests):
    python module_widget_wiring_standins.py MODELS_DIR MODEL_ID VOLUME_FILE DICOM_FILE EXPORT_DIR
(DICOM_FILE: a file of the series the input is said to come from, in a stand-in DICOM database; EXPORT_DIR:
where the folder dialog's stand-in says to export the result as DICOM.)
"""
import json
import sys
import types
from pathlib import Path

import slicer  # the real MRML from slicer-core
import slicer.util

import module_logic_wiring_standins as logic_standins
import pythonqt_standins
from module_logic_wiring_standins import ScriptedProcess, progress_line, tick
from slicer_ui import UI_FILE, load_panel

error_dialogs: list = []
confirmations: list = []  # the questions asked (stand-in for Slicer's OK/Cancel box), answered from ``answers``
answers: list = []


class PythonQtStyleStandin:
    """STAND-IN for PythonQt's wrapping of a (real, PySide6) widget: ``w.text = 'x'`` sets a Qt property,
    ``w.text`` reads it, ``w.connect('clicked(bool)', slot)`` connects a signal, other names are the
    widget's methods. A name that is neither a Qt property nor a method is an error, as in Slicer."""

    def __init__(self, widget) -> None:
        object.__setattr__(self, "_widget", widget)

    def _is_property(self, name: str) -> bool:
        return self._widget.metaObject().indexOfProperty(name) >= 0

    def __getattr__(self, name: str):
        if self._is_property(name):
            return self._widget.property(name)
        return getattr(self._widget, name)

    def __setattr__(self, name: str, value) -> None:
        if not self._is_property(name):
            raise AttributeError(f"{self._widget.objectName()} has no Qt property '{name}'")
        self._widget.setProperty(name, value)

    def connect(self, signature: str, slot) -> None:
        getattr(self._widget, signature.split("(")[0]).connect(slot)

    def setMRMLScene(self, scene) -> None:  # qMRMLWidget's; the node selectors are plain combo boxes here
        pass


class ParameterNodeStandin:
    """STAND-IN for a parameterNodeWrapper class: the annotated fields with their defaults, Modified events
    for the widget's observer; connectGui binds nothing (the script sets fields as the GUI binding would)."""

    def __init__(self, fields: dict) -> None:
        object.__setattr__(self, "_observers", {})
        for name, value in fields.items():
            object.__setattr__(self, name, value)

    def __setattr__(self, name: str, value) -> None:
        object.__setattr__(self, name, value)
        for callback in list(self._observers.values()):
            callback(self, "ModifiedEvent")

    def StartModify(self) -> int:  # NodeModify: the stand-in sends its events at once
        return 0

    def EndModify(self, wasModifying) -> None:
        pass

    def AddObserver(self, event, callback, priority=0.0) -> int:
        tag = len(self._observers) + 1
        self._observers[tag] = callback
        return tag

    def RemoveObserver(self, tag: int) -> None:
        self._observers.pop(tag, None)

    def connectGui(self, ui) -> str:
        return "gui-tag"

    def disconnectGui(self, tag) -> None:
        pass


def parameter_node_wrapper_standin(cls):
    fields = {name: getattr(cls, name, None) for name in cls.__annotations__}
    return lambda _node=None: ParameterNodeStandin(dict(fields))


def install_widget_standins() -> None:
    logic_standins.install_standins()
    sys.modules["slicer.parameterNodeWrapper"].parameterNodeWrapper = parameter_node_wrapper_standin
    qt = sys.modules["qt"]
    qt.Qt = types.SimpleNamespace(WaitCursor="wait cursor")
    qt.QInputDialog = pythonqt_standins.QInputDialog  # STAND-IN (answers as the test scripts them)
    scripted = sys.modules["slicer.ScriptedLoadableModule"]

    class ScriptedLoadableModuleWidget:  # stand-in: what the module's widget uses of Slicer's base class
        def __init__(self, parent=None):
            self.parent = types.SimpleNamespace(isEntered=True)
            self.layout = types.SimpleNamespace(addWidget=lambda widget: None)

        def setup(self):
            pass

        def resourcePath(self, filename):
            return str(UI_FILE.parent.parent / filename)

    class ScriptedLoadableModuleLogic:
        moduleName = "GANTranslate"

        def __init__(self, *args):
            pass

        def getParameterNode(self):
            return None

    scripted.ScriptedLoadableModuleWidget = ScriptedLoadableModuleWidget
    scripted.ScriptedLoadableModuleLogic = ScriptedLoadableModuleLogic
    slicer.app = types.SimpleNamespace(setOverrideCursor=lambda cursor: None, restoreOverrideCursor=lambda: None,
                                       testingEnabled=lambda: False, processEvents=lambda: None)
    slicer.util.errorDisplay = lambda text, **kwargs: error_dialogs.append(text)
    slicer.util.confirmOkCancelDisplay = lambda text, **kwargs: confirmations.append(text) or (answers.pop(0) if answers else True)
    slicer.util.loadUI = load_ui


def load_ui(path: str):
    assert Path(path) == UI_FILE, path
    _app, panel = load_panel()
    load_ui.panel = panel  # keep the Qt object alive
    panel.show()  # offscreen: a widget's 'visible' is true only when its window is shown
    return PythonQtStyleStandin(panel)


def child_widget_variables(ui) -> types.SimpleNamespace:
    from PySide6.QtWidgets import QWidget

    widgets = ui._widget.findChildren(QWidget)
    return types.SimpleNamespace(**{w.objectName(): PythonQtStyleStandin(w) for w in widgets
                                    if w.objectName() and not w.objectName().startswith("qt_")})


def main(models_dir: str, model_id: str, volume_file: str, dicom_file: str, export_dir: str) -> None:
    install_widget_standins()
    slicer.util.childWidgetVariables = child_widget_variables
    slicer.util.mainWindow = lambda: None
    qt = sys.modules["qt"]
    qt.QSettings.store["GANTranslate/ModelsFolder"] = models_dir
    qt.QFileDialog = types.SimpleNamespace(getExistingDirectory=lambda parent, caption: export_dir)
    slicer.dicomDatabase = types.SimpleNamespace(fileForInstance=lambda uid: dicom_file if uid == "1.2.3.4" else "")
    GANTranslate, node = logic_standins.module_with_sample(volume_file, install=False)
    node.SetAttribute("DICOM.instanceUIDs", "1.2.3.4 1.2.3.5")  # as Slicer's DICOM loader records them
    scene = slicer.mrmlScene
    widget = GANTranslate.GANTranslateWidget()
    widget.setup()
    ui, p = widget.ui, widget.panel._parameterNode
    ui.sourceSelector.setCurrentIndex(ui.sourceSelector.findData("T1"))
    ui.targetSelector.setCurrentIndex(ui.targetSelector.findData("T2"))
    ui.modelSelector.setCurrentIndex(ui.modelSelector.findData(model_id))
    report = {"input_chosen": p.inputVolume is node, "model_chosen": p.modelId,
              "ready": [ui.applyButton.text, ui.applyButton.enabled], "export_before_a_result": ui.exportDicomButton.enabled}

    def state():
        return {"button": ui.applyButton.text, "export": ui.exportDicomButton.enabled, "progress_visible": ui.progressBar.visible,
                "progress": ui.progressBar.value, "status": ui.statusLabel.text, "running": widget.logic.isRunning(),
                "volumes": scene.GetNumberOfNodesByClass("vtkMRMLScalarVolumeNode"), "dialogs": len(error_dialogs)}

    def run(name, polls, succeed=True, cancel_after=None, start_error=None):
        processes = []

        def start(command, env):
            if start_error:
                raise start_error
            processes.append(ScriptedProcess(command, env, polls, succeed))
            return processes[-1]

        widget.logic.startProcess = start
        ui.applyButton.click()
        states = [state()]
        for count in range(len(polls) if not start_error else 0):
            if cancel_after == count:
                ui.applyButton.click()  # the same button, now Cancel
            tick()
            states.append(state())
        report[name] = {"states": states, "cancelled": bool(processes) and processes[0].cancelled,
                        "log": ui.logTextEdit.toPlainText(), "output_selector_reset": p.outputVolume is None}

    warning = json.dumps({"event": "warning", "message": "input histogram distance 0.41: unlike the training data"}) + "\n"
    done = json.dumps({"event": "done", "device": "cpu"}) + "\n"
    run("success", [([progress_line("inference", 1, 4)], [], None), ([warning, progress_line("inference", 4, 4)], [], None),
                    ([done], [], 0)])
    output = scene.GetNthNodeByClass(1, "vtkMRMLScalarVolumeNode")
    report["success"].update(output_name=output.GetName(), warnings_attribute=output.GetAttribute("GANTranslate.Warnings"),
                             synthetic_attribute=output.GetAttribute("GANTranslate.Synthetic"),
                             input_referenced=output.GetNodeReference("GANTranslateInput") is node)
    answers.append(False)  # the model's card does not clear it for clinical use: the user says no, at first
    ui.exportDicomButton.click()
    report["export_declined"] = {"status": ui.statusLabel.text, "question": confirmations[-1] if confirmations else None,
                                 "written": Path(export_dir).exists() and any(Path(export_dir).iterdir())}
    ui.exportDicomButton.click()
    report["export"] = {"status": ui.statusLabel.text, "dialogs": len(error_dialogs)}
    ui.exportDicomButton.click()  # again, into the same folder, now holding a series
    report["export_again"] = {"status": ui.statusLabel.text, "dialog": error_dialogs[-1] if error_dialogs else None,
                              "files": len(list(Path(export_dir).iterdir()))}
    node.RemoveAttribute("DICOM.instanceUIDs")  # now as if the input came from a NIfTI file: the user names the patient
    qt.QInputDialog.answers[:] = [(True, "GT-0042"), (False, None)]  # gives the ID, then cancels the name
    ui.exportDicomButton.click()
    report["export_without_patient"] = ui.statusLabel.text
    qt.QInputDialog.answers[:] = [(True, " GT-0042 "), (True, "DOE^JANE")]
    qt.QFileDialog = types.SimpleNamespace(getExistingDirectory=lambda parent, caption: export_dir + "-nifti-input")
    ui.exportDicomButton.click()
    report["export_with_patient"] = {"status": ui.statusLabel.text, "folder": export_dir + "-nifti-input"}
    qt.QFileDialog = types.SimpleNamespace(getExistingDirectory=lambda parent, caption: export_dir)
    node.SetAttribute("DICOM.instanceUIDs", "1.2.3.4 1.2.3.5")
    chosen = scene.AddNewNodeByClass("vtkMRMLScalarVolumeNode", "acquired T2")  # overwritten on purpose
    chosen.SetAttribute("DICOM.instanceUIDs", "9.9.9")
    p.outputVolume = chosen
    run("overwrite", [([done], [], 0)])
    report["overwrite"].update(name=chosen.GetName(), dicom_uids=chosen.GetAttribute("DICOM.instanceUIDs"),
                               synthetic=chosen.GetAttribute("GANTranslate.Synthetic"))
    run("failure", [([progress_line("inference", 1, 4)], [], None),
                    ([], ["RuntimeError: CUDA out of memory. Tried to allocate 2 GiB\n"], 1)], succeed=False)
    report["failure"]["dialog"] = error_dialogs[-1]
    run("cancel", [([progress_line("inference", 1, 4)], [], None), ([progress_line("inference", 2, 4)], [], None),
                   ([], [], 0)], cancel_after=1)
    run("failed_start", [], start_error=OSError("PythonSlicer: No such file or directory"))
    report["failed_start"]["dialog"] = error_dialogs[-1]
    p.inputVolume = None
    report["no_input"] = [ui.applyButton.enabled, ui.applyButton.toolTip]
    scene.RemoveNode(output)
    scene.RemoveNode(chosen)  # the user deletes the results: Export is disabled at once
    report["export_enabled_after_delete"] = ui.exportDicomButton.enabled
    widget.panel.onExportDicom()  # and if it were pressed anyway
    report["export_after_delete"] = ui.statusLabel.text
    print(json.dumps(report))


if __name__ == "__main__":
    main(*sys.argv[1:6])
