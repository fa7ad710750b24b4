"""Hostile or mistaken model packages: refused in one line, before anything large is allocated or any code runs."""
import json
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from conftest import make_package
from robustness_helpers import REAL_T2, one_line_error
from GANTranslateLib.cli import main
from GANTranslateLib.errors import GANTranslateError
from GANTranslateLib.model_install import install_model
from GANTranslateLib.model_package import load_package
from GANTranslateLib.model_registry import find_package


def small_unet(tmp_path: Path, name: str = "unet"):
    return make_package(tmp_path / name, id=name,
                        architecture={"name": "unet_generator", "args": {"num_downs": 5, "ngf": 4, "norm": "instance"}})


def edit_card(package_dir: Path, text_change=None, **args) -> None:
    card_path = package_dir / "model.json"
    card = json.loads(card_path.read_text(encoding="utf-8"))
    card["architecture"]["args"].update(args)
    text = json.dumps(card)
    card_path.write_text(text_change(text) if text_change else text, encoding="utf-8")


@pytest.mark.parametrize("args, message", [
    ({"ngf": 1000000}, "from 1 to 256"),
    ({"num_downs": 10000}, "from 5 to 10"),
    ({"ngf": -5}, "from 1 to 256"),
    ({"ngf": "64"}, "whole number"),
    ({"ngf": 4.5}, "whole number"),
    ({"dropout": "yes"}, "true or false"),
    ({"norm": "magic"}, "one of batch, instance, none"),
    ({"layers": 3}, "not an argument"),
])
def test_architecture_arguments_out_of_bounds_are_refused_when_the_card_is_read(tmp_path: Path, args, message) -> None:
    package = small_unet(tmp_path)
    edit_card(package.path, **args)
    with pytest.raises(GANTranslateError, match=message):
        load_package(package.path)


def test_a_card_larger_than_its_weights_fails_before_the_network_is_built(tmp_path: Path, monkeypatch) -> None:
    """ngf 256 passes the bounds but not the weights: the shapes are compared on PyTorch's meta device
    against the safetensors header, so neither the weights nor the real network are ever allocated."""
    package = small_unet(tmp_path)
    edit_card(package.path, ngf=256)
    monkeypatch.setattr("safetensors.torch.load_file", lambda *a, **k: pytest.fail("weights read before the shapes were compared"))
    with pytest.raises(GANTranslateError, match="has shape .* but the card's architecture needs"):
        load_package(package.path).build_network()


@pytest.mark.parametrize("constant", ["NaN", "Infinity", "-Infinity"])
def test_non_finite_numbers_in_a_card_are_refused(tmp_path: Path, capsys, constant: str) -> None:
    norm = {"method": "window", "min": -4000, "max": 4000}
    package = make_package(tmp_path / "p", normalization={"T1": norm, "T2": norm})
    card_path = package.path / "model.json"
    card_path.write_text(card_path.read_text(encoding="utf-8").replace('"max": 4000', f'"max": {constant}', 1), encoding="utf-8")
    out = tmp_path / "o.nii.gz"
    assert main(["predict", "-m", str(package.path), "-i", str(REAL_T2), "-o", str(out)]) == 1
    assert "finite" in one_line_error(capsys.readouterr().err) and not out.exists()


def test_a_folder_named_as_another_model_cannot_pass_for_it(tmp_path: Path, capsys, monkeypatch) -> None:
    monkeypatch.setenv("GANTRANSLATE_MODELS", str(tmp_path / "models"))
    impostor = make_package(tmp_path / "models" / "t2-to-t1-pix2pix-2d", id="something-else")
    assert impostor.path.is_dir()
    with pytest.raises(GANTranslateError, match="holds model 'something-else', not 't2-to-t1-pix2pix-2d'"):
        find_package("t2-to-t1-pix2pix-2d")
    assert main(["models", "list"]) == 0
    captured = capsys.readouterr()
    assert "holds model 'something-else'" in captured.err and "something-else" not in captured.out


def test_one_rule_finds_a_model_everywhere(tmp_path: Path, capsys, monkeypatch) -> None:
    """A user package with a bundled model's id wins in list, list --json, info and predict alike, and says so."""
    monkeypatch.setenv("GANTRANSLATE_MODELS", str(tmp_path / "models"))
    mine = make_package(tmp_path / "models" / "t1-to-t2-pix2pix-2d", id="t1-to-t2-pix2pix-2d", name="my own T1 to T2")
    assert main(["models", "list", "--json"]) == 0
    listed = {c["id"]: c for c in json.loads(capsys.readouterr().out)}
    assert listed["t1-to-t2-pix2pix-2d"]["path"] == str(mine.path) and listed["t1-to-t2-pix2pix-2d"]["origin"] == "user"
    assert main(["models", "list"]) == 0
    assert "shadowed by the user model" in capsys.readouterr().out
    assert main(["models", "info", "t1-to-t2-pix2pix-2d"]) == 0
    assert "my own T1 to T2" in capsys.readouterr().out
    assert find_package("t1-to-t2-pix2pix-2d").path == mine.path


def test_install_refuses_symbolic_links(tmp_path: Path) -> None:
    package = small_unet(tmp_path, "linked")
    secret = tmp_path / "secret.txt"
    secret.write_text("private key", encoding="utf-8")
    (package.path / "notes.txt").symlink_to(secret)
    with pytest.raises(GANTranslateError, match="symbolic link"):
        install_model(str(package.path), models_folder=tmp_path / "models")
    assert not (tmp_path / "models" / "linked").exists()


def test_install_refuses_a_zip_with_a_symbolic_link(tmp_path: Path) -> None:
    package = small_unet(tmp_path, "zipped")
    archive = tmp_path / "m.zip"
    with zipfile.ZipFile(archive, "w") as bundle:
        for file in package.path.iterdir():
            bundle.write(file, f"zipped/{file.name}")
        link = zipfile.ZipInfo("zipped/passwd")
        link.external_attr = (0o120777 << 16)  # a symbolic link entry
        bundle.writestr(link, "/etc/passwd")
    with pytest.raises(GANTranslateError, match="symbolic link"):
        install_model(str(archive), models_folder=tmp_path / "models")


def test_pickled_weights_never_run(tmp_path: Path, capsys) -> None:
    """A .pth given as a model is refused without being opened (a pickle can run code)."""
    evil = tmp_path / "model.pth"
    evil.write_bytes(b"\x80\x04cos\nsystem\n(S'touch pwned'\ntR.")
    assert main(["predict", "-m", str(evil), "-i", str(REAL_T2), "-o", str(tmp_path / "o.nii.gz")]) == 1
    assert "never unpickled" in one_line_error(capsys.readouterr().err)
    assert not Path("pwned").exists()


def test_models_info_into_a_closed_pipe_is_quiet() -> None:
    """As `gantranslate models info ... | head -1`: the reader takes one line and closes the pipe."""
    writer = subprocess.Popen([sys.executable, "-m", "GANTranslateLib.cli", "models", "info", "t1-to-ct-template-demo-2d"],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    first = writer.stdout.readline()
    writer.stdout.close()  # what head does after its line
    stderr = writer.stderr.read()
    assert writer.wait(timeout=120) == 0 and first.endswith("\n")
    assert "Traceback" not in stderr and "BrokenPipe" not in stderr
