"""Evaluation of trained runs: the held-out halves, the ladder, the memoriser control and the claims' controls."""

import numpy as np
import pytest

from dcgan_core.instruments import reference
from tests.conftest import PixelJudge


def test_reference_halves_are_disjoint_and_the_ladder_orders_degradation(packs):
    _, held = packs
    ref = reference.Reference(PixelJudge(), held, 80)
    assert len(ref.a) == len(ref.b) == 80
    flat = lambda x: {r.tobytes() for r in x}  # noqa: E731
    assert not flat(ref.a) & flat(ref.b)  # no image in both halves (the set has noise: all distinct)
    ladder = ref.ladder()
    fd = [ladder[k]["fd"] for k in ("real (held-out floor)", "real, blurred sigma 0.5", "real, blurred sigma 2")]
    assert fd[0] < fd[2] and fd[1] < fd[2]
    with pytest.raises(ValueError, match="need >= 4"):
        reference.Reference(PixelJudge(), _tiny(held), 10)


def _tiny(pack):
    class Tiny:
        images = pack.images[:3]

        def __len__(self):
            return 3
    return Tiny()


def test_memoriser_samples_are_noisy_training_images(packs):
    train_pack, _ = packs
    m = reference.memoriser_samples(train_pack, 10, seed=0)
    x = np.asarray(train_pack.images, float)
    d = np.abs(m[:, None].astype(float) - x[None]).mean((2, 3, 4)).min(1)
    assert m.shape == (10, 1, 16, 16) and (d < 2 * reference.MEMORISER_NOISE).all()
