"""`models export-onnx` without its extra installed: one line naming the install, not a traceback."""
import sys
from pathlib import Path

import pytest

from conftest import make_package
from GANTranslateLib.cli import main


@pytest.mark.parametrize("missing", ["onnxscript", "onnx"])
def test_export_onnx_without_the_exporter_names_the_extra(tmp_path: Path, capsys, monkeypatch, missing: str) -> None:
    """It ended in a traceback (No module named 'onnxscript'), raised from inside torch.onnx.export."""
    monkeypatch.setitem(sys.modules, missing, None)  # as if not installed: importing it raises ImportError
    package = make_package(tmp_path / "p")
    assert main(["models", "export-onnx", str(package.path), "-o", str(tmp_path / "m.onnx")]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and f"needs the {missing} package" in err and 'pip install "gantranslate[onnx]"' in err
    assert not list(tmp_path.glob("m.*"))
