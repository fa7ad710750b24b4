"""GANTranslate: translate a loaded volume into another contrast (T1, T2, FLAIR, CT...) with a GAN model.

The module is thin: the Widget does GUI work, the Logic moves volumes between the scene and the engine
(GANTranslateLib), and the engine runs in a background PythonSlicer process so the GUI never freezes,
Cancel is immediate, and an out-of-memory crash cannot take Slicer down.
"""
import logging
import os
import shutil
import sys
import time
from pathlib import Path
from typing import Annotated, Callable, Optional

import qt
import slicer
import vtk
from slicer import vtkMRMLScalarVolumeNode
from slicer.i18n import tr as _
from slicer.i18n import translate
from slicer.parameterNodeWrapper import Choice, WithinRange, parameterNodeWrapper
from slicer.ScriptedLoadableModule import (
    ScriptedLoadableModule,
    ScriptedLoadableModuleLogic,
    ScriptedLoadableModuleTest,
    ScriptedLoadableModuleWidget,
)
from slicer.util import VTKObservationMixin

# Engine modules that need neither torch nor jsonschema at import time.
from GANTranslateLib.background_process import BackgroundProcess
from GANTranslateLib.background_run import RunRequest, child_environment, failure_message, parse_line, predict_command
from GANTranslateLib.inference_options import InferenceOptions

README_URL = "https://github.com/gantranslate/SlicerGANTranslate#readme"
SETTINGS_PREFIX = "GANTranslate/"
CT_WINDOW_CHOICES = ["brain", "bone"]  # the order of ctWindowSelector's items
MODES = ["auto", "slice", "patch"]  # the order of the mode selector's items in the .ui
AXES = ["", "axial", "coronal", "sagittal"]  # the axis selector's ('' : the model's own)
INPUT_REFERENCE = "GANTranslateInput"  # node reference role: a result's input volume


class GANTranslate(ScriptedLoadableModule):
    def __init__(self, parent):
        ScriptedLoadableModule.__init__(self, parent)
        self.parent.title = _("GAN Translate")
        self.parent.categories = [translate("qSlicerAbstractCoreModule", "Filtering")]
        self.parent.dependencies = []
        self.parent.contributors = ["GANTranslate developers"]
        self.parent.helpText = _(
            "Translate a volume into another contrast with a GAN model: T1 to T2 and back, T2 to FLAIR and back, MRI to synthetic CT "
            "in Hounsfield units, low-dose CT denoising, MR super-resolution. Choose the input volume, its "
            "contrast, the target contrast and a model, then Apply; the result is a new volume with exactly "
            "the input's geometry. Synthetic images can look convincing and still be wrong: check them "
            "against the input. See the <a href=\"{url}\">documentation</a>."
        ).format(url=README_URL)
        self.parent.acknowledgementText = _(
            "Bundled data: TCGA-LGG (The Cancer Imaging Archive, CC BY 3.0; Pedano et al. 2016, Clark et al. "
            "2013) and the MNI ICBM152 templates (McConnell Brain Imaging Centre). Methods: pix2pix (Isola et "
            "al. 2017), CycleGAN (Zhu et al. 2017), StarGAN and the unified multi-contrast GAN (Choi et al. "
            "2018; Dai et al. 2020). Sliding-window inference by MONAI."
        )
        slicer.app.connect("startupCompleted()", registerSampleData)


SAMPLE_NAME = "GANTranslateT1"


def sampleFolder() -> str:
    """The bundled sample (a held-out slab of a real patient), packaged with the module's resources."""
    return os.path.join(os.path.dirname(__file__), "Resources", "SampleData", "TCGA-FG-6692-holdout")


def registerSampleData() -> None:
    """Offer the bundled T1 in the Sample Data module; a local file, so it loads offline."""
    import SampleData

    path = os.path.join(sampleFolder(), "T1.nii.gz")
    SampleData.SampleDataLogic.registerCustomSampleDataSource(
        category="GANTranslate", sampleName=SAMPLE_NAME, uris=pathToFileUri(path), fileNames="GANTranslate-T1.nii.gz",
        nodeNames="GANTranslate sample T1", thumbnailFileName=os.path.join(os.path.dirname(__file__), "Resources", "Icons",
                                                                          "GANTranslate.png"), loadFileType="VolumeFile")


