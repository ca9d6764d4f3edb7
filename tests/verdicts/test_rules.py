"""Every verdict rule on both sides of each threshold, its positive control passing and its negative control failing
on fixtures, and how controls decide a claim (the convention itself: test_convention.py)."""

import numpy as np
import pytest

from dcgan_core.verdicts import rules as V

EPS = 1e-6
BAR = 10.0  # an FD bar for the quality rule
OK_GAP, BAD_GAP = V.RATE_TOLERANCE - EPS, V.RATE_TOLERANCE + EPS


@pytest.mark.parametrize("fd, gap, expect", [
    ([BAR - EPS] * 3, [OK_GAP] * 3, "reproduced"),
    ([BAR + EPS] * 3, [OK_GAP] * 3, "partly"),  # FD just above the bar, the content right: one part of two
    ([BAR - EPS] * 3, [BAD_GAP] * 3, "partly"),  # content rates just outside the tolerance
    ([BAR + EPS] * 3, [BAD_GAP] * 3, "not reproduced"),
    ([BAR - 1, BAR - 1, BAR + 0.5], [0.0] * 3, "borderline"),  # mean below the bar, its interval across it
    ([BAR + 3, BAR + 2.5, BAR + 2], [BAD_GAP] * 3, "not reproduced"),
    ([BAR - EPS], [0.0], "single run"),
])
def test_quality_rule(fd, gap, expect):
    assert V.quality(fd, BAR, gap).verdict == expect


def test_quality_needs_a_valid_judge():
    assert V.quality([1.0] * 3, BAR, [0.0] * 3, judge_ok=False).verdict == "inconclusive"
    assert V.quality([BAR * 2] * 3, BAR, [0.0] * 3, judge_ok=False).verdict == "inconclusive"


def test_quality_controls_fail():
    untrained = V.quality([20 * BAR] * 3, BAR, [0.9] * 3)  # far from the data, no content
    heavy_blur = V.quality([1.5 * BAR], BAR, [0.6])
    assert not untrained.passed and not heavy_blur.passed


def _mem(near, ratio, n=3):
    return {"pixel": [near] * n, "feature": [near] * n}, {"pixel": [ratio] * n, "feature": [ratio] * n}


@pytest.mark.parametrize("near, ratio, quality, expect", [
    (V.NEAR_COPY_MAX - EPS, V.DISTANCE_RATIO_MIN + EPS, "reproduced", "reproduced"),
    (V.NEAR_COPY_MAX + EPS, V.DISTANCE_RATIO_MIN + EPS, "reproduced", "partly"),
    (V.NEAR_COPY_MAX - EPS, V.DISTANCE_RATIO_MIN - EPS, "reproduced", "partly"),
    (V.NEAR_COPY_MAX + EPS, V.DISTANCE_RATIO_MIN - EPS, "reproduced", "not reproduced"),
    (0.0, 1.5, "not reproduced", "inconclusive"),  # noise has no near copies: not evidence
    (0.0, 1.5, "inconclusive", "inconclusive"),
    (0.0, 1.0, "partly", "reproduced"),
])
def test_memorisation_rule(near, ratio, quality, expect):
    assert V.memorisation(*_mem(near, ratio), quality).verdict == expect


def test_memoriser_control_fails_memorisation():
    assert V.memorisation(*_mem(0.98, 0.05), "reproduced").verdict == "not reproduced"


@pytest.mark.parametrize("jumps, semantic, expect", [
    (V.JUMP_SHARE_MAX, V.SEMANTIC_SHARE_MIN, "reproduced"),
    (V.JUMP_SHARE_MAX + EPS, V.SEMANTIC_SHARE_MIN, "partly"),  # semantic but jumpy: one part holds, one fails
    (V.JUMP_SHARE_MAX, V.SEMANTIC_SHARE_MIN - EPS, "partly"),  # smooth but no content change
    (V.JUMP_SHARE_MAX + EPS, V.SEMANTIC_SHARE_MIN - EPS, "not reproduced"),
])
def test_walk_rule(jumps, semantic, expect):
    assert V.smooth_semantic_walk([jumps] * 3, [semantic] * 3).verdict == expect


