"""Named random streams: every seed the project derives from a run's or a chapter's seed, in one table.

Code asks for a stream by name (and an index where it draws one per epoch, repeat or draw) instead of offsetting
seeds by hand, so a reader sees every derivation at once. The derivations are the ones the project has always used
(the training streams must keep them: trained runs keep their keys and weights), and some streams share seeds:
at a given seed, "init" equals "supervised trial" 0, and "train z", "samples" and "test draws" are seed + 1.
The generators differ in kind or use (a net's init, a z batch, a label draw), so a shared seed couples nothing
that one analysis compares.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch

STREAMS: dict[str, Callable[[int, int], int]] = {
    # training (core.train): the weights, the z of every step, the fixed sample grid, each epoch's data order
    "init": lambda seed, _: seed,
    "train z": lambda seed, _: seed + 1,
    "fixed z": lambda seed, _: seed + 2,
    "epoch order": lambda seed, epoch: seed * 100_003 + epoch,
    # controls: a second untrained net of the same seed (the control of "beats the untrained net")
    "second init": lambda seed, _: seed + 10_000,
    # positive controls: real images drawn as a sampler, noise features for the probes, fades between real images
    "real sampler": lambda seed, _: seed + 20_000,
    "noise features": lambda seed, _: seed + 30_000,
    "fade anchors": lambda seed, repeat: seed * 1000 + repeat + 40_000,
    # analyses: samples of a trained G beside those its snapshots were scored on
    "samples": lambda seed, _: seed + 1,
    "test draws": lambda seed, _: seed + 1,  # the probes' labelled draws scored on test (instruments.probes)
    "fixed context": lambda seed, _: 0,  # the same random z batch beside every batch-statistics query, any seed
    "walk anchors": lambda seed, repeat: seed * 1000 + repeat,
    "supervised trial": lambda seed, trial: seed + trial,
    "supervised draw": lambda seed, draw: seed + 1000 + draw,
    # instruments: the samples on which two scorers' readings are compared (issue 25)
    "scorer agreement": lambda seed, _: seed + 50_000,
    # the z of the GAN-type failure images the instruments train on, at held-aside seeds (instruments.negatives)
    "negatives": lambda seed, _: seed + 60_000,
    # Sec. 7's negative control: the same G's filters measured again on other z (studies.guidelines)
    "remeasure": lambda seed, _: seed + 70_000,
}


def stream_seed(name: str, seed: int, index: int = 0) -> int:
    """The integer seed of stream `name` for base seed `seed` (and `index`: an epoch, repeat or draw)."""
    if name not in STREAMS:
        raise ValueError(f"unknown random stream {name!r}; the streams are {', '.join(STREAMS)} (utils.streams)")
    return STREAMS[name](seed, index)


def torch_generator(name: str, seed: int, index: int = 0, device: str | torch.device = "cpu") -> torch.Generator:
    """A torch.Generator on `device` seeded for stream `name`."""
    return torch.Generator(device).manual_seed(stream_seed(name, seed, index))


def numpy_rng(name: str, seed: int, index: int = 0) -> np.random.Generator:
    """A numpy Generator seeded for stream `name`."""
    return np.random.default_rng(stream_seed(name, seed, index))
