"""GANTranslate on a GPU, against the GPU's own measured limits, in one run that ends inside its budget.

    python bench/gpu.py                       # on a CUDA GPU: writes bench/results-gpu.md and .json
    python bench/gpu.py --tiny --out DIR      # the same parts at tiny sizes on the CPU (Testing/ runs this)

On a device machine, after ``python bench/device_tree.py stage``: the command that prints, with carry
``[".device"]`` (``--cards .device/cards``: the bundled models' cards; their weights stay home).

Parts, in order (each skipped, and listed as skipped, when the budget left is too short for it):
1. convolution peaks: fp32 with TF32 off (exact) and on, bf16, fp16; both memory layouts;
2. slice-wise network throughput of ResNet-9, U-Net-256 and every bundled architecture (seeded weights: a
   network's speed does not depend on their values) at batch 1, 8, 32 and larger until the rate stops
   growing ("best"), exact, bf16 and fp16; at the best batch channels-last, weights cast instead of autocast,
   and cuDNN's benchmark mode; each rate as a fraction of the same precision's peak;
3. the engine (read, translate, write) on a 256x256x180 volume at its defaults and at the best batch;
4. the pipeline's share of a whole run: reading, normalising on the CPU and on the GPU, the copies,
   the network, writing;
5. patch-wise 3D throughput and peak GPU memory (256³, 96³ windows);
6. trainer steps and images per second with and without mixed precision at the bundled models' sizes;
7. torch.compile (Inductor) and CUDA graphs ("reduce-overhead") at the default batch for ResNet-9, the first
   bundled architecture and U-Net-256, as far as the budget goes.
"""
from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import torch

REPO = Path(__file__).resolve().parent.parent
for folder in ("GANTranslate", "trainer", "bench"):
    sys.path.insert(0, str(REPO / folder))

from GANTranslateLib.device import cpu_has_fast_bf16  # noqa: E402
from GANTranslateLib.model_card import parse_card  # noqa: E402
from GANTranslateLib.model_package import ModelPackage  # noqa: E402
from GANTranslateLib.model_registry import BUNDLED_MODELS  # noqa: E402
from GANTranslateLib.networks import build_generator  # noqa: E402

import gpu_parts as parts  # noqa: E402
from gpu_measure import Budget, available_precisions, conv_peak  # noqa: E402
from gpu_report import markdown  # noqa: E402
from synthetic_models import random_network  # noqa: E402


@dataclass(frozen=True)
class Plan:
    """Sizes of a run: the full one for a GPU, a tiny one that checks every part on the CPU in seconds."""
    tiny: bool
    side: int  # slice side
    batches: tuple[int, ...]  # always measured
    larger: tuple[int, ...]  # tried beyond them while the rate still grows
    volume: tuple[int, int, int]  # (z, y, x) slice-wise volume
    patch_volume: int
    patch: int
    patch_batches: tuple[int, ...]
    train_size: int
    train_batches: tuple[int, ...]
    peak_shape: tuple[int, int, int, int]
    min_seconds: float  # per rate measurement
    standard: tuple  # (name, architecture, args) of the benchmark networks
    unet3d: tuple
    compile_batch: int
    compile_backend: str  # inductor on a GPU; the tiny run traces with dynamo only


FULL = Plan(False, 256, (1, 8, 32), (64, 128), (180, 256, 256), 256, 96, (2, 8), 256, (1, 8), (32, 256, 64, 64), 0.2,
            (("ResNet-9 (ngf 64)", "resnet_generator", {"ngf": 64, "n_blocks": 9, "norm": "instance"}),
             ("U-Net-256 (ngf 64)", "unet_generator", {"ngf": 64, "num_downs": 8, "norm": "batch"})),
            ("3D U-Net (ngf 16)", "unet_generator", {"num_downs": 5, "ngf": 16, "spatial_dims": 3, "norm": "instance"}),
            8, "inductor")
TINY = Plan(True, 64, (1, 2), (4,), (4, 64, 64), 40, 32, (1, 2), 64, (1,), (1, 16, 16, 16), 0.005,
            (("ResNet (ngf 4, 1 block)", "resnet_generator", {"ngf": 4, "n_blocks": 1, "norm": "instance"}),
             ("U-Net (ngf 2, 6 downs)", "unet_generator", {"ngf": 2, "num_downs": 6, "norm": "batch"})),
            ("3D U-Net (ngf 2)", "unet_generator", {"num_downs": 5, "ngf": 2, "spatial_dims": 3, "norm": "instance"}),
            2, "eager")


def bundled_architectures(cards: Path) -> list[tuple[str, ModelPackage, torch.nn.Module]]:
    """Each card's network built with seeded weights (a card-only package: the engine is handed the network)."""
    found = []
    for path in sorted(cards.glob("*/model.json")):
        card = parse_card(json.loads(path.read_text(encoding="utf-8")), str(path))
        torch.manual_seed(0)
        network = build_generator(card.architecture, card.architecture_args, len(card.domains) if card.conditional else 0,
                                  card.residual_channel).eval()
        found.append((f"bundled: {card.id}", ModelPackage(path.parent, card), network))
    return found


def device_description(device: torch.device) -> dict:
    if device.type == "cuda":
        props = torch.cuda.get_device_properties(device)
        return {"device": torch.cuda.get_device_name(device), "memory_gib": round(props.total_memory / 2**30, 1),
                "multiprocessors": props.multi_processor_count, "capability": f"{props.major}.{props.minor}",
                "cuda": torch.version.cuda, "cudnn": torch.backends.cudnn.version()}
    from benchmark import cpu_model

    return {"device": f"CPU: {cpu_model()}", "threads": torch.get_num_threads()}


