"""Discriminator features as a representation (Sec. 5.1): every conv layer, max-pooled to 4x4."""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from dcgan_core.core.models import Discriminator
from dcgan_core.utils.torch_utils import eval_mode, to_float


def feature_dim(D: Discriminator) -> int:
    """Length of `discriminator_features` for this D: 16 x the sum of conv widths."""
    return 16 * sum(w for w, _ in D.config.d_layers())


@torch.no_grad()
def discriminator_features(D: Discriminator, x: torch.Tensor | np.ndarray,
                           batch_size: int = 256) -> torch.Tensor:
    """Sec. 5.1: each conv layer's post-activation output, max-pooled to a 4x4 grid, flattened,
    concatenated (28672-d for authors-imagenet32, 7168-d for authors-svhn32). uint8 input is scaled
    to [-1, 1]. Runs D in eval mode, so BN uses running (or population) statistics; returns CPU float32."""
    device = next(D.parameters()).device
    out = []
    with eval_mode(D):
        for i in range(0, len(x), batch_size):
            layers = D.conv_outputs(to_float(x[i:i + batch_size], device))
            # Sec. 5.1: max-pool each layer to 4x4 (windows 8,4,4,2,2,1 for the ImageNet D)
            pooled = [F.adaptive_max_pool2d(h, 4).flatten(1) for h in layers]
            out.append(torch.cat(pooled, 1).float().cpu())
    return torch.cat(out) if out else torch.empty(0, feature_dim(D))


@torch.no_grad()
def set_population_bn_stats(model: nn.Module, images: torch.Tensor | np.ndarray,
                            batch_size: int = 256) -> None:
    """Authors' SVHN probe: replace BN running statistics by population statistics averaged over
    an unlabelled pool (cumulative average over batches, so the order does not matter)."""
    bns = [m for m in model.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]
    if any(not m.track_running_stats for m in bns):
        raise ValueError("this model uses batch-statistics BN (bn_eval='batch'); it keeps no statistics")
    device = next(model.parameters()).device
    saved = [(m.momentum, m.training) for m in bns]
    for m in bns:
        m.reset_running_stats()
        m.momentum = None  # None = cumulative moving average over all batches seen
    with eval_mode(model):
        for m in bns:
            m.train()
        forward = model.conv_outputs if isinstance(model, Discriminator) else model
        for i in range(0, len(images), batch_size):
            forward(to_float(images[i:i + batch_size], device))
    for m, (momentum, training) in zip(bns, saved):
        m.momentum = momentum
        m.train(training)
