"""Evaluation of trained runs: the held-out halves, the ladder, the memoriser control and the claims' controls."""

import numpy as np
import pytest

from dcgan_core.core.train import TrainConfig, train
from dcgan_core.data.packed import load_pack
from dcgan_core.instruments import reference
from dcgan_core.studies import training
from dcgan_core.verdicts import rules
from tests.conftest import PixelJudge


def test_evaluate_run_and_claims_with_their_controls(packs, tmp_path):
    train_pack, held = packs
    runs = []
    for seed in (0, 1, 2):
        cfg = TrainConfig.for_preset(str(train_pack.path), "tiny16", steps=8, batch_size=32, seed=seed,
                                     progress=False, snapshot_epochs=(1,))
        train(cfg, tmp_path / f"r{seed}")
        runs.append(tmp_path / f"r{seed}")
    ref = reference.Reference(PixelJudge(), held, 64)
    evs = [training.evaluate_run(r, train_pack, ref, seed=s, device="cpu") for s, r in enumerate(runs)]
    ev = evs[0]
    assert list(ev["snapshots"]) == ["epoch-0001.pt", "last.pt"]
    assert ev["snapshots"]["last.pt"]["images_seen"] == 8 * 32
    memo = ev["memorisers"]["noise"]["pixel"]
    assert memo["near_copy_rate"] > 0.9 and memo["median_ratio"] < 0.5  # the control copies
    assert set(ev["memorisers"]) == set(reference.MEMORISERS) and ev["first_snapshot"] == "epoch-0001.pt"
    assert ev["neighbours"]["pixel"].shape == (*training.SHOWN_NEIGHBOURS, 1, 16, 16)
    assert ev["memorisation"]["feature"]["gen_to_train"].shape == (64,)  # every sample searched
    ladder = ref.ladder()
    q = training.quality_claim("two-mode", evs, [0, 1, 2], ladder, "test data", "Fig. 3")
    assert {(c["name"], c["kind"]) for c in q.controls} == {
        ("real training images as samples", "positive"), ("untrained G", "negative"),
        ("real images blurred sigma 2", "negative"), ("G collapsed to 4 of its samples", "negative")}
    collapsed = next(c for c in q.controls if c["name"].startswith("G collapsed"))
    assert collapsed["verdict"] not in rules.PASSING  # four distinct images are no sample of the data
    real = next(c for c in q.controls if c["kind"] == "positive")
    # real images pass the quality rule: FD clearly; the rate gap of 64 images is too noisy to settle on 3 draws
    fd = next(part for part in real["parts"] if part["name"] == "judge FD")
    assert fd["passing"] == fd["n"] == 3 and fd["verdict"] == "reproduced"
    assert real["verdict"] in ("reproduced", "borderline")
    assert q.code == "dcgan_core.verdicts.rules.quality" and q.data == "test data" and q.seeds == [0, 1, 2]
    # issue 27: the rule at every snapshot, one value per seed (last.pt is the epoch's snapshot: one entry)
    rule_alone = rules.quality(q.values["fd_final"], q.values["fd_bar"], q.values["rate_gap"]).verdict
    assert list(q.trend["images"]) == [256] and q.trend["verdicts"][-1] == rule_alone  # before its controls
    early = {"images_seen": 128, "fd": 1e3, "rate_gap": 1.0, "precision": 0.0}
    grown = [{**e, "snapshots": {"epoch-0000.pt": early, **e["snapshots"]}} for e in evs]
    t = training.quality_claim("two-mode", grown, [0, 1, 2], ladder, "test data", "Fig. 3").trend
    assert list(t["images"]) == [128, 256] and t["verdicts"][0] == "not reproduced"
    uneven = [{**e, "snapshots": {"last.pt": {**e["snapshots"]["last.pt"], "images_seen": 100 * (i + 1)}}}
              for i, e in enumerate(evs)]  # no snapshot shared by every seed: no trend, and no crash
    assert training.quality_claim("two-mode", uneven, [0, 1, 2], ladder, "test data", "Fig. 3").trend is None
    key = {"judge FD": "fd", "largest rate gap": "rate_gap"}[t["statistic"]]  # the final's deciding part
    assert list(t["means"]) == [early[key], pytest.approx(np.mean([e["snapshots"]["last.pt"][key] for e in evs]))]
    m = training.memorisation_claim("two-mode", evs, [0, 1, 2], "reproduced", "test data")
    controls = {c["name"]: c for c in m.controls}
    assert len(controls) == 1 + len(reference.MEMORISERS) and "at the end" in m.claim
    # the noise memoriser fails the memorisation rule (the others are caught on rooms: tests/instruments)
    assert controls["memoriser (training images + noise)"]["verdict"] == "not reproduced"
    # unseen held-out images are no copies; one measurement, as no training seed enters it (every seed's evaluation
    # repeats the same distances)
    held_out = controls["held-out real images the model never saw"]
    assert held_out["verdict"] == "single run" and all(p["n"] == 1 for p in held_out["parts"])
    assert len({tuple((e["unseen_memorisation"][s]["near_copy_rate"], e["unseen_memorisation"][s]["median_ratio"])
                      for s in ("pixel", "feature")) for e in evs}) == 1  # every seed's evaluation: the same
    m = training.memorisation_claim("two-mode", evs, [0, 1, 2], "not reproduced", "test data")
    assert m.verdict == "inconclusive"  # no verdict on copying for a generator that fails the quality bar
    # the first-snapshot claim reads the first snapshot's samples: here (one epoch) a copier's, made so by hand
    copier = [{**e, "first_memorisation": e["memorisers"]["noise"]} for e in evs]
    first = training.memorisation_claim("two-mode", copier, [0, 1, 2], "reproduced", "test data",
                                        "first_memorisation")
    assert "first snapshot (epoch-0001)" in first.claim and first.verdict == "not reproduced"
    # issue 27: the end's claim reads the rule at the first snapshot too (here the copier's) when the two differ
    earlier = [{**e, "snapshots": {**e["snapshots"], "epoch-0001.pt": {**e["snapshots"]["epoch-0001.pt"],
                                                                       "images_seen": 128}}} for e in copier]
    end = training.memorisation_claim("two-mode", earlier, [0, 1, 2], "reproduced", "test data",
                                      first_quality="reproduced")
    assert list(end.trend["images"]) == [128, 256] and end.trend["verdicts"][0] == "not reproduced"
    assert training.memorisation_claim("two-mode", copier, [0, 1, 2], "reproduced", "test data",
                                       first_quality="reproduced").trend is None  # one snapshot: no trend
    assert training.first_snapshot_quality(evs, ladder) in rules.VERDICTS
    assert training.first_snapshot_quality(evs, ladder, judge_ok=False) == "inconclusive"  # as at the end


