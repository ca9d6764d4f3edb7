"""The rule history: no threshold changes without a row, and old rules recomputed from recorded numbers."""

from dcgan_core.verdicts import history, rules
from dcgan_core.verdicts.claims import Claim

UNTRAINED = {"untrained G": (rules.quality([50.0] * 3, 10.0, [0.5] * 3), "FD 50")}  # a failing negative control


def test_the_rule_set_cannot_change_without_a_row_on_the_history_page():
    assert history.CHANGES[-1].fingerprint == history.fingerprint(), (
        "a threshold or the code of verdicts.rules, convention, trend or claims changed: add a Change to "
        "verdicts.history.CHANGES (date, old, new, why, the old rule's recompute) with the new fingerprint")
    assert history.RULES_VERSION == len(history.CHANGES)


def test_the_fingerprint_moves_with_any_threshold(monkeypatch):
    before = history.fingerprint()
    monkeypatch.setattr(rules, "RATE_TOLERANCE", rules.RATE_TOLERANCE + 0.01)
    assert history.fingerprint() != before


def test_the_fingerprint_moves_with_the_code_that_decides_a_verdict_and_not_with_its_docstrings(monkeypatch):
    code = 'def passes(x):\n    """Below the bar."""\n    return x < 1  # strict\n'
    same = 'def passes(x):\n    """Under the bar, said otherwise."""\n\n    return x < 1\n'
    other = 'def passes(x):\n    """Below the bar."""\n    return x <= 1  # strict\n'
    assert history.logic_digest(code) == history.logic_digest(same) != history.logic_digest(other)
    before, source = history.fingerprint(), history.inspect.getsource
    for module in history.LOGIC_MODULES:  # one changed line of any of them moves the fingerprint
        monkeypatch.setattr(history.inspect, "getsource",
                            lambda m, module=module: source(m) + ("\nX = 1\n" if m is module else ""))
        assert history.fingerprint() != before, module.__name__
    assert {m.__name__.rsplit(".", 1)[1] for m in history.LOGIC_MODULES} >= {"rules", "convention", "claims"}


def _quality_claim(fd, gap, untrained, precision, snapshots=None):
    out, real = rules.quality(fd, 10.0, gap), rules.quality([1.0] * 3, 10.0, [0.0] * 3)
    return Claim.decided(out, UNTRAINED, {"real": (real, "")}, section="4.1",
                         claim="faces: DCGAN trains to good samples",
                         paper="p", ours="o", baseline="b", values={
                             "fd_final": fd, "rate_gap": gap, "fd_bar": 10.0, "fd_untrained": untrained,
                             "precision": precision, "snapshots": snapshots or {}}).__dict__


def test_old_rules_are_recomputed_from_the_recorded_numbers():
    c = _quality_claim([8.0, 9.0, 9.5], [0.05] * 3, [20.0] * 3, [0.6] * 3,
                       {"399360": {"fd": [12.0] * 3, "rate_gap": [0.2] * 3, "precision": [0.4] * 3}})
    results = [{"claims": [c]}]
    first_quality, _, faces_budget, *_ = history.CHANGES
    assert history.old_verdicts(first_quality, results) == [(c, "partly")]  # FD 8.8 > 0.25 x 20, < 20
    assert history.old_verdicts(faces_budget, results) == [(c, "not reproduced")]  # at 400k images
    assert c["verdict"] == "borderline" and history.legacy_convention(c) == "reproduced"  # every seed under 10


def test_the_old_convention_counted_a_control_only_at_reproduced():
    ok = rules.quality([1.0, 1.5, 2.0], 10.0, [0.0] * 3)
    smooth = rules.quality([1.0, 1.2, 1.1], 10.0, [0.5] * 3)  # a control that passes one part of two
    c = Claim.decided(ok, {"control": (smooth, "")}, {"real": (ok, "")}, section="4.1", claim="c", paper="p",
                      ours="o", baseline="b").__dict__
    assert c["verdict"] == "reproduced" and history.legacy_convention(c) == "reproduced"
    c["controls"][1]["parts"] = c["parts"]  # a control that passes the whole rule
    assert history.legacy_convention(c) == "inconclusive"


def test_the_verdict_before_the_instrument_gate_is_read_back_from_the_gated_claim():
    from dataclasses import asdict

    from dcgan_core.verdicts.claims import Claim, gated
    change = next(c for c in history.CHANGES if "failure suite gates" in c.subject)
    read = Claim(section="6.3.1", claim="rooms: x", paper="p", ours="o", baseline="b", verdict="not reproduced",
                 why="drop +2%")
    check = Claim(section="4.1", claim="c", paper="-", ours="-", baseline="-", verdict="not reproduced",
                  kind="self-check")
    closed = asdict(gated(read, {"segmenter b": check}))
    assert closed["verdict"] == "inconclusive" and change.applies(closed)
    assert change.recompute(closed) == "not reproduced"
    assert change.recompute(asdict(read)) == "not reproduced"  # an ungated claim kept its verdict
    assert not change.applies(asdict(check))  # the self-checks themselves are not gated
