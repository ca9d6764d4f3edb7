import json
from dataclasses import asdict, replace

import pytest

from dcgan_core.book.results import (
    Recorder,
    load_results,
    results_page,
    rule_history_page,
    scale_table,
    still_improving,
    walltime_page,
)
from dcgan_core.verdicts import history, rules
from dcgan_core.verdicts.claims import Claim

UNTRAINED = {"untrained G": (rules.quality([50.0] * 3, 10.0, [0.5] * 3), "FD 50")}  # a failing negative control


def claim(v="reproduced", **kw):
    return Claim(section="4.1", claim="a | claim", paper="p", ours="o", baseline="b", verdict=v, **kw)


def test_verdicts_are_validated():
    with pytest.raises(ValueError, match="verdict must be one of"):
        claim("sort of")


def test_recorder_and_results_page(tmp_path):
    for i, name in enumerate(["01_a", "02_b"]):
        rec = Recorder(name, f"Chapter {i}", tmp_path / name, "smoke")
        rec.add(claim())
        rec.add(claim("not reproduced"))
        rec.write()
    data = json.loads((tmp_path / "01_a" / "results.json").read_text())
    assert data["provenance"]["profile"] == "smoke" and "git_commit" in data["provenance"]
    results = load_results(tmp_path)
    page = results_page(results, "smoke")
    rows = [ln for ln in page.splitlines() if ln.startswith("| 4.1")]
    assert len(rows) == 4 and "a \\| claim" in rows[0] and 'nowrap">not reproduced</span>' in rows[-1]
    assert "fig-forest" not in page and "fig-forest" in results_page(results, "smoke", "forest.png")
    assert page.count("### 4.1: a | claim") == 4 and "../chapters/02_b" in page  # one detail block per claim
    assert "2 reproduced, 2 not reproduced" in page
    page = walltime_page(results, {"rooms": 2.0})
    assert len(page.strip().splitlines()) == 2 + 1 + 2 + 1  # header, rule, packing, a row per chapter, total
    assert "packing (rooms)" in page and "**total" in page
    chapters = sum(r["provenance"]["wall_time_s"] for r in results)
    training = {"seconds": 30.0, "workers": 2, "jobs": 12, "trained": 9, "git_commit": "abc"}
    page = walltime_page(results, {"rooms": 2.0}, training)
    assert "training: 12 runs, judges and detectors, 2 side by side (9 trained" in page
    assert f"**{chapters + 2 + 30:.0f}**" in page  # the training step counts in the total
    side = {"seconds": 5.0, "jobs": 2, "rebuilt": [r["chapter"] for r in results]}
    page = walltime_page(results, {"rooms": 2.0}, training, side)
    assert "the chapters, 2 side by side | smoke | 5.0" in page and "**37**" in page  # the step's time, not the sum
    partial = walltime_page(results, {"rooms": 2.0}, training, {**side, "rebuilt": side["rebuilt"][:1]})
    assert f"**{chapters + 2 + 30:.0f}**" in partial and "side by side |" not in partial.split("training")[1]


def test_results_page_shows_both_controls_and_lists_self_checks_apart(tmp_path):
    good, bad = rules.quality([1.0, 1.5, 2.0], 10.0, [0.0] * 3), rules.quality([50.0] * 3, 10.0, [0.5] * 3)
    fields = dict(section="4.1", paper="p", ours="o", baseline="b", data="synthetic rooms, a stand-in")
    rec = Recorder("01_a", "Chapter", tmp_path / "01_a", "smoke")
    rec.add(Claim.decided(good, {"untrained G": (bad, "")}, {"real images": (good, "")}, claim="quality", **fields))
    rec.add(Claim.decided(good, {"untrained G": (bad, "")}, no_positive="none built yet", claim="walks", **fields))
    rec.add(Claim.decided(good, kind="self-check", claim="the judge", **fields))
    rec.write()
    results = load_results(tmp_path)
    assert results[0]["rules"] == {"version": history.RULES_VERSION, "fingerprint": history.fingerprint()}
    page = results_page(results, "smoke")
    summary, checks = page.split("## The instruments' self-checks")[0], page.split("## The claims in detail")[0]
    quality = next(ln for ln in summary.splitlines() if "| quality |" in ln)
    assert "real images" in quality and "untrained G" in quality and "synthetic rooms, a stand-in" in quality
    walks = next(ln for ln in summary.splitlines() if "| walks |" in ln)
    assert 'nowrap">inconclusive</span>' in walks and "none: none built yet" in walks
    assert "| the judge |" not in summary and "| the judge |" in checks.split("self-checks")[1]
    assert "1 reproduced, 1 inconclusive" in page  # the tally counts paper claims only
    assert "Part, judge FD" in page and "borderline at a threshold beyond" in page  # each part and its flip point
    assert 'nowrap">passes</span>' in checks and "the rule's own reading (the verdict is inconclusive)" in walks
    detail, check_detail = page.split("## The claims in detail")[1].split("## The self-checks in detail")
    assert "### 4.1: the judge" in check_detail and "### 4.1: the judge" not in detail
    quality_block = detail.split("### 4.1: walks")[0]  # its three rows: positive, negative, the model
    assert [ln.split("|")[1].strip() for ln in quality_block.splitlines() if ln.startswith("| ")][1:] == [
        "positive control: real images", "negative control: untrained G", "the model"]
    walks_block = detail.split("### 4.1: walks")[1]
    assert "| positive control | none: none built yet | - | pass; without it" in walks_block


