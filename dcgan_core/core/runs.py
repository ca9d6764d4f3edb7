"""Run directories keyed by their config: a model is trained once into `<root>/<name>-s<seed>-<key>` and reused
(or resumed) whenever the same config asks for it again; several processes launch through torchrun.

A profile's model entry is written in the configs' own terms: TrainConfig fields (epochs, precision, ...) and
ModelConfig fields (resolution, z_dist, ...: the preset's overrides), plus the pack names `data` and `heldout`.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import fields, replace
from pathlib import Path

from dcgan_core.core.checkpoint import load_checkpoint
from dcgan_core.core.distributed import torchrun_command
from dcgan_core.core.models import ModelConfig, resolve
from dcgan_core.core.train import DIVERGED, TrainConfig, save_config, total_steps, train
from dcgan_core.data.packed import load_pack
from dcgan_core.utils.errors import ParameterError
from dcgan_core.utils.parallel import run_jobs

ENTRY_PACKS = ("data", "heldout")  # pack names of the profile, not config fields
ENTRY_FIXED = ("model_overrides", "device", "progress")  # set by the caller: ModelConfig fields go in directly
TRAIN_FIELDS = tuple(f.name for f in fields(TrainConfig) if f.name not in ("data", *ENTRY_FIXED))
MODEL_FIELDS = tuple(f.name for f in fields(ModelConfig))
ROOT = Path(__file__).resolve().parents[2]  # the project root: torchrun runs from it


def check_entry(entry: dict, where: str) -> None:
    """A profile's model entry names only TrainConfig / ModelConfig fields and its packs (refused by name)."""
    unknown = sorted(set(entry) - set(ENTRY_PACKS) - set(TRAIN_FIELDS) - set(MODEL_FIELDS))
    if unknown:
        raise ParameterError(f"{where} has unknown key(s) {unknown}; a model entry takes {list(ENTRY_PACKS)}, "
                             f"TrainConfig fields {list(TRAIN_FIELDS)} and ModelConfig fields {list(MODEL_FIELDS)}")


def entry_model(entry: dict) -> ModelConfig:
    """The ModelConfig of a profile's model entry: its preset with the entry's ModelConfig fields."""
    return resolve(entry["preset"], **{k: v for k, v in entry.items() if k in MODEL_FIELDS})


def entry_config(entry: dict, data: str | Path, device: str, seed: int | None = None,
                 progress: bool = True) -> TrainConfig:
    """The TrainConfig of a profile's model entry trained on pack directory `data` (`seed` overrides the entry's)."""
    check_entry(entry, "model entry")
    if "preset" not in entry:
        raise ParameterError(f"model entry {entry} names no preset; add preset: <one of the models' presets>")
    train_kw = {k: v for k, v in entry.items() if k in TRAIN_FIELDS}
    if seed is not None:
        train_kw["seed"] = seed
    overrides = {k: v for k, v in entry.items() if k in MODEL_FIELDS}
    return TrainConfig.for_preset(str(data), train_kw.pop("preset"), model_overrides=overrides, device=device,
                                  progress=progress, **train_kw)


def processes(batch_size: int) -> int:
    """The number of training processes DCGAN_NPROC asks for (make NPROC=N), checked before anything starts."""
    raw = os.environ.get("DCGAN_NPROC", "1").strip()
    if not raw.isdigit() or int(raw) < 1:
        raise ParameterError(f"NPROC={raw!r} must be a whole number of processes >= 1 (make reproduce NPROC=8)")
    if batch_size % int(raw):
        raise ParameterError(f"NPROC={raw} does not divide the global batch of {batch_size}; choose NPROC among the "
                             f"divisors of {batch_size}")
    return int(raw)


def sync_bn(nproc: int, device: str) -> bool:
    """Whether DCGAN_SYNC_BN (make SYNC_BN=1) asks for SyncBatchNorm, which needs several processes and CUDA."""
    raw = os.environ.get("DCGAN_SYNC_BN", "0").strip()
    if raw not in ("0", "1"):
        raise ParameterError(f"SYNC_BN={raw!r} must be 0 or 1")
    if raw == "1" and (nproc < 2 or not device.startswith("cuda")):
        raise ParameterError(f"SYNC_BN=1 syncs batch norm across processes on CUDA; this run has NPROC={nproc} on "
                             f"{device}: drop SYNC_BN, or use NPROC >= 2 on a GPU profile")
    return raw == "1"


def run_dir(cfg: TrainConfig, name: str, runs_root: str | Path, nproc: int = 1, sync: bool = False) -> Path:
    """Where a config's run lives: the name carries a hash of everything that changes its maths. The data enter as
    the pack's checksum, not its path, so finished runs copied into another checkout are found there."""
    identity = {k: v for k, v in cfg.identity().items() if k != "data"}
    job = [identity, load_pack(cfg.data).meta["sha256"]] + ([{"world_size": nproc}] if nproc > 1 else [])
    job += [{"sync_bn": True}] if sync else []  # per-rank or synced batch norm: other maths
    key = hashlib.sha256(json.dumps(job, sort_keys=True, default=str).encode()).hexdigest()[:8]
    return Path(runs_root) / f"{name}-s{cfg.seed}-{key}"


