
import numpy as np
import pytest

from dcgan_core.studies import dedup


def blocky_images(n: int, seed: int = 0, side: int = 32) -> np.ndarray:
    """n distinct RGB images: random 4x4 colour blocks upsampled to `side` px, plus a little noise."""
    rng = np.random.default_rng(seed)
    x = np.kron(rng.integers(0, 256, (n, 3, 4, 4)), np.ones((side // 4, side // 4)))
    return np.clip(x + rng.normal(0, 3, x.shape), 0, 255).astype(np.uint8)


@pytest.fixture(scope="module")
def images():
    return blocky_images(1200)


def test_score_pairs_on_a_hand_example():
    truth, kinds = np.array([[0, 4], [1, 5]]), np.array([0, 1])
    found = dedup.pair_keys(np.array([[4, 0], [2, 3]]), 6)  # one planted pair (reversed), one false
    s = dedup.score_pairs(found, truth, kinds, 6)
    assert (s["pairs"], s["true_positives"], s["false_positives"], s["precision"]) == (2, 1, 1, 0.5)
    assert s["recall"]["exact copy"] == 1.0 and s["recall"]["JPEG"] == 0.0


def test_feature_neighbours_find_exact_copies_whatever_the_order():
    rng = np.random.default_rng(0)
    feats = rng.normal(0, 1, (50, 8)).astype(np.float32)
    feats = np.concatenate([feats, feats[[4, 9, 9]]])  # 50 = copy of 4; 51, 52 = copies of 9
    pairs = {tuple(sorted(p)) for p in dedup.feature_pairs(feats, feats[:50]).tolist()}
    assert (4, 50) in pairs and {(9, 51), (9, 52), (51, 52)} & pairs
    assert all(a != b for a, b in pairs)


def test_duplicated_set_repeats_its_sources():
    base = blocky_images(50)
    x, sources = dedup.duplicated_set(base, 40, 2, 5, seed=0)
    assert len(x) == 50 and len(sources) == 2
    nn = np.array([np.argmin(((base[:40].astype(int) - img) ** 2).sum((1, 2, 3))) for img in x])
    assert all((nn == s).sum() >= 4 for s in sources)  # the source and its 5 copies (a shift may stray)