def test_walk_controls_fail():
    untrained = V.smooth_semantic_walk([0.0] * 3, [0.0] * 3)  # smooth, no recognisable content
    memoriser = V.smooth_semantic_walk([0.52, 0.45, 0.6], [0.7] * 3)  # content, but it stands still and jumps
    assert not untrained.passed and not memoriser.passed
    assert [p["verdict"] for p in untrained.parts] == ["reproduced", "not reproduced"]  # each part's own verdict


@pytest.mark.parametrize("bed_on_failures, expect", [
    (V.JUDGE_FAILURE_RATE_MAX * 0.9 - EPS, "reproduced"),
    (V.JUDGE_FAILURE_RATE_MAX * 0.9 + EPS, "not reproduced"),
])
def test_judge_rule_checks_every_reading(bed_on_failures, expect):
    real = {"real": 1.0, "bed": 0.9, "mirror": V.JUDGE_MIN_REAL_RATE - EPS}
    out = V.judge_valid(real, {"untrained G": {"real": 0.1, "bed": bed_on_failures, "mirror": 0.09},
                               "blur": {"real": 0.0, "bed": 0.0, "mirror": 0.0}})
    assert out.verdict == expect  # mirror is too rare on real images to compare
    if expect == "not reproduced":
        assert "untrained G: bed" in out.why


@pytest.mark.parametrize("mirror_on_real, expect", [(V.JUDGE_MIN_REAL_RATE, "not reproduced"),
                                                    (V.JUDGE_MIN_REAL_RATE - EPS, "reproduced")])
def test_judge_rule_reads_a_reading_from_its_real_rate_bar_on(mirror_on_real, expect):
    """A reading real images show at JUDGE_MIN_REAL_RATE is checked (here: on for every failure image); one just
    rarer is not."""
    out = V.judge_valid({"real": 1.0, "mirror": mirror_on_real}, {"blur": {"real": 0.0, "mirror": 1.0}})
    assert out.verdict == expect


def test_judge_rule_catches_a_judge_that_sees_a_bed_in_a_blob():
    """The failure this rule exists for: 'real' and 'bed' on for every untrained-G sample, other objects off.
    An average over readings would pass it; the per-reading rule does not."""
    real = {"real": 1.0, "window": 0.65, "bed": 1.0, "lamp": 0.64}
    out = V.judge_valid(real, {"untrained G": {"real": 1.0, "window": 0.0, "bed": 1.0, "lamp": 0.0}})
    assert out.verdict == "not reproduced" and "bed 100% vs real 100%" in out.why


def test_mean_ci_matches_the_t_interval():
    m, lo, hi = V.mean_ci([1.0, 2.0, 3.0])
    half = 4.302652729911275 * 1.0 / np.sqrt(3)  # t(0.975, 2) x sd / sqrt(n)
    assert m == 2.0 and lo == pytest.approx(2 - half) and hi == pytest.approx(2 + half)
    assert V.mean_ci([5.0]) == (5.0, 5.0, 5.0)


def test_mcnemar_counts_only_discordant_pairs():
    a = np.array([True] * 20 + [False] * 80)
    assert V.mcnemar(a, a) == 1.0
    b = np.zeros(100, bool)  # b is right wherever a is wrong: 20 discordant pairs, all one way
    assert V.mcnemar(a, b) == pytest.approx(2 * 0.5 ** 20)


@pytest.mark.parametrize("diffs, expect", [
    ([[-0.02, -0.03], [-0.025, -0.03], [-0.03, -0.02]], "reproduced"),  # seed means -2.5%, -2.75%, -2.5%
    ([[-0.05, 0.04], [-0.03, -0.01], [0.01, 0.0]], "borderline"),  # seed means straddle 0
    ([[0.01, 0.02], [0.015, 0.01], [0.02, 0.03]], "not reproduced"),
    ([[-0.01], [-0.012], [-0.011]], "reproduced"),  # one fit on all labels per seed
    ([[0.0], [0.0], [0.0]], "not reproduced"),  # a tie is not a win
    ([[-0.02, -0.03, -0.025]], "single run"),
])
def test_beats_rule(diffs, expect):
    assert V.beats(diffs).verdict == expect


