"""The module's install logic without Slicer (pip and the PyTorch extension are stand-ins, named so): it never
upgrades a package already loaded in Slicer's process, never replaces Slicer's own numpy or SimpleITK, lets an
error inside the PyTorch extension through instead of falling back to PyPI, checks the extension's result,
removes its constraints folder, and refuses a second install while one runs."""
import sys
import types
from pathlib import Path

import pytest

from GANTranslateModuleLib.install_logic import InstallLogic


class PipStandin:
    def __init__(self):
        self.calls, self.constraints = [], []

    def __call__(self, arguments):
        self.calls.append(list(arguments))
        if "-c" in arguments:
            path = Path(arguments[arguments.index("-c") + 1])
            self.constraints.append((path, path.read_text(encoding="utf-8")))


def test_a_loaded_torch_that_is_too_old_asks_for_a_restart_and_installs_nothing() -> None:
    pip = PipStandin()
    logic = InstallLogic(pip, loadedModules={"torch": object()}, requirements={"torch": "99.0"})
    plan = logic.plan()
    assert plan.restartFirst and "restart Slicer" in plan.blocked and plan.blocked.startswith("torch (found ")
    result = logic.install(plan)
    assert not result.ok and result.needsRestart and pip.calls == []


def test_a_missing_torch_is_installed_even_when_other_modules_are_loaded() -> None:
    pip = PipStandin()
    logic = InstallLogic(pip, loadedModules={}, requirements={"torch": "99.0"})
    plan = logic.plan()
    assert plan.blocked == "" and plan.packages["torch"].startswith("found ")
    assert "a large download" in plan.description()


def test_slicers_own_packages_are_never_replaced() -> None:
    pip = PipStandin()
    logic = InstallLogic(pip, loadedModules={}, requirements={"numpy": "99.0", "jsonschema": "99.0"})
    plan = logic.plan()
    assert "Slicer's own numpy (found " in plan.blocked
    assert "3D Slicer 5.10 or newer" in plan.blocked  # the version the README names, not an untested one
    assert not logic.install(plan).ok and pip.calls == []


def test_slicers_own_simpleitk_without_pip_metadata_counts_as_there(monkeypatch) -> None:
    """Slicer builds SimpleITK itself: where it has no pip metadata but is on the path, it is Slicer's, not missing."""
    from GANTranslateModuleLib import install_logic

    monkeypatch.setattr(install_logic, "unmet", lambda requirements: {"SimpleITK": "missing", "monai": "missing"})
    logic = InstallLogic(PipStandin(), loadedModules={})
    assert logic.missing() == {"monai": "missing"}


def test_pip_is_held_to_slicers_versions_and_its_constraints_folder_removed() -> None:
    pip = PipStandin()
    logic = InstallLogic(pip, loadedModules={}, requirements={"jsonschema": "99.0"})
    result = logic.install(logic.plan())
    (arguments,) = pip.calls
    assert arguments[:2] == ["jsonschema>=99.0", "-c"]
    (path, text), = pip.constraints
    import numpy

    assert f"numpy=={numpy.__version__}" in text.splitlines()
    assert not path.parent.exists()  # the temporary folder went with the install
    assert not result.ok and result.message.startswith("Still missing after the install: jsonschema (found ")


def test_the_pytorch_extensions_result_is_checked(monkeypatch) -> None:
    asked = []

    class PyTorchUtilsLogicStandin:  # STAND-IN for SlicerPyTorch's logic: it could not install torch
        def installTorch(self, askConfirmation, torchVersionRequirement):
            asked.append((askConfirmation, torchVersionRequirement))
            return None

    monkeypatch.setitem(sys.modules, "PyTorchUtils", types.SimpleNamespace(PyTorchUtilsLogic=PyTorchUtilsLogicStandin))
    pip = PipStandin()
    logic = InstallLogic(pip, loadedModules={}, requirements={"torch": "99.0"})
    result = logic.install(logic.plan())
    assert asked == [(False, ">=99.0")] and pip.calls == []  # the extension, never PyPI over it
    assert not result.ok and "the PyTorch extension did not install PyTorch" in result.message


def test_an_import_error_inside_the_pytorch_extension_is_not_taken_for_its_absence(tmp_path: Path, monkeypatch) -> None:
    (tmp_path / "PyTorchUtils.py").write_text("import a_module_the_extension_needs_and_lacks\n", encoding="utf-8")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, "PyTorchUtils", raising=False)
    pip = PipStandin()
    logic = InstallLogic(pip, loadedModules={}, requirements={"torch": "99.0"})
    result = logic.install(logic.plan())
    assert pip.calls == [] and not result.ok
    assert "a_module_the_extension_needs_and_lacks" in result.message


def test_a_second_install_while_one_runs_does_nothing() -> None:
    pip = PipStandin()
    logic = InstallLogic(pip, loadedModules={}, requirements={"jsonschema": "99.0"})
    logic.installing = True
    result = logic.install(logic.plan())
    assert not result.ok and result.message == "An install is already running." and pip.calls == []


@pytest.mark.parametrize("name", ["torch", "safetensors", "monai"])
def test_nothing_is_missing_in_the_test_environment(name: str) -> None:
    assert name not in InstallLogic(PipStandin()).missing()