def test_a_segmenter_is_checked_by_the_same_rule():
    real = {"window": 0.7, "bed": 0.9}
    ok = training.judge_claim("rooms", {"real": real, "checkerboard": {"window": 0.1, "bed": 0.2}},
                              {"window": 0.72, "bed": 0.88}, "d", "segmenter b")
    assert ok.verdict == "reproduced" and ok.scorer == "segmenter b" and "bed seen in 90%" in ok.ours
    bad = training.judge_claim("rooms", {"real": real, "checkerboard": {"window": 0.1, "bed": 0.8}},
                               {"window": 0.72, "bed": 0.88}, "d", "segmenter b")
    assert bad.verdict == "not reproduced"


def test_failure_samples_are_the_first_seeds_gan_failures_in_the_models_format(two_mode_pack, tmp_path):
    from types import SimpleNamespace

    from dcgan_core.core.checkpoint import load_run
    runs = {}
    for name, preset in (("rooms", "tiny16"), ("mnist", "tiny16")):
        cfg = TrainConfig.for_preset(str(two_mode_pack), preset, steps=8, batch_size=32, seed=4,
                                     progress=False, snapshot_epochs=(1,) if name == "rooms" else ())
        train(cfg, tmp_path / name)
        runs[name] = tmp_path / name
    models = {"rooms": {"data": "rooms-data"}, "mnist": {"data": "mnist-data"}, "rooms-w16": {"data": "rooms-data"}}
    T = SimpleNamespace(seeds=[4, 5], train_models=["rooms", "mnist"], device="cpu", models=models,
                        pack=lambda data: SimpleNamespace(meta={"source": data}),
                        run=lambda name, seed, progress=True: runs[name] if seed == 4 else None)
    untrained, fails = training.failure_samples(T, "rooms", 6, 3, 8)
    assert set(fails) == {"first snapshot (epoch-0001) samples", "G trained on another data set (mnist)"}
    assert untrained.shape == (6, 1, 16, 16) and fails["G trained on another data set (mnist)"].shape == (6, 3, 8, 8)
    first = load_run(runs["rooms"], "cpu", "epoch-0001.pt")[0]  # the samples evaluate_run scores at the snapshot
    expected = reference.generate_uint8(first, 6, training.stream_seed("samples", 4))
    assert np.array_equal(fails["first snapshot (epoch-0001) samples"], expected)
    _, fails = training.failure_samples(T, "mnist", 6, 1, 16)  # no epoch snapshot: the first is the end
    assert "first snapshot (last) samples" in fails and "G trained on another data set (rooms)" in fails
    alone = SimpleNamespace(**{**vars(T), "train_models": ["rooms"]})
    assert set(training.failure_samples(alone, "rooms", 6, 1, 16)[1]) == {"first snapshot (epoch-0001) samples"}
    # another chapter's models (the guidelines' own DCGANs) give the G of another data set in the training's place
    assert "G trained on another data set (mnist)" in training.failure_samples(alone, "rooms", 6, 1, 16, ["mnist"])[1]
    assert "G trained on another data set (rooms)" in training.failure_samples(alone, "mnist", 6, 1, 16, ["rooms"])[1]
    widths = training.failure_samples(T, "rooms", 6, 1, 16, ["rooms", "rooms-w16", "mnist"])[1]
    assert "G trained on another data set (mnist)" in widths  # the same data at another width is no other data set
    assert set(training.failure_samples(alone, "rooms", 6, 1, 16, ["rooms-w16"])[1]) == {
        "first snapshot (epoch-0001) samples"}
    # every instrument on that suite, on the halves the training chapter's n_samples fixes; `only` picks
    packs = {"train": load_pack(two_mode_pack), "held": load_pack(two_mode_pack)}
    judges = {"a": PixelJudge(), "b": PixelJudge()}
    T = SimpleNamespace(**{**vars(T), "n_samples": 20, "judge": lambda name, progress=True, scorer="a": judges[scorer],
                           "models": {"rooms": {"data": "train", "heldout": "held"}, "mnist": {"data": "mnist-data"}},
                           "pack": lambda data: packs.get(data) or SimpleNamespace(meta={"source": data})})
    checks = training.instrument_checks(T, "rooms")
    assert set(checks) == {"judge a", "judge b"}  # no object boxes: no segmenter to check
    assert set(checks["judge a"]["check"]) == {
        "real", "untrained G", "first snapshot (epoch-0001) samples", "G trained on another data set (mnist)",
        "checkerboard (transposed-conv upsampling 4x)", "pixelated 4x", "shuffled 4-px patches",
        "blur sigma 2"}
    assert len(checks["judge a"]["real_a"]) == len(checks["judge a"]["check"]["real"])  # half A, same readings
    assert set(training.instrument_checks(T, "rooms", only=("judge b",))) == {"judge b"}
    claims = training.instrument_claims(checks, "rooms", "test data")
    assert [c.kind for c in claims.values()] == ["self-check"] * 2 and claims["judge b"].scorer == "judge b"