def test_controls_decide_whether_a_claim_stands():
    claim, failed = V.quality([1.0] * 3, BAR, [0.0] * 3), V.quality([50.0] * 3, BAR, [0.5] * 3)
    border = V.quality([BAR - 1, BAR - 1, BAR + 0.5], BAR, [0.0] * 3)
    assert V.with_controls(claim, {"untrained G": failed}, {"real": claim}).verdict == "reproduced"
    assert V.with_controls(claim, {"untrained G": claim}, {"real": claim}).verdict == "inconclusive"
    assert V.with_controls(claim, {"untrained G": border}, {"real": claim}).verdict == "reproduced"  # did not pass
    assert V.with_controls(claim, {"untrained G": failed}, {"real": border}).verdict == "inconclusive"  # cannot pass
    assert V.with_controls(failed, {"x": claim}, {"real": claim}).verdict == "not reproduced"  # a failure stays
    out = V.with_controls(failed, {"x": failed}, {"real": failed})
    assert out.verdict == "inconclusive" and "positive control" in out.why  # a rule that cannot say yes


def test_a_control_is_told_apart_only_on_a_part_the_claim_passes():
    both = V.smooth_semantic_walk([0.0] * 3, [0.9] * 3)
    smooth_only, semantic_only = V.smooth_semantic_walk([0.0] * 3, [0.0] * 3), V.smooth_semantic_walk([0.6] * 3,
                                                                                                      [0.9] * 3)
    assert smooth_only.verdict == "partly" and V.told_apart(both, smooth_only) and V.told_apart(both, semantic_only)
    assert V.with_controls(both, {"untrained": smooth_only, "memoriser": semantic_only}, {"p": both}).verdict \
        == "reproduced"
    # a G that is only smooth cannot be told from the untrained G, which is smooth too: what it passes is no
    # evidence, and what it fails (semantic) still fails
    out = V.with_controls(smooth_only, {"untrained": smooth_only}, {"p": both})
    assert out.verdict == "not reproduced" and "do not tell it from" in out.why
    assert V.with_controls(both, {"same": both}, {"p": both}).verdict == "inconclusive"


def test_absolute_and_not_testable():
    assert V.absolute([0.225, 0.22, 0.23], 0.2248, 0.015).verdict == "reproduced"
    assert V.absolute([0.30, 0.31, 0.29], 0.2248, 0.015).verdict == "not reproduced"
    out = V.not_testable("measured on MNIST, a stand-in for SVHN")
    assert out.verdict == "not testable at this scale" and "stand-in" in out.why


def test_outcomes_name_their_rule_and_code():
    out = V.quality([1.0] * 3, BAR, [0.0] * 3)
    assert out.code == "dcgan_core.verdicts.rules.quality" and f"sigma {V.QUALITY_BLUR_SIGMA:g}" in out.rule
    with pytest.raises(ValueError, match="verdict must be one of"):
        V.Outcome("sort of", "", "", "")


@pytest.mark.parametrize("fp, pairs, expect", [
    ([0, 0, 0], [400, 400, 400], "reproduced"),
    ([1, 0, 1], [400, 400, 400], "reproduced"),  # 0.25%, 0, 0.25%: the interval's top 0.5%
    ([3, 3, 3], [400, 400, 400], "reproduced"),  # 0.75% on every hasher seed
    ([3, 4, 3], [400, 400, 400], "borderline"),  # 0.83% mean, 1.0% on one seed: the interval reaches 1.2%
    ([5, 5, 5], [400, 400, 400], "not reproduced"),  # 1.25%
    ([0, 0, 0], [0, 0, 0], "not reproduced"),  # nothing collided: no rate to speak of
])
def test_false_positive_rule(fp, pairs, expect):
    assert V.false_positive_share(fp, pairs).verdict == expect


def test_false_positive_bound_is_clopper_pearson():
    lo, hi = V.clopper_pearson(0, 300)
    assert lo == 0.0 and hi == pytest.approx(1 - 0.025 ** (1 / 300), rel=1e-6)
    assert V.clopper_pearson(0, 0) == (0.0, 1.0)


