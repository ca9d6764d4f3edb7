"""The rule history: every change to a rule, threshold, instrument or training budget since the first book, with
the verdicts under the old rule recomputed from the same results.json where the recorded numbers allow.

The rule set is versioned: `fingerprint()` hashes every threshold of `rules`, `convention` and `trend` and the
code of those modules and `claims` (how parts combine, what controls and instrument checks do to a verdict), and the
last change records the fingerprint it leaves. A threshold or a line of that code changed without a new row fails
the test suite (tests/verdicts/test_history.py), so no rule moves after a run has been seen without this page saying
so. Which instruments a study reads a claim with (the gates it passes to `claims.gated`) lives in the studies and
is not in the fingerprint: a change there needs its row by review.
"""

from __future__ import annotations

import ast
import hashlib
import inspect
import json
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from dcgan_core.verdicts import claims, convention, rules, trend

LOGIC_MODULES = (rules, convention, trend, claims)  # the code a verdict is decided by


def logic_digest(source: str) -> str:
    """A hash of Python code's syntax tree without its docstrings: comments, layout and docstrings move it not,
    any other change (a comparison, a constant, a message) does. The tree is written out field by field, leaving
    empty and None fields out, so that Python versions that add optional fields (3.12's type_params) or print the
    tree otherwise (3.13's ast.dump) hash the same code the same."""
    tree = ast.parse(source)
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if (isinstance(body, list) and body and isinstance(body[0], ast.Expr)
                and isinstance(body[0].value, ast.Constant) and isinstance(body[0].value.value, str)):
            node.body = body[1:] or [ast.Pass()]
    return hashlib.sha256(json.dumps(_shape(tree)).encode()).hexdigest()


def _shape(node) -> object:
    """A syntax tree as nested lists: each node's type and its non-empty fields; other values by repr."""
    if isinstance(node, ast.AST):
        return [type(node).__name__, *([field, _shape(value)] for field, value in ast.iter_fields(node)
                                       if value is not None and value != [])]
    if isinstance(node, list):
        return [_shape(value) for value in node]
    return repr(node)


def fingerprint() -> str:
    """A hash of every named threshold the verdicts and trends read (upper-case numbers of `rules`, `convention`
    and `trend`) and of the code that decides a verdict (`LOGIC_MODULES`, by `logic_digest`)."""
    values = {f"{m.__name__}.{k}": v for m in (rules, convention, trend) for k, v in vars(m).items()
              if k.isupper() and isinstance(v, (int, float))}
    values.update({f"{m.__name__} code": logic_digest(inspect.getsource(m)) for m in LOGIC_MODULES})
    return hashlib.sha256(json.dumps(values, sort_keys=True).encode()).hexdigest()[:16]


def _legacy_seeds(per_seed: list[bool], mean_passes: bool) -> str:
    """The convention before 2026-12-02: every seed passes -> reproduced; the seed mean passes -> partly."""
    n, k = len(per_seed), sum(per_seed)
    if n and k == n:
        return "reproduced" if n >= convention.MIN_SEEDS else "single run"
    return "partly" if mean_passes else "not reproduced"


def _legacy_parts(parts: list[dict]) -> str | None:
    """Recorded parts read by the old seed convention (every part on every seed / on the seed mean)."""
    if not parts:
        return None
    checks = [convention.Part(p["name"], p["per_seed"], p["threshold"], p["better"], p.get("inclusive", True))
              for p in parts]
    per_seed = [all(c.passes(c.per_seed[i]) for c in checks) for i in range(len(checks[0].per_seed))]
    return _legacy_seeds(per_seed, all(c.passes(float(np.mean(c.per_seed))) for c in checks))


def legacy_convention(claim: dict) -> str | None:
    """The claim read by the old convention: its parts by `_legacy_seeds`, then inconclusive if a negative
    control came out reproduced (positive controls did not exist)."""
    verdict = _legacy_parts(claim.get("parts") or [])
    if verdict is None:
        return None
    negatives = [_legacy_parts(x.get("parts") or []) for x in claim.get("controls", [])
                 if x.get("kind", "negative") == "negative"]
    if verdict != "not reproduced" and any(v in ("reproduced", "single run") for v in negatives):
        return "inconclusive"
    return verdict


