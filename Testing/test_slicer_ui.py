"""The .ui file: it loads with Qt, and every widget and parameter the module uses is in it."""
import ast
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from slicer_ui import UI_FILE

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


RENDER = """
import sys
from slicer_ui import load_panel, screenshot
from PySide6.QtWidgets import QWidget
app, panel = load_panel()
missing = [n for n in ("inputSelector", "modelSelector", "applyButton", "installDependenciesButton", "progressBar",
                       "logTextEdit") if panel.findChild(QWidget, n) is None]
print(missing)
screenshot(sys.argv[1])
"""


def test_loads_offscreen_and_renders(tmp_path: Path) -> None:
    """In a child process: Qt's application object shares no process with VTK and the tests before it."""
    pytest.importorskip("PySide6")
    import os
    import subprocess
    import sys

    image = tmp_path / "panel.png"
    done = subprocess.run([sys.executable, "-c", RENDER, str(image)], capture_output=True, text=True, timeout=300,
                          cwd=Path(__file__).parent, env={**os.environ, "QT_QPA_PLATFORM": "offscreen"})
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.strip().splitlines()[-1] == "[]"
    from PIL import Image

    picture = Image.open(image).convert("L")
    assert picture.size[0] >= 300 and len(set(__import__("numpy").asarray(picture).ravel().tolist())) > 10  # not blank
