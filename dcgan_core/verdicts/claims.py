"""The Claim model: one paper claim, what we measured, the rule that decided it and its controls."""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from dcgan_core.verdicts.rules import PASSING, VERDICTS, Outcome, with_controls

KINDS = ("paper", "self-check")  # a paper claim, or a check of one of our instruments (listed apart)


@dataclass
class Claim:
    """One paper claim, what we measured, on what data, the rule that decided it and its controls."""

    section: str  # "4.1", "5.2", ...
    claim: str  # the paper's statement, briefly
    paper: str  # the paper's number or qualitative statement
    ours: str  # what we measured, with spread and seeds
    baseline: str  # the baseline, run the same way
    verdict: str  # one of verdicts.VERDICTS
    rule: str = ""  # the rule's text, generated from the constants in dcgan_core.verdicts
    why: str = ""  # which condition decided the verdict
    code: str = ""  # the function that decided it, module.function
    data: str = ""  # data and protocol actually used (a stand-in says so)
    seeds: list = field(default_factory=list)  # training seeds the verdict rests on
    controls: list = field(default_factory=list)  # [{name, kind: positive|negative, verdict, why, ours, effect}]
    values: dict = field(default_factory=dict)  # the raw numbers behind `ours` and `baseline`
    effect: dict | None = None  # the deciding part's number per seed against its threshold (Outcome.effect)
    parts: list = field(default_factory=list)  # every part of the rule, read by the convention
    kind: str = "paper"  # one of KINDS
    no_positive: str = ""  # why the claim has no positive control (then it is inconclusive)
    no_negative: str = ""  # why the claim has no negative control (then it is inconclusive)
    scorer: str = ""  # the instrument that read it, where one did (issue 25: two scorers, each on the other's picks)
    trend: dict | None = None  # the rule at every snapshot of the model it reads (`trend.Trend.to_dict`; issue 27)

    def __post_init__(self) -> None:
        if self.verdict not in VERDICTS:
            raise ValueError(f"verdict must be one of {VERDICTS}, got {self.verdict!r}")
        if self.kind not in KINDS:
            raise ValueError(f"kind must be one of {KINDS}, got {self.kind!r}")

    @classmethod
    def decided(cls, outcome: Outcome, controls: dict[str, tuple[Outcome, str]] | None = None,
                positive: dict[str, tuple[Outcome, str]] | None = None, no_positive: str = "",
                no_negative: str = "", **fields) -> Claim:
        """A claim from its rule's outcome and its controls (`rules.with_controls`). A paper claim needs a positive
        control (or `no_positive` saying why it has none) and a negative one (or `no_negative`): a rule never shown
        to say yes, or never shown to say no, is no evidence either way, so the claim reads 'inconclusive', with
        the rule's own reading kept in `why` and `parts`."""
        negative, positive = controls or {}, positive or {}
        kind = fields.pop("kind", "paper")
        testable = outcome.verdict != "not testable at this scale"
        if kind == "paper" and testable and not positive and not no_positive:
            raise ValueError("a paper claim needs a positive control, or no_positive saying why it has none")
        if kind == "paper" and testable and not negative and not no_negative:
            raise ValueError("a paper claim needs a negative control, or no_negative saying why it has none")
        final = with_controls(outcome, {n: o for n, (o, _) in negative.items()},
                              {n: o for n, (o, _) in positive.items()})
        missing = [f"no {side} control shows that it can say {word} ({reason})"
                   for side, word, group, reason in (("positive", "yes", positive, no_positive),
                                                     ("negative", "no", negative, no_negative)) if not group]
        if kind == "paper" and missing and final.verdict not in ("inconclusive", "not testable at this scale"):
            final = Outcome("inconclusive", final.rule, f"the rule reads {final.verdict!r}: {final.why}; but "
                            f"{' and '.join(missing)}", final.code, final.effect, final.parts)
        rows = [{"name": name, "kind": k, "verdict": o.verdict, "why": o.why, "ours": text, "effect": o.effect,
                 "parts": list(o.parts)}
                for k, group in (("positive", positive), ("negative", negative)) for name, (o, text) in group.items()]
        return cls(verdict=final.verdict, rule=final.rule, why=final.why, code=final.code, controls=rows,
                   effect=final.effect, parts=list(final.parts), kind=kind,
                   no_positive="" if positive else no_positive,  # a reason for a control that is there says nothing
                   no_negative="" if negative else no_negative, **fields)


def agreed(by_scorer: dict[str, Claim]) -> Claim:
    """Issue 25: one claim read twice, each scorer scoring what the other selected (name -> its claim). Both
    readings agree: the first, naming both scorers. They differ: inconclusive, saying which scorer read what. The
    first reading's trend names its scorer (`read_by`)."""
    claims = list(by_scorer.values())
    if not claims or any(c.claim != claims[0].claim for c in claims):
        raise ValueError("agreed needs the same claim read by each scorer")
    first, names = claims[0], " and ".join(by_scorer)
    if first.trend and len(by_scorer) > 1:  # the studies read the trend once, with the first pairing: say which
        first = replace(first, trend={**first.trend, "read_by": next(iter(by_scorer))})
    verdicts = {name: c.verdict for name, c in by_scorer.items()}
    if len(set(verdicts.values())) == 1:
        return replace(first, scorer=names)
    read = "; ".join(f"{name} reads {v!r}" for name, v in verdicts.items())
    return replace(first, verdict="inconclusive", scorer=names,
                   why=f"the two scorers disagree ({read}): {first.why}")


def agreed_over(read: dict[str, list[Claim]]) -> list[Claim]:
    """`agreed` claim by claim: each scorer pairing's list of claims (name -> claims, in the same order)."""
    return [agreed(dict(zip(read, same))) for same in zip(*read.values())]


UNDECIDED = ("inconclusive", "not testable at this scale")


def gated(claim: Claim, checks: dict[str, Claim]) -> Claim:
    """Issue 25: an instrument decides nothing before it passes the failure suite. `checks`: the self-check of
    every instrument the claim was read with (name -> its check). One that did not pass makes the claim
    inconclusive, naming the check and keeping the rule's own reading in `why`; a claim undecided already keeps
    its verdict and reason, and names the check too."""
    if any(c.kind != "self-check" for c in checks.values()):
        raise ValueError("gated needs the instruments' self-checks (kind 'self-check')")
    failed = {name: c.verdict for name, c in checks.items() if c.verdict not in PASSING}
    if not failed:
        return claim
    which = "; ".join(f"{name} reads {verdict!r}" for name, verdict in failed.items())
    if claim.verdict in UNDECIDED:  # undecided already, for its own reason: the failed check is named too
        return replace(claim, why=f"{claim.why}; and an instrument it was read with did not pass its failure-suite "
                                  f"check ({which}), which alone would leave it undecided")
    return replace(claim, verdict="inconclusive",
                   why=f"an instrument it was read with failed the failure suite ({which}); the rule reads "
                       f"{claim.verdict!r}: {claim.why}")
