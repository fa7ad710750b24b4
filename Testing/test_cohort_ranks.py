"""A cohort on torchrun: two CPU processes (gloo) give what one process gives, one summary row per volume,
a failed volume reported while the others go on, and a killed rank's volumes done on resume."""
from __future__ import annotations

import csv
import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import SimpleITK as sitk
import torch.multiprocessing as mp

from conftest import REPO, make_package
from GANTranslateLib.atomic_files import PARTIAL_PREFIX
from GANTranslateLib.batch_translation import batch_items
from GANTranslateLib.cli import main
from GANTranslateLib.cohort_ranks import RANK_SUMMARY, Rank, rank_device, rank_threads, run_cohort, shares
from GANTranslateLib.errors import GANTranslateError
from GANTranslateLib.model_registry import find_package
from GANTranslateLib.translation import InferenceOptions

WINDOW = {"method": "window", "min": 0, "max": 1000}
UNET = {"name": "unet_generator", "args": {"num_downs": 5, "ngf": 4, "norm": "instance"}}


def cohort(tmp_path: Path, count: int = 5, broken: bool = False) -> tuple[Path, Path]:
    """``count`` small random volumes listed in a CSV (and a truncated file, if ``broken``), and a model."""
    folder = tmp_path / "scans"
    folder.mkdir()
    rng = np.random.default_rng(1)
    names = []
    for index in range(count):
        image = sitk.GetImageFromArray(rng.uniform(0, 1000, (6, 32, 32)).astype(np.float32))
        image.SetSpacing((0.9, 0.9, 2.0))
        sitk.WriteImage(image, str(folder / f"s{index}.nrrd"))
        names.append(f"scans/s{index}.nrrd")
    if broken:
        (folder / "broken.nrrd").write_bytes((folder / "s0.nrrd").read_bytes()[:400])
        names.insert(2, "scans/broken.nrrd")
    listing = tmp_path / "cohort.csv"
    listing.write_text("input\n" + "\n".join(names) + "\n", encoding="utf-8")
    package = make_package(tmp_path / "model", architecture=UNET, normalization={"T1": WINDOW, "T2": WINDOW})
    return listing, package.path


def summary(folder: Path) -> list[dict]:
    return list(csv.DictReader((folder / "summary.csv").open(encoding="utf-8")))


def torchrun(*args: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, OMP_NUM_THREADS="1", PYTHONPATH=os.pathsep.join([str(REPO / "GANTranslate"),
                                                                              os.environ.get("PYTHONPATH", "")]))
    return subprocess.run([sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2",
                           "-m", "GANTranslateLib.cli", "predict", *args], capture_output=True, text=True, timeout=300,
                          env=env)


def voxels(path: Path) -> np.ndarray:
    return sitk.GetArrayFromImage(sitk.ReadImage(str(path)))


def test_shares_deal_the_remaining_volumes_in_turn(tmp_path: Path) -> None:
    items = batch_items(str(cohort(tmp_path, count=5)[0]), tmp_path / "out", "T2")
    assert shares(items, 2, skip_existing=False) == [[0, 2, 4], [1, 3]]
    (tmp_path / "out").mkdir()
    items[0].output.write_bytes(b"x"), items[1].output.write_bytes(b"x")
    assert shares(items, 2, skip_existing=True) == [[0, 1, 2, 4], [3]]  # kept ones to rank 0; the rest dealt anew
    assert shares(items, 2, skip_existing=False) == [[0, 2, 4], [1, 3]]  # --force-overwrite: all again


def test_each_rank_takes_its_own_gpu_and_a_share_of_the_cores(monkeypatch) -> None:
    import torch

    assert rank_device("auto", Rank(1, 2, 1, 2)) == "auto"  # no GPU here: the device stays as asked
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 2)
    assert rank_device("auto", Rank(3, 4, 1, 2)) == "cuda:1" and rank_device("cuda", Rank(2, 4, 0, 2)) == "cuda:0"
    assert rank_device("cuda:0", Rank(3, 4, 1, 2)) == "cuda:0" and rank_device("cpu", Rank(3, 4, 1, 2)) == "cpu"
    with pytest.raises(GANTranslateError, match="--nproc_per_node 2 or fewer"):
        rank_device("auto", Rank(0, 3, 0, 3))
    monkeypatch.setattr("os.cpu_count", lambda: 16)
    assert rank_threads(Rank(0, 8, 0, 4)) == 4 and rank_threads(Rank(0, 32, 0, 32)) == 1