def test_judge_claim_fails_a_judge_that_calls_failures_real():
    good = {"real": {"real": 0.95, "bed": 0.9}, "untrained G": {"real": 0.3, "bed": 0.1},
            "blur sigma 2": {"real": 0.1, "bed": 0.0}}
    real_a = {"real": 0.93, "bed": 0.88}  # the other half of the held-out images
    claim = training.judge_claim("rooms", good, real_a, "d")
    assert claim.verdict == "reproduced" and claim.kind == "self-check"
    assert claim.controls[0]["verdict"] == "not reproduced"  # real images offered as failures fail the check
    bad = {**good, "blur sigma 2": {"real": 0.1, "bed": 0.7}}
    claim = training.judge_claim("rooms", bad, real_a, "d")
    assert claim.verdict == "not reproduced" and "blur sigma 2: bed 70%" in claim.why




def test_a_width_axis_is_a_train_models_recipe_at_another_width_and_its_claims_sit_side_by_side():
    from dcgan_core.book import params
    from dcgan_core.utils.errors import ParameterError
    from dcgan_core.verdicts.claims import Claim
    P = params.load("01_training", "cpu")
    assert P.widths == ["rooms-w16"] and P.width_of("rooms-w16") == "rooms"
    from dcgan_core.book import pipeline
    assert ("rooms-w16", 0) in pipeline.chapter_runs("cpu")  # the training step trains it
    with pytest.raises(ParameterError, match="only ngf/ndf changed"):
        params.load("01_training", "cpu", {"widths": ["faces"]})  # a train model itself: not a width axis
    with pytest.raises(ParameterError, match="only ngf/ndf changed"):
        params.load("01_training", "cpu", {"widths": ["g-rooms"]})  # other data and recipe

    def claim(model, text, verdict):
        return Claim(section="4.1", claim=f"{model}: {text}", paper="-", ours=f"{model} number", baseline="-",
                     verdict=verdict)
    claims = [claim("rooms", "good samples", "reproduced"), claim("rooms-w16", "good samples", "not reproduced"),
              claim("rooms", "not memorised", "reproduced"), claim("faces", "good samples", "reproduced")]
    table = training.width_table(claims, P)
    assert table.splitlines()[0] == "| claim | rooms-w16 (ngf/ndf 16/16) | rooms (ngf/ndf 32/32) |"
    assert "| good samples | **not reproduced**: rooms-w16 number | **reproduced**: rooms number |" in table
    assert "| not memorised | - | **reproduced**: rooms number |" in table and "faces" not in table
    assert "No width axis" in training.width_table(claims, params.load("01_training", "cpu", {"widths": []}))