def test_the_paper_s_data_and_scale_sit_beside_ours():
    from dcgan_core.verdicts.paper import STAND_INS, paper_scale
    assert paper_scale(f"{STAND_INS['synth-rooms']}, 32x32").startswith("LSUN bedrooms")
    assert "15,000,000 images seen" in paper_scale(f"{STAND_INS['synth-rooms']}, 32x32")
    assert paper_scale(f"{STAND_INS['synth-faces']}, 32x32").startswith("faces")
    assert paper_scale("D trained ..., cpu profile: a stand-in for SVHN with 1000 labels") == "SVHN with 1000 labels"
    assert paper_scale(f"{STAND_INS['mnist5k']}, 32x32").startswith("none:") and paper_scale("LSUN, 64x64") == "-"
    trend = {"images": [100, 200], "means": [1.0, 0.5], "verdicts": ["not reproduced"] * 2, "reading": "r",
             "statistic": "s", "threshold": 0.1, "first_pass": None, "moving": "flat"}
    rooms = f"{STAND_INS['synth-rooms']}, 32x32"
    claims = [asdict(claim(data=rooms, trend=trend)), asdict(claim(data=rooms, trend={**trend, "images": [300]})),
              asdict(claim(data=rooms, kind="self-check")), asdict(replace(claim(data="other"), section="6.1"))]
    table = "\n".join(scale_table([{"claims": claims}]))
    assert f"| {rooms} | 200, 300 | LSUN bedrooms" in table and "| 4.1 (2) |" in table  # self-checks not counted
    assert "| other | - | - | 6.1 (1) |" in table
    assert table in results_page([{"chapter": "01", "title": "t", "claims": claims}], "smoke")