def test_one_volume_is_refused_under_torchrun(tmp_path: Path, monkeypatch, capsys) -> None:
    listing, model = cohort(tmp_path, count=1)
    monkeypatch.setenv("WORLD_SIZE", "2")
    monkeypatch.setenv("RANK", "0")
    code = main(["predict", "-m", str(model), "-i", str(listing.parent / "scans" / "s0.nrrd"), "-o", str(tmp_path / "o.nrrd")])
    assert code == 1 and "share a batch, not one volume" in capsys.readouterr().err
    assert not (tmp_path / "o.nrrd").exists()


def test_a_world_size_without_torchrun_s_rendezvous_is_one_line(tmp_path: Path, monkeypatch, capsys) -> None:
    """A WORLD_SIZE left in the environment (another job's) made torch stop with a ValueError traceback."""
    listing, model = cohort(tmp_path, count=2)
    monkeypatch.setenv("WORLD_SIZE", "2")
    monkeypatch.setenv("RANK", "0")
    monkeypatch.delenv("MASTER_ADDR", raising=False)
    monkeypatch.delenv("MASTER_PORT", raising=False)
    code = main(["predict", "-m", str(model), "-i", str(listing), "-o", str(tmp_path / "out"), "--progress", "none"])
    error = capsys.readouterr().err
    assert code == 1 and "MASTER_ADDR and MASTER_PORT not set; start the cohort with torchrun" in error
    assert error.count("\n") == 1 and not (tmp_path / "out").exists()


def test_each_json_line_is_written_whole_in_one_write(tmp_path: Path, monkeypatch) -> None:
    """Under torchrun (python -u) print wrote each JSON line and its newline apart: two ranks' lines came out
    glued as '{...}{...}' (test_two_ranks_give_what_one_process_gives failed now and then)."""
    listing, model = cohort(tmp_path, count=2, broken=True)

    class Unbuffered:
        def __init__(self) -> None:
            self.writes: list[str] = []

        def write(self, text: str) -> int:
            self.writes.append(text)
            return len(text)

        def flush(self) -> None:
            pass

        def isatty(self) -> bool:
            return False

    out, err = Unbuffered(), Unbuffered()
    monkeypatch.setattr(sys, "stdout", out)
    monkeypatch.setattr(sys, "stderr", err)
    main(["predict", "-m", str(model), "-i", str(listing), "-o", str(tmp_path / "out"), "--progress", "json"])
    lines = [text for text in out.writes if text.startswith("{")]
    assert len(lines) == 3 and all(text.endswith("}\n") and text.count("\n") == 1 for text in lines)
    main(["predict", "-m", str(model), "-i", str(listing), "-o", str(tmp_path / "out2"), "--progress", "none"])
    failed = [text for text in err.writes if "broken.nrrd:" in text]
    assert len(failed) == 1 and failed[0].endswith("\n")
    assert main(["predict", "-m", str(model), "-i", str(listing), "-o", str(tmp_path / "out")]) == 1  # outputs exist
    assert err.writes[-1].startswith("gantranslate: error: ") and err.writes[-1].endswith("--force-overwrite to replace them\n")


def test_two_ranks_give_what_one_process_gives(tmp_path: Path) -> None:
    listing, model = cohort(tmp_path, broken=True)
    one, two = tmp_path / "one", tmp_path / "two"
    assert main(["predict", "-m", str(model), "-i", str(listing), "-o", str(one), "--threads", "1", "--progress", "none"]) == 1
    two.mkdir()
    (two / "summary.rank-7.csv").write_text("a file of the user's\n", encoding="utf-8")  # no rank 7 in this run
    done = torchrun("-m", str(model), "-i", str(listing), "-o", str(two), "--threads", "1", "--progress", "json")
    assert done.returncode != 0, done.stderr[-3000:]  # the broken volume failed: the cohort says so
    events = [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]
    assert {e["rank"] for e in events if e["status"] == "ok"} == {0, 1}  # both ranks translated
    assert "5 translated, 0 skipped, 1 failed" in done.stderr
    rows = summary(two)
    assert [(Path(r["input"]).name, r["status"]) for r in rows] == [(Path(r["input"]).name, r["status"]) for r in summary(one)]
    assert [Path(r["input"]).name for r in rows] == ["s0.nrrd", "s1.nrrd", "broken.nrrd", "s2.nrrd", "s3.nrrd", "s4.nrrd"]
    assert "failed" == rows[2]["status"] and rows[2]["message"]
    for index in range(5):
        name = f"s{index}_synthetic-T2.nrrd"
        np.testing.assert_array_equal(voxels(two / name), voxels(one / name))
    assert (two / "summary.rank-7.csv").read_text(encoding="utf-8") == "a file of the user's\n"  # only its own removed
    assert sorted(p.name for p in two.iterdir()) == sorted([*(p.name for p in one.iterdir()), "summary.rank-7.csv"])


