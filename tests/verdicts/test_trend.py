"""Issue 27: a claim's rule read at every snapshot, on made-up curves (rising, flat, noisy)."""

import numpy as np
import pytest

from dcgan_core.verdicts import rules, trend

BAR = 10.0  # the quality rule's FD bar in these curves; the rate gap passes throughout (0.02 <= 10%): FD decides


def curve(fd_per_snapshot: dict[int, list[float]]) -> dict:
    """The quality rule at each snapshot: images seen -> its outcome on the seeds' FDs."""
    return {images: rules.quality(fd, BAR, [0.02] * len(fd)) for images, fd in fd_per_snapshot.items()}


def test_a_rising_curve_reads_reproduced_from_the_first_snapshot_that_passes_for_good():
    t = trend.trend(curve({100_000: [30, 31, 29], 200_000: [12, 13, 11], 300_000: [6, 6.5, 5.5],
                           400_000: [4, 4.2, 3.8]}))
    assert t.verdicts[:2] == ("partly", "borderline") and t.verdicts[2:] == ("reproduced",) * 2
    assert t.first_pass == 300_000 and t.reading == "reproduced from 300,000 images on"
    assert t.images == (100_000, 200_000, 300_000, 400_000) and len(t.means) == 4
    # passing, failing, passing: only the last stretch counts
    again = trend.trend(curve({1: [5, 5.5, 4.5], 2: [14, 15, 13], 3: [5, 5.5, 4.5]}))
    assert again.first_pass == 3


def test_a_failing_curve_reads_still_improving_or_flat_against_the_seed_spread():
    improving = trend.trend(curve({1: [40, 41, 39], 2: [25, 26, 24], 3: [15, 16, 14]}))
    assert improving.reading == "partly, still improving" and improving.first_pass is None
    assert improving.statistic == "judge FD" and improving.means[-1] == pytest.approx(15)
    flat = trend.trend(curve({1: [40, 41, 39], 2: [15.2, 16.2, 14.2], 3: [15, 16, 14]}))
    assert flat.reading == "partly, flat"  # 0.2 down against a seed SD of 1
    worse = trend.trend(curve({1: [15, 16, 14], 2: [25, 26, 24]}))
    assert worse.reading == "partly, getting worse"


def test_a_noisy_curve_is_flat_unless_the_mean_moves_beyond_the_seed_spread():
    noisy = {1: [20, 40, 30], 2: [28, 12, 44]}  # the mean moves by 2 against a seed SD of 16
    assert trend.trend(curve(noisy)).moving == "flat"
    assert trend.moving([30, 30, 30], [28, 28, 28], "lower") == "improving"  # no spread: any change counts
    assert trend.moving([1.0], [1.0], "higher") == "flat"
    assert np.std([29, 30, 31], ddof=1) == 1  # a move of exactly MOVING_SD seed SDs is still flat, past it is not
    assert trend.moving([30 + trend.MOVING_SD] * 3, [29, 30, 31], "lower") == "flat"
    assert trend.moving([30 + 1.01 * trend.MOVING_SD] * 3, [29, 30, 31], "lower") == "improving"
    assert trend.moving([0.5, 0.6], [0.9, 1.0], "higher") == "improving"
    assert trend.moving([0.5, 0.6], [0.9, 1.0], "lower") == "worsening"
    one = trend.trend(curve({5: [4, 4, 4]}))
    assert one.moving == "one snapshot" and one.reading == "reproduced from 5 images on"


def test_a_trend_needs_one_rule_read_at_every_snapshot():
    with pytest.raises(ValueError, match="one snapshot at least"):
        trend.trend({})
    mixed = {1: rules.quality([5.0] * 3, BAR, [0.0] * 3), 2: rules.beats([[-0.1]] * 3)}
    with pytest.raises(ValueError, match="needs the part"):
        trend.trend(mixed)


