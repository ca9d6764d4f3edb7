"""Throughput for `make bench`: training steps of a preset on synthetic input (warm-up excluded), and the
de-duplication hasher on a memory-mapped pack."""

from __future__ import annotations

import tempfile
import time

import torch

from . import train
from .models import Discriminator, Generator, resolve
from .runinfo import hardware
from .train import PHASES, TrainConfig, make_optimizers, train_step


def bench(preset: str, batch_size: int = 128, steps: int = 10, warmup: int = 3, device: str = "cpu",
          precision: str = "fp32", channels_last: bool = False, seed: int = 0, phases: bool = False,
          **overrides) -> dict:
    """Images per second of full training steps (one D and one G update each); with phases, where a step's time
    goes (train.PHASES in ms per step, each timed with a device sync, which slows a CUDA step a little)."""
    if steps < 1 or warmup < 0:
        raise ValueError(f"steps must be >= 1 and warmup >= 0, got steps={steps}, warmup={warmup}")
    cfg = TrainConfig.for_preset("<synthetic>", preset, batch_size=batch_size, steps=steps, device=device,
                                 precision=precision, channels_last=channels_last, model_overrides=overrides)
    model_cfg = resolve(preset, **overrides)
    torch.manual_seed(seed)
    fmt = torch.channels_last if channels_last else torch.contiguous_format
    G = Generator(model_cfg).to(device, memory_format=fmt)
    D = Discriminator(model_cfg).to(device, memory_format=fmt)
    opt_g, opt_d = make_optimizers(G, D, cfg)
    shape = (batch_size, model_cfg.channels, model_cfg.resolution, model_cfg.resolution)
    x_u8 = torch.randint(0, 256, shape, dtype=torch.uint8, device=device)

    def run(n: int) -> None:
        for i in range(n):
            x = (x_u8.float() / 127.5 - 1).contiguous(memory_format=fmt)
            train_step(G, D, opt_g, opt_d, x, G.sample_z(batch_size), cfg, i)
        if torch.device(device).type == "cuda":
            torch.cuda.synchronize()

    run(warmup)
    train.PHASE_TIMES = {} if phases else None
    try:
        t0 = time.perf_counter()
        run(steps)
        dt = time.perf_counter() - t0
        split = {k: round(1000 * train.PHASE_TIMES.get(k, 0.0) / steps, 2) for k in PHASES} if phases else {}
    finally:
        train.PHASE_TIMES = None
    if phases:  # input preparation, z and everything between the phases
        split["other"] = round(1000 * dt / steps - sum(split.values()), 2)
    return {**({"phases_ms_per_step": split} if phases else {}), "preset": preset, "device": device,
            "batch_size": batch_size, "steps": steps,
            "precision": precision, "channels_last": channels_last, "overrides": overrides,
            "images_per_s": round(steps * batch_size / dt, 1), "seconds_per_step": round(dt / steps, 4),
            "hardware": hardware(device)}


def bench_dedup(n: int = 500_000, resolution: int = 32, seed: int = 0) -> dict:
    """Images/s of `SemanticHasher.transform` streaming a memory-mapped pack of n random images (fit excluded)."""
    import numpy as np

    from .data.packed import PackWriter, load_pack
    from .dedup import MIN_FIT, HasherConfig, SemanticHasher

    if n < MIN_FIT:
        raise ValueError(f"--images must be >= {MIN_FIT} (the hasher's minimum fit set), got {n}")
    with tempfile.TemporaryDirectory() as tmp:
        rng = np.random.default_rng(seed)
        with PackWriter(f"{tmp}/pack", n, 3, resolution, resolution) as w:
            for i in range(0, n, 65536):
                w.images[i:i + 65536] = rng.integers(0, 256, w.images[i:i + 65536].shape, dtype=np.uint8)
            w.commit({"source": "random"})
        pack = load_pack(f"{tmp}/pack")
        hasher = SemanticHasher(HasherConfig(epochs=1, fit_on=MIN_FIT, seed=seed)).fit(pack.images, progress=False)
        t0 = time.perf_counter()
        hasher.transform(pack.images)
        dt = time.perf_counter() - t0
    return {"kind": "dedup-hash", "images": n, "resolution": resolution, "images_per_s": round(n / dt, 1),
            "seconds": round(dt, 2), "lsun_3m_seconds": round(3_000_000 * dt / n, 1), "hardware": hardware("cpu")}
