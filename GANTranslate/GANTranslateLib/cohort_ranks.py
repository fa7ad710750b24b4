"""A cohort across processes started by ``torchrun``: each rank one device and one model load, its own
share of the volumes, and rank 0 one merged ``summary.csv``.

    torchrun --nproc_per_node 4 -m GANTranslateLib.cli predict -m MODEL -i cohort.csv -o out/
    torchrun --nnodes 2 --node_rank K --master_addr HOST --master_port 29500 --nproc_per_node 8 \
        -m GANTranslateLib.cli predict -m MODEL -i cohort.csv -o /shared/out/

Rank 0 alone lists the volumes and decides the shares (after checking every output, before anything is
written) and sends them to the others, so that no rank sees another's first outputs as 'existing'. The
volumes still to do are dealt out in turn, so a resumed cohort (``--skip-existing``) spreads what a lost
node left over all ranks. Every output is written atomically (temporary name, then rename), so a killed
rank leaves no half file under an output's name; each rank rewrites its own ``summary.rank-K.csv`` after
every volume, so a cohort that dies still says what it did; rank 0 merges them into ``summary.csv`` (one
row per volume, in input order) at the end and removes them. The output folder must be one that every
machine sees (a shared file system): each rank checks that it sees a file rank 0 made there before any
work. The ranks talk over gloo whatever the device: only file names and summary rows travel.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, replace
from datetime import timedelta
from pathlib import Path
from typing import Callable, Optional

from .atomic_files import temporary_file
from .batch_translation import SUMMARY_NAME, BatchItem, BatchReport, check_batch_outputs, run_batch, write_summary
from .errors import GANTranslateError
from .model_package import ModelPackage
from .translation import InferenceOptions, resolve_direction

RANK_SUMMARY = "summary.rank-{rank}.csv"  # a rank's own rows while the cohort runs; merged, then removed


@dataclass(frozen=True)
class Rank:
    rank: int = 0
    world_size: int = 1
    local_rank: int = 0
    local_world_size: int = 1

    @property
    def distributed(self) -> bool:
        return self.world_size > 1


def rank_from_environment() -> Rank:
    """This process's place in the job, from the variables torchrun sets (one process: rank 0 of 1)."""
    try:
        world = int(os.environ.get("WORLD_SIZE", "1"))
        return Rank(int(os.environ.get("RANK", "0")), world, int(os.environ.get("LOCAL_RANK", "0")),
                    int(os.environ.get("LOCAL_WORLD_SIZE", str(world))))
    except ValueError:
        raise GANTranslateError("RANK, WORLD_SIZE, LOCAL_RANK or LOCAL_WORLD_SIZE is not a number; start the "
                                "cohort with torchrun, or unset them for one process") from None


def check_rendezvous(rank: Rank) -> None:
    """torchrun sets where rank 0 listens; a WORLD_SIZE left over from another job does not (torch would stop
    with a traceback)."""
    missing = [name for name in ("MASTER_ADDR", "MASTER_PORT") if not os.environ.get(name)]
    if missing:
        raise GANTranslateError(f"WORLD_SIZE is {rank.world_size} but {' and '.join(missing)} not set; start the "
                                "cohort with torchrun (which sets them), or unset WORLD_SIZE for one process")


def rank_device(requested: str, rank: Rank) -> str:
    """One GPU per rank: ``auto`` or ``cuda`` become ``cuda:LOCAL_RANK`` where CUDA is present (a named
    ``cuda:N`` is kept as asked); otherwise the device is left as asked."""
    import torch

    if requested in ("auto", "cuda") and torch.cuda.is_available():
        count = torch.cuda.device_count()
        if rank.local_world_size > count:
            raise GANTranslateError(f"{rank.local_world_size} processes on this machine but {count} GPU(s); "
                                    f"start torchrun with --nproc_per_node {count} or fewer")
        return f"cuda:{rank.local_rank}"
    return requested


