"""The probe chapters (Sec. 5.1, 5.2): the shared study's tables and comparisons, and each chapter's claims."""

import functools
from types import SimpleNamespace

import numpy as np

from dcgan_core.instruments.probes import NOISE, PIXELS, RANDOM, RANDOM2, TRAINED, make_splits, probe_study
from dcgan_core.studies import cifar_probe, svhn_probe
from dcgan_core.studies.probing import comparison, probe_table
from tests.conftest import blobs


def test_probe_study_pairs_draws_and_the_table_shows_seeds():
    X, y = blobs(300)
    splits = make_splits(200, 40)
    noise = np.random.default_rng(1).normal(size=X.shape).astype(np.float32)
    sets = {"signal": (X[:200], X[200:]), "noise": (noise[:200], noise[200:])}
    scores = {}
    for seed in (0, 1, 2):
        one = probe_study(sets, y[:200], y[200:], splits, [None, 5], c_grid=(1e-2,), draws_per_c=1, final_draws=4,
                          seed=seed, progress=False)
        scores.update({(n, k, seed): v for (n, k), v in one.items()})
    assert len(scores[("signal", 5, 0)]["errors"]) == 4 and scores[("signal", 5, 0)]["draw_sd"] is not None
    assert scores[("signal", None, 0)]["ci95"] is not None and scores[("signal", None, 0)]["draw_sd"] is None
    outcome, text, diffs = comparison(scores, "signal", "noise", 5, [0, 1, 2])
    assert outcome.verdict == "reproduced" and len(diffs) == 3 and len(diffs[0]) == 4
    assert comparison(scores, "noise", "signal", None, [0, 1, 2])[0].verdict == "not reproduced"
    assert "McNemar" in comparison(scores, "signal", "noise", None, [0, 1, 2])[1]
    table = probe_table(scores, [None, 5], [0, 1, 2])
    assert table.count("\n") == 5 and "all labels" in table and "seed sd" in table




def chapter_scores(per_class):
    """Scores of the probe chapters' feature sets on separable blobs: the trained D sees the classes clearly, the
    baselines through heavy noise (the two random inits alike), the noise features not at all (computed once per
    subset sizes: a fresh copy each call)."""
    return dict(_chapter_scores(tuple(per_class)))


@functools.cache
def _chapter_scores(per_class):
    X, y = blobs(300)
    splits = make_splits(200, 40)
    blurred = [X + np.random.default_rng(s).normal(scale=6.0, size=X.shape).astype(np.float32) for s in (1, 2, 3, 4)]
    noise = np.random.default_rng(5).normal(size=X.shape).astype(np.float32)
    names = [TRAINED, RANDOM, RANDOM2, PIXELS, "K-means, 4 centroids", NOISE]
    sets = {name: (x[:200], x[200:]) for name, x in zip(names, [X, *blurred, noise])}
    scores = {}
    for seed in (0, 1, 2):
        one = probe_study(sets, y[:200], y[200:], splits, list(per_class), c_grid=(1e-2,), draws_per_c=1,
                          final_draws=4, seed=seed, progress=False)
        scores.update({(n, k, seed): v for (n, k), v in one.items()})
    return scores


def test_the_transfer_chapter_claims_what_its_features_show():
    P = SimpleNamespace(per_class=[None, 5], seeds=[0, 1, 2])
    study = {"scores": chapter_scores(P.per_class), "data": "blobs", "is_cifar": False,
             "context": {"feature_dim": 20, "n_labelled": 200, "n_val": 40, "n_pool": 160, "n_test": 100}}
    claims = cifar_probe.claims(study, P)
    assert [c.section for c in claims] == ["5.1"] * 5 and set(cifar_probe.figures(study, P)) == {"fig-transfer-trends"}
    assert {c.verdict for c in claims[:4]} == {"reproduced"}  # the trained D beats every baseline it is put against
    for c in claims[:4]:  # each baseline beats noise, and the two random inits are not told one from the other
        assert {x["kind"]: x["verdict"] for x in c.controls}["positive"] == "reproduced"
        assert {x["kind"]: x["verdict"] for x in c.controls}["negative"] != "reproduced"
    assert claims[4].verdict == "not testable at this scale"  # the absolute number needs CIFAR-10 itself
    assert "20-d D features" in cifar_probe.tables(study, P)["probe"]


