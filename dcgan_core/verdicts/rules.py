"""Verdict rules: one function per kind of paper claim, thresholds named, every rule able to say no.

A rule maps measurements to an `Outcome` (verdict, the rule's text, why, the deciding function). The
rule's text is generated from the constants below, so the book prints exactly what the code checks.
Conventions shared by every rule:
- Spread is over training seeds. A rule that would say "reproduced" on fewer than `MIN_SEEDS` seeds says
  "single run" instead (`over_seeds`).
- "reproduced" needs the condition on every seed; "partly" on the mean over seeds only.
- Each claim is also decided for its negative controls (an untrained G, a memoriser, random filters ...),
  run the same way. A control that comes out "reproduced" makes the claim "inconclusive" (`with_controls`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass

import numpy as np
from scipy import stats

VERDICTS = ("reproduced", "partly", "not reproduced", "inconclusive", "single run", "not testable at this scale")
MIN_SEEDS = 3  # a training method's claim rests on at least 3 training seeds (GAN and random-D init)
CONFIDENCE = 0.95

# Sec. 4.1 quality. The bar is a picture-quality statement made measurable: the judge's Frechet distance
# of held-out real images blurred with a 1-px Gaussian, where walls, beds and faces are still plain to see.
QUALITY_BLUR_SIGMA = 1.0
# ...and the judge must see the same content: per object (rooms) / factor (faces, digits), the share of
# samples it reports within 10 percentage points of held-out real images' share.
RATE_TOLERANCE = 0.10
# Sec. 4.1 memorisation. A near copy is closer to its nearest training image than 99% of held-out real images
# are (so 1% by construction); 3% allows for sampling noise on 2,000 samples (binomial sd 0.2%) with margin.
NEAR_COPY_MAX = 0.03
# the median nearest-training-neighbour distance of samples over that of held-out images: a copier is far below 1
DISTANCE_RATIO_MIN = 0.9
TOL = 1e-9  # shares are fractions k/n: a mean over seeds at a threshold must not fail it on float rounding
# Sec. 6.1. A jump is a step more than 3x its segment's median step (the paper's "sharp transition"); a static
# segment (no change at all) counts as one. A walk is smooth when at most 10% of its segments jump: a memoriser's
# segments stand still and then jump, a continuous generator's rarely do.
JUMP_RATIO_MAX = 3.0
JUMP_SHARE_MAX = 0.10
# ...and semantic when the judge reads different content at the two ends of at least half of the segments
# (an object appears or goes, a face factor flips), on frames the judge recognises as real content.
SEMANTIC_SHARE_MIN = 0.5
# A judge may certify content only if, on failure images (untrained-G samples, heavy blur, shuffled patches,
# pixelation), none of its readings ("real", and each object / factor / class) is on at more than half the rate
# it is on for real images. Readings on for fewer than 10% of real images are too rare to compare.
JUDGE_FAILURE_RATE_MAX = 0.5
JUDGE_MIN_REAL_RATE = 0.10
# Sec. 4.1.1 de-duplication: the paper's "false positive rate below 1/100" is the share of collision pairs that are
# not duplicates; near duplicates are "found" when the majority of planted ones are, at that false-positive share.
FALSE_POSITIVE_MAX = 0.01
RECALL_MIN = 0.5
# Sec. 6.2 guided backprop. A feature "fires on objects" when the saliency of its maximal response on its most
# responsive images falls inside one object class's boxes more than that class's share of the image area
# (one-sided t-test, Bonferroni over classes, at ALPHA). "Little to no discrimination" allows at most 10% such
# features: twice the share a net without any selectivity reaches by chance at ALPHA.
LITTLE_SELECTIVE_MAX = 0.10
# Sec. 6.3.2 face arithmetic. An equation "transfers the attribute" when the majority of its outputs (centre + 8
# jittered) show the target attributes with the others kept, and at least 25 points more than decoding C alone
# (without the arithmetic), which shows how often C's own neighbourhood already has the target by chance.
TRANSFER_MIN = 0.5
TRANSFER_GAIN = 0.25
# The turn vector "rotates the face" when the judge's yaw follows the position on (nearly) every line: a line turns
# when the Spearman correlation of yaw with the position, oriented along the vector, is >= 0.5, and at least 80% of
# lines must turn. Any large step in z turns the head one way or the other, so a random direction of the same norm
# turns about half of its lines (of the cpu profile's 20, >= 16 with P = 0.006 for a coin); its median correlation
# is a coin flip too.
TURN_RHO_MIN = 0.5
TURN_SHARE_MIN = 0.8
# A verdict uses a face factor only if the judge reads it on held-out real faces at least this well: the on/off
# reading's accuracy (a factor used as a concept), R^2 of the value (yaw, used as a continuous reading).
FACTOR_ACCURACY_MIN = 0.95
FACTOR_R2_MIN = 0.9
# Sec. 5 probes: a paired test of two feature sets on the same label draws and test set, at 5%.
ALPHA = 0.05


@dataclass(frozen=True)
class Outcome:
    """A rule's decision: the verdict, the rule as text, why it came out so, the function that decided, and the
    effect: the number the rule compares with its threshold, per seed (for the results page's forest plot)."""

    verdict: str
    rule: str
    why: str
    code: str
    effect: dict | None = None  # {"name", "per_seed": [...], "threshold", "better": "lower" | "higher"}

    def __post_init__(self) -> None:
        if self.verdict not in VERDICTS:
            raise ValueError(f"verdict must be one of {VERDICTS}, got {self.verdict!r}")

    @property
    def passed(self) -> bool:
        return self.verdict == "reproduced"

    def to_dict(self) -> dict:
        return asdict(self)


def _outcome(fn: Callable, verdict: str, rule: str, why: str, effect: tuple | None = None) -> Outcome:
    """effect: (name, per-seed values, threshold, "lower" or "higher" passes)."""
    eff = None
    if effect is not None:
        name, per_seed, threshold, better = effect
        eff = {"name": name, "per_seed": [float(v) for v in np.atleast_1d(per_seed)], "threshold": float(threshold),
               "better": better}
    return Outcome(verdict, rule, why, f"{fn.__module__}.{fn.__qualname__}", eff)


def mean_ci(values: Sequence[float], confidence: float = CONFIDENCE) -> tuple[float, float, float]:
    """Mean and Student-t interval of the mean; a single value gives a zero-width interval."""
    v = np.asarray(values, float)
    m = float(v.mean())
    if len(v) < 2:
        return m, m, m
    half = float(stats.t.ppf(0.5 + confidence / 2, len(v) - 1) * v.std(ddof=1) / np.sqrt(len(v)))
    return m, m - half, m + half


def over_seeds(per_seed: Sequence[bool], mean_passes: bool) -> tuple[str, str]:
    """The shared seed convention: (verdict, why) from a per-seed pass list and the pass of the seed mean."""
    n, k = len(per_seed), int(sum(per_seed))
    if n and k == n and n < MIN_SEEDS:
        return "single run", f"holds on all {n} seed(s), fewer than the {MIN_SEEDS} a verdict needs"
    if n and k == n:
        return "reproduced", f"holds on all {n} seeds"
    if mean_passes:
        return "partly", f"holds on the mean over seeds, on {k} of {n} seeds"
    return "not reproduced", f"fails on the mean over seeds (holds on {k} of {n} seeds)"


def with_controls(claim: Outcome, controls: dict[str, Outcome]) -> Outcome:
    """A claim whose negative control passes the same rule cannot be told apart from the control."""
    passed = [name for name, c in controls.items() if c.verdict in ("reproduced", "single run")]
    if not passed or claim.verdict in ("not reproduced", "not testable at this scale"):
        return claim
    return Outcome("inconclusive", claim.rule, f"{claim.why}; but the negative control(s) {', '.join(passed)} "
                   "pass the same rule", claim.code, claim.effect)


def quality(fd: Sequence[float], fd_bar: float, rate_gap: Sequence[float], judge_ok: bool = True) -> Outcome:
    """Sec. 4.1 "DCGAN trains to good samples": FD in the judge's space below that of real images blurred by
    QUALITY_BLUR_SIGMA px, and the judge's per-object/factor rates within RATE_TOLERANCE of real images'.
    A judge that failed its own check (`judge_valid`) can neither certify nor refute it: then 'inconclusive'."""
    rule = (f"per seed: judge FD < FD of held-out real images blurred with sigma {QUALITY_BLUR_SIGMA:g} px, and "
            f"the largest gap between the judge's per-object/factor rates on samples and on real images "
            f"<= {RATE_TOLERANCE:.0%}; only with a judge that passed its failure-image check")
    fd, gap = np.asarray(fd, float), np.asarray(rate_gap, float)
    per_seed = [bool(f < fd_bar and g <= RATE_TOLERANCE) for f, g in zip(fd, gap)]
    verdict, why = over_seeds(per_seed, bool(fd.mean() < fd_bar and gap.mean() <= RATE_TOLERANCE))
    why = f"{why} (FD {fd.mean():.2f} vs bar {fd_bar:.2f}, largest rate gap {gap.mean():.0%})"
    if not judge_ok:  # both halves are read in the judge's space: neither a pass nor a fail is evidence
        verdict, why = "inconclusive", f"{why}; but the judge failed its failure-image check"
    return _outcome(quality, verdict, rule, why, ("judge FD (bar: real images blurred sigma 1)", fd, fd_bar, "lower"))


def memorisation(near_copy: dict[str, Sequence[float]], ratio: dict[str, Sequence[float]],
                 quality_verdict: str) -> Outcome:
    """Sec. 4.1 "samples are not memorised": near-copy rate <= NEAR_COPY_MAX and distance ratio >=
    DISTANCE_RATIO_MIN in every space; only meaningful for a generator that draws the data (noise copies nothing)."""
    spaces = sorted(near_copy)
    rule = (f"only if the quality claim holds (reproduced or partly); then per seed and in each space "
            f"({', '.join(spaces)}): near-copy rate <= {NEAR_COPY_MAX:.0%} (1% by construction) and median "
            f"NN distance of samples / of held-out images >= {DISTANCE_RATIO_MIN}")
    if quality_verdict not in ("reproduced", "partly", "single run"):
        return _outcome(memorisation, "inconclusive", rule, f"the quality claim is {quality_verdict!r}: samples "
                        "far from the data have no near copies whether or not the model copies",
                        ("near-copy rate, pixel space", near_copy["pixel"], NEAR_COPY_MAX, "lower"))
    n = len(near_copy[spaces[0]])
    ok = [all(near_copy[s][i] <= NEAR_COPY_MAX and ratio[s][i] >= DISTANCE_RATIO_MIN for s in spaces)
          for i in range(n)]
    mean_ok = all(np.mean(near_copy[s]) <= NEAR_COPY_MAX and np.mean(ratio[s]) >= DISTANCE_RATIO_MIN for s in spaces)
    verdict, why = over_seeds(ok, mean_ok)
    rates = ", ".join(f"{s} {np.mean(near_copy[s]):.1%} / {np.mean(ratio[s]):.2f}" for s in spaces)
    return _outcome(memorisation, verdict, rule, f"{why} (near-copy rate / ratio: {rates})",
                    ("near-copy rate, pixel space", near_copy["pixel"], NEAR_COPY_MAX, "lower"))


def smooth_semantic_walk(jump_share: Sequence[float], semantic_share: Sequence[float]) -> Outcome:
    """Sec. 6.1 walks change the image gradually (<= JUMP_SHARE_MAX of segments jump) and semantically
    (>= SEMANTIC_SHARE_MIN of segments change the judge's reading)."""
    rule = (f"per seed: <= {JUMP_SHARE_MAX:.0%} of segments have a step > {JUMP_RATIO_MAX:g}x their median step (a "
            f"static segment counts as a jump), and >= {SEMANTIC_SHARE_MIN:.0%} of segments end with the judge "
            "reading different content on recognised frames; 'partly' when only one of the two holds on the mean")
    jumps, sem = np.asarray(jump_share, float), np.asarray(semantic_share, float)
    per_seed = [bool(j <= JUMP_SHARE_MAX + TOL and s >= SEMANTIC_SHARE_MIN - TOL) for j, s in zip(jumps, sem)]
    smooth, semantic = bool(jumps.mean() <= JUMP_SHARE_MAX + TOL), bool(sem.mean() >= SEMANTIC_SHARE_MIN - TOL)
    verdict, why = over_seeds(per_seed, smooth and semantic)
    if verdict == "not reproduced" and (smooth or semantic):
        verdict, why = "partly", f"only {'smooth' if smooth else 'semantic'} on the mean over seeds"
    return _outcome(smooth_semantic_walk, verdict, rule,
                    f"{why} (segments with a jump {jumps.mean():.0%}, with a semantic change {sem.mean():.0%})",
                    ("segments with a semantic change", sem, SEMANTIC_SHARE_MIN, "higher"))


def judge_valid(real: dict[str, float], failures: dict[str, dict[str, float]]) -> Outcome:
    """A judge certifies content only if no reading is on for a failure set at more than JUDGE_FAILURE_RATE_MAX x
    its rate on real images (readings on for >= JUDGE_MIN_REAL_RATE of real images)."""
    rule = (f"for every failure set and every reading on for >= {JUDGE_MIN_REAL_RATE:.0%} of held-out real images "
            f"('real', each object / factor / class): rate on the failure set <= {JUDGE_FAILURE_RATE_MAX:g} x the "
            "rate on real images")
    bad = [f"{name}: {k} {rates[k]:.0%} vs real {real[k]:.0%}" for name, rates in failures.items()
           for k in real if real[k] >= JUDGE_MIN_REAL_RATE and rates[k] > JUDGE_FAILURE_RATE_MAX * real[k]]
    worst = max(((rates[k] / real[k], f"{name}: {k} {rates[k]:.0%} vs real {real[k]:.0%}")
                 for name, rates in failures.items() for k in real if real[k] >= JUDGE_MIN_REAL_RATE),
                default=(0.0, "no readings"))
    effect = ("worst failure-image rate / real-image rate", [worst[0]], JUDGE_FAILURE_RATE_MAX, "lower")
    if bad:
        return _outcome(judge_valid, "not reproduced", rule, "fails on " + "; ".join(bad), effect)
    return _outcome(judge_valid, "reproduced", rule, f"closest to the limit: {worst[1]}", effect)


def paired_difference(diffs: Sequence[float], confidence: float = CONFIDENCE) -> dict:
    """Mean of paired differences (method - baseline, per shared label draw) with its t interval."""
    m, lo, hi = mean_ci(diffs, confidence)
    return {"mean": m, "ci95": [lo, hi], "n": len(diffs)}


def mcnemar(wrong_a: np.ndarray, wrong_b: np.ndarray) -> float:
    """Exact McNemar p-value of two classifiers' errors on the same test set (binomial on the discordant pairs)."""
    a_only = int(np.sum(wrong_a & ~wrong_b))
    b_only = int(np.sum(~wrong_a & wrong_b))
    if a_only + b_only == 0:
        return 1.0
    return float(stats.binomtest(a_only, a_only + b_only, 0.5).pvalue)


def beats(diffs_per_seed: Sequence[Sequence[float]], p_values: Sequence[float] | None = None) -> Outcome:
    """Sec. 5 "features A beat B": lower test error, paired on the same label draws (per-draw differences,
    95% interval excluding 0) or, for one fit on all labels, McNemar at ALPHA; per seed."""
    rule = (f"per training seed: error(A) - error(B) on the same label draws has a {CONFIDENCE:.0%} interval "
            f"below 0 (several draws), or is < 0 with McNemar p < {ALPHA} (one fit on all labels)")
    per_seed = []
    for i, d in enumerate(diffs_per_seed):
        if len(d) > 1:
            per_seed.append(paired_difference(d)["ci95"][1] < 0)
        else:
            per_seed.append(bool(np.mean(d) < 0 and p_values is not None and p_values[i] < ALPHA))
    mean = float(np.mean([np.mean(d) for d in diffs_per_seed]))
    verdict, why = over_seeds(per_seed, mean < 0)
    return _outcome(beats, verdict, rule, f"{why} (mean difference {mean:+.2%})",
                    ("test error of A - error of B", [np.mean(d) for d in diffs_per_seed], 0.0, "lower"))


def not_testable(reason: str) -> Outcome:
    """A claim (often an absolute number of the paper) on data or at a scale that cannot show it."""
    return _outcome(not_testable, "not testable at this scale", "a claim is decided only on data and at a scale "
                    "that can show it (an absolute number of the paper: on the paper's data and protocol)", reason)


def absolute(errors_per_seed: Sequence[float], paper_error: float, tolerance: float) -> Outcome:
    """The paper's absolute error, on its own data and protocol: the seeds' mean within `tolerance`."""
    rule = f"per seed: |test error - paper's {paper_error:.2%}| <= {tolerance:.1%} (on the paper's data and protocol)"
    e = np.asarray(errors_per_seed, float)
    verdict, why = over_seeds([bool(abs(x - paper_error) <= tolerance) for x in e],
                              bool(abs(e.mean() - paper_error) <= tolerance))
    return _outcome(absolute, verdict, rule, f"{why} (mean {e.mean():.2%})",
                    ("|test error - paper's|", np.abs(e - paper_error), tolerance, "lower"))


def clopper_pearson(k: int, n: int, confidence: float = CONFIDENCE) -> tuple[float, float]:
    """Exact binomial interval of k successes in n trials (n = 0: the whole [0, 1])."""
    if n == 0:
        return 0.0, 1.0
    ci = stats.binomtest(int(k), int(n)).proportion_ci(confidence, method="exact")
    return float(ci.low), float(ci.high)


def false_positive_share(false_pos: Sequence[int], pairs: Sequence[int]) -> Outcome:
    """Sec. 4.1.1 "false positive rate < 1%": per hasher seed the share of collision pairs that are not planted
    copies is below FALSE_POSITIVE_MAX; 'reproduced' also needs the pooled 95% upper bound below it."""
    rule = (f"per seed: false collision pairs / collision pairs < {FALSE_POSITIVE_MAX:.0%} (no collisions fails); "
            f"'reproduced' also needs the exact {CONFIDENCE:.0%} upper bound of the pooled share < "
            f"{FALSE_POSITIVE_MAX:.0%}, else 'partly'")
    fp, n = np.asarray(false_pos, int), np.asarray(pairs, int)
    per_seed = [bool(p > 0 and f / p < FALSE_POSITIVE_MAX) for f, p in zip(fp, n)]
    pooled = fp.sum() / n.sum() if n.sum() else 1.0
    upper = clopper_pearson(fp.sum(), n.sum())[1]
    verdict, why = over_seeds(per_seed, bool(n.sum() and pooled < FALSE_POSITIVE_MAX))
    if verdict == "reproduced" and upper >= FALSE_POSITIVE_MAX:
        verdict, why = "partly", f"{why}, but too few pairs to bound the share below {FALSE_POSITIVE_MAX:.0%}"
    return _outcome(false_positive_share, verdict, rule,
                    f"{why} ({fp.sum()} of {n.sum()} pairs false: {pooled:.2%}, upper bound {upper:.2%})",
                    ("false share of collision pairs", [f / p if p else 1.0 for f, p in zip(fp, n)],
                     FALSE_POSITIVE_MAX, "lower"))


def duplicates_found(recall_near: Sequence[float], false_share: Sequence[float]) -> Outcome:
    """Sec. 4.1.1 "near duplicates are removed": per seed, recall of planted near-duplicate pairs >= RECALL_MIN
    at a false-positive share < FALSE_POSITIVE_MAX (the paper's "below 1%")."""
    rule = (f"per seed: recall of planted near-duplicate (not byte-identical) pairs >= {RECALL_MIN:.0%}, with a "
            f"false-positive share of collision pairs < {FALSE_POSITIVE_MAX:.0%}")
    rec, fp = np.asarray(recall_near, float), np.asarray(false_share, float)
    per_seed = [bool(r >= RECALL_MIN and f < FALSE_POSITIVE_MAX) for r, f in zip(rec, fp)]
    verdict, why = over_seeds(per_seed, bool(rec.mean() >= RECALL_MIN and fp.mean() < FALSE_POSITIVE_MAX))
    return _outcome(duplicates_found, verdict, rule,
                    f"{why} (recall {rec.mean():.0%}, false-positive share {fp.mean():.1%})",
                    ("recall of planted near duplicates", rec, RECALL_MIN, "higher"))


def dedup_reduces_memorisation(before: Sequence[float], after: Sequence[float]) -> Outcome:
    """Sec. 4.1.1 dedup against memorisation: on the seeds whose model copies the duplicated images when they are in
    the set (rate > NEAR_COPY_MAX), the same model trained after removal copies them at most NEAR_COPY_MAX and at
    most half as often. Seeds that do not copy even with the duplicates say nothing either way."""
    rule = (f"on each seed whose model makes near copies of the duplicated images when trained with them (> "
            f"{NEAR_COPY_MAX:.0%} of samples): after removal <= {NEAR_COPY_MAX:.0%} and <= half the rate with them; "
            "'inconclusive' when no seed copies with the duplicates (nothing to reduce)")
    b, a = np.asarray(before, float), np.asarray(after, float)
    why_rates = f"near copies {b.mean():.1%} with duplicates, {a.mean():.1%} after"
    effect = ("near copies of duplicated images, after removal", a, NEAR_COPY_MAX, "lower")
    informative = b > NEAR_COPY_MAX
    if not informative.any():
        return _outcome(dedup_reduces_memorisation, "inconclusive", rule,
                        f"the model does not copy the duplicated images even with them in the set ({why_rates})",
                        effect)
    ok = (a <= NEAR_COPY_MAX) & (a <= b / 2)
    a_in, b_in = a[informative].mean(), b[informative].mean()
    verdict, why = over_seeds(list(ok[informative]), bool(a_in <= NEAR_COPY_MAX and a_in <= b_in / 2))
    left_out = f"; {int((~informative).sum())} seed(s) without copying left out" if (~informative).any() else ""
    return _outcome(dedup_reduces_memorisation, verdict, rule, f"{why} ({why_rates}{left_out})", effect)


def fires_on_objects(selective: Sequence[int], baseline: Sequence[int], n_features: Sequence[int]) -> Outcome:
    """Sec. 6.2 "trained D's features fire on objects": per seed, more of its features are object-selective than of
    the same D at random weights (one-sided Fisher exact test at ALPHA)."""
    rule = (f"per seed: object-selective features of the trained D outnumber those of the same D at random weights, "
            f"one-sided Fisher exact test p < {ALPHA}")
    ps = [float(stats.fisher_exact([[a, n - a], [b, n - b]], alternative="greater").pvalue)
          for a, b, n in zip(selective, baseline, n_features)]
    share = np.asarray(selective) / np.asarray(n_features)
    base = np.asarray(baseline) / np.asarray(n_features)
    verdict, why = over_seeds([p < ALPHA for p in ps], bool(share.mean() > base.mean() and np.median(ps) < ALPHA))
    return _outcome(fires_on_objects, verdict, rule, f"{why} (selective {share.mean():.0%} vs {base.mean():.0%} at "
                    f"random weights; p {', '.join(f'{p:.2g}' for p in ps)})",
                    ("object-selective share - random D's", share - base, 0.0, "higher"))


def little_discrimination(selective: Sequence[int], n_features: Sequence[int]) -> Outcome:
    """Sec. 6.2 "random filters show little to no discrimination": per seed, at most LITTLE_SELECTIVE_MAX of the
    features are object-selective."""
    rule = f"per seed: <= {LITTLE_SELECTIVE_MAX:.0%} of the features are object-selective"
    share = np.asarray(selective) / np.asarray(n_features)
    verdict, why = over_seeds([bool(s <= LITTLE_SELECTIVE_MAX) for s in share],
                              bool(share.mean() <= LITTLE_SELECTIVE_MAX))
    return _outcome(little_discrimination, verdict, rule, f"{why} (object-selective {share.mean():.0%})",
                    ("object-selective share", share, LITTLE_SELECTIVE_MAX, "lower"))


def removes_windows(drop: Sequence[float], random_drops: Sequence[Sequence[float]]) -> Outcome:
    """Sec. 6.3.1 "G forgets to draw windows": per seed, dropping the window maps lowers the detected window rate
    more than every one of the random drops of as many maps (a rank test, p <= 1/(draws + 1))."""
    rule = ("per seed: the drop in the detected window rate (paired on the same z) is larger than under every "
            "random drop of as many maps of the same layer (rank test, p <= 1/(draws + 1))")
    per_seed = [bool(d > max(r)) for d, r in zip(drop, random_drops)]
    mean_ok = bool(np.mean(drop) > np.mean([max(r) for r in random_drops]))
    verdict, why = over_seeds(per_seed, mean_ok)
    return _outcome(removes_windows, verdict, rule, f"{why} (drop {np.mean(drop):+.1%}; largest random drop "
                    f"{np.mean([max(r) for r in random_drops]):+.1%})",
                    ("window-rate drop - largest random drop", [d - max(r) for d, r in zip(drop, random_drops)],
                     0.0, "higher"))


def scene_kept(other_change: Sequence[float], fd_change: Sequence[float], random_other: Sequence[Sequence[float]],
               random_fd: Sequence[Sequence[float]]) -> Outcome:
    """Sec. 6.3.1 "the rest of the room stays": per seed, the other objects' rates and the FD change no more than
    under the median random drop of as many maps."""
    rule = ("per seed: mean absolute change of the other object classes' detected rates <= the median over random "
            "drops of as many maps, and the FD increase <= theirs")
    per_seed = [bool(o <= np.median(ro) and f <= np.median(rf))
                for o, f, ro, rf in zip(other_change, fd_change, random_other, random_fd)]
    mean_ok = bool(np.mean(other_change) <= np.mean([np.median(r) for r in random_other])
                   and np.mean(fd_change) <= np.mean([np.median(r) for r in random_fd]))
    verdict, why = over_seeds(per_seed, mean_ok)
    return _outcome(scene_kept, verdict, rule, f"{why} (other objects {np.mean(other_change):.1%} vs random "
                    f"{np.mean([np.median(r) for r in random_other]):.1%}; FD {np.mean(fd_change):+.2f} vs "
                    f"{np.mean([np.median(r) for r in random_fd]):+.2f})",
                    ("FD change - random drops' median", [f - np.median(r) for f, r in zip(fd_change, random_fd)],
                     0.0, "lower"))


def _paired(success: Sequence[float], reference: Sequence[float]) -> tuple[np.ndarray, np.ndarray]:
    """One success and one reference share per seed, as arrays; unequal or empty inputs are refused."""
    s, r = np.asarray(success, float), np.asarray(reference, float)
    if s.ndim != 1 or s.shape != r.shape or not len(s):
        raise ValueError(f"success and reference need one value per seed each, got {s.shape} and {r.shape}")
    return s, r


def _transfers(success: float, reference: float) -> bool:
    """The transfer rule on one pair of shares (TOL: k/n shares must not fail on float rounding)."""
    return bool(success >= TRANSFER_MIN - TOL and success - reference >= TRANSFER_GAIN - TOL)


def transfers(success: Sequence[float], reference: Sequence[float]) -> Outcome:
    """Sec. 6.3.2 "arithmetic transfers the attribute": per seed, the share of outputs with the target attributes
    >= TRANSFER_MIN and >= TRANSFER_GAIN above the reference (C decoded without the arithmetic)."""
    rule = (f"per seed: share of outputs (centre + 8 jittered) the judge reads with the target attributes and the "
            f"others kept >= {TRANSFER_MIN:.0%}, and >= {TRANSFER_GAIN:.0%} points above decoding C alone")
    s, r = _paired(success, reference)
    verdict, why = over_seeds([_transfers(a, b) for a, b in zip(s, r)], _transfers(s.mean(), r.mean()))
    return _outcome(transfers, verdict, rule, f"{why} (success {s.mean():.0%} vs C alone {r.mean():.0%})",
                    ("success - C alone", s - r, TRANSFER_GAIN, "higher"))


def does_not_transfer(success: Sequence[float], reference: Sequence[float]) -> Outcome:
    """Sec. 6.3.2 "pixel-space arithmetic does not work": per seed, the `transfers` rule fails."""
    rule = (f"per seed: the transfer rule fails (success < {TRANSFER_MIN:.0%} or < {TRANSFER_GAIN:.0%} points above "
            "decoding C alone)")
    s, r = _paired(success, reference)
    verdict, why = over_seeds([not _transfers(a, b) for a, b in zip(s, r)], not _transfers(s.mean(), r.mean()))
    return _outcome(does_not_transfer, verdict, rule, f"{why} (success {s.mean():.0%} vs C alone {r.mean():.0%})",
                    ("success - C alone", s - r, TRANSFER_GAIN, "lower"))


def more_is_better(diffs_per_seed: Sequence[Sequence[float]]) -> Outcome:
    """Sec. 6.3.2 "averaging exemplars is needed": per seed, success with k exemplars (the paper: 3) - success with 1
    on the same exemplar draws has a 95% interval above 0."""
    rule = (f"per seed: success with k exemplars - success with 1 (paired on the same draws) has a {CONFIDENCE:.0%} "
            "interval above 0")
    if not len(diffs_per_seed) or any(not len(d) for d in diffs_per_seed):
        raise ValueError("more_is_better needs, per seed, at least one paired difference")
    per_seed = [bool(len(d) > 1 and paired_difference(d)["ci95"][0] > 0) for d in diffs_per_seed]
    means = [float(np.mean(d)) for d in diffs_per_seed]
    verdict, why = over_seeds(per_seed, float(np.mean(means)) > 0 and sum(per_seed) > len(per_seed) / 2)
    return _outcome(more_is_better, verdict, rule, f"{why} (mean gain {np.mean(means):+.0%})",
                    ("success(k) - success(1)", means, 0.0, "higher"))


def turns(turned_share: Sequence[float]) -> Outcome:
    """Sec. 6.3.2 / Fig. 8 "the turn vector rotates the face": per seed, the share of lines along which the judge's
    yaw follows the position (oriented Spearman rho >= TURN_RHO_MIN) is >= TURN_SHARE_MIN."""
    rule = (f"per seed: >= {TURN_SHARE_MIN:.0%} of lines turn the way the vector points (Spearman correlation of the "
            f"judge's yaw with the position >= {TURN_RHO_MIN})")
    r = np.asarray(turned_share, float)
    if r.ndim != 1 or not len(r):
        raise ValueError(f"turns needs one share of turned lines per seed, got shape {r.shape}")
    verdict, why = over_seeds([bool(v >= TURN_SHARE_MIN - TOL) for v in r], bool(r.mean() >= TURN_SHARE_MIN - TOL))
    return _outcome(turns, verdict, rule, f"{why} (lines turned {r.mean():.0%})",
                    ("share of lines that turn", r, TURN_SHARE_MIN, "higher"))


def factor_readable(accuracy: float | None = None, r2: float | None = None) -> bool:
    """Whether the judge reads a face factor well enough for a verdict to use it (FACTOR_ACCURACY_MIN / _R2_MIN)."""
    if accuracy is None and r2 is None:
        raise ValueError("give the factor's on/off accuracy or its R^2")
    return (accuracy is None or accuracy >= FACTOR_ACCURACY_MIN) and (r2 is None or r2 >= FACTOR_R2_MIN)
