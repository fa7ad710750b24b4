"""What runs of the module without MRML, in a stock Slicer's package set (5.8.1's, on Python 3.9, where
slicer-core has no wheel): every module file parses, the engine modules the panel imports load, the bundled
models and their cards are listed and described, and the dependency check names what is missing and would
install it without replacing Slicer's own packages. Prints one JSON report (Testing/test_stock_slicer.py).

Run with the stock environment's Python:  python stock_slicer_library_check.py
"""
import json
import py_compile
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
MODULE = REPO / "GANTranslate"
sys.path.insert(0, str(MODULE))

report = {"python": list(sys.version_info[:2]), "unparsable": []}
for path in [MODULE / "GANTranslate.py", *sorted((MODULE / "GANTranslateModuleLib").glob("*.py")),
             *sorted((MODULE / "GANTranslateLib").rglob("*.py"))]:
    try:
        py_compile.compile(str(path), doraise=True, cfile=str(Path("/tmp") / "gantranslate-compile-check.pyc"))
    except py_compile.PyCompileError as error:
        report["unparsable"].append(f"{path.relative_to(REPO)}: {error.msg.strip().splitlines()[-1]}")

from GANTranslateLib import background_process, background_run, inference_options, model_catalog  # noqa: E402,F401
from GANTranslateLib.model_registry import list_packages  # noqa: E402
from GANTranslateModuleLib.install_logic import InstallLogic  # noqa: E402
from GANTranslateModuleLib.model_text import describeModel  # noqa: E402

packages = list_packages()
report["models"] = sorted(p.card.id for p in packages)
report["directions"] = sorted({f"{s}->{t}" for p in packages for s, t in p.card.directions})
report["cards_described"] = all(describeModel(p.card.data).startswith(f"<b>{p.card.name}</b>") for p in packages)
pip_calls, constraints_seen = [], []


def pip_standin(arguments):
    """STAND-IN for slicer.util.pip_install: records what would be installed, and the constraints file's text."""
    pip_calls.append(list(arguments))
    if "-c" in arguments:
        constraints_seen.append(Path(arguments[arguments.index("-c") + 1]).read_text(encoding="utf-8"))


logic = InstallLogic(pip_standin)
plan = logic.plan()
report["missing"] = plan.packages
report["blocked"] = plan.blocked
report["description"] = plan.description()
result = logic.install(plan)
report["install"] = {"ok": result.ok, "message": result.message, "pip": pip_calls}
constraints_file = next((call[call.index("-c") + 1] for call in pip_calls if "-c" in call), None)
report["constraints"] = constraints_seen
report["constraints_removed"] = constraints_file is not None and not Path(constraints_file).exists()
report["heavy_modules_loaded"] = sorted(m for m in ("torch", "monai", "jsonschema", "safetensors", "skimage", "yaml")
                                        if m in sys.modules)
print(json.dumps(report))