def test_snapshots_a_seed_lacks_are_dropped_and_the_rule_reads_each_one_kept():
    at = {0: {1: 30.0, 2: 12.0, 3: 6.0}, 1: {2: 13.0, 3: 5.0}, 2: {1: 31.0, 2: 11.0, 3: 5.5}}
    assert trend.per_snapshot(at, [0, 1, 2]) == {2: [12.0, 13.0, 11.0], 3: [6.0, 5.0, 5.5]}
    assert trend.per_snapshot(at, [2, 0]) == {1: [31.0, 30.0], 2: [11.0, 12.0], 3: [5.5, 6.0]}  # seeds' order
    assert trend.per_snapshot(at, [0, 3]) == {} and trend.per_snapshot({}, [0]) == {}  # a seed with no snapshot
    read = []

    def rule(fds):
        read.append(fds)
        return rules.quality(fds, BAR, [0.02] * len(fds))
    t = trend.claim_trend(4, rule([4.0, 4.2, 3.8]), trend.per_snapshot(at, [0, 1, 2]), rule)
    assert read[1:] == [[12.0, 13.0, 11.0], [6.0, 5.0, 5.5]]  # each snapshot's own readings, none of the final's
    assert t["images"] == (2, 3, 4) and t["first_pass"] == 3
    assert trend.claim_trend(None, rule([4.0] * 3), {2: [5.0] * 3}, rule) is None  # the end's images seen unknown
    assert trend.claim_trend(4, rule([4.0] * 3), {}, rule) is None  # no earlier snapshot: no trend


def test_an_undecided_earlier_reading_keeps_its_verdict_without_a_mean():
    """The memorisation rule reads nothing while no seed copies (early snapshots): no mean, and the moving test
    falls back to the last two snapshots that read the part."""
    nothing = rules.dedup_reduces_memorisation([0.0, 0.0, 0.0], [0.0, 0.0, 0.0])
    assert nothing.verdict == "inconclusive" and not nothing.parts
    late = {1: nothing, 2: rules.dedup_reduces_memorisation([0.2, 0.3, 0.25], [0.15, 0.2, 0.2]),
            3: rules.dedup_reduces_memorisation([0.2, 0.3, 0.25], [0.01, 0.0, 0.01])}
    t = trend.trend(late)
    assert t.verdicts[0] == "inconclusive" and np.isnan(t.means[0]) and not np.isnan(t.means[1:]).any()
    assert t.moving == "improving" and t.first_pass == 3
    assert trend.trend({1: nothing, 2: late[3]}).moving == "one snapshot"
    assert trend.claim_trend(3, nothing, {1: late[2]}, lambda o: o) is None  # the end read nothing: no trend


def test_a_rule_that_decides_by_its_own_test_trends_on_its_effect():
    """undoing_hurts has no parts: its effect (the variant's failure flags against the DCGAN's rate) is read."""
    ok, failed = [False] * 5, [True] * 5
    fds = [10.0] * 5
    curve = {1: rules.undoing_hurts(ok, ok, fds, fds), 2: rules.undoing_hurts([True, True] + [False] * 3, ok, fds,
                                                                               fds),
             3: rules.undoing_hurts(failed, ok, fds, fds)}
    assert not curve[3].parts and curve[3].verdict == "reproduced"
    t = trend.trend(curve)
    assert t.statistic == "failed runs of the variant (1 = failed)" and t.means == (0.0, 0.4, 1.0)
    assert t.first_pass == 3 and t.threshold == 0.0 and t.better == "higher"
    assert t.thresholds == (0.0, 0.0, 0.0) and not t.bar  # the DCGAN's share: a reference, not a bar
    assert trend.trend(curve_of_quality := {1: rules.quality([5.0] * 3, BAR, [0.0] * 3)}).bar  # a part's threshold
    assert curve_of_quality[1].parts
    assert trend.claim_trend(3, curve[3], {1: curve[1]}, lambda o: o)["images"] == (1, 3)