@pytest.mark.parametrize("recall, fp, expect", [
    ([0.6, 0.65, 0.7], [0.0, 0.005, 0.0], "reproduced"),
    ([0.6, 0.45, 0.7], [0.0, 0.0, 0.0], "borderline"),
    ([0.6, 0.65, 0.7], [0.02, 0.02, 0.02], "partly"),  # finds them, at too many false pairs
    ([0.2, 0.1, 0.3], [0.0, 0.0, 0.0], "partly"),  # the exact-bytes control: precise, finds no near copy
    ([0.9, 0.9, 0.9], [0.02, 0.02, 0.02], "partly"),  # finds them at too many false pairs
    ([0.2, 0.1, 0.3], [0.02, 0.02, 0.02], "not reproduced"),
])
def test_duplicates_found_rule(recall, fp, expect):
    assert V.duplicates_found(recall, fp).verdict == expect


@pytest.mark.parametrize("before, after, expect", [
    ([0.08, 0.10, 0.06], [0.0, 0.01, 0.0], "reproduced"),
    ([0.08, 0.10, 0.06], [0.0, 0.04, 0.02], "borderline"),
    ([0.08, 0.10, 0.06], [0.07, 0.09, 0.06], "not reproduced"),  # the random-removal control
    ([0.01, 0.0, 0.02], [0.0, 0.0, 0.0], "inconclusive"),  # no copying to reduce
    ([0.08, 0.01, 0.09], [0.0, 0.0, 0.0], "single run"),  # the seed that does not copy says nothing: 2 seeds left
    ([0.05, 0.05, 0.05], [0.03, 0.03, 0.03], "partly"),  # under 3% but not half: no real reduction
    ([0.08, 0.10, 0.06], [0.07, 0.09, 0.06], "not reproduced"),
])
def test_dedup_memorisation_rule(before, after, expect):
    assert V.dedup_reduces_memorisation(before, after).verdict == expect


def test_rules_report_their_deciding_number_for_the_forest_plot():
    cases = [V.quality([1.0, 2.0, 3.0], BAR, [0.0] * 3), V.false_positive_share([0, 1, 0], [400] * 3),
             V.duplicates_found([0.6] * 3, [0.0] * 3), V.dedup_reduces_memorisation([0.08] * 3, [0.0] * 3),
             V.fires_on_objects([100] * 3, [60] * 3, [128] * 3), V.little_discrimination([5] * 3, [128] * 3),
             V.removes_windows([0.3] * 3, [[0.1, 0.2]] * 3), V.smooth_semantic_walk([0.0] * 3, [0.7] * 3),
             V.beats([[-0.01, -0.02, -0.015, -0.012]] * 3)]
    for out in cases:
        e = out.effect
        assert out.verdict == "reproduced" and len(e["per_seed"]) in (1, 3), out.code
        m = sum(e["per_seed"]) / len(e["per_seed"])
        assert (m < e["threshold"]) if e["better"] == "lower" else (m > e["threshold"]), out.code
    assert V.not_testable("no boxes").effect is None
    failed = V.quality([60.0] * 3, BAR, [0.5] * 3)
    assert failed.verdict == "not reproduced" and min(failed.effect["per_seed"]) > failed.effect["threshold"]


T_MIN, T_GAIN = V.TRANSFER_MIN, V.TRANSFER_GAIN


@pytest.mark.parametrize("success, ref, expect", [
    ([T_MIN + EPS] * 3, [0.0] * 3, "reproduced"),
    ([T_MIN - EPS] * 3, [0.0] * 3, "partly"),  # the majority of outputs must show the target
    ([0.9] * 3, [0.9 - T_GAIN - EPS] * 3, "reproduced"),
    ([0.9] * 3, [0.9 - T_GAIN + EPS] * 3, "partly"),  # C alone already shows the target: no transfer
    ([0.2] * 3, [0.1] * 3, "not reproduced"),
    ([0.9, 0.9, 0.4], [0.0] * 3, "borderline"),
    ([0.4, 0.42, 0.44], [0.0] * 3, "partly"),  # a gain over C alone, but short of a majority of outputs
])
def test_transfer_rule_and_its_negation(success, ref, expect):
    assert V.transfers(success, ref).verdict == expect
    flipped = {"reproduced": "not reproduced", "not reproduced": "reproduced", "borderline": "borderline",
               "partly": "reproduced"}[expect]  # "does not transfer" is the same rule's negation
    assert V.does_not_transfer(success, ref).verdict == flipped


