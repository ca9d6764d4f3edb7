"""The one verdict convention: each verdict on hand-made per-seed numbers, both sides of the threshold, the seeds
that would decide a borderline part, how parts combine, and where a verdict flips."""

import numpy as np
import pytest

from dcgan_core.verdicts import convention as C

EPS = 1e-6


def part(values, threshold=0.0, better="lower", inclusive=True):
    return C.Part("x", values, threshold, better, inclusive)


@pytest.mark.parametrize("values, better, expect", [
    ([-3.0, -2.0, -1.0], "lower", "borderline"),  # t(0.975, 2) x 1 / sqrt(3) = 2.48: [-4.48, 0.48] holds 0
    ([-3.0, -2.5, -2.0], "lower", "reproduced"),  # interval [-3.74, -1.26], wholly below 0
    ([1.0, 2.0, 3.0], "lower", "borderline"),  # mean 2 > 0 but the interval [-0.48, 4.48] contains 0
    ([2.0, 2.5, 3.0], "lower", "not reproduced"),  # interval [1.26, 3.74], wholly above 0
    ([2.0, 2.5, 3.0], "higher", "reproduced"),
    ([-1.0, 0.5, 1.0], "higher", "borderline"),  # two of three seeds pass, the interval straddles 0
    ([-1.0], "lower", "single run"),  # fewer than MIN_SEEDS: no interval worth reading
    ([1.0, 2.0], "lower", "not reproduced"),
    ([-1.0, 1.0], "lower", "borderline"),
])
def test_each_verdict_on_hand_made_seeds(values, better, expect):
    assert C.read(part(values, better=better)).verdict == expect


@pytest.mark.parametrize("inclusive, expect", [(True, "reproduced"), (False, "not reproduced")])
def test_a_value_at_the_threshold_passes_only_an_inclusive_part(inclusive, expect):
    assert C.read(part([0.1, 0.1, 0.1], 0.1, inclusive=inclusive)).verdict == expect
    assert C.read(part([0.7 - 0.45] * 3, 0.25, "higher")).verdict == "reproduced"  # float rounding of k/n shares


@pytest.mark.parametrize("shift, expect", [(EPS, "reproduced"), (-EPS, "borderline")])
def test_the_interval_end_decides_at_the_threshold(shift, expect):
    values = np.array([1.0, 2.0, 3.0])
    hi = C.mean_ci(values)[2]
    assert C.read(part(values, hi + shift)).verdict == expect  # the upper end just below / above the threshold


def test_a_borderline_part_names_the_seeds_that_would_decide_it():
    r = C.read(part([1.0, 2.0, 3.0], 0.0))
    assert r.verdict == "borderline" and r.seeds_to_decide is not None
    n = r.seeds_to_decide  # at the same mean and sd, n seeds put 0 outside the interval, n - 1 do not
    from scipy import stats
    assert stats.t.ppf(0.975, n - 1) / np.sqrt(n) < 2.0 <= stats.t.ppf(0.975, n - 2) / np.sqrt(n - 1)
    assert C.read(part([-1.0, 0.0, 1.0], 0.0)).seeds_to_decide is None  # the mean on the threshold: no number
    assert C.read(part([-3.0, -2.5, -2.0])).seeds_to_decide is None  # decided already


def test_seeds_to_decide_names_up_to_max_seeds_named_and_no_more():
    """A mean just far enough from the threshold for MAX_SEEDS_NAMED seeds at its spread gets that number; one a
    hair nearer, which would need more seeds, gets none."""
    from scipy import stats
    n = C.MAX_SEEDS_NAMED
    values = np.array([-1.0, 0.0, 1.0])  # sd 1
    at_max = stats.t.ppf(0.975, n - 1) / np.sqrt(n)  # the distance n seeds just decide, n - 1 do not
    assert C.seeds_to_decide(values + at_max * (1 + 1e-6), 0.0) == n
    assert C.seeds_to_decide(values + at_max * (1 - 1e-6), 0.0) is None


@pytest.mark.parametrize("values, better", [([1.0, 2.0, 3.0], "lower"), ([2.0, 2.5, 3.0], "lower"),
                                            ([-3.0, -2.5, -2.0], "lower"), ([2.0, 2.5, 3.0], "higher")])
def test_the_verdict_changes_where_the_sensitivity_says(values, better):
    r = C.read(part(values, 0.0, better))
    for flip in r.flips_at:  # moving the threshold across each flip point changes the verdict
        below = C.read(part(values, flip - 1e-3, better)).verdict
        above = C.read(part(values, flip + 1e-3, better)).verdict
        assert below != above, (values, better, flip)
    assert "threshold" in r.sensitivity


@pytest.mark.parametrize("verdicts, expect", [
    (["reproduced", "reproduced"], "reproduced"),
    (["reproduced", "not reproduced"], "partly"),  # the only way to 'partly'
    (["reproduced", "borderline"], "borderline"),
    (["borderline", "not reproduced"], "not reproduced"),
    (["not reproduced", "not reproduced"], "not reproduced"),
    (["single run", "single run"], "single run"),
    (["reproduced", "borderline", "not reproduced"], "partly"),
])
def test_parts_combine(verdicts, expect):
    readings = [C.Reading("p", v, 0.0, (0.0, 0.0), 0.0, "lower", True, 3, 3, (0.0,) * 3, None, (0.0,))
                for v in verdicts]
    assert C.combine(readings) == expect


def test_the_deciding_part_is_the_failing_one():
    ok, bad = C.read(part([-3.0, -2.5, -2.0])), C.read(part([2.0, 2.5, 3.0]))
    assert C.deciding([ok, bad]) is bad and C.deciding([ok]) is ok


@pytest.mark.parametrize("values", [[], [1.0, float("nan"), 2.0], [[1.0], [2.0]]])
def test_a_part_refuses_values_that_are_not_one_finite_number_per_seed(values):
    with pytest.raises(ValueError, match="per seed"):
        part(values)
