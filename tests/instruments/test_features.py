"""Sec. 5.1 discriminator features: every conv layer, max-pooled to 4x4, concatenated."""

import numpy as np
import torch
from torch import nn

from dcgan_core.core.models import build
from dcgan_core.instruments.features import discriminator_features, feature_dim, set_population_bn_stats


def test_feature_dims_of_released_models():
    _, D = build("authors-imagenet32")
    assert feature_dim(D) == 28672
    assert discriminator_features(D, torch.zeros(3, 3, 32, 32, dtype=torch.uint8)).shape == (3, 28672)
    _, D = build("authors-svhn32")
    assert discriminator_features(D, torch.zeros(3, 3, 32, 32, dtype=torch.uint8)).shape == (3, 7168)


def test_features_restore_training_mode_and_are_max_pooled():
    _, D = build("tiny16")
    D.train()
    x = torch.randint(0, 256, (4, 1, 16, 16), dtype=torch.uint8)
    f = discriminator_features(D, x)
    assert D.training
    first = D.eval().conv_outputs(x.float() / 127.5 - 1)[0]  # (4, w, 8, 8) -> 2x2 max windows
    w = first.shape[1]
    assert torch.allclose(f[:, :w * 16].view(4, w, 4, 4), nn.functional.max_pool2d(first, 2))


def test_population_statistics_are_the_pool_average():
    _, D = build("tiny16")
    imgs = np.random.default_rng(0).integers(0, 256, (64, 1, 16, 16), dtype=np.uint8)
    set_population_bn_stats(D, imgs, batch_size=16)
    bn = next(m for m in D.modules() if isinstance(m, nn.BatchNorm2d))
    with torch.no_grad():
        pre = D.convs[1][0](D.convs[0](torch.from_numpy(imgs).float() / 127.5 - 1))  # input of the first BN
    assert torch.allclose(bn.running_mean, pre.mean((0, 2, 3)), atol=1e-5)
    assert bn.momentum == 0.1 and D.training  # restored afterwards