def test_the_summary_shows_each_claim_s_trend_and_the_detail_its_curve(tmp_path):
    from dcgan_core.verdicts.trend import trend
    curve = trend({100_000: rules.quality([30.0, 31, 29], 10.0, [0.0] * 3),
                   200_000: rules.quality([20.0, 21, 19], 10.0, [0.0] * 3)})
    rec = Recorder("01_a", "Chapter", tmp_path / "01_a", "smoke")
    rec.add(Claim(section="4.1", claim="with", paper="p", ours="o", baseline="b", verdict="partly",
                  trend=curve.to_dict()))
    rec.add(Claim(section="4.1", claim="without", paper="p", ours="o", baseline="b", verdict="reproduced"))
    rec.write()
    page = results_page(load_results(tmp_path), "smoke")
    rows = {ln.split(" | ")[1]: ln for ln in page.splitlines() if ln.startswith("| 4.1")}
    assert rows["with"].split(" | ")[3] == "rule: partly, still improving" and rows["without"].split(" | ")[3] == "-"
    assert "- **Against compute (judge FD, threshold 10; images seen: mean, the rule's reading):** 100,000: 30 " \
           "(partly), 200,000: 20 (partly); *partly, still improving*" in page
    assert "fig-trends" not in page and "fig-trends" in results_page(load_results(tmp_path), "smoke", None, "t.png")
    rec = Recorder("03_c", "Chapter", tmp_path / "read" / "03_c", "smoke")  # a claim read by two scorer pairings
    rec.add(claim(trend={**curve.to_dict(), "read_by": "scorer b (a selects)"}))
    rec.write()
    assert "threshold 10; read by scorer b (a selects); images seen" in results_page(load_results(tmp_path / "read"),
                                                                                     "smoke")
    assert "Still improving at this profile's last snapshot, so more compute may move them (issue 27): 4.1 with " \
           "(partly)." in page
    passed = trend({100_000: rules.quality([30.0, 31, 29], 10.0, [0.0] * 3),
                    200_000: rules.quality([2.0, 1, 3], 10.0, [0.0] * 3)})  # improving, but passing at the end
    flat = trend({100_000: rules.quality([20.0, 25, 15], 10.0, [0.0] * 3),
                  200_000: rules.quality([20.5, 25, 15], 10.0, [0.0] * 3)})
    rec = Recorder("02_b", "Chapter", tmp_path / "other" / "02_b", "smoke")
    rec.add(claim("reproduced", trend=passed.to_dict()))
    rec.add(claim("not reproduced", trend=flat.to_dict()))
    rec.write()
    done = load_results(tmp_path / "other")
    assert passed.moving == "improving" and flat.moving == "flat" and still_improving(done) == []
    assert "No claim's rule is still improving" in results_page(done, "smoke")
    import matplotlib
    matplotlib.use("Agg")
    from dcgan_core.plots import trends
    good, bad = rules.quality([1.0, 2.0, 3.0], 10.0, [0.0] * 3), rules.quality([50.0] * 3, 10.0, [0.5] * 3)
    with_controls = Claim.decided(rules.quality([20.0, 21, 19], 10.0, [0.0] * 3), {"untrained G": (bad, "")},
                                  {"real": (good, "")}, section="4.1", claim="c", paper="p", ours="o", baseline="b",
                                  trend=curve.to_dict())
    fig = trends([asdict(with_controls), asdict(claim())] * 2)  # claims without a trend get no panel
    panels = [ax for ax in fig.axes if ax.axison]
    assert len(panels) == 2 and "partly, still improving" in panels[0].get_title(loc="left")
    assert "read by" not in panels[0].get_title(loc="left")
    read = replace(with_controls, trend={**with_controls.trend, "read_by": "scorer b (a selects)"})
    title = next(ax for ax in trends([asdict(read)]).axes if ax.axison).get_title(loc="left")
    assert title.endswith("partly, still improving\nread by scorer b (a selects)")
    levels = sorted({round(line.get_ydata()[0], 6) for line in panels[0].lines if line.get_linestyle() in (":", "--")})
    assert levels == [2.0, 10.0, 50.0]  # the positive control, the threshold, the negative control
    ok, failed, fds = [False] * 5, [True] * 5, [10.0] * 5  # a rule without parts: the controls' effects are drawn
    hurts = {2: rules.undoing_hurts([True, False, False, False, False], ok, fds, fds),
             5: rules.undoing_hurts(failed, ok, fds, fds)}
    own = Claim.decided(hurts[5], {"same": (rules.undoing_hurts(ok, ok, fds, fds), "")},
                        {"lr": (rules.undoing_hurts([True, True, True, False, False], ok, fds, fds), "")},
                        section="3", claim="c", paper="p", ours="o", baseline="b", trend=trend(hurts).to_dict())
    panel = next(ax for ax in trends([asdict(own)]).axes if ax.axison)
    assert sorted({round(ln.get_ydata()[0], 6) for ln in panel.lines if ln.get_linestyle() == ":"}) == [0.0, 0.6]
    reference = next(ln for ln in panel.lines if ln.get_linestyle() == "--")  # the DCGAN's share at each snapshot
    assert list(reference.get_xdata()) == [2, 5] and not panel.patches  # a test's reference: no passing side
    rec = Recorder("00_a", "Guidelines", tmp_path / "00_a", "smoke")
    rec.add(own)
    rec.write()
    assert "against a reference its own test reads: 0, 0" in results_page(load_results(tmp_path), "smoke")


