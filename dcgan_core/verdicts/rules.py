"""Verdict rules: one function per kind of paper claim, thresholds named, every rule able to say yes and no.

A rule maps measurements to an `Outcome` (verdict, the rule's text, why, the deciding function, its parts). The
rule's text is generated from the constants below, so the book prints exactly what the code checks. Every rule
reads its statistics by one convention (`verdicts.convention`): per part, the mean over training seeds with its
95% interval against the threshold ("reproduced", "not reproduced" or "borderline"), and a rule of several parts
is "partly" only when one part is reproduced and another is not.
Each claim is also decided for a positive control (something that has the property by construction: it must
pass) and negative controls (an untrained G, a memoriser, random filters: the rule must tell them from the
claim), run the same way; a control on the wrong side makes the claim "inconclusive" (`with_controls`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass

import numpy as np
from scipy import stats

from dcgan_core.verdicts.convention import CONFIDENCE, MIN_SEEDS, TOL, Part, combine, deciding, describe, mean_ci, read

__all__ = ["CONFIDENCE", "MIN_SEEDS", "TOL", "mean_ci"]  # re-exported: the rules' callers read them here
VERDICTS = ("reproduced", "partly", "borderline", "not reproduced", "inconclusive", "single run",
            "not testable at this scale")
PASSING = ("reproduced", "single run")  # a positive control must come out so

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
# (one-sided t-test, Bonferroni over classes, at ALPHA). "Little to no discrimination" allows at most 10% of the
# features to concentrate so beyond the share of their top images' edge energy in the class's boxes (the same test
# against that share): features that know no object pass it by chance at most ALPHA of the time per feature, so 10%
# leaves room for chance. The value is the first rule's fixed share; what it bounds changed twice (rule history).
LITTLE_MARGIN = 0.10
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
# Sec. 3-4 guidelines. A training run *fails* when it diverges (a non-finite loss; or D(G(z)) below DIVERGED_DGZ
# over the last quarter of training while a fixed z's samples stop changing: a mean change below FROZEN_CHANGE of
# the pixel range between the last two snapshots), collapses (the final samples' diversity in the judge's space, or
# the share of the judge's readings they cover, below COLLAPSE_FRACTION of real images'; a reading is covered when
# the samples show it at >= COLLAPSE_FRACTION of its rate on real images, counting readings real images show at
# >= COVERAGE_MIN_REAL), or oscillates (the judge's FD rises by more than OSCILLATION_RISE from one snapshot to the
# next in the second half of training). Undoing a guideline *hurts* on a data set when the variant fails more often
# than the DCGAN (one-sided Fisher exact test over training seeds) or ends at a worse FD at equal images seen
# (one-sided exact Mann-Whitney test), each at GUIDELINE_ALPHA = ALPHA / 2 (Bonferroni over the two tests).
DIVERGED_DGZ = 0.02
FROZEN_CHANGE = 0.01
COLLAPSE_FRACTION = 0.5
COVERAGE_MIN_REAL = 0.05
OSCILLATION_RISE = 0.5
GUIDELINE_ALPHA = ALPHA / 2
# Sec. 7: "as models are trained longer they sometimes collapse a subset of filters to a single oscillating mode".
# A filter of G's highest hidden layer has collapsed when the spread over z of its (spatially averaged) activation
# is below FILTER_SPREAD_MIN of that of the layer's FILTER_SPREAD_QUANTILE filter (an upper quantile, so that a layer
# with most filters collapsed still has a reference): it draws the same thing for every sample.
FILTER_SPREAD_MIN = 0.05
FILTER_SPREAD_QUANTILE = 0.9
RUN_FAILURES = ("diverged", "collapsed", "oscillating")  # in the order a run is called so


POOLED = "each part: mean over training seeds with its 95% interval against the threshold"


@dataclass(frozen=True)
class Outcome:
    """A rule's decision: the verdict, the rule as text, why it came out so, the function that decided, the effect
    (the deciding part's number per seed against its threshold, for the forest plot) and every part's reading."""

    verdict: str
    rule: str
    why: str
    code: str
    effect: dict | None = None  # {"name", "per_seed", "threshold", "better", "mean", "ci95", "flips_at", ...}
    parts: tuple = ()  # convention.Reading.to_dict() of each part

    def __post_init__(self) -> None:
        if self.verdict not in VERDICTS:
            raise ValueError(f"verdict must be one of {VERDICTS}, got {self.verdict!r}")

    @property
    def passed(self) -> bool:
        return self.verdict in PASSING

    def to_dict(self) -> dict:
        return asdict(self)


def _code(fn: Callable) -> str:
    return f"{fn.__module__}.{fn.__qualname__}"


def _decided(fn: Callable, rule: str, parts: Sequence[Part], detail: str = "") -> Outcome:
    """An outcome from the rule's parts, read by the convention; `detail` adds the measurements in words."""
    readings = [read(p) for p in parts]
    top = deciding(readings)
    why = describe(readings) + (f" ({detail})" if detail else "")
    effect = {**top.to_dict(), "sensitivity": top.sensitivity}
    return Outcome(combine(readings), f"{rule}; {POOLED}", why, _code(fn), effect,
                   tuple({**r.to_dict(), "sensitivity": r.sensitivity} for r in readings))


def _gated(outcome: Outcome, why: str) -> Outcome:
    """The same measurements, but a precondition of the rule does not hold: 'inconclusive'."""
    return Outcome("inconclusive", outcome.rule, f"{why}; {outcome.why}", outcome.code, outcome.effect,
                   outcome.parts)


def told_apart(claim: Outcome, control: Outcome) -> bool:
    """Whether the rule tells a negative control from the claim: the control fails at least one part that the
    claim passes (so a control at "partly" that passes every part the claim passes is not told apart)."""
    passed = {p["name"] for p in claim.parts if p["verdict"] in PASSING}
    if not claim.parts or not control.parts:  # a rule without parts: the verdicts themselves
        return claim.verdict not in PASSING or control.verdict not in PASSING
    return any(p["name"] in passed and p["verdict"] not in PASSING for p in control.parts)


def with_controls(claim: Outcome, negative: dict[str, Outcome], positive: dict[str, Outcome] | None = None) -> Outcome:
    """A rule whose positive control does not pass cannot say yes, and one that does not tell a negative control
    from the claim (`told_apart`) cannot show the property: either makes the claim inconclusive, except that a
    "partly" claim then reads "not reproduced" (the parts it passes are no evidence, the others fail). A claim that
    passes no part stays as it is whatever its negative controls read."""
    if claim.verdict == "not testable at this scale":
        return claim
    weak = [f"{name} ({o.verdict})" for name, o in (positive or {}).items() if o.verdict not in PASSING]
    if weak:
        return Outcome("inconclusive", claim.rule, f"{claim.why}; but the positive control(s) {', '.join(weak)} do "
                       "not pass the rule, so it could not say yes here", claim.code, claim.effect, claim.parts)
    passes_a_part = any(p["verdict"] in PASSING for p in claim.parts) or claim.verdict in PASSING
    loose = [f"{name} ({o.verdict})" for name, o in negative.items() if not told_apart(claim, o)]
    if loose and claim.verdict == "partly":  # the parts it passes are no evidence; the parts it fails still fail
        return Outcome("not reproduced", claim.rule, f"{claim.why}; and the parts it passes do not tell it from the "
                       f"negative control(s) {', '.join(loose)}", claim.code, claim.effect, claim.parts)
    if loose and passes_a_part:
        return Outcome("inconclusive", claim.rule, f"{claim.why}; but the rule does not tell the negative "
                       f"control(s) {', '.join(loose)} from the claim", claim.code, claim.effect, claim.parts)
    return claim


def quality(fd: Sequence[float], fd_bar: float, rate_gap: Sequence[float], judge_ok: bool = True) -> Outcome:
    """Sec. 4.1 "DCGAN trains to good samples": FD in the judge's space below that of real images blurred by
    QUALITY_BLUR_SIGMA px, and the judge's per-object/factor rates within RATE_TOLERANCE of real images'.
    A judge that failed its own check (`judge_valid`) can neither certify nor refute it: then 'inconclusive'."""
    rule = (f"two parts: judge FD < FD of held-out real images blurred with sigma {QUALITY_BLUR_SIGMA:g} px, and "
            f"the largest gap between the judge's per-object/factor rates on samples and on real images "
            f"<= {RATE_TOLERANCE:.0%}; only with a judge that passed its failure-image check")
    out = _decided(quality, rule, [Part("judge FD", fd, fd_bar, "lower", inclusive=False),
                                   Part("largest rate gap", rate_gap, RATE_TOLERANCE, "lower")])
    if not judge_ok:  # both halves are read in the judge's space: neither a pass nor a fail is evidence
        return _gated(out, "the judge failed its failure-image check")
    return out


def memorisation(near_copy: dict[str, Sequence[float]], ratio: dict[str, Sequence[float]],
                 quality_verdict: str) -> Outcome:
    """Sec. 4.1 "samples are not memorised": near-copy rate <= NEAR_COPY_MAX and distance ratio >=
    DISTANCE_RATIO_MIN in every space; only meaningful for a generator that draws the data (noise copies nothing)."""
    spaces = sorted(near_copy)
    rule = (f"only if the quality claim is not refuted (reproduced, partly or borderline); then in each space "
            f"({', '.join(spaces)}): near-copy rate <= {NEAR_COPY_MAX:.0%} (1% by construction) and median "
            f"NN distance of samples / of held-out images >= {DISTANCE_RATIO_MIN}")
    parts = [p for s in spaces for p in (Part(f"near-copy rate ({s})", near_copy[s], NEAR_COPY_MAX, "lower"),
                                         Part(f"NN distance ratio ({s})", ratio[s], DISTANCE_RATIO_MIN, "higher"))]
    out = _decided(memorisation, rule, parts)
    if quality_verdict not in ("reproduced", "partly", "borderline", "single run"):
        return _gated(out, f"the quality claim is {quality_verdict!r}: samples far from the data have no near "
                      "copies whether or not the model copies")
    return out


def smooth_semantic_walk(jump_share: Sequence[float], semantic_share: Sequence[float]) -> Outcome:
    """Sec. 6.1 walks change the image gradually (<= JUMP_SHARE_MAX of segments jump) and semantically
    (>= SEMANTIC_SHARE_MIN of segments change the judge's reading)."""
    rule = (f"two parts: <= {JUMP_SHARE_MAX:.0%} of segments have a step > {JUMP_RATIO_MAX:g}x their median step (a "
            f"static segment counts as a jump), and >= {SEMANTIC_SHARE_MIN:.0%} of segments end with the judge "
            "reading different content on recognised frames")
    return _decided(smooth_semantic_walk, rule, [
        Part("segments with a jump", jump_share, JUMP_SHARE_MAX, "lower"),
        Part("segments with a semantic change", semantic_share, SEMANTIC_SHARE_MIN, "higher")])


def judge_valid(real: dict[str, float], failures: dict[str, dict[str, float]]) -> Outcome:
    """An instrument's self-check, not a paper claim: a judge certifies content only if no reading is on for a
    failure set at more than JUDGE_FAILURE_RATE_MAX x its rate on real images (readings on for >=
    JUDGE_MIN_REAL_RATE of real images). One judge, no seeds: its worst ratio decides."""
    rule = (f"for every failure set and every reading on for >= {JUDGE_MIN_REAL_RATE:.0%} of held-out real images "
            f"('real', each object / factor / class): rate on the failure set <= {JUDGE_FAILURE_RATE_MAX:g} x the "
            "rate on real images")
    bad = [f"{name}: {k} {rates[k]:.0%} vs real {real[k]:.0%}" for name, rates in failures.items()
           for k in real if real[k] >= JUDGE_MIN_REAL_RATE and rates[k] > JUDGE_FAILURE_RATE_MAX * real[k]]
    worst = max(((rates[k] / real[k], f"{name}: {k} {rates[k]:.0%} vs real {real[k]:.0%}")
                 for name, rates in failures.items() for k in real if real[k] >= JUDGE_MIN_REAL_RATE),
                default=(0.0, "no readings"))
    effect = {"name": "worst failure-image rate / real-image rate", "per_seed": [float(worst[0])],
              "threshold": JUDGE_FAILURE_RATE_MAX, "better": "lower"}
    if bad:
        return Outcome("not reproduced", rule, "fails on " + "; ".join(bad), _code(judge_valid), effect)
    return Outcome("reproduced", rule, f"closest to the limit: {worst[1]}", _code(judge_valid), effect)


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


def beats(diffs_per_seed: Sequence[Sequence[float]]) -> Outcome:
    """Sec. 5 "features A beat B": lower test error, paired on the same label draws and test set; each training
    seed's value is its mean difference over label draws (the draws nest within the seed)."""
    rule = "error(A) - error(B), paired on the same label draws and averaged over them per training seed, < 0"
    if not len(diffs_per_seed) or any(not len(d) for d in diffs_per_seed):
        raise ValueError("beats needs, per seed, at least one paired difference")
    return _decided(beats, rule, [Part("test error of A - error of B", [np.mean(d) for d in diffs_per_seed], 0.0,
                                       "lower", inclusive=False)],
                    f"{sum(len(d) for d in diffs_per_seed)} paired draws in all")


def not_testable(reason: str) -> Outcome:
    """A claim (often an absolute number of the paper) on data or at a scale that cannot show it."""
    return Outcome("not testable at this scale", "a claim is decided only on data and at a scale that can show it "
                   "(an absolute number of the paper: on the paper's data and protocol)", reason, _code(not_testable))


def absolute(errors_per_seed: Sequence[float], paper_error: float, tolerance: float) -> Outcome:
    """The paper's absolute error, on its own data and protocol: within `tolerance` of it."""
    rule = f"|test error - paper's {paper_error:.2%}| <= {tolerance:.1%} (on the paper's data and protocol)"
    e = np.asarray(errors_per_seed, float)
    return _decided(absolute, rule, [Part("|test error - paper's|", np.abs(e - paper_error), tolerance, "lower")],
                    f"mean error {e.mean():.2%}")


def clopper_pearson(k: int, n: int, confidence: float = CONFIDENCE) -> tuple[float, float]:
    """Exact binomial interval of k successes in n trials (n = 0: the whole [0, 1])."""
    if n == 0:
        return 0.0, 1.0
    ci = stats.binomtest(int(k), int(n)).proportion_ci(confidence, method="exact")
    return float(ci.low), float(ci.high)


def false_positive_share(false_pos: Sequence[int], pairs: Sequence[int]) -> Outcome:
    """Sec. 4.1.1 "false positive rate < 1%": per hasher seed the share of collision pairs that are not planted
    copies (no collisions: 1, the hasher found nothing) below FALSE_POSITIVE_MAX."""
    rule = f"false collision pairs / collision pairs per hasher seed < {FALSE_POSITIVE_MAX:.0%} (no collisions fails)"
    fp, n = np.asarray(false_pos, int), np.asarray(pairs, int)
    upper = clopper_pearson(fp.sum(), n.sum())[1]
    return _decided(false_positive_share, rule, [
        Part("false share of collision pairs", [f / p if p else 1.0 for f, p in zip(fp, n)], FALSE_POSITIVE_MAX,
             "lower", inclusive=False)],
        f"{fp.sum()} of {n.sum()} pairs false, pooled exact upper bound {upper:.2%}")


def duplicates_found(recall_near: Sequence[float], false_share: Sequence[float]) -> Outcome:
    """Sec. 4.1.1 "near duplicates are removed": recall of planted near-duplicate pairs >= RECALL_MIN at a
    false-positive share < FALSE_POSITIVE_MAX (the paper's "below 1%")."""
    rule = (f"two parts: recall of planted near-duplicate (not byte-identical) pairs >= {RECALL_MIN:.0%}, and a "
            f"false-positive share of collision pairs < {FALSE_POSITIVE_MAX:.0%}")
    return _decided(duplicates_found, rule, [
        Part("recall of planted near duplicates", recall_near, RECALL_MIN, "higher"),
        Part("false share of collision pairs", false_share, FALSE_POSITIVE_MAX, "lower", inclusive=False)])


def dedup_reduces_memorisation(before: Sequence[float], after: Sequence[float]) -> Outcome:
    """Sec. 4.1.1 dedup against memorisation: on the seeds whose model copies the duplicated images when they are in
    the set (rate > NEAR_COPY_MAX), the same model trained after removal copies them at most NEAR_COPY_MAX and at
    most half as often. Seeds that do not copy even with the duplicates say nothing either way."""
    rule = (f"on the seeds whose model makes near copies of the duplicated images when trained with them (> "
            f"{NEAR_COPY_MAX:.0%} of samples), two parts: after removal <= {NEAR_COPY_MAX:.0%}, and after / with "
            "<= 0.5; 'inconclusive' when no seed copies with the duplicates (nothing to reduce)")
    b, a = np.asarray(before, float), np.asarray(after, float)
    rates = f"near copies {b.mean():.1%} with duplicates, {a.mean():.1%} after"
    informative = b > NEAR_COPY_MAX
    if not informative.any():
        return Outcome("inconclusive", f"{rule}; {POOLED}", f"the model does not copy the duplicated images even "
                       f"with them in the set ({rates})", _code(dedup_reduces_memorisation),
                       {"name": "near copies of duplicated images, after removal", "per_seed": a.tolist(),
                        "threshold": NEAR_COPY_MAX, "better": "lower"})
    left_out = f"; {int((~informative).sum())} seed(s) without copying left out" if (~informative).any() else ""
    return _decided(dedup_reduces_memorisation, rule, [
        Part("near copies after removal", a[informative], NEAR_COPY_MAX, "lower"),
        Part("near copies after / with duplicates", a[informative] / b[informative], 0.5, "lower")],
        rates + left_out)


def fires_on_objects(selective: Sequence[int], baseline: Sequence[int], n_features: Sequence[int],
                     n_baseline: Sequence[int] | None = None) -> Outcome:
    """Sec. 6.2 "trained D's features fire on objects": more of its features are object-selective than of the same D
    at random weights (per seed also a one-sided Fisher exact test, shown). n_baseline: the baseline's feature
    counts, when they differ."""
    rule = "object-selective share of the trained D's features - that of the same D at random weights > 0"
    nb = n_features if n_baseline is None else n_baseline
    if not len(selective) == len(baseline) == len(n_features) == len(nb):
        raise ValueError(f"fires_on_objects needs one count per seed in each input; got {len(selective)} selective, "
                         f"{len(baseline)} baseline, {len(n_features)} and {len(nb)} feature counts")
    ps = [float(stats.fisher_exact([[a, n - a], [b, m - b]], alternative="greater").pvalue)
          for a, b, n, m in zip(selective, baseline, n_features, nb)]
    share = np.asarray(selective) / np.asarray(n_features)
    base = np.asarray(baseline) / np.asarray(nb)
    return _decided(fires_on_objects, rule, [Part("object-selective share - random D's", share - base, 0.0,
                                                  "higher", inclusive=False)],
                    f"selective {share.mean():.0%} vs {base.mean():.0%} at random weights; Fisher p per seed "
                    f"{', '.join(f'{p:.2g}' for p in ps)}")


def little_discrimination(selective: Sequence[int], n_features: Sequence[int]) -> Outcome:
    """Sec. 6.2 "random filters show little to no discrimination": at most LITTLE_MARGIN of the features concentrate
    their saliency on one object class beyond the share of their top images' edge energy there (on synthetic rooms
    objects are where the edges are: beyond the class's area, edge maps themselves are object-selective)."""
    rule = (f"share of the features whose saliency concentrates on one object class beyond the images' edge energy "
            f"there <= {LITTLE_MARGIN:.0%}")
    if len(selective) != len(n_features) or not len(selective):
        raise ValueError(f"little_discrimination needs one count per seed in each input; got {len(selective)} "
                         f"selective and {len(n_features)} feature counts")
    share = np.asarray(selective) / np.asarray(n_features)
    return _decided(little_discrimination, rule, [Part("object-selective share beyond image edges", share,
                                                       LITTLE_MARGIN, "lower")],
                    f"selective beyond edges {share.mean():.0%}")


def removes_windows(drop: Sequence[float], random_drops: Sequence[Sequence[float]]) -> Outcome:
    """Sec. 6.3.1 "G forgets to draw windows": dropping the window maps lowers the detected window rate more than
    the largest of the random drops of as many maps (per seed a rank test, p <= 1/(draws + 1))."""
    rule = ("the drop in the detected window rate (paired on the same z) - the largest drop under random drops of as "
            "many maps of the same layer > 0")
    return _decided(removes_windows, rule, [
        Part("window-rate drop - largest random drop", [d - max(r) for d, r in zip(drop, random_drops)], 0.0,
             "higher", inclusive=False)],
        f"drop {np.mean(drop):+.1%}; largest random drop {np.mean([max(r) for r in random_drops]):+.1%}")


def scene_kept(other_change: Sequence[float], fd_change: Sequence[float], random_other: Sequence[Sequence[float]],
               random_fd: Sequence[Sequence[float]]) -> Outcome:
    """Sec. 6.3.1 "the rest of the room stays": the other objects' rates and the FD change no more than under the
    median random drop of as many maps."""
    rule = ("two parts: mean absolute change of the other object classes' detected rates - its median over random "
            "drops of as many maps <= 0, and the FD increase - theirs <= 0")
    return _decided(scene_kept, rule, [
        Part("other objects' change - random drops' median", [o - np.median(r) for o, r in zip(other_change,
                                                                                               random_other)],
             0.0, "lower"),
        Part("FD change - random drops' median", [f - np.median(r) for f, r in zip(fd_change, random_fd)], 0.0,
             "lower")])


def _paired(success: Sequence[float], reference: Sequence[float]) -> tuple[np.ndarray, np.ndarray]:
    """One success and one reference share per seed, as arrays; unequal or empty inputs are refused."""
    s, r = np.asarray(success, float), np.asarray(reference, float)
    if s.ndim != 1 or s.shape != r.shape or not len(s):
        raise ValueError(f"success and reference need one value per seed each, got {s.shape} and {r.shape}")
    return s, r


def transfer_margin(success: Sequence[float], reference: Sequence[float]) -> np.ndarray:
    """Per seed, how far the transfer rule's nearer part clears its bar (>= 0: it transfers; TOL: a k/n share
    exactly at a bar clears it)."""
    s, r = _paired(success, reference)
    return np.minimum(s - TRANSFER_MIN, (s - r) - TRANSFER_GAIN) + TOL


def transfers(success: Sequence[float], reference: Sequence[float]) -> Outcome:
    """Sec. 6.3.2 "arithmetic transfers the attribute": the share of outputs with the target attributes >=
    TRANSFER_MIN and >= TRANSFER_GAIN above the reference (C decoded without the arithmetic)."""
    rule = (f"two parts: share of outputs (centre + 8 jittered) the judge reads with the target attributes and the "
            f"others kept >= {TRANSFER_MIN:.0%}, and >= {TRANSFER_GAIN:.0%} points above decoding C alone")
    s, r = _paired(success, reference)
    return _decided(transfers, rule, [Part("success", s, TRANSFER_MIN, "higher"),
                                      Part("success - C alone", s - r, TRANSFER_GAIN, "higher")])


def does_not_transfer(success: Sequence[float], reference: Sequence[float]) -> Outcome:
    """Sec. 6.3.2 "pixel-space arithmetic does not work": the `transfers` rule fails, read on its nearer part's
    margin (`transfer_margin` < 0)."""
    rule = (f"the transfer rule's nearer margin < 0 (success < {TRANSFER_MIN:.0%} or < {TRANSFER_GAIN:.0%} points "
            "above decoding C alone)")
    s, r = _paired(success, reference)
    return _decided(does_not_transfer, rule, [Part("transfer margin", transfer_margin(s, r), 0.0, "lower",
                                                   inclusive=False)],
                    f"success {s.mean():.0%} vs C alone {r.mean():.0%}")


def more_is_better(diffs_per_seed: Sequence[Sequence[float]]) -> Outcome:
    """Sec. 6.3.2 "averaging exemplars is needed": success with k exemplars (the paper: 3) - success with 1, paired on
    the same exemplar draws and averaged over them per seed, > 0."""
    rule = "success with k exemplars - success with 1, paired on the same draws and averaged per seed, > 0"
    if not len(diffs_per_seed) or any(not len(d) for d in diffs_per_seed):
        raise ValueError("more_is_better needs, per seed, at least one paired difference")
    return _decided(more_is_better, rule, [Part("success(k) - success(1)", [np.mean(d) for d in diffs_per_seed],
                                                0.0, "higher", inclusive=False)])


def turns(turned_share: Sequence[float]) -> Outcome:
    """Sec. 6.3.2 / Fig. 8 "the turn vector rotates the face": the share of lines along which the judge's yaw follows
    the position (oriented Spearman rho >= TURN_RHO_MIN) is >= TURN_SHARE_MIN."""
    rule = (f">= {TURN_SHARE_MIN:.0%} of lines turn the way the vector points (Spearman correlation of the judge's "
            f"yaw with the position >= {TURN_RHO_MIN})")
    r = np.asarray(turned_share, float)
    if r.ndim != 1 or not len(r):
        raise ValueError(f"turns needs one share of turned lines per seed, got shape {r.shape}")
    return _decided(turns, rule, [Part("share of lines that turn", r, TURN_SHARE_MIN, "higher")])


def factor_readable(accuracy: float | None = None, r2: float | None = None) -> bool:
    """Whether the judge reads a face factor well enough for a verdict to use it (FACTOR_ACCURACY_MIN / _R2_MIN)."""
    if accuracy is None and r2 is None:
        raise ValueError("give the factor's on/off accuracy or its R^2")
    return (accuracy is None or accuracy >= FACTOR_ACCURACY_MIN) and (r2 is None or r2 >= FACTOR_R2_MIN)


def run_failure(nonfinite: bool, dgz_tail: float, frozen_change: float, diversity_ratio: float, coverage: float,
                fd_curve: Sequence[float]) -> str:
    """Sec. 3-4: how one training run failed (RUN_FAILURES, the first that applies), or "" for a stable run.
    `dgz_tail`: median D(G(z)) over the last quarter of logged steps; `frozen_change`: mean |change| of a fixed z's
    samples between the last two snapshots, as a share of the pixel range; `diversity_ratio` and `coverage`: the
    final samples' against real images'; `fd_curve`: the judge's FD at each snapshot, in order."""
    if nonfinite or (dgz_tail < DIVERGED_DGZ and frozen_change < FROZEN_CHANGE):
        return "diverged"
    if diversity_ratio < COLLAPSE_FRACTION or coverage < COLLAPSE_FRACTION:
        return "collapsed"
    fd = np.asarray(fd_curve, float)
    late = fd[len(fd) // 2:]
    if len(late) > 1 and np.max(late[1:] / np.maximum(late[:-1], 1e-12) - 1) > OSCILLATION_RISE:
        return "oscillating"
    return ""


def rank_test(a: Sequence[float], b: Sequence[float]) -> float:
    """One-sided exact p-value that `a` ranks above `b` (the Mann-Whitney statistic over every split of the pooled
    values; ties share their mean rank, so runs ranked worst together are handled exactly)."""
    ranks = stats.rankdata(np.concatenate([a, b]))
    return float(stats.permutation_test((ranks[:len(a)], ranks[len(a):]), lambda x, y, axis: np.mean(x, axis=axis),
                                        permutation_type="independent", alternative="greater",
                                        n_resamples=np.inf, vectorized=True).pvalue)


def undoing_hurts(failed_variant: Sequence[bool], failed_dcgan: Sequence[bool], fd_variant: Sequence[float],
                  fd_dcgan: Sequence[float]) -> Outcome:
    """Sec. 3-4 "the guideline stabilises training": the variant that undoes it fails more often than the DCGAN
    over training seeds (Fisher exact, one-sided) or ends at a worse judge FD at equal images seen (exact
    Mann-Whitney, one-sided: `rank_test`), either at GUIDELINE_ALPHA. Runs that stopped on a non-finite loss rank
    worst in FD. Binary per-run outcomes have no t interval: fewer seeds than can reach GUIDELINE_ALPHA at all read
    borderline."""
    rule = (f"failure rate (diverged, collapsed or oscillating) higher than the DCGAN's (one-sided Fisher exact "
            f"test over training seeds) or final judge FD worse (one-sided exact Mann-Whitney test), either at p < "
            f"{GUIDELINE_ALPHA:g} (Bonferroni over the two); too few seeds to reach it: borderline")
    fail_v, fail_d = np.asarray(failed_variant, bool), np.asarray(failed_dcgan, bool)
    fd_v, fd_d = np.asarray(fd_variant, float), np.asarray(fd_dcgan, float)
    if not (len(fail_v) == len(fd_v) >= 1 and len(fail_d) == len(fd_d) >= 1):
        raise ValueError("undoing_hurts needs, for each arm, one failure flag and one FD per training seed")
    finite = np.concatenate([fd_v, fd_d])[np.isfinite(np.concatenate([fd_v, fd_d]))]
    worst = 2 * float(finite.max()) if len(finite) else 1.0  # a run without a finite FD ranks worst
    fd_v, fd_d = np.where(np.isfinite(fd_v), fd_v, worst), np.where(np.isfinite(fd_d), fd_d, worst)
    p_fail = float(stats.fisher_exact([[fail_v.sum(), (~fail_v).sum()], [fail_d.sum(), (~fail_d).sum()]],
                                      alternative="greater")[1])
    p_fd = rank_test(fd_v, fd_d)
    # the smallest p either test could reach with this DCGAN arm: every variant run failed / ranked worst
    floor = min(float(stats.fisher_exact([[len(fail_v), 0], [fail_d.sum(), (~fail_d).sum()]],
                                         alternative="greater")[1]),
                rank_test(np.full(len(fd_v), fd_d.max() + 1.0), fd_d))
    text = (f"failed {fail_v.sum()} of {len(fail_v)} vs the DCGAN's {fail_d.sum()} of {len(fail_d)} (p = "
            f"{p_fail:.3g}); final FD median {np.median(fd_v):.3g} vs {np.median(fd_d):.3g} (p = {p_fd:.3g})")
    if min(p_fail, p_fd) < GUIDELINE_ALPHA:
        verdict = "reproduced"
    elif floor >= GUIDELINE_ALPHA:
        verdict = "borderline"
        text += (f"; {len(fail_v)} against {len(fail_d)} seeds cannot reach p < {GUIDELINE_ALPHA:g} with this DCGAN "
                 f"arm (at best p = {floor:.3g})")
    else:
        verdict = "not reproduced"
    # one effect for every claim and control of this rule (the forest plot compares them): the failure flags
    effect = {"name": "failed runs of the variant (1 = failed)", "per_seed": fail_v.astype(float).tolist(),
              "threshold": float(fail_d.mean()), "better": "higher", "p_fail": p_fail, "p_fd": p_fd}
    return Outcome(verdict, rule, text, _code(undoing_hurts), effect)


def filters_collapse(first_share: Sequence[float], last_share: Sequence[float]) -> Outcome:
    """Sec. 7 "trained longer, models sometimes collapse a subset of filters": per training seed, the share of G's
    highest-layer filters collapsed (spread over z < FILTER_SPREAD_MIN x the FILTER_SPREAD_QUANTILE filter's) at the
    last snapshot minus at the first, > 0."""
    rule = (f"share of G's highest-layer filters whose spread over z is < {FILTER_SPREAD_MIN:g} x that of the layer's "
            f"{FILTER_SPREAD_QUANTILE:.0%} quantile filter, at the last snapshot minus at the first, per training "
            "seed, > 0")
    first, last = np.asarray(first_share, float), np.asarray(last_share, float)
    if first.shape != last.shape or first.ndim != 1 or not len(first):
        raise ValueError("filters_collapse needs one first and one last share per training seed")
    return _decided(filters_collapse, rule, [Part("collapsed share, last - first snapshot", last - first, 0.0,
                                                  "higher", inclusive=False)],
                    f"collapsed at the end: {last.mean():.1%} of filters, at the first snapshot {first.mean():.1%}")