def ensure_trained(cfg: TrainConfig, name: str, runs_root: str | Path, keep_diverged: bool = False) -> Path:
    """Train `cfg`, or reuse the run whose config matches (resuming it if unfinished); NPROC / SYNC_BN from the
    environment (make reproduce NPROC=8) launch it through torchrun. `keep_diverged`: a run marked DIVERGED is
    returned as it is (checked under the lock, so a caller that waited does not retrain it)."""
    nproc = processes(cfg.batch_size)
    sync = sync_bn(nproc, cfg.device)
    run = run_dir(cfg, name, runs_root, nproc, sync)
    with locked(run):
        if _finished(run, cfg) or (keep_diverged and (run / DIVERGED).is_file()):
            return run
        resume = (run / "config.json").is_file()
        if nproc > 1:
            launch(cfg, run, resume, nproc, sync)
        else:
            train(cfg, run, resume=resume)
    return run


@contextmanager
def locked(run: Path) -> Iterator[None]:
    """One process trains a run at a time: another that asks for the same run (two jobs of the training step that
    need it) waits for the lock, then finds it finished. An advisory lock, released when its holder dies."""
    run.parent.mkdir(parents=True, exist_ok=True)
    with open(run.parent / f".{run.name}.lock", "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def ensure_outcome(cfg: TrainConfig, name: str, runs_root: str | Path) -> Path:
    """`ensure_trained`, where a loss that goes non-finite is an outcome, not an error (Sec. 3-4's variants are
    trained to see whether they fail): the run keeps its last good checkpoint, `train` writes DIVERGED beside it
    (rank 0, also under torchrun), and a later call returns the run as it is."""
    run = run_dir(cfg, name, runs_root, processes(cfg.batch_size), sync_bn(processes(cfg.batch_size), cfg.device))
    try:
        return ensure_trained(cfg, name, runs_root, keep_diverged=True)
    except RuntimeError:  # TrainingDiverged in this process, or a torchrun launch that failed
        if (run / DIVERGED).is_file():
            return run
        raise


def diverged(run: str | Path) -> bool:
    """Whether a run stopped on a non-finite loss (`ensure_outcome`)."""
    return (Path(run) / DIVERGED).is_file()


def ensure_trained_many(jobs: list[tuple[TrainConfig, str, str | Path]], workers: int) -> list[Path]:
    """`ensure_trained` for every (config, name, runs_root), `workers` runs side by side (utils.parallel); returns
    the run directories in the order of `jobs`."""
    if jobs and processes(jobs[0][0].batch_size) > 1:  # torchrun launches take every core: one at a time
        workers = 1
    order = sorted(range(len(jobs)), key=lambda i: -images_seen(jobs[i][0]))  # the longest start first
    done = run_jobs(training_calls([jobs[i] for i in order], workers), workers, desc="training runs")
    out: list[Path] = [Path()] * len(jobs)
    for position, i in enumerate(order):
        out[i] = done[position]
    return out


def training_calls(jobs: list[tuple[TrainConfig, str, str | Path]], workers: int) -> list[tuple]:
    """(ensure_trained, args) per job for `utils.parallel.run_jobs`, in the jobs' order; side by side without
    progress bars (they would interleave; the run key is the same). A torchrun launch (NPROC > 1) takes the whole
    machine, so `run_jobs` must then get one worker: refused here otherwise."""
    if workers > 1 and jobs and processes(jobs[0][0].batch_size) > 1:
        raise ParameterError(f"NPROC > 1 trains each run on every core; it cannot run {workers} runs side by side: "
                             "set JOBS=1")
    return [(ensure_trained, (replace(cfg, progress=False) if workers > 1 else cfg, name, root))
            for cfg, name, root in jobs]


def images_seen(cfg: TrainConfig, n_images: int | None = None) -> int:
    """Training images a config asks for (`n_images`: its pack's size, when the pack is not at hand): how long its
    run takes, to start the longest first, and the compute page's images seen."""
    return total_steps(cfg, n_images) * cfg.batch_size


def longest_first(jobs: list[tuple[TrainConfig, str, str | Path]]) -> list[tuple[TrainConfig, str, str | Path]]:
    return sorted(jobs, key=lambda job: -images_seen(job[0]))


def is_trained(cfg: TrainConfig, name: str, runs_root: str | Path) -> bool:
    """Whether `ensure_trained` would reuse a finished run (NPROC / SYNC_BN from the environment, as there)."""
    nproc = processes(cfg.batch_size)
    return _finished(run_dir(cfg, name, runs_root, nproc, sync_bn(nproc, cfg.device)), cfg)


def _finished(run: Path, cfg: TrainConfig) -> bool:
    last = run / "checkpoints" / "last.pt"
    return last.is_file() and load_checkpoint(last)["step"] >= total_steps(cfg)


def launch(cfg: TrainConfig, run: str | Path, resume: bool, nproc: int, sync: bool = False) -> None:
    """Train `cfg` into `run` with torchrun and nproc processes (DistributedDataParallel, SyncBatchNorm with sync):
    the processes read the config from RUN/launch.json (`train --config`); stops on failure."""
    run = Path(run)
    config = save_config(cfg, run / "launch.json")
    args = ["train", "--config", str(config), "--out", str(run), *["--resume"] * resume, *["--sync-bn"] * sync]
    cmd = torchrun_command(nproc, args)
    if subprocess.run(cmd, cwd=ROOT).returncode:
        raise RuntimeError(f"torchrun training of {run} failed (command: {' '.join(cmd)}); rerun it to see the error")