def pathToFileUri(path: str) -> str:
    return Path(path).absolute().as_uri()


@parameterNodeWrapper
class GANTranslateParameterNode:
    inputVolume: vtkMRMLScalarVolumeNode
    outputVolume: vtkMRMLScalarVolumeNode
    sourceDomain: str = ""
    targetDomain: str = ""
    modelId: str = ""
    mode: Annotated[str, Choice(MODES)] = "auto"
    axis: Annotated[str, Choice(AXES)] = ""
    patchSize: Annotated[int, WithinRange(0, 512)] = 0
    overlap: Annotated[float, WithinRange(0.0, 0.9)] = 0.5
    batchSize: Annotated[int, WithinRange(0, 256)] = 0  # 0: automatic for the device
    device: str = "auto"
    fastMode: bool = False
    disagreementMap: bool = False


class GANTranslateWidget(ScriptedLoadableModuleWidget, VTKObservationMixin):
    def __init__(self, parent=None) -> None:
        ScriptedLoadableModuleWidget.__init__(self, parent)
        VTKObservationMixin.__init__(self)
        self.logic = None
        self._parameterNode = None
        self._parameterNodeGuiTag = None
        self._models = []

    def setup(self) -> None:
        ScriptedLoadableModuleWidget.setup(self)
        uiWidget = slicer.util.loadUI(self.resourcePath("UI/GANTranslate.ui"))
        self.layout.addWidget(uiWidget)
        self.ui = slicer.util.childWidgetVariables(uiWidget)
        uiWidget.setMRMLScene(slicer.mrmlScene)
        self.logic = GANTranslateLogic()

        self.addObserver(slicer.mrmlScene, slicer.mrmlScene.StartCloseEvent, self.onSceneStartClose)
        self.addObserver(slicer.mrmlScene, slicer.mrmlScene.NodeRemovedEvent, self.updateButtons)  # a deleted result
        self.addObserver(slicer.mrmlScene, slicer.mrmlScene.EndCloseEvent, self.onSceneEndClose)
        self.ui.applyButton.connect("clicked(bool)", self.onApplyButton)
        self.ui.sourceSelector.connect("currentIndexChanged(int)", self.onSourceChanged)
        self.ui.targetSelector.connect("currentIndexChanged(int)", self.onTargetChanged)
        self.ui.modelSelector.connect("currentIndexChanged(int)", self.onModelChanged)
        self.ui.modeSelector.connect("currentIndexChanged(int)", self.onAdvancedChanged)
        self.ui.axisSelector.connect("currentIndexChanged(int)", self.onAdvancedChanged)
        self.ui.deviceSelector.connect("currentIndexChanged(int)", self.onAdvancedChanged)
        self.ui.addModelButton.connect("clicked(bool)", self.onAddModel)
        self.ui.openModelsFolderButton.connect("clicked(bool)", self.onOpenModelsFolder)
        self.ui.installFromCatalogButton.connect("clicked(bool)", self.onInstallFromCatalog)
        self.ui.showInputButton.connect("toggled(bool)", self.logic.showInput)
        self.ui.ctWindowSelector.connect("currentIndexChanged(int)", self.onCtWindowChanged)
        self.ui.exportDicomButton.connect("clicked(bool)", self.onExportDicom)

        self.populateDevices()
        self.refreshModels()
        self.initializeParameterNode()

    def cleanup(self) -> None:
        self.logic.cancel()
        self.removeObservers()

    def enter(self) -> None:
        self.initializeParameterNode()

    def exit(self) -> None:
        if self._parameterNode:
            self._parameterNode.disconnectGui(self._parameterNodeGuiTag)
            self._parameterNodeGuiTag = None
            self.removeObserver(self._parameterNode, vtk.vtkCommand.ModifiedEvent, self.updateButtons)

    def onSceneStartClose(self, caller, event) -> None:
        self.logic.cancel()
        self.setParameterNode(None)

    def onSceneEndClose(self, caller, event) -> None:
        if self.parent.isEntered:
            self.initializeParameterNode()

    def initializeParameterNode(self) -> None:
        self.setParameterNode(self.logic.getParameterNode())
        if not self._parameterNode.inputVolume:
            first = slicer.mrmlScene.GetFirstNodeByClass("vtkMRMLScalarVolumeNode")
            if first:
                self._parameterNode.inputVolume = first

    def setParameterNode(self, inputParameterNode) -> None:
        if self._parameterNode:
            self._parameterNode.disconnectGui(self._parameterNodeGuiTag)
            self.removeObserver(self._parameterNode, vtk.vtkCommand.ModifiedEvent, self.updateButtons)
        self._parameterNode = inputParameterNode
        if self._parameterNode:
            self._parameterNodeGuiTag = self._parameterNode.connectGui(self.ui)
            self.addObserver(self._parameterNode, vtk.vtkCommand.ModifiedEvent, self.updateButtons)
            self.restoreChoices()
            self.updateButtons()

    # --- choices that depend on the installed models ----------------------------------------
    def refreshModels(self) -> None:
        self._models, problem = self.logic.installedModels()
        if problem:
            self.ui.statusLabel.text = problem
        self.fillCombo(self.ui.sourceSelector, sorted({s for m in self._models for s, _t in m.card.directions}))

    def fillCombo(self, combo, values, labels=None) -> None:
        current = combo.currentData
        combo.blockSignals(True)
        combo.clear()
        for i, value in enumerate(values):
            combo.addItem(labels[i] if labels else value, value)
        index = combo.findData(current) if current is not None else -1
        combo.setCurrentIndex(index if index >= 0 else (0 if values else -1))
        combo.blockSignals(False)

    def restoreChoices(self) -> None:
        """The GUI from the parameter node (a loaded scene's choices too): one source of truth, so the device
        shown is the device used."""
        p = self._parameterNode
        if p.device == "auto":  # a new node: the device last used on this computer
            p.device = qt.QSettings().value(SETTINGS_PREFIX + "LastDevice", "auto")
        if self.ui.deviceSelector.findData(p.device) < 0:  # e.g. a scene saved on a computer with a GPU
            p.device = "auto"
        self.ui.modeSelector.setCurrentIndex(MODES.index(p.mode))
        self.ui.axisSelector.setCurrentIndex(AXES.index(p.axis))
        self.ui.deviceSelector.setCurrentIndex(self.ui.deviceSelector.findData(p.device))
        index = self.ui.sourceSelector.findData(p.sourceDomain)
        if index >= 0:
            self.ui.sourceSelector.setCurrentIndex(index)
        self.onSourceChanged()
        index = self.ui.targetSelector.findData(p.targetDomain)
        if index >= 0:
            self.ui.targetSelector.setCurrentIndex(index)
        self.onTargetChanged()

    def onSourceChanged(self, _index=None) -> None:
        source = self.ui.sourceSelector.currentData
        targets = sorted({t for m in self._models for s, t in m.card.directions if s == source})
        self.fillCombo(self.ui.targetSelector, targets)
        if self._parameterNode:
            self._parameterNode.sourceDomain = source or ""
        self.onTargetChanged()

    def onTargetChanged(self, _index=None) -> None:
        source, target = self.ui.sourceSelector.currentData, self.ui.targetSelector.currentData
        models = [m for m in self._models if (source, target) in m.card.directions]
        self.fillCombo(self.ui.modelSelector, [m.card.id for m in models], [m.card.name for m in models])
        if self._parameterNode:
            self._parameterNode.targetDomain = target or ""
            index = self.ui.modelSelector.findData(self._parameterNode.modelId)
            if index >= 0:
                self.ui.modelSelector.setCurrentIndex(index)
        self.onModelChanged()

    def onModelChanged(self, _index=None) -> None:
        model = self.selectedModel()
        self.ui.modelCardLabel.text = self.logic.describeModel(model) if model else ""
        if self._parameterNode:
            self._parameterNode.modelId = model.card.id if model else ""
        self.updateButtons()

    def onAdvancedChanged(self, _index=None) -> None:
        if not self._parameterNode:
            return
        self._parameterNode.mode = MODES[max(self.ui.modeSelector.currentIndex, 0)]
        self._parameterNode.axis = AXES[max(self.ui.axisSelector.currentIndex, 0)]
        self._parameterNode.device = self.ui.deviceSelector.currentData or "auto"
        qt.QSettings().setValue(SETTINGS_PREFIX + "LastDevice", self._parameterNode.device)

    def selectedModel(self):
        modelId = self.ui.modelSelector.currentData
        return next((m for m in self._models if m.card.id == modelId), None)

    def populateDevices(self) -> None:
        """The devices this computer has; which one is chosen comes from the parameter node (restoreChoices)."""
        devices = [("auto", _("Auto (GPU if available)"))] + self.logic.devices()
        self.fillCombo(self.ui.deviceSelector, [d for d, _label in devices], [label for _d, label in devices])

    # --- actions ------------------------------------------------------------------------------
    def updateButtons(self, caller=None, event=None) -> None:
        """Apply (or Cancel while running) and Export, from the parameter node and the run's state."""
        self.ui.exportDicomButton.enabled = not self.logic.isRunning() and self.logic.lastResult() is not None
        if self.logic.isRunning():
            self.ui.applyButton.text, self.ui.applyButton.enabled = _("Cancel"), True
            self.ui.applyButton.toolTip = _("Stop the translation; the scene is left unchanged.")
            return
        missing = self.missingInputs()
        self.ui.applyButton.text = _("Apply")
        self.ui.applyButton.enabled = not missing
        self.ui.applyButton.toolTip = _("Translate the input volume.") if not missing else _("Missing: ") + ", ".join(missing)

    def missingInputs(self) -> list:
        p = self._parameterNode
        missing = []
        if not p or not p.inputVolume:
            missing.append(_("an input volume"))
        if not self.ui.sourceSelector.currentData:
            missing.append(_("an input contrast (install a model first)"))
        if not self.ui.targetSelector.currentData:
            missing.append(_("a target contrast"))
        if not self.selectedModel():
            missing.append(_("a model"))
        return missing

    def onApplyButton(self) -> None:
        if self.logic.isRunning():
            self.logic.cancel()
            self.ui.statusLabel.text = _("Cancelled; nothing was added to the scene.")
            self.finishRun()
            return
        with slicer.util.tryWithErrorDisplay(_("Failed to start the translation."), waitCursor=True):
            if not self.logic.ensureRequirements(confirm=True):
                return
            p = self._parameterNode
            self.ui.logTextEdit.clear()
            self.ui.progressBar.value, self.ui.progressBar.visible = 0, True
            self.ui.statusLabel.text = _("Translating…")
            try:
                self.logic.process(
                    p.inputVolume, p.outputVolume, self.selectedModel(), p.sourceDomain, p.targetDomain, optionsFrom(p),
                    wait=False, onProgress=self.onProgress, onLog=self.onLog, onFinished=self.onFinished,
                )
            except Exception as error:  # nothing started (a bad option, a process that cannot start): back to Apply
                self.ui.statusLabel.text = _("Not started: {error}").format(error=error)
                self.finishRun()
                raise
            self.updateButtons()

    def onProgress(self, fraction: float, stage: str) -> None:
        self.ui.progressBar.value = int(100 * fraction)
        self.ui.statusLabel.text = _("Translating: {stage}…").format(stage=stage)

    def onLog(self, text: str) -> None:
        self.ui.logTextEdit.appendPlainText(text)

    def onFinished(self, outputNode, error: Optional[str]) -> None:
        if error:
            self.ui.statusLabel.text = error
            slicer.util.errorDisplay(_("Translation failed: {error}").format(error=error))
        else:
            # the next Apply makes a new volume again: overwriting one is an explicit choice each time
            self._parameterNode.outputVolume = None
            seconds = outputNode.GetAttribute("GANTranslate.Seconds")
            warnings = outputNode.GetAttribute("GANTranslate.Warnings")
            self.ui.statusLabel.text = _("Done: {name} ({seconds} s).").format(name=outputNode.GetName(), seconds=seconds)
            if warnings:  # the input guard: the result is there, but may be wrong
                self.ui.statusLabel.text += " " + _("Warning: {warnings}").format(warnings=warnings)
        self.finishRun()

    def onCtWindowChanged(self, index: int) -> None:
        self.logic.setCtWindow(CT_WINDOW_CHOICES[index])

    def finishRun(self) -> None:
        self.ui.showInputButton.checked = False  # a new result is shown alone
        self.ui.progressBar.visible = False
        self.updateButtons()

    def onAddModel(self) -> None:
        folder = qt.QFileDialog.getExistingDirectory(slicer.util.mainWindow(), _("Choose a model package folder"))
        if not folder:
            return
        with slicer.util.tryWithErrorDisplay(_("This folder is not a valid model package."), waitCursor=True):
            name = self.logic.addModelPackage(folder)
            self.refreshModels()
            self.restoreChoices()
            self.ui.statusLabel.text = _("Added model {name}.").format(name=name)

    def onInstallFromCatalog(self) -> None:
        with slicer.util.tryWithErrorDisplay(_("Could not read the model catalog."), waitCursor=True):
            entries = self.logic.installableCatalogModels()
        if not entries:
            self.ui.statusLabel.text = _("The catalog lists no model that is not installed already.")
            return
        labels = [f"{entry.id} {entry.version}: {entry.description}" for entry in entries]
        label = qt.QInputDialog.getItem(slicer.util.mainWindow(), _("Install a model"),
                                        _("Model (downloaded and checked against its sha256):"), labels, 0, False)
        if label not in labels:  # cancelled
            return
        with slicer.util.tryWithErrorDisplay(_("The model could not be installed."), waitCursor=True):
            name = self.logic.addModelPackage(entries[labels.index(label)].id)
            self.refreshModels()
            self.restoreChoices()
            self.ui.statusLabel.text = _("Installed model {name}.").format(name=name)

    def onExportDicom(self) -> None:
        node = self.logic.lastResult()
        if node is None:
            self.ui.statusLabel.text = _("The last result is no longer in the scene; nothing to export.")
            self.updateButtons()
            return
        folder = qt.QFileDialog.getExistingDirectory(slicer.util.mainWindow(),
                                                     _("Choose a new or empty folder for the DICOM series"))
        if not folder:
            return
        with slicer.util.tryWithErrorDisplay(_("The DICOM series could not be written."), waitCursor=True):
            try:
                written = self.logic.exportDicom(node, folder, self.logic.sourceDicomFile(node))
            except Exception as error:
                self.ui.statusLabel.text = _("Not exported: {error}").format(error=error)
                raise
            self.ui.statusLabel.text = exportSummary(node, written)

    def onOpenModelsFolder(self) -> None:
        folder = self.logic.userModelsFolder()
        os.makedirs(folder, exist_ok=True)
        qt.QDesktopServices.openUrl(qt.QUrl.fromLocalFile(folder))