def rank_threads(rank: Rank) -> int:
    """CPU threads per rank when none are asked for: the machine's cores shared between its ranks."""
    return max(1, (os.cpu_count() or 1) // rank.local_world_size)


def shares(items: list[BatchItem], world_size: int, skip_existing: bool) -> list[list[int]]:
    """Item indices per rank: those still to do dealt out in turn; those kept (``--skip-existing``) go to
    rank 0, which only lists them as skipped."""
    kept = [i for i, item in enumerate(items) if skip_existing and item.output.exists()]
    skip = set(kept)
    todo = [i for i in range(len(items)) if i not in skip]
    dealt = [todo[r::world_size] for r in range(world_size)]
    dealt[0] = sorted(dealt[0] + kept)
    return dealt


def run_cohort(items: list[BatchItem], package: ModelPackage, source: Optional[str], target: Optional[str],
               options: InferenceOptions, output_dir: Path, rank: Rank, skip_existing: bool = False,
               force: bool = False, compress: bool = True,
               on_volume: Callable[[int, int, dict], None] = lambda done, total, row: None,
               timeout: timedelta = timedelta(hours=24)) -> BatchReport:
    """This rank's share of the batch; returns the merged report on rank 0 and this rank's own elsewhere.

    ``timeout`` bounds rank 0's wait, at the end, for the slowest rank's last volume: long, for the shares
    are equal in count, not in time (a rank that dies is noticed by torchrun, which stops the job)."""
    import torch.distributed as dist

    check_rendezvous(rank)
    dist.init_process_group("gloo", rank=rank.rank, world_size=rank.world_size, timeout=timeout)
    try:
        plan: list = [None]
        if rank.rank == 0:
            plan[0] = _plan(items, output_dir, rank.world_size, skip_existing, force,
                            package.card.synthetic_note(*resolve_direction(package.card, source, target)))
        dist.broadcast_object_list(plan, src=0)
        if isinstance(plan[0], str):
            raise GANTranslateError(plan[0])
        items, dealt, marker = plan[0]  # rank 0's list: a glob or a CSV read elsewhere cannot give another
        seen: list = [None] * rank.world_size
        dist.all_gather_object(seen, (output_dir / marker).is_file())
        if rank.rank == 0:
            (output_dir / marker).unlink()
        if not all(seen):
            blind = ", ".join(str(r) for r, sees in enumerate(seen) if not sees)
            raise GANTranslateError(f"rank(s) {blind} do not see the file rank 0 made in {output_dir}: the output folder "
                                    "must be on a file system that every machine of the cohort shares (and a relative "
                                    "-o or -i the same folder on every node: start each in one folder, or give absolute "
                                    "paths)")
        mine = dealt[rank.rank]
        options = replace(options, device=rank_device(options.device, rank))
        report = run_batch([items[i] for i in mine], package, source, target, options, output_dir,
                           skip_existing=skip_existing, force=force, compress=compress, on_volume=on_volume,
                           summary=output_dir / RANK_SUMMARY.format(rank=rank.rank)) if mine else BatchReport()
        gathered: Optional[list] = [None] * rank.world_size if rank.rank == 0 else None
        dist.gather_object(list(zip(mine, report.rows)), gathered, dst=0)
        if rank.rank != 0:
            return report
        merged = BatchReport([row for _, row in sorted(pair for share in gathered for pair in share)])
        write_summary(merged, output_dir / SUMMARY_NAME)
        for other in range(rank.world_size):  # only the ranks of this run wrote these: no other file is touched
            (output_dir / RANK_SUMMARY.format(rank=other)).unlink(missing_ok=True)
        return merged
    finally:
        dist.destroy_process_group()


def _plan(items: list[BatchItem], output_dir: Path, world_size: int, skip_existing: bool, force: bool, note: str):
    """The items, the shares and the name of a file every rank must see in the output folder (one made
    under a temporary name of rank 0's, removed as stale should rank 0 die); or the one line that stops
    every rank (e.g. outputs exist without --skip-existing)."""
    try:
        check_batch_outputs(items, output_dir, skip_existing, force, note)
        marker = temporary_file(output_dir / "cohort", ".shared")
    except GANTranslateError as error:
        return str(error)
    return items, shares(items, world_size, skip_existing), marker.name