def test_transfer_control_fails_on_a_random_direction():
    assert V.transfers([0.02, 0.0, 0.05], [0.0] * 3).verdict == "not reproduced"


def test_shares_exactly_at_a_threshold_pass_it_despite_float_rounding():
    assert 0.7 - 0.45 < V.TRANSFER_GAIN and np.mean([16 / 20, 17 / 20, 15 / 20]) < V.TURN_SHARE_MIN  # as floats
    assert V.transfers([0.7] * 3, [0.45] * 3).verdict == "reproduced"  # a gain of exactly 25 points
    assert V.does_not_transfer([0.7] * 3, [0.45] * 3).verdict == "not reproduced"
    assert V.turns([16 / 20, 17 / 20, 15 / 20]).verdict == "borderline"  # the mean is 16/20, seed 3 misses
    assert V.turns([16 / 20] * 3).verdict == "reproduced"


@pytest.mark.parametrize("rule, args", [
    (V.transfers, ([0.9, 0.9], [0.0] * 3)), (V.does_not_transfer, ([], [])), (V.transfers, ([0.9] * 3, [0.0])),
    (V.turns, ([],)), (V.more_is_better, ([],)), (V.more_is_better, ([[0.1, 0.2], []],)),
])
def test_verdicts_refuse_inputs_without_one_value_per_seed(rule, args):
    with pytest.raises(ValueError, match="per seed"):
        rule(*args)


@pytest.mark.parametrize("diffs, expect", [
    ([np.full(20, 0.2) + np.linspace(-0.05, 0.05, 20)] * 3, "reproduced"),
    ([np.array([-0.25, 0.25])] * 3, "not reproduced"),  # no gain on any seed
    ([np.linspace(-0.3, -0.1, 20)] * 3, "not reproduced"),
    ([np.full(20, 0.2) + np.linspace(-0.05, 0.05, 20)] * 2 + [np.linspace(-0.5, 0.5, 21)], "borderline"),
])
def test_more_exemplars_rule(diffs, expect):
    assert V.more_is_better(diffs).verdict == expect


@pytest.mark.parametrize("shift, expect", [(EPS, "reproduced"), (-EPS, "borderline")])
def test_more_exemplars_rule_at_its_threshold(shift, expect):
    means = np.array([0.1, 0.2, 0.3])
    d = means - V.mean_ci(means)[1] + shift  # the seeds' interval's lower end just above / below 0
    assert V.more_is_better([[x] for x in d]).verdict == expect


@pytest.mark.parametrize("share, expect", [
    ([V.TURN_SHARE_MIN] * 3, "reproduced"),
    ([V.TURN_SHARE_MIN - EPS] * 3, "not reproduced"),
    ([0.45, 0.55, 0.5], "not reproduced"),  # a random direction turns about half of its lines, either way
    ([1.0, 1.0, 0.6], "borderline"),
])
def test_turn_rule(share, expect):
    assert V.turns(share).verdict == expect


def test_factor_bar():
    assert V.factor_readable(accuracy=V.FACTOR_ACCURACY_MIN) and not V.factor_readable(accuracy=V.FACTOR_ACCURACY_MIN
                                                                                       - EPS)
    assert V.factor_readable(r2=V.FACTOR_R2_MIN) and not V.factor_readable(r2=V.FACTOR_R2_MIN - EPS)
    with pytest.raises(ValueError):
        V.factor_readable()


