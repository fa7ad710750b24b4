"""The MRML glue against Slicer's real MRML libraries (PyPI slicer-core): no stand-in for slicer."""
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

slicer = pytest.importorskip("slicer", reason="slicer-core (real MRML) is a test dependency")
from slicer import vtkMRMLScene, vtkMRMLSubjectHierarchyNode, vtkMRMLVolumeArchetypeStorageNode  # noqa: E402
import slicer.util  # noqa: E402

from conftest import DATA, make_package  # noqa: E402
from GANTranslateLib import mrml_volume  # noqa: E402
from GANTranslateLib.background_run import RunRequest, child_environment, predict_command  # noqa: E402
from GANTranslateLib.inference_options import InferenceOptions  # noqa: E402


def load(scene, path: Path, name: str):
    node = scene.AddNewNodeByClass("vtkMRMLScalarVolumeNode", name)
    storage = vtkMRMLVolumeArchetypeStorageNode()
    storage.SetFileName(str(path))
    assert storage.ReadData(node)
    return node


def ijk_to_ras(node) -> list[float]:
    matrix = __import__("vtk").vtkMatrix4x4()
    node.GetIJKToRASMatrix(matrix)
    return [matrix.GetElement(i, j) for i in range(4) for j in range(4)]


@pytest.fixture
def scene():
    return vtkMRMLScene()


def test_round_trip_through_the_engine_keeps_voxels_and_geometry(scene, tmp_path: Path) -> None:
    package = make_package(tmp_path / "identity")
    source = load(scene, DATA / "tcga_t1_native_oblique_crop.nii.gz", "T1 oblique")
    mrml_volume.write_volume(source, str(tmp_path / "in.nrrd"))
    request = RunRequest(model=str(package.path), input_path=str(tmp_path / "in.nrrd"),
                         output_path=str(tmp_path / "out.nrrd"), target="T2", options=InferenceOptions(device="cpu"))
    run = subprocess.run(predict_command(sys.executable, request), capture_output=True, text=True,
                         env=child_environment("cpu"), timeout=300)
    assert run.returncode == 0, run.stderr
    output = mrml_volume.create_output_node(scene, source, "T2")
    mrml_volume.read_result(str(tmp_path / "out.nrrd"), output, source)
    assert output.GetName() == "T1 oblique synthetic T2"
    assert ijk_to_ras(output) == ijk_to_ras(source)
    assert output.GetImageData().GetDimensions() == source.GetImageData().GetDimensions()
    np.testing.assert_allclose(slicer.util.arrayFromVolume(output), slicer.util.arrayFromVolume(source), atol=1e-3)


def test_output_goes_into_the_input_study_with_provenance(scene) -> None:
    source = scene.AddNewNodeByClass("vtkMRMLScalarVolumeNode", "MR")
    hierarchy = vtkMRMLSubjectHierarchyNode.GetSubjectHierarchyNode(scene)
    patient = hierarchy.CreateSubjectItem(hierarchy.GetSceneItemID(), "Patient")
    study = hierarchy.CreateStudyItem(patient, "Study")
    # In the Slicer application every node gets an item automatically; MRML alone needs it made.
    hierarchy.CreateItem(study, source)
    output = mrml_volume.create_output_node(scene, source, "CT")
    assert output.GetName() == "MR synthetic CT"
    mrml_volume.place_beside(scene, source, output)
    assert hierarchy.GetItemParent(hierarchy.GetItemByDataNode(output)) == study
    note = "SYNTHETIC CT from T1 by mr-to-ct 1.0.0; not an acquired image"
    mrml_volume.record_provenance(output, note, ModelId="mr-to-ct", Version="1.0.0", Device="cpu", Seconds=1.5)
    assert output.GetAttribute("GANTranslate.Synthetic") == output.GetDescription() == note
    assert output.GetAttribute("GANTranslate.ModelId") == "mr-to-ct"
    assert output.GetAttribute("GANTranslate.Seconds") == "1.5"


def test_unique_names_for_repeated_runs(scene) -> None:
    source = scene.AddNewNodeByClass("vtkMRMLScalarVolumeNode", "T1")
    first = mrml_volume.create_output_node(scene, source, "T2")
    second = mrml_volume.create_output_node(scene, source, "T2")
    assert first.GetName() != second.GetName()


def test_ct_target_gets_a_ct_window_and_mr_auto(scene) -> None:
    ct = scene.AddNewNodeByClass("vtkMRMLScalarVolumeNode", "sCT")
    mrml_volume.set_display(ct, "CT")
    display = ct.GetDisplayNode()
    assert not display.GetAutoWindowLevel()
    assert (display.GetWindow(), display.GetLevel()) == mrml_volume.CT_WINDOW_LEVEL == (80.0, 40.0)  # brain
    mrml_volume.set_display(ct, "CT", "bone")
    assert (display.GetWindow(), display.GetLevel()) == (2000.0, 400.0)
    mr = scene.AddNewNodeByClass("vtkMRMLScalarVolumeNode", "T2")
    mrml_volume.set_display(mr, "T2")
    assert mr.GetDisplayNode().GetAutoWindowLevel()


def test_disagreement_map_display_is_a_perceptual_colour_map_with_a_unit(scene) -> None:
    node = scene.AddNewNodeByClass("vtkMRMLScalarVolumeNode", mrml_volume.disagreement_name("MR synthetic CT", "CT"))
    mrml_volume.set_disagreement_display(node, "CT")
    assert node.GetName() == "MR synthetic CT disagreement (HU)" and node.GetAttribute("GANTranslate.Unit") == "HU"
    assert node.GetDisplayNode().GetColorNodeID() == "vtkMRMLColorTableNodeFileViridis.txt"
    assert mrml_volume.disagreement_name("T1 synthetic T2", "T2") == "T1 synthetic T2 disagreement (T2 units)"


def test_the_result_lies_under_the_inputs_transform(scene, tmp_path: Path) -> None:
    """A registered input (under a linear transform) gives a result under the same transform: in world
    coordinates the synthetic volume lies exactly where its input does."""
    vtk = __import__("vtk")
    source = load(scene, DATA / "tcga_t1_native_oblique_crop.nii.gz", "registered T1")
    transform = scene.AddNewNodeByClass("vtkMRMLLinearTransformNode", "registration")
    matrix = vtk.vtkMatrix4x4()
    matrix.SetElement(0, 3, 12.5)
    matrix.SetElement(1, 3, -3.0)
    transform.SetMatrixTransformToParent(matrix)
    source.SetAndObserveTransformNodeID(transform.GetID())
    output = mrml_volume.create_output_node(scene, source, "CT")
    mrml_volume.write_volume(source, str(tmp_path / "result.nrrd"))
    mrml_volume.read_result(str(tmp_path / "result.nrrd"), output, source)
    mrml_volume.place_beside(scene, source, output)
    assert output.GetTransformNodeID() == transform.GetID()

    def world_corner(node) -> list[float]:
        to_world = vtk.vtkGeneralTransform()
        slicer.vtkMRMLTransformNode.GetTransformBetweenNodes(node.GetParentTransformNode(), None, to_world)
        ijk_to_ras = vtk.vtkMatrix4x4()
        node.GetIJKToRASMatrix(ijk_to_ras)
        return list(to_world.TransformPoint(ijk_to_ras.MultiplyPoint((0, 0, 0, 1))[:3]))

    assert world_corner(output) == world_corner(source)
