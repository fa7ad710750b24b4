"""The training loop: seeded, checkpointed atomically, exactly resumable, and DDP-ready under torchrun."""
from __future__ import annotations

import itertools
import json
import random
import shutil
import time
from dataclasses import replace
from pathlib import Path
from typing import Any, Optional

import numpy as np
import torch
from torch.nn.parallel import DistributedDataParallel
from torch.utils.data import DistributedSampler, default_collate

from GANTranslateLib.device import resolve_device
from GANTranslateLib.dataset_folder import read_dataset, require_domains
from GANTranslateLib.errors import GANTranslateError

from .checkpoint import load_checkpoint, rng_state, save_checkpoint, set_rng_state
from .config import fingerprint, load_config, save_config
from .distributed import Distributed, barrier, init_distributed, shutdown
from .export import build_card, directions, run_domains
from .models import GANModel, build_model
from .preprocessing import fit_prior_tables, input_profile, learn_histogram_landmarks, prepare_subject, reference_ranges
from .run_log import RunLog
from .sampling import TrainingSamples, make_plan
from .validation import validate, validation_directions

CONFIG_NAME, LAST, BEST = "config.yaml", "last.pt", "best.pt"


def resolve_run(config_path: Optional[str], overrides: list[str], run_dir: Optional[str], resume: Optional[str]) -> tuple[dict, Path, bool]:
    """The config and run folder for a new run, or for resuming one (whose config must not change)."""
    if resume:
        folder = Path(resume)
        saved = folder / CONFIG_NAME
        if not saved.is_file():
            raise GANTranslateError(f"{folder} is not a run folder (no {CONFIG_NAME}); give the folder a run wrote")
        config = load_config(saved, overrides)
        if config_path is not None:
            asked = load_config(config_path, overrides)
            if fingerprint(asked) != fingerprint(config):
                raise GANTranslateError(
                    f"{folder} was trained with a different config than {config_path}; resume without a config, or start a new run"
                )
            config = asked
        if not (folder / LAST).is_file():
            raise GANTranslateError(f"{folder} has no checkpoint yet ({LAST}); start the run again instead of resuming")
        return config, folder, True
    if config_path is None:
        raise GANTranslateError("give a config file (see trainer/configs/) or --resume RUN_DIR")
    config = load_config(config_path, overrides)
    folder = Path(run_dir) if run_dir else Path("runs") / Path(config_path).stem
    if (folder / LAST).exists():
        raise GANTranslateError(f"{folder} already holds a run; pass --resume {folder} to continue it, or another --run-dir")
    return config, folder, False


def lr_lambda(config: dict):
    """Constant, then linear decay to zero (the pix2pix/CycleGAN schedule)."""
    steps, decay_start = config["train"]["steps"], config["train"]["decay_start"]

    def factor(step: int) -> float:
        if step < decay_start or steps == decay_start:
            return 1.0
        return max(0.0, (steps - step) / (steps - decay_start))

    return factor


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def train(config: dict, run_dir: Path, resume: bool = False, device_name: str = "auto",
          stop_at_step: Optional[int] = None, quiet: bool = False) -> Path:
    info = init_distributed(device_name)
    try:
        return _train(config, run_dir, resume, device_name, stop_at_step, quiet, info)
    finally:
        shutdown(info)


def make_optimisers(model: GANModel, train_settings: dict) -> tuple[torch.optim.Adam, torch.optim.Adam]:
    """Adam for the generators and for the discriminators (beta1 0.5, as pix2pix and CycleGAN train)."""
    g_params = list(itertools.chain(*(n.parameters() for n in model.generator_networks())))
    d_params = list(itertools.chain(*(n.parameters() for n in model.discriminator_networks())))
    betas = (train_settings["beta1"], 0.999)
    return (torch.optim.Adam(g_params, lr=train_settings["lr"], betas=betas),
            torch.optim.Adam(d_params, lr=train_settings["lr"], betas=betas))


