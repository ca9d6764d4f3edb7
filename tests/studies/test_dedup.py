
import json
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from dcgan_core import plots
from dcgan_core.studies import dedup
from tests.conftest import blocky_images

NOTEBOOK = Path(__file__).resolve().parents[2] / "notebooks" / "02_dedup.ipynb"


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
    x, sources, is_copy = dedup.duplicated_set(base, 40, 2, 5, seed=0)
    assert len(x) == 50 and len(sources) == 2 and is_copy.sum() == 10
    assert sorted(map(bytes, x[~is_copy])) == sorted(map(bytes, base[:40]))  # without the copies: the originals
    nn = np.array([np.argmin(((base[:40].astype(int) - img) ** 2).sum((1, 2, 3))) for img in x])
    assert all((nn == s).sum() >= 4 for s in sources)  # the source and its 5 copies (a shift may stray)


def glue_names(notebook: Path) -> set[str]:
    cells = json.loads(notebook.read_text())["cells"]
    return {line.split()[-1] for c in cells if c["cell_type"] == "markdown"
            for line in "".join(c["source"]).splitlines() if line.startswith("```{glue:figure}")}


def test_the_chapter_entry_points(monkeypatch):
    """run / figures / tables / claims wired on stand-ins: the hash finds every planted pair, the 16-bit control
    adds false pairs, the exact-bytes control finds exact copies only; no autoencoder is fit and nothing trained."""
    clean, train = blocky_images(120, seed=1), blocky_images(300, seed=2)
    packs = {"clean": SimpleNamespace(images=clean), "train": SimpleNamespace(images=train),
             "heldout": SimpleNamespace(images=blocky_images(40, seed=3))}
    P = SimpleNamespace(model="rooms", models={"rooms": {"data": "train", "heldout": "heldout", "steps": 5}},
                        clean_pack="clean", seeds=[0, 1], per_transform=10, radii=[0], inspect_pairs=5,
                        dup_unique=100, dup_sources=2, dup_copies=3, dup_steps=7, n_samples=30, device="cpu",
                        runs_root=Path("/nonexistent"), pack=packs.__getitem__,
                        judge=lambda model: SimpleNamespace(embed=None), data=lambda model: "stand-in rooms")

    def compare(images, truth, kinds, n_clean, seed, radii, embed):
        n = len(images)
        found = {"autoencoder, exact (paper)": truth,
                 "16-bit code (control)": np.concatenate([truth, [[0, 1], [2, 3]]]),  # two clean pairs collide
                 "exact bytes (SHA-1, control)": truth[kinds == 0], "random projection (control)": truth[:0],
                 dedup.ORACLE: truth}
        return {m: {**dedup.score_pairs(keys := dedup.pair_keys(p, n), truth, kinds, n), "images_per_s": 1.0,
                    "found_keys": keys} for m, p in found.items()}

    calls = {}
    monkeypatch.setattr(dedup, "compare_methods", compare)
    monkeypatch.setattr(dedup, "training_set_report", lambda pack, seed: calls.setdefault("report", (pack, seed))
                        and {"applied": False, "removed": 3, "input_count": 300, "groups": 2})

    def duplication(images, heldout, work, seeds, n_unique, n_sources, copies, model, device, n_samples):
        calls["duplication"] = (images, heldout, work, seeds, n_unique, n_sources, copies, model, device, n_samples)
        return {"rates": {"with duplicates": [0.2, 0.3], "after dedup": [0.0, 0.01], "random removal": [0.2, 0.25],
                          "planted copies removed": [0.0, 0.0]},
                "removed": {"with duplicates": [0, 0], "after dedup": [5, 6], "random removal": [5, 6],
                            "planted copies removed": [6, 6]},
                "set_size": 106, "byte_identical_removed": 0, "sources": np.array([3, 9])}
    monkeypatch.setattr(dedup, "duplication_study", duplication)
    monkeypatch.setattr(dedup, "hasher_snapshots", lambda images, truth, kinds, seed: calls.setdefault(
        "snapshots", []).append(seed) or {})

    study = dedup.run(P)
    assert calls["report"] == (packs["train"], 0)
    images, heldout, work, *rest = calls["duplication"]
    assert images is train and np.array_equal(heldout, packs["heldout"].images[:30])
    assert work == Path("/nonexistent/dedup")
    # the profile model's recipe for dup_steps steps, with step snapshots at fixed fractions of them (issue 27)
    assert rest == [[0, 1], 100, 2, 3, {"steps": 7, "snapshot_epochs": [], "snapshot_steps": [2, 4, 5]}, "cpu", 30]
    assert calls["snapshots"] == [0, 1] and study["hasher_seen"] == 10 * 180  # the hasher's 10 epochs of 180
    expected = dedup.plant(clean, 10, seed=0)
    assert all(np.array_equal(a, b) for a, b in zip((study["images"], study["truth"], study["kinds"]), expected))
    assert len(study["shown"]) == 5 and study["shown_planted"].all()  # the stand-in hash finds planted pairs only
    assert study["record"] == {"training_set": study["training_set"]}
    figs = dedup.figures(study, P)
    assert set(figs) == glue_names(NOTEBOOK)  # exactly the figures the notebook's markdown places
    for fig in figs.values():
        plots.plt.close(fig)
    tables = dedup.tables(study, P)
    assert tables["methods"] == dedup.method_table(study["per_seed"])
    assert tables["inspection"] == "5 of 60 collision pairs shown; 0 are not planted copies"
    assert tables["training_set"] == ("the paper's configuration run on it now: 3 of 300 training images in 2 "
                                      "collision groups")
    assert tables["duplication"].startswith("Training set with duplicates: 106 images")
    claims = dedup.claims(study, P)
    data = "stand-in rooms; 120 images of pack clean + 60 planted copies"
    assert [c.ours for c in claims] == [c.ours for c in (
        dedup.fp_claim(study["per_seed"], data), dedup.recall_claim(study["per_seed"], data),
        dedup.memorisation_claim(study["duplication"]["rates"], study["duplication"]["removed"], [0, 1], data))]
    assert [c.data for c in claims] == [data, data, "stand-in rooms; 106-image set with duplicates"]
    assert claims[0].values["false_positives"] == 0
    controls = {c["name"]: c for c in claims[0].controls}
    assert controls["16-bit code of the same encoder"]["ours"] == "4 of 124 pairs false"
    assert controls["exact bytes (SHA-1)"]["kind"] == "positive"
    assert {c["kind"] for c in claims[1].controls} == {"positive", "negative"}
    assert {c["kind"] for c in claims[2].controls} == {"positive", "negative"}


