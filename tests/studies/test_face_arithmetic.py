"""Sec. 6.3.2 on a fake generator whose z coordinates are the face factors, read by a fake judge: the answers are
known, so exemplar picking, the success rate, the baselines and the turn vector can be checked exactly."""

import json
from dataclasses import replace
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
import torch
from torch import nn

from dcgan_core import plots
from dcgan_core.instruments.judges import Judge, Targets
from dcgan_core.studies import face_arithmetic as A
from tests.conftest import self_checks

NAMES = ("male", "smile", "glasses", "yaw")
NOTEBOOK = Path(__file__).resolve().parents[2] / "notebooks" / "08_face_arithmetic.ipynb"


class FactorG(nn.Module):
    """Channel c of the image is z[c] everywhere (z uniform in [-1, 1]^8): factor c is z[c]."""

    def __init__(self):
        super().__init__()
        self.config = SimpleNamespace(z_dist="uniform", nz=8)
        self.dummy = nn.Parameter(torch.zeros(1))

    def sample_z(self, n, generator=None):
        return torch.rand(n, 8, generator=generator) * 2 - 1

    def forward(self, z):
        return z[:, :4, None, None].expand(-1, -1, 4, 4) + 0 * self.dummy


class FactorJudge:
    """Reads channel means: male and glasses as probabilities sigmoid(5 z), smile as a value (z + 1) / 2 (on above
    0.5), yaw = z."""

    targets = Targets(NAMES, ("binary", "regression", "binary", "regression"))
    thresholds = torch.tensor([0.0, 0.5, 0.0, 0.0])
    readings, on = Judge.readings, Judge.on

    def __init__(self, real=1.0):
        self.real = real

    def predict(self, images):
        z = np.asarray(images, np.float64).mean((2, 3)) / 127.5 - 1
        prob = 1 / (1 + np.exp(-5 * z))
        return {"male": prob[:, 0], "smile": (z[:, 1] + 1) / 2, "glasses": prob[:, 2], "yaw": z[:, 3],
                "real": np.full(len(z), self.real)}


@pytest.fixture(scope="module")
def pool():
    return A.sample_pool(FactorG(), FactorJudge(), 4000, seed=0)


def test_exemplars_satisfy_the_request(pool):
    rng = np.random.default_rng(0)
    for eq in A.EQUATIONS:
        for part in "abc":
            concept = getattr(eq, part)
            idx = A.exemplars(pool, concept, 20, rng)
            assert len(set(idx.tolist())) == 20
            z = pool.z[idx]
            for j, f in enumerate(("male", "smile", "glasses")):
                if f == "smile":  # a value: at least MARGIN from its threshold 0.5, i.e. z >= 0.4 or <= -0.4
                    v = (z[:, j] + 1) / 2
                    assert ((v >= 0.5 + A.MARGIN) if concept[f] else (v <= 0.5 - A.MARGIN)).all()
                else:  # a probability sigmoid(5 z) >= CONFIDENCE, or <= 1 - CONFIDENCE
                    p = torch.sigmoid(5 * z[:, j])
                    assert ((p >= A.CONFIDENCE - 1e-2) if concept[f] else (p <= 1 - A.CONFIDENCE + 1e-2)).all()


def test_a_pool_of_factors_the_judge_cannot_read_is_refused():
    class NoYaw(FactorJudge):
        targets = Targets(NAMES[:3], ("binary", "regression", "binary"))
    with pytest.raises(ValueError, match=r"reads none of \['yaw'\]"):
        A.sample_pool(FactorG(), NoYaw(), 10, seed=0)  # a CelebA judge has no yaw
    with pytest.raises(ValueError, match="beard"):
        A.sample_pool(FactorG(), FactorJudge(), 10, seed=0, factors=("male", "beard"))


def test_exemplars_fail_clearly_when_too_few_qualify(pool):
    with pytest.raises(A.ExemplarError, match="only .* samples are read as"):
        A.exemplars(pool, A.EQUATIONS[0].a, 10_000, np.random.default_rng(0))
    unsure = A.sample_pool(FactorG(), FactorJudge(real=0.5), 500, seed=0)  # a judge unsure the samples are real
    with pytest.raises(A.ExemplarError):
        A.exemplars(unsure, A.EQUATIONS[0].a, 1, np.random.default_rng(0))


