"""What the engine needs in Slicer's Python, checked by version, and installed without replacing Slicer's own.

Only checking that a package is present lets an old torch or MONAI through, which then fails deep inside
a translation. And a plain ``pip install`` may upgrade numpy or SimpleITK under Slicer, which was built
against its own. So requirements carry minimum versions, and installs run with a pip constraints file
that pins every package Slicer already has among those (SlicerNNUnet and TotalSegmentator do the same).
"""
from __future__ import annotations

import re
from importlib.metadata import PackageNotFoundError, version

# minimum versions, as pyproject.toml's dependencies
REQUIREMENTS = {"torch": "2.2", "safetensors": "0.4", "monai": "1.3", "jsonschema": "4.18", "scikit-image": "0.21",
                "tqdm": "4.60", "numpy": "1.24", "SimpleITK": "2.3", "PyYAML": "6"}
# Slicer ships these (torch through the PyTorch extension): never upgraded or replaced by our install
PINNED = ("numpy", "SimpleITK", "torch", "scipy", "vtk", "pillow")


def _numbers(text: str) -> tuple[int, ...]:
    return tuple(int(part) for part in re.findall(r"\d+", text.split("+")[0])[:3])


def installed(name: str) -> str | None:
    try:
        return version(name)
    except PackageNotFoundError:
        return None


def unmet(requirements: dict[str, str] = REQUIREMENTS) -> dict[str, str]:
    """Each package that is missing or older than required -> why ('missing' or 'found 1.2, need >= 1.3')."""
    problems = {}
    for name, minimum in requirements.items():
        found = installed(name)
        if found is None:
            problems[name] = "missing"
        elif _numbers(found) < _numbers(minimum):
            problems[name] = f"found {found}, need >= {minimum}"
    return problems


def install_arguments(names: list[str], constraints_file: str) -> list[str]:
    """pip arguments that install ``names`` at their minimum versions, held to the constraints file."""
    return [f"{name}>={REQUIREMENTS[name]}" for name in names] + ["-c", constraints_file]


def constraints(pinned: tuple[str, ...] = PINNED) -> str:
    """A pip constraints file's text: every pinned package that is installed, at its installed version."""
    lines = [f"{name}=={found}" for name in pinned if (found := installed(name)) is not None]
    return "\n".join(lines) + "\n"
