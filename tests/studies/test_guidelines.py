"""Sec. 3-4: the variants as profile entries, one run's readout, the per-variant claim with its controls, and the
chapter's runs in the training step."""

import json
from types import SimpleNamespace

import numpy as np
import pytest

from dcgan_core.book import pipeline
from dcgan_core.core import runs
from dcgan_core.core.models import build
from dcgan_core.instruments.reference import Reference
from dcgan_core.studies import guidelines as G
from tests.conftest import PixelJudge, self_checks, two_mode_images, write_pack


class CoverJudge(PixelJudge):
    """PixelJudge with content readings apart from the 'real' flag (what `coverage` reads)."""

    def content_rates(self, images):
        return {"left bright": self.rates(images)["left bright"]}


def test_each_variant_is_its_entry_with_only_its_fields_changed():
    entry = {"data": "d", "heldout": "h", "preset": "cpu16", "epochs": 2}
    assert G.variant_entry(entry, G.DCGAN) == entry and G.run_name("g-digits", G.DCGAN) == "g-digits"
    for name, (changes, paper) in G.VARIANTS.items():
        out = G.variant_entry(entry, name)
        assert {k: v for k, v in out.items() if entry.get(k) != v} == changes and paper
        build("tiny16", **{k: v for k, v in changes.items() if k not in ("lr_g", "lr_d", "beta1")})  # valid options
    frozen = G.variant_entry(entry, G.POSITIVE[0])
    assert frozen == {**entry, "lr_g": 1e-12}  # only G's learning rate: D trains as in the recipe
    names = {G.run_name("g", v) for v in [*G.VARIANTS, G.POSITIVE[0]]}
    assert len(names) == len(G.VARIANTS) + 1 and all(" " not in n and "." not in n for n in names)


def test_the_positive_control_s_g_stays_at_its_initial_weights_while_d_trains(tmp_path):
    from dcgan_core.core.checkpoint import load_checkpoint
    from dcgan_core.core.models import resolve
    from dcgan_core.core.train import TrainConfig, initial_models, train

    write_pack(tmp_path / "two", two_mode_images(128))
    cfg = TrainConfig.for_preset(str(tmp_path / "two"), "tiny16", steps=8, batch_size=32, progress=False,
                                 snapshot_epochs=(), **G.POSITIVE[1])
    train(cfg, tmp_path / "run")
    last = load_checkpoint(tmp_path / "run" / "checkpoints" / "last.pt")
    G0, D0 = (net.state_dict() for net in initial_models(resolve("tiny16"), cfg.seed))
    weights = [k for k in last["G"] if "running" not in k and "num_batches" not in k]  # BN statistics move
    assert max(float((last["G"][k] - G0[k]).abs().max()) for k in weights) < 1e-9  # 8 steps: G has not moved
    assert max(float((last["D"][k] - D0[k]).abs().max()) for k in D0 if "weight" in k) > 1e-4  # D learns


def test_diversity_and_coverage_tell_a_collapsed_set_from_a_varied_one():
    rng = np.random.default_rng(0)
    varied, collapsed = rng.normal(size=(100, 8)), np.repeat(rng.normal(size=(1, 8)), 100, 0)
    assert G.diversity(collapsed) == 0 and G.diversity(varied) > 3
    real = {f"class {c}": 0.1 for c in range(10)}
    three = {f"class {c}": (1 / 3 if c < 3 else 0.0) for c in range(10)}
    assert G.coverage(real, real) == 1.0 and G.coverage(three, real) == pytest.approx(0.3)
    half = {k: v * 0.5 for k, v in real.items()}  # at exactly COLLAPSE_FRACTION of real's rate: covered
    assert G.coverage(half, real) == 1.0 and G.coverage({k: v * 0.49 for k, v in real.items()}, real) == 0.0
    assert G.coverage({}, {"rare": 0.01}) == 1.0  # readings real images rarely show are not counted


@pytest.mark.parametrize("real_rate, counted", [(G.rules.COVERAGE_MIN_REAL, True),
                                                (G.rules.COVERAGE_MIN_REAL - 1e-6, False)])
def test_coverage_counts_a_reading_from_its_real_rate_bar_on(real_rate, counted):
    real = {"common": 0.5, "edge": real_rate}
    assert G.coverage({"common": 0.5, "edge": 0.0}, real) == (0.5 if counted else 1.0)  # 'edge' missed by G