def test_a_control_far_off_the_statistic_s_range_is_named_at_the_edge_not_drawn():
    import matplotlib
    matplotlib.use("Agg")
    from dcgan_core.plots import TREND_SQUEEZE, trends
    from dcgan_core.verdicts.trend import trend
    small = {n: rules.beats([[-0.01 * n], [-0.02], [-0.015]]) for n in (1, 2)}  # moves within 0.03 of 0
    far, near = rules.beats([[-0.86]] * 3), rules.beats([[0.01]] * 3)
    c = Claim.decided(small[2], {"random D": (near, "")}, {"detector": (far, "")}, section="5.1", claim="c",
                      paper="p", ours="o", baseline="b", trend=trend(small).to_dict())
    panel = next(ax for ax in trends([asdict(c)]).axes if ax.axison)
    low, high = panel.get_ylim()
    assert high - low < TREND_SQUEEZE * 0.03 and low > -0.1  # the scale is the statistic's, not -0.86's
    dotted = [round(ln.get_ydata()[0], 6) for ln in panel.lines if ln.get_linestyle() == ":"]
    assert dotted == [0.01]  # the near control is drawn
    assert [t.get_text() for t in panel.texts] == ["positive control -0.86 ↓"]  # the far one is named


def test_rule_history_page_recomputes_the_old_verdicts(tmp_path):
    ok = rules.quality([8.0, 9.0, 9.5], 10.0, [0.05] * 3)
    real = rules.quality([1.0] * 3, 10.0, [0.0] * 3)
    c = Claim.decided(ok, UNTRAINED, {"real": (real, "")}, section="4.1", claim="faces: DCGAN trains to good samples",
                      paper="p", ours="o", baseline="b",
                      values={"fd_final": [8.0, 9.0, 9.5], "fd_untrained": [20.0] * 3, "precision": [0.6] * 3})
    page = rule_history_page([{"claims": [asdict(c)], "rules": {"fingerprint": "f"}}])
    assert page.count("\n## ") == len(history.CHANGES) and "recorded `f`" in page
    first = page.split("\n## 2.")[0]
    assert "| 4.1 | faces: DCGAN trains to good samples | borderline | partly |" in first
    assert "needs the 6-epoch judges" in page


def test_bench_page():
    from dcgan_core.book.results import bench_page

    assert "make bench" in bench_page([])
    line = {"preset": "tiny16", "overrides": {}, "device": "cpu", "batch_size": 8, "precision": "fp32",
            "channels_last": False, "images_per_s": 1234.5, "hardware": {"cpu_count": 2, "cpu_capability": "AVX512"}}
    page = bench_page([line, {**line, "precision": "bf16"}])
    assert page.count("| tiny16 |") == 2 and "1,234.5" in page and "| - | - |" in page
    counted = {**line, "gflop_per_step": 291.2, "achieved_gflops": 233.0, "matmul_peak_gflops": 360.4}
    assert "| tiny16 | 8 | fp32 | no | 1,234.5 | 291.2 | 233.0 (65% of 360) |" in bench_page([counted])
    assert "| tiny16 (width=8) | 8 |" in bench_page([{**counted, "overrides": {"width": 8}}])
    hashing = {"kind": "dedup-hash", "images": 1000, "resolution": 32, "images_per_s": 90000.0,
               "lsun_3m_seconds": 33.3, "hardware": line["hardware"]}
    page = bench_page([line, hashing])
    assert page.count("| tiny16 |") == 1 and "| 1,000 | 32 | 90,000.0 | 33.3 s |" in page
    search = {"kind": "copy-search", "images": 1000, "resolution": 64, "queries": 50, "dim": 768,
              "index_seconds": 0.5, "search_seconds": 1.25, "lsun_3m_seconds": 5250.0, "lsun_3m_index_gb": 9.2,
              "hardware": line["hardware"]}
    assert "| 1,000 | 64 | 768 | 0.5 | 50 | 1.25 | 5,250.0 s | 9.2 GB |" in bench_page([line, search])
    side = {"kind": "side-by-side", "niter": 2, "steps": 16, "batch_size": 128, "preset": "pytorch-examples64",
            "seconds": {"pytorch/examples": [30.0, 32.0], "ours": [15.0, 16.0]},
            "speedup": {"pytorch/examples": 1.0, "ours": 2.0}, "hardware": line["hardware"]}
    page = bench_page([line, side])
    assert page.count("| tiny16 |") == 1 and "| ours | 15.0 | 16.0 | 2.00x |" in page and "--niter 2" in page
    split = {**line, "phases_ms_per_step": {"G forward": 1.25, "other": 0.5}}
    page = bench_page([line, split])
    assert "| phase | tiny16, fp32 |" in page and "| G forward | 1.2 |" in page and "| **step** | **1.8** |" in page
    later = {**line, "phases_ms_per_step": {"G forward": 1.0, "compile": 2.0}}  # a phase only a later line has
    assert "| compile | 0.0 | 2.0 |" in bench_page([split, later])


