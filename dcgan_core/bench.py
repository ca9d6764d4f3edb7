"""Training throughput of a preset on synthetic input (warm-up excluded), for `make bench`."""

from __future__ import annotations

import time

import torch

from .models import Discriminator, Generator, resolve
from .runinfo import hardware
from .train import TrainConfig, make_optimizers, train_step


def bench(preset: str, batch_size: int = 128, steps: int = 10, warmup: int = 3, device: str = "cpu",
          precision: str = "fp32", channels_last: bool = False, seed: int = 0, **overrides) -> dict:
    """Images per second of full training steps (one D and one G update each)."""
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
    t0 = time.perf_counter()
    run(steps)
    dt = time.perf_counter() - t0
    return {"preset": preset, "device": device, "batch_size": batch_size, "steps": steps,
            "precision": precision, "channels_last": channels_last, "overrides": overrides,
            "images_per_s": round(steps * batch_size / dt, 1), "seconds_per_step": round(dt / steps, 4),
            "hardware": hardware(device)}