@pytest.mark.parametrize("scale, collapsed", [(1.0, 0.0), (1.0 - 1e-6, 0.1)])
def test_a_filter_collapses_only_below_the_spread_bar(scale, collapsed):
    """Sec. 7's filter statistic on both sides of FILTER_SPREAD_MIN x the FILTER_SPREAD_QUANTILE filter's spread."""
    spread = np.ones(10)
    bar = G.rules.FILTER_SPREAD_MIN * np.quantile(spread, G.rules.FILTER_SPREAD_QUANTILE)
    spread[0] = bar * scale  # the quantile of the other nine stays 1
    assert G.collapsed_fraction(spread) == pytest.approx(collapsed)


def test_the_filter_bar_is_read_at_its_quantile():
    spread = np.linspace(0.0, 1.0, 11)  # 0.1 apart: the 0.9 quantile filter's spread is 0.9
    assert np.quantile(spread, G.rules.FILTER_SPREAD_QUANTILE) == pytest.approx(G.rules.FILTER_SPREAD_QUANTILE)
    assert G.collapsed_fraction(spread) == pytest.approx(1 / 11)  # only the zero filter is below 0.05 x 0.9


def test_a_run_is_read_at_each_snapshot_and_a_stopped_run_reads_diverged(tmp_path, monkeypatch):
    packs = {"two": str(write_pack(tmp_path / "two", two_mode_images(256))),
             "held": str(write_pack(tmp_path / "held", two_mode_images(200, seed=3)))}
    entry = {"data": "two", "heldout": "held", "preset": "tiny16", "epochs": 2, "batch_size": 32,
             "snapshot_epochs": [1, 2]}  # the last epoch's snapshot is last.pt's weights: read once
    run = pipeline.ensure_variant("m", G.DCGAN, entry, packs, "cpu", tmp_path / "runs", seed=0, progress=False)
    from dcgan_core.data.packed import load_pack
    ref = Reference(CoverJudge(), load_pack(packs["held"]), 64)
    real = G.real_reference(ref)
    out = G.run_readout(run, ref, real, ref.n, 0, "cpu")
    assert [s["name"] for s in out["snapshots"]] == ["epoch-0001.pt", "epoch-0002.pt"]
    assert out["snapshots"][-1]["images_seen"] == 2 * 256 and out["snapshots"][0]["change"] is None
    assert out["snapshots"][-1]["change"] > 0 and np.isfinite(out["fd_final"]) and out["samples"].shape[0] == 64
    assert out["failure"] in ("", *G.rules.RUN_FAILURES) and not out["diverged"]

    import dcgan_core.core.train as T
    real_step = T.train_step
    monkeypatch.setattr(T, "train_step", lambda *a, **kw: {k: v * float("nan") for k, v in real_step(*a, **kw).items()})
    bad = pipeline.ensure_variant("m", "lr 1e-3", entry, packs, "cpu", tmp_path / "runs", seed=0, progress=False)
    assert runs.diverged(bad) and json.loads((bad / runs.DIVERGED).read_text())["error"]
    monkeypatch.setattr(T, "train_step", lambda *a, **kw: pytest.fail("a diverged run was trained again"))
    assert pipeline.ensure_variant("m", "lr 1e-3", entry, packs, "cpu", tmp_path / "runs", seed=0,
                                   progress=False) == bad
    stopped = G.run_readout(bad, ref, real, ref.n, 0, "cpu")
    assert stopped["failure"] == "diverged" and np.isnan(stopped["fd_final"])