def test_success_rate_on_a_known_answer():
    judge = FactorJudge()
    target = {"male": 1, "smile": 1, "glasses": 0}
    z = torch.tensor([[0.9, 0.9, -0.9, 0], [0.9, 0.9, 0.9, 0], [-0.9, 0.9, -0.9, 0], [0.9, -0.9, -0.9, 0]])
    imgs = A.generate(FactorG(), torch.cat([z, torch.zeros(4, 4)], 1))
    assert A.success(judge, imgs, target).tolist() == [True, False, False, False]


def test_equations_are_validated():
    eq = A.EQUATIONS[0]
    assert eq.target == {"male": 1, "smile": 1, "glasses": 0} and eq.attribute == "smile"
    assert A.EQUATIONS[1].target == {"male": 0, "smile": 0, "glasses": 1}
    with pytest.raises(ValueError, match="0 or 1"):
        A.Equation("bad", "", a={"male": 0}, b={"male": 1}, c={"male": 0})


def test_equation_study_separates_the_recipe_from_its_baselines(pool):
    G, judge = FactorG(), FactorJudge()
    st = A.equation_study(G, judge, pool, A.EQUATIONS[0], draws=6, k=3, k_sweep=[1, 3, 10], seed=0)
    s = {m: v.mean() for m, v in st["shares"].items()}
    assert s["z arithmetic"] > 0.9 and s["learned direction"] > 0.9  # the factors are axes of z: both work
    assert s["C alone"] < 0.1  # C is a neutral man: never smiling
    assert s["random direction, k=1"] < 0.5
    assert s["random direction"] < 0.5
    assert s["cosine"] > 0.5  # A - B points along the smile axis, as the learned normal does
    assert st["example"]["result"].shape == (9, 4, 4, 4)
    again = A.equation_study(G, judge, pool, A.EQUATIONS[0], draws=6, k=3, k_sweep=[1, 3, 10], seed=0)
    assert all(np.array_equal(st["shares"][m], again["shares"][m]) for m in st["shares"])  # seeded


def test_pixel_arithmetic_is_clipped_mean_arithmetic():
    a, b, c = (np.full((3, 1, 2, 2), v, np.uint8) for v in (200, 100, 250))
    assert A.pixel_arithmetic(a, b, c).tolist() == [[[[255, 255], [255, 255]]]]
    assert A.pixel_arithmetic(b, a, b)[0, 0, 0, 0] == 0


def test_turn_vector_turns_and_a_random_direction_does_not(pool):
    st = A.turn_study(FactorG(), FactorJudge(), pool, k=4, lines=8, positions=np.linspace(-1, 1, 9), seed=0)
    assert A.turned_share(st["turn"]["rho"]) == 1.0
    assert A.turned_share(st["random direction"]["rho"]) < 0.8
    assert A.monotone_share(st["turn"]["yaw"]).mean() > A.monotone_share(st["random direction"]["yaw"]).mean()
    assert set(A.drift(st["turn"]["readings"])) == {"male", "smile", "glasses"}


def test_turn_scores_orientation():
    pos = np.linspace(-1, 1, 5)
    assert np.allclose(A.turn_scores(np.array([-pos, pos, np.zeros(5)]), pos), [1.0, -1.0, 0.0])


READABLE = {f: {"measure": "on/off accuracy", "value": 1.0, "bar": 0.95, "readable": True} for f in A.ALIASES}


@pytest.fixture(scope="module")
def studies():
    G, judge = FactorG(), FactorJudge()
    return {s: A.seed_study(G, judge, judge, 3000, draws=4, k=3, k_sweep=[1, 3], turn_k=4, turn_lines=4,
                            positions=np.linspace(-1, 1, 5), seed=s, readable=READABLE) for s in (0, 1, 2)}