def test_the_hash_claims_are_read_on_shorter_fits_of_the_same_autoencoder():
    """Issue 27: each earlier 'snapshot' of the hash is an autoencoder fit for fewer epochs, scored the same way."""
    from dcgan_core.instruments.hashing import HasherConfig, SemanticHasher

    images, truth, kinds = dedup.plant(blocky_images(1000, seed=4), 20, seed=0)
    at = dedup.hasher_snapshots(images, truth, kinds, 0, epochs=(1, 3))
    n = len(images)
    assert list(at) == [n, 3 * n]  # the autoencoder's images seen (it fits on every image: fewer than fit_on)
    one = SemanticHasher(HasherConfig(seed=0, epochs=1)).fit(images, progress=False)
    direct = dedup.score_pairs(dedup.group_pairs(dedup.duplicate_groups(one.transform(images)), n), truth, kinds, n)
    assert at[n] == direct
    final = {0: {dedup.PAPER_HASH: at[3 * n]}}
    claim = dedup.recall_claim({0: {**{m: at[3 * n] for m in (dedup.PAPER_HASH, "exact bytes (SHA-1, control)",
                                                                 "random projection (control)", dedup.ORACLE)}}},
                               "x", at={0: {n: at[n]}}, final_seen=3 * n)
    assert list(claim.trend["images"]) == [n, 3 * n]
    assert dedup.hash_trend(final, dedup.fp_outcome, {0: {}}, 3 * n) is None  # no shorter fit: no trend
    with pytest.raises(ValueError, match="between 0 and the chapter's fit of 10 epochs"):  # before any fit
        dedup.hasher_snapshots(images, truth, kinds, 0, epochs=(5, 10))


def test_the_memorisation_claim_is_read_at_each_step_snapshot_of_every_condition(tmp_path, monkeypatch):
    """Issue 27: every condition's run keeps snapshots at the same steps (equal images seen), each read from that
    snapshot's G."""
    from dcgan_core.core.checkpoint import load_run

    monkeypatch.setattr(dedup, "default_workers", lambda device: 1)
    mean_pixel = lambda samples, *a: {"to_duplicated": float(np.asarray(samples).mean()) / 255}  # noqa: E731
    monkeypatch.setattr(dedup, "copies_of", mean_pixel)  # a reading that differs between Gs
    train = blocky_images(1000, seed=5, side=16)[:, :1]
    model = dedup.experiment_model({"preset": "tiny16", "batch_size": 32, "log_every": 4, "epochs": 3}, 8)
    study = dedup.duplication_study(train, train[:20], tmp_path, [0], 900, 2, 100, model, "cpu", 20, progress=False)
    assert sorted(study["at"]) == [2 * 32, 4 * 32, 6 * 32] and study["final_seen"] == 8 * 32
    assert set(study["at"][128]) == set(dedup.CONDITIONS)
    run = next(p for p in (tmp_path / "runs").glob("dup-with-duplicates-s0-*") if p.is_dir())
    from dcgan_core.instruments.reference import generate_uint8
    from dcgan_core.utils.streams import stream_seed
    G = load_run(run, "cpu", "step-00000004.pt")[0]
    assert study["at"][128]["with duplicates"] == [mean_pixel(generate_uint8(G, 20, stream_seed("samples", 0)))[
        "to_duplicated"]]
    assert study["at"][128]["with duplicates"] != [study["rates"]["with duplicates"][0]]  # not the final G's
    claim = dedup.memorisation_claim(study["rates"], study["removed"], [0], "x", study["at"], study["final_seen"])
    assert list(claim.trend["images"]) == [64, 128, 192, 256]  # mean pixel > the copy bar: the rule reads parts