def _first_quality_rule(claim: dict) -> str | None:
    """Quality as first written: mean FD < 0.25 x the untrained G's and mean precision >= 0.5 -> reproduced;
    mean FD below the untrained G's -> partly."""
    v = claim.get("values", {})
    if not {"fd_final", "fd_untrained", "precision"} <= set(v):
        return None
    fd, untrained = np.mean(v["fd_final"]), np.mean(v["fd_untrained"])
    if fd < 0.25 * untrained and np.mean(v["precision"]) >= 0.5:
        return "reproduced"
    return "partly" if fd < untrained else "not reproduced"


def _first_turn_rule(claim: dict) -> str | None:
    """The turn as first written: per seed, the median Spearman rho of yaw along the lines >= 0.8."""
    rho = claim.get("values", {}).get("median_rho")
    if rho is None:
        return None
    return _legacy_seeds([r >= 0.8 for r in rho], float(np.mean(rho)) >= 0.8)


def _ungated(claim: dict) -> str | None:
    """The verdict before `claims.gated`: the rule's reading it keeps in `why` where it gated, else the verdict."""
    why = claim.get("why", "")
    if "failed the failure suite" not in why:
        return claim.get("verdict")
    return why.split("the rule reads '", 1)[1].split("'", 1)[0]


def _quality_at(images: int) -> Callable[[dict], str | None]:
    """Today's quality rule on the snapshot nearest `images` images seen (the budget before it was raised)."""
    def recompute(claim: dict) -> str | None:
        snaps = claim.get("values", {}).get("snapshots")
        if not snaps:
            return None
        seen = min(snaps, key=lambda k: abs(int(k) - images))
        if abs(int(seen) - images) > 0.05 * images:
            return None
        s = snaps[seen]
        return rules.quality(s["fd"], claim["values"]["fd_bar"], s["rate_gap"]).verdict
    return recompute


@dataclass(frozen=True)
class Change:
    """One change to what decides a verdict."""

    date: str
    commit: str
    subject: str  # rule, threshold, instrument or budget
    old: str
    new: str
    why: str
    applies: Callable[[dict], bool]  # which claims of a results.json it bears on
    recompute: Callable[[dict], str | None] | None = None  # the verdict under the old rule, from the recorded numbers
    not_recomputable: str = ""  # why the old verdict cannot be recomputed from results.json
    fingerprint: str = ""  # the rule set's fingerprint after the change (the last row's must be today's)


def _code(name: str) -> Callable[[dict], bool]:
    return lambda c: c.get("code", "").endswith(f".{name}")


def _quality_of(model: str) -> Callable[[dict], bool]:
    return lambda c: c.get("code", "").endswith(".quality") and c.get("claim", "").startswith(f"{model}:")


