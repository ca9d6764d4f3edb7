"""Training (Sec. 4): the GAN minimax game with the non-saturating generator loss.

D maximises log D(x) + log(1 - D(G(z))): BCE-with-logits against targets 1 (real) and 0 (fake).
G maximises log D(G(z)) (the non-saturating variant of Goodfellow et al. 2014, which every DCGAN
implementation uses): BCE-with-logits of D(G(z)) against target 1.
Adam lr 2e-4, beta1 0.5, minibatch 128, no augmentation, images scaled to [-1, 1] (Sec. 4).

A run directory holds config.json, metrics.jsonl, samples/ and checkpoints/ (see checkpoint.py).
"""

from __future__ import annotations

import contextlib
import json
import math
import time
import warnings
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from tqdm import tqdm

from dcgan_core.core import distributed
from dcgan_core.core.checkpoint import (
    CHECKPOINT_VERSION,
    load_checkpoint,
    save_checkpoint,
    snapshot_name,
    step_snapshot_name,
)
from dcgan_core.core.distributed import Dist, gather_objects, mean_over_ranks
from dcgan_core.core.models import Discriminator, Generator, ModelConfig, check_preset, resolve
from dcgan_core.data.packed import load_pack
from dcgan_core.utils.runinfo import provenance, write_json
from dcgan_core.utils.streams import stream_seed, torch_generator
from dcgan_core.utils.torch_utils import bf16_emulated, eval_mode, save_grid

UPDATE_SCHEMES = ("joint", "alternating")
PRECISIONS = ("fp32", "bf16")
# Fields that may change on --resume: run length and bookkeeping, not the maths of a step.
RESUME_FREE = ("steps", "epochs", "device", "log_every", "ckpt_every", "progress")
# fields added after runs were cached: at these defaults they stay out of a run's identity (and its key), so the
# runs trained before the field existed are still found and resumed
LATER_DEFAULTS = {"snapshot_steps": ()}
DEVICE_RESIDENT_BYTES = 2 << 30  # packs below 2 GiB live on the device as uint8; larger are memory-mapped


DIVERGED = "diverged.json"  # written beside a run whose loss went non-finite


class TrainingDiverged(RuntimeError):
    """A loss became NaN or inf; the last good checkpoint is kept."""