def attempt(results: dict, what: str, part):
    """A part's result, or None with its error recorded: one part that fails must not cost the others."""
    try:
        return part()
    except Exception as error:  # noqa: BLE001 -- recorded in the results and the report
        message = str(error).splitlines()[0] if str(error) else ""
        results["errors"].append(f"{what}: {type(error).__name__}: {message}"[:300])
        print(f"gpu.py: {results['errors'][-1]}", file=sys.stderr, flush=True)
        return None


def run(plan: Plan, device: torch.device, cards: Path, budget: Budget, out: Path) -> dict:
    """Every part in turn; the results are written after each, so a run stopped from outside keeps its parts."""
    precisions = available_precisions(device, cpu_has_fast_bf16())
    results: dict = {"torch": torch.__version__, "tiny": plan.tiny, **device_description(device), "precisions": precisions,
                     "budget_s": budget.seconds, "errors": [], "skipped": budget.skipped, "complete": False}
    results["peaks"] = {p: conv_peak(device, p, plan.peak_shape, plan.min_seconds) for p in precisions}
    save(results, budget, out)
    networks = [(name, *random_network(arch, args)) for name, arch, args in plan.standard] + bundled_architectures(cards)
    needs = (lambda seconds: 0 if plan.tiny else seconds)
    with tempfile.TemporaryDirectory() as scratch:
        scratch = Path(scratch)
        volume = parts.synthetic_volume(plan.volume, scratch)
        results["networks"] = []
        for name, package, network in networks:
            if budget.allows(f"network sweep and engine runs: {name}", needs(20)):
                row = attempt(results, name, lambda: network_row(name, package, network, volume, device, plan, precisions,
                                                                  results["peaks"]))
                if row is not None:
                    results["networks"].append(row)
                save(results, budget, out)
        name, package, network = networks[0]
        if budget.allows("pipeline share", needs(15)):
            results["pipeline"] = attempt(results, "pipeline share", lambda: parts.pipeline_share(
                name, package, network, volume, device, precisions, plan, scratch))
            save(results, budget, out)
        if budget.allows("patch-wise 3D", needs(40)):
            name3d, arch, args = plan.unet3d
            results["patch"] = attempt(results, "patch-wise 3D", lambda: parts.patchwise(
                name3d, *random_network(arch, args, (plan.patch,) * 3), device, plan, scratch))
            save(results, budget, out)
    results["training"] = attempt(results, "trainer", lambda: parts.trainer_rates(device, plan, cards, budget))
    save(results, budget, out)
    compiled = networks[: len(plan.standard)] if plan.tiny else [networks[0], *networks[len(plan.standard):][:1],
                                                                    *networks[1 : len(plan.standard)]]
    results["compiled"] = attempt(results, "compiled", lambda: parts.compiled_rates(
        compiled, device, plan, precisions, budget, results["errors"]))
    results["complete"] = True
    save(results, budget, out)
    return results


def save(results: dict, budget: Budget, out: Path) -> None:
    """results-gpu.json and .md as far as the run has come (``complete`` says whether it ended)."""
    results["seconds"] = round(budget.seconds - budget.left(), 1)
    out.mkdir(parents=True, exist_ok=True)
    (out / "results-gpu.json").write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    (out / "results-gpu.md").write_text(markdown(results), encoding="utf-8")
    print(f"gpu.py: {results['seconds']:.0f} s, saved", flush=True)


def network_row(name: str, package: ModelPackage, network: torch.nn.Module, volume: Path, device: torch.device, plan: Plan,
                precisions: list[str], peaks: dict) -> dict:
    row = parts.sweep(name, package.card, network.to(device), plan, device, precisions, peaks)
    row["engine"] = parts.engine_runs(package, network, volume, device, row["best_batch"], plan)
    return row


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tiny", action="store_true", help="tiny sizes on the CPU: checks every part in seconds")
    parser.add_argument("--cards", type=Path, default=BUNDLED_MODELS, help="folder of MODEL/model.json (default: bundled)")
    parser.add_argument("--out", type=Path, default=REPO / "bench", help="folder for results-gpu.md and .json")
    parser.add_argument("--budget", type=float, default=330.0,
                        help="seconds the parts may start within (default 330: with a last compile and the start, ~7 min)")
    parser.add_argument("--device", default="cuda", help="default cuda; the tiny run uses the CPU")
    args = parser.parse_args(argv)
    device = torch.device("cpu" if args.tiny else args.device)
    if device.type == "cuda" and not torch.cuda.is_available():
        print("gpu.py: error: no CUDA GPU here; run it on a GPU machine, or --tiny to check it on the CPU", file=sys.stderr)
        return 1
    if not any(args.cards.glob("*/model.json")):
        print(f"gpu.py: error: no model cards in {args.cards}; give --cards (python bench/device_tree.py stage makes "
              ".device/cards)", file=sys.stderr)
        return 1
    if device.type == "cuda":
        torch.cuda.set_device(device)
    elif args.tiny:
        torch.set_num_threads(1)  # the tiny run checks that every part works; one thread keeps it quick on a busy machine
    start = time.perf_counter()
    results = run(TINY if args.tiny else FULL, device, args.cards, Budget(args.budget), args.out)
    print(markdown(results))
    print(f"gpu.py: {time.perf_counter() - start:.0f} s; wrote {args.out / 'results-gpu.md'} and .json")
    return 0


if __name__ == "__main__":
    sys.exit(main())