CHANGES = (
    Change("2026-11-29", "ceee523", "rule: Sec. 4.1 quality",
           "mean FD < 0.25 x the untrained G's FD and mean precision >= 0.5 (reproduced); FD below the untrained G's "
           "(partly)",
           "FD below real images blurred sigma 1 px, and the judge's content rates within 10 points of real images'",
           "a fraction of the untrained G's FD is passed by any G that learned the colours; the sigma-1 bar was "
           "chosen in the commit that first showed the quality curve, i.e. with the results in view",
           _code("quality"), _first_quality_rule),
    Change("2026-11-29", "5a11a81", "rule: Sec. 6.3.2 the turn vector",
           "per seed, the median Spearman rho of yaw along the lines >= 0.8",
           "per seed, >= 80% of lines turn (rho >= 0.5)",
           "replaced after its random-direction control passed the first rule",
           _code("turns"), _first_turn_rule),
    Change("2026-11-29", "f9510bf", "budget: faces model", "400k images (20 epochs)", "800k images (40 epochs)",
           "quality failed at 400k: the judge read glasses on 48% of samples against 32% of real faces",
           _quality_of("faces"), _quality_at(400_000)),
    Change("2026-11-29", "f9510bf", "budget: digits model", "100k images (25 epochs)", "300k images (75 epochs)",
           "FD was above the sigma-1 bar on every seed at 100k, read against mnist-test (also the probes' test set)",
           _quality_of("mnist"), _quality_at(100_000)),
    Change("2026-11-29", "f9510bf", "instrument: judges", "6 epochs", "10 epochs",
           "at 6 epochs the face judge read smiles at 0.945 on/off accuracy against the 0.95 bar",
           lambda c: "judge" in c.get("code", "") or c.get("section") == "6.3.2",
           not_recomputable="needs the 6-epoch judges, which results.json does not hold (about 4 min of training)"),
    Change("2026-11-29", "ceee523", "instrument: judges' training negatives",
           "real images only", "failure kinds (blur, patch shuffles) added as negatives",
           "the judges' failure-image check failed without them",
           lambda c: c.get("code", "").endswith(".judge_valid"),
           not_recomputable="needs judges trained without the failure kinds"),
    Change("2026-12-02", "issue 24", "convention: every rule",
           "'reproduced' when every seed passes, 'partly' when the seed mean does; controls counted only at "
           "'reproduced'; probe claims controlled by a random D; no positive controls",
           "each part's mean over seeds with its 95% interval (reproduced / borderline / not reproduced); 'partly' "
           "only when one part holds and another fails; a positive control must pass and every negative control "
           "must fail, else 'inconclusive'; a claim without a positive control is inconclusive",
           "verdicts flipped between two CPUs on identical seeds wherever a seed mean sat within its spread of the "
           "threshold; a rule never shown to say yes turned any claim into 'not reproduced'",
           lambda c: bool(c.get("parts")), legacy_convention),
    Change("2026-12-02", "5fa9a67", "convention: a 'partly' claim and its negative controls",
           "inconclusive when a negative control passes every part the claim passes",
           "not reproduced: the parts it passes are no evidence, the parts it fails still fail",
           "seen in the first cpu build under the new convention: dedup recall failed (7% against 50%) while its "
           "false-positive half, shared with the exact-bytes control, made it read inconclusive",
           lambda c: c.get("verdict") == "not reproduced" and "do not tell it from" in c.get("why", ""),
           lambda c: "inconclusive", fingerprint="a0a0ed710b55d325"),
    Change("2026-12-02", "issue 24", "instrument: Sec. 6.3.1 positive control",
           "none: both window-removal claims inconclusive whatever the rules read",
           "the room renderer driven as a G with planted window maps (`PlantedWindowG`), through the same study, "
           "detector and rules; both rules must pass on it",
           "built before any book read it: a rule never shown to say yes is no evidence either way",
           lambda c: c.get("section") == "6.3.1" and any(r.get("kind") == "positive" for r in c.get("controls", [])),
           lambda c: "inconclusive", fingerprint="a0a0ed710b55d325"),
    Change("2026-12-02", "issue 24", "rule: Sec. 6.2 little discrimination",
           "at most 10% of the random D's features object-selective; no positive control (inconclusive)",
           "the random D's object-selective share at most 10 points above that of plain image-edge maps of the "
           "same top images; positive control: edge maps of a second random D's top images; negative control: the "
           "object segmenter's class maps against their images' edges",
           "on synthetic rooms objects are where the edges are, so any gradient map concentrates on them (random D: "
           "62% in the first books): the fixed share measured the data and could pass for no D; redesigned before "
           "any book read the new rule",
           _code("little_discrimination"), lambda c: "inconclusive", fingerprint="4c7b09e8add5965c"),
    Change("2026-12-02", "issue 24", "instrument: Sec. 6.3.2 averaging positive control",
           "none: both 'averaging exemplars is needed' claims inconclusive whatever the rule read",
           "the face renderer driven as a G: a binary factor is the sign of its z coordinate, so a single exemplar "
           "sits anywhere in its half and A - B + C crosses a kept factor's boundary with probability 1/6 at k = 1",
           "built before any book read it: a rule never shown to say yes is no evidence either way",
           _code("more_is_better"), lambda c: "inconclusive", fingerprint="4c7b09e8add5965c"),
    Change("2026-12-02", "issue 24", "convention: a claim without a negative control",
           "decided by its rule and its positive control alone",
           "inconclusive, like one without a positive control; `no_negative` must say why it has none",
           "a rule never shown to say no is no evidence either way; in the cpu book every claim has a negative "
           "control, so no verdict moves there",
           lambda c: c.get("kind", "paper") == "paper" and c.get("verdict") != "not testable at this scale"
           and not any(x.get("kind", "negative") == "negative" for x in c.get("controls", [])),
           not_recomputable="the rule's own reading is kept in the claim's 'why'", fingerprint="4c7b09e8add5965c"),
    Change("2026-12-02", "issue 25", "instrument: Sec. 4.1 memorisation search and memorisers",
           "nearest neighbours in raw pixels and judge features among 50k training images at most (all 20k on the "
           "cpu profile), the query as it is; one memoriser (training images + noise); read at the end only",
           "exact search (faiss) over the whole training set in coarse pixels (4x4-px block means) and judge "
           "features, each query also mirrored; five memorisers (noise, 1-2 px shift, flip, colour jitter, a 10% "
           "patch of another image), each a negative control; read at the first snapshot and at the end",
           "a flipped copy read as no copy (raw pixels: 3% near copies, ratio 0.98 on 20k rooms, EPYC); the paper "
           "profile searched 50k of ~3M images; Fig. 2's claim is about samples after one epoch. Chosen on the "
           "memorisers (synth-rooms at 32 px), before any G was read with it",
           lambda c: c.get("section") == "4.1" and "memorised" in c.get("claim", ""),
           not_recomputable="needs the raw-pixel distances of the old search, which results.json does not hold; "
                            "the last book under it (EPYC, seeds 0-2) read all three models 'reproduced'",
           fingerprint="4c7b09e8add5965c"),
    Change("2026-12-02", "issue 25", "data: digits model's training and held-out sets",
           "trained on mnist-train (4,000) and scored on mnist-test, the probes' test set, against which its length "
           "was chosen",
           "trained on mnist-fit (3,000) and scored on mnist-val (1,000), for the same 300k images; the profile check "
           "refuses a model scored on a chapter's test set; the length is re-chosen on mnist-val by the rule written "
           "in profiles/cpu.yaml",
           "test-set reuse: a budget chosen on a set a later claim reports",
           lambda c: c.get("section") == "4.1" and c.get("claim", "").startswith("mnist:"),
           not_recomputable="needs the digits models trained on all 4,000 digits and scored on mnist-test",
           fingerprint="4c7b09e8add5965c"),
    Change("2026-12-02", "issue 25", "budget: digits model, re-chosen on mnist-val",
           "300k images (100 epochs of mnist-fit), the length chosen against mnist-test",
           "147k images (50 epochs), by the rule written in profiles/cpu.yaml before the run: the shortest snapshot "
           "at which every seed's FD is below mnist-val's sigma-1 bar (bar 409; 73.6k: 624-671; 147.2k: 105-113)",
           "no training budget may be chosen on a set a later claim reports",
           _quality_of("mnist"),
           not_recomputable="the 300k-image snapshots are no longer trained on the cpu profile",
           fingerprint="4c7b09e8add5965c"),
    Change("2026-12-02", "issue 25", "convention: an instrument's failure suite gates what it reads",
           "only the quality claims waited for their judge's self-check; walks, guided backprop, window removal and "
           "face arithmetic were decided whatever their judges' and segmenters' checks read",
           "a claim read with an instrument (a judge or segmenter that selects, scores or is a control) whose "
           "failure-suite check did not pass is inconclusive (`claims.gated`)",
           "an instrument may decide nothing before it passes the failure suite (issue 25); written before any book "
           "showed the segmenters' or judge b's check",
           lambda c: c.get("kind", "paper") == "paper" and c.get("section") in ("6.1", "6.2", "6.3.1", "6.3.2"),
           _ungated, fingerprint="4c7b09e8add5965c"),
    Change("2026-12-02", "issue 26", "rule: Sec. 3-4 guidelines (new)",
           "none: no claim of Sec. 3-4 was tested",
           "a run fails when it diverges, collapses or oscillates (`rules.run_failure`: DIVERGED_DGZ, FROZEN_CHANGE, "
           "COLLAPSE_FRACTION, COVERAGE_MIN_REAL, OSCILLATION_RISE); undoing a guideline hurts when the variant "
           "fails more often (Fisher exact) or ends at a worse judge FD (exact rank test), either at p < ALPHA / 2; "
           "Sec. 7's late filter collapse: the share of G's highest-layer filters whose spread over z is below "
           "FILTER_SPREAD_MIN of the 90% quantile filter's rises from the first snapshot to the last "
           "(`rules.filters_collapse`)",
           "a new chapter; every threshold written before any variant was trained",
           lambda c: c.get("code", "").endswith((".undoing_hurts", ".filters_collapse")),
           not_recomputable="a new rule: there is no earlier verdict", fingerprint="9ba87e973d646ff6"),
    Change("2026-12-02", "issue 25", "convention: the first-snapshot memorisation claim's quality gate",
           "the first snapshot's quality read without the judge's self-check",
           "read with it, as the end's quality is (`training.first_snapshot_quality(..., judge_ok)`)",
           "a bug seen in the first cpu book with the failure suite: every judge failed its check, so the end's "
           "claims read inconclusive while the first snapshot's rooms claim was still decided",
           lambda c: c.get("section") == "4.1" and "first snapshot" in c.get("claim", ""),
           not_recomputable="the first snapshot's quality verdict is not kept; under the old gate the book at 442d3d1 "
                            "(EPYC, seeds 0-2) read rooms 'borderline', faces and mnist 'inconclusive'",
           fingerprint="9ba87e973d646ff6"),
    Change("2026-12-03", "issue 25", "instrument: judges' and segmenters' training negatives",
           "judges: their own images blurred, patch-shuffled, as smooth colour fields or flat; segmenters: real "
           "rooms only",
           "both also on GAN-type failures made apart from the failure suite (`instruments.negatives`): the "
           "untrained G and the first snapshot of each model's recipe at held-aside seeds 9001-9002 (which no "
           "chapter may use), real images of the profile's other data sets, and 2x/8x transposed-conv checkerboards "
           "(the suite's are 4x); a quarter of each segmenter batch is such failures, on which it marks nothing",
           "the first cpu book with the failure suite saw every instrument fooled by GAN-type failures: the rooms "
           "judge called epoch-1 textures real (97%), the segmenters saw windows in every untrained-G sample, the "
           "face judges called digits faces; the recipe was written before any instrument trained with it was read",
           lambda c: c.get("kind") == "self-check" or (c.get("kind", "paper") == "paper" and c.get("section") in (
               "4.1", "6.1", "6.2", "6.3.1", "6.3.2")),
           not_recomputable="needs the instruments trained without the GAN-type negatives; under them the book at "
                            "442d3d1 (EPYC, seeds 0-2) read every self-check 'not reproduced' and so every claim "
                            "they gate 'inconclusive'",
           fingerprint="9ba87e973d646ff6"),
    Change("2026-12-03", "issue 27", "reading: a claim's trend against compute (new)",
           "none: only the quality claims showed a curve over images seen, without a reading",
           "the claim's rule read at every saved snapshot (`verdicts.trend`): the images seen from which it passes at "
           "every later snapshot, else whether the deciding part's seed mean moved by more than MOVING_SD seed SDs "
           "over the last two snapshots (still improving / flat / getting worse); shown beside the verdict, never in "
           "its place. First on the quality claims, whose snapshots were already scored",
           "a reader cannot tell a claim that fails for DCGAN from one that fails for a model this small and short; "
           "written before any book showed a trend",
           lambda c: c.get("trend") is not None,
           not_recomputable="a new reading: verdicts do not change", fingerprint="ff8dffb5fa83bdae"),
    Change("2026-12-03", "issue 26", "budget: the guideline runs (Sec. 3-4)",
           "~30k images a run (g-digits and g-digits32 10 epochs, g-rooms 6), bf16, sized from a speed pilot alone",
           "the shortest of the candidates fixed before the pilot (g-digits and g-digits32 10/20/40/80 epochs, g-rooms "
           "5/10/20/40; 40 epochs each) "
           "at which no DCGAN run on the held-aside PILOT_SEEDS 100-104 fails (`guidelines.pilot_length`; python -m "
           "dcgan_core guideline-pilot); fp32, the paper's maths (bf16 was 5.6x slower than fp32 on an AVX2-only "
           "EPYC)",
           "in the first cpu book the DCGAN itself collapsed on 5 of 5 seeds of both data sets at ~30k images (230 "
           "steps), so no undone guideline could fail more often than it; the new length reads only the DCGAN, on "
           "seeds no claim reads, by a rule written before its pilot ran",
           lambda c: c.get("code", "").endswith(".undoing_hurts"),
           not_recomputable="needs the ~30k-image runs, which results.json does not hold; under them the book at "
                            "9a89bb1 (an AVX512 EPYC, seeds 0-4) read all 21 guideline claims 'inconclusive' (the "
                            "positive control could not fail more often than a DCGAN that failed 5 of 5)",
           fingerprint="ff8dffb5fa83bdae"),
    Change("2026-12-03", "issue 26", "instrument: the guideline judges' failure suite",
           "its 'G trained on another data set' was a training-chapter model (the 32-px rooms G for the 16-px "
           "digits judge)",
           "one of the guidelines chapter's own DCGANs (g-rooms for g-digits and back), at the chapter's scale",
           "the 16-px judges' check trained a 400k-image 32-px bf16 model it does not otherwise need (about an hour "
           "on an AVX2-only CPU); written before any check on the new suite was read",
           lambda c: c.get("code", "").endswith(".undoing_hurts"),
           not_recomputable="needs the old suite's readings, which results.json does not hold; in the book at "
                            "9a89bb1 the rooms16 judge a failed its check, so the g-rooms claims read 'inconclusive'",
           fingerprint="ff8dffb5fa83bdae"),
    Change("2026-12-03", "issue 26", "control: the guideline rule's positive control (Sec. 3-4)",
           "lr 0.05 for G and D (250x the recipe's), a recipe known to fail",
           "G frozen at its initial weights (G's learning rate 1e-12, D trained as in the recipe): training hurt by "
           "construction",
           "seen in the results: at 40 epochs lr 0.05 collapsed only 3 of 5 g-digits runs and 2 of 5 g-digits32 runs "
           "(Fisher p = 0.083 and 0.22 against the DCGAN's 0 of 5), so the rule was never shown to say yes on digits "
           "and every digits claim read 'inconclusive'. A control known to fail on some data is not one that has "
           "the property by construction (the issue-24 standard); the variants and their verdicts played no part in "
           "choosing the new one",
           lambda c: c.get("code", "").endswith(".undoing_hurts"),
           not_recomputable="needs the lr 0.05 runs' readings, which results.json no longer holds; under them the "
                            "chapter at 8153480 (AVX2 EPYC, seeds 0-4, control seeds 5-9) read g-digits 10 of 10 and "
                            "g-digits32 1 of 1 'inconclusive' (the positive control not reproduced), and g-rooms "
                            "reproduced for hidden FC layer, no batch norm, beta1 0.9 and pre-DCGAN, not reproduced "
                            "for the other 6 (lr 0.05 collapsed 4 of 5 rooms runs: reproduced)",
           fingerprint="ff8dffb5fa83bdae"),
    Change("2026-12-06", "issue 24", "convention: Sec. 6.2 and the object segmenter's failure suite",
           "both Sec. 6.2 claims gated on segmenter a's failure-suite check (its class maps are the claims' controls)",
           "not gated: the claims are read by the held-out images' ground-truth boxes; the segmenter reads no sample "
           "here, and its class maps' object selectivity on real images, all a control of this rule needs, is what "
           "the boxes measure (the 6.1, 6.3.1 and 6.3.2 gates, whose instruments read G's samples, stay)",
           "seen in the results: segmenter a failed its suite in every build whose notes record it (9a89bb1, "
           "be6fba0: it sees beds in 4x-pixelated rooms, 79% vs 100% of real ones), so 'fires on objects' read "
           "inconclusive on both seed sets while its rule and both controls read as the convention needs; a check of "
           "whether an instrument is fooled by failure images bears on a claim only where the instrument reads G's "
           "images",
           lambda c: c.get("kind", "paper") == "paper" and c.get("section") == "6.2",
           not_recomputable="the failure-suite check is in the training chapter's results.json, not in this "
                            "chapter's; under the old gate the cpu chapters at 2816fb5 (AVX-512 EPYC) read both 6.2 "
                            "claims inconclusive on seeds 0-2 and on 3-5 ('fires on objects': the rule reproduced, "
                            "0.318 [0.211, 0.425] and 0.271 above the random D)",
           fingerprint="ff8dffb5fa83bdae"),
    Change("2026-12-06", "issue 24", "versioning: what the rule set's fingerprint covers",
           "the thresholds only (upper-case numbers of rules, convention and trend)",
           "the thresholds and the code of rules, convention, trend and claims (`logic_digest`: docstrings, "
           "comments and layout left out), so a change to how parts combine, what controls or instrument checks do "
           "to a verdict, or a rule's logic fails the suite until it has its row",
           "a review found that the test could not fail for a change of logic: the row before this one changed a "
           "verdict and left the fingerprint as it was. No verdict changes with this row; its fingerprint also covers "
           "two changes of what results.json records beside a verdict (0d6e461: a claim undecided for its own "
           "reason names a failed instrument check too; 58bbb5a: no_positive / no_negative recorded only where that "
           "control is missing). Which instruments a study gates a claim on stays outside the fingerprint",
           lambda c: False, fingerprint="a75bcf1efee0e9e6"),
    Change("2026-12-06", "issue 24", "record: which scorer pairing a trend was read with",
           "a claim read by two scorer pairings (6.3.1, 6.3.2) kept the first pairing's trend without saying so",
           "the trend names the pairing it was read with (`read_by`), shown on its panel and in its detail",
           "a review found the trend panels of 07 and 08 silent on which of the two readings they show; the "
           "pairings can disagree (the claim then reads inconclusive while its panel shows one pairing's rule). No "
           "verdict changes with this row",
           lambda c: False, fingerprint="e5db9891d0aa499a"),
    Change("2026-12-06", "issue 24", "rule: Sec. 6.2 little discrimination, read beyond the images' edges",
           "the random D's share of features object-selective beyond their boxes' area at most 10 points above the "
           "share of edge maps of the same top images; positive control: edge maps of a second random D's top "
           "images; negative control: the object segmenter's class maps against their images' edges",
           "at most 10% of the random D's features object-selective beyond the share of their top images' edge "
           "energy in the class's boxes (the same t-test per feature, that share in place of the area); positive "
           "control: the same edges under a smooth random weighting (`saliency.weighted_edges`: maps that know no "
           "object); negative control: the object segmenter's class maps, one measurement",
           "seen in the results: the old rule could not say no. Edge maps sit at the ceiling (object-selective beyond "
           "area for 128 of 128 features in every book), so no map's share can exceed theirs by 10 points: the "
           "segmenter's class maps, objects by construction, passed it, and the claim read inconclusive in every "
           "build (seeds 0-2 and 3-5, ca5fc68, AVX-512 EPYC). Reading each map against the edge energy of its own "
           "images removes the ceiling; the threshold's value is unchanged",
           _code("little_discrimination"), lambda c: "inconclusive", fingerprint="d99b2e02957321ac"),
    Change("2026-12-06", "issue 24", "instrument: image edges, Sec. 6.2's baseline",
           "ndimage.sobel over the (N, C, H, W) batch, which also smooths across images and colour channels",
           "each image's and channel's Sobel edges alone (`saliency.image_edges`, a 3x3 kernel on the last two axes)",
           "a bug found in review, after the first books under the row above: an image's edge map mixed in its "
           "neighbours'. Under the old edges the rule read borderline on both seed sets (9% [3%, 15%] and 8% [4%, "
           "11%] beyond edges, cpu, 65db244); with each image's own edges 4% on both, reproduced",
           _code("little_discrimination"),
           not_recomputable="the old edge maps are not in results.json; the old readings are in this row",
           fingerprint="d99b2e02957321ac"),
)
RULES_VERSION = len(CHANGES)


def old_verdicts(change: Change, results: list[dict]) -> list[tuple[dict, str | None]]:
    """Each claim a change bears on, with its verdict under the old rule (None: not recomputable)."""
    out = []
    for r in results:
        for c in r["claims"]:
            if change.applies(c):
                out.append((c, change.recompute(c) if change.recompute else None))
    return out