def optimisation_step(runner, batch: dict[str, torch.Tensor], opt_g, opt_d, scaler, rng: np.random.Generator,
                      device_type: str, amp: bool) -> tuple[dict, dict]:
    """One generator update, then one discriminator update on the same fakes (bench/ times this)."""
    with torch.autocast(device_type, enabled=amp):
        loss_g, logs_g, fakes = runner("generator", batch)
    opt_g.zero_grad(set_to_none=True)
    scaler.scale(loss_g).backward()
    scaler.step(opt_g)
    with torch.autocast(device_type, enabled=amp):
        loss_d, logs_d = runner("discriminator", batch, fakes, rng)
    opt_d.zero_grad(set_to_none=True)
    scaler.scale(loss_d).backward()
    scaler.step(opt_d)
    scaler.update()
    return logs_g, logs_d


def _train(config, run_dir: Path, resume: bool, device_name: str, stop_at_step, quiet: bool, info: Distributed) -> Path:
    t = config["train"]
    if t["threads"]:
        torch.set_num_threads(t["threads"])
    device = resolve_device(device_name)
    if device.type == "cuda" and info.enabled:
        device = torch.device("cuda", info.local_rank)
        torch.cuda.set_device(device)
    seed_everything(config["seed"])

    dataset = read_dataset(config["data"]["root"], config["validation"]["subjects"], inner=config["data"]["split"] == "inner")
    if config["model"] == "unified" and not config["data"]["domains"]:
        config["data"]["domains"] = dataset.domains
    domains = run_domains(config)
    made = (config["data"]["degradation"] or {}).get("to")  # made on the fly from a clean domain, not on disk
    usable = require_domains(dataset, [d for d in domains if d != made], paired=config["model"] == "pix2pix")
    left_out = [s.name for s in dataset.training if s not in usable]
    if left_out and info.is_main and not quiet:
        print(f"paired training: left out {len(left_out)} subject(s) without every domain: {', '.join(left_out)}")
    dataset = replace(dataset, training=usable)
    if info.is_main:
        run_dir.mkdir(parents=True, exist_ok=True)
        save_config(config, run_dir / CONFIG_NAME)
    barrier(info)
    learn_histogram_landmarks(config, dataset.training, domains)
    prepared = [prepare_subject(s, domains, config, run_dir / "cache" if config["data"]["cache"] else None)
                for s in dataset.training]
    normalization = reference_ranges(prepared, config, domains)
    profile = input_profile(dataset.training, dataset.domains)

    samples = TrainingSamples(prepared, make_plan(config, domains), config["seed"])
    sampler = DistributedSampler(samples, num_replicas=info.world_size, rank=info.rank, shuffle=True,
                                 seed=config["seed"], drop_last=True)
    batches_per_epoch = len(sampler) // t["batch_size"]
    if batches_per_epoch == 0:
        raise GANTranslateError(f"only {len(sampler)} samples per process; lower train.batch_size below that")

    model = build_model(config, domains)
    if config["data"]["intensity_prior"]:
        model.set_prior(fit_prior_tables(prepared, directions(config)))
    model = model.to(device)
    divisor = int(getattr(model.export_generator(), "size_divisor", 1))
    if any(size % divisor for size in config["data"]["crop"]):
        raise GANTranslateError(f"data.crop {config['data']['crop']} must be a multiple of {divisor} for this generator")
    opt_g, opt_d = make_optimisers(model, t)
    sched_g = torch.optim.lr_scheduler.LambdaLR(opt_g, lr_lambda(config))
    sched_d = torch.optim.lr_scheduler.LambdaLR(opt_d, lr_lambda(config))
    amp = bool(t["amp"]) and device.type == "cuda"
    scaler = torch.amp.GradScaler("cuda", enabled=amp)
    runner = DistributedDataParallel(model, find_unused_parameters=True) if info.enabled else model

    step, best, latest = 0, {"psnr": -float("inf")}, {}  # latest: the scores of the last validation
    if resume:
        state = load_checkpoint(run_dir / LAST, device)
        if state["fingerprint"] != fingerprint(config):
            raise GANTranslateError(f"{run_dir / LAST} belongs to a different config; start a new run")
        model.load_state_dict(state["model"])
        opt_g.load_state_dict(state["opt_g"]), opt_d.load_state_dict(state["opt_d"])
        sched_g.load_state_dict(state["sched_g"]), sched_d.load_state_dict(state["sched_d"])
        scaler.load_state_dict(state["scaler"])
        model.load_extra_state(state["extra"], device)
        set_rng_state(state["rng"][info.rank] if isinstance(state["rng"], list) else state["rng"])
        step, best, latest = state["step"], json.loads(state["best"]), json.loads(state.get("latest", "{}"))

    log = RunLog(run_dir, enabled=info.is_main)
    epoch_order: dict[int, list[int]] = {}

    def batch_for(step_index: int) -> dict[str, torch.Tensor]:
        epoch, position = divmod(step_index, batches_per_epoch)
        if epoch not in epoch_order:
            sampler.set_epoch(epoch)
            epoch_order.clear()
            epoch_order[epoch] = list(sampler)
        samples.set_epoch(epoch)
        indices = epoch_order[epoch][position * t["batch_size"] : (position + 1) * t["batch_size"]]
        batch = default_collate([samples[i] for i in indices])
        return {k: v.to(device, non_blocking=True) for k, v in batch.items()}

    def checkpoint(path: Path) -> None:
        states = [rng_state()]
        if info.enabled:
            gathered: list[Any] = [None] * info.world_size
            torch.distributed.all_gather_object(gathered, states[0])
            states = gathered
        if info.is_main:
            save_checkpoint({
                "step": step, "fingerprint": fingerprint(config), "model": model.state_dict(),
                "opt_g": opt_g.state_dict(), "opt_d": opt_d.state_dict(),
                "sched_g": sched_g.state_dict(), "sched_d": sched_d.state_dict(), "scaler": scaler.state_dict(),
                "extra": model.extra_state(), "rng": states if info.enabled else states[0],
                "best": json.dumps(best), "latest": json.dumps(latest), "normalization": json.dumps(normalization), "domains": domains,
                "input_profile": json.dumps(profile),
            }, path)

    progress = _progress_bar(step, t["steps"], quiet or not info.is_main)
    started = time.perf_counter()
    while step < t["steps"]:
        batch = batch_for(step)
        step_rng = np.random.default_rng([config["seed"], step, info.rank, 1])
        logs_g, logs_d = optimisation_step(runner, batch, opt_g, opt_d, scaler, step_rng, device.type, amp)
        sched_g.step(), sched_d.step()
        step += 1
        progress.update(1)

        if step % t["log_every"] == 0 or step == t["steps"]:
            log.scalars(step, {**logs_g, **logs_d, "lr": sched_g.get_last_lr()[0],
                               "seconds_per_step": (time.perf_counter() - started) / max(step, 1)})
        if info.is_main and (step % t["image_every"] == 0 or step == t["steps"]):
            with torch.no_grad():
                was = model.training
                model.eval()
                log.grid(step, batch["source"], model.translate(batch), batch["target"])
                model.train(was)
        if (step % t["validate_every"] == 0 or step == t["steps"]) and dataset.validation:
            improved = [False]
            if info.is_main:
                card = build_card(config, normalization, prior=model.prior_for_card(directions(config)), profile=profile)
                scores = validate(model.export_generator(), card, dataset.validation,
                                  validation_directions(config, domains), device, config["validation"]["batch_size"])
                log.scalars(step, _flat(scores), kind="validation")
                latest = {"step": step, **scores} if scores else {}
                if scores and scores["psnr"] > best["psnr"]:
                    best, improved = {"step": step, **scores}, [True]
            if info.enabled:  # every rank takes part in the checkpoint's collective
                torch.distributed.broadcast_object_list(improved, src=0)
            if improved[0]:
                checkpoint(run_dir / LAST)
                if info.is_main:
                    shutil.copyfile(run_dir / LAST, run_dir / BEST)
        if step % t["checkpoint_every"] == 0 or step == t["steps"]:
            checkpoint(run_dir / LAST)
        if stop_at_step is not None and step >= stop_at_step:
            break
    progress.close()
    log.close()
    barrier(info)
    return run_dir


def _flat(scores: dict) -> dict:
    """Validation scores for the log: the means, and each direction's under 'SOURCE->TARGET/metric'."""
    flat = {}
    for key, value in scores.items():
        if isinstance(value, dict):
            flat.update({f"{key}/{k}": v for k, v in value.items()})
        else:
            flat[key] = value
    return flat


class _NoBar:
    def update(self, n: int) -> None:
        pass

    def close(self) -> None:
        pass


def _progress_bar(start: int, total: int, quiet: bool):
    if quiet:
        return _NoBar()
    from tqdm import tqdm

    return tqdm(total=total, initial=start, desc="training", unit="step")