POSITIVE_NEGATIVE = {  # each rule on something that has the property by construction, and on something that has not
    "quality: real images vs an untrained G": (
        lambda: V.quality([0.3, 0.35, 0.32], BAR, [0.01, 0.02, 0.015]), lambda: V.quality([60.0] * 3, BAR, [0.8] * 3)),
    "memorisation: unseen images vs a memoriser": (
        lambda: V.memorisation(*_mem(0.01, 1.0), "reproduced"),
        lambda: V.memorisation(*_mem(0.97, 0.04), "reproduced")),
    "walks: fades between real images vs an untrained G": (
        lambda: V.smooth_semantic_walk([0.0] * 3, [0.9, 0.85, 0.95]),
        lambda: V.smooth_semantic_walk([0.0] * 3, [0.0] * 3)),
    "beats: B vs noise features vs two random inits": (
        lambda: V.beats([[-0.6, -0.62], [-0.61, -0.6], [-0.63, -0.6]]),
        lambda: V.beats([[0.004, -0.006], [-0.002, 0.003], [0.001, 0.0]])),
    "false positives: exact bytes vs a 16-bit code": (
        lambda: V.false_positive_share([0] * 3, [150] * 3), lambda: V.false_positive_share([900] * 3, [1000] * 3)),
    "recall: the planted pairs vs exact bytes": (
        lambda: V.duplicates_found([1.0] * 3, [0.0] * 3), lambda: V.duplicates_found([0.0] * 3, [0.0] * 3)),
    "dedup: planted copies removed vs random removal": (
        lambda: V.dedup_reduces_memorisation([0.08, 0.1, 0.06], [0.0] * 3),
        lambda: V.dedup_reduces_memorisation([0.08, 0.1, 0.06], [0.075, 0.1, 0.055])),
    "no transfer: C decoded alone vs a transferring arithmetic": (
        lambda: V.does_not_transfer([0.2, 0.1, 0.3], [0.2, 0.1, 0.3]),
        lambda: V.does_not_transfer([0.9, 0.8, 0.85], [0.1] * 3)),
}


@pytest.mark.parametrize("name", POSITIVE_NEGATIVE)
def test_each_rule_passes_its_positive_control_and_tells_its_negative_apart(name):
    positive, negative = POSITIVE_NEGATIVE[name]
    assert positive().verdict == "reproduced" and negative().verdict != "reproduced"
    assert V.with_controls(positive(), {"negative": negative()}, {"positive": positive()}).verdict == "reproduced"


@pytest.mark.parametrize("selective, baseline, expect", [
    ([70, 72, 68], [60, 61, 59], "reproduced"),  # trained share above the random D's on every seed
    ([60, 61, 59], [60, 61, 59], "not reproduced"),  # no more selective than random weights: the rule's zero
    ([66, 56, 62], [60, 60, 60], "borderline"),  # the mean difference above zero, its interval across it
])
def test_fires_on_objects_rule(selective, baseline, expect):
    assert V.fires_on_objects(selective, baseline, [128] * 3).verdict == expect


def test_fires_on_objects_refuses_counts_of_different_seeds():
    with pytest.raises(ValueError, match="one count per seed"):
        V.fires_on_objects([70, 72], [60, 61, 59], [128] * 3)


# --- Sec. 3-4 guidelines ----------------------------------------------------------------------------------------
STABLE = dict(nonfinite=False, dgz_tail=0.3, frozen_change=0.05, diversity_ratio=0.9, coverage=1.0,
              fd_curve=[50.0, 20.0, 10.0, 9.0, 8.5, 8.0])


@pytest.mark.parametrize("change, failure", [
    ({}, ""),
    ({"nonfinite": True}, "diverged"),
    ({"dgz_tail": V.DIVERGED_DGZ * 0.9, "frozen_change": V.FROZEN_CHANGE * 0.9}, "diverged"),
    ({"dgz_tail": V.DIVERGED_DGZ * 1.1, "frozen_change": V.FROZEN_CHANGE * 0.9}, ""),  # D wins, G moves
    ({"dgz_tail": V.DIVERGED_DGZ * 0.9, "frozen_change": V.FROZEN_CHANGE * 1.1}, ""),
    ({"diversity_ratio": V.COLLAPSE_FRACTION * 0.99}, "collapsed"),
    ({"diversity_ratio": V.COLLAPSE_FRACTION * 1.01}, ""),
    ({"coverage": V.COLLAPSE_FRACTION * 0.99}, "collapsed"),
    ({"coverage": V.COLLAPSE_FRACTION}, ""),
    ({"fd_curve": [50, 20, 10, 9, 9 * (1 + V.OSCILLATION_RISE) * 1.01, 8]}, "oscillating"),
    ({"fd_curve": [50, 20, 10, 9, 9 * (1 + V.OSCILLATION_RISE) * 0.99, 8]}, ""),
    ({"fd_curve": [10, 10 * (1 + V.OSCILLATION_RISE) * 2, 9, 8, 7, 6]}, ""),  # early swings: not counted
    ({"nonfinite": True, "diversity_ratio": 0.1}, "diverged"),  # the first failure that applies names it
])
def test_run_failure_on_both_sides_of_each_threshold(change, failure):
    assert V.run_failure(**{**STABLE, **change}) == failure


