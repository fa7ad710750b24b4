"""The module's calls into Slicer, checked statically against Slicer's real API (Testing/slicer-api.json,
names and parameters extracted from Slicer's source): no Slicer application can run here."""
import ast
import json
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
API = json.loads((Path(__file__).parent / "slicer-api.json").read_text(encoding="utf-8"))
MODULE = REPO / "GANTranslate" / "GANTranslate.py"
# the module file and its library (panel, logics, parameters): every file that calls into Slicer
MODULE_FILES = [MODULE, *sorted((REPO / "GANTranslate" / "GANTranslateModuleLib").glob("*.py"))]
GLUE = REPO / "GANTranslate" / "GANTranslateLib" / "mrml_volume.py"
MODULE_NAMES = {"qt", "slicer", "vtk", "subprocess", "os", "sys", "shutil", "logging", "time", "PyTorchUtils", "torch",
                "pathlib", "SampleData", "importlib", "tempfile", "json", "re"}  # SampleData: Slicer's Sample Data module (registerCustomSampleDataSource, downloadSample)

# Calls outside the extract, each with the reason it is known to exist.
NOT_IN_EXTRACT = {
    "ApplyVolumeDisplayPreset": "vtkSlicerVolumesLogic (Slicer >= 5.2); the extract covers MRML classes only",
    "GetDimensions": "vtkImageData (VTK)",
    "GetElement": "vtkMatrix4x4 (VTK)",
    "ReadData": "vtkMRMLStorageNode, base of vtkMRMLVolumeArchetypeStorageNode; run for real in test_mrml_glue",
    "WriteData": "vtkMRMLStorageNode; run for real in test_mrml_glue",
    "SetFileName": "vtkMRMLStorageNode; run for real in test_mrml_glue",
    "SetUseCompression": "vtkMRMLStorageNode; run for real in test_mrml_glue",
    "SetAndObserveColorNodeID": "vtkMRMLDisplayNode, base of vtkMRMLVolumeDisplayNode; run for real in test_mrml_glue",
    "GetNumberOfScalarComponents": "vtkImageData (VTK)",
    "GetClassName": "vtkObject (VTK)",
    "GetNumberOfItems": "vtkCollection (VTK)",
    "GetItemAsObject": "vtkCollection (VTK)",
    "IsProxyNodeID": "vtkMRMLSequenceBrowserNode (Sequences module's MRML); run for real in test_slicer_real_wrapper",
    "StartModify": "vtkMRMLNode / the parameter node wrapper; run for real in test_slicer_real_wrapper",
    "EndModify": "vtkMRMLNode / the parameter node wrapper; run for real in test_slicer_real_wrapper",
    "PyTorchUtilsLogic": "the PyTorch extension's logic (SlicerPyTorch), imported only when installed",
    "InstallPlan": "GANTranslateModuleLib.install_logic (the module's own dataclass)",
    "InstallResult": "GANTranslateModuleLib.install_logic (the module's own dataclass)",
    "GANTranslatePanel": "GANTranslateModuleLib.widget (the module's own class)",
    "InstallLogic": "GANTranslateModuleLib.install_logic (the module's own class)",
    "DeviceQuery": "GANTranslateModuleLib.devices (the module's own class)",
    "BackgroundProcess": "GANTranslateLib.background_process (the engine's class)",
    "RunRequest": "GANTranslateLib.background_run (the engine's dataclass)",
    "InferenceOptions": "GANTranslateLib.inference_options (the engine's dataclass)",
    "GANTranslateParameterNode": "GANTranslateModuleLib.parameters (the module's parameter node wrapper)",
    "GANTranslateLogic": "GANTranslateModuleLib.translation_logic (the module's own class)",
    "ScriptedLoadableModuleLogic": "Slicer's base class, called as in its template",
    "ScriptedLoadableModuleWidget": "Slicer's base class, called as in its template",
    "ScriptedLoadableModule": "Slicer's base class, called as in its template",
    "RuntimeError": "Python", "ValueError": "Python", "Path": "pathlib",
    # re-exported by slicer.parameterNodeWrapper from its validators module (used by Slicer's own template)
    "Choice": "slicer.parameterNodeWrapper.validators",
    "WithinRange": "slicer.parameterNodeWrapper.validators",
}
MRML_METHODS = {m for cls in API["mrml"].values() for m in cls["methods"]}


