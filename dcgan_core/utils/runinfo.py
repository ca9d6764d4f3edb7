"""Provenance recorded beside every result: versions, git commit, hardware, and atomic file writes."""

from __future__ import annotations

import json
import os
import platform
import subprocess
import tempfile
from collections.abc import Callable
from importlib.metadata import version
from pathlib import Path
from typing import IO

import numpy as np
import torch

PACKAGE_ROOT = Path(__file__).resolve().parents[2]  # the project checkout


def git_commit() -> str:
    """The checked-out commit (with '-dirty' if the tree has changes), or 'unknown' outside git."""
    try:
        sha = subprocess.run(["git", "rev-parse", "HEAD"], cwd=PACKAGE_ROOT, capture_output=True,
                             text=True, timeout=10, check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=PACKAGE_ROOT,
                               capture_output=True, text=True, timeout=10).stdout.strip()
        return sha + ("-dirty" if dirty else "")
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def hardware(device: str | torch.device = "cpu") -> dict:
    """What the numbers were measured on."""
    info = {"platform": platform.platform(), "processor": platform.processor() or platform.machine(),
            "cpu_count": os.cpu_count(), "torch_threads": torch.get_num_threads(),
            "cpu_capability": torch.backends.cpu.get_cpu_capability()}
    if torch.device(device).type == "cuda" and torch.cuda.is_available():
        info["gpu"] = torch.cuda.get_device_name(torch.device(device))
        info["cuda"] = torch.version.cuda
    return info


def versions() -> dict:
    """Installed versions, read from package metadata (importing torchvision and sklearn costs seconds)."""
    return {"python": platform.python_version(), "torch": torch.__version__,
            "torchvision": version("torchvision"), "numpy": np.__version__, "sklearn": version("scikit-learn")}


def provenance(device: str | torch.device = "cpu") -> dict:
    """Everything needed to say where and with what a number was produced."""
    return {"git_commit": git_commit(), "versions": versions(), "hardware": hardware(device)}


def atomic_write(path: str | Path, write: Callable[[IO], None], binary: bool = False) -> None:
    """Write a file atomically (temp file in the same folder, fsync, rename): a reader never sees half a file,
    and an interrupted write leaves the old file in place."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb" if binary else "w") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_json(path: str | Path, obj: object) -> None:
    """Write JSON atomically."""
    def dump(f: IO) -> None:
        json.dump(obj, f, indent=2, sort_keys=False, default=_json_default)
        f.write("\n")
    atomic_write(path, dump)


def _json_default(o: object) -> object:
    if isinstance(o, (np.integer, np.floating)):
        return o.item()
    if isinstance(o, (np.ndarray, torch.Tensor)):
        return o.tolist()
    if isinstance(o, Path):
        return str(o)
    raise TypeError(f"not JSON serialisable: {type(o).__name__}")