def test_claims_on_a_generator_whose_axes_are_the_factors(studies):
    claims = {c.claim: c for c in A.claims_over_seeds(studies, READABLE, "fake factors", 3, [1, 3])}
    transfer = [c for name, c in claims.items() if "transfers" in name]
    # the rule passes every part; without a positive control in the chapter the claim is inconclusive
    assert len(transfer) == 2 and all(p["verdict"] == "reproduced" for c in transfer for p in c.parts)
    assert all(c.verdict == "inconclusive" and "no positive control" in c.why for c in transfer)
    assert all(ctl["verdict"] == "not reproduced" for c in transfer for ctl in c.controls)  # the random direction
    pixel = [c for name, c in claims.items() if "pixel space" in name]
    # the fake G is linear in z per channel, so pixel arithmetic works too: the claim must come out not reproduced
    assert all(c.verdict == "not reproduced" for c in pixel)
    assert all(ctl["verdict"] == "reproduced" for c in pixel for ctl in c.controls if ctl["kind"] == "positive")
    averaging = [c for name, c in claims.items() if "averaging" in name]
    assert [ctl["name"] for c in averaging for ctl in c.controls] == ["random direction, k vs 1"] * 2
    # one confident exemplar already carries the exact factor axis here: averaging has nothing to add
    assert all(c.parts[0]["verdict"] not in ("reproduced", "single run") and c.controls[0]["verdict"]
               not in ("reproduced", "single run") for c in averaging)  # no yes: borderline at most
    assert all(c.verdict == "inconclusive" for c in averaging)  # no positive control yet
    turn = next(c for name, c in claims.items() if "turn vector" in name)
    assert turn.parts[0]["verdict"] == "reproduced" and turn.controls[0]["verdict"] not in ("reproduced", "single run")
    assert turn.verdict == "inconclusive"  # no positive control yet


def test_unreadable_factors_make_claims_not_testable(studies):
    unread = {**READABLE, "smile": {**READABLE["smile"], "readable": False}, "yaw": {**READABLE["yaw"],
                                                                                      "readable": False}}
    judge = FactorJudge()
    st = A.seed_study(FactorG(), judge, judge, 2000, 2, 3, [1, 3], 4, 2, np.linspace(-1, 1, 5), 0, unread)
    assert st["equations"] == {} and st["turn"] is None  # every equation uses smile
    verdicts = {c.verdict for c in A.claims_over_seeds({0: st}, unread, "fake", 3, [1, 3])}
    assert verdicts == {"not testable at this scale"}


def test_tables_and_figures(studies):
    table = A.method_table(studies, "smile")
    assert "| z arithmetic |" in table and "| pixel space |" in table and "cosine" in table
    assert "| turn |" in A.turn_table(studies)
    readable_md = A.factor_table({**READABLE, "yaw": {"measure": "-", "value": None, "bar": None, "readable": False}})
    assert "| yaw | - | - | - | no |" in readable_md
    rgb = {k: v[:, :3] for k, v in studies[0]["equations"]["smile"]["example"].items()}  # the fake has 4 channels
    fig = plots.arithmetic_figure(rgb, A.EQUATIONS[0].text)
    assert len(fig.axes) == 5 and fig.axes[3].get_title().startswith("= Y in z: smiling man")
    for f in (fig, plots.yaw_sweep({s: st["turn"] for s, st in studies.items()}, np.linspace(-1, 1, 5)),
              plots.k_effect({"smile": {1: [0.1, 0.2, 0.3], 3: [0.5, 0.6, 0.7]}}), plots.note_figure("nothing")):
        plots.plt.close(f)
    assert studies[0]["turn"]["frames"].shape == (A.SHOWN_LINES, 5, 4, 4, 4)
    curve = A.k_curve(studies, [1, 3])
    assert set(curve) == {"smile", "glasses"} and len(curve["smile"][3]) == 3  # per seed
    assert curve["smile"][3] == [float(st["equations"]["smile"]["shares"]["k=3"].mean()) for st in studies.values()]


