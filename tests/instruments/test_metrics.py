import numpy as np
import pytest

from dcgan_core.instruments.metrics import (
    COARSE,
    CopySearch,
    coarse_pixels,
    frechet_distance,
    kid,
    memorisation,
    pairwise_nn,
    precision_recall,
)


@pytest.fixture
def gauss():
    rng = np.random.default_rng(0)
    return rng.normal(size=(2000, 8)), rng.normal(size=(2000, 8))


def test_frechet_distance_of_a_shift_is_the_squared_shift(gauss):
    a, b = gauss
    assert frechet_distance(a, b) < 0.05
    assert abs(frechet_distance(a, b + 2.0) - 8 * 4.0) < 0.5  # ||mu||^2 = 8 dims x 2^2


def test_frechet_distance_sees_a_scale_change(gauss):
    a, b = gauss
    # same means, covariances I and 4I: Tr(I + 4I - 2 * 2I) = d
    assert abs(frechet_distance(a, 2 * b) - 8.0) < 0.6


def _mmd2_by_loops(x, y):
    """Unbiased MMD^2 with the cubic kernel, written out pair by pair (the reference)."""
    def k(u, v):
        return (u @ v / len(u) + 1) ** 3
    m = len(x)
    xx = sum(k(x[i], x[j]) for i in range(m) for j in range(m) if i != j) / (m * (m - 1))
    yy = sum(k(y[i], y[j]) for i in range(m) for j in range(m) if i != j) / (m * (m - 1))
    xy = sum(k(x[i], y[j]) for i in range(m) for j in range(m)) / (m * m)
    return xx + yy - 2 * xy


def test_kid_matches_the_unbiased_estimator_term_by_term():
    rng = np.random.default_rng(3)
    x, y = rng.normal(size=(12, 4)), rng.normal(size=(12, 4)) + 0.3
    assert kid(x, y, subsets=1, subset_size=12)[0] == pytest.approx(_mmd2_by_loops(x, y), rel=1e-10)


def test_kid_is_unbiased_near_zero_and_grows_with_a_shift(gauss):
    a, b = gauss
    # small subsets make the bias of the biased (diagonal-including) estimator large: about 2 x (E k(x,x) -
    # E k(x,y)) / m = 2 x (8 - 1) / 100 = 0.14 here; the unbiased one stays near 0
    same, _ = kid(a, b, subsets=50, subset_size=100)
    assert abs(same) < 0.02
    shifted, _ = kid(a, b + 1.0, subsets=5, subset_size=500)
    assert shifted > 10 * abs(same) + 0.1


@pytest.mark.parametrize("imag, warns", [(1e-2, True), (1e-5, False)])
def test_frechet_distance_warns_on_a_complex_square_root(gauss, monkeypatch, imag, warns):
    import warnings

    from dcgan_core.instruments import metrics
    real_sqrtm = metrics.linalg.sqrtm
    monkeypatch.setattr(metrics.linalg, "sqrtm", lambda m: real_sqrtm(m) + 1j * imag)
    a, b = gauss
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fd = frechet_distance(a, b)
    assert any("imaginary part" in str(w.message) for w in caught) == warns
    assert np.isfinite(fd) and fd < 0.05  # the real part is used either way


def test_precision_recall(gauss):
    a, b = gauss
    p, r = precision_recall(a, b)
    assert p > 0.8 and r > 0.8
    p, r = precision_recall(a, b * 0.1)  # collapsed fakes: inside the real manifold, cover little of it
    assert p > 0.9 and r < 0.3
    p, r = precision_recall(a, b + 10)
    assert p == 0 and r == 0


def test_pairwise_nn_matches_brute_force():
    rng = np.random.default_rng(1)
    q, ref = rng.normal(size=(7, 5)), rng.normal(size=(30, 5))
    d, i = pairwise_nn(q, ref, k=2, batch=3)
    brute = np.linalg.norm(q[:, None] - ref[None], axis=-1)
    assert np.array_equal(i, np.argsort(brute, 1)[:, :2])
    assert np.allclose(d, np.sort(brute, 1)[:, :2])


def test_memorisation_flags_copies_and_passes_fresh_samples():
    rng = np.random.default_rng(2)
    train, held, fresh = rng.normal(size=(500, 6)), rng.normal(size=(300, 6)), rng.normal(size=(300, 6))
    copies = train[:300] + rng.normal(scale=1e-3, size=(300, 6))
    m = memorisation(copies, train, held)
    assert m["near_copy_rate"] > 0.95 and m["median_ratio"] < 0.05
    m = memorisation(fresh, train, held)
    assert m["near_copy_rate"] < 0.05 and 0.8 < m["median_ratio"] < 1.25


def test_copy_search_is_exact_and_counts_a_mirror_image():
    rng = np.random.default_rng(3)
    train = rng.integers(0, 256, (200, 3, 8, 8), dtype=np.uint8)
    search = CopySearch(lambda x: x.reshape(len(x), -1).astype(np.float32), train, batch=64)  # several batches
    queries = rng.integers(0, 256, (20, 3, 8, 8), dtype=np.uint8)
    d, i = search.nearest(queries, k=3)
    flat = lambda x: x.reshape(len(x), -1).astype(float)
    brute = np.minimum(np.linalg.norm(flat(queries)[:, None] - flat(train)[None], axis=-1),
                       np.linalg.norm(flat(queries[..., ::-1])[:, None] - flat(train)[None], axis=-1))
    assert np.array_equal(i, np.argsort(brute, 1)[:, :3]) and np.allclose(d, np.sort(brute, 1)[:, :3], rtol=1e-4)
    mirrored = train[[5, 9]][..., ::-1]  # a flipped copy is found at distance 0
    assert np.allclose(search.distances(mirrored), 0) and np.array_equal(search.nearest(mirrored)[1][:, 0], [5, 9])
    assert len(set(search.nearest(train[:1], k=3)[1][0])) == 3  # the mirror's hits do not repeat an image
    with pytest.raises(ValueError, match="k=201 nearest training images asked of a search over 200"):
        search.nearest(queries, k=201)
    with pytest.raises(ValueError, match="at least one training image"):
        CopySearch(lambda x: x.reshape(len(x), -1), train[:0])


def test_coarse_pixels_are_block_means():
    x = np.arange(2 * 3 * 8 * 8, dtype=np.uint8).reshape(2, 3, 8, 8)
    c = coarse_pixels(x)
    assert c.shape == (2, 3 * (8 // COARSE) ** 2) and c.dtype == np.float32
    assert np.isclose(c[0, 0], x[0, 0, :COARSE, :COARSE].mean() / 255)


def test_bad_sizes_are_refused():
    with pytest.raises(ValueError, match=">= 2 samples"):
        frechet_distance(np.zeros((1, 3)), np.zeros((5, 3)))
    with pytest.raises(ValueError, match="exceeds"):
        pairwise_nn(np.zeros((2, 3)), np.zeros((1, 3)), k=2)
