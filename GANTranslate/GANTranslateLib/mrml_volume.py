"""MRML glue: volume nodes in and out of the engine. The only engine file that imports Slicer's MRML;
only the Slicer module imports it, and it needs nothing of the Slicer application (tested with the
real MRML libraries of the ``slicer-core`` package)."""
from __future__ import annotations

from typing import Optional

from slicer import vtkMRMLSubjectHierarchyNode, vtkMRMLVolumeArchetypeStorageNode

from .model_card import is_ct_domain

ATTRIBUTE_PREFIX = "GANTranslate."
CT_WINDOW_LEVEL = (350.0, 40.0)  # Slicer's CT_ABDOMEN preset (soft tissue), used when presets are missing


def output_name(input_name: str, target: str) -> str:
    return f"{input_name} synthetic CT" if is_ct_domain(target) else f"{input_name} → {target}"


def disagreement_name(output_name_: str) -> str:
    return f"{output_name_} disagreement"


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
    """Put the output in the input's study (or folder) in the subject hierarchy."""
    hierarchy = vtkMRMLSubjectHierarchyNode.GetSubjectHierarchyNode(scene)
    if hierarchy is None:
        return
    input_item = hierarchy.GetItemByDataNode(input_node)
    output_item = hierarchy.GetItemByDataNode(output_node) or hierarchy.CreateItem(hierarchy.GetSceneItemID(), output_node)
    if input_item:
        hierarchy.SetItemParent(output_item, hierarchy.GetItemParent(input_item))


def record_provenance(node, **facts) -> None:
    """Model id, version, device, time taken...: node attributes, saved with the scene."""
    for key, value in facts.items():
        node.SetAttribute(ATTRIBUTE_PREFIX + key, str(value))


def set_display(node, target: str, ct_window_level: Optional[tuple[float, float]] = None) -> None:
    """Grey display; a CT window for CT targets (explicit window/level), automatic otherwise."""
    if node.GetDisplayNode() is None:
        node.CreateDefaultDisplayNodes()
    display = node.GetDisplayNode()
    if display is None:
        return
    if is_ct_domain(target):
        window, level = ct_window_level or CT_WINDOW_LEVEL
        display.AutoWindowLevelOff()
        display.SetWindowLevel(window, level)
    else:
        display.AutoWindowLevelOn()


def set_disagreement_display(node) -> None:
    """A colour map, not grey, so the map is never mistaken for an image of the patient."""
    if node.GetDisplayNode() is None:
        node.CreateDefaultDisplayNodes()
    display = node.GetDisplayNode()
    if display is not None:
        display.SetAndObserveColorNodeID("vtkMRMLColorTableNodeRainbow")
        display.AutoWindowLevelOn()