def exportSummary(node, written) -> str:
    """Whose study the synthetic series joined and in which frame of reference: what a planner must know
    before sending it on."""
    text = _("Wrote {name} to {folder} as a DICOM series marked SYNTHETIC").format(name=node.GetName(), folder=written.folder)
    if not written.joined_study:
        text += _(", in a new study with no patient (the input was not loaded from DICOM).")
    elif written.shares_frame:
        text += _(", in patient {patient}'s study, in the input series' frame of reference.").format(patient=written.patient_id)
    else:
        text += _(", in patient {patient}'s study, with a frame of reference of its own (the volume does not lie on the "
                  "input series' grid, moved since it was loaded, or that series has none).").format(patient=written.patient_id)
    if node.GetTransformNodeID():
        text += " " + _("Its parent transform is not applied: the series is in the input's own coordinates.")
    return text


def optionsFrom(parameters) -> InferenceOptions:
    """The parameter node's choices as the engine's options (which check themselves: a bad value is an error)."""
    return InferenceOptions(
        mode=parameters.mode, axis=parameters.axis or None, device=parameters.device,
        batch_size=parameters.batchSize or None, patch_size=(parameters.patchSize,) * 3 if parameters.patchSize else None,
        overlap=parameters.overlap if parameters.mode != "slice" else None,
        precision="fast" if parameters.fastMode else "exact", disagreement=parameters.disagreementMap)


