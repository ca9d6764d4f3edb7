"""Evaluation of trained runs: the held-out halves, the ladder, the memoriser control and the claims' controls."""

import numpy as np
import pytest
import torch

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


def test_memorisers_alter_training_images_as_named(packs):
    train_pack, _ = packs
    x = np.asarray(train_pack.images, float)
    nearest = lambda m: np.abs(m[:, None].astype(float) - x[None]).mean((2, 3, 4)).min(1)  # noqa: E731
    noise = reference.memoriser_samples(train_pack, 10, seed=0)
    assert noise.shape == (10, 1, 16, 16) and (nearest(noise) < 2 * reference.MEMORISER_NOISE).all()
    flipped = reference.memoriser_samples(train_pack, 10, seed=0, kind="flipped")
    assert (nearest(flipped[..., ::-1]) == 0).all()  # exact mirror images of training images
    for kind in reference.MEMORISERS:
        m = reference.memoriser_samples(train_pack, 10, seed=1, kind=kind)
        assert m.dtype == np.uint8 and np.array_equal(m, reference.memoriser_samples(train_pack, 10, 1, kind))
    with pytest.raises(ValueError, match="memoriser kind"):
        reference.memoriser_samples(train_pack, 10, kind="blurred")


@pytest.fixture(scope="module")
def rooms(tmp_path_factory):
    from tests.conftest import pack
    root = tmp_path_factory.mktemp("rooms")
    return (pack("synth-rooms", root / "train", resolution=32, limit=600, workers=1),
            np.asarray(pack("synth-rooms", root / "held", resolution=32, limit=300, seed=1, workers=1).images))


def test_every_memoriser_is_caught_and_unseen_images_pass(rooms):
    from dcgan_core.instruments.metrics import CopySearch, coarse_pixels, memorisation_from
    from dcgan_core.verdicts import rules
    train, held = rooms
    searches = {"pixel": CopySearch(coarse_pixels, train.images), "feature": CopySearch(PixelJudge().embed,
                                                                                      train.images)}
    ref_d = {s: search.distances(held[:150]) for s, search in searches.items()}

    def verdict(per_seed: list[np.ndarray]) -> str:
        m = [{s: memorisation_from(search.distances(x), ref_d[s]) for s, search in searches.items()} for x in per_seed]
        return rules.memorisation({s: [r[s]["near_copy_rate"] for r in m] for s in searches},
                                  {s: [r[s]["median_ratio"] for r in m] for s in searches}, "reproduced").verdict
    for kind in reference.MEMORISERS:  # a copying G cannot slip past by any of these
        assert verdict([reference.memoriser_samples(train, 150, seed, kind) for seed in (0, 1, 2)]) == \
            "not reproduced", kind
    unseen = held[150:]
    assert verdict([unseen[i::3] for i in range(3)]) != "not reproduced"  # no copies by construction


def test_the_failure_suite_is_held_out_from_every_instrument_s_training(packs):
    from dcgan_core.instruments.judges import DEGRADATIONS, TRAINED_CHECKERBOARDS, degrade
    _, held = packs
    ref = reference.Reference(PixelJudge(), held, 40)
    untrained = np.zeros((40, 1, 16, 16), np.uint8)
    first = np.full((40, 1, 16, 16), 7, np.uint8)
    suite = ref.failure_suite(untrained, {"first snapshot (epoch-0001) samples": first})
    assert all(v.shape == (40, 1, 16, 16) and v.dtype == np.uint8 for v in suite.values())
    assert np.array_equal(suite["first snapshot (epoch-0001) samples"], first)
    from dcgan_core.instruments.negatives import seen_kind
    unseen = {name for name in suite if not seen_kind(name)}
    assert unseen == {"pixelated 4x", "shuffled 4-px patches"}  # kinds no instrument saw any image of
    # the judges trained on blur, blobs, flat images, quarter-image shuffles and 2x/8x checkerboards
    assert set(DEGRADATIONS) == {"blur", "shuffle", "blobs", "flat", "checkerboard"}
    assert 4 not in TRAINED_CHECKERBOARDS and "checkerboard (transposed-conv upsampling 4x)" in suite
    assert not any(kind in name for name in unseen for kind in ("blur", "blobs", "flat", "checkerboard"))
    # the judges' shuffle negatives use quarter-image patches: the suite's 4-px shuffle is another kind at 16 px+
    x = torch.zeros(1, 1, 32, 32)
    x[..., :16, :] = 1
    shuffled = degrade(x, "shuffle", torch.Generator().manual_seed(0))
    assert all((shuffled[0, 0, i:i + 8, j:j + 8].unique().numel() == 1)
               for i in range(0, 32, 8) for j in range(0, 32, 8))  # whole 8-px tiles: not the suite's 4-px ones
    check = ref.judge_check(untrained, {"first snapshot (epoch-0001) samples": first})
    assert set(check) == {"real", *suite}
