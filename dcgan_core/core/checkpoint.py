"""Self-describing checkpoints: atomic save, validated load, exact resume.

A checkpoint holds G, D, both optimizers, the step, epoch and position in the epoch's data order,
every RNG state and the run's config, so a resumed CPU run is bit-identical to one never stopped.
All loading goes through `load_checkpoint`, with weights_only=True and map_location (a GPU checkpoint
loads on a CPU-only machine).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import torch

from dcgan_core.core.models import Discriminator, Generator, ModelConfig
from dcgan_core.utils.runinfo import atomic_write

CHECKPOINT_VERSION = 1
REQUIRED = ("version", "model_config", "train_config", "step", "epoch", "batch_in_epoch",
            "G", "D", "opt_g", "opt_d", "rng", "fixed_z")


class CheckpointError(RuntimeError):
    """A checkpoint is missing, unreadable or not one of ours."""


def snapshot_name(epoch: int) -> str:
    """File name of the snapshot kept after `epoch` epochs (Fig. 2/3); the one owner of the format."""
    return f"epoch-{epoch:04d}.pt"


def step_snapshot_name(step: int) -> str:
    """File name of the snapshot kept after `step` steps (TrainConfig.snapshot_steps)."""
    return f"step-{step:08d}.pt"


def snapshot_label(name: str) -> str:
    """How a figure names a snapshot: "after epoch 5", "after step 400" or "final"."""
    for kind in ("epoch", "step"):
        if name.startswith(f"{kind}-"):
            return f"after {kind} {int(name.removeprefix(f'{kind}-').removesuffix('.pt'))}"
    return "final"


def snapshot_names(run_dir: str | Path) -> list[str]:
    """Checkpoint files of a run in training order: its epoch or step snapshots (a run keeps one kind), then
    last.pt."""
    ckpts = Path(run_dir) / "checkpoints"
    return sorted(p.name for kind in ("epoch", "step") for p in ckpts.glob(f"{kind}-*.pt")) + ["last.pt"]


def save_checkpoint(path: str | Path, state: dict) -> None:
    """Write atomically (runinfo.atomic_write): an interrupted save keeps the previous checkpoint."""
    missing = [k for k in REQUIRED if k not in state]
    if missing:
        raise CheckpointError(f"refusing to save a checkpoint without {missing}")
    atomic_write(path, lambda f: torch.save(state, f), binary=True)


def load_checkpoint(path: str | Path, map_location: str | torch.device = "cpu") -> dict:
    """Load and validate a checkpoint; errors name the file and what is wrong with it."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"no checkpoint at {path}")
    try:
        state = torch.load(path, map_location=map_location, weights_only=True)
    except Exception as e:  # truncated zip, wrong format, pickled code
        raise CheckpointError(f"{path} is corrupt or truncated and cannot be loaded ({type(e).__name__}: "
                              f"{e}); delete it to restart, or restore it from a copy") from e
    if not isinstance(state, dict) or state.get("version") != CHECKPOINT_VERSION:
        raise CheckpointError(f"{path} is not a dcgan_core checkpoint of version {CHECKPOINT_VERSION}")
    missing = [k for k in REQUIRED if k not in state]
    if missing:
        raise CheckpointError(f"{path} lacks {missing}; it was not written by dcgan_core")
    return state


def load_run(run_dir: str | Path, device: str | torch.device = "cpu", name: str = "last.pt"):
    """Rebuild (G, D) from a run's checkpoint, on any device; returns (G, D, state)."""

    state = load_checkpoint(Path(run_dir) / "checkpoints" / name, map_location=device)
    cfg = ModelConfig.from_dict(state["model_config"])
    G, D = Generator(cfg).to(device), Discriminator(cfg).to(device)
    G.load_state_dict(state["G"])
    D.load_state_dict(state["D"])
    return G, D, state


def images_seen(state: dict) -> int:
    """Training images a checkpoint's weights have seen (its step times the run's global batch)."""
    return state["step"] * state["train_config"]["batch_size"]


def earlier_snapshots(run_dir: str | Path, device: str | torch.device = "cpu") -> Iterator[tuple[int, str]]:
    """(images seen, name) of each snapshot of a run before its final weights (last.pt), in training order:
    the snapshots a claim is read at besides its end (issue 27); the last epoch's snapshot, which holds the final
    weights, is left out."""
    final = images_seen(load_checkpoint(Path(run_dir) / "checkpoints" / "last.pt", device))
    for name in snapshot_names(run_dir)[:-1]:
        seen = images_seen(load_checkpoint(Path(run_dir) / "checkpoints" / name, device))
        if seen < final:
            yield seen, name
