"""Throughput for `make bench`: training steps of a preset on synthetic input (warm-up excluded) with their FLOP
count against the machine's matmul rate, the de-duplication hasher on a memory-mapped pack, and whole-process
time side by side with pytorch/examples' dcgan."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch

from dcgan_core.core.models import Discriminator, Generator, resolve
from dcgan_core.core.train import PHASES, PhaseTimer, TrainConfig, check_pack, make_optimizers, save_config, train_step
from dcgan_core.data.packed import PackWriter, load_pack
from dcgan_core.instruments.hashing import MIN_FIT, HasherConfig, SemanticHasher
from dcgan_core.instruments.metrics import CopySearch, coarse_pixels
from dcgan_core.utils.runinfo import hardware


def bench(preset: str, batch_size: int = 128, steps: int = 10, warmup: int = 3, device: str = "cpu",
          precision: str = "fp32", channels_last: bool = True, seed: int = 0, phases: bool = False,
          use_compile: bool = False, **overrides) -> dict:
    """Images per second of full training steps (one D and one G update each), the step's GFLOP and the share of
    this machine's matmul peak it reaches; with phases, where a step's time goes (train.PHASES in ms per step,
    each timed with a device sync, which slows a CUDA step a little). use_compile: G and D through torch.compile
    (inductor; its compile time is reported as warm-up, not counted in the rate)."""
    if steps < 1 or warmup < 0:
        raise ValueError(f"steps must be >= 1 and warmup >= 0, got steps={steps}, warmup={warmup}")
    if use_compile and warmup < 2:  # the first steps compile each variant of the graphs (D frozen or not)
        raise ValueError(f"compile needs warmup >= 2 so that compilation is not timed, got warmup={warmup}")
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

    g_call, d_call = (torch.compile(G), torch.compile(D)) if use_compile else (G, D)

    def run(n: int, timer: PhaseTimer | None = None) -> None:
        for i in range(n):
            x = (x_u8.float() / 127.5 - 1).contiguous(memory_format=fmt)
            train_step(g_call, d_call, opt_g, opt_d, x, G.sample_z(batch_size), cfg, i, timer=timer)
        if torch.device(device).type == "cuda":
            torch.cuda.synchronize()

    t0 = time.perf_counter()
    run(warmup)
    warmup_s = time.perf_counter() - t0
    # the mean of two steps: under alternating updates (the authors' scheme) one G-only and one D-only step
    flop = sum(step_flop(lambda: train_step(G, D, opt_g, opt_d, x_u8.float() / 127.5 - 1, G.sample_z(batch_size),
                                            cfg, i)) for i in (0, 1)) / 2
    timer = PhaseTimer() if phases else None
    t0 = time.perf_counter()
    run(steps, timer)
    dt = time.perf_counter() - t0
    split = {k: round(1000 * timer.seconds.get(k, 0.0) / steps, 2) for k in PHASES} if phases else {}
    if phases:  # input preparation, z and everything between the phases
        split["other"] = round(1000 * dt / steps - sum(split.values()), 2)
    return {**({"phases_ms_per_step": split} if phases else {}), "preset": preset, "device": device,
            "batch_size": batch_size, "steps": steps, "precision": precision, "channels_last": channels_last,
            "compile": use_compile, "warmup_s": round(warmup_s, 1), "overrides": overrides,
            "images_per_s": round(steps * batch_size / dt, 1), "seconds_per_step": round(dt / steps, 4),
            "gflop_per_step": round(flop / 1e9, 1), "achieved_gflops": round(flop / 1e9 * steps / dt, 1),
            "matmul_peak_gflops": round(matmul_peak(device, precision), 1), "hardware": hardware(device)}


def step_flop(step: Callable[[], object]) -> float:
    """Floating-point operations of one call of `step` (convolutions and matmuls, forward and backward)."""
    # imported here: only `bench` counts FLOPs
    from torch.utils.flop_counter import FlopCounterMode
    with FlopCounterMode(display=False) as counter:
        step()
    return float(counter.get_total_flops())


def matmul_peak(device: str = "cpu", precision: str = "fp32", n: int = 4096, repeats: int = 5) -> float:
    """GFLOP/s of a large square matmul in `precision`: the ceiling a step's convolutions could approach here."""
    dtype = torch.bfloat16 if precision == "bf16" else torch.float32
    a, b = (torch.randn(n, n, dtype=dtype, device=device) for _ in range(2))
    sync = torch.cuda.synchronize if torch.device(device).type == "cuda" else (lambda: None)
    a @ b
    sync()
    t0 = time.perf_counter()
    for _ in range(repeats):
        a @ b
    sync()
    return 2 * n ** 3 * repeats / (time.perf_counter() - t0) / 1e9


