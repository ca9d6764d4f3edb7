"""Sec. 6.2 on stand-ins: a tiny untrained D plays the trained one, and 16x16 grey RGB rooms carry a bright 'bed'
box and a dark 'window' box, so every step of the chapter (feature study, randomisation check, tables, figures,
claims and the chapter entry points) runs on a CPU in seconds."""

import json
from dataclasses import replace
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
import torch

from dcgan_core import plots
from dcgan_core.core.models import resolve
from dcgan_core.core.train import initial_models
from dcgan_core.instruments.detector import ObjectSegmenter
from dcgan_core.instruments.saliency import max_responses
from dcgan_core.studies import guided_backprop as GB
from dcgan_core.verdicts import rules

CLASSES = ["bed", "window"]
NOTEBOOK = Path(__file__).resolve().parents[2] / "notebooks" / "06_guided_backprop.ipynb"


def rooms(n: int, seed: int = 0, side: int = 16) -> tuple[np.ndarray, list]:
    """n grey RGB images with a bright square (class 0) and a dark square (class 1) at random places, and their boxes
    ([cls, x0, y0, x1, y1] in pixels, as the packs store them)."""
    rng = np.random.default_rng(seed)
    images = rng.integers(90, 130, (n, 3, side, side)).astype(np.uint8)
    boxes = []
    for img in images:
        row = []
        for cls, value in ((0, 240), (1, 10)):
            x, y = (int(v) for v in rng.integers(0, side - 5, 2))
            img[:, y:y + 5, x:x + 5] = value
            row.append([cls, x, y, x + 5, y + 5])
        boxes.append(row)
    return images, boxes


@pytest.fixture(scope="module")
def data():
    return rooms(24)


@pytest.fixture(scope="module")
def D():
    cfg = resolve("tiny16", channels=3, ndf=8)  # 16 features in the last conv layer; RGB, as the rooms are
    return initial_models(cfg, 7)[1].eval()  # stands in for a trained D (seed 7, not 0 or 1)


@pytest.fixture(scope="module")
def studies(D, data):
    images, boxes = data
    return {s: GB.seed_study(D, s, images, boxes, CLASSES, top=6, n_check=2, check_features=[0, 1]) for s in (0, 1)}


def test_seed_study_measures_every_net_and_leaves_the_global_stream_alone(D, data):
    images, boxes = data
    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    st = GB.seed_study(D, 0, images, boxes, CLASSES, top=6, n_check=2, check_features=[0])
    assert torch.equal(torch.rand(3), expected)  # initial_models seeds the global generator inside a fork only
    n = max_responses(D, images[:1]).shape[1]  # the features of D's last conv layer
    assert set(st["features"]) == set(GB.NETS) and all(len(f) == n for f in st["features"].values())
    f0 = st["features"]["trained D"][0]
    assert len(f0["top"]) == 6 and f0["best_class"] in (0, 1, None) and isinstance(f0["selective"], bool)
    # the random D is the init of the training seed, the control the seed's second init (utils.streams)
    random_d, second = st["nets"]["random D"], st["nets"]["second random D (control)"]
    assert all(torch.equal(a, b) for a, b in zip(random_d.state_dict().values(),
                                                 initial_models(D.config, 0)[1].state_dict().values()))
    assert not torch.equal(next(random_d.parameters()), next(second.parameters()))
    assert set(st["check"]) == {"guided backprop", "gradient", "gradient x input"}
    assert st["check"]["gradient"]["step"][0] == f"conv {len(D.convs) - 1}"


def test_without_boxes_nothing_is_selective_and_the_claims_are_not_testable(D, data):
    st = GB.seed_study(D, 0, data[0], None, [], top=6, n_check=1, check_features=[0])
    assert not any(f["selective"] for feats in st["features"].values() for f in feats)
    claims = GB.claims_over_seeds({0: st}, "stand-in rooms", has_boxes=False)
    assert [c.verdict for c in claims] == ["not testable at this scale"] * 2


