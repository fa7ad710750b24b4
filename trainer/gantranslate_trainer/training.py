"""The training loop: seeded, checkpointed atomically, exactly resumable, and DDP-ready under torchrun."""
from __future__ import annotations

import datetime
import itertools
import json
import random
import shutil
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Optional

import numpy as np
import torch
from torch.nn.parallel import DistributedDataParallel
from torch.utils.data import DistributedSampler, default_collate

from GANTranslateLib.device import resolve_device
from GANTranslateLib.dataset_completion import provenance_of
from GANTranslateLib.dataset_folder import SYNTHETIC_TAG, DatasetFolder, read_dataset, require_domains
from GANTranslateLib.errors import GANTranslateError

from .checkpoint import load_checkpoint, rng_state, save_checkpoint, set_rng_state
from .config import fingerprint, is_run_config, load_config, save_config
from .distributed import Distributed, any_rank, barrier, init_distributed, shutdown
from .export import build_card, directions, run_domains
from .models import GANModel, build_model
from .preprocessing import (PreparedSubject, fit_prior_tables, input_profile, learn_histogram_landmarks, prepare_subject,
                            reference_ranges)
from .run_log import RunLog
from .sampling import TrainingSamples, make_plan
from .validation import validate, validation_directions

CONFIG_NAME, LAST, BEST, RUN_RECORD = "config.yaml", "last.pt", "best.pt", "run.json"


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
    check_new_run_folder(folder)
    return config, folder, False


def check_new_run_folder(folder: Path) -> None:
    """A new run writes into a new or empty folder, or into a run's own that never reached a checkpoint; never
    into a folder of the user's, whose config.yaml and log.jsonl it would replace or extend."""
    if (folder / LAST).exists():
        raise GANTranslateError(f"{folder} already holds a run; pass --resume {folder} to continue it, or another --run-dir")
    if folder.exists() and not folder.is_dir():
        raise GANTranslateError(f"--run-dir {folder} is a file; give a new or empty folder")
    if not folder.is_dir() or is_run_config(folder / CONFIG_NAME):
        return
    other = sorted(entry.name for entry in folder.iterdir())
    if other:
        raise GANTranslateError(f"--run-dir {folder} holds other files ({', '.join(other[:3])}{', ...' if len(other) > 3 else ''}) "
                                "and is not a run folder; give a new or empty folder, nothing in it was touched")


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
          stop_at_step: Optional[int] = None, quiet: bool = False, invocation: Optional[dict] = None) -> Path:
    """``invocation``: the config file and overrides the run was started with, for its record (run.json)."""
    info = init_distributed(device_name)
    try:
        return _train(config, run_dir, resume, device_name, stop_at_step, quiet, info, invocation)
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


@dataclass
class TrainingData:
    """What a run trains on, read and prepared once (setup)."""
    dataset: DatasetFolder  # its training list holds only the subjects this run can use
    domains: list[str]
    prepared: list[PreparedSubject]
    normalization: dict[str, dict[str, Any]]  # each domain's entry for the model card
    profile: dict[str, Any]  # the card's input_profile (input guard)
    samples: TrainingSamples
    sampler: DistributedSampler
    batches_per_epoch: int
    synthetic: list[dict[str, str]]  # the synthetic volumes trained on (data.use_synthetic): subject, domain, model
    baselines: dict[str, list[float]]  # each direction's look-up-table baseline on the training subjects