def test_the_few_label_chapter_pairs_the_supervised_cnn():
    P = SimpleNamespace(per_class=[5], seeds=[0, 1, 2])
    scores = chapter_scores(P.per_class)
    sup = {s: {"test_errors": [0.5] * 4, "val_error": 0.5, "n_trials": 1, "trial": {}} for s in P.seeds}
    study = {"scores": scores, "supervised": sup, "data": "blobs", "is_svhn": False,
             "context": {"feature_dim": 20, "n_labelled": 200, "n_val": 40, "n_pool": 160, "n_test": 100}}
    claims = svhn_probe.claims(study, P)
    assert [c.section for c in claims] == ["5.2"] * 5 and claims[0].verdict == "reproduced"  # D beats a 50% CNN
    assert "supervised CNN, seed 0" in svhn_probe.tables(study, P)["probe"]


def test_a_probe_at_a_snapshot_reads_that_snapshot_s_d(tmp_path):
    """Issue 27: the trained D's row at an earlier snapshot is the snapshot's weights through the same protocol."""
    from dcgan_core.core.checkpoint import load_run
    from dcgan_core.core.train import TrainConfig, train
    from dcgan_core.data.packed import load_pack
    from dcgan_core.instruments.probes import trained_features
    from dcgan_core.studies.probing import snapshot_scores
    from tests.conftest import two_mode_images, write_pack
    images = two_mode_images(256)
    labels = (images.reshape(256, -1).mean(1) > images.mean()).astype(np.int64)
    data = load_pack(write_pack(tmp_path / "labelled", images, labels=labels))
    cfg = TrainConfig.for_preset(str(tmp_path / "labelled"), "tiny16", epochs=2, batch_size=32, progress=False,
                                 snapshot_epochs=(1, 2))
    train(cfg, tmp_path / "run")
    splits = make_splits(256, 40)
    P = SimpleNamespace(device="cpu", bn_stats="population", per_class=[None], c_grid=(1e-2,), draws_per_c=1,
                        final_draws=2)
    at = snapshot_scores(P, tmp_path / "run", 0, data, data, splits)
    assert list(at) == [256]  # epoch 1; epoch 2's snapshot is the final D, read apart
    D1 = load_run(tmp_path / "run", "cpu", "epoch-0001.pt")[1]
    expected = probe_study({TRAINED: trained_features(D1, data.images, data.images, data.images[splits.pool],
                                                      "population")},
                           data.labels, data.labels, splits, [None], (1e-2,), 1, 2, 0, False)
    assert at[256][(TRAINED, None, 0)]["errors"] == expected[(TRAINED, None)]["errors"]
    pool = data.images[splits.pool]
    final = trained_features(load_run(tmp_path / "run", "cpu")[1], data.images, data.images, pool, "population")
    assert not np.allclose(final[0], trained_features(D1, data.images, data.images, pool, "population")[0])


def test_a_probe_claim_has_its_trend_over_the_gan_snapshots():
    P = SimpleNamespace(per_class=[None, 5], seeds=[0, 1, 2])
    scores = chapter_scores(P.per_class)
    early = {(TRAINED, k, s): scores[(NOISE, k, s)] for k in P.per_class for s in P.seeds}  # D knew nothing yet
    context = {"feature_dim": 20, "n_labelled": 200, "n_val": 40, "n_pool": 160, "n_test": 100, "images_seen": 9000}
    study = {"scores": scores, "data": "blobs", "is_cifar": False, "context": context,
             "at": {3000: early, 6000: {key: scores[key] for key in early}}}
    claims = cifar_probe.claims(study, P)
    t = claims[2].trend  # trained D against K-means
    assert list(t["images"]) == [3000, 6000, 9000] and t["verdicts"][0] != "reproduced"
    assert t["reading"] == "reproduced from 6,000 images on" and claims[2].verdict == "reproduced"
    partial = {**study, "at": {3000: dict(list(early.items())[:-1])}}  # a seed's row missing: not read
    assert cifar_probe.claims(partial, P)[2].trend is None and claims[4].trend is None  # the absolute number
