"""The extension is whole: every script and resource of the module is listed in its CMakeLists."""
import re
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
MODULE_DIR = REPO / "GANTranslate"


def listed() -> set[str]:
    text = (MODULE_DIR / "CMakeLists.txt").read_text(encoding="utf-8")
    return {m.replace("${MODULE_NAME}", "GANTranslate") for m in re.findall(r"^\s+([\w${}/.]+\.(?:py|json|png|ui))\s*$", text, re.M)}


def test_every_python_file_is_listed() -> None:
    files = {str(p.relative_to(MODULE_DIR)) for p in MODULE_DIR.rglob("*.py") if "__pycache__" not in p.parts}
    assert files - listed() == set(), f"not in GANTranslate/CMakeLists.txt: {sorted(files - listed())}"


def test_every_listed_file_exists() -> None:
    missing = [f for f in listed() if not (MODULE_DIR / f).exists()]
    assert not missing, missing


def test_extension_metadata() -> None:
    top = (REPO / "CMakeLists.txt").read_text(encoding="utf-8")
    for key in ("EXTENSION_HOMEPAGE", "EXTENSION_CATEGORY", "EXTENSION_CONTRIBUTORS", "EXTENSION_DESCRIPTION",
                "EXTENSION_ICONURL", "EXTENSION_SCREENSHOTURLS", "EXTENSION_DEPENDS"):
        assert re.search(rf'set\({key} "[^"]+"\)', top), key
    assert "add_subdirectory(GANTranslate)" in top
    minimum = re.search(r"cmake_minimum_required\(VERSION (\d+)\.(\d+)", top)
    assert minimum and (int(minimum[1]), int(minimum[2])) >= (3, 28), "follow the extension template's CMake minimum"
    module = (MODULE_DIR / "GANTranslate.py").read_text(encoding="utf-8")
    assert "acknowledgementText = _(" in module and "contributors = [" in module


def test_the_module_file_is_thin_and_the_gui_imports_no_command_line_helper() -> None:
    """SlicerNNUnet's layout: the module file describes and hosts; the panel and logics live in GANTranslateModuleLib,
    which never imports the engine's command-line modules."""
    module = (MODULE_DIR / "GANTranslate.py").read_text(encoding="utf-8")
    assert len(module.splitlines()) < 200 and "class GANTranslateLogic" not in module
    library = MODULE_DIR / "GANTranslateModuleLib"
    for name in ("widget.py", "translation_logic.py", "install_logic.py", "parameters.py"):
        assert (library / name).is_file(), name
    for path in [MODULE_DIR / "GANTranslate.py", *library.glob("*.py")]:
        text = path.read_text(encoding="utf-8")
        assert "GANTranslateLib.cli" not in text, path.name
    engine = MODULE_DIR / "GANTranslateLib"
    for path in engine.rglob("*.py"):  # the engine never imports the module's library (Slicer-side code)
        assert "GANTranslateModuleLib" not in path.read_text(encoding="utf-8"), path.name


def test_the_selectors_items_follow_the_modules_value_lists() -> None:
    """The module maps the mode and axis selectors' indices to MODES and AXES: the .ui must list them in that order."""
    import ast
    import xml.etree.ElementTree as ElementTree

    tree = ast.parse((REPO / "GANTranslate" / "GANTranslateModuleLib" / "parameters.py").read_text(encoding="utf-8"))
    lists = {node.targets[0].id: ast.literal_eval(node.value) for node in tree.body
             if isinstance(node, ast.Assign) and getattr(node.targets[0], "id", "") in ("MODES", "AXES")}
    ui = ElementTree.parse(REPO / "GANTranslate" / "Resources" / "UI" / "GANTranslate.ui")
    items = {w.get("name"): [i.find("property/string").text for i in w.findall("item")] for w in ui.iter("widget")
             if w.get("name") in ("modeSelector", "axisSelector")}
    assert lists["MODES"] == ["auto", "slice", "patch"] and [t.split()[0] for t in items["modeSelector"]] == ["Auto", "Slice", "Patch"]
    assert lists["AXES"] == ["", "axial", "coronal", "sagittal"]
    assert items["axisSelector"] == ["As trained", "Axial", "Coronal", "Sagittal"]


def test_the_sample_is_registered_with_its_own_checksum() -> None:
    """Sample Data keeps a cached copy until its checksum differs: the registered SHA256 must be the bundled file's."""
    import ast
    import hashlib

    tree = ast.parse((MODULE_DIR / "GANTranslate.py").read_text(encoding="utf-8"))
    registered = next(ast.literal_eval(n.value) for n in tree.body
                      if isinstance(n, ast.Assign) and getattr(n.targets[0], "id", "") == "SAMPLE_SHA256")
    sample = MODULE_DIR / "Resources" / "SampleData" / "TCGA-FG-6692-holdout" / "T1.nii.gz"
    assert registered == hashlib.sha256(sample.read_bytes()).hexdigest()
    assert 'checksums=f"SHA256:{SAMPLE_SHA256}"' in (MODULE_DIR / "GANTranslate.py").read_text(encoding="utf-8")
