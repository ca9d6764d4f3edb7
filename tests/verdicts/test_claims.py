from dcgan_core.verdicts import rules
from dcgan_core.verdicts.claims import Claim


def claim(v="reproduced", **kw):
    return Claim(section="4.1", claim="a | claim", paper="p", ours="o", baseline="b", verdict=v, **kw)


def test_decided_claim_carries_rule_code_controls_and_turns_inconclusive():
    passing = rules.quality([1.0] * 3, 10.0, [0.0] * 3)
    failing = rules.quality([50.0] * 3, 10.0, [0.5] * 3)
    c = Claim.decided(passing, {"untrained G": (failing, "FD 50")}, section="4.1", claim="c", paper="p", ours="o",
                      baseline="b", data="synthetic rooms, a stand-in for LSUN bedrooms", seeds=[0, 1, 2])
    assert c.verdict == "reproduced" and c.code == "dcgan_core.verdicts.rules.quality" and "sigma 1" in c.rule
    assert c.controls == [{"name": "untrained G", "verdict": "not reproduced", "why": failing.why, "ours": "FD 50",
                           "effect": failing.effect}]
    assert c.effect == passing.effect and c.effect["per_seed"] == [1.0, 1.0, 1.0]
    c = Claim.decided(passing, {"untrained G": (passing, "FD 1")}, section="4.1", claim="c", paper="p", ours="o",
                      baseline="b")
    assert c.verdict == "inconclusive" and "untrained G" in c.why


