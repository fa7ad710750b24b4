"""The panel: GUI work only, on a loaded .ui, with the translation and install logic given to it.

One source of truth: the parameter node. The panel is drawn from the node by one guarded function
(``updateGUIFromParameterNode``, on the node's ModifiedEvent, signals blocked while it sets widgets), the
widgets' handlers only write to the node, and Apply reads only the node. So a scene loaded while the module
is open, or a saved one restored, shows exactly what Apply will run. The node selectors, spin boxes and check
boxes are bound by Slicer's own ``connectGui`` (their ``SlicerParameterName`` in the .ui); the contrast, model,
mode, axis and device selectors are filled here, because their items depend on the installed models and on
this computer's devices.
"""
import importlib
import os
from typing import Callable, List, Optional, Tuple

import qt
import slicer
import vtk
from slicer.i18n import tr as _
from slicer.util import VTKObservationMixin

from GANTranslateLib.model_card import recheck_schema_support

from .devices import DeviceQuery
from .input_choice import firstTranslatableVolume, guessContrast, isTranslatableVolume
from .install_logic import InstallLogic
from .model_text import clearedForClinicalUse, describeModel
from .parameters import AXES, MODES, optionsFrom
from .translation_logic import SETTINGS_PREFIX

CT_WINDOW_CHOICES = ["brain", "bone"]  # the order of ctWindowSelector's items
CHOOSE = ""  # a selector's 'nothing chosen' item