@dataclass
class TrainConfig:
    """Everything that defines a training run besides the model (which the preset + overrides give)."""

    data: str
    preset: str = "paper-lsun64"
    model_overrides: dict = field(default_factory=dict)
    steps: int | None = None  # total optimiser steps; or
    epochs: float | None = None  # total passes over the data (one of the two)
    batch_size: int = 128  # Sec. 4
    lr_g: float = 2e-4  # Sec. 4
    lr_d: float = 2e-4  # Sec. 4
    beta1: float = 0.5  # Sec. 4: 0.9 oscillated
    beta2: float = 0.999  # authors' code
    eps: float = 1e-8  # authors' code
    weight_decay: float = 0.0  # paper: none; authors' faces script 1e-5
    update_scheme: str = "joint"  # one D and one G step per batch; authors: alternating minibatches
    seed: int = 0
    device: str = "cpu"
    precision: str = "fp32"  # or bf16 autocast (CPU with AVX-512-bf16, CUDA)
    channels_last: bool = True  # NHWC: the same maths summed in another order, faster on CPU (make bench: 1.03-1.25x)
    deterministic: bool = False  # CUDA: cudnn deterministic kernels (the CPU path is always deterministic)
    log_every: int = 50
    ckpt_every: int = 500
    snapshot_epochs: tuple[int, ...] = (1, 5)  # Fig. 2/3: samples after one and five epochs
    snapshot_steps: tuple[int, ...] = ()  # or kept by step (runs compared at equal images seen on sets of other sizes)
    n_fixed: int = 64  # fixed-z grid size, drawn once per run
    progress: bool = True

    def __post_init__(self) -> None:
        resolve(self.preset, **self.model_overrides)  # validates the preset and the overrides
        if (self.steps is None) == (self.epochs is None):
            raise ValueError(f"give exactly one of steps or epochs, got steps={self.steps}, epochs={self.epochs}")
        if self.steps is not None and self.steps < 1:
            raise ValueError(f"steps must be >= 1, got {self.steps}")
        if self.epochs is not None and self.epochs <= 0:
            raise ValueError(f"epochs must be > 0, got {self.epochs}")
        for name in ("batch_size", "log_every", "ckpt_every", "n_fixed"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be >= 1, got {getattr(self, name)}")
        for name in ("lr_g", "lr_d"):
            if getattr(self, name) <= 0:
                raise ValueError(f"{name} must be > 0, got {getattr(self, name)}")
        if self.update_scheme not in UPDATE_SCHEMES:
            raise ValueError(f"update_scheme must be one of {UPDATE_SCHEMES}, got {self.update_scheme!r}")
        if self.precision not in PRECISIONS:
            raise ValueError(f"precision must be one of {PRECISIONS}, got {self.precision!r}")
        if self.device.startswith("cuda") and not torch.cuda.is_available():
            raise ValueError(f"device {self.device!r} requested but CUDA is not available; use --device cpu")
        self.snapshot_epochs = tuple(self.snapshot_epochs)
        if any(e < 1 for e in self.snapshot_epochs):
            raise ValueError(f"snapshot_epochs (--snapshot-epochs) must be epochs >= 1, got {self.snapshot_epochs}")
        self.snapshot_steps = tuple(self.snapshot_steps)
        if any(t < 1 for t in self.snapshot_steps):
            raise ValueError(f"snapshot_steps (--snapshot-steps) must be steps >= 1, got {self.snapshot_steps}")
        if self.snapshot_steps and self.snapshot_epochs:  # one kind per run: its snapshots' names sort in order
            raise ValueError(f"give snapshots by epoch or by step, not both (snapshot_epochs={self.snapshot_epochs}, "
                             f"snapshot_steps={self.snapshot_steps}): pass --snapshot-epochs with no value")

    @classmethod
    def for_preset(cls, data: str, preset: str, **kwargs) -> TrainConfig:
        """Defaults < the preset's own training hyperparameters < explicit (non-None) arguments."""
        defaults = check_preset(preset).train
        given = {k: v for k, v in kwargs.items() if v is not None}
        unknown = set(given) - {f.name for f in fields(cls)}
        if unknown:
            raise ValueError(f"unknown TrainConfig field(s) {sorted(unknown)}")
        return cls(data=data, preset=preset, **{**defaults, **given})

    def identity(self) -> dict:
        """The fields that must match for --resume to continue this run (LATER_DEFAULTS at their default left out)."""
        return _without_later_defaults({k: v for k, v in asdict(self).items() if k not in RESUME_FREE})



def _without_later_defaults(identity: dict) -> dict:
    return {k: v for k, v in identity.items() if not (k in LATER_DEFAULTS and tuple(v) == LATER_DEFAULTS[k])}


def save_config(cfg: TrainConfig, path: str | Path) -> Path:
    """Write a TrainConfig as JSON (what `train --config` reads back into the same config)."""
    write_json(path, asdict(cfg))
    return Path(path)


def load_config(path: str | Path) -> TrainConfig:
    """The TrainConfig in a JSON file: a run's config.json (its "train" record) or a file `save_config` wrote."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"--config {path}: no such file (a run's config.json or a saved TrainConfig)")
    try:
        record = json.loads(path.read_text())
    except json.JSONDecodeError as e:
        raise ValueError(f"--config {path} is not JSON ({e}); pass a run's config.json or a saved TrainConfig"
                         ) from None
    record = record.get("train", record) if isinstance(record, dict) else record
    if not isinstance(record, dict):
        raise ValueError(f"--config {path} holds no TrainConfig record (a JSON object of its fields)")
    unknown = sorted(set(record) - {f.name for f in fields(TrainConfig)})
    if unknown:
        raise ValueError(f"--config {path}: unknown TrainConfig field(s) {unknown}")
    return TrainConfig(**record)

def d_loss(real_logits: torch.Tensor, fake_logits: torch.Tensor) -> torch.Tensor:
    """-[log D(x) + log(1 - D(G(z)))], averaged over each batch (numerically stable on logits)."""
    return (F.binary_cross_entropy_with_logits(real_logits, torch.ones_like(real_logits))
            + F.binary_cross_entropy_with_logits(fake_logits, torch.zeros_like(fake_logits)))


def g_loss(fake_logits: torch.Tensor) -> torch.Tensor:
    """Non-saturating generator loss: -log D(G(z))."""
    return F.binary_cross_entropy_with_logits(fake_logits, torch.ones_like(fake_logits))


def make_optimizers(G: Generator, D: Discriminator, cfg: TrainConfig):
    """Adam for each net (Sec. 4); weight_decay is the authors' L2 term added to the gradient."""
    def adam(params, lr):
        return torch.optim.Adam(params, lr=lr, betas=(cfg.beta1, cfg.beta2), eps=cfg.eps,
                                weight_decay=cfg.weight_decay)
    return adam(G.parameters(), cfg.lr_g), adam(D.parameters(), cfg.lr_d)


def train_step(G, D, opt_g, opt_d, x, z, cfg: TrainConfig, step: int, g_call=None, d_pair=None,
               timer: PhaseTimer | None = None) -> dict[str, torch.Tensor]:
    """One update. Returns the statistics this step computed as device tensors (no host sync): loss_D and D(x)
    when D was updated, loss_G when G was, and D(G(z)) always.

    joint: a D step then a G step on the same batch and z (pytorch/examples, Goodfellow's k=1).
    alternating: even steps update G only, odd steps update D only (authors' n_updates % 2).
    g_call / d_pair: G and D on (real, fake) as the update calls them (DDP-wrapped under torchrun, see
    distributed.wrap); by default G itself and D on each batch in turn. timer: where the phases' time goes."""
    phase = untimed if timer is None else timer
    amp = torch.autocast(x.device.type, dtype=torch.bfloat16, enabled=cfg.precision == "bf16")
    g_call = G if g_call is None else g_call
    update_d = cfg.update_scheme == "joint" or step % 2 == 1
    update_g = cfg.update_scheme == "joint" or step % 2 == 0
    stats = {}
    with phase("G forward"), amp, torch.set_grad_enabled(update_g):  # a D-only step needs no graph through G
        fake = g_call(z)
    if update_d:  # (1) D: maximise log D(x) + log(1 - D(G(z))), real and fake as separate batches
        with phase("D forward"), amp:
            real_logits, fake_logits = d_pair(x, fake.detach()) if d_pair is not None else (D(x), D(fake.detach()))
            loss = d_loss(real_logits, fake_logits)
        with phase("D backward"):
            opt_d.zero_grad(set_to_none=True)
            loss.backward()
        with phase("D optimiser"):
            opt_d.step()
        stats["loss_D"], stats["D(x)"] = loss.detach().float(), torch.sigmoid(real_logits.detach().float()).mean()
    if update_g:  # (2) G: maximise log D(G(z)) (non-saturating)
        with phase("G step: D forward"), amp, frozen(D):  # D's weight gradients here would be discarded
            fake_logits = D(fake)
            loss = g_loss(fake_logits)
        with phase("G step: backward"):
            opt_g.zero_grad(set_to_none=True)
            loss.backward()
        with phase("G optimiser"):
            opt_g.step()
        stats["loss_G"] = loss.detach().float()
    stats["D(G(z))"] = torch.sigmoid(fake_logits.detach().float()).mean()
    return stats


@contextlib.contextmanager
def frozen(net: torch.nn.Module) -> Iterator[None]:
    """Parameters that need no gradient while the graph is recorded: the backward then skips their weight
    gradients (about half of D's backward in the G step) and leaves the input gradients, so G's, bit-identical."""
    params = [p for p in net.parameters() if p.requires_grad]
    for p in params:
        p.requires_grad_(False)
    try:
        yield
    finally:
        for p in params:
            p.requires_grad_(True)


PHASES = ("G forward", "D forward", "D backward", "D optimiser", "G step: D forward", "G step: backward",
          "G optimiser")


class PhaseTimer:
    """Seconds spent in each named phase (PHASES) of the steps it is handed to (`bench --phases`); each span is
    device-synced, which slows a CUDA step a little, so training itself never gets one."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}

    @contextlib.contextmanager
    def __call__(self, name: str) -> Iterator[None]:
        sync = torch.cuda.synchronize if torch.cuda.is_available() and torch.cuda.is_initialized() else (lambda: None)
        sync()
        t0 = time.perf_counter()
        yield
        sync()
        self.seconds[name] = self.seconds.get(name, 0.0) + time.perf_counter() - t0


def untimed(name: str) -> contextlib.AbstractContextManager:
    """A phase of a step nobody times."""
    return contextlib.nullcontext()


class MetricsWindow:
    """Step statistics summed on the device between two log lines: one host sync per line, not per step."""

    NAMES = ("loss_D", "loss_G", "D(x)", "D(G(z))")

    def __init__(self, step: int):
        self.sums: dict[str, torch.Tensor] = {}
        self.counts = dict.fromkeys(self.NAMES, 0)
        self.step0, self.t0 = step, time.perf_counter()

    def add(self, stats: dict[str, torch.Tensor]) -> None:
        for k, v in stats.items():
            self.sums[k] = self.sums[k] + v if k in self.sums else v
            self.counts[k] += 1

    def means(self, step: int, d: Dist = Dist()) -> dict:
        """Means over the window and the ranks; raises TrainingDiverged on a NaN/inf. Under torchrun every rank
        calls it (one collective)."""
        sums = mean_over_ranks(self.sums, d)
        means = {k: sums[k].item() / self.counts[k] if self.counts[k] else None for k in self.NAMES}
        if not all(math.isfinite(v) for v in means.values() if v is not None):
            raise TrainingDiverged(f"a loss became NaN/inf before step {step}")
        return means

    def row(self, step: int, steps_per_epoch: int, batch_size: int, d: Dist = Dist()) -> dict:
        """The metrics line for `step` (`means`); batch_size is the global batch."""
        now = time.perf_counter()
        means = self.means(step, d)
        return {"step": step, "epoch": round(step / steps_per_epoch, 4), **means,
                "images_per_s": (step - self.step0) * batch_size / max(now - self.t0, 1e-9),
                "unix_time": round(time.time(), 3)}  # wall clock: comparable across a resume


@dataclass
class TrainState:
    """What a step changes and a checkpoint must hold to resume exactly: nets, optimisers, the z stream,
    the fixed grid z and the position in the data order."""

    G: Generator
    D: Discriminator
    opt_g: torch.optim.Optimizer
    opt_d: torch.optim.Optimizer
    z_gen: torch.Generator
    fixed_z: torch.Tensor
    step: int = 0
    epoch: int = 0
    batch_in_epoch: int = 0

    def save(self, path: Path, cfg: TrainConfig, d: Dist = Dist()) -> int:
        """Rank 0 writes; every rank's torch RNG state goes in (each rank calls this: it is a collective).
        Returns the step saved, on every rank."""
        ranks = gather_objects(torch.get_rng_state(), d)
        if not d.main:
            return self.step
        save_checkpoint(path, {
            "version": CHECKPOINT_VERSION, "model_config": self.G.config.to_dict(), "train_config": asdict(cfg),
            "step": self.step, "epoch": self.epoch, "batch_in_epoch": self.batch_in_epoch,
            "G": self.G.state_dict(), "D": self.D.state_dict(),
            "opt_g": self.opt_g.state_dict(), "opt_d": self.opt_d.state_dict(),
            "rng": {"torch": ranks[0], "z": self.z_gen.get_state().cpu(),
                    **({"torch_ranks": ranks} if d.enabled else {})},
            "fixed_z": self.fixed_z.cpu()})
        return self.step

    def load(self, path: Path, d: Dist = Dist()) -> None:
        device = self.fixed_z.device
        state = load_checkpoint(path, map_location=device)
        for name in ("G", "D", "opt_g", "opt_d"):
            getattr(self, name).load_state_dict(state[name])
        self.step, self.epoch, self.batch_in_epoch = state["step"], state["epoch"], state["batch_in_epoch"]
        torch.set_rng_state(state["rng"]["torch_ranks"][d.rank] if d.enabled else state["rng"]["torch"])
        self.z_gen.set_state(state["rng"]["z"].to(self.z_gen.get_state().device))
        self.fixed_z = state["fixed_z"].to(device)

    @torch.no_grad()
    def save_samples(self, path: Path) -> None:
        """The fixed-z grid, drawn in eval mode."""
        with eval_mode(self.G):
            save_grid(self.G(self.fixed_z).float() * 0.5 + 0.5, path, nrow=8)


def _prepare_run_dir(out: Path, cfg: TrainConfig, model_cfg: dict, data_meta: dict, resume: bool,
                     job: dict | None = None, write: bool = True) -> None:
    """Write config.json for a new run, or check that a resumed run asks for the same config (and, for a
    multi-process run, the same world size and batch-norm sync: both change the maths of a step)."""
    cfg_path = out / "config.json"
    job = job or {"world_size": 1, "sync_bn": False}
    record = {"train": asdict(cfg), "model": model_cfg, "distributed": job,
              "data": {k: data_meta.get(k) for k in ("source", "split", "count", "resolution", "sha256")}}
    if cfg_path.exists():
        if not resume:
            raise FileExistsError(f"{out} already holds a run; pass --resume to continue it, or choose another --out")
        old = json.loads(cfg_path.read_text())
        new_id = {**cfg.identity(), "model": model_cfg, "data_sha256": data_meta.get("sha256"), **job}
        old_train = {k: v for k, v in old["train"].items() if k not in RESUME_FREE}
        # a run from before a ModelConfig field existed holds its default
        old_model = ModelConfig.from_dict(old["model"]).to_dict()
        old_id = {**old_train, "model": old_model, "data_sha256": old["data"].get("sha256"),
                  **old.get("distributed", {"world_size": 1, "sync_bn": False})}
        old_id = _without_later_defaults({**old_id, "snapshot_epochs": tuple(old_id.get("snapshot_epochs", ())),
                                          "snapshot_steps": tuple(old_id.get("snapshot_steps", ()))})
        diff = sorted(k for k in set(new_id) | set(old_id) if new_id.get(k) != old_id.get(k))
        if diff:
            lines = [f"  {k}: run has {old_id.get(k)!r}, requested {new_id.get(k)!r}" for k in diff]
            if "channels_last" in diff and old_id.get("channels_last") is False:  # a run from before the default
                lines.append("  (channels_last is now the default; resume this run with --no-channels-last)")
            raise ValueError(f"refusing to resume {out} with a different config:\n" + "\n".join(lines)
                             + "\nUse the run's settings, or start a new run with another --out.")
    if write:
        out.mkdir(parents=True, exist_ok=True)
        write_json(cfg_path, {**record, "provenance": provenance(cfg.device)})


def _truncate_metrics(path: Path, keep_upto: int) -> None:
    """On resume, drop metric lines past the checkpoint step (they will be recomputed identically)."""
    if not path.exists():
        return
    lines = [ln for ln in path.read_text().splitlines() if ln and json.loads(ln)["step"] <= keep_upto]
    path.write_text("".join(ln + "\n" for ln in lines))


def total_steps(cfg: TrainConfig, n_images: int | None = None) -> int:
    """Optimiser steps a config asks for (epochs drop each epoch's last partial batch)."""
    if cfg.steps is not None:
        return cfg.steps
    n = len(load_pack(cfg.data)) if n_images is None else n_images
    return math.ceil(cfg.epochs * (n // cfg.batch_size))


def check_pack(cfg: TrainConfig, pack, model_cfg) -> None:
    """The pack fits the preset's images and holds at least one batch; raised before any training."""
    if (pack.meta["resolution"], pack.meta["channels"]) != (model_cfg.resolution, model_cfg.channels):
        raise ValueError(f"{cfg.data} holds {pack.meta['channels']}x{pack.meta['resolution']}px images but preset "
                         f"{cfg.preset!r} expects {model_cfg.channels}x{model_cfg.resolution}px; pass "
                         f"resolution=/channels= overrides or re-pack with --resolution {model_cfg.resolution}")
    if len(pack) < cfg.batch_size:
        raise ValueError(f"{cfg.data} has {len(pack)} images, fewer than batch_size={cfg.batch_size}")


def initial_models(model_cfg, seed: int) -> tuple[Generator, Discriminator]:
    """The untrained G and D a run of this seed starts from (Sec. 4 init): the baselines 'at random weights'."""
    torch.manual_seed(stream_seed("init", seed))
    return Generator(model_cfg), Discriminator(model_cfg)


def _new_state(cfg: TrainConfig, model_cfg, device: torch.device, fmt: torch.memory_format) -> TrainState:
    """Seeded nets (Sec. 4 init), Adam, the z stream and the fixed grid z of a fresh run."""
    G, D = (m.to(device, memory_format=fmt) for m in initial_models(model_cfg, cfg.seed))
    opt_g, opt_d = make_optimizers(G, D, cfg)
    fixed_z = G.sample_z(cfg.n_fixed, generator=torch_generator("fixed z", cfg.seed, device=device))
    return TrainState(G, D, opt_g, opt_d, torch_generator("train z", cfg.seed, device=device), fixed_z)


def train(cfg: TrainConfig, out: str | Path, resume: bool = False, sync_bn: bool = False,
          timeout_s: float = distributed.DIST_TIMEOUT_S) -> dict:
    """Train a DCGAN into run directory `out`; returns the last logged metrics.

    Under torchrun (WORLD_SIZE > 1) this is one rank of a DistributedDataParallel job (see distributed.py):
    cfg.batch_size is the global batch, sync_bn syncs batch-norm statistics over it (CUDA), and a collective that
    waits longer than timeout_s fails."""
    d = distributed.from_env()
    out, device = Path(out), distributed.setup(d, cfg.device, timeout_s)
    if d.rank == 0:
        (out / DIVERGED).unlink(missing_ok=True)  # a retried run writes its own outcome
    try:
        return _train(cfg, out, resume, d, device, sync_bn)
    except TrainingDiverged as e:
        if d.rank == 0:  # the outcome, beside the last good checkpoint (core.runs.ensure_outcome reads it)
            write_json(out / DIVERGED, {"error": str(e)})
        raise
    finally:
        distributed.teardown(d)


def _train(cfg: TrainConfig, out: Path, resume: bool, d: Dist, device: torch.device, sync_bn: bool) -> dict:
    pack = load_pack(cfg.data)  # fails early with the pack command if missing
    model_cfg = resolve(cfg.preset, **cfg.model_overrides)
    check_pack(cfg, pack, model_cfg)
    n, B = len(pack), cfg.batch_size
    if B % d.world:
        raise ValueError(f"batch_size={B} (the global batch) must be divisible by the {d.world} processes")
    steps_per_epoch, total = n // B, total_steps(cfg, n)  # the last partial batch of each epoch is dropped
    distributed.check_sync_bn(sync_bn, device)  # before anything is written, so a rerun without the flag works
    if cfg.precision == "bf16" and bf16_emulated(device):
        warnings.warn(f"bf16 on this CPU ({torch.backends.cpu.get_cpu_capability()}) is emulated: several times "
                      "slower than fp32 (one cpu16 step at width 16 took 274 ms against 49 ms on an AVX2 EPYC); "
                      "--precision fp32 is faster here, as a different run", stacklevel=2)
    job = {"world_size": d.world, "sync_bn": sync_bn and d.enabled}  # one process: its statistics are global
    _prepare_run_dir(out, cfg, model_cfg.to_dict(), pack.meta, resume, job, write=False)  # every rank checks
    distributed.barrier(d)
    if d.main:
        _prepare_run_dir(out, cfg, model_cfg.to_dict(), pack.meta, resume, job)
    if device.type == "cuda" and cfg.deterministic:
        torch.backends.cudnn.deterministic, torch.backends.cudnn.benchmark = True, False
    fmt = torch.channels_last if cfg.channels_last else torch.contiguous_format
    s = _new_state(cfg, model_cfg, device, fmt)
    G, D, ckpt_path = s.G, s.D, out / "checkpoints" / "last.pt"
    if resume and ckpt_path.exists():
        s.load(ckpt_path, d)
    g_call, d_pair = distributed.wrap(G, D, d, device, job["sync_bn"])
    if d.main:
        _truncate_metrics(out / "metrics.jsonl", s.step)
        if s.step == 0:
            torch.save(s.fixed_z.cpu(), out / "fixed_z.pt")
        (out / "samples").mkdir(parents=True, exist_ok=True)
    resident = pack.images.nbytes <= DEVICE_RESIDENT_BYTES
    images = torch.from_numpy(np.array(pack.images)).to(device) if resident else pack.images
    window, last, saved = MetricsWindow(s.step), {}, None  # saved: the step last.pt holds, once written here
    bar = tqdm(total=total, initial=s.step, desc=f"train {out.name}", disable=not (cfg.progress and d.main),
               unit="step")
    try:
        while s.step < total:
            order = torch.randperm(n, generator=torch_generator("epoch order", cfg.seed, s.epoch))
            while s.batch_in_epoch < steps_per_epoch and s.step < total:
                idx = d.shard(order[s.batch_in_epoch * B:(s.batch_in_epoch + 1) * B])  # this rank's share
                if resident:
                    xb = images[idx.to(device)]
                else:  # memory-mapped: read the batch's rows in file order
                    xb = torch.from_numpy(images[idx.sort().values.numpy()]).to(device)
                x = (xb.float() / 127.5 - 1.0).contiguous(memory_format=fmt)  # Sec. 4: scale to [-1, 1]
                z = d.shard(G.sample_z(B, generator=s.z_gen))  # every rank draws the global z, keeps its share
                window.add(train_step(G, D, s.opt_g, s.opt_d, x, z, cfg, s.step, g_call, d_pair))
                s.step, s.batch_in_epoch = s.step + 1, s.batch_in_epoch + 1
                bar.update(1)
                if s.step % cfg.log_every == 0 or s.step % cfg.ckpt_every == 0 or s.step == total:
                    last, window = _log(window, s.step, steps_per_epoch, B, out, bar, d), MetricsWindow(s.step)
                if s.step % cfg.ckpt_every == 0:
                    _finite(window, s, out, d)  # the line above read the losses; a step may leave NaN weights
                    saved = s.save(ckpt_path, cfg, d)
                if s.step in cfg.snapshot_steps:
                    _finite(window, s, out, d)
                    s.save(out / "checkpoints" / step_snapshot_name(s.step), cfg, d)
            if s.batch_in_epoch == steps_per_epoch:  # epoch finished: grid, Fig. 2/3 snapshot, checkpoint
                _finite(window, s, out, d)  # a NaN since the last log line must not overwrite the last good state
                s.epoch, s.batch_in_epoch = s.epoch + 1, 0
                if d.main:
                    s.save_samples(out / "samples" / snapshot_name(s.epoch).replace(".pt", ".png"))
                if s.epoch in cfg.snapshot_epochs:
                    s.save(out / "checkpoints" / snapshot_name(s.epoch), cfg, d)
                saved = s.save(ckpt_path, cfg, d)
    finally:
        bar.close()
    if saved != s.step:  # a run that ends on an epoch or checkpoint boundary has just written this state
        _finite(window, s, out, d)
        s.save(ckpt_path, cfg, d)
    if d.main:
        s.save_samples(out / "samples" / "final.png")
    return last


def _stopped(e: TrainingDiverged, out: Path) -> TrainingDiverged:
    return TrainingDiverged(f"{e} of {out}; the last good checkpoint {out / 'checkpoints' / 'last.pt'} is kept "
                            "(lower the learning rate or change the seed)")


def _finite(window: MetricsWindow, s: TrainState, out: Path, d: Dist = Dist()) -> None:
    """Stop the run before a save if a loss since the last log line, or a weight, is NaN/inf (a step can leave
    non-finite weights behind a finite loss); every rank calls it (one collective)."""
    try:
        window.means(s.step, d)
    except TrainingDiverged as e:
        raise _stopped(e, out) from None
    if not all(bool(torch.isfinite(p).all()) for net in (s.G, s.D) for p in net.parameters()):
        raise _stopped(TrainingDiverged(f"a weight became NaN/inf before step {s.step}"), out)


def _log(window: MetricsWindow, step: int, steps_per_epoch: int, batch_size: int, out: Path, bar,
         d: Dist = Dist()) -> dict:
    """Append the window's metrics line to metrics.jsonl (rank 0); a NaN/inf stops the run, keeping the last
    checkpoint."""
    try:
        row = window.row(step, steps_per_epoch, batch_size, d)
    except TrainingDiverged as e:
        raise _stopped(e, out) from None
    if not d.main:
        return row
    with open(out / "metrics.jsonl", "a") as f:
        f.write(json.dumps(row) + "\n")
    bar.set_postfix({k: f"{row[k]:.3f}" for k in ("loss_D", "loss_G") if row[k] is not None})
    return row


@torch.no_grad()
def sample_grid(G: Generator, n: int, out: str | Path, seed: int = 0, nrow: int = 8) -> torch.Tensor:
    """Draw n samples with a seeded z, save them as a PNG grid, return them in [-1, 1]."""
    if n < 1:
        raise ValueError(f"n must be >= 1, got {n}")
    device = next(G.parameters()).device
    z = G.sample_z(n, generator=torch.Generator(device).manual_seed(seed))
    with eval_mode(G):
        x = G(z).float()
    save_grid(x * 0.5 + 0.5, out, nrow=nrow)
    return x
