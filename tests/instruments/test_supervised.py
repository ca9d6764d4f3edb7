import numpy as np
import torch

from dcgan_core.core.models import build
from dcgan_core.instruments.probes import (
    Splits,
)
from dcgan_core.instruments.supervised import SupervisedCNN, supervised_baseline


def test_supervised_cnn_has_the_discriminator_architecture_and_search_reports_both_errors():
    cfg = build("tiny16")[1].config
    net = SupervisedCNN(cfg, 4)
    assert net(torch.zeros(2, 1, 16, 16)).shape == (2, 4)
    assert [m.out_channels for m in net.modules() if isinstance(m, torch.nn.Conv2d)] == [32, 64]
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 120)
    x = np.zeros((120, 1, 16, 16), np.uint8)
    x[y == 1, :, :8] = 255
    splits = Splits(np.arange(60, 90), np.arange(0, 60))
    y_test = y[90:].copy()
    res = supervised_baseline(cfg, x, y, splits, 10, (x[90:], y_test), n_trials=2, n_draws=2)
    assert {"val_error", "test_errors", "trial", "val_errors"} <= set(res) and res["val_error"] < 0.2
    assert len(res["test_errors"]) == 2 and max(res["test_errors"]) < 0.2
    # the class count comes from the labelled pool: an unseen test label cannot widen the head
    y_test[0] = 7
    assert supervised_baseline(cfg, x, y, splits, 10, (x[90:], y_test), n_trials=1, n_draws=1)["n_classes"] == 2


