"""Fit a GPU check of this repository into the 64 MiB of working tree that travels to a device machine.

    python bench/device_tree.py stage [--wheels DIR]   # before the device run
    python bench/device_tree.py restore                # after it, whatever happened
    python bench/device_tree.py size                   # MiB that would travel now

The tracked tree is about 74 MB, 69 of them the bundled weights; the device machine's Python has PyTorch
but neither SimpleITK nor MONAI, and reaches no package registry. So ``stage``:

1. copies each bundled model's card to ``.device/cards/ID/model.json`` (the GPU benchmark builds the same
   architecture with seeded weights: a network's speed does not depend on its weights' values);
2. puts the wheels the engine needs there into ``.device/wheels`` (from ``--wheels DIR``, or ``pip download``
   for the device's CPython 3.12 on x86-64 Linux);
3. moves ``GANTranslate/Resources/Models`` to ``.device-hold/Models`` (a rename: instant, nothing copied);
4. checks that what travels (tracked and untracked files git does not ignore, plus ``.device``) is under
   64 MiB.

Both folders are ignored by git (``.gitignore``), so ``.device`` travels only when named in ``carry`` and
``.device-hold`` never. Any failure in ``stage`` puts the models back before it reports; ``restore`` moves
them back, refuses to if something else took their place, and may be run any number of times. The run:
carry ``[".device"]`` and run the command ``stage`` prints.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
MODELS = Path("GANTranslate/Resources/Models")
STAGE = Path(".device")
HOLD = Path(".device-hold")
LIMIT_MIB = 64.0
WHEELS = ["SimpleITK", "monai", "jsonschema", "jsonschema-specifications", "referencing", "rpds-py"]
DEVICE_PYTHON = ["--python-version", "3.12", "--platform", "manylinux2014_x86_64", "--platform", "manylinux_2_17_x86_64"]
# a wheel unpacked into a folder on the path is installed (no pip needed there, nothing fetched)
DEVICE_COMMAND = ("for w in .device/wheels/*.whl; do python3 -m zipfile -e $w /tmp/gantranslate-deps; done && "
                  "PYTHONPATH=/tmp/gantranslate-deps python3 bench/gpu.py --cards .device/cards --out $OUT")


class StagingError(RuntimeError):
    """One line: what is wrong and what to do."""


def travelling_bytes(repo: Path, carried: list[Path]) -> int:
    """Bytes of what the device tool sends: tracked files present, untracked files git does not ignore,
    and the carried folders."""
    listed = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], cwd=repo,
                            capture_output=True, check=True).stdout.split(b"\0")
    files = {repo / os.fsdecode(name) for name in listed if name}
    for folder in carried:
        files.update(p for p in (repo / folder).rglob("*") if p.is_file())
    return sum(p.stat().st_size for p in files if p.is_file() and not p.is_symlink())


def check_ignored(repo: Path) -> None:
    for folder in (STAGE, HOLD):
        if subprocess.run(["git", "check-ignore", "-q", f"{folder}/x"], cwd=repo).returncode != 0:
            raise StagingError(f"{folder}/ is not ignored by git; add '/{folder}/' to .gitignore first")


def stage(repo: Path = REPO, wheels: Path | None = None, limit_mib: float = LIMIT_MIB) -> dict:
    """Stage the device tree; on any failure the models are back where they were before this returns."""
    if (repo / HOLD).exists():
        raise StagingError(f"{HOLD}/ exists: an earlier stage was not restored; run 'python bench/device_tree.py restore'")
    if not (repo / MODELS).is_dir():
        raise StagingError(f"{MODELS} is missing; restore the bundled models (git checkout -- {MODELS}) first")
    check_ignored(repo)
    target = repo / STAGE
    if target.exists():
        shutil.rmtree(target)  # ignored, and made by this script alone
    try:
        cards = copy_cards(repo / MODELS, target / "cards")
        wheel_names = gather_wheels(target / "wheels", wheels)
        (repo / HOLD).mkdir()
        os.rename(repo / MODELS, repo / HOLD / "Models")
        size = travelling_bytes(repo, [STAGE])
        if size >= limit_mib * 2**20:
            raise StagingError(f"{size / 2**20:.1f} MiB would travel, over the {limit_mib:g} MiB limit; "
                               "leave large untracked files out of the working tree")
        manifest = {"cards": cards, "wheels": wheel_names, "travelling_mib": round(size / 2**20, 1),
                    "limit_mib": limit_mib, "carry": [str(STAGE)], "command": DEVICE_COMMAND}
        (target / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
        return manifest
    except BaseException:
        restore(repo)
        shutil.rmtree(target, ignore_errors=True)
        raise


def copy_cards(models: Path, into: Path) -> list[str]:
    """Every bundled package's card, by model id (the weights stay behind)."""
    names = []
    for card in sorted(models.glob("*/model.json")):
        model_id = json.loads(card.read_text(encoding="utf-8"))["id"]
        (into / model_id).mkdir(parents=True)
        shutil.copyfile(card, into / model_id / "model.json")
        names.append(model_id)
    if not names:
        raise StagingError(f"no model cards in {models}")
    return names


def gather_wheels(into: Path, source: Path | None) -> list[str]:
    """The engine's dependencies that the device image lacks, as wheels for its Python."""
    into.mkdir(parents=True)
    if source is None:
        done = subprocess.run([sys.executable, "-m", "pip", "download", "-q", "--only-binary=:all:", "--no-deps",
                               *DEVICE_PYTHON, "-d", str(into), *WHEELS])
        if done.returncode != 0:
            raise StagingError("pip could not download the wheels (above); download them elsewhere and give --wheels DIR")
    else:
        found = sorted(source.glob("*.whl"))
        if not found:
            raise StagingError(f"no .whl files in {source}; give the folder 'pip download' filled, or leave --wheels out")
        for wheel in found:
            shutil.copyfile(wheel, into / wheel.name)
    return sorted(p.name for p in into.glob("*.whl"))


def restore(repo: Path = REPO) -> bool:
    """Put the bundled models back; True if they were away. Never writes over a Models folder."""
    held = repo / HOLD / "Models"
    if not held.exists():
        return False
    if (repo / MODELS).exists():
        raise StagingError(f"both {MODELS} and {held.relative_to(repo)} exist; compare them and keep one by hand")
    os.rename(held, repo / MODELS)
    (repo / HOLD).rmdir()
    return True


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("action", choices=["stage", "restore", "size"])
    parser.add_argument("--wheels", type=Path, help="a folder of wheels already downloaded (default: pip download)")
    args = parser.parse_args(argv)
    try:
        if args.action == "stage":
            manifest = stage(wheels=args.wheels)
            print(f"staged: {manifest['travelling_mib']} MiB of {LIMIT_MIB:g} MiB travel; models held in {HOLD}/")
            print(f"run with carry {manifest['carry']} the command:\n  {DEVICE_COMMAND}")
            print("then: python bench/device_tree.py restore")
        elif args.action == "restore":
            print("bundled models restored" if restore() else "nothing to restore: the bundled models are in place")
        else:
            carried = [STAGE] if (REPO / STAGE).is_dir() else []
            print(f"{travelling_bytes(REPO, carried) / 2**20:.1f} MiB would travel (limit {LIMIT_MIB:g} MiB)")
    except StagingError as error:
        print(f"device_tree: error: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
