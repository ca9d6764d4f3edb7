"""The Claim model: one paper claim, what we measured, the rule that decided it and its controls."""

from __future__ import annotations

from dataclasses import dataclass, field

from dcgan_core.verdicts.rules import VERDICTS, Outcome, with_controls


@dataclass
class Claim:
    """One paper claim, what we measured, on what data, the rule that decided it and its negative controls."""

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
    controls: list = field(default_factory=list)  # [{name, verdict, why, ours}] of the negative controls
    values: dict = field(default_factory=dict)  # the raw numbers behind `ours` and `baseline`
    effect: dict | None = None  # the rule's number per seed against its threshold (verdicts.Outcome.effect)

    def __post_init__(self) -> None:
        if self.verdict not in VERDICTS:
            raise ValueError(f"verdict must be one of {VERDICTS}, got {self.verdict!r}")

    @classmethod
    def decided(cls, outcome: Outcome, controls: dict[str, tuple[Outcome, str]] | None = None, **fields) -> Claim:
        """A claim from its rule's outcome; a negative control that passes the rule makes it inconclusive."""
        controls = controls or {}
        final = with_controls(outcome, {name: o for name, (o, _) in controls.items()})
        rows = [{"name": name, "verdict": o.verdict, "why": o.why, "ours": text, "effect": o.effect}
                for name, (o, text) in controls.items()]
        return cls(verdict=final.verdict, rule=final.rule, why=final.why, code=final.code, controls=rows,
                   effect=final.effect, **fields)
