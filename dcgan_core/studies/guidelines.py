"""Sec. 3-4: do the architecture guidelines and the training recipe make GAN training stable?

Each variant undoes one guideline of Sec. 3 or one recipe choice of Sec. 4, as options of the same model and
training configs (`core.models.ModelConfig`, `core.train.TrainConfig`; `VARIANTS`), and trains on each data set
for the images and seeds the DCGAN does. Every run is read at its snapshots in the data set's judge space
(`run_readout`): FD against held-out images, the diversity of the samples and the share of the judge's readings
(classes, objects) they cover, D(G(z)) late in training and how much a fixed z's samples still move. A run fails
when it diverges, collapses or oscillates (`rules.run_failure`); per guideline and data set, undoing it hurts when
the variant fails more often or ends at a worse FD than the DCGAN on the same seeds (`rules.undoing_hurts`).
The positive control is a G frozen at its initial weights (`POSITIVE`), training hurt by construction, which the
rule must flag; the negative control is the DCGAN against itself on other seeds, which it must not. Sec. 7's late
collapse is read on the book's longest runs (the training chapter's): the share of G's highest-layer filters that
draw the same for every z, at the first snapshot and at the last (`late_collapse`).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path

import numpy as np
from scipy.spatial.distance import pdist

from dcgan_core import plots
from dcgan_core.core import runs
from dcgan_core.core.checkpoint import images_seen, load_run, snapshot_name, snapshot_names
from dcgan_core.core.runs import diverged
from dcgan_core.instruments.interventions import capture, dropped_maps
from dcgan_core.instruments.reference import Reference, generate_uint8
from dcgan_core.utils.parallel import run_jobs
from dcgan_core.utils.streams import stream_seed, torch_generator
from dcgan_core.verdicts import rules
from dcgan_core.verdicts.claims import Claim, gated
from dcgan_core.verdicts.trend import claim_trend

# variant name -> (the profile-entry fields it changes, the paper's statement it tests)
VARIANTS = {
    "pooling": ({"d_downsample": "pool", "g_upsample": "fixed"},
                "strided convolutions replace pooling in D and fixed upsampling in G (Sec. 3)"),
    "hidden FC layer": ({"hidden_fc": 256}, "no fully connected hidden layers (Sec. 3)"),
    "global average pooling": ({"d_output": "gap"},
                               "global average pooling in D 'increased model stability but hurt convergence speed'"),
    "no batch norm": ({"batch_norm": "none"},
                      "batch norm 'prevents the generator from collapsing all samples to a single point'"),
    "batch norm everywhere": ({"batch_norm": "all"},
                              "batch norm on every layer 'resulted in sample oscillation and model instability'"),
    "no tanh": ({"g_output": "linear"}, "a bounded tanh output 'learns more quickly to saturate'"),
    "ReLU in D": ({"d_activation": "relu"}, "LeakyReLU in D 'works well, especially for higher resolution'"),
    "lr 1e-3": ({"lr_g": 1e-3, "lr_d": 1e-3}, "a learning rate of 1e-3 'was too high' (Sec. 4)"),
    "beta1 0.9": ({"beta1": 0.9}, "beta1 0.9 'resulted in training oscillation and instability' (Sec. 4)"),
    "pre-DCGAN": ({"d_downsample": "pool", "g_upsample": "fixed", "hidden_fc": 256, "batch_norm": "none"},
                  "a CNN GAN before the guidelines (pooling, FC layers, no batch norm) trains less stably"),
}
# the positive control: G frozen at its initial weights (G's learning rate 1e-12: D trains as in the recipe), whose
# training is hurt by construction, so the rule must flag it. Until 2026-12-03 it was 250x the recipe's learning
# rate, a recipe known to fail, which collapsed on only 3 and 2 of 5 digits runs (16 and 32 px): the rule-history page
POSITIVE = ("G frozen (positive control)", {"lr_g": 1e-12})
DCGAN = "DCGAN"
CONTROL = "DCGAN, other seeds"  # the negative control's arm: the DCGAN on the chapter's control seeds
HIGH_RES_VARIANTS = ("ReLU in D",)  # Sec. 3: LeakyReLU "especially for higher resolution": read at a second one


def variant_entry(entry: dict, variant: str) -> dict:
    """A profile's model entry with one variant's changes (DCGAN: unchanged; the positive control's lr)."""
    if variant == DCGAN:
        return dict(entry)
    changes = POSITIVE[1] if variant == POSITIVE[0] else VARIANTS[variant][0]
    return {**entry, **changes}


def run_name(model: str, variant: str) -> str:
    """The run directory prefix of a model's variant (the key hash follows it)."""
    return model if variant == DCGAN else f"{model}-" + "".join(c if c.isalnum() else "-" for c in variant.lower())


# --- the runs' length (issue 26): chosen by a rule fixed before the pilot, on seeds no claim reads --------------
PILOT_SEEDS = (100, 101, 102, 103, 104)  # the budget pilot's DCGAN runs; a chapter's seeds must avoid them
SNAPSHOTS = 5  # a guideline run saves a snapshot at every fifth of its length: oscillation and freezing read them


def schedule(epochs: int) -> list[int]:
    """The snapshot epochs of a guideline run of `epochs` epochs: every fifth of it."""
    if epochs < SNAPSHOTS or epochs % SNAPSHOTS:
        raise ValueError(f"a guideline run's epochs must be a multiple of {SNAPSHOTS} (one snapshot every fifth of "
                         f"it), got {epochs}")
    return [epochs * k // SNAPSHOTS for k in range(1, SNAPSHOTS + 1)]


def pilot_entry(entry: dict, candidates: Sequence[int]) -> dict:
    """The DCGAN entry the pilot trains once per seed: the longest candidate, with every candidate's snapshots, so
    each shorter run is read as the prefix it is (Adam at a constant learning rate: no schedule to differ). The
    entry's own length, in steps or epochs, is what the pilot replaces."""
    return {**{k: v for k, v in entry.items() if k != "steps"}, "epochs": max(candidates),
            "snapshot_epochs": sorted({e for c in candidates for e in schedule(c)})}


def pilot_length(failures: dict[int, Sequence[str]]) -> int:
    """Issue 26's budget rule, written before the pilot ran: the shortest candidate length (epochs) at which no
    pilot run of the DCGAN fails (`rules.run_failure`); when every candidate has failures, the one with the fewest
    (the shortest among ties). Only the DCGAN on PILOT_SEEDS is read: no variant, no chapter seed."""
    if not failures:
        raise ValueError("pilot_length needs the pilot runs' failures at one candidate length at least")
    return min(failures, key=lambda epochs: (sum(map(bool, failures[epochs])), epochs))


# --- one run --------------------------------------------------------------------------------------------------
def diversity(features: np.ndarray) -> float:
    """Mean pairwise Euclidean distance of a set's features: zero when every sample is the same."""
    return float(pdist(np.asarray(features, np.float64)).mean())


def coverage(rates: dict[str, float], real_rates: dict[str, float]) -> float:
    """The share of the judge's readings real images show (at >= COVERAGE_MIN_REAL) that samples show at >=
    COLLAPSE_FRACTION of real images' rate: 1 for a G that draws every class or object, 0.3 for one drawing 3
    of 10 digits."""
    shown = [k for k, v in real_rates.items() if v >= rules.COVERAGE_MIN_REAL]
    if not shown:
        return 1.0
    return float(np.mean([rates.get(k, 0.0) >= rules.COLLAPSE_FRACTION * real_rates[k] for k in shown]))


def dgz_tail(run: str | Path, until_step: int | None = None) -> float:
    """Median D(G(z)) over the last quarter of a run's logged steps, up to `until_step` when given (1 when nothing
    was logged)."""
    path = Path(run) / "metrics.jsonl"
    rows = [json.loads(line) for line in path.read_text().splitlines()] if path.is_file() else []
    values = [r["D(G(z))"] for r in rows
              if r.get("D(G(z))") is not None and (until_step is None or r["step"] <= until_step)]
    return float(np.median(values[-max(1, len(values) // 4):])) if values else 1.0


def run_readout(run: str | Path, ref: Reference, real: dict, n: int, seed: int, device: str,
                at: Sequence[str] | None = None) -> dict:
    """One run at each snapshot: images seen, FD, diversity and coverage against real images (`real`: their
    diversity and content rates), and the failure `rules.run_failure` reads; a run that stopped before any
    checkpoint has no snapshot and reads diverged, one that stopped later keeps the snapshots it saved. `at`: read
    only these snapshots (names, in order), and the run as if it had ended at the last of them (the budget pilot: a
    prefix of a longer run is the shorter run, since the recipe has no schedule; only D(G(z))'s logged windows,
    every log_every steps, may end a partial window apart)."""
    names = [name for name in snapshot_names(run) if (Path(run) / "checkpoints" / name).is_file()]
    snapshots, last = [], None
    for name in names:
        G, _, state = load_run(run, device, name)
        seen = images_seen(state)
        if (snapshots and seen == snapshots[-1]["images_seen"]) or (at is not None and name not in at):
            continue  # last.pt saved with the final epoch's snapshot: the same weights, not a frozen G
        samples = generate_uint8(G, n, stream_seed("samples", seed))
        q = ref.quality(samples)
        snapshots.append({
            "name": name, "images_seen": seen, "step": state["step"], "fd": q["fd"],
            "diversity_ratio": diversity(ref.judge.embed(samples)) / real["diversity"],
            "coverage": coverage(ref.judge.content_rates(samples), real["content_rates"]),
            "change": None if last is None else float(np.abs(samples.astype(float) - last).mean() / 255)})
        last = samples.astype(float)
    if at is not None and not (snapshots and snapshots[-1]["name"] == at[-1]) and not diverged(run):
        raise ValueError(f"{run} has no snapshot {at[-1]!r} to end the reading at; it saved {names}")
    out = {"snapshots": snapshots, "samples": last.astype(np.uint8) if last is not None else None,
           **ended_at(run, snapshots, at[-1] if at is not None else None)}
    if at is None:  # issue 27: the run as if it had ended at each scheduled snapshot before its end
        order = scheduled(run)
        out["earlier"] = {name: ended_at(run, [x for x in snapshots if x["name"] in order[:k + 1]], name)
                          for k, name in enumerate(order[:-1])}
    return out


def scheduled(run: str | Path) -> list[str]:
    """The snapshot names a run's config schedules (by epoch), in order; those it saved if it stopped early."""
    epochs = json.loads((Path(run) / "config.json").read_text())["train"].get("snapshot_epochs") or []
    return [snapshot_name(e) for e in sorted(epochs)]


def ended_at(run: str | Path, snapshots: list[dict], end: str | None) -> dict:
    """The failure reading of a run's `snapshots` (`run_readout`) as if the run had ended at snapshot `end` (None:
    where it ended): diverged if it stopped on a non-finite loss before reaching `end`, or saved nothing."""
    ended = end is None or (bool(snapshots) and snapshots[-1]["name"] == end)
    stopped = diverged(run) and (end is None or not ended)  # a prefix ending before the loss went non-finite
    final = snapshots[-1] if snapshots and ended else None
    out = {"diverged": stopped or final is None,
           "dgz_tail": dgz_tail(run, final["step"] if final and end is not None else None)}
    frozen = final["change"] if final and final["change"] is not None else 1.0
    out["failure"] = rules.run_failure(out["diverged"], out["dgz_tail"], frozen,
                                       final["diversity_ratio"] if final else 0.0, final["coverage"] if final else 0.0,
                                       [s["fd"] for s in snapshots])
    out["fd_final"] = final["fd"] if final and not stopped else float("nan")
    out["images_seen"] = final["images_seen"] if final else None
    return out


def real_reference(ref: Reference) -> dict:
    """What real held-out images (half A) show: their diversity and content rates in the judge's space."""
    return {"diversity": diversity(ref.feats), "content_rates": ref.judge.content_rates(ref.a)}


def pilot(P, model: str, candidates: Sequence[int], workers: int = 1) -> dict:
    """Issue 26's budget pilot on one of the chapter's models (`P`: the chapter's parameters): its DCGAN on
    PILOT_SEEDS, trained once to the longest candidate (`pilot_entry`), read at each candidate as the run it is a
    prefix of, and the length `pilot_length` picks. Nothing but the DCGAN on seeds no claim reads is trained."""
    for epochs in candidates:
        schedule(epochs)  # a bad candidate is refused before anything trains
    entry = pilot_entry(P.models[model], candidates)
    calls = [(runs.ensure_outcome, (runs.entry_config(entry, P.packs[entry["data"]], P.device, seed, False),
                                    f"{model}-pilot", P.runs_root)) for seed in PILOT_SEEDS]
    done = run_jobs(calls, workers, desc=f"{model}: pilot runs")
    ref = Reference(P.judge(model), P.pack(entry["heldout"]), P.n_samples)
    real = real_reference(ref)
    out: dict = {"model": model, "seeds": list(PILOT_SEEDS), "runs": [str(r) for r in done], "candidates": {}}
    for epochs in sorted(candidates):
        at = [snapshot_name(e) for e in schedule(epochs)]
        reads = [run_readout(run, ref, real, ref.n, seed, P.device, at) for run, seed in zip(done, PILOT_SEEDS)]
        last = [r["snapshots"][-1] if r["snapshots"] and not r["diverged"] else {} for r in reads]
        out["candidates"][epochs] = {
            "images_seen": max((s.get("images_seen", 0) for s in last), default=0),
            "failures": [r["failure"] for r in reads], "fd": [r["fd_final"] for r in reads],
            "diversity_ratio": [s.get("diversity_ratio", float("nan")) for s in last],
            "coverage": [s.get("coverage", float("nan")) for s in last], "dgz_tail": [r["dgz_tail"] for r in reads]}
    out["chosen"] = pilot_length({e: c["failures"] for e, c in out["candidates"].items()})
    return out


def pilot_table(out: dict) -> str:
    """Markdown: the pilot's reading at each candidate length, and the length the rule picks."""
    rows = [f"{out['model']}, DCGAN on seeds {out['seeds']}:", "",
            "| epochs | images seen | failed | failures | FD (median) | diversity / real (min) | coverage (min) |",
            "|---|---|---|---|---|---|---|"]
    for epochs, c in out["candidates"].items():
        kinds = ", ".join(f or "ok" for f in c["failures"])
        rows.append(f"| {epochs} | {c['images_seen']:,} | {sum(map(bool, c['failures']))} of {len(c['failures'])} "
                    f"| {kinds} | {np.nanmedian(c['fd']):.4g} | {np.nanmin(c['diversity_ratio']):.2f} "
                    f"| {np.nanmin(c['coverage']):.2f} |")
    return "\n".join(rows + ["", f"chosen (guidelines.pilot_length): {out['chosen']} epochs"])


# --- Sec. 7: late filter collapse -------------------------------------------------------------------------------
LATE_LAYER = -1  # G's highest hidden layer: its filters draw the image
LATE_SAMPLES = 500  # z per snapshot the filters' spread is measured on
PLANTED_SHARE = 0.25  # the positive control: this share of the layer's filters dropped (spread 0 by construction)


def collapsed_share(G, seed: int, device: str, dropped=(), stream: str = "samples") -> float:
    """The share of G's highest-layer filters whose spatially averaged activation barely varies over z (spread
    below FILTER_SPREAD_MIN x the layer's FILTER_SPREAD_QUANTILE filter's); `dropped`: filters zeroed while
    generating; `stream`: where the z come from."""
    z = G.sample_z(LATE_SAMPLES, generator=torch_generator(stream, seed, device=device))
    with dropped_maps(G, LATE_LAYER, list(dropped)):
        spread = capture(G, z, LATE_LAYER).mean((2, 3)).std(0)
    return collapsed_fraction(spread)


def collapsed_fraction(spread: np.ndarray) -> float:
    """Sec. 7: the share of filters whose spread over z is below FILTER_SPREAD_MIN x the FILTER_SPREAD_QUANTILE
    filter's (a filter at exactly that level has not collapsed)."""
    spread = np.asarray(spread)
    return float((spread < rules.FILTER_SPREAD_MIN * np.quantile(spread, rules.FILTER_SPREAD_QUANTILE)).mean())


def late_collapse(run: str | Path, seed: int, device: str) -> dict:
    """The collapsed share at every snapshot of a run, with its controls: the last G with PLANTED_SHARE of the
    filters dropped (collapsed by construction), and the first snapshot measured again on other z in the last's
    place (the same G: no change by construction, so any rise is the measurement's noise)."""
    shares, seen = {}, {}
    for name in snapshot_names(run):
        G, _, state = load_run(run, device, name)
        shares[name], seen[name] = collapsed_share(G, seed, device), images_seen(state)
    width = G.config.g_widths()[LATE_LAYER]
    planted = collapsed_share(G, seed, device, range(int(width * PLANTED_SHARE)))
    first = snapshot_names(run)[0]
    remeasured = collapsed_share(load_run(run, device, first)[0], seed, device, stream="remeasure")
    return {"shares": shares, "first": shares[first], "last": shares["last.pt"], "planted": planted,
            "remeasured": remeasured, "seen": seen}


def late_trend(reads: dict[int, dict]) -> dict | None:
    """Issue 27: the rule with each snapshot between the first and the last in the last's place (images seen ->
    per-seed shares), at the snapshots every seed saved."""
    runs_read = list(reads.values())
    final_seen = runs_read[0].get("seen", {}).get("last.pt")
    firsts = [r["first"] for r in runs_read]
    between = {}
    for name in list(runs_read[0]["shares"])[1:-1]:
        if all(name in r["shares"] for r in runs_read) and runs_read[0]["seen"][name] != final_seen:
            between[runs_read[0]["seen"][name]] = [r["shares"][name] for r in runs_read]
    return claim_trend(final_seen, rules.filters_collapse(firsts, [r["last"] for r in runs_read]), between,
                       lambda shares: rules.filters_collapse(firsts, shares))


def late_collapse_claim(model: str, reads: dict[int, dict], data: str) -> Claim:
    """Sec. 7 on one model's runs (rule: rules.filters_collapse), with the planted and remeasured controls; not
    testable on runs without an epoch snapshot (the first is then the last)."""
    first, last = [r["first"] for r in reads.values()], [r["last"] for r in reads.values()]
    if all(len(r["shares"]) < 2 for r in reads.values()):
        return Claim.decided(rules.not_testable("the runs saved no epoch snapshot before the last"), section="7",
                             claim=f"{model}: trained longer, a subset of G's filters collapses", paper="-",
                             ours="-", baseline="-", data=data, seeds=list(reads))
    planted, remeasured = [r["planted"] for r in reads.values()], [r["remeasured"] for r in reads.values()]
    return Claim.decided(
        rules.filters_collapse(first, last),
        {"the first snapshot on other z in the last's place": (rules.filters_collapse(first, remeasured),
                                                               f"collapsed {np.mean(remeasured):.1%}")},
        {f"last snapshot with {PLANTED_SHARE:.0%} of its filters dropped": (
            rules.filters_collapse(first, planted), f"collapsed {np.mean(planted):.1%}")},
        section="7", claim=f"{model}: trained longer, a subset of G's filters collapses",
        paper="'as models are trained longer they sometimes collapse a subset of filters to a single oscillating "
              "mode' (Sec. 7; not measured there)", data=data, seeds=list(reads),
        ours=f"collapsed filters at the first snapshot {np.mean(first):.1%}, at the last {np.mean(last):.1%}",
        baseline="the same G at its first snapshot", values={"first": first, "last": last}, trend=late_trend(reads))


# --- the claims -----------------------------------------------------------------------------------------------
def _arm(readouts: list[dict]) -> tuple[list[bool], list[float]]:
    return [bool(r["failure"]) for r in readouts], [r["fd_final"] for r in readouts]


def _counts(readouts: list[dict]) -> str:
    fails = [r["failure"] for r in readouts if r["failure"]]
    kinds = ", ".join(f"{k} {fails.count(k)}" for k in rules.RUN_FAILURES if k in fails)
    return f"{len(fails)} of {len(readouts)} runs failed" + (f" ({kinds})" if kinds else "")


def hurts(arms: dict[str, list[dict]], variant: str, against: str = DCGAN):
    """rules.undoing_hurts of one arm's readings against another's (each a failure and a final FD per seed)."""
    (fail_v, fd_v), (fail_d, fd_d) = _arm(arms[variant]), _arm(arms[against])
    return rules.undoing_hurts(fail_v, fail_d, fd_v, fd_d)


def guideline_trend(variant: str, arms: dict[str, list[dict]]) -> dict | None:
    """Issue 27: the rule with every run of the variant and the DCGAN read as if it had ended at each earlier
    scheduled snapshot (`run_readout`'s "earlier"), at the images seen there."""
    runs_read = [*arms[variant], *arms[DCGAN]]
    names = set.intersection(*(set(r.get("earlier", {})) for r in runs_read))
    earlier = {}
    for name in names:
        at = {arm: [r["earlier"][name] for r in arms[arm]] for arm in (variant, DCGAN)}
        seen = max((x["images_seen"] or 0 for x in at[variant] + at[DCGAN]), default=0)
        if seen:
            earlier[seen] = at
    final_seen = max((r["snapshots"][-1]["images_seen"] for r in runs_read if r.get("snapshots")), default=None)
    return claim_trend(final_seen, hurts(arms, variant), earlier, lambda at: hurts(at, variant))


def guideline_claim(variant: str, data: str, model: str, arms: dict[str, list[dict]], seeds: list[int]) -> Claim:
    """Sec. 3-4 for one variant on one data set (rule: rules.undoing_hurts against the DCGAN on the same seeds),
    with the positive control (POSITIVE against the DCGAN) and the negative one (the DCGAN on other seeds), and
    its trend over the runs' earlier snapshots (`guideline_trend`)."""
    dcgan, mine = _arm(arms[DCGAN]), _arm(arms[variant])
    positive = {POSITIVE[0]: (hurts(arms, POSITIVE[0]), _counts(arms[POSITIVE[0]]))}
    negative = {"the DCGAN on other seeds": (hurts(arms, CONTROL), _counts(arms[CONTROL]))}
    return Claim.decided(
        hurts(arms, variant), negative, positive, trend=guideline_trend(variant, arms),
        section="3" if variant not in ("lr 1e-3", "beta1 0.9") else "4",
        claim=f"{model}: undoing '{variant}' hurts training", paper=VARIANTS[variant][1], data=data, seeds=seeds,
        ours=f"{variant}: {_counts(arms[variant])}, final FD {_median(mine[1])}; DCGAN: {_counts(arms[DCGAN])}, "
             f"final FD {_median(dcgan[1])}",
        baseline="the DCGAN on the same seeds and images seen",
        values={"failed": mine[0], "fd_final": mine[1], "dcgan_failed": dcgan[0], "dcgan_fd_final": dcgan[1]})


def _median(values: list[float]) -> str:
    v = np.asarray(values, float)
    return f"median {np.median(v[np.isfinite(v)]):.3g}" if np.isfinite(v).any() else "none finite"


# --- the chapter ----------------------------------------------------------------------------------------------
def arms_of(P, model: str) -> dict[str, tuple[str, list[int]]]:
    """Each arm a model's claims read: name -> (variant trained, its seeds). The second-resolution models train
    the DCGAN and HIGH_RES_VARIANTS only."""
    variants = HIGH_RES_VARIANTS if model in P.high_res else P.variants
    return {DCGAN: (DCGAN, P.seeds), POSITIVE[0]: (POSITIVE[0], P.seeds), CONTROL: (DCGAN, P.control_seeds),
            **{v: (v, P.seeds) for v in variants}}


def run(P) -> dict:
    """Every arm of every model (`arms_of`), each run read at its snapshots against the model's judge (the runs
    are trained, or reused, by the training step: `P.variant_run`)."""
    readouts, data, checks = {}, {}, {}
    for model in [*P.datasets, *P.high_res]:
        checks[model] = P.instrument_checks(model, ("judge a",))  # issue 25: the judge passes its suite first
        ref = Reference(P.judge(model), P.pack(P.models[model]["heldout"]), P.n_samples)
        real = real_reference(ref)
        for arm, (variant, seeds) in arms_of(P, model).items():
            readouts[(model, arm)] = [run_readout(P.variant_run(model, variant, seed), ref, real, ref.n, seed,
                                                  P.device) for seed in seeds]
        data[model] = P.data(model)
    late = {model: {seed: late_collapse(P.run(model, seed), seed, P.device) for seed in P.long_seeds}
            for model in P.long_runs}  # Sec. 7 on the training chapter's runs
    data |= {model: P.data(model) for model in P.long_runs}
    return {"readouts": readouts, "late": late, "data": data, "checks": checks, "record": {}}


def claims(study: dict, P) -> list[Claim]:
    """Per model and variant, `guideline_claim` (gated on the model's judge's self-check); per long run,
    `late_collapse_claim`."""
    out = []
    for model in [*P.datasets, *P.high_res]:
        arms = {arm: study["readouts"][(model, arm)] for arm in arms_of(P, model)}
        out += [gated(guideline_claim(v, study["data"][model], model, arms, P.seeds), study["checks"][model])
                for v in arms if v not in (DCGAN, POSITIVE[0], CONTROL)]
    return out + [late_collapse_claim(m, reads, study["data"][m]) for m, reads in study["late"].items()]


def outcome_table(study: dict) -> str:
    """Markdown: per model and arm, how many runs failed and how, and the final FD over seeds."""
    rows = ["| model | arm | seeds | failed | diverged | collapsed | oscillating | final FD (median, range) |",
            "|---|---|---|---|---|---|---|---|"]
    for (model, arm), reads in study["readouts"].items():
        fails = [r["failure"] for r in reads]
        fd = np.asarray([r["fd_final"] for r in reads], float)
        ok = fd[np.isfinite(fd)]
        fd_text = f"{np.median(ok):.3g} ({ok.min():.3g}-{ok.max():.3g})" if len(ok) else "-"
        rows.append(f"| {model} | {arm} | {len(reads)} | {sum(map(bool, fails))} | "
                    + " | ".join(str(fails.count(k)) for k in rules.RUN_FAILURES) + f" | {fd_text} |")
    return "\n".join(rows)


def late_table(study: dict) -> str:
    """Markdown: per long run and seed, the collapsed share of G's highest-layer filters at every snapshot."""
    rows = []
    for model, reads in study["late"].items():
        names = list(next(iter(reads.values()))["shares"])
        rows += [f"| {model}, seed | " + " | ".join(n.removesuffix(".pt") for n in names)
                 + " | planted | first, other z |",
                 "|---|" + "---|" * (len(names) + 2)]
        rows += [f"| {seed} | " + " | ".join(f"{r['shares'][n]:.1%}" for n in names)
                 + f" | {r['planted']:.1%} | {r['remeasured']:.1%} |" for seed, r in reads.items()]
        rows.append("")
    return "\n".join(rows) or "no long run read on this profile"


def tables(study: dict, P) -> dict:
    return {"outcomes": outcome_table(study), "late": late_table(study)}


def figures(study: dict, P) -> dict:
    """The failure rate per arm and model (with its exact interval), FD against images seen per arm (median over
    seeds), the samples of a failed run beside a stable one, and each claim's rule against images seen."""
    rates = {key: [bool(r["failure"]) for r in reads] for key, reads in study["readouts"].items()}
    curves = {key: [[(s["images_seen"], s["fd"]) for s in r["snapshots"]] for r in reads]
              for key, reads in study["readouts"].items()}
    return {"fig-failure-rates": plots.failure_rates(rates),
            "fig-guideline-quality": plots.quality_over_images(curves),
            "fig-failed-vs-stable": plots.failed_beside_stable(_failed_and_stable(study)),
            "fig-guideline-trends": plots.trends([asdict(c) for c in claims(study, P)])}  # issue 27


def _failed_and_stable(study: dict) -> dict:
    """Per model: the samples of the first stable DCGAN run and of the first failed run, a variant's before the
    DCGAN's own."""
    out: dict = {}
    order = sorted(study["readouts"].items(), key=lambda kv: (kv[0][1] in (DCGAN, CONTROL), kv[0][1] == POSITIVE[0]))
    # variants first, then the positive control (made to fail), then the DCGAN
    for (model, arm), reads in order:
        entry = out.setdefault(model, {})
        stable = [r for r in reads if not r["failure"] and r["samples"] is not None]
        if arm == DCGAN and stable:
            entry["stable"] = (arm, stable[0]["samples"])
        failed = [r for r in reads if r["failure"] and r["samples"] is not None]
        if failed and "failed" not in entry and arm != CONTROL:
            entry["failed"] = (f"{arm} ({failed[0]['failure']})", failed[0]["samples"])
    return out
