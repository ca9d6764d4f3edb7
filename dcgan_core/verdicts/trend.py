"""Issue 27: a claim's evidence against compute. The claim's own rule, read at every saved snapshot of the model it
reads (images seen -> `rules.Outcome`), gives a trend: from which snapshot on the rule passes, and whether the
deciding statistic is still moving at the end. The verdict stays the final snapshot's; the trend is shown beside
it, never in its place.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass

import numpy as np

from dcgan_core.verdicts.rules import Outcome

MOVING_SD = 1.0  # still moving: the seed mean changed over the last two snapshots by more than this many seed SDs


@dataclass(frozen=True)
class Trend:
    """A claim's rule at every snapshot: its verdicts (the rule's own, before the claim's controls, which are read
    at the end), the final deciding part's seed mean, and the reading."""

    images: tuple[int, ...]  # images seen at each snapshot, ascending
    verdicts: tuple[str, ...]
    means: tuple[float, ...]  # the deciding part's mean over seeds at each snapshot
    statistic: str  # the deciding part's name (the final snapshot's)
    threshold: float  # the final snapshot's
    better: str  # "higher" or "lower"
    first_pass: int | None  # images seen from which the rule passes at every later snapshot
    moving: str  # "improving", "worsening", "flat" (within MOVING_SD seed SDs) or "one snapshot"
    reading: str  # e.g. "reproduced from 400,000 images on", "not reproduced, still improving"
    thresholds: tuple[float, ...] = ()  # each snapshot's (NaN where it read nothing)
    bar: bool = True  # the threshold is the rule's bar; False: a reference the rule's own test compares against

    def to_dict(self) -> dict:
        return asdict(self)


def _part(outcome: Outcome, name: str) -> dict | None:
    """The outcome's part `name`, or its effect of that name (a rule that decides by its own test, without parts);
    None for an undecided reading that read no part (e.g. nothing to reduce)."""
    part = next((p for p in outcome.parts if p["name"] == name), None)
    if part is None and outcome.effect and outcome.effect.get("name") == name:
        return outcome.effect
    if part is None and not outcome.parts:
        return None
    if part is None:
        raise ValueError(f"every snapshot's outcome needs the part {name!r} (one rule read at each snapshot); "
                         f"got parts {[p['name'] for p in outcome.parts]}")
    return part


def moving(previous: list[float], last: list[float], better: str) -> str:
    """'improving' or 'worsening' when the seed mean moved by more than MOVING_SD seed SDs (at the last snapshot)
    between the two snapshots, else 'flat'. With one seed, or no spread, any change counts."""
    change = float(np.mean(last) - np.mean(previous))
    spread = float(np.std(last, ddof=1)) if len(last) > 1 else 0.0
    if not np.isfinite(change) or abs(change) <= MOVING_SD * spread or change == 0:
        return "flat"
    return "improving" if (change < 0) == (better == "lower") else "worsening"


def trend(outcomes: dict[int, Outcome]) -> Trend:
    """The trend of one claim's rule read at each snapshot (`outcomes`: images seen -> outcome of the same rule).
    An earlier snapshot whose reading has no parts (an undecided one) keeps its verdict and has no mean (NaN)."""
    if not outcomes:
        raise ValueError("trend needs the rule's outcome at one snapshot at least")
    images = sorted(outcomes)
    final = outcomes[images[-1]]
    if not final.parts and not final.effect:
        raise ValueError(f"trend needs a rule read by parts or an effect; {final.code} has neither")
    name = final.effect["name"] if final.effect else final.parts[0]["name"]
    parts = [_part(outcomes[i], name) for i in images]
    verdicts = tuple(outcomes[i].verdict for i in images)
    passing = [v == "reproduced" for v in verdicts]
    first = next((images[k] for k in range(len(images)) if all(passing[k:])), None)
    read = [p for p in parts if p is not None]  # the last two snapshots that read the part
    move = "one snapshot" if len(read) < 2 else moving(read[-2]["per_seed"], read[-1]["per_seed"], read[-1]["better"])
    if first is not None:
        reading = f"reproduced from {first:,} images on"
    elif move == "improving":
        reading = f"{verdicts[-1]}, still improving"
    elif move == "worsening":
        reading = f"{verdicts[-1]}, getting worse"
    else:
        reading = f"{verdicts[-1]}, {move}"
    means = tuple(float(np.mean(p["per_seed"])) if p else float("nan") for p in parts)
    thresholds = tuple(float(p["threshold"]) if p else float("nan") for p in parts)
    return Trend(tuple(images), verdicts, means, name, thresholds[-1], parts[-1]["better"], first, move, reading,
                 thresholds, bar=bool(final.parts))


def per_snapshot(at: dict, seeds: Sequence) -> dict[int, list]:
    """Per-seed readings at earlier snapshots (`at`: seed -> images seen -> reading) as images seen -> the seeds'
    readings in `seeds` order, for the snapshots every seed has: a seed missing at a snapshot drops that snapshot
    (never a fallback to the final model)."""
    if not seeds or any(s not in at for s in seeds):
        return {}
    common = set.intersection(*(set(at[s]) for s in seeds))
    return {seen: [at[s][seen] for s in seeds] for seen in sorted(common)}


def claim_trend(final_seen: int | None, final: Outcome, earlier: dict[int, object],
                rule: Callable[[object], Outcome]) -> dict | None:
    """A claim's trend as the book stores it: its final outcome at `final_seen` and `rule` read on each earlier
    snapshot's readings (`earlier`: images seen -> what `rule` takes); None without an earlier snapshot or when
    the final model's images seen are unknown, or when the final reading is undecided for want of a part (nothing
    to trend: e.g. no seed copies with the duplicates)."""
    if not earlier or final_seen is None or (not final.parts and (not final.effect or final.verdict == "inconclusive")):
        return None
    return trend({final_seen: final, **{seen: rule(x) for seen, x in earlier.items()}}).to_dict()