def bench_dedup(n: int = 500_000, resolution: int = 32, seed: int = 0) -> dict:
    """Images/s of `SemanticHasher.transform` streaming a memory-mapped pack of n random images (fit excluded)."""


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


LSUN_IMAGES = 3_000_000  # Sec. 4.1: "a little over 3 million" LSUN bedrooms (the paper profile's training set)


def bench_copy_search(n: int = 100_000, resolution: int = 64, queries: int = 10_000, seed: int = 0) -> dict:
    """Seconds of the memorisation copy search (Sec. 4.1, issue 25) in coarse pixels: the exact index of n random
    training images, then `queries` samples searched as they are and mirrored; both steps are linear in n, so the
    line also states what the paper profile's 3M LSUN images would take, and the index's memory."""
    if n < 1 or queries < 1:
        raise ValueError(f"--images and --queries must be >= 1, got {n} and {queries}")
    rng = np.random.default_rng(seed)
    with tempfile.TemporaryDirectory() as tmp:
        with PackWriter(f"{tmp}/pack", n, 3, resolution, resolution) as w:
            for i in range(0, n, 16384):
                w.images[i:i + 16384] = rng.integers(0, 256, w.images[i:i + 16384].shape, dtype=np.uint8)
            w.commit({"source": "random"})
        train = load_pack(f"{tmp}/pack").images
        t0 = time.perf_counter()
        search = CopySearch(coarse_pixels, train, desc="bench copy search")
        built = time.perf_counter() - t0
        samples = rng.integers(0, 256, (queries, 3, resolution, resolution), dtype=np.uint8)
        t0 = time.perf_counter()
        search.distances(samples)
        searched = time.perf_counter() - t0
    dim = search.index.d
    return {"kind": "copy-search", "images": n, "resolution": resolution, "queries": queries, "dim": dim,
            "index_seconds": round(built, 2), "search_seconds": round(searched, 2),
            "lsun_3m_seconds": round((built + searched) * LSUN_IMAGES / n, 1),
            "lsun_3m_index_gb": round(LSUN_IMAGES * dim * 4 / 1e9, 1), "hardware": hardware("cpu")}


def bench_parallel(preset: str, precision: str = "bf16", steps: int = 30, batch_size: int = 128) -> dict:
    """Training images/s of one process on every core against as many single-threaded processes side by side
    (each its own run, as `make reproduce` trains a profile's seeds and judges): the lever of utils.parallel."""
    cores = max(1, torch.get_num_threads())
    cmd = [sys.executable, "-m", "dcgan_core", "bench", "--preset", preset, "--precision", precision, "--steps",
           str(steps), "--batch-size", str(batch_size)]

    def rates(n: int, threads: int) -> list[float]:
        env = {**os.environ, "OMP_NUM_THREADS": str(threads)}
        procs = [subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True, env=env) for _ in range(n)]
        outs = [p.communicate()[0] for p in procs]
        if any(p.returncode for p in procs):
            raise RuntimeError(f"bench subprocess failed: {' '.join(cmd)}")
        return [json.loads(o.strip().splitlines()[-1])["images_per_s"] for o in outs]

    one = rates(1, cores)[0]
    side = rates(cores, 1)
    return {"kind": "parallel-training", "preset": preset, "precision": precision, "batch_size": batch_size,
            "steps": steps, "one_process_images_per_s": one, "side_by_side_images_per_s": side,
            "processes": cores, "ratio": round(sum(side) / one, 2), "hardware": hardware("cpu")}


def bench_svm(per_class: int = 100, draws: int = 21, seed: int = 0) -> dict:
    """Seconds of one probe step's L2-SVM fits (the C grid x 3 draws of per_class labels a class) on the features
    a probe reads: a randomly initialised cpu32 D (population BN) on the embedded MNIST-5k digits; the batched
    Newton solver and liblinear one after the other."""
    # imported here: only this bench reads the embedded digits and the probes
    from dcgan_core.core.train import initial_models
    from dcgan_core.data.embedded import mnist5k
    from dcgan_core.instruments.probes import C_GRID, d_features, draw_labelled
    from dcgan_core.instruments.svm import fit_l2svm

    records = [load() for _, load in mnist5k(resolution=32)[1]]  # the packer's own 28 -> 32 px layout
    images = np.stack([image for image, _ in records])
    y = np.array([meta["labels"] for _, meta in records])
    feats = d_features(initial_models(resolve("cpu32"), seed)[1], images, pool_images=images)
    rng = np.random.default_rng(seed)
    Cs = [C_GRID[i % len(C_GRID)] for i in range(draws)]
    sets = [draw_labelled(y, np.arange(len(y)), per_class, rng) for _ in Cs]
    seconds = {}
    for solver in ("newton", "liblinear"):
        t0 = time.perf_counter()
        fit_l2svm(feats, y, sets, Cs, solver=solver)
        seconds[solver] = round(time.perf_counter() - t0, 2)
    return {"kind": "svm", "fits": draws, "labels": 10 * per_class, "dim": int(feats.shape[1]), "seconds": seconds,
            "ratio": round(seconds["liblinear"] / seconds["newton"], 1), "hardware": hardware("cpu")}


