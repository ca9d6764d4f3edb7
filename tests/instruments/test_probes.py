import numpy as np
import pytest
import torch

from dcgan_core.core.models import build
from dcgan_core.instruments.probes import (
    KMeansFeatures,
    Splits,
    SVMProbe,
    d_features,
    draw_labelled,
    make_splits,
    noise_features,
    scored_draws,
)
from tests.conftest import blobs


def test_splits_are_disjoint_and_sized():
    s = make_splits(100, 20, seed=0)
    assert len(s.val) == 20 and len(s.pool) == 80
    assert not set(s.val) & set(s.pool) and set(s.val) | set(s.pool) == set(range(100))
    assert not np.array_equal(make_splits(100, 20, seed=1).val, s.val)
    with pytest.raises(ValueError, match="overlap"):
        Splits(np.array([1, 2]), np.array([2, 3]))
    with pytest.raises(ValueError, match="n_val"):
        make_splits(10, 10)


def test_labelled_draws_are_class_balanced_and_from_the_pool():
    y = np.repeat(np.arange(4), 25)
    pool = np.arange(10, 100)
    idx = draw_labelled(y, pool, 5, np.random.default_rng(0))
    assert set(idx) <= set(pool) and np.bincount(y[idx]).tolist() == [5, 5, 5, 5]
    with pytest.raises(ValueError, match="fewer than per_class"):
        draw_labelled(y, pool, 20, np.random.default_rng(0))


def test_probe_chooses_c_on_validation_only_and_never_sees_test_data():
    X, y = blobs(400)
    splits = make_splits(300, 60, seed=0)
    X_fit = X[:300].copy()
    X_test, y_test = X[300:], y[300:]
    probe = SVMProbe(per_class=10, c_grid=(1e-4, 1e-2, 1.0), draws_per_c=3, final_draws=5).fit(X_fit, y[:300], splits)
    chosen = probe.best_c_
    assert set(probe.val_accuracy_) == {1e-4, 1e-2, 1.0}
    assert chosen == max(probe.val_accuracy_, key=probe.val_accuracy_.get)
    shuffled = probe.score(X_test, np.random.default_rng(1).permutation(y_test))
    assert probe.best_c_ == chosen  # the test set cannot move the choice
    score = probe.score(X_test, y_test)
    assert score["error_mean"] < 0.1 < shuffled["error_mean"]
    assert score["draws"] == 5 and score["n_labels"] == 40


def test_rows_outside_pool_and_validation_are_never_read():
    X, y = blobs(200)
    splits = Splits(np.arange(0, 40), np.arange(40, 160))
    X_poisoned = X.copy()
    X_poisoned[160:] = np.nan  # if the protocol touched these rows, LinearSVC would raise
    SVMProbe(per_class=5, c_grid=(1e-2,), draws_per_c=2, final_draws=2).fit(X_poisoned, y, splits).score(X[:20], y[:20])


def test_random_features_score_near_chance():
    X, y = blobs(400)
    noise = np.random.default_rng(0).normal(size=X.shape).astype(np.float32)
    splits = make_splits(300, 60)
    s = SVMProbe(per_class=10, c_grid=(1e-2,), draws_per_c=1, final_draws=5).fit(noise[:300], y[:300], splits)
    assert s.score(noise[300:], y[300:])["error_mean"] > 0.5


def test_kmeans_features_shape_and_determinism():
    imgs = np.random.default_rng(0).integers(0, 256, (20, 1, 16, 16), dtype=np.uint8)
    km = KMeansFeatures(n_centroids=8, patch=5, n_patches=500, iters=3).fit(imgs)
    f = km.transform(imgs)
    assert f.shape == (20, 32)
    assert np.allclose(f.mean(0), 0, atol=1e-4) and (f.std(0) <= 1 + 1e-4).all()  # standardised on the fit set
    f2 = KMeansFeatures(n_centroids=8, patch=5, n_patches=500, iters=3).fit(imgs).transform(imgs)
    assert np.array_equal(f, f2)


def test_population_bn_stats_do_not_touch_the_original_d():
    _, D = build("tiny16")
    before = {k: v.clone() for k, v in D.state_dict().items()}
    imgs = np.random.default_rng(0).integers(0, 256, (40, 1, 16, 16), dtype=np.uint8)
    pop = d_features(D, imgs[:5], pool_images=imgs)
    run = d_features(D, imgs[:5])
    assert pop.shape == run.shape == (5, 16 * (32 + 64)) and not np.allclose(pop, run)
    assert all(torch.equal(before[k], v) for k, v in D.state_dict().items())


def test_test_draws_are_the_same_for_every_feature_set_and_seed_dependent():
    y = np.repeat(np.arange(4), 25)
    pool = np.arange(100)
    a, b = scored_draws(y, pool, 5, 3, seed=0), scored_draws(y, pool, 5, 3, seed=0)
    assert all(np.array_equal(u, v) for u, v in zip(a, b)) and len(a) == 3
    assert not np.array_equal(scored_draws(y, pool, 5, 3, seed=1)[0], a[0])
    assert len(scored_draws(y, pool, None, 3, seed=0)) == 1


def test_c_at_the_grid_edge_and_non_converged_fits_are_flagged():
    X, y = blobs(300)
    splits = make_splits(200, 40)
    s = SVMProbe(per_class=5, c_grid=(1e-6, 1e-5), draws_per_c=1, final_draws=2).fit(X[:200], y[:200], splits)
    score = s.score(X[200:], y[200:])
    assert score["c_at_edge"] and score["fits"] == 4 and 0 <= score["not_converged"] <= 4
    mid = SVMProbe(per_class=5, c_grid=(1e-6, 1e-2, 1e6), draws_per_c=1, final_draws=1).fit(X[:200], y[:200], splits)
    assert mid.score(X[200:], y[200:])["c_at_edge"] == (mid.best_c_ != 1e-2)


def test_all_labels_reports_the_binomial_spread_of_the_test_error():
    X, y = blobs(400, sep=0.6)
    splits = make_splits(300, 60)
    probe = SVMProbe(per_class=None, c_grid=(1e-2,)).fit(X[:300], y[:300], splits)
    s = probe.score(X[300:], y[300:])
    p = s["error_mean"]
    assert s["draws"] == 1 and 0 < p < 1 and len(s["wrong"]) == 100
    assert s["ci95"] == pytest.approx(1.96 * np.sqrt(p * (1 - p) / 100))


def test_probe_refuses_an_unlabelled_pack(tmp_path):
    from dcgan_core.data import load_pack
    from dcgan_core.instruments.probes import require_labels
    from tests.conftest import two_mode_images, write_pack
    pack = load_pack(write_pack(tmp_path / "u", two_mode_images(4)))
    with pytest.raises(ValueError, match="has no labels.npy"):
        require_labels(labelled=pack)


def test_noise_features_carry_no_image_and_are_seeded():
    a, b = noise_features(10, 4, seed=1)
    assert a.shape == (10, 64) and b.shape == (4, 64) and a.dtype == np.float32
    assert np.array_equal(noise_features(10, 4, seed=1)[0], a) and not np.array_equal(noise_features(10, 4, 2)[0], a)
