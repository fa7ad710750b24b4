"""The module's state in the scene: one parameter node, saved with the scene and restored from it.

Everything a run uses is here (the model too), so what the panel shows after a scene is loaded is what Apply
runs: the panel is drawn from this node, and Apply reads only this node.
"""
from typing import Annotated

from slicer import vtkMRMLScalarVolumeNode
from slicer.parameterNodeWrapper import Choice, WithinRange, parameterNodeWrapper

from GANTranslateLib.inference_options import InferenceOptions

MODES = ["auto", "slice", "patch"]  # the order of the mode selector's items in the .ui
AXES = ["", "axial", "coronal", "sagittal"]  # the axis selector's ('' : the model's own)


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


def optionsFrom(parameters) -> InferenceOptions:
    """The parameter node's choices as the engine's options (which check themselves: a bad value is an error)."""
    return InferenceOptions(
        mode=parameters.mode, axis=parameters.axis or None, device=parameters.device,
        batch_size=parameters.batchSize or None, patch_size=(parameters.patchSize,) * 3 if parameters.patchSize else None,
        overlap=parameters.overlap if parameters.mode != "slice" else None,
        precision="fast" if parameters.fastMode else "exact", disagreement=parameters.disagreementMap)