def fast_mode_text(card: dict) -> str:
    """What the card records of fast mode's error, for the Fast preview option."""
    record = card.get("fast_mode")
    if not record:
        return _("not measured, so it is refused")
    parts = []
    for precision in ("bf16", "fp16"):
        entry = record.get(precision)
        if entry is None:
            continue
        if entry.get("non_finite"):
            parts.append(_("{p}: overflows, refused").format(p=precision))
        else:
            parts.append(_("{p}: {psnr:.0f} dB PSNR against exact, mean difference {mean:.2g}{verdict}").format(
                p=precision, psnr=entry["psnr_db"], mean=entry["mean_abs"], verdict="" if entry["allowed"] else _(", refused")))
    return "; ".join(parts) or _("not measured, so it is refused")


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

    # --- models and devices ---------------------------------------------------------------------
    def userModelsFolder(self) -> str:
        folder = qt.QSettings().value(SETTINGS_PREFIX + "ModelsFolder", "")
        if folder:
            os.environ["GANTRANSLATE_MODELS"] = folder
        from GANTranslateLib.model_registry import user_models_folder

        return str(user_models_folder())

    def installedModels(self):
        """(packages, problem): bundled and user models; a problem text when they cannot be read yet."""
        self.userModelsFolder()
        try:
            from GANTranslateLib.model_registry import list_packages
        except ImportError as error:
            return [], _("Press Apply to install the Python packages GANTranslate needs ({name}).").format(name=error.name)
        return list_packages(), None

    def describeModel(self, package) -> str:
        card = package.card.data
        from GANTranslateLib.cli_models import metric_lines

        held_out = "<br>".join(line.removeprefix("held out:").strip() for line in metric_lines(card.get("metrics", {})))
        rows = [f"<b>{card['name']}</b> ({card['id']} {card['version']})",
                _("Task: {task}; {mode}").format(task=card["task"], mode=card["mode"].upper()),
                _("Trained on: {data}").format(data=card.get("training_data", _("not stated"))),
                _("Held out: {scores}").format(scores=held_out or _("not reported")),
                _("Fast preview: {error}").format(error=fast_mode_text(card)),
                _("Licence: {licence}").format(licence=card["license"])]
        if card.get("intended_use"):
            rows.append(f"<i>{card['intended_use']}</i>")
        return "<br>".join(rows)

    def addModelPackage(self, source: str, sha256: Optional[str] = None) -> str:
        """A package folder, .zip or URL (with its sha256) into the user's models folder, validated first."""
        from GANTranslateLib.model_install import install_model

        return install_model(source, sha256, self.userModelsFolder())

    def installableCatalogModels(self) -> list:
        """Published models (GANTranslate/Resources/model_catalog.json) not installed at their version."""
        from GANTranslateLib.model_catalog import installable_entries

        packages, _problem = self.installedModels()
        return installable_entries({package.card.id: package.card.version for package in packages})

    def devices(self) -> list:
        """Each CUDA GPU by name when torch is already importable (never installs), and the CPU."""
        devices = []
        try:
            import torch

            devices = [(f"cuda:{i}", f"GPU {i}: {torch.cuda.get_device_name(i)}") for i in range(torch.cuda.device_count())]
        except ImportError:
            pass
        return devices + [("cpu", _("CPU (slow)"))]

    # --- dependencies ---------------------------------------------------------------------------
    def missingRequirements(self) -> list:
        """Packages missing or older than required, with why ('torch (found 2.1, need >= 2.2)')."""
        from GANTranslateLib.python_requirements import unmet

        return [f"{name} ({why})" for name, why in unmet().items()]

    def ensureRequirements(self, confirm: bool = True) -> bool:
        """Install what is missing or too old, after asking; never at import, and held to a constraints file that
        pins the numpy, SimpleITK, torch... Slicer already has, so none of them is replaced."""
        from GANTranslateLib.python_requirements import PINNED, constraints, install_arguments, unmet

        problems = unmet()
        if not problems:
            return True
        tooOld = [name for name, why in problems.items() if name in PINNED and name != "torch" and why != "missing"]
        if tooOld:  # Slicer's own package: replacing it could break Slicer
            slicer.util.errorDisplay(_("Slicer's {packages} older than GANTranslate needs; use a newer Slicer.").format(
                packages=", ".join(f"{name} ({problems[name]})" for name in tooOld)))
            return False
        text = _("GANTranslate needs these Python packages: {packages}. Install them now?").format(
            packages=", ".join(f"{name} ({why})" for name, why in problems.items()))
        if confirm and not slicer.util.confirmOkCancelDisplay(text):
            return False
        if "torch" in problems:
            self.installTorch()
        others = [name for name in problems if name != "torch"]
        if others:
            constraintsPath = os.path.join(slicer.util.tempDirectory("GANTranslate"), "constraints.txt")
            with open(constraintsPath, "w", encoding="utf-8") as handle:
                handle.write(constraints())
            slicer.util.pip_install(install_arguments(others, constraintsPath))
        return not unmet()

    def installTorch(self) -> None:
        """Through the PyTorch extension when present: it picks the CUDA build that fits this machine."""
        from GANTranslateLib.python_requirements import REQUIREMENTS

        try:
            import PyTorchUtils

            PyTorchUtils.PyTorchUtilsLogic().installTorch(askConfirmation=False,
                                                          torchVersionRequirement=f">={REQUIREMENTS['torch']}")
        except ImportError:
            slicer.util.pip_install([f"torch>={REQUIREMENTS['torch']}"])

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
        from GANTranslateLib import mrml_volume

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
        command = predict_command(self.pythonExecutable(), request)
        logging.info("GANTranslate: %s", " ".join(command))
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
        event = parse_line(line)
        if event is None:
            if line.strip() and self._run["onLog"]:
                self._run["onLog"](line.rstrip())
            return
        if event.kind == "done":
            self._run["result"] = event.fields
        if event.kind == "warning":
            self._run["warnings"].append(event.fields["message"])
            if self._run["onLog"]:
                self._run["onLog"](_("Warning: {message}").format(message=event.fields["message"]))
            return
        if self._run["onProgress"]:
            self._run["onProgress"](event.fraction, event.stage)
        if self._run["onLog"]:
            self._run["onLog"](line.rstrip())

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
        from GANTranslateLib import mrml_volume

        inputNode, target = run["input"], run["target"]
        outputNode = run["output"] or mrml_volume.create_output_node(slicer.mrmlScene, inputNode, target)
        if run["output"]:  # overwriting a node the user chose: its name must say what it now holds
            for stale in ("DICOM.instanceUIDs", "GANTranslate.DisagreementMap"):  # no longer what it holds
                outputNode.RemoveAttribute(stale)
            outputNode.SetName(slicer.mrmlScene.GenerateUniqueName(mrml_volume.output_name(inputNode.GetName(), target)))
        mrml_volume.read_result(run["outputPath"], outputNode, inputNode)
        mrml_volume.place_beside(slicer.mrmlScene, inputNode, outputNode)
        result = run["result"] or {}
        card = run["model"].card
        mrml_volume.record_provenance(
            outputNode, card.synthetic_note(run["source"], target), ModelId=card.id, ModelVersion=card.version, Source=run["source"], Target=target,
            Device=result.get("device", run["device"]), Seconds=round(time.time() - run["started"], 1),
            Warnings=" | ".join(run["warnings"]))
        # a reference, not an ID in an attribute: MRML keeps it right when the scene is imported into another
        outputNode.SetNodeReferenceID(INPUT_REFERENCE, inputNode.GetID())
        if run["disagreementPath"]:
            name = mrml_volume.disagreement_name(outputNode.GetName(), target)
            mapNode = slicer.mrmlScene.AddNewNodeByClass("vtkMRMLScalarVolumeNode", slicer.mrmlScene.GenerateUniqueName(name))
            mrml_volume.read_result(run["disagreementPath"], mapNode, inputNode)
            mrml_volume.place_beside(slicer.mrmlScene, inputNode, mapNode)
            mrml_volume.set_disagreement_display(mapNode, target)
            outputNode.SetAttribute("GANTranslate.DisagreementMap", mapNode.GetID())
        self.showResult(inputNode, outputNode, target)
        return outputNode

    def showResult(self, inputNode, outputNode, target: str) -> None:
        from GANTranslateLib import mrml_volume

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

    def exportDicom(self, outputNode, folder: str, sourceDicomFile: Optional[str] = None):
        """A result as a new DICOM series in ``folder`` (new or empty) that cannot pass for an acquired one
        (dicom_export), on the node's own grid (the input's): a synthetic CT in HU. Returns the engine's
        WrittenSeries (whose study it joined, whether it shares the input series' frame of reference)."""
        facts = {key: outputNode.GetAttribute("GANTranslate." + key) for key in ("ModelId", "ModelVersion", "Source", "Target")}
        if not all(facts.values()):
            raise ValueError(_("{name} is not a GANTranslate result: only results are exported as synthetic series.").format(
                name=outputNode.GetName()))
        from GANTranslateLib import mrml_volume
        from GANTranslateLib.dicom_export import write_dicom_series
        from GANTranslateLib.image_io import read_volume

        workDir = slicer.util.tempDirectory("GANTranslate")
        try:
            path = os.path.join(workDir, "result.nrrd")
            mrml_volume.write_volume(outputNode, path)
            return write_dicom_series(read_volume(path), Path(folder), facts["ModelId"], facts["ModelVersion"],
                                      facts["Source"], facts["Target"], Path(sourceDicomFile) if sourceDicomFile else None)
        finally:
            shutil.rmtree(workDir, ignore_errors=True)

    def showInput(self, shown: bool) -> None:
        """The input over the result (foreground opacity 1), or the result alone (0)."""
        slicer.util.setSliceViewerLayers(foregroundOpacity=1.0 if shown else 0.0)

    def setCtWindow(self, name: str) -> None:
        """Brain or bone window for synthetic CT: this result's, and the next ones'."""
        from GANTranslateLib import mrml_volume

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


