"""GANTranslate: translate a loaded volume into another contrast (T1, T2, FLAIR, CT...) with a GAN model.

This file is thin (SlicerNNUnet's layout): the module's description, the sample data, and a widget that hosts
the panel. The work is in GANTranslateModuleLib (panel, translation logic, install logic, parameter node),
which drives the engine (GANTranslateLib) in a background PythonSlicer process, so the GUI never freezes,
Cancel is immediate, and an out-of-memory crash cannot take Slicer down. Nothing imported here needs a
package a stock Slicer lacks: the panel always sets up and offers to install what is missing.
"""
import os
from pathlib import Path

import slicer
import vtk
from slicer.i18n import tr as _
from slicer.i18n import translate
from slicer.ScriptedLoadableModule import ScriptedLoadableModule, ScriptedLoadableModuleTest, ScriptedLoadableModuleWidget

from GANTranslateLib.inference_options import InferenceOptions
from GANTranslateModuleLib.install_logic import InstallLogic
from GANTranslateModuleLib.parameters import GANTranslateParameterNode  # noqa: F401 (scripts use it from here)
from GANTranslateModuleLib.translation_logic import GANTranslateLogic
from GANTranslateModuleLib.widget import GANTranslatePanel

README_URL = "https://github.com/gantranslate/SlicerGANTranslate#readme"
SAMPLE_NAME = "GANTranslateT1"
# the bundled sample's SHA256: Sample Data replaces a cached copy that differs (Testing checks it is the file's)
SAMPLE_SHA256 = "016fba4472faf2f877973095d3f81369d4a7c98c5667c63e415120068f255366"


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


def sampleFolder() -> str:
    """The bundled sample (a held-out slab of a real patient), packaged with the module's resources."""
    return os.path.join(os.path.dirname(__file__), "Resources", "SampleData", "TCGA-FG-6692-holdout")


def registerSampleData() -> None:
    """Offer the bundled T1 in the Sample Data module; a local file, so it loads offline."""
    import SampleData

    path = os.path.join(sampleFolder(), "T1.nii.gz")
    SampleData.SampleDataLogic.registerCustomSampleDataSource(
        category="GANTranslate", sampleName=SAMPLE_NAME, uris=pathToFileUri(path), fileNames="GANTranslate-T1.nii.gz",
        nodeNames="GANTranslate sample T1", checksums=f"SHA256:{SAMPLE_SHA256}",
        thumbnailFileName=os.path.join(os.path.dirname(__file__), "Resources", "Icons", "GANTranslate.png"),
        loadFileType="VolumeFile")


def pathToFileUri(path: str) -> str:
    return Path(path).absolute().as_uri()


class GANTranslateWidget(ScriptedLoadableModuleWidget):
    """Hosts the panel (GANTranslateModuleLib.widget), giving it the .ui and its logics."""

    def __init__(self, parent=None) -> None:
        self.logic = None
        self.panel = None
        ScriptedLoadableModuleWidget.__init__(self, parent)  # without a parent it calls setup() itself

    def setup(self) -> None:
        ScriptedLoadableModuleWidget.setup(self)
        uiWidget = slicer.util.loadUI(self.resourcePath("UI/GANTranslate.ui"))
        self.layout.addWidget(uiWidget)
        self.ui = slicer.util.childWidgetVariables(uiWidget)
        uiWidget.setMRMLScene(slicer.mrmlScene)
        self.logic = GANTranslateLogic()
        self.panel = GANTranslatePanel(self.ui, self.logic, InstallLogic(slicer.util.pip_install),
                                       isEntered=lambda: self.parent.isEntered)
        self.panel.setup()

    def cleanup(self) -> None:
        if self.panel is not None:
            self.panel.cleanup()

    def enter(self) -> None:
        self.panel.enter()

    def exit(self) -> None:
        self.panel.exit()


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
        missing = InstallLogic(slicer.util.pip_install).missing()
        if missing:  # installing packages is the user's choice (Install dependencies asks), never a test's
            self.skipTest(_("GANTranslate's Python packages are not installed ({missing}); press Install dependencies "
                            "in the module, then run the test again").format(missing=", ".join(missing)))
        self.delayDisplay("Loading the bundled sample through the Sample Data module")
        registerSampleData()
        inputNode = SampleData.downloadSample(SAMPLE_NAME)
        models, _problem = logic.installedModels()
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