def test_key_numbers_and_forest_plot_come_from_the_rules_effects():
    import matplotlib
    matplotlib.use("Agg")
    from dcgan_core.book.results import _key_number
    from dcgan_core.plots import forest

    good, bad = rules.quality([1.0, 2.0, 3.0], 10.0, [0.0] * 3), rules.quality([50.0] * 3, 10.0, [0.5] * 3)
    c = Claim.decided(good, {"untrained G": (bad, "FD 50")}, {"real": (good, "FD 2")}, section="4.1", claim="c",
                      paper="p", ours="o", baseline="b", seeds=[0, 1, 2])
    assert c.effect["name"] == "judge FD"
    assert _key_number(c.effect).startswith("judge FD: 2 [-0.484, 4.48] (threshold 10")
    fig = forest([asdict(c), asdict(claim())])  # a claim without an effect gets no row
    assert len(fig.axes) == 1 and fig.axes[0].get_title(loc="left").startswith("4.1 c: reproduced")
    diamonds = sorted((ln.get_xdata()[0], ln.get_markeredgecolor()) for ln in fig.axes[0].lines
                      if ln.get_marker() == "D")
    assert diamonds == [(2.0, "#1a7f37"), (50.0, "k")]  # each control's judge FD: positive green, negative black
    gap = rules.quality([1.0, 2.0, 3.0], 10.0, [0.5] * 3)  # decided by its rate gap; the controls by FD
    c = Claim.decided(gap, {"untrained G": (bad, "")}, {"other": (rules.absolute([0.5] * 3, 0.5, 0.1), "")},
                      section="4.1", claim="c", paper="p", ours="o", baseline="b")
    assert c.effect["name"] != "judge FD"
    row = forest([asdict(c)]).axes[0]
    levels = [ln.get_xdata()[0] for ln in row.lines if ln.get_marker() == "D"]
    assert levels == [0.5]  # the untrained G's rate gap; the other control has no such part and gets no diamond


def test_the_compute_page_sets_every_profile_beside_the_paper():
    from dcgan_core.book import pipeline
    from dcgan_core.book.results import compute_page
    rows = {"cpu": [{"model": "rooms", "data": "rooms", "images_seen": 399_360, "epochs": 20, "resolution": 32,
                     "g_widths": [128, 64, 32], "d_widths": [32, 64, 128]},
                    {"model": "far", "data": "lsun", "images_seen": None, "epochs": 5, "resolution": 64,
                     "g_widths": [1024], "d_widths": [128]}]}
    page = compute_page(rows, {"cpu": {"seconds": 7200.0, "workers": 2, "jobs": 9, "trained": 9,
                                       "git_commit": "abcdef0123456"}, "paper": None})
    assert "| the paper | LSUN bedrooms (Fig. 1-3, Sec. 6) | - | 15,000,000 | 64 |" in page
    assert "| cpu | rooms | rooms | 399,360 | 32 | G 128-64-32, D 32-64-128 | - |" in page
    assert "| 5 x the pack (not on this machine) |" in page
    assert "4.00 CPU process-hours" in page and "**paper**: not trained on this machine" in page
    broken = compute_page({"typo": "unknown parameter 'repeets'"}, {"typo": None})
    assert "| typo | could not be read: unknown parameter 'repeets' |" in broken
    smoke = {m["model"]: m for m in pipeline.profile_compute("smoke")}
    prof = pipeline.load_profile("smoke")
    entry, images = prof["models"]["rooms"], prof["packs"]["rooms"]["limit"]  # the pack holds its limit
    batch = entry.get("batch_size", 128)
    assert smoke["rooms"]["images_seen"] == entry["epochs"] * (images // batch) * batch
    assert smoke["rooms"]["resolution"] == 32 and len(smoke["rooms"]["g_widths"]) == 3
