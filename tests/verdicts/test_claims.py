from dataclasses import replace

import pytest

from dcgan_core.verdicts import rules
from dcgan_core.verdicts.claims import Claim, agreed, agreed_over, gated
from dcgan_core.verdicts.history import _ungated

FIELDS = dict(section="4.1", claim="c", paper="p", ours="o", baseline="b")


def claim(v="reproduced", **kw):
    return Claim(section="4.1", claim="a | claim", paper="p", ours="o", baseline="b", verdict=v, **kw)


def test_decided_claim_carries_rule_code_parts_and_both_kinds_of_control():
    passing = rules.quality([1.0] * 3, 10.0, [0.0] * 3)
    failing = rules.quality([50.0] * 3, 10.0, [0.5] * 3)
    c = Claim.decided(passing, {"untrained G": (failing, "FD 50")}, {"real images": (passing, "FD 1")},
                      data="synthetic rooms, a stand-in for LSUN bedrooms", seeds=[0, 1, 2], **FIELDS)
    assert c.verdict == "reproduced" and c.code == "dcgan_core.verdicts.rules.quality" and "sigma 1" in c.rule
    assert [(x["name"], x["kind"], x["verdict"]) for x in c.controls] == [
        ("real images", "positive", "reproduced"), ("untrained G", "negative", "not reproduced")]
    assert [p["name"] for p in c.parts] == ["judge FD", "largest rate gap"] and c.effect["name"] in {
        p["name"] for p in c.parts}
    c = Claim.decided(passing, {"untrained G": (passing, "FD 1")}, {"real images": (passing, "FD 1")}, **FIELDS)
    assert c.verdict == "inconclusive" and "untrained G" in c.why


def test_a_paper_claim_without_a_positive_control_is_not_called_reproduced():
    passing = rules.quality([1.0] * 3, 10.0, [0.0] * 3)
    failing = rules.quality([50.0] * 3, 10.0, [0.5] * 3)
    negative = {"untrained G": (failing, "FD 50")}
    with pytest.raises(ValueError, match="positive control"):
        Claim.decided(passing, negative, **FIELDS)
    c = Claim.decided(passing, negative, no_positive="none built yet", **FIELDS)
    assert c.verdict == "inconclusive" and "none built yet" in c.why and c.no_positive == "none built yet"
    c = Claim.decided(failing, negative, no_positive="none built yet", **FIELDS)  # a no never seen to be a yes
    assert c.verdict == "inconclusive" and "reads 'not reproduced'" in c.why


def test_a_paper_claim_without_a_negative_control_is_not_called_reproduced():
    passing = rules.quality([1.0] * 3, 10.0, [0.0] * 3)
    positive = {"real images": (passing, "FD 1")}
    with pytest.raises(ValueError, match="negative control"):
        Claim.decided(passing, {}, positive, **FIELDS)
    c = Claim.decided(passing, {}, positive, no_negative="nothing lacks it by construction", **FIELDS)
    assert c.verdict == "inconclusive" and "say no (nothing lacks it" in c.why and c.no_negative
    untrained = {"untrained G": (rules.quality([50.0] * 3, 10.0, [0.5] * 3), "FD 50")}
    fallback = Claim.decided(passing, untrained, positive, no_positive="p", **FIELDS)
    assert fallback.verdict == "reproduced" and fallback.no_positive == ""  # a reason for a control that is there
    both = Claim.decided(passing, no_positive="p", no_negative="n", **FIELDS)
    assert both.verdict == "inconclusive" and "say yes (p) and no" in both.why
    check = Claim.decided(passing, kind="self-check", **FIELDS)  # an instrument's check needs none
    assert check.verdict == "reproduced" and check.kind == "self-check"


def test_a_claim_refuses_an_unknown_verdict_or_kind():
    with pytest.raises(ValueError, match="verdict"):
        claim("sort of")
    with pytest.raises(ValueError, match="kind"):
        claim(kind="hunch")


def test_a_claim_read_with_an_instrument_that_failed_its_self_check_is_inconclusive():
    ok, failed = claim(kind="self-check"), claim("not reproduced", kind="self-check")
    for verdict in ("reproduced", "not reproduced", "partly"):  # a broken instrument says neither yes nor no
        read = claim(verdict, why="the rule's reason")
        assert gated(read, {"segmenter a": ok, "segmenter b": ok}) is read
        out = gated(read, {"segmenter a": ok, "segmenter b": failed})
        assert out.verdict == "inconclusive" and "segmenter b reads 'not reproduced'" in out.why
        assert "segmenter a" not in out.why and f"the rule reads {verdict!r}: the rule's reason" in out.why
    for verdict in ("inconclusive", "not testable at this scale"):  # undecided already: kept, the check named
        undecided = claim(verdict, why="its own reason")
        out = gated(undecided, {"judge a": failed})
        assert out.verdict == verdict and out.why.startswith("its own reason; ") and "judge a reads" in out.why
        assert gated(undecided, {"judge a": ok}) is undecided
        assert _ungated(out.__dict__) == verdict  # the rule history reads its verdict before the gate as this one
    with pytest.raises(ValueError, match="self-check"):
        gated(claim(), {"judge a": claim()})  # a paper claim is no instrument's check


def test_agreed_over_pairs_each_pairings_claims_in_order():
    a = [claim(), replace(claim(), claim="y")]
    b = [claim(), replace(claim("not reproduced"), claim="y")]
    x, y = agreed_over({"scorer b (a selects)": a, "scorer a (b selects)": b})
    assert x.verdict == "reproduced" and x.scorer == "scorer b (a selects) and scorer a (b selects)"
    assert y.verdict == "inconclusive" and "scorer a (b selects) reads 'not reproduced'" in y.why
    assert x.trend is None  # no trend: nothing to name


def test_agreed_names_the_pairing_its_trend_was_read_with():
    curve = {"images": [1, 2], "reading": "reproduced from 1 images on"}
    with_trend = replace(claim(), trend=curve)
    both = agreed({"scorer b (a selects)": with_trend, "scorer a (b selects)": claim()})
    assert both.trend == {**curve, "read_by": "scorer b (a selects)"} and with_trend.trend == curve
    assert "read_by" not in agreed({"scorer b": with_trend}).trend  # one reading: nothing to tell apart