EXAMPLES_FAKE_IMAGES = 1000  # torchvision FakeData's default size: what examples' `--dataset fake` trains on
SIDE_VARIANTS = {  # TrainConfig fields of each timed variant of our train command
    "ours, fp32, contiguous (examples' layout)": {"channels_last": False},
    "ours, fp32 (the default: channels_last)": {},
    "ours, bf16 autocast": {"precision": "bf16"},
}


def side_by_side(examples: str | Path, pack: str | Path, niter: int = 2, batch_size: int = 128,
                 repeats: int = 2, preset: str = "pytorch-examples64", variants: dict | None = None,
                 device: str = "cpu") -> dict:
    """Whole-process wall time, as a user runs them, of pytorch/examples' dcgan (`main.py --dataset fake`, niter
    epochs of its 1,000 fake images) and of our `train` command on the same number of steps of `pack` (64x64),
    alternated `repeats` times; each ratio is examples' mean time over the variant's. On CUDA examples gets --accel."""
    variants = SIDE_VARIANTS if variants is None else variants
    if not Path(examples).is_file():
        raise FileNotFoundError(f"{examples} is not pytorch/examples' dcgan/main.py; clone "
                                "https://github.com/pytorch/examples and pass EXAMPLES=path/to/dcgan/main.py")
    if min(niter, repeats, batch_size) < 1:
        raise ValueError(f"niter, repeats and batch_size must be >= 1, got {niter}, {repeats}, {batch_size}")

    steps = niter * math.ceil(EXAMPLES_FAKE_IMAGES / batch_size)  # examples keeps each epoch's last short batch
    configs = {name: TrainConfig.for_preset(str(pack), preset, steps=steps, batch_size=batch_size, device=device,
                                            progress=False, **fields) for name, fields in variants.items()}
    data = load_pack(pack)  # every check before examples' half-minute run, not after it
    for cfg in configs.values():
        check_pack(cfg, data, resolve(preset))
    if len(data) < steps * batch_size:  # a second epoch would add a grid and a checkpoint to our time
        raise ValueError(f"{pack} has {len(data)} images; {steps} steps of {batch_size} need {steps * batch_size} "
                         f"(pack synth-rooms --resolution 64 --limit {steps * batch_size})")
    seconds: dict[str, list[float]] = {"pytorch/examples": [], **{name: [] for name in variants}}
    with tempfile.TemporaryDirectory() as tmp:
        for rep in range(repeats):
            commands = {"pytorch/examples": [str(examples), "--dataset", "fake", "--batchSize", str(batch_size),
                                             "--niter", str(niter), "--outf", f"{tmp}/examples{rep}",
                                             "--manualSeed", "0", *["--accel"] * (device != "cpu")]}
            commands |= {name: ["-m", "dcgan_core", "train", "--config", str(save_config(cfg, f"{tmp}/ours{i}.json")),
                                "--out", f"{tmp}/ours{rep}-{i}"] for i, (name, cfg) in enumerate(configs.items())}
            for name, args in commands.items():
                t0 = time.perf_counter()
                done = subprocess.run([sys.executable, *args], capture_output=True, text=True)
                if done.returncode:
                    raise RuntimeError(f"{name} failed ({' '.join(args)}):\n{done.stderr[-2000:]}")
                seconds[name].append(round(time.perf_counter() - t0, 2))
    mean = {k: sum(v) / len(v) for k, v in seconds.items()}
    return {"kind": "side-by-side", "examples": str(examples), "niter": niter, "steps": steps,
            "batch_size": batch_size, "preset": preset, "device": device, "seconds": seconds,
            "speedup": {k: round(mean["pytorch/examples"] / v, 2) for k, v in mean.items()},
            "hardware": hardware(device)}