def test_a_prefix_of_a_longer_run_reads_as_the_shorter_run_and_a_later_divergence_does_not_count(tmp_path,
                                                                                                   monkeypatch):
    """The budget pilot reads each candidate length as a prefix of one long run: the reading must be the short
    run's own (the recipe has no schedule), and a loss that went non-finite after the prefix must not show in it."""
    packs = {"two": str(write_pack(tmp_path / "two", two_mode_images(256))),
             "held": str(write_pack(tmp_path / "held", two_mode_images(200, seed=3)))}
    entry = {"data": "two", "heldout": "held", "preset": "tiny16", "batch_size": 32, "log_every": 8}  # per epoch
    short = pipeline.ensure_variant("m", G.DCGAN, {**entry, "epochs": 1, "snapshot_epochs": [1]}, packs, "cpu",
                                    tmp_path / "runs", seed=0, progress=False)
    long = pipeline.ensure_variant("m", G.DCGAN, G.pilot_entry({**entry, "epochs": 1}, [5]), packs, "cpu",
                                   tmp_path / "runs", seed=0, progress=False)
    from dcgan_core.data.packed import load_pack
    ref = Reference(CoverJudge(), load_pack(packs["held"]), 64)
    real = G.real_reference(ref)
    alone = G.run_readout(short, ref, real, ref.n, 0, "cpu")
    prefix = G.run_readout(long, ref, real, ref.n, 0, "cpu", ["epoch-0001.pt"])
    whole = G.run_readout(long, ref, real, ref.n, 0, "cpu")
    assert [s["name"] for s in prefix["snapshots"]] == ["epoch-0001.pt"] and len(whole["snapshots"]) == 5
    assert prefix["fd_final"] == pytest.approx(alone["fd_final"], rel=1e-5)
    assert prefix["dgz_tail"] == pytest.approx(alone["dgz_tail"], rel=1e-5) and prefix["failure"] == alone["failure"]
    assert whole["fd_final"] != pytest.approx(prefix["fd_final"], rel=1e-3)  # the end of the run is read otherwise
    assert list(whole["earlier"]) == [f"epoch-000{e}.pt" for e in range(1, 5)]  # issue 27: each earlier snapshot
    two = G.run_readout(long, ref, real, ref.n, 0, "cpu", ["epoch-0001.pt", "epoch-0002.pt"])
    for name, read in (("epoch-0001.pt", prefix), ("epoch-0002.pt", two)):  # the prefix reading, from one pass
        assert {k: whole["earlier"][name][k] for k in ("failure", "fd_final", "dgz_tail")} == pytest.approx(
            {k: read[k] for k in ("failure", "fd_final", "dgz_tail")})
    with pytest.raises(ValueError, match="no snapshot 'epoch-0006.pt'"):
        G.run_readout(long, ref, real, ref.n, 0, "cpu", ["epoch-0006.pt"])

    import dcgan_core.core.train as T
    real_step, calls = T.train_step, []
    monkeypatch.setattr(T, "train_step", lambda *a, **kw: calls.append(1) or {
        k: v * (float("nan") if len(calls) > 16 else 1.0) for k, v in real_step(*a, **kw).items()})
    bad = pipeline.ensure_variant("m", "no tanh", G.pilot_entry({**entry, "epochs": 1}, [5]), packs, "cpu",
                                  tmp_path / "runs", seed=0, progress=False)  # 8 steps an epoch: 2 epochs good
    assert runs.diverged(bad)
    before = G.run_readout(bad, ref, real, ref.n, 0, "cpu", ["epoch-0001.pt", "epoch-0002.pt"])
    after = G.run_readout(bad, ref, real, ref.n, 0, "cpu", [f"epoch-000{e}.pt" for e in range(1, 6)])
    assert not before["diverged"] and np.isfinite(before["fd_final"])
    assert after["failure"] == "diverged" and np.isnan(after["fd_final"])
    early = G.run_readout(bad, ref, real, ref.n, 0, "cpu")["earlier"]
    assert early["epoch-0002.pt"]["fd_final"] == pytest.approx(before["fd_final"])  # reached before the NaN
    assert early["epoch-0003.pt"]["failure"] == "diverged" and early["epoch-0004.pt"]["images_seen"] is None


def test_the_budget_rule_picks_the_shortest_length_with_no_failed_pilot_run():
    assert G.schedule(10) == [2, 4, 6, 8, 10] and G.schedule(5) == [1, 2, 3, 4, 5]
    for bad in (3, 12):
        with pytest.raises(ValueError, match="multiple of 5"):
            G.schedule(bad)
    entry = G.pilot_entry({"data": "d", "epochs": 2, "snapshot_epochs": [1]}, [10, 20, 5])
    assert entry["epochs"] == 20 and entry["snapshot_epochs"] == [1, 2, 3, 4, 5, 6, 8, 10, 12, 16, 20]
    assert "steps" not in G.pilot_entry({"data": "d", "steps": 8, "snapshot_epochs": []}, [5])  # a smoke entry
    ok, one = [""] * 5, ["collapsed"] + [""] * 4
    assert G.pilot_length({10: one, 20: ok, 40: ok}) == 20  # one failed run at 10 epochs: too short
    assert G.pilot_length({10: ok, 20: one, 40: ok}) == 10  # the shortest clean length, whatever comes after
    assert G.pilot_length({10: ["collapsed"] * 5, 20: ["collapsed"] * 2 + [""] * 3, 40: one, 80: one}) == 40
    with pytest.raises(ValueError, match="at one candidate"):
        G.pilot_length({})


def _reads(failures, fds):
    return [{"failure": f, "fd_final": fd} for f, fd in zip(failures, fds)]


