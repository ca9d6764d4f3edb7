"""Sec. 5.2 baseline: a purely supervised CNN with the discriminator's architecture, trained on the same
labelled subset and tuned by random search on the validation split (the paper: 64 trials, 28.87%
*validation* error). We report both the validation and the test error of the chosen trial.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn
from tqdm import tqdm

from dcgan_core.core.models import Discriminator, ModelConfig
from dcgan_core.instruments.probes import draw_labelled, scored_draws
from dcgan_core.utils.streams import stream_seed
from dcgan_core.utils.torch_utils import to_float


class SupervisedCNN(nn.Module):
    """The discriminator's conv stack (same widths, kernels, BN, LeakyReLU) with an n-way linear head."""

    def __init__(self, config: ModelConfig, n_classes: int, dropout: float = 0.0):
        super().__init__()
        self.d = Discriminator(config)
        in_features = self.d.head[-1].in_features if config.d_output == "dense" else self.d.head[0].in_channels
        size = config.resolution // math.prod(s for _, s in config.d_layers())
        if config.d_output != "dense":
            in_features *= size * size
        self.d.head = nn.Sequential(nn.Flatten(), nn.Dropout(dropout), nn.Linear(in_features, n_classes))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.d.head(self.d.conv_outputs(x)[-1])


@dataclass(frozen=True)
class Trial:
    lr: float
    weight_decay: float
    epochs: int
    dropout: float


def sample_trials(n: int, seed: int = 0) -> list[Trial]:
    """Random search space: log-uniform lr and weight decay, epochs, dropout."""
    rng = np.random.default_rng(seed)
    return [Trial(float(10 ** rng.uniform(-4, -2.5)), float(10 ** rng.uniform(-6, -3)), int(rng.choice([30, 60, 100])),
                  float(rng.choice([0.0, 0.25, 0.5]))) for _ in range(n)]


def _accuracy(net: nn.Module, x: np.ndarray, y: np.ndarray, device: str) -> float:
    net.eval()
    with torch.no_grad():
        pred = torch.cat([net(to_float(x[i:i + 512], device)).argmax(1).cpu() for i in range(0, len(x), 512)])
    return float((pred.numpy() == y).mean())


def fit_supervised(config: ModelConfig, x: np.ndarray, y: np.ndarray, trial: Trial, n_classes: int,
                   seed: int = 0, device: str = "cpu", batch_size: int = 64) -> SupervisedCNN:
    """Train one trial from scratch on the labelled subset (uint8 images)."""
    torch.manual_seed(seed)
    net = SupervisedCNN(config, n_classes, trial.dropout).to(device)
    opt = torch.optim.Adam(net.parameters(), lr=trial.lr, weight_decay=trial.weight_decay)
    g = torch.Generator().manual_seed(seed)
    xt, yt = torch.from_numpy(np.asarray(x)), torch.from_numpy(np.asarray(y)).long()
    for _ in range(trial.epochs):
        net.train()
        for idx in torch.randperm(len(xt), generator=g).split(batch_size):
            if len(idx) < 2:
                continue
            loss = F.cross_entropy(net(to_float(xt[idx], device)), yt[idx].to(device))
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
    return net


def supervised_baseline(config: ModelConfig, images: np.ndarray, labels: np.ndarray, splits, per_class: int,
                        test: tuple[np.ndarray, np.ndarray], n_trials: int, n_draws: int, seed: int = 0,
                        device: str = "cpu", progress: bool = False) -> dict:
    """Sec. 5.2's supervised CNN, tuned as fairly as the probe: random search over `n_trials` on validation
    (one labelled draw), then the chosen trial trained on the first `n_draws` of the probe's own test draws,
    so its test errors pair draw by draw with the SVM's (`probes.scored_draws`)."""

    if n_trials < 1 or n_draws < 1:
        raise ValueError(f"n_trials and n_draws must be >= 1, got {n_trials} and {n_draws}")
    n_classes = int(labels[splits.pool].max()) + 1  # from the labelled pool, never from the test labels
    idx = draw_labelled(labels, splits.pool, per_class, np.random.default_rng(seed))
    val = (images[splits.val], labels[splits.val])
    val_acc = []
    for i, trial in enumerate(tqdm(sample_trials(n_trials, seed), desc="supervised search", disable=not progress)):
        net = fit_supervised(config, images[idx], labels[idx], trial, n_classes,
                             seed=stream_seed("supervised trial", seed, i), device=device)
        val_acc.append((_accuracy(net, *val, device), trial))
    best_acc, best = max(val_acc, key=lambda r: r[0])
    errors = []
    for j, d in enumerate(tqdm(scored_draws(labels, splits.pool, per_class, n_draws, seed)[:n_draws],
                               desc="supervised draws", disable=not progress)):
        net = fit_supervised(config, images[d], labels[d], best, n_classes,
                             seed=stream_seed("supervised draw", seed, j), device=device)
        errors.append(1 - _accuracy(net, *test, device))
    return {"val_error": 1 - best_acc, "test_errors": errors, "trial": best.__dict__, "n_trials": n_trials,
            "n_classes": n_classes,
            "val_errors": [1 - a for a, _ in val_acc]}
