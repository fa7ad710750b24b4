"""MRML glue: volume nodes in and out of the engine. The only engine file that imports Slicer's MRML;
only the Slicer module imports it, and it needs nothing of the Slicer application (tested with the
real MRML libraries of the ``slicer-core`` package)."""
from __future__ import annotations

from typing import Optional

from slicer import vtkMRMLSubjectHierarchyNode, vtkMRMLVolumeArchetypeStorageNode

from .model_card import is_ct_domain

ATTRIBUTE_PREFIX = "GANTranslate."
# (window, level) in HU. Brain first, the default: the bundled CT models are of the head.
CT_WINDOWS = {"brain": (80.0, 40.0), "bone": (2000.0, 400.0)}
CT_WINDOW_LEVEL = CT_WINDOWS["brain"]
DISAGREEMENT_COLORS = "vtkMRMLColorTableNodeFileViridis.txt"  # perceptual, and never mistaken for grey anatomy


def output_name(input_name: str, target: str) -> str:
    """The name says the volume is synthetic, whatever its contrast: it must never pass for an acquired one."""
    return f"{input_name} synthetic {target}"


def disagreement_name(output_name_: str, target: str = "") -> str:
    """The map's name says what it is and in which unit (HU for CT; the target's own units for MR)."""
    unit = "HU" if is_ct_domain(target) else f"{target} units" if target else ""
    return f"{output_name_} disagreement" + (f" ({unit})" if unit else "")


def write_volume(node, path: str) -> None:
    """Write a volume node the way Slicer saves it (NRRD keeps its geometry)."""
    storage = vtkMRMLVolumeArchetypeStorageNode()
    storage.SetFileName(path)
    storage.SetUseCompression(False)  # speed over size: the file lives for one run
    if not storage.WriteData(node):
        raise RuntimeError(f"could not write {node.GetName()} to {path}")


def create_output_node(scene, input_node, target: str):
    node = scene.AddNewNodeByClass("vtkMRMLScalarVolumeNode", scene.GenerateUniqueName(output_name(input_node.GetName(), target)))
    return node


def read_result(path: str, output_node, input_node) -> None:
    """Load the engine's result into ``output_node`` with the input's geometry, bit for bit."""
    storage = vtkMRMLVolumeArchetypeStorageNode()
    storage.SetFileName(path)
    if not storage.ReadData(output_node):
        raise RuntimeError(f"could not read the translated volume {path}")
    # The file holds the input's geometry up to text-format rounding. MRML ignores changes below its
    # tolerance, so reset to a plain grid first: the copy then takes the input's values bit for bit.
    output_node.SetIJKToRASDirections([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]])
    output_node.SetSpacing(1.0, 1.0, 1.0)
    output_node.SetOrigin(0.0, 0.0, 0.0)
    output_node.CopyOrientation(input_node)


def place_beside(scene, input_node, output_node) -> None:
    """Put the output where the input is: under the input's parent transform (a registered MR's synthetic
    CT must lie where the MR lies, not where its file's grid is), and in the input's study (or folder) in
    the subject hierarchy."""
    output_node.SetAndObserveTransformNodeID(input_node.GetTransformNodeID())
    hierarchy = vtkMRMLSubjectHierarchyNode.GetSubjectHierarchyNode(scene)
    if hierarchy is None:
        return
    input_item = hierarchy.GetItemByDataNode(input_node)
    output_item = hierarchy.GetItemByDataNode(output_node) or hierarchy.CreateItem(hierarchy.GetSceneItemID(), output_node)
    if input_item:
        hierarchy.SetItemParent(output_item, hierarchy.GetItemParent(input_item))


def record_provenance(node, note: str, **facts) -> None:
    """The synthetic-image note (the node's description and a Synthetic attribute) and the model id, version,
    device, time taken...: node attributes, saved with the scene."""
    node.SetDescription(note)
    node.SetAttribute(ATTRIBUTE_PREFIX + "Synthetic", note)
    for key, value in facts.items():
        node.SetAttribute(ATTRIBUTE_PREFIX + key, str(value))


def set_display(node, target: str, ct_window: str = "brain") -> None:
    """Grey display; for CT targets a named CT window (CT_WINDOWS), automatic otherwise."""
    if node.GetDisplayNode() is None:
        node.CreateDefaultDisplayNodes()
    display = node.GetDisplayNode()
    if display is None:
        return
    if is_ct_domain(target):
        window, level = CT_WINDOWS[ct_window]
        display.AutoWindowLevelOff()
        display.SetWindowLevel(window, level)
    else:
        display.AutoWindowLevelOn()


def set_disagreement_display(node, target: str = "") -> None:
    """A perceptual colour map (Viridis), not grey, so the map is never mistaken for an image of the
    patient; its unit is recorded on the node."""
    if node.GetDisplayNode() is None:
        node.CreateDefaultDisplayNodes()
    display = node.GetDisplayNode()
    if display is not None:
        display.SetAndObserveColorNodeID(DISAGREEMENT_COLORS)
        display.AutoWindowLevelOn()
    node.SetAttribute(ATTRIBUTE_PREFIX + "Unit", "HU" if is_ct_domain(target) else f"{target} units (arbitrary MR intensity)")
