"""The translation logic: the scene's volumes to the engine (a child process) and its result back.

Usable without the panel, from scripts and tests: ``process(..., wait=True)`` blocks, ``wait=False`` polls the
child from a timer so the GUI stays live. How a run starts is injected (``startProcess``), so tests drive the
whole path with a scripted process.
"""
import logging
import os
import shutil
import sys
import time
from pathlib import Path
from typing import Callable, Optional, Tuple

import qt
import slicer
from slicer.i18n import tr as _
from slicer.ScriptedLoadableModule import ScriptedLoadableModuleLogic

from GANTranslateLib import mrml_volume
from GANTranslateLib.background_process import BackgroundProcess
from GANTranslateLib.background_run import RunRequest, child_environment, failure_message, parse_line, predict_command
from GANTranslateLib.inference_options import InferenceOptions
from GANTranslateLib.model_registry import scan, user_models_folder

from .input_choice import sequenceBrowserOf
from .parameters import GANTranslateParameterNode

SETTINGS_PREFIX = "GANTranslate/"
INPUT_REFERENCE = "GANTranslateInput"  # node reference role: a result's input volume
DISAGREEMENT_REFERENCE = "GANTranslateDisagreementMap"  # a result's disagreement map


class GANTranslateLogic(ScriptedLoadableModuleLogic):
    """Everything but the GUI: usable from scripts and tests (``process(..., wait=True)``)."""

    def __init__(self) -> None:
        ScriptedLoadableModuleLogic.__init__(self)
        self._process = None  # the running BackgroundProcess
        # how a run starts: (command, env) -> a TranslationProcess; tests inject a scripted fake
        self.startProcess = BackgroundProcess
        self._timer = None  # polls it while the GUI runs
        self._run = None
        self._shown = None  # (output node, target) of the last result shown
        self.ctWindow = "brain"  # of synthetic CT results: a key of mrml_volume.CT_WINDOWS

    def getParameterNode(self):
        return GANTranslateParameterNode(super().getParameterNode())

    def hasParameterNode(self) -> bool:
        """Whether the scene already holds this module's parameter node (a saved or loaded one)."""
        return slicer.mrmlScene.GetSingletonNode(self.moduleName, "vtkMRMLScriptedModuleNode") is not None

    # --- models ----------------------------------------------------------------------------------------
    def userModelsFolder(self) -> str:
        folder = qt.QSettings().value(SETTINGS_PREFIX + "ModelsFolder", "")
        if folder:
            os.environ["GANTRANSLATE_MODELS"] = folder
        return str(user_models_folder())

    def installedModels(self):
        """(packages, problem): bundled and user models (cards need nothing beyond a stock Slicer), and what
        made a model folder unusable ('' when nothing did)."""
        self.userModelsFolder()
        listing = scan()
        return listing.packages, "; ".join(listing.problems)

    def addModelPackage(self, source: str, sha256: Optional[str] = None) -> str:
        """A package folder, .zip or URL (with its sha256) into the user's models folder, validated first."""
        from GANTranslateLib.model_install import install_model

        return install_model(source, sha256, self.userModelsFolder())

    def installableCatalogModels(self) -> list:
        """Published models (GANTranslate/Resources/model_catalog.json) not installed at their version."""
        from GANTranslateLib.model_catalog import installable_entries

        packages, _problem = self.installedModels()
        return installable_entries({package.card.id: package.card.version for package in packages})

    # --- running ----------------------------------------------------------------------------------
    def pythonExecutable(self) -> str:
        return shutil.which("PythonSlicer") or sys.executable

    def isRunning(self) -> bool:
        return self._process is not None

    def process(self, inputVolume, outputVolume, model, source: str, target: str, options: InferenceOptions = InferenceOptions(),
                wait: bool = True, onProgress: Optional[Callable] = None, onLog: Optional[Callable] = None,
                onFinished: Optional[Callable] = None):
        """Translate ``inputVolume`` as ``options`` say (the engine's own type, checked when made); returns the
        output node when ``wait`` (else None, see ``onFinished``).

        The output node is created only when the translation succeeded, so a failure or Cancel leaves
        the scene as it was.
        """
        if not inputVolume or model is None:
            raise ValueError(_("Choose an input volume and a model."))
        if self.isRunning():
            raise RuntimeError(_("A translation is already running; cancel it first."))
        workDir = slicer.util.tempDirectory("GANTranslate")
        inputPath, outputPath = os.path.join(workDir, "input.nrrd"), os.path.join(workDir, "output.nrrd")
        disagreementPath = os.path.join(workDir, "disagreement.nrrd") if options.disagreement else None
        mrml_volume.write_volume(inputVolume, inputPath)
        request = RunRequest(model=str(model.path), input_path=inputPath, output_path=outputPath, source=source,
                             target=target, options=options, disagreement_path=disagreementPath)
        device = options.device
        self._run = {"input": inputVolume, "output": outputVolume, "model": model, "target": target, "source": source,
                     "outputPath": outputPath, "disagreementPath": disagreementPath, "workDir": workDir, "started": time.time(), "device": device,
                     "stderr": [], "onProgress": onProgress, "onLog": onLog, "onFinished": onFinished, "result": None,
                     "warnings": []}
        browser = sequenceBrowserOf(slicer.mrmlScene, inputVolume)
        if browser is not None:  # said in the log and recorded on the result, not translated silently
            self._warn(_("{name} is one frame of the sequence '{sequence}': only the frame shown was "
                                           "translated").format(name=inputVolume.GetName(), sequence=browser.GetName()))
        command = predict_command(self.pythonExecutable(), request)
        logging.info("GANTranslate: %s", " ".join(command))  # one line per run
        if wait:
            return self._runBlocking(command, child_environment(device))
        self._startBackground(command, child_environment(device))
        return None

    def _runBlocking(self, command, env):
        self._process = self.startProcess(command, env)
        exitCode = None
        while exitCode is None:
            exitCode = self._pump()
            time.sleep(0.05)
        self._process = None
        return self._finish(exitCode)

    def _startBackground(self, command, env) -> None:
        """The engine in a child process (BackgroundProcess: its own process group, so Cancel ends the launcher
        and the Python it starts), polled from a timer so the GUI stays responsive."""
        self._process = self.startProcess(command, env)
        self._timer = qt.QTimer()
        self._timer.setInterval(100)
        self._timer.connect("timeout()", self._onTimer)
        self._timer.start()

    def _onTimer(self) -> None:
        if self._process is None:
            return
        exitCode = self._pump()
        if exitCode is not None:
            self._timer.stop()
            self._process = None
            self._finish(exitCode)

    def _pump(self):
        """Hand the child's new output to the run; its exit code once it has ended, else None."""
        lines, errors, exitCode = self._process.poll()
        for line in lines:
            self._handleLine(line)
        if errors:
            self._run["stderr"] += errors
            if self._run["onLog"]:
                self._run["onLog"]("".join(errors).rstrip())
        return exitCode

    def _handleLine(self, line: str) -> None:
        """Progress to the bar, warnings and plain text to the log; the engine's JSON lines never reach the log."""
        event = parse_line(line)
        if event is None:
            if line.strip() and self._run["onLog"]:
                self._run["onLog"](line.rstrip())
            return
        if event.kind == "done":
            self._run["result"] = event.fields
        if event.kind == "warning":
            self._warn(event.fields["message"])
            return
        if self._run["onProgress"]:
            self._run["onProgress"](event.fraction, event.stage)

    def _warn(self, message: str) -> None:
        self._run["warnings"].append(message)
        if self._run["onLog"]:
            self._run["onLog"](_("Warning: {message}").format(message=message))

    def _finish(self, exitCode: int):
        run, self._run = self._run, None
        try:
            if exitCode != 0 or not os.path.exists(run["outputPath"]):
                raise RuntimeError(failure_message("".join(run["stderr"]), exitCode))
            outputNode = self._importResult(run)
        except Exception as error:  # reported to the caller; the scene is unchanged
            if run["onFinished"]:
                run["onFinished"](None, str(error))
                return None
            raise
        finally:
            shutil.rmtree(run["workDir"], ignore_errors=True)
        if run["onFinished"]:
            run["onFinished"](outputNode, None)
        return outputNode

    def _importResult(self, run):
        inputNode, target = run["input"], run["target"]
        outputNode = run["output"] or mrml_volume.create_output_node(slicer.mrmlScene, inputNode, target)
        if run["output"]:  # overwriting a node the user chose: its name must say what it now holds
            outputNode.RemoveAttribute("DICOM.instanceUIDs")  # no longer what it holds
            outputNode.RemoveNodeReferenceIDs(DISAGREEMENT_REFERENCE)
            outputNode.SetName(slicer.mrmlScene.GenerateUniqueName(mrml_volume.output_name(inputNode.GetName(), target)))
        mrml_volume.read_result(run["outputPath"], outputNode, inputNode)
        mrml_volume.place_beside(slicer.mrmlScene, inputNode, outputNode)
        result = run["result"] or {}
        card = run["model"].card
        mrml_volume.record_provenance(
            outputNode, card.synthetic_note(run["source"], target), ModelId=card.id, ModelVersion=card.version, Source=run["source"], Target=target,
            Device=result.get("device", run["device"]), Seconds=round(time.time() - run["started"], 1),
            Warnings=" | ".join(run["warnings"]), IntendedUse=card.data.get("intended_use", ""))
        # a reference, not an ID in an attribute: MRML keeps it right when the scene is imported into another
        outputNode.SetNodeReferenceID(INPUT_REFERENCE, inputNode.GetID())
        if run["disagreementPath"]:
            name = mrml_volume.disagreement_name(outputNode.GetName(), target)
            mapNode = slicer.mrmlScene.AddNewNodeByClass("vtkMRMLScalarVolumeNode", slicer.mrmlScene.GenerateUniqueName(name))
            mrml_volume.read_result(run["disagreementPath"], mapNode, inputNode)
            mrml_volume.place_beside(slicer.mrmlScene, inputNode, mapNode)
            mrml_volume.set_disagreement_display(mapNode, target)
            outputNode.SetNodeReferenceID(DISAGREEMENT_REFERENCE, mapNode.GetID())  # stays right on scene import
        self.showResult(inputNode, outputNode, target)
        return outputNode

    def showResult(self, inputNode, outputNode, target: str) -> None:
        self._shown = (outputNode, target)
        mrml_volume.set_display(outputNode, target, self.ctWindow)  # brain window for (head) CT unless bone chosen
        # the result alone; the input is the foreground layer at opacity 0, one slider away in each slice view
        slicer.util.setSliceViewerLayers(background=outputNode, foreground=inputNode, foregroundOpacity=0.0)
        slicer.util.resetSliceViews()

    def lastResult(self):
        """The last result shown, while it is still in the scene."""
        if self._shown is not None and slicer.mrmlScene.IsNodePresent(self._shown[0]):
            return self._shown[0]
        return None

    def sourceDicomFile(self, outputNode) -> Optional[str]:
        """A file of the input's DICOM series, from Slicer's DICOM database, so that an export joins the
        patient's study; None when the input was not loaded from DICOM."""
        inputNode = outputNode.GetNodeReference(INPUT_REFERENCE)
        uids = (inputNode.GetAttribute("DICOM.instanceUIDs") or "").split() if inputNode else []
        database = getattr(slicer, "dicomDatabase", None)
        if not uids or database is None:
            return None
        return database.fileForInstance(uids[0]) or None

    def exportDicom(self, outputNode, folder: str, sourceDicomFile: Optional[str] = None,
                    patient: Optional[Tuple[str, str]] = None):
        """A result as a new DICOM series in ``folder`` (new or empty) that cannot pass for an acquired one
        (dicom_export), on the node's own grid (the input's): a synthetic CT in HU. ``patient`` (ID, name) names
        whose series it is when there is no DICOM source. Returns the engine's WrittenSeries (whose study it
        joined, whether it shares the input series' frame of reference)."""
        facts = {key: outputNode.GetAttribute("GANTranslate." + key) for key in ("ModelId", "ModelVersion", "Source", "Target")}
        if not all(facts.values()):
            raise ValueError(_("{name} is not a GANTranslate result: only results are exported as synthetic series.").format(
                name=outputNode.GetName()))
        from GANTranslateLib.dicom_export import Patient, write_dicom_series
        from GANTranslateLib.image_io import read_volume

        workDir = slicer.util.tempDirectory("GANTranslate")
        try:
            path = os.path.join(workDir, "result.nrrd")
            mrml_volume.write_volume(outputNode, path)
            return write_dicom_series(read_volume(path), Path(folder), facts["ModelId"], facts["ModelVersion"],
                                      facts["Source"], facts["Target"], Path(sourceDicomFile) if sourceDicomFile else None,
                                      patient=Patient(*patient) if patient else None)
        finally:
            shutil.rmtree(workDir, ignore_errors=True)

    def showInput(self, shown: bool) -> None:
        """The input over the result (foreground opacity 1), or the result alone (0)."""
        slicer.util.setSliceViewerLayers(foregroundOpacity=1.0 if shown else 0.0)

    def setCtWindow(self, name: str) -> None:
        """Brain or bone window for synthetic CT: this result's, and the next ones'."""
        self.ctWindow = name
        if self._shown is not None and slicer.mrmlScene.IsNodePresent(self._shown[0]):
            mrml_volume.set_display(*self._shown, name)

    def cancel(self) -> None:
        """End the background process and everything it started; nothing is added to the scene."""
        process, self._process = self._process, None
        if self._timer is not None:
            self._timer.stop()
        if process is None:
            return
        process.cancel()
        if self._run:
            shutil.rmtree(self._run["workDir"], ignore_errors=True)
        self._run = None

