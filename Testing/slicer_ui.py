"""Load the module's .ui with Qt (PySide6, offscreen) the way a user would see it, without Slicer.

Slicer's own widgets (qMRMLNodeComboBox, ctkCollapsibleButton) are unknown to plain Qt, so the loader
builds the base class the .ui declares for them; the layout, labels and tooltips are the module's.
"""
from __future__ import annotations

import json
import os
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
UI_FILE = REPO / "GANTranslate" / "Resources" / "UI" / "GANTranslate.ui"


def load_panel():
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtCore import QFile
    from PySide6.QtUiTools import QUiLoader
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance() or QApplication([])
    loader = QUiLoader()
    for custom, base in (("qMRMLNodeComboBox", "QComboBox"), ("ctkCollapsibleButton", "QGroupBox"), ("qMRMLWidget", "QWidget")):
        loader.registerCustomWidget(type(custom, (getattr(__import__("PySide6.QtWidgets", fromlist=[base]), base),), {}))
    handle = QFile(str(UI_FILE))
    handle.open(QFile.ReadOnly)
    panel = loader.load(handle)
    handle.close()
    if panel is None:
        raise RuntimeError(loader.errorString())
    return app, panel


def fill_like_slicer(panel) -> None:
    """What the panel shows with the bundled sample loaded and the bundled models installed."""
    from PySide6.QtWidgets import QComboBox, QGroupBox, QLabel, QPushButton

    def combo(name, *items):
        box = panel.findChild(QComboBox, name)
        box.clear()
        box.addItems(list(items))

    combo("inputSelector", "TCGA-FG-6692 T1")
    combo("sourceSelector", "T1", "T1c", "T2", "FLAIR")
    combo("targetSelector", "T2", "FLAIR", "T1c", "CT")
    combo("modelSelector", "T1 → T2 (pix2pix, axial 2D)")
    combo("outputSelector", "Create new volume")
    combo("deviceSelector", "Auto (GPU if available)", "CPU (slow)")
    panel.findChild(QLabel, "modelCardLabel").setText(model_description())
    for box in panel.findChildren(QGroupBox):
        box.setTitle(box.property("text") or box.objectName())
    apply = panel.findChild(QPushButton, "applyButton")
    apply.setEnabled(True)
    panel.findChild(QPushButton, "exportDicomButton").setEnabled(True)  # a result exists (the status line's)
    panel.findChild(QPushButton, "installDependenciesButton").setVisible(False)  # the packages are installed
    panel.findChild(QLabel, "statusLabel").setText("Done: TCGA-FG-6692 T1 synthetic T2 (4.1 s).")
    panel.resize(420, 640)


def model_description(model_id: str = "t1-to-t2-pix2pix-2d") -> str:
    """The first lines the module's model description shows (GANTranslateModuleLib.model_text.describeModel), from the bundled card."""
    sys.path.insert(0, str(REPO / "GANTranslate"))
    from GANTranslateLib.cli_models import metric_lines

    card = json.loads((REPO / "GANTranslate" / "Resources" / "Models" / model_id / "model.json").read_text(encoding="utf-8"))
    held_out = "<br>".join(line.removeprefix("held out:").strip() for line in metric_lines(card["metrics"]))
    trained_on = card["training_data"].split(":")[0]
    return (f"<b>{card['name']}</b> ({card['id']} {card['version']})<br>Task: {card['task']}; {card['mode'].upper()}<br>"
            f"Trained on: {trained_on} (…)<br>Held out: {held_out}<br>Licence: {card['license']}<br>"
            "<i>Research use only; not for clinical decisions.</i>")


def screenshot(path: Path) -> Path:
    app, panel = load_panel()
    fill_like_slicer(panel)
    panel.show()
    app.processEvents()
    panel.grab().save(str(path))
    return path


if __name__ == "__main__":
    print(screenshot(REPO / "Resources" / "Screenshot01.png"))