def prepare_data(config: dict, run_dir: Path, info: Distributed, quiet: bool,
                 invocation: Optional[dict] = None) -> TrainingData:
    """Read the dataset, keep the subjects the model can use, normalise them as inference will, and plan the
    samples; the resolved config is saved in the run folder."""
    data = config["data"]
    dataset = read_dataset(data["root"], config["validation"]["subjects"], split=data["split"],
                           use_synthetic=data["use_synthetic"])
    if data["use_synthetic"]:  # synthetic data is for training only: validation and test stay acquired
        acquired = read_dataset(data["root"], config["validation"]["subjects"], split=data["split"])
        dataset = replace(dataset, validation=acquired.validation, test=acquired.test)
    if config["model"] == "unified" and not config["data"]["domains"]:
        config["data"]["domains"] = dataset.domains
    domains = run_domains(config)
    made = (config["data"]["degradation"] or {}).get("to")  # made on the fly from a clean domain, not on disk
    usable = require_domains(dataset, [d for d in domains if d != made], paired=config["model"] == "pix2pix")
    left_out = [s.name for s in dataset.training if s not in usable]
    if left_out and info.is_main and not quiet:
        print(f"paired training: left out {len(left_out)} subject(s) without every domain: {', '.join(left_out)}")
    dataset = replace(dataset, training=usable)
    if info.is_main and not dataset.validation:
        print(f"no validation subjects: this run writes no {BEST} (only {LAST}), and scores nothing while it trains; "
              "list some in dataset.json's 'validation' or validation.subjects")
    if info.is_main:
        run_dir.mkdir(parents=True, exist_ok=True)
        save_config(config, run_dir / CONFIG_NAME)
        if invocation is not None:  # a new run (a resumed one keeps the record of its start)
            write_run_record(run_dir, invocation, dataset)
    barrier(info)
    learn_histogram_landmarks(config, dataset.training, domains)
    prepared = [prepare_subject(s, domains, config, run_dir / "cache" if config["data"]["cache"] else None)
                for s in dataset.training]
    samples = TrainingSamples(prepared, make_plan(config, domains), config["seed"])
    sampler = DistributedSampler(samples, num_replicas=info.world_size, rank=info.rank, shuffle=True,
                                 seed=config["seed"], drop_last=True)
    batches_per_epoch = len(sampler) // config["train"]["batch_size"]
    if batches_per_epoch == 0:
        raise GANTranslateError(f"only {len(sampler)} samples per process; lower train.batch_size below that")
    acquired = [replace(s, files={d: f for d, f in s.files.items() if SYNTHETIC_TAG not in f.name}) for s in dataset.training]
    return TrainingData(dataset, domains, prepared, reference_ranges(prepared, config, domains),
                        input_profile(acquired, dataset.domains), samples, sampler, batches_per_epoch,
                        synthetic_sources(dataset.training), baseline_tables(prepared, directions(config)))


def write_run_record(run_dir: Path, invocation: dict, dataset: DatasetFolder) -> None:
    """What an exported card says the model was trained from (export.py reads it back)."""
    record = {
        "config_file": invocation.get("config_file"),
        "overrides": list(invocation.get("overrides") or []),
        "started": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "dataset": {"root": str(Path(dataset.root).resolve()), "name": dataset.name,
                    "training": [s.name for s in dataset.training], "validation": [s.name for s in dataset.validation]},
    }
    (run_dir / RUN_RECORD).write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")


def baseline_tables(prepared: list[PreparedSubject], pairs: list[list[str]]) -> dict[str, list[float]]:
    """The look-up-table baseline of each direction the model ships, on its training subjects (for the card)."""
    with_both = [(s, t) for s, t in pairs if any(s in p.volumes and t in p.volumes for p in prepared)]
    return {key: [round(float(v), 5) for v in table] for key, table in fit_prior_tables(prepared, with_both).items()}


def synthetic_sources(subjects: list) -> list[dict[str, str]]:
    """Which training volumes are synthetic, and the model that made each (its provenance record)."""
    found = []
    for subject in subjects:
        for domain, path in subject.files.items():
            if SYNTHETIC_TAG in path.name:
                made = provenance_of(path)
                found.append({"subject": subject.name, "domain": domain, "model": made["model"]["id"],
                              "model_version": made["model"]["version"], "made_from": made["made_from"]["domain"]})
    return found