class GANTranslatePanel(VTKObservationMixin):
    def __init__(self, ui, logic, installLogic: InstallLogic, isEntered: Callable[[], bool] = lambda: True) -> None:
        VTKObservationMixin.__init__(self)
        self.ui, self.logic, self.installLogic, self.isEntered = ui, logic, installLogic, isEntered
        self._parameterNode = None
        self._guiTag = None
        self._updatingGUI = False
        self._models: list = []
        self._devices: List[Tuple[str, str]] = [("cpu", _("CPU (slow)"))]
        self._devicesKnown = False  # the child process has answered
        self._deviceQuery = None
        self._deviceTimer = None
        self._missingPackages: dict = {}
        self._installing = False
        self._guess: Optional[Tuple[str, str, str]] = None  # (input node ID, contrast, the text it came from)
        self._lastInputID: Optional[str] = None

    # --- life cycle ------------------------------------------------------------------------------
    def setup(self) -> None:
        ui = self.ui
        self.addObserver(slicer.mrmlScene, slicer.mrmlScene.StartCloseEvent, self.onSceneStartClose)
        self.addObserver(slicer.mrmlScene, slicer.mrmlScene.EndCloseEvent, self.onSceneEndClose)
        self.addObserver(slicer.mrmlScene, slicer.mrmlScene.EndImportEvent, self.onSceneEndImport)
        self.addObserver(slicer.mrmlScene, slicer.mrmlScene.NodeRemovedEvent, self.updateButtons)  # a deleted result
        ui.applyButton.connect("clicked(bool)", self.onApplyButton)
        ui.installDependenciesButton.connect("clicked(bool)", self.onInstallDependencies)
        ui.sourceSelector.connect("currentIndexChanged(int)", self.onSourceChanged)
        ui.targetSelector.connect("currentIndexChanged(int)", self.onTargetChanged)
        ui.modelSelector.connect("currentIndexChanged(int)", self.onModelChanged)
        for selector in (ui.modeSelector, ui.axisSelector, ui.deviceSelector):
            selector.connect("currentIndexChanged(int)", self.onAdvancedChanged)
        ui.addModelButton.connect("clicked(bool)", self.onAddModel)
        ui.openModelsFolderButton.connect("clicked(bool)", self.onOpenModelsFolder)
        ui.installFromCatalogButton.connect("clicked(bool)", self.onInstallFromCatalog)
        ui.showInputButton.connect("toggled(bool)", self.logic.showInput)
        ui.ctWindowSelector.connect("currentIndexChanged(int)", self.onCtWindowChanged)
        ui.exportDicomButton.connect("clicked(bool)", self.onExportDicom)
        self.refreshDependencies()
        self.refreshModels()
        self.refreshDevices()
        self.initializeParameterNode()

    def cleanup(self) -> None:
        self.logic.cancel()
        if self._deviceQuery is not None:
            self._deviceQuery.cancel()
        self.removeObservers()

    def enter(self) -> None:
        self.initializeParameterNode()

    def exit(self) -> None:
        self.setParameterNode(None)

    def onSceneStartClose(self, caller=None, event=None) -> None:
        self.logic.cancel()
        self.setParameterNode(None)

    def onSceneEndClose(self, caller=None, event=None) -> None:
        if self.isEntered():
            self.initializeParameterNode()

    def onSceneEndImport(self, caller=None, event=None) -> None:
        """A loaded scene wrote its choices into the node in place: bind a fresh wrapper, so that the widgets
        Slicer's connectGui binds are redrawn from the node's new values, not from the old wrapper's cache."""
        if self._parameterNode is not None:
            self.setParameterNode(self.logic.getParameterNode())

    # --- the parameter node ------------------------------------------------------------------------
    def initializeParameterNode(self) -> None:
        isNew = not self.logic.hasParameterNode()
        parameterNode = self.logic.getParameterNode()
        if isNew:  # a new node: the device last used on this computer (a saved scene keeps its own)
            lastDevice = qt.QSettings().value(SETTINGS_PREFIX + "LastDevice", "auto")
            if lastDevice and lastDevice != parameterNode.device:
                parameterNode.device = lastDevice
        if not parameterNode.inputVolume or not isTranslatableVolume(parameterNode.inputVolume):
            first = firstTranslatableVolume(slicer.mrmlScene)
            if first is not None:
                parameterNode.inputVolume = first
        self.setParameterNode(parameterNode)

    def setParameterNode(self, parameterNode) -> None:
        if self._parameterNode is not None:
            self._parameterNode.disconnectGui(self._guiTag)
            self._guiTag = None
            self.removeObserver(self._parameterNode, vtk.vtkCommand.ModifiedEvent, self.updateGUIFromParameterNode)
        self._parameterNode = parameterNode
        if parameterNode is not None:
            self._guiTag = parameterNode.connectGui(self.ui)
            # after the wrapper's own observers (VTK calls the last added first; lower priority runs later), so the
            # values read here are the node's new ones, whoever wrote them
            self.addObserver(parameterNode, vtk.vtkCommand.ModifiedEvent, self.updateGUIFromParameterNode, priority=-1.0)
            self.updateGUIFromParameterNode()

    def updateGUIFromParameterNode(self, caller=None, event=None) -> None:
        """The selectors from the node, with their signals blocked, so drawing the panel never writes to it."""
        p = self._parameterNode
        if p is None or self._updatingGUI:
            return
        self._updatingGUI = True
        try:
            sources = sorted({s for m in self._models for s, _t in m.card.directions})
            self._setChoices(self.ui.sourceSelector, [(s, self._sourceLabel(s)) for s in sources], p.sourceDomain,
                             _("Choose the input's contrast"))
            targets = sorted({t for m in self._models for s, t in m.card.directions if s == p.sourceDomain})
            self._setChoices(self.ui.targetSelector, [(t, t) for t in targets], p.targetDomain, _("Choose a target contrast"))
            models = [m for m in self._models if (p.sourceDomain, p.targetDomain) in m.card.directions]
            self._setChoices(self.ui.modelSelector, [(m.card.id, m.card.name) for m in models], p.modelId, _("Choose a model"))
            self._setChoices(self.ui.modeSelector, None, p.mode)
            self._setChoices(self.ui.axisSelector, None, p.axis)
            devices = [("auto", _("Auto (GPU if available)"))] + self._devices
            self._setChoices(self.ui.deviceSelector, devices, p.device)
            model = self.modelFor(p.modelId)
            self.ui.modelCardLabel.text = describeModel(model.card.data) if model else ""
        finally:
            self._updatingGUI = False
        self.updateButtons()
        self._guessContrastOfNewInput()

    def _setChoices(self, combo, choices: Optional[List[Tuple[str, str]]], value: str, placeholder: Optional[str] = None) -> None:
        """Fill ``combo`` (None: keep the .ui's fixed items, MODES/AXES order) and select ``value``; a value the
        node holds but this computer does not offer is shown as such, never replaced by another."""
        wasBlocked = combo.blockSignals(True)
        try:
            if choices is None:
                values = MODES if combo is self.ui.modeSelector else AXES
                combo.setCurrentIndex(values.index(value) if value in values else -1)
                return
            if value and value not in [v for v, _label in choices]:
                choices = choices + [(value, _("{value} (not available here)").format(value=value))]
            if not value and placeholder is not None:
                choices = [(CHOOSE, placeholder)] + choices
            combo.clear()
            for data, label in choices:
                combo.addItem(label, data)
            combo.setCurrentIndex(combo.findData(value) if choices else -1)
        finally:
            combo.blockSignals(wasBlocked)

    def _sourceLabel(self, contrast: str) -> str:
        p = self._parameterNode
        guess = self._guess
        if guess and p and p.inputVolume and guess[0] == p.inputVolume.GetID() and guess[1] == contrast:
            return _("{contrast} (guessed from '{text}': check it)").format(contrast=contrast, text=guess[2])
        return contrast

    def _guessContrastOfNewInput(self) -> None:
        """When another input is chosen, a contrast named in its name or DICOM series description is offered as
        a guess (labelled so); a choice the node already holds is kept."""
        p = self._parameterNode
        node = p.inputVolume if p else None
        nodeID = node.GetID() if node else None
        if nodeID == self._lastInputID:
            return
        self._lastInputID = nodeID
        if node is None:
            return
        sources = sorted({s for m in self._models for s, _t in m.card.directions})
        texts = [node.GetName(), node.GetAttribute("DICOM.SeriesDescription")]
        guessed = guessContrast(texts, sources)
        applied = self._guess[1] if self._guess else None  # a guess the panel made and the user left as it was
        self._guess = None
        if p.sourceDomain and p.sourceDomain != applied:  # the user's (or a saved scene's) choice stays
            self.updateGUIFromParameterNode()
            return
        if guessed:
            self._guess = (nodeID, guessed, next(t for t in texts if t and guessed.upper() in t.upper()))
        self.chooseSource(guessed or CHOOSE)

    # --- what the handlers write -------------------------------------------------------------------
    def chooseSource(self, source: str) -> None:
        """The input contrast, and a target and model that go with it (the first offered, unless the node's fit)."""
        p = self._parameterNode
        targets = sorted({t for m in self._models for s, t in m.card.directions if s == source})
        target = p.targetDomain if p.targetDomain in targets else (targets[0] if targets else CHOOSE)
        with slicer.util.NodeModify(p):
            p.sourceDomain = source
            self._chooseTarget(target)

    def _chooseTarget(self, target: str) -> None:
        p = self._parameterNode
        models = [m.card.id for m in self._models if (p.sourceDomain, target) in m.card.directions]
        with slicer.util.NodeModify(p):
            p.targetDomain = target
            p.modelId = p.modelId if p.modelId in models else (models[0] if models else "")

    def onSourceChanged(self, _index=None) -> None:
        if self._parameterNode is not None and not self._updatingGUI:
            self.chooseSource(self.ui.sourceSelector.currentData or CHOOSE)

    def onTargetChanged(self, _index=None) -> None:
        if self._parameterNode is not None and not self._updatingGUI:
            self._chooseTarget(self.ui.targetSelector.currentData or CHOOSE)

    def onModelChanged(self, _index=None) -> None:
        if self._parameterNode is not None and not self._updatingGUI:
            self._parameterNode.modelId = self.ui.modelSelector.currentData or ""

    def onAdvancedChanged(self, _index=None) -> None:
        p = self._parameterNode
        if p is None or self._updatingGUI:
            return
        with slicer.util.NodeModify(p):
            p.mode = MODES[max(self.ui.modeSelector.currentIndex, 0)]
            p.axis = AXES[max(self.ui.axisSelector.currentIndex, 0)]
            p.device = self.ui.deviceSelector.currentData or "auto"
        qt.QSettings().setValue(SETTINGS_PREFIX + "LastDevice", p.device)

    def modelFor(self, modelId: str):
        return next((m for m in self._models if m.card.id == modelId), None)

    # --- models, devices, packages --------------------------------------------------------------------
    def refreshModels(self) -> None:
        recheck_schema_support()  # cards are schema-checked once jsonschema is installed
        self._models, problem = self.logic.installedModels()
        if problem:
            self.ui.statusLabel.text = problem
        self.updateGUIFromParameterNode()

    def refreshDevices(self) -> None:
        """Ask the engine's Python which GPUs it sees, in a child process polled from a timer (set-up never waits)."""
        if self._deviceQuery is not None:
            self._deviceQuery.cancel()
        self._deviceQuery = DeviceQuery(self.logic.pythonExecutable(), self.logic.startProcess)
        if self._deviceTimer is None:
            self._deviceTimer = qt.QTimer()
            self._deviceTimer.setInterval(200)
            self._deviceTimer.connect("timeout()", self.pollDevices)
        self._deviceTimer.start()
        self.pollDevices()

    def pollDevices(self) -> None:
        answer = self._deviceQuery.poll() if self._deviceQuery is not None else None
        if answer is None:
            return
        self._deviceTimer.stop()
        self._deviceQuery = None
        self._devices, problem = answer
        self._devicesKnown = not problem or "not installed" not in problem
        self.ui.deviceSelector.toolTip = problem or _("Where the translation runs; Auto: a GPU when there is one.")
        self.updateGUIFromParameterNode()

    def refreshDependencies(self) -> None:
        self._missingPackages = self.installLogic.missing()
        if self._missingPackages:
            self.ui.statusLabel.text = _("GANTranslate needs Python packages this Slicer does not have yet ({packages}): "
                                         "press Install dependencies.").format(packages=", ".join(self._missingPackages))
        self.updateButtons()

    def onInstallDependencies(self) -> None:
        if self._installing or self.installLogic.installing:  # pip lets the GUI run: a second click must do nothing
            return
        plan = self.installLogic.plan()
        if not plan.needed:
            self.refreshDependencies()
            return
        if plan.blocked:
            self.ui.statusLabel.text = plan.blocked
            slicer.util.errorDisplay(plan.blocked)
            return
        what = plan.description()
        if not slicer.util.confirmOkCancelDisplay(_("Install into Slicer's Python: {packages}? This can take several "
                                                    "minutes; Slicer's own packages are not replaced.").format(packages=what)):
            return
        self._installing = True
        self.ui.statusLabel.text = _("Installing {packages}…").format(packages=what)
        self.updateButtons()
        slicer.app.processEvents()  # show the disabled buttons and the status before pip starts
        try:
            with slicer.util.WaitCursor():
                result = self.installLogic.install(plan)
        finally:
            self._installing = False
        importlib.invalidate_caches()
        self.ui.statusLabel.text = result.message
        self.refreshDependencies()
        self.refreshModels()
        self.refreshDevices()
        if not result.ok:
            slicer.util.errorDisplay(result.message)
        if result.needsRestart and slicer.util.confirmOkCancelDisplay(_("Restart Slicer now to finish?")):
            slicer.util.restart()

    # --- buttons --------------------------------------------------------------------------------------
    def updateButtons(self, caller=None, event=None) -> None:
        """Apply (Cancel while running), Install dependencies and Export, from the node and the run's state."""
        ui = self.ui
        running = self.logic.isRunning()
        busy = self._installing or self.installLogic.installing
        ui.installDependenciesButton.visible = bool(self._missingPackages) or busy
        ui.installDependenciesButton.enabled = not busy and not running
        ui.exportDicomButton.enabled = not running and not busy and self.logic.lastResult() is not None
        if running:
            ui.applyButton.text, ui.applyButton.enabled = _("Cancel"), True
            ui.applyButton.toolTip = _("Stop the translation; the scene is left unchanged.")
            return
        ui.applyButton.text = _("Apply")
        if busy:
            ui.applyButton.enabled, ui.applyButton.toolTip = False, _("Wait for the install to finish.")
            return
        missing = self.missingInputs()
        ui.applyButton.enabled = not missing
        ui.applyButton.toolTip = _("Translate the input volume.") if not missing else _("Missing: ") + ", ".join(missing)

    def missingInputs(self) -> List[str]:
        p = self._parameterNode
        missing = []
        if self._missingPackages:
            missing.append(_("the Python packages {packages} (press Install dependencies)").format(
                packages=", ".join(self._missingPackages)))
        if p is None or not p.inputVolume:
            missing.append(_("an input volume"))
        if p is None or not p.sourceDomain:
            missing.append(_("the input's contrast") if self._models else _("an input contrast (install a model first)"))
        elif not p.targetDomain:
            missing.append(_("a target contrast"))
        if p is not None and p.sourceDomain and p.targetDomain and self.modelFor(p.modelId) is None:
            missing.append(_("a model"))
        if p is not None and self._devicesKnown and p.device != "auto" and p.device not in [d for d, _l in self._devices]:
            missing.append(_("a device this computer has (the scene asks for {device})").format(device=p.device))
        return missing

    # --- running --------------------------------------------------------------------------------------
    def onApplyButton(self) -> None:
        if self.logic.isRunning():
            self.logic.cancel()
            self.ui.statusLabel.text = _("Cancelled; nothing was added to the scene.")
            self.finishRun()
            return
        p = self._parameterNode
        if p is None or self.missingInputs():
            self.updateButtons()
            return
        with slicer.util.tryWithErrorDisplay(_("Failed to start the translation."), waitCursor=True):
            self.ui.logTextEdit.clear()
            self.ui.progressBar.value, self.ui.progressBar.visible = 0, True
            self.ui.statusLabel.text = _("Translating…")
            try:  # every value from the node: what the panel shows is what runs
                self.logic.process(p.inputVolume, p.outputVolume, self.modelFor(p.modelId), p.sourceDomain, p.targetDomain,
                                   optionsFrom(p), wait=False, onProgress=self.onProgress, onLog=self.onLog,
                                   onFinished=self.onFinished)
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
            (self._parameterNode or self.logic.getParameterNode()).outputVolume = None
            seconds = outputNode.GetAttribute("GANTranslate.Seconds")
            warnings = outputNode.GetAttribute("GANTranslate.Warnings")
            self.ui.statusLabel.text = _("Done: {name} ({seconds} s).").format(name=outputNode.GetName(), seconds=seconds)
            if warnings:  # the input guard: the result is there, but may be wrong
                self.ui.statusLabel.text += " " + _("Warning: {warnings}").format(warnings=warnings)
        self.finishRun()

    def finishRun(self) -> None:
        self.ui.showInputButton.checked = False  # a new result is shown alone
        self.ui.progressBar.visible = False
        self.updateButtons()

    def onCtWindowChanged(self, index: int) -> None:
        self.logic.setCtWindow(CT_WINDOW_CHOICES[index])

    # --- models folder and catalog ------------------------------------------------------------------
    def onAddModel(self) -> None:
        folder = qt.QFileDialog.getExistingDirectory(slicer.util.mainWindow(), _("Choose a model package folder"))
        if not folder:
            return
        with slicer.util.tryWithErrorDisplay(_("This folder is not a valid model package."), waitCursor=True):
            name = self.logic.addModelPackage(folder)
            self.refreshModels()
            self.ui.statusLabel.text = _("Added model {name}.").format(name=name)

    def onInstallFromCatalog(self) -> None:
        with slicer.util.tryWithErrorDisplay(_("Could not read the model catalog."), waitCursor=True):
            entries = self.logic.installableCatalogModels()
        if not entries:
            self.ui.statusLabel.text = _("The catalog lists no model that is not installed already.")
            return
        labels = [f"{entry.id} {entry.version}: {entry.description}" for entry in entries]
        # a dialog object: PythonQt's static getItem returns the current item on Cancel, with no 'ok' flag
        dialog = qt.QInputDialog(slicer.util.mainWindow())
        dialog.setWindowTitle(_("Install a model"))
        dialog.setLabelText(_("Model (downloaded and checked against its sha256):"))
        dialog.setComboBoxItems(labels)
        dialog.setComboBoxEditable(False)
        if not dialog.exec_() or dialog.textValue() not in labels:  # exec_: what Slicer's own util calls
            self.ui.statusLabel.text = _("No model installed.")
            return
        with slicer.util.tryWithErrorDisplay(_("The model could not be installed."), waitCursor=True):
            name = self.logic.addModelPackage(entries[labels.index(dialog.textValue())].id)
            self.refreshModels()
            self.ui.statusLabel.text = _("Installed model {name}.").format(name=name)

    def onOpenModelsFolder(self) -> None:
        folder = self.logic.userModelsFolder()
        os.makedirs(folder, exist_ok=True)
        qt.QDesktopServices.openUrl(qt.QUrl.fromLocalFile(folder))

    # --- DICOM export -----------------------------------------------------------------------------------
    def onExportDicom(self) -> None:
        node = self.logic.lastResult()
        if node is None:
            self.ui.statusLabel.text = _("The last result is no longer in the scene; nothing to export.")
            self.updateButtons()
            return
        sourceFile = self.logic.sourceDicomFile(node)
        if sourceFile and not self.confirmNonClinicalExport(node):
            self.ui.statusLabel.text = _("Not exported.")
            return
        patient = None if sourceFile else self.askPatient()
        if not sourceFile and patient is None:
            self.ui.statusLabel.text = _("Not exported: a series of an input not loaded from DICOM needs the patient's ID "
                                         "and name.")
            return
        folder = qt.QFileDialog.getExistingDirectory(slicer.util.mainWindow(),
                                                     _("Choose a new or empty folder for the DICOM series"))
        if not folder:
            return
        with slicer.util.tryWithErrorDisplay(_("The DICOM series could not be written."), waitCursor=True):
            try:
                written = self.logic.exportDicom(node, folder, sourceFile, patient=patient)
            except Exception as error:
                self.ui.statusLabel.text = _("Not exported: {error}").format(error=error)
                raise
            self.ui.statusLabel.text = exportSummary(node, written)

    def askPatient(self) -> Optional[Tuple[str, str]]:
        """The patient's ID and name for a series whose input was not loaded from DICOM (a PACS would file every
        such series under one blank patient); None when the user cancels or leaves one empty."""
        answers = []
        for label in (_("Patient ID of the synthetic series:"), _("Patient name (Family^Given):")):
            dialog = qt.QInputDialog(slicer.util.mainWindow())  # a dialog object: its exec_ says whether it was accepted
            dialog.setWindowTitle(_("Export as DICOM"))
            dialog.setLabelText(label)
            if not dialog.exec_() or not dialog.textValue().strip():
                return None
            answers.append(dialog.textValue().strip())
        return answers[0], answers[1]

    def confirmNonClinicalExport(self, node) -> bool:
        """A model whose card does not clear it for clinical use goes into a patient's study only when the user
        says so, having read what the card says."""
        intendedUse = node.GetAttribute("GANTranslate.IntendedUse") or ""
        if clearedForClinicalUse(intendedUse):
            return True
        return bool(slicer.util.confirmOkCancelDisplay(_(
            "{model} is not cleared for clinical use (its card: \"{use}\"). Export its result into the patient's study "
            "anyway? The series is marked SYNTHETIC and NOT FOR CLINICAL USE.").format(
                model=node.GetAttribute("GANTranslate.ModelId"), use=intendedUse or _("no intended use stated"))))


def exportSummary(node, written) -> str:
    """Whose study the synthetic series joined and in which frame of reference: what a planner must know
    before sending it on."""
    text = _("Wrote {name} to {folder} as a DICOM series marked SYNTHETIC").format(name=node.GetName(), folder=written.folder)
    if not written.joined_study:
        text += _(", in a new study of patient {patient} (the input was not loaded from DICOM).").format(
            patient=written.patient_id)
    elif written.shares_frame:
        text += _(", in patient {patient}'s study, in the input series' frame of reference.").format(patient=written.patient_id)
    else:
        text += _(", in patient {patient}'s study, with a frame of reference of its own (the volume does not lie on the "
                  "input series' grid, moved since it was loaded, or that series has none).").format(patient=written.patient_id)
    if node.GetTransformNodeID():
        text += " " + _("Its parent transform is not applied: the series is in the input's own coordinates.")
    for warning in written.warnings:  # e.g. a Patient Position assumed
        text += " " + _("Warning: {warning}").format(warning=warning)
    return text