def test_a_guideline_claim_has_its_positive_and_negative_control():
    ok, fds = [""] * 5, [10.0, 11, 12, 13, 14]
    arms = {G.DCGAN: _reads(ok, fds), G.CONTROL: _reads(ok, [10.5, 11.5, 12.5, 13.5, 9.5]),
            G.POSITIVE[0]: _reads(["diverged"] * 5, [float("nan")] * 5),
            "no batch norm": _reads(["collapsed"] * 4 + [""], [30.0] * 5), "no tanh": _reads(ok, fds)}
    hurt = G.guideline_claim("no batch norm", "digits", "g-digits", arms, [0, 1, 2, 3, 4])
    assert hurt.verdict == "reproduced" and hurt.section == "3" and "collapsed 4" in hurt.ours
    controls = {c["kind"]: c for c in hurt.controls}
    assert controls["positive"]["verdict"] == "reproduced" and controls["negative"]["verdict"] == "not reproduced"
    same = G.guideline_claim("no tanh", "digits", "g-digits", arms, [0, 1, 2, 3, 4])
    assert same.verdict == "not reproduced"  # a variant no different from the DCGAN
    broken = {**arms, G.CONTROL: arms["no batch norm"]}  # a negative control that the rule flags
    assert G.guideline_claim("no batch norm", "digits", "g-digits", broken, [0, 1, 2, 3, 4]).verdict == "inconclusive"
    assert hurt.trend is None  # readings without earlier snapshots


def test_a_guideline_claim_is_read_at_the_runs_earlier_snapshots():
    """Issue 27: every run of the variant and of the DCGAN read as if it had ended at an earlier snapshot."""
    def reads(final, early, fds):
        return [{"failure": f, "fd_final": fd, "snapshots": [{"images_seen": 500}],
                 "earlier": {"epoch-0001.pt": {"failure": e, "fd_final": fd, "images_seen": 100}}}
                for f, e, fd in zip(final, early, fds)]
    ok, fds = [""] * 5, [10.0, 11, 12, 13, 14]
    arms = {G.DCGAN: reads(ok, ok, fds), G.CONTROL: reads(ok, ok, fds), G.POSITIVE[0]: reads(["diverged"] * 5, ok, fds),
            "no batch norm": reads(["collapsed"] * 5, ok, fds)}  # collapses late: fine at the first snapshot
    t = G.guideline_claim("no batch norm", "digits", "g-digits", arms, [0, 1, 2, 3, 4]).trend
    assert t["images"] == (100, 500) and t["verdicts"] == ("not reproduced", "reproduced") and t["first_pass"] == 500
    assert t["means"] == (0.0, 1.0)  # the variant's failed share at each snapshot


def test_the_training_step_trains_every_arm_once():
    prof = pipeline.load_profile("cpu")
    packs = {k: f"/packs/{k}" for k in prof["packs"]}
    jobs = pipeline.guideline_jobs(prof, packs, "/runs")
    section = prof["notebooks"]["00_guidelines"]
    arms = 3 + len(G.VARIANTS)  # DCGAN, positive control, DCGAN on other seeds, every variant
    per_high_res = 3 + len(G.HIGH_RES_VARIANTS)
    seeds = len(section["seeds"])
    assert len(jobs) == seeds * (arms * len(section["datasets"]) + per_high_res * len(section["high_res"]))
    assert all(fn is runs.ensure_outcome for fn, _ in jobs)
    names = {args[1] for _, args in jobs}
    assert "g-digits" in names and "g-digits-no-batch-norm" in names and "g-digits32-relu-in-d" in names
    assert "g-digits32-pooling" not in names  # the second resolution trains the LeakyReLU claim's arms only
    assert pipeline.guideline_jobs({**prof, "notebooks": {}}, packs, "/runs") == []


def test_chapter_parameters_refuse_overlapping_control_seeds_and_unknown_variants(monkeypatch):
    from dcgan_core.book import params
    from dcgan_core.utils.errors import ParameterError
    with pytest.raises(ParameterError, match="disjoint"):
        params.load("00_guidelines", "smoke", {"control_seeds": [1, 2]})
    with pytest.raises(ParameterError, match="names no model"):
        params.load("00_guidelines", "smoke", {"datasets": []})
    with pytest.raises(ParameterError, match=r"seeds \[100\] chose the runs' length"):
        params.load("00_guidelines", "smoke", {"seeds": [0, 100], "control_seeds": [2, 3]})
    with pytest.raises(ParameterError, match="unknown variant"):
        params.load("00_guidelines", "smoke", {"variants": ["no dropout"]})
    cpu = pipeline.load_profile("cpu")
    params.load("00_guidelines", "cpu")  # every g-* entry keeps a snapshot every fifth of its run
    shifted = {**cpu, "models": {**cpu["models"], "g-rooms": {**cpu["models"]["g-rooms"], "snapshot_epochs": [1, 40]}}}
    monkeypatch.setattr(pipeline, "load_profile", lambda name: shifted)
    with pytest.raises(ParameterError, match=r"g-rooms trains 40 epochs .* snapshot_epochs: \[8, 16, 24, 32, 40\]"):
        params.load("00_guidelines", "cpu")
    reseeded = pipeline.with_seeds(cpu, "10,11,12,13,14")["notebooks"]["00_guidelines"]
    assert reseeded["seeds"] == [10, 11, 12, 13, 14] and reseeded["control_seeds"] == [15, 16, 17, 18, 19]


