"""The .ui file: it loads with Qt, and every widget and parameter the module uses is in it."""
import ast
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from slicer_ui import UI_FILE, load_panel, screenshot

REPO = Path(__file__).resolve().parent.parent
MODULE = REPO / "GANTranslate" / "GANTranslate.py"
PANEL = REPO / "GANTranslate" / "GANTranslateModuleLib" / "widget.py"
PARAMETERS = REPO / "GANTranslate" / "GANTranslateModuleLib" / "parameters.py"


def ui_widget_names() -> set[str]:
    return {w.get("name") for w in ET.parse(UI_FILE).iter("widget")}


def test_every_widget_the_module_uses_exists() -> None:
    used = set(re.findall(r"\bui\.(\w+)", PANEL.read_text(encoding="utf-8")))
    assert {"applyButton", "installDependenciesButton", "sourceSelector"} <= used
    missing = sorted(used - ui_widget_names())
    assert not missing, f"widgets used in the panel but absent from the .ui: {missing}"


def test_parameter_bindings_name_real_parameters() -> None:
    tree = ast.parse(PARAMETERS.read_text(encoding="utf-8"))
    wrapper = next(n for n in ast.walk(tree) if isinstance(n, ast.ClassDef) and n.name == "GANTranslateParameterNode")
    fields = {n.target.id for n in wrapper.body if isinstance(n, ast.AnnAssign)}
    bound = {p.find("string").text for p in ET.parse(UI_FILE).iter("property") if p.get("name") == "SlicerParameterName"}
    assert bound and bound <= fields, f"unknown parameters bound in the .ui: {bound - fields}"


def test_loads_offscreen_and_renders(tmp_path: Path) -> None:
    pytest.importorskip("PySide6")
    _app, panel = load_panel()
    from PySide6.QtWidgets import QWidget

    for name in ("inputSelector", "modelSelector", "applyButton", "progressBar", "logTextEdit"):
        assert panel.findChild(QWidget, name) is not None, name
    image = screenshot(tmp_path / "panel.png")
    from PIL import Image

    picture = Image.open(image).convert("L")
    assert picture.size[0] >= 300 and len(set(__import__("numpy").asarray(picture).ravel().tolist())) > 10  # not blank