class TrainingRun:
    """One run: the model, its optimisers and schedules, the step and the scores; stepped, validated and
    checkpointed by :meth:`loop`. Everything a resumed run needs is in its checkpoint."""

    def __init__(self, config: dict, run_dir: Path, data: TrainingData, device: torch.device, info: Distributed) -> None:
        self.config, self.run_dir, self.data, self.device, self.info = config, run_dir, data, device, info
        t = config["train"]
        model = build_model(config, data.domains)
        if config["data"].get("intensity_prior"):  # an option of pix2pix and unified
            model.set_prior(fit_prior_tables(data.prepared, directions(config)))
        self.model = model.to(device)
        divisor = int(getattr(model.export_generator(), "size_divisor", 1))
        if any(size % divisor for size in config["data"]["crop"]):
            raise GANTranslateError(f"data.crop {config['data']['crop']} must be a multiple of {divisor} for this generator")
        self.opt_g, self.opt_d = make_optimisers(model, t)
        self.sched_g = torch.optim.lr_scheduler.LambdaLR(self.opt_g, lr_lambda(config))
        self.sched_d = torch.optim.lr_scheduler.LambdaLR(self.opt_d, lr_lambda(config))
        self.amp = bool(t["amp"]) and device.type == "cuda"
        self.scaler = torch.amp.GradScaler("cuda", enabled=self.amp)
        self.runner = DistributedDataParallel(model, find_unused_parameters=True) if info.enabled else model
        self.step, self.best, self.latest = 0, {"psnr": -float("inf")}, {}  # latest: the last validation's scores
        self.epoch_order: dict[int, list[int]] = {}

    def resume(self) -> None:
        state = load_checkpoint(self.run_dir / LAST, self.device)
        if state["fingerprint"] != fingerprint(self.config):
            raise GANTranslateError(f"{self.run_dir / LAST} belongs to a different config; start a new run")
        self.model.load_state_dict(state["model"])
        self.opt_g.load_state_dict(state["opt_g"]), self.opt_d.load_state_dict(state["opt_d"])
        self.sched_g.load_state_dict(state["sched_g"]), self.sched_d.load_state_dict(state["sched_d"])
        self.scaler.load_state_dict(state["scaler"])
        self.model.load_extra_state(state["extra"], self.device)
        set_rng_state(state["rng"][self.info.rank] if isinstance(state["rng"], list) else state["rng"])
        self.step, self.best = state["step"], json.loads(state["best"])
        self.latest = json.loads(state.get("latest", "{}"))

    def batch(self, step_index: int) -> dict[str, torch.Tensor]:
        """The batch of a step: a function of the step alone, so that a resumed run sees the same data."""
        data, size = self.data, self.config["train"]["batch_size"]
        epoch, position = divmod(step_index, data.batches_per_epoch)
        if epoch not in self.epoch_order:
            data.sampler.set_epoch(epoch)
            self.epoch_order = {epoch: list(data.sampler)}
        data.samples.set_epoch(epoch)
        indices = self.epoch_order[epoch][position * size : (position + 1) * size]
        batch = default_collate([data.samples[i] for i in indices])
        return {k: v.to(self.device, non_blocking=True) for k, v in batch.items()}

    def train_step(self, batch: dict[str, torch.Tensor]) -> dict[str, float]:
        rng = np.random.default_rng([self.config["seed"], self.step, self.info.rank, 1])
        logs_g, logs_d = optimisation_step(self.runner, batch, self.opt_g, self.opt_d, self.scaler, rng,
                                           self.device.type, self.amp)
        self.sched_g.step(), self.sched_d.step()
        self.step += 1
        return {**logs_g, **logs_d, "lr": self.sched_g.get_last_lr()[0]}

    def card(self):
        return build_card(self.config, self.data.normalization, prior=self.model.prior_for_card(directions(self.config)),
                          profile=self.data.profile, synthetic=self.data.synthetic, baselines=self.data.baselines)

    def validate(self, log: RunLog) -> bool:
        """Score the validation subjects through the engine (main process); True when this is the best yet."""
        improved = [False]
        if self.info.is_main:
            scores = validate(self.model.export_generator(), self.card(), self.data.dataset.validation,
                              validation_directions(self.config, self.data.domains), self.device,
                              self.config["validation"]["batch_size"])
            log.scalars(self.step, _flat(scores), kind="validation")
            self.latest = {"step": self.step, **scores} if scores else {}
            if scores and scores["psnr"] > self.best["psnr"]:
                self.best, improved = {"step": self.step, **scores}, [True]
        if self.info.enabled:  # every rank takes part in the checkpoint's collective
            torch.distributed.broadcast_object_list(improved, src=0)
        return improved[0]

    def checkpoint(self, path: Path) -> None:
        states = [rng_state()]
        if self.info.enabled:
            gathered: list[Any] = [None] * self.info.world_size
            torch.distributed.all_gather_object(gathered, states[0])
            states = gathered
        if self.info.is_main:
            save_checkpoint({
                "step": self.step, "fingerprint": fingerprint(self.config), "model": self.model.state_dict(),
                "opt_g": self.opt_g.state_dict(), "opt_d": self.opt_d.state_dict(),
                "sched_g": self.sched_g.state_dict(), "sched_d": self.sched_d.state_dict(),
                "scaler": self.scaler.state_dict(), "extra": self.model.extra_state(),
                "rng": states if self.info.enabled else states[0],
                "best": json.dumps(self.best), "latest": json.dumps(self.latest),
                "normalization": json.dumps(self.data.normalization), "domains": self.data.domains,
                "input_profile": json.dumps(self.data.profile), "synthetic": json.dumps(self.data.synthetic),
                "baselines": json.dumps(self.data.baselines),
            }, path)

    def loop(self, stop_at_step: Optional[int], quiet: bool) -> None:
        t, info = self.config["train"], self.info
        log = RunLog(self.run_dir, enabled=info.is_main)
        progress = _progress_bar(self.step, t["steps"], quiet or not info.is_main)
        started, first = time.perf_counter(), self.step
        while self.step < t["steps"]:
            batch = self.batch(self.step)
            logs = self.train_step(batch)
            progress.update(1)
            step, last = self.step, self.step == t["steps"]
            if step % t["log_every"] == 0 or last:
                log.scalars(step, {**logs, "seconds_per_step": (time.perf_counter() - started) / max(step - first, 1)})
            if info.is_main and (step % t["image_every"] == 0 or last):
                self._image_grid(log, batch)
            if (step % t["validate_every"] == 0 or last) and self.data.dataset.validation and self.validate(log):
                self.checkpoint(self.run_dir / LAST)
                if info.is_main:
                    shutil.copyfile(self.run_dir / LAST, self.run_dir / BEST)
            out_of_time = bool(t["max_minutes"]) and any_rank(time.perf_counter() - started > 60 * t["max_minutes"], info)
            if step % t["checkpoint_every"] == 0 or last or out_of_time:
                self.checkpoint(self.run_dir / LAST)
            if out_of_time and not last:
                log.event(step, f"stopped at step {step} of {t['steps']}: train.max_minutes ({t['max_minutes']}) spent; "
                                "resume to continue")
                break
            if stop_at_step is not None and step >= stop_at_step:
                break
        progress.close()
        log.close()

    def _image_grid(self, log: RunLog, batch: dict[str, torch.Tensor]) -> None:
        with torch.no_grad():
            was = self.model.training
            self.model.eval()
            log.grid(self.step, batch["source"], self.model.translate(batch), batch["target"])
            self.model.train(was)


def _train(config, run_dir: Path, resume: bool, device_name: str, stop_at_step, quiet: bool, info: Distributed,
           invocation: Optional[dict] = None) -> Path:
    if config["train"]["threads"]:
        torch.set_num_threads(config["train"]["threads"])
    device = resolve_device(device_name)
    if device.type == "cuda" and info.enabled:
        device = torch.device("cuda", info.local_rank)
        torch.cuda.set_device(device)
    seed_everything(config["seed"])
    run = TrainingRun(config, run_dir, prepare_data(config, run_dir, info, quiet, None if resume else (invocation or {})), device, info)
    if resume:
        run.resume()
    run.loop(stop_at_step, quiet)
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