def test_batch_statistics_generators_decode_each_query_as_the_pool_did():
    from dcgan_core.core.models import Generator, resolve
    from dcgan_core.instruments.interventions import generate
    torch.manual_seed(0)
    G = Generator(resolve("tiny16", bn_eval="batch"))  # the authors' faces preset normalises with batch statistics
    z0 = G.sample_z(1, generator=torch.Generator().manual_seed(1))
    z = (z0 + torch.rand(9, *z0.shape[1:]) * 0.5 - 0.25).clamp(-1, 1)  # Fig. 7's jittered copies of one Y

    def gap(a, b):
        return np.abs(a.astype(float) - b.astype(float)).mean()
    alone, with_copies = A.decode(G, z[:1]), A.decode(G, z)[:1]
    naive = gap(generate(G, z[:1]), generate(G, z)[:1])  # the copies normalised against each other
    assert gap(alone, with_copies) < naive / 10


def test_a_line_turns_from_the_rho_threshold_up():
    from dcgan_core.verdicts.rules import TURN_RHO_MIN
    assert A.turned_share([TURN_RHO_MIN, TURN_RHO_MIN - 1e-6, 1.0, -1.0]) == 0.5


def test_the_discrepancies_page_quotes_the_code_constants():
    text = (Path(__file__).resolve().parents[2] / "book" / "discrepancies.md").read_text()
    assert f"P >= {A.CONFIDENCE}" in text and f"{A.MARGIN} past the threshold" in text
    assert f"(<= -{A.YAW_SIDE} / >= {A.YAW_SIDE})" in text


def glue_names(notebook: Path) -> set[str]:
    cells = json.loads(notebook.read_text())["cells"]
    return {line.split()[-1] for c in cells if c["cell_type"] == "markdown"
            for line in "".join(c["source"]).splitlines() if line.startswith("```{glue:figure}")}


def rgb(study: dict) -> dict:
    """The study with its images cut to 3 channels for the figures (the fake G draws one channel per factor)."""
    def cut(st):
        eqs = {e: {**q, "example": {k: v[..., :3, :, :] for k, v in q["example"].items()}}
               for e, q in st["equations"].items()}
        turn = st["turn"] and {**st["turn"], "frames": st["turn"]["frames"][..., :3, :, :]}
        return {**st, "equations": eqs, "turn": turn}
    return {**study, "studies": {s: cut(st) for s, st in study["studies"].items()}}


@pytest.mark.parametrize("readable", [READABLE, {f: {**r, "readable": f != "smile"} for f, r in READABLE.items()}],
                         ids=["all readable", "smile unreadable"])