def _killed_rank(rank: int, listing: str, model: str, out: str) -> None:
    """A rank of a two-process cohort; rank 1 dies (as a lost node does) after its first volume."""
    import torch

    torch.set_num_threads(1)
    items = batch_items(listing, Path(out), "T2")

    def on_volume(done: int, total: int, row: dict) -> None:
        if rank == 1:
            os._exit(9)

    run_cohort(items, find_package(model), None, None, InferenceOptions(device="cpu"), Path(out), Rank(rank, 2, rank, 2),
               on_volume=on_volume)


def test_a_killed_ranks_volumes_are_done_on_resume(tmp_path: Path, monkeypatch) -> None:
    listing, model = cohort(tmp_path, count=6)
    out = tmp_path / "out"
    with socket.socket() as free:
        free.bind(("127.0.0.1", 0))
        port = free.getsockname()[1]
    monkeypatch.setenv("MASTER_ADDR", "127.0.0.1")
    monkeypatch.setenv("MASTER_PORT", str(port))
    with pytest.raises(Exception):
        mp.spawn(_killed_rank, args=(str(listing), str(model), str(out)), nprocs=2, join=True)
    written = {p.name: p.stat().st_mtime_ns for p in out.glob("*_synthetic-T2.nrrd")}
    assert "s1_synthetic-T2.nrrd" in written and "s3_synthetic-T2.nrrd" not in written  # rank 1 died after one
    assert all(voxels(out / name).shape == (6, 32, 32) for name in written)  # whole files only
    others = {p.name for p in out.iterdir() if p.name not in written and not p.name.startswith(PARTIAL_PREFIX)}
    assert RANK_SUMMARY.format(rank=1) in others and others <= {RANK_SUMMARY.format(rank=r) for r in range(2)}
    # (rank 0, stopped when rank 1 died, may leave a partial file under its temporary name: never an output's)
    again = torchrun("-m", str(model), "-i", str(listing), "-o", str(out), "--skip-existing", "--progress", "none")
    assert again.returncode == 0, again.stderr[-3000:]
    rows = summary(out)
    assert [Path(r["input"]).name for r in rows] == [f"s{i}.nrrd" for i in range(6)]
    assert {Path(r["input"]).name: r["status"] for r in rows if r["status"] == "skipped"}.keys() == \
        {name.replace("_synthetic-T2", "") for name in written}
    assert all(r["status"] in ("ok", "skipped") for r in rows)
    assert {p.name: p.stat().st_mtime_ns for p in out.glob("*_synthetic-T2.nrrd") if p.name in written} == written
    assert len(list(out.glob("*_synthetic-T2.nrrd"))) == 6 and not list(out.glob("summary.rank-*"))
    assert not list(out.glob(PARTIAL_PREFIX + "*"))  # a dead process's partial files go with the next write


def _rank_on_its_own_disk(rank: int, listing: str, model: str, out: str) -> None:
    """Rank 1 sees another folder under the output's name, as a node with a local disk would."""
    import torch

    torch.set_num_threads(1)
    folder = Path(out) / ("shared" if rank == 0 else "local")
    folder.mkdir(parents=True, exist_ok=True)
    run_cohort(batch_items(listing, folder, "T2"), find_package(model), None, None, InferenceOptions(device="cpu"), folder,
               Rank(rank, 2, rank, 2))


def test_an_output_folder_that_is_not_shared_stops_the_cohort_before_any_work(tmp_path: Path, monkeypatch) -> None:
    listing, model = cohort(tmp_path, count=2)
    with socket.socket() as free:
        free.bind(("127.0.0.1", 0))
        monkeypatch.setenv("MASTER_PORT", str(free.getsockname()[1]))
    monkeypatch.setenv("MASTER_ADDR", "127.0.0.1")
    with pytest.raises(Exception, match="every machine of the cohort shares"):
        mp.spawn(_rank_on_its_own_disk, args=(str(listing), str(model), str(tmp_path / "out")), nprocs=2, join=True)
    assert not list((tmp_path / "out").rglob("*_synthetic-T2.nrrd"))


def test_outputs_that_exist_stop_every_rank_before_any_work(tmp_path: Path) -> None:
    listing, model = cohort(tmp_path, count=2)
    out = tmp_path / "out"
    out.mkdir()
    (out / "s1_synthetic-T2.nrrd").write_bytes(b"acquired?")
    done = torchrun("-m", str(model), "-i", str(listing), "-o", str(out), "--progress", "none")
    assert done.returncode != 0 and "pass --skip-existing" in done.stderr
    assert sorted(p.name for p in out.iterdir()) == ["s1_synthetic-T2.nrrd"]
    assert (out / "s1_synthetic-T2.nrrd").read_bytes() == b"acquired?"