class GANTranslateTest(ScriptedLoadableModuleTest):
    """Runs in a real Slicer: the whole flow on the bundled sample and model, on the CPU."""

    def setUp(self):
        slicer.mrmlScene.Clear()

    def runTest(self):
        self.setUp()
        self.test_translate_sample_keeps_geometry()

    def test_translate_sample_keeps_geometry(self):
        import SampleData

        logic = GANTranslateLogic()
        missing = logic.missingRequirements()
        if missing:  # installing packages is the user's choice (Apply asks), never a test's
            self.skipTest(_("GANTranslate's Python packages are not installed ({missing}); press Apply once "
                                      "in the module to install them, then run the test again").format(missing=", ".join(missing)))
        self.delayDisplay("Loading the bundled sample through the Sample Data module")
        registerSampleData()
        inputNode = SampleData.downloadSample(SAMPLE_NAME)
        models, problem = logic.installedModels()
        self.assertIsNone(problem)
        model = next(m for m in models if ("T1", "T2") in m.card.directions)
        self.delayDisplay(f"Translating with {model.card.id} on the CPU")
        outputNode = logic.process(inputNode, None, model, "T1", "T2", InferenceOptions(device="cpu"), wait=True)
        self.assertEqual(outputNode.GetName(), inputNode.GetName() + " synthetic T2")
        self.assertTrue(outputNode.GetAttribute("GANTranslate.Synthetic").startswith("SYNTHETIC T2 from T1"))
        inputMatrix, outputMatrix = vtk.vtkMatrix4x4(), vtk.vtkMatrix4x4()
        inputNode.GetIJKToRASMatrix(inputMatrix)
        outputNode.GetIJKToRASMatrix(outputMatrix)
        for i in range(4):
            for j in range(4):
                self.assertEqual(inputMatrix.GetElement(i, j), outputMatrix.GetElement(i, j))
        self.assertEqual(inputNode.GetImageData().GetDimensions(), outputNode.GetImageData().GetDimensions())
        self.assertEqual(outputNode.GetAttribute("GANTranslate.ModelId"), model.card.id)
        values = slicer.util.arrayFromVolume(outputNode)
        self.assertGreater(float(values.std()), 0.0)
        self.delayDisplay("Test passed")