def test_the_chapter_entry_points(monkeypatch, readable):
    P = SimpleNamespace(model="faces", models={"faces": {"heldout": "faces-heldout", "data": "faces"}}, seeds=[3],
                        device="cpu", n_pool=2000, draws=2, k=3, k_sweep=[1, 3], turn_k=4, turn_lines=2, turn_steps=5,
                        judge=lambda model, scorer="a": FactorJudge(),
                        pack=lambda name: SimpleNamespace(meta={"source": "celeba"}) if name == "faces" else name,
                        run=lambda model, seed: f"run-{seed}", data=lambda model: "fake factors",
                        instrument_checks=lambda model, only: self_checks(only))
    loaded = []
    monkeypatch.setattr(A, "load_run", lambda run, device, name="last.pt": loaded.append((run, name)) or (
        FactorG(), None, {"step": 10, "train_config": {"batch_size": 200}}))
    monkeypatch.setattr(A, "earlier_snapshots", lambda run, device: iter([(1000, "epoch-0001.pt")]))
    monkeypatch.setattr(A, "readable_factors", lambda judge, heldout: heldout == "faces-heldout" and readable)
    study = A.run(P)
    assert loaded == [("run-3", "last.pt"), ("run-3", "epoch-0001.pt"), ("run-3", "last.pt")]
    assert list(study["positions"]) == [-1, -.5, 0, .5, 1] and study["final_seen"] == 2000
    assert list(study["at"]) == [3] and list(study["at"][3]) == [1000]  # issue 27: the snapshot's study
    assert {f: r["readable"] for f, r in study["readable"].items()} == {f: r["readable"] for f, r in readable.items()}
    judge = FactorJudge()
    again = A.seed_study(FactorG(), judge, judge, 2000, 2, 3, [1, 3], 4, 2, np.linspace(-1, 1, 5), 3,
                         study["readable"])
    assert set(again["equations"]) == set(study["studies"][3]["equations"])
    assert all(np.array_equal(v, study["studies"][3]["equations"][e]["shares"][m])
               for e, st in again["equations"].items() for m, v in st["shares"].items())
    figs = A.figures(rgb(study), P)
    assert set(figs) == glue_names(NOTEBOOK)  # exactly the figures the notebook's markdown places
    for fig in figs.values():
        plots.plt.close(fig)
    tables = A.tables(study, P)
    assert tables["factors"] == A.factor_table(study["readable"]) and "| turn |" in tables["turn"]
    assert "held-out value (a)" in tables["factors"] and "| real |" in tables["agreement"]
    assert ("**" + A.EQUATIONS[0].text in tables["equations"]) == readable["smile"]["readable"]
    claims = A.claims(study, P)
    assert [c.ours for c in claims] == [c.ours for c in A.claims_over_seeds(study["studies"], study["readable"],
                                                                            "fake factors", 3, [1, 3])]
    assert all(c.scorer == " and ".join(A.PAIRINGS) for c in claims)  # each claim names who read it
    decided = [replace(c, verdict="reproduced", why="stand-in") for c in claims]  # the stand-ins decide little
    monkeypatch.setattr(A, "claims_over_seeds", lambda *a, **kw: decided)
    assert [c.verdict for c in A.claims(study, P)] == ["reproduced"] * len(claims)
    failed = A.claims({**study, "checks": self_checks(A.INSTRUMENTS, failing=("judge b",))}, P)
    assert all(c.verdict == "inconclusive" and "judge b reads" in c.why for c in failed)
    assert study["record"] == {}  # nothing beyond the claims goes into results.json
    assert study["control"] is None  # no renderer for these faces: the claims say why they have no positive control


def test_what_one_scorer_selects_the_other_scores(monkeypatch):
    judges = {"a": FactorJudge(), "b": FactorJudge()}  # equal readings, different objects
    selector_of, pairs = {}, []
    pool_of, success_of, turn_of = A.sample_pool, A.success, A.turn_study

    def pool(G, judge, *args, **kw):
        out = pool_of(G, judge, *args, **kw)
        selector_of[id(out)] = judge
        return out

    def turn(G, judge, pool, *args):
        pairs.append((selector_of[id(pool)], judge))
        return turn_of(G, judge, pool, *args)
    monkeypatch.setattr(A, "sample_pool", pool)
    monkeypatch.setattr(A, "turn_study", turn)
    scored = []
    monkeypatch.setattr(A, "success", lambda judge, *a: scored.append(judge) or success_of(judge, *a))
    P = SimpleNamespace(model="faces", models={"faces": {"heldout": "faces-heldout", "data": "faces"}}, seeds=[0],
                        device="cpu", n_pool=2000, draws=2, k=3, k_sweep=[1, 3], turn_k=4, turn_lines=2, turn_steps=5,
                        judge=lambda model, scorer="a": judges[scorer],
                        pack=lambda name: SimpleNamespace(meta={"source": "celeba"}) if name == "faces" else name,
                        run=lambda model, seed: "run", data=lambda model: "fake",
                        instrument_checks=lambda model, only: self_checks(only))
    monkeypatch.setattr(A, "load_run", lambda run, device: (FactorG(), None, None))
    monkeypatch.setattr(A, "earlier_snapshots", lambda run, device: iter([]))
    monkeypatch.setattr(A, "images_seen", lambda state: 0)
    monkeypatch.setattr(A, "readable_factors", lambda judge, heldout: READABLE)
    A.run(P)
    assert pairs == [(judges["a"], judges["b"]), (judges["b"], judges["a"])]  # PAIRINGS, in order
    assert {id(j) for j in scored} == {id(judges["a"]), id(judges["b"])}
    assert all(sel is not sc for sel, sc in pairs)
    n = len(scored) // 2  # the first pairing's equations are scored by b, the second's by a
    assert all(j is judges["b"] for j in scored[:n]) and all(j is judges["a"] for j in scored[n:])


