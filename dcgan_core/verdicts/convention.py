"""One verdict convention for every rule: statistics per training seed, pooled with a 95% interval.

A rule is one or more *parts*; a part is one statistic per training seed (the unit: label, z or exemplar draws
within a seed are averaged into that seed's value) against a threshold. Exactly:
- a part is **reproduced** when the 95% t interval of its mean over seeds lies wholly on the passing side of the
  threshold, **not reproduced** when it lies wholly on the failing side, and **borderline** when it contains the
  threshold; a borderline part names how many seeds, at today's spread, would decide it. With fewer than
  `MIN_SEEDS` values a part reads **single run** when every value passes, **not reproduced** when none does and
  borderline otherwise. Beside the interval: k of n seeds on the passing side.
- a rule of several parts is **reproduced** when every part is, **partly** when at least one part is reproduced
  and at least one is not reproduced (the only meaning of "partly"), **borderline** when no part fails and one is
  borderline, and **not reproduced** otherwise. Each part's verdict is kept beside the rule's.
- a part's *sensitivity* is the threshold at which its verdict would change: the interval's ends.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass

import numpy as np
from scipy import stats

MIN_SEEDS = 3  # a training method's claim rests on at least 3 training seeds (GAN and random-D init)
CONFIDENCE = 0.95
TOL = 1e-9  # shares are fractions k/n: a value at an inclusive threshold must not fail it on float rounding
MAX_SEEDS_NAMED = 200  # beyond this many seeds a borderline part is called undecidable at today's spread


def mean_ci(values: Sequence[float], confidence: float = CONFIDENCE) -> tuple[float, float, float]:
    """Mean and Student-t interval of the mean; a single value (or equal ones) gives a zero-width interval."""
    v = np.asarray(values, float)
    if len(v) and np.ptp(v) == 0:  # equal values: their mean exactly, not the mean's float rounding
        return float(v[0]), float(v[0]), float(v[0])
    m = float(v.mean())
    if len(v) < 2:
        return m, m, m
    half = float(stats.t.ppf(0.5 + confidence / 2, len(v) - 1) * v.std(ddof=1) / np.sqrt(len(v)))
    return m, m - half, m + half


@dataclass(frozen=True)
class Part:
    """One condition of a rule: a statistic per training seed against its threshold."""

    name: str
    per_seed: tuple[float, ...]
    threshold: float
    better: str  # "lower" or "higher" passes
    inclusive: bool = True  # a value exactly at the threshold passes

    def __post_init__(self) -> None:
        if self.better not in ("lower", "higher"):
            raise ValueError(f"better must be 'lower' or 'higher', got {self.better!r}")
        values = np.asarray(self.per_seed, float)
        if values.ndim != 1 or not len(values) or not np.isfinite(values).all():
            raise ValueError(f"part {self.name!r} needs one finite value per seed, got {self.per_seed!r}")
        object.__setattr__(self, "per_seed", tuple(float(v) for v in values))

    def passes(self, value: float) -> bool:
        """Whether one value is on the passing side of the threshold."""
        if self.better == "lower":
            return value <= self.threshold + TOL if self.inclusive else value < self.threshold
        return value >= self.threshold - TOL if self.inclusive else value > self.threshold


@dataclass(frozen=True)
class Reading:
    """A part read by the convention: its verdict, pooled mean and interval, seeds passing, and sensitivity."""

    name: str
    verdict: str
    mean: float
    ci95: tuple[float, float]
    threshold: float
    better: str
    inclusive: bool
    passing: int  # seeds on the passing side
    n: int
    per_seed: tuple[float, ...]
    seeds_to_decide: int | None  # borderline only: seeds at today's spread that would decide it (None: no number)
    flips_at: tuple[float, ...]  # thresholds at which the verdict would change

    def to_dict(self) -> dict:
        return asdict(self)

    @property
    def sensitivity(self) -> str:
        """Where the threshold would have to move for the verdict to change, in words."""
        if self.verdict == "borderline":
            return f"decided by a threshold outside [{self.ci95[0]:.3g}, {self.ci95[1]:.3g}]"
        return f"borderline at a threshold beyond {self.flips_at[0]:.3g} (now {self.threshold:.3g})"


def seeds_to_decide(values: Sequence[float], threshold: float, confidence: float = CONFIDENCE) -> int | None:
    """The fewest seeds whose t interval, at today's mean and spread, would leave the threshold outside it."""
    v = np.asarray(values, float)
    distance, sd = abs(float(v.mean()) - threshold), float(v.std(ddof=1)) if len(v) > 1 else 0.0
    if distance == 0 or sd == 0:
        return None
    for n in range(max(len(v), 2), MAX_SEEDS_NAMED + 1):
        if stats.t.ppf(0.5 + confidence / 2, n - 1) * sd / np.sqrt(n) < distance:
            return n
    return None


def read(part: Part) -> Reading:
    """One part by the convention (module docstring)."""
    v = np.asarray(part.per_seed)
    m, lo, hi = mean_ci(v)
    k, n = sum(part.passes(x) for x in v), len(v)
    near, far = (hi, lo) if part.better == "lower" else (lo, hi)  # the interval end nearest the failing side
    if n < MIN_SEEDS:
        verdict = "single run" if k == n else "not reproduced" if k == 0 else "borderline"
    elif part.passes(near):
        verdict = "reproduced"
    elif not part.passes(far):
        verdict = "not reproduced"
    else:
        verdict = "borderline"
    needed = seeds_to_decide(v, part.threshold) if verdict == "borderline" else None
    flips = (lo, hi) if verdict == "borderline" else (near if verdict != "not reproduced" else far,)
    return Reading(part.name, verdict, m, (lo, hi), part.threshold, part.better, part.inclusive, int(k), n,
                   part.per_seed, needed, tuple(float(f) for f in flips))


def combine(readings: Sequence[Reading]) -> str:
    """The rule's verdict from its parts' (module docstring)."""
    verdicts = [r.verdict for r in readings]
    if not verdicts:
        raise ValueError("a rule needs at least one part")
    passed = [v in ("reproduced", "single run") for v in verdicts]
    if all(passed):
        return "single run" if "single run" in verdicts else "reproduced"
    if any(passed) and "not reproduced" in verdicts:
        return "partly"
    return "not reproduced" if "not reproduced" in verdicts else "borderline"


def deciding(readings: Sequence[Reading]) -> Reading:
    """The part that decided the rule: the first that fails, else the first borderline one, else the one whose
    interval is nearest its threshold (in units of its own width)."""
    for verdict in ("not reproduced", "borderline"):
        for r in readings:
            if r.verdict == verdict:
                return r

    def margin(r: Reading) -> float:
        width = max(r.ci95[1] - r.ci95[0], 1e-12)
        return abs(r.mean - r.threshold) / width
    return min(readings, key=margin)


def describe(readings: Sequence[Reading]) -> str:
    """Each part's verdict, pooled mean with interval, and seeds passing, for a rule's `why`."""
    def one(r: Reading) -> str:
        side = ("<" if r.better == "lower" else ">") + "=" * r.inclusive
        text = (f"{r.name} {r.mean:.3g} [{r.ci95[0]:.3g}, {r.ci95[1]:.3g}] vs {side} {r.threshold:.3g}: "
                f"{r.verdict}, {r.passing} of {r.n} seeds pass")
        if r.verdict == "borderline":
            text += (f" ({r.seeds_to_decide} seeds at this spread would decide it)" if r.seeds_to_decide else
                     f" (the mean sits too near the threshold for {MAX_SEEDS_NAMED} seeds to decide it)")
        return text
    return "; ".join(one(r) for r in readings)