def calls(path: Path) -> list[ast.Call]:
    return [n for n in ast.walk(ast.parse(path.read_text(encoding="utf-8"))) if isinstance(n, ast.Call)]


def dotted(node: ast.AST) -> str:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return f"{dotted(node.value)}.{node.attr}"
    return "?"


def check_signature(name: str, spec: dict, call: ast.Call) -> None:
    params = [p for p in spec["params"] if p != "self"]
    positional = len(call.args)
    assert spec["varargs"] or positional <= len(params), f"{name}: {positional} positional arguments, accepts {params}"
    for keyword in call.keywords:
        assert keyword.arg is None or spec["varkw"] or keyword.arg in params + spec["kwonly"], \
            f"{name}: no parameter '{keyword.arg}' (has {params})"
    given = set(params[:positional]) | {k.arg for k in call.keywords}
    missing = [p for p in spec["required"] if p != "self" and p not in given]
    assert not missing, f"{name}: required argument(s) {missing} missing"


@pytest.mark.parametrize("path", MODULE_FILES, ids=[p.name for p in MODULE_FILES])
def test_slicer_util_calls_exist_with_compatible_arguments(path: Path) -> None:
    util = API["python"]["slicer.util"]
    used = [c for c in calls(path) if dotted(c.func).startswith("slicer.util.")]
    for call in used:
        name = dotted(call.func).removeprefix("slicer.util.")
        assert name in util, f"slicer.util.{name} does not exist in Slicer"
        spec = util[name]
        if spec.get("class"):  # a class (NodeModify, WaitCursor): its constructor, less self
            spec = spec["methods"]["__init__"]
        check_signature(f"slicer.util.{name}", spec, call)


@pytest.mark.parametrize("path", MODULE_FILES, ids=[p.name for p in MODULE_FILES])
def test_imported_slicer_names_exist(path: Path) -> None:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module in API["python"]:
            for alias in node.names:
                assert alias.name in API["python"][node.module] or alias.name in NOT_IN_EXTRACT, \
                    f"{node.module}.{alias.name} does not exist in Slicer"


@pytest.mark.parametrize("path", MODULE_FILES, ids=[p.name for p in MODULE_FILES])
def test_base_class_methods_used_exist(path: Path) -> None:
    classes = API["python"]["slicer.ScriptedLoadableModule"]
    for call in calls(path):
        text = dotted(call.func)
        for base, spec in classes.items():
            if text.startswith(base + "."):
                method = text.split(".", 1)[1]
                assert method in spec["methods"], f"{base}.{method} does not exist"
    widget_methods = classes["ScriptedLoadableModuleWidget"]["methods"]
    assert "resourcePath" in widget_methods and "cleanup" in widget_methods


@pytest.mark.parametrize("path", [*MODULE_FILES, GLUE], ids=[*(p.name for p in MODULE_FILES), "mrml_volume.py"])
def test_mrml_style_method_calls_exist(path: Path) -> None:
    for call in calls(path):
        if not isinstance(call.func, ast.Attribute) or not call.func.attr[:1].isupper():
            continue
        if isinstance(call.func.value, ast.Name) and call.func.value.id in MODULE_NAMES:
            continue  # a class from a module (qt.QProcess, subprocess.Popen), not a method
        if dotted(call.func.value) == "slicer.util":
            continue  # checked against slicer.util's own API above
        name = call.func.attr
        assert name in MRML_METHODS or name in NOT_IN_EXTRACT, f"{path.name}: {name}() is not an MRML method"


@pytest.mark.parametrize("source", [
    "import slicer\nslicer.util.setSliceViewerLayers(bg=1)\n",
    "import slicer\nslicer.util.noSuchHelper()\n",
    "import slicer\nslicer.util.tempDirectory('a', 'b', True, 'extra')\n",
])
def test_the_checker_catches_bad_calls(tmp_path: Path, source: str) -> None:
    path = tmp_path / "bad.py"
    path.write_text(source, encoding="utf-8")
    with pytest.raises(AssertionError):
        test_slicer_util_calls_exist_with_compatible_arguments(path)
