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

from .features import to_float
from .models import Discriminator, ModelConfig


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


def random_search(config: ModelConfig, labelled: tuple[np.ndarray, np.ndarray], val: tuple[np.ndarray, np.ndarray],
                  test: tuple[np.ndarray, np.ndarray], n_trials: int, seed: int = 0, device: str = "cpu",
                  progress: bool = False) -> dict:
    """Choose the trial with the best validation accuracy; report its validation and test error."""
    if n_trials < 1:
        raise ValueError(f"n_trials must be >= 1, got {n_trials}")
    n_classes = int(max(labelled[1].max(), val[1].max(), test[1].max())) + 1
    results = []
    for i, trial in enumerate(tqdm(sample_trials(n_trials, seed), desc="supervised search", disable=not progress)):
        net = fit_supervised(config, *labelled, trial, n_classes, seed=seed + i, device=device)
        results.append((_accuracy(net, *val, device), trial, net))
    best_val, best, net = max(results, key=lambda r: r[0])
    return {"val_error": 1 - best_val, "test_error": 1 - _accuracy(net, *test, device), "trial": best.__dict__,
            "n_trials": n_trials, "val_errors": [1 - r[0] for r in results]}