def test_two_scorers_that_disagree_make_the_claim_inconclusive(studies):
    from dcgan_core.verdicts.claims import agreed
    first = A.claims_over_seeds(studies, READABLE, "fake", 3, [1, 3], studies[0])
    transfer = next(c for c in first if "transfers" in c.claim)
    assert transfer.verdict == "reproduced"
    same = agreed({"scorer b": transfer, "scorer a": transfer})
    assert same.verdict == "reproduced" and same.scorer == "scorer b and scorer a"
    other = next(c for c in A.claims_over_seeds(studies, READABLE, "fake", 3, [1, 3]) if c.claim == transfer.claim)
    split = agreed({"scorer b": transfer, "scorer a": other})  # the other read it without its positive control
    assert split.verdict == "inconclusive" and "scorer b reads 'reproduced'; scorer a reads 'inconclusive'" in split.why
    with pytest.raises(ValueError, match="same claim"):
        agreed({"a": transfer, "b": first[-1]})


def test_a_generator_whose_axes_are_the_factors_is_the_positive_control(studies):
    claims = {c.claim: c for c in A.claims_over_seeds(studies, READABLE, "fake factors", 3, [1, 3], studies[0])}
    transfer = [c for name, c in claims.items() if "transfers" in name]
    assert all(c.verdict == "reproduced" for c in transfer)  # the construction passes, so the rule can say yes
    assert all(ctl["kind"] == "positive" and ctl["verdict"] == "single run"
               for c in transfer for ctl in c.controls if ctl["name"].startswith("the face renderer"))
    turn = next(c for name, c in claims.items() if "turn vector" in name)
    assert turn.verdict == "reproduced" and any(ctl["kind"] == "positive" for ctl in turn.controls)


class SignJudge(FactorJudge):
    """Reads male and glasses as the sign of their channel (as the face renderer draws them): every exemplar is
    confident, wherever it sits in its half of z, so single exemplars are noisy concepts."""

    def predict(self, images):
        pred = super().predict(images)
        return {**pred, "male": (pred["male"] > 0.5).astype(float), "glasses": (pred["glasses"] > 0.5).astype(float)}


def test_averaging_passes_where_single_exemplars_are_noisy_by_construction():
    G, judge = FactorG(), SignJudge()
    noisy = {s: A.seed_study(G, judge, judge, 3000, draws=12, k=3, k_sweep=[1, 3], turn_k=4, turn_lines=4,
                             positions=np.linspace(-1, 1, 5), seed=s, readable=READABLE) for s in (0, 1, 2)}
    for eq in A.EQUATIONS:  # k = 3 shrinks the chance that A - B + C crosses a kept factor's boundary
        shares = noisy[0]["equations"][eq.name]["shares"]
        assert shares["k=3"].mean() - shares["k=1"].mean() > 0.1
    averaging = [c for c in A.claims_over_seeds(noisy, READABLE, "fake", 3, [1, 3], noisy[0]) if "averaging" in c.claim]
    assert len(averaging) == 2 and all(c.verdict != "inconclusive" for c in averaging)
    assert all(ctl["verdict"] == "single run" and ctl["name"] == A.AVERAGING_POSITIVE
               for c in averaging for ctl in c.controls if ctl["kind"] == "positive")
    # a control on which averaging adds nothing (k = 3 scores as k = 1) cannot say yes: the claim is inconclusive
    flat = {**noisy[0], "equations": {name: {**eq, "shares": {**eq["shares"], "k=3": eq["shares"]["k=1"]}}
                                      for name, eq in noisy[0]["equations"].items()}}
    averaging = [c for c in A.claims_over_seeds(noisy, READABLE, "fake", 3, [1, 3], flat) if "averaging" in c.claim]
    assert all(c.verdict == "inconclusive" and "positive control" in c.why for c in averaging)


