"""Self-describing checkpoints: atomic save, validated load, exact resume.

A checkpoint holds G, D, both optimizers, the step, epoch and position in the epoch's data order,
every RNG state and the run's config, so a resumed CPU run is bit-identical to one never stopped.
All loading goes through `load_checkpoint`, with weights_only=True and map_location (a GPU checkpoint
loads on a CPU-only machine).
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import torch

CHECKPOINT_VERSION = 1
REQUIRED = ("version", "model_config", "train_config", "step", "epoch", "batch_in_epoch",
            "G", "D", "opt_g", "opt_d", "rng", "fixed_z")


class CheckpointError(RuntimeError):
    """A checkpoint is missing, unreadable or not one of ours."""


def save_checkpoint(path: str | Path, state: dict) -> None:
    """Write atomically: temp file in the same folder, fsync, rename over the old one."""
    missing = [k for k in REQUIRED if k not in state]
    if missing:
        raise CheckpointError(f"refusing to save a checkpoint without {missing}")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            torch.save(state, f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


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


def load_generator(run_dir: str | Path, device: str | torch.device = "cpu", name: str = "last.pt"):
    """Rebuild (G, D) from a run's checkpoint, on any device; returns (G, D, state)."""
    from .models import Discriminator, Generator, ModelConfig

    state = load_checkpoint(Path(run_dir) / "checkpoints" / name, map_location=device)
    cfg = ModelConfig.from_dict(state["model_config"])
    G, D = Generator(cfg).to(device), Discriminator(cfg).to(device)
    G.load_state_dict(state["G"])
    D.load_state_dict(state["D"])
    return G, D, state
