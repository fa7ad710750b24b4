"""The module in exactly the Python a stock 3D Slicer ships (../shared/slicer-python/packages-<version>.txt, built
by .ci/stock_slicer_venvs.sh into .stock-slicer-venvs/): before anything is installed the panel sets up, lists
the bundled models, shows a card, and names what is missing with an Install dependencies action.

5.10.0 (Python 3.12) adds slicer-core, Slicer's real MRML, and runs the panel on Slicer's own Python layer
(real_slicer_panel_checks.py; PythonQt widgets are stand-ins). 5.8.1 (Python 3.9) has no slicer-core wheel, so
it covers what runs without MRML (stock_slicer_library_check.py). No Slicer application runs here.
"""
import json
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
VENVS = REPO / ".stock-slicer-venvs"
SHARED = REPO.parent / "shared" / "slicer-python"
BUNDLED = sorted(p.name for p in (REPO / "GANTranslate" / "Resources" / "Models").iterdir() if (p / "model.json").is_file())
NOT_IN_STOCK_SLICER = ["torch", "safetensors", "monai", "jsonschema", "scikit-image", "tqdm", "PyYAML"]


def stock_python(version: str) -> Path:
    """The stock environment's Python, built (or reused, when its package list is unchanged) by the CI script."""
    if not (SHARED / f"packages-{version}.txt").is_file():
        pytest.skip(f"../shared/slicer-python/packages-{version}.txt is absent here: no stock-Slicer environment to test")
    done = subprocess.run(["bash", str(REPO / ".ci" / "stock_slicer_venvs.sh"), version], capture_output=True, text=True,
                          timeout=900)
    assert done.returncode == 0, done.stderr[-3000:]
    python = VENVS / version / "bin" / "python"
    if not python.exists():
        pytest.skip(f"no Python for Slicer {version} on this machine ({done.stderr.strip()[-300:]})")
    return python


def run(python: Path, *args: str) -> dict:
    done = subprocess.run([str(python), *args], capture_output=True, text=True, timeout=600, cwd=Path(__file__).parent,
                          env={"PATH": "/usr/bin:/bin", "HOME": str(Path.home()), "PYTHONNOUSERSITE": "1"})
    assert done.returncode == 0, (done.stdout[-2000:], done.stderr[-4000:])
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_the_environment_holds_exactly_a_stock_slicers_packages() -> None:
    python = stock_python("5.10.0")
    listed = subprocess.run([str(python), "-m", "pip", "list", "--format", "json"], capture_output=True, text=True, check=True)
    names = {p["name"].lower() for p in json.loads(listed.stdout)}
    assert not names & {n.lower() for n in NOT_IN_STOCK_SLICER}, names
    assert {"numpy", "pydicom", "simpleitk", "slicer-core"} <= names


def test_the_panel_sets_up_in_a_stock_slicer_5_10_and_offers_the_install() -> None:
    report = run(stock_python("5.10.0"), "real_slicer_panel_checks.py", "v5.10.0", "setup")
    assert report["slot_errors"] == []
    assert report["module"] == {"title": "GAN Translate", "categories": ["Filtering"], "acknowledged": True, "self_test": True,
                                "icon": str(REPO / "GANTranslate" / "Resources" / "Icons" / "GANTranslate.png")}
    assert report["models"] == BUNDLED
    assert [data for _label, data in report["sources"]] == ["FLAIR", "LDCT", "T1", "T1_LR", "T2"]
    assert report["card"].startswith("<b>") and "Held out:" in report["card"]
    state = report["state"]
    assert state["apply"][:2] == ["Apply", False]
    assert state["apply"][2].startswith("Missing: the Python packages " + ", ".join(NOT_IN_STOCK_SLICER))
    assert state["install"] == [True, True] and report["install_button"] == [True, "Install dependencies"]
    assert "press Install dependencies" in state["status"]
    assert report["devices"] == [["Auto (GPU if available)", "auto"], ["CPU (slow)", "cpu"]]
    install = report["install"]
    (confirmation,) = install["confirmations"]  # asked once, saying what and how big
    assert "torch (missing; a large download: about 190 MB for the CPU build" in confirmation and "monai (missing)" in confirmation
    assert install["pip"][0] == ["torch>=2.2"]  # no PyTorch extension in a stock Slicer: pip
    assert install["pip"][1][:6] == ["safetensors>=0.4", "monai>=1.3", "jsonschema>=4.18", "scikit-image>=0.21",
                                     "tqdm>=4.60", "PyYAML>=6"] and install["pip"][1][6] == "-c"
    assert len(install["pip"]) == 2  # the second click while pip ran started nothing
    assert all(not d["apply"] for d in install["during"]) and not install["during"][0]["install"]
    assert install["during"][0]["status"].startswith("Installing torch (missing")
    assert install["errors"] == ["Still missing after the install: " + ", ".join(f"{n} (missing)" for n in NOT_IN_STOCK_SLICER) + "."]
    assert install["after"]["apply"][:2] == ["Apply", False] and install["after"]["install"] == [True, True]
    # once pip has installed them (here: a stand-in that leaves their metadata), Apply is ready, the button goes,
    # and the devices are asked again: the child's Python now has a 'torch' it cannot import, and says so
    installed = report["installed"]
    assert installed["state"]["apply"] == ["Apply", True, "Translate the input volume."]
    assert installed["state"]["install"] == [False, True] and installed["errors"] == install["errors"]
    assert installed["devices"] == [["Auto (GPU if available)", "auto"], ["CPU (slow)", "cpu"]]
    assert installed["device_tooltip"].startswith("PyTorch could not list the GPUs (") and "torch" in installed["device_tooltip"]


def test_the_library_lists_models_and_checks_dependencies_in_a_stock_slicer_5_8() -> None:
    report = run(stock_python("5.8.1"), "stock_slicer_library_check.py")
    assert report["python"] == [3, 9] and report["unparsable"] == []
    assert report["models"] == BUNDLED and report["cards_described"]
    assert "T1->T2" in report["directions"] and "T2->T1" in report["directions"]
    assert report["missing"] == {name: "missing" for name in NOT_IN_STOCK_SLICER} and report["blocked"] == ""
    assert report["install"]["pip"][0] == ["torch>=2.2"] and not report["install"]["ok"]
    (constraints,) = report["constraints"]
    assert "numpy==1.26.4" in constraints.splitlines() and any(l.startswith("SimpleITK==2.3") for l in constraints.splitlines())
    assert report["constraints_removed"] and report["heavy_modules_loaded"] == []