def test_tables_claims_and_figures(studies, data):
    table = GB.selectivity_table(studies, CLASSES)
    assert all(f"| {name} |" in table for name in GB.NETS)
    random_table = GB.randomisation_table(studies)
    assert "| guided backprop |" in random_table and "rank corr / SSIM" in random_table
    assert GB.randomisation_summary(studies).startswith("With every conv block randomised")
    claims = GB.claims_over_seeds(studies, "stand-in rooms")
    assert [c.claim for c in claims] == ["trained D's features fire on objects (beds, windows)",
                                         "random filters show little to no discrimination"]
    assert all(c.verdict in rules.VERDICTS and c.seeds == [0, 1] for c in claims)
    assert claims[0].values["trained"] == [GB.selective_count(s["features"]["trained D"]) for s in studies.values()]
    assert claims[0].trend is None  # no earlier snapshot given
    at = {s: {100: 0, 500: GB.selective_count(st["features"]["trained D"])} for s, st in studies.items()}
    over = GB.claims_over_seeds(studies, "stand-in rooms", at=at, final_seen=1000)
    t = over[0].trend  # issue 27: the earlier snapshots' counts against the same random D
    assert list(t["images"]) == [100, 500, 1000] and t["means"][0] < t["means"][1] == t["means"][2]
    assert over[1].trend is None  # random filters do not change with training
    with_segmenter = GB.claims_over_seeds(studies, "stand-in rooms", detector=studies[0]["features"]["trained D"])
    control = next(c for c in with_segmenter[1].controls if c["kind"] == "negative")
    # no training seed enters the segmenter's maps: one measurement, not two seeds agreeing by construction
    assert control["effect"]["n"] == 1 and control["verdict"] in ("single run", "not reproduced")
    weighted = next(c for c in with_segmenter[1].controls if c["kind"] == "positive")
    assert weighted["effect"]["n"] == len(studies) == 2  # the weighted edges of each seed's random D's top images
    little = with_segmenter[1]  # read beyond the top images' edges, not beyond the boxes' area
    assert little.values["random_beyond_edges"] == [GB.beyond_edges_count(s["features"]["random D"])
                                                    for s in studies.values()]
    assert little.effect["name"] == "object-selective share beyond image edges"
    assert GB.most_selective(studies[0]["features"]["trained D"], 3) == [
        f["feature"] for f in sorted(studies[0]["features"]["trained D"], key=lambda f: f["p"])[:3]]
    first, selective = GB.seed_figures(studies[0], data[0], CLASSES, n=2)
    assert len(first.axes) == 2 and len(selective.axes) == 1
    for fig in (first, selective):
        plots.plt.close(fig)


def glue_names(notebook: Path) -> set[str]:
    cells = json.loads(notebook.read_text())["cells"]
    return {line.split()[-1] for c in cells if c["cell_type"] == "markdown"
            for line in "".join(c["source"]).splitlines() if line.startswith("```{glue:figure}")}


def test_the_chapter_entry_points(monkeypatch, D, data):
    images, boxes = data
    heldout = SimpleNamespace(images=images, boxes=boxes, meta={"box_classes": CLASSES})
    P = SimpleNamespace(model="rooms", models={"rooms": {"heldout": "rooms-heldout"}}, seeds=[1], device="cpu",
                        n_images=20, top=6, n_check=2, pack=lambda name: heldout, run=lambda model, seed: f"run-{seed}",
                        data=lambda model: "stand-in rooms",
                        detector=lambda model: ObjectSegmenter(3, len(CLASSES), width=4).eval(),
                        instrument_checks=lambda model, only: pytest.fail("6.2 reads no instrument's self-check"))
    loaded = []
    state = {"step": 10, "train_config": {"batch_size": 2}}
    monkeypatch.setattr(GB, "load_run", lambda run, device, name="last.pt": loaded.append((run, name)) or (None, D,
                                                                                                          state))
    monkeypatch.setattr(GB, "earlier_snapshots", lambda run, device: iter([(4, "epoch-0001.pt")]))
    study = GB.run(P)
    assert loaded == [("run-1", "last.pt"), ("run-1", "epoch-0001.pt")] and len(study["images"]) == 20
    assert study["has_boxes"] and study["final_seen"] == 20 and list(study["at"][1]) == [4]
    assert set(study["studies"]) == {1} and study["record"] == {}
    assert len(study["detector"]) == len(CLASSES)  # the positive control: one feature per class map
    figs = GB.figures(study, P)
    assert set(figs) == glue_names(NOTEBOOK)  # exactly the figures the notebook's markdown places
    for fig in figs.values():
        plots.plt.close(fig)
    tables = GB.tables(study, P)
    assert tables["selectivity"] == GB.selectivity_table(study["studies"], CLASSES, study["detector"])
    assert "| object segmenter's class maps (control) |" in tables["selectivity"]
    assert "| random D, randomly weighted edges |" in tables["selectivity"]
    assert tables["randomisation"].endswith(GB.randomisation_summary(study["studies"]))
    claims = GB.claims(study, P)
    assert [c.ours for c in claims] == [c.ours for c in GB.claims_over_seeds(
        study["studies"], "stand-in rooms", detector=study["detector"])]
    assert any(c["kind"] == "positive" for c in claims[0].controls)
    assert all("segmenter a" in c.scorer for c in claims)  # every claim read with an instrument names it
    kinds = [c["kind"] for c in claims[1].controls]  # little discrimination: both controls
    assert sorted(kinds) == ["negative", "positive"]
    decided = [replace(c, verdict="reproduced", why="stand-in") for c in claims]  # the stand-ins decide nothing
    read = GB.claims_over_seeds
    monkeypatch.setattr(GB, "claims_over_seeds", lambda *a, **kw: decided)
    assert [c.verdict for c in GB.claims(study, P)] == ["reproduced"] * len(claims)
    monkeypatch.setattr(GB, "claims_over_seeds", read)
    no_boxes = SimpleNamespace(images=images, boxes=None, meta={})
    study = GB.run(SimpleNamespace(**{**vars(P), "n_check": 1, "pack": lambda name: no_boxes}))
    assert not study["has_boxes"] and {c.verdict for c in GB.claims(study, P)} == {"not testable at this scale"}