def test_undoing_a_guideline_hurts_by_failures_or_by_quality_and_not_by_chance():
    none, all_ = [False] * 5, [True] * 5
    same_fd = [10.0, 11.0, 12.0, 13.0, 14.0]
    assert V.undoing_hurts(all_, none, same_fd, same_fd).verdict == "reproduced"  # p = 1/252
    assert V.undoing_hurts([True] * 4 + [False], none, same_fd, same_fd).verdict == "reproduced"  # p = 0.024
    three = V.undoing_hurts([True] * 3 + [False] * 2, none, same_fd, same_fd)
    assert three.verdict == "not reproduced" and "p = 0.0833" in three.why  # above ALPHA / 2
    worse = V.undoing_hurts(none, none, [20.0, 21, 22, 23, 24], same_fd)
    assert worse.verdict == "reproduced" and worse.effect["p_fd"] < V.GUIDELINE_ALPHA < worse.effect["p_fail"]
    interleaved = V.undoing_hurts(none, none, [10.5, 11.5, 12.5, 13.5, 14.5], same_fd)
    assert interleaved.verdict == "not reproduced"
    better = V.undoing_hurts(none, all_, same_fd, same_fd)  # the DCGAN failing more is no harm
    assert better.verdict == "not reproduced"
    diverged = V.undoing_hurts(none, none, [float("nan")] * 5, same_fd)  # stopped runs rank worst
    assert diverged.verdict == "reproduced" and diverged.effect["per_seed"] == [0.0] * 5
    few = V.undoing_hurts([True] * 3, [False] * 3, [1.0] * 3, [1.0] * 3)  # 1 / C(6, 3) = 0.05: cannot decide
    assert few.verdict == "borderline" and "cannot reach" in few.why
    assert V.undoing_hurts([True] * 4, [False] * 4, [1.0] * 4, [1.0] * 4).verdict == "reproduced"  # 1/70
    # a DCGAN arm that fails too leaves the failure test less room: 2 of 5 failing, at best p = 0.083 by failures,
    # though a worse FD could still decide; on 3 seeds with one DCGAN failure neither test can reach ALPHA / 2
    partial = V.undoing_hurts([True] * 5, [True, True] + [False] * 3, [1.0] * 5, [1.0] * 5)
    assert partial.verdict == "not reproduced" and "p = 0.0833" in partial.why
    few = V.undoing_hurts([True] * 3, [True, False, False], [1.0] * 3, [1.0] * 3)
    assert few.verdict == "borderline" and "at best p = 0.05" in few.why
    with pytest.raises(ValueError, match="one failure flag and one FD"):
        V.undoing_hurts([True], [False, False], [1.0, 2.0], [1.0, 2.0])


def test_the_rank_test_is_exact_with_ties():
    assert V.rank_test([5, 6, 7, 8, 9], [1, 2, 3, 4, 4.5]) == pytest.approx(1 / 252)
    assert V.rank_test([9, 9, 9, 9, 9], [1, 2, 3, 4, 5]) == pytest.approx(1 / 252)
    assert V.rank_test([1, 2], [1, 2]) > 0.5


def test_filters_collapse_when_the_share_rises_from_the_first_snapshot_to_the_last():
    assert V.filters_collapse([0.0, 0.0, 0.0], [0.25, 0.3, 0.2]).verdict == "reproduced"
    assert V.filters_collapse([0.1, 0.1, 0.1], [0.1, 0.1, 0.1]).verdict == "not reproduced"  # no rise: > 0 fails
    assert V.filters_collapse([0.0, 0.0, 0.0], [0.2, 0.0, -0.1]).verdict == "borderline"
    with pytest.raises(ValueError, match="one first and one last share"):
        V.filters_collapse([0.1], [0.1, 0.2])