def test_the_chapter_reads_every_arm_of_every_model(monkeypatch):
    reads = []
    monkeypatch.setattr(G, "run_readout", lambda run, ref, real, n, seed, device: reads.append(run) or {
        "failure": "diverged" if run[1] == G.POSITIVE[0] else "", "fd_final": 1.0 + seed,
        "snapshots": [{"images_seen": 10, "fd": 1.0}], "samples": None})
    monkeypatch.setattr(G, "Reference", lambda judge, held, n: SimpleNamespace(
        feats=np.eye(3), judge=SimpleNamespace(content_rates=lambda x: {}), a=None, n=n))
    P = SimpleNamespace(datasets=["g-digits"], high_res=["g32"], variants=["no tanh"], seeds=[0, 1, 2, 3],
                        control_seeds=[4, 5, 6, 7], n_samples=10, device="cpu", judge=lambda m: None,
                        models={"g-digits": {"heldout": "h"}, "g32": {"heldout": "h"}}, pack=lambda name: None,
                        data=lambda m: f"{m} data", variant_run=lambda m, v, s: (m, v, s), long_runs=[],
                        long_seeds=[], instrument_checks=lambda m, only: self_checks(only))
    study = G.run(P)
    assert len(reads) == 4 * 4 + 4 * 4  # g-digits: DCGAN, positive, control, no tanh; g32: the same with ReLU in D
    assert ("g32", "ReLU in D", 0) in reads and ("g-digits", G.DCGAN, 7) in reads
    claims = G.claims(study, P)
    assert [c.claim for c in claims] == ["g-digits: undoing 'no tanh' hurts training",
                                         "g32: undoing 'ReLU in D' hurts training"]
    assert [c.verdict for c in claims] == ["not reproduced"] * 2  # the controls pass: the rule decides
    assert "| g-digits | no tanh | 4 | 0 |" in G.tables(study, P)["outcomes"]
    failed = G.claims({**study, "checks": {m: self_checks(("judge a",), ("judge a",)) for m in study["checks"]}}, P)
    assert all(c.verdict == "inconclusive" for c in failed)  # a judge that fails its suite decides nothing


def test_late_collapse_is_read_at_every_snapshot_with_its_controls(tmp_path):
    packs = {"two": str(write_pack(tmp_path / "two", two_mode_images(256)))}
    entry = {"data": "two", "heldout": "two", "preset": "tiny16", "epochs": 2, "batch_size": 32,
             "snapshot_epochs": [1]}
    reads = {}
    for seed in (0, 1, 2):
        run = pipeline.ensure_trained("m", entry, packs, "cpu", tmp_path / "runs", seed, progress=False)
        reads[seed] = G.late_collapse(run, seed, "cpu")
    first = reads[0]
    assert list(first["shares"]) == ["epoch-0001.pt", "last.pt"] and first["last"] == first["shares"]["last.pt"]
    assert first["planted"] >= G.PLANTED_SHARE  # the dropped filters draw nothing for every z
    claim = G.late_collapse_claim("m", reads, "two modes")
    controls = {c["kind"]: c["verdict"] for c in claim.controls}
    assert controls["positive"] == "reproduced" and claim.section == "7"
    assert controls["negative"] != "reproduced"  # the same G measured twice: no rise to find
    assert all(abs(r["remeasured"] - r["first"]) < 0.2 for r in reads.values())
    assert claim.trend is None  # no snapshot between the first and the last
    made = {s: {**r, "shares": {"epoch-0001.pt": 0.0, "epoch-0002.pt": 0.1 + s / 100, "last.pt": 0.2},
                "seen": {"epoch-0001.pt": 64, "epoch-0002.pt": 128, "last.pt": 256}, "first": 0.0, "last": 0.2}
            for s, r in reads.items()}
    t = G.late_collapse_claim("m", made, "two modes").trend  # issue 27: the middle snapshot in the last's place
    assert t["images"] == (128, 256) and t["means"] == pytest.approx((0.11, 0.2))
    table = G.late_table({"late": {"m": reads}})
    assert "| m, seed | epoch-0001 | last | planted | first, other z |" in table and table.count("\n| ") >= 3
