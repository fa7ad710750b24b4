"""The module's dependency check: versions, not only presence, and installs that never replace Slicer's packages."""
from GANTranslateLib import python_requirements


def test_an_old_or_missing_package_is_named_with_what_is_needed(monkeypatch) -> None:
    found = {"torch": "2.1.2+cu118", "monai": "1.4.0", "safetensors": "0.4.5"}
    monkeypatch.setattr(python_requirements, "installed", lambda name: found.get(name))
    problems = python_requirements.unmet({"torch": "2.2", "monai": "1.3", "safetensors": "0.4", "tqdm": "4.60"})
    assert problems == {"torch": "found 2.1.2+cu118, need >= 2.2", "tqdm": "missing"}


def test_installs_are_held_to_the_versions_slicer_has(monkeypatch) -> None:
    found = {"numpy": "1.26.4", "SimpleITK": "2.4.0"}
    monkeypatch.setattr(python_requirements, "installed", lambda name: found.get(name))
    text = python_requirements.constraints()
    assert text.splitlines() == ["numpy==1.26.4", "SimpleITK==2.4.0"]
    assert python_requirements.install_arguments(["monai", "tqdm"], "/tmp/c.txt") == [
        "monai>=1.3", "tqdm>=4.60", "-c", "/tmp/c.txt"]


def test_the_minimum_versions_are_those_the_package_declares() -> None:
    import tomllib

    from conftest import REPO

    declared = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]["dependencies"]
    minimum = dict(d.split(">=") for d in declared)
    for name, version in python_requirements.REQUIREMENTS.items():
        assert minimum[name if name != "PyYAML" else "pyyaml"] == version, name