def test_the_face_renderer_as_a_generator_sets_the_factors_from_z():
    from dcgan_core.data.synth_faces import ATTRIBUTES, render_face
    from dcgan_core.instruments.controls import FaceRendererG, factors_of

    z = np.array([0.5, 0.2, -0.3, -0.8] + [0.1] * 12, np.float32)
    f = factors_of(z)
    assert f["male"] == 1.0 and f["smile"] > 0.55 and f["glasses"] == 0.0 and f["yaw"] == pytest.approx(-0.8)
    _, extra = render_face(np.random.default_rng(0), f)
    assert [extra["attributes"][ATTRIBUTES.index(k)] for k in f] == pytest.approx(list(f.values()))
    G = FaceRendererG(16)
    x = G(torch.from_numpy(np.stack([z, z])))
    assert x.shape == (2, 3, 16, 16) and -1 <= x.min() and x.max() <= 1 and torch.equal(x[0], x[1])  # z alone
    zs = G.sample_z(3, generator=torch.Generator().manual_seed(0))
    assert zs.shape == (3, 16) and zs.abs().max() <= 1
    with pytest.raises(ValueError, match="factors may set"):
        render_face(np.random.default_rng(0), {"beard": 1.0})


class BlankG(FactorG):
    """Every sample is the same grey image: no exemplar of any concept, no face looking left or right."""

    def forward(self, z):
        return super().forward(z) * 0


def test_each_rule_is_read_at_each_earlier_snapshot_with_that_snapshots_g(monkeypatch, studies):
    """Issue 27: a snapshot's study is that snapshot's G (cheaper: SNAPSHOT_POOL, SNAPSHOT_DRAWS, k and 1); an
    equation whose exemplars the snapshot's pool lacks leaves that snapshot out of its rule's trend."""
    snapshots = {"epoch-0001.pt": BlankG(), "epoch-0002.pt": FactorG()}
    monkeypatch.setattr(A, "load_run", lambda run, device, name: (snapshots[name], None, None))
    monkeypatch.setattr(A, "earlier_snapshots", lambda run, device: iter([(100, "epoch-0001.pt"),
                                                                          (200, "epoch-0002.pt")]))
    judge, positions = FactorJudge(), np.linspace(-1, 1, 5)
    at = {s: A.snapshot_studies("run", judge, judge, 10_000, 40, 3, 4, 4, positions, s, READABLE, "cpu")
          for s in studies}
    assert at[0][100] == {"equations": {}, "turn": None}  # a blank G: nothing to pick, left out (no error)
    with pytest.raises(A.ExemplarError):  # the final G's study is never lenient
        A.seed_study(BlankG(), judge, judge, 500, 2, 3, [1, 3], 4, 2, positions, 0, READABLE)
    direct = A.seed_study(FactorG(), judge, judge, A.SNAPSHOT_POOL, A.SNAPSHOT_DRAWS, 3, (1, 3), 4, 4, positions, 0,
                          READABLE)
    for eq, st in direct["equations"].items():
        assert set(st["shares"]) == set(at[0][200]["equations"][eq]["shares"])
        assert all(np.array_equal(v, at[0][200]["equations"][eq]["shares"][m]) for m, v in st["shares"].items())
        assert len(st["shares"]["z arithmetic"]) == A.SNAPSHOT_DRAWS
    small = A.snapshot_studies("run", judge, judge, 2000, 3, 3, 4, 4, positions, 0, READABLE, "cpu")
    assert len(small[200]["equations"]["smile"]["shares"]["z arithmetic"]) == 3  # never more than the chapter's
    claims = A.claims_over_seeds(studies, READABLE, "fake", 3, [1, 3], at=at, final_seen=400)
    trended = [c for c in claims if c.verdict != "not testable at this scale"]
    assert len(trended) == 7 and all(list(c.trend["images"]) == [200, 400] for c in trended)  # 100 left out
    transfer = next(c for c in claims if "transfers" in c.claim)
    assert transfer.trend["verdicts"][0] == "reproduced"  # the snapshot's own rule, before the controls
    assert all(c.trend is None for c in A.claims_over_seeds(studies, READABLE, "fake", 3, [1, 3]))
